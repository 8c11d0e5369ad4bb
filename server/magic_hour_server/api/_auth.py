"""Bearer-token authentication for the API operations, plugged into connexion's security."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from connexion.security import BearerSecurityHandler


def owner_of(token: str) -> str:
    """The owner id of a token's tasks and uploads: its SHA-256 (tokens are never stored)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_checker(tokens: list[str]) -> Callable[[str], dict[str, Any] | None]:
    """A check of a bearer token against exactly `tokens`, in constant time: connexion's
    token info (`{"sub": owner id}`) for a valid one, None for any other."""
    expected = [token.encode() for token in tokens]

    def check(token: str) -> dict[str, Any] | None:
        given = token.encode("utf-8", "surrogatepass")
        matched = False
        for candidate in expected:
            # No early exit: the time taken says nothing about which token nearly matched.
            matched |= hmac.compare_digest(candidate, given)
        return {"sub": owner_of(token)} if matched else None

    return check


def bearer_handler(check: Callable[[str], dict[str, Any] | None]) -> type[BearerSecurityHandler]:
    """A connexion security handler accepting the tokens `check` accepts."""

    class TokenBearerHandler(BearerSecurityHandler):  # type: ignore[misc]
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Any:
            return check

    return TokenBearerHandler
