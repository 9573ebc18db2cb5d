"""The browser face: the dashboard at ``/`` and the offline API docs at ``/docs`` and ``/redoc``.

Everything is plain files shipped in the package (``static/``): no build step, nothing loaded
from a CDN. The dashboard is a client of the public API like any other (same routes, same
auth, same event stream); this package only serves files, with strict security headers.
"""

from novita_gpu.web.routes import install_web

__all__ = ["install_web"]
