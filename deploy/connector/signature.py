"""Meta's `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the app secret, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta sends for `body`."""
    return PREFIX + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def is_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """True only for a well-formed `sha256=<hex>` header that matches the body."""
    if not header or not app_secret or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(
        sign(body, app_secret).encode("ascii"), header.strip().lower().encode("ascii", "replace")
    )
