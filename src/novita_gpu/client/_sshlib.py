"""asyncssh, imported once without the noise it makes with recent ``cryptography`` releases.

Recent ``cryptography`` versions emit a ``CryptographyDeprecationWarning`` whenever DSA classes
are touched, and asyncssh touches them in module-level type aliases at import time. We never
use DSA keys, so those warnings would only alarm users of the CLI. Import asyncssh from here
(the emulator's SSH server does too) so the filter applies whoever imports it first.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    import asyncssh

__all__ = ["asyncssh"]
