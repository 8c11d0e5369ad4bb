"""HMAC-SHA256 signed storage URLs: `?expires=<unix time>&signature=<hex>`."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode


def load_or_create_key(path: Path) -> bytes:
    """The signing key kept at `path` (made on first use), so URLs survive a restart."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(key)
    os.replace(tmp, path)
    return key


class Signer:
    """Signs a method, a path and an expiry time; checks them in constant time."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _digest(self, method: str, path: str, expires: int) -> str:
        message = f"{method.upper()}\n{path}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def sign(self, method: str, path: str, ttl: float, now: float | None = None) -> tuple[str, int]:
        """The query string that lets anyone `method` `path` for `ttl` seconds, and its expiry."""
        expires = int((time.time() if now is None else now) + ttl)
        query = urlencode({"expires": expires, "signature": self._digest(method, path, expires)})
        return query, expires

    def verify(
        self, method: str, path: str, expires: str | None, signature: str | None
    ) -> str | None:
        """None when the signature is good and not expired, else why it is refused."""
        if not expires or not signature:
            return "Missing signature"
        try:
            expires_at = int(expires)
        except ValueError:
            return "Invalid signature"
        expected = self._digest(method, path, expires_at)
        if not hmac.compare_digest(expected, signature):
            return "Invalid signature"
        if expires_at < time.time():
            return "Signature expired"
        return None
