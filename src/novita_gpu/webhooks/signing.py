"""Webhook request headers: event identity and signatures.

With a secret, every request carries two signature schemes over the exact body bytes:

- legacy ``sha256=<hex HMAC-SHA256(secret, body)>`` in ``X-Signature-SHA256``, ``X-Signature``
  and ``X-Webhook-Signature`` (the secret's UTF-8 bytes are the key), with
  ``X-Webhook-Timestamp``;
- Standard Webhooks (https://www.standardwebhooks.com): ``webhook-signature: v1,<base64>`` over
  ``"{webhook-id}.{webhook-timestamp}.{body}"``. A secret starting ``whsec_`` is base64-decoded
  into the key, exactly as the ``standardwebhooks`` library reads it; any other secret is used
  as its UTF-8 bytes (receivers pass ``secret.encode()`` to the library).

``webhook-id`` is the delivery id: it stays the same on every retry of one delivery (receivers
deduplicate by it), and the same event sent to two receivers is two independently verifiable
messages. ``X-Event-Id`` carries the event id shared by both. The identity headers
(``webhook-id``, ``webhook-timestamp``, ``X-Webhook-Timestamp``) are sent with or without a
secret; the signature headers only with one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from standardwebhooks import Webhook

from novita_gpu import __version__
from novita_gpu.core.clock import to_unix

USER_AGENT = f"novita-gpu/{__version__}"
WHSEC_PREFIX = "whsec_"
LEGACY_SIGNATURE_HEADERS = ("X-Signature-SHA256", "X-Signature", "X-Webhook-Signature")


@dataclass(frozen=True)
class WebhookMessage:
    """One request to sign: ``message_id`` is the delivery id, ``body`` the exact bytes sent."""

    message_id: str
    event_id: str
    event_type: str
    body: bytes
    timestamp: datetime


class Signer:
    """Builds request headers for one secret (or none: then nothing is signed).

    Raises ``ValueError`` at construction for a ``whsec_`` secret with an empty key.
    """

    def __init__(self, secret: str | None) -> None:
        self._secret = secret.encode() if secret else None
        self._standard = _standard_webhook(secret) if secret else None

    def headers(self, message: WebhookMessage) -> dict[str, str]:
        """Every header of the request for ``message``."""
        timestamp = str(to_unix(message.timestamp))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Webhook-Event": message.event_type,
            "X-Event-Id": message.event_id,
            "X-Webhook-Timestamp": timestamp,
            "webhook-id": message.message_id,
            "webhook-timestamp": timestamp,
        }
        return headers | self._signatures(message)

    def _signatures(self, message: WebhookMessage) -> dict[str, str]:
        if self._secret is None or self._standard is None:
            return {}
        legacy = "sha256=" + legacy_signature(self._secret, message.body)
        standard = self._standard.sign(
            message.message_id, message.timestamp, message.body.decode("utf-8")
        )
        return dict.fromkeys(LEGACY_SIGNATURE_HEADERS, legacy) | {"webhook-signature": standard}


def legacy_signature(key: bytes, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``body`` (the part after ``sha256=``)."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _standard_webhook(secret: str) -> Webhook:
    try:
        # The library base64-decodes str secrets (after dropping ``whsec_``) and takes bytes as is.
        return Webhook(secret if secret.startswith(WHSEC_PREFIX) else secret.encode())
    except Exception as exc:  # the library raises its own EmptyWebhookSecretError
        raise ValueError(f"WEBHOOK_SECRET is not a usable signing key: {exc}") from None
