"""One TLS client context for every outbound HTTP client of the server process.

Building a context loads the whole CA bundle, about 50 ms of CPU each time. The server has
three clients (Novita's API, webhook receivers, readiness probes); they share one context,
built once, with httpx's own defaults (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set, else
certifi's bundle). ``prepare_in_background`` starts building it on another thread; OpenSSL
reads the bundle without holding the GIL, so a server that calls it before importing its
modules pays nothing for it at start.
"""

from __future__ import annotations

import contextlib
import ssl
import threading

import httpx

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def client_ssl_context() -> ssl.SSLContext:
    """The shared context, built on first use; waits if another thread is building it."""
    global _context
    with _lock:
        if _context is None:
            _context = httpx.create_ssl_context()
        return _context


def prepare_in_background() -> None:
    """Start building the shared context on a daemon thread and return at once.

    A failure there (say, ``SSL_CERT_FILE`` names a missing file) is not printed from the
    thread: the first real use builds the context again and raises it where it is handled.
    """
    threading.Thread(target=_prepare, name="tls-context", daemon=True).start()


def _prepare() -> None:
    with contextlib.suppress(Exception):
        client_ssl_context()
