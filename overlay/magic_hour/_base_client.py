"""What `Client` and `AsyncClient` share: settings, environment variables, the token."""

from __future__ import annotations

import enum
import os
from typing import Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from magic_hour_client import AuthenticatedClient

from ._errors import MagicHourError
from ._operations import (
    DEFAULT_MAX_FACE_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_PATIENCE,
    Context,
    setup_logging,
)
from ._polling import POLL_INTERVAL_ENV, parse_poll_interval
from ._retry import reports_unsent

__all__ = ["BASE_URL_ENV", "TOKEN_ENV", "AnyTransport", "BaseClient", "Environment"]

TOKEN_ENV = "MAGIC_HOUR_API_TOKEN"  # noqa: S105 -- a variable name, not a secret
BASE_URL_ENV = "MAGIC_HOUR_BASE_URL"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2

HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
AnyTransport = httpx.BaseTransport | httpx.AsyncBaseTransport


class Environment(enum.Enum):
    """Where the API is."""

    PRODUCTION = "https://api.magichour.ai"


def check_base_url(url: str) -> str:
    """The API's root URL without a trailing slash; ValueError, at once, for one that
    cannot be it (no http(s) scheme or host, or a path ending in the version)."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"base_url {url!r} is not an http(s) URL with a host, e.g. https://api.magichour.ai "
            "or http://127.0.0.1:8000"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"base_url {url!r} must not have a query or a fragment")
    path = parts.path.rstrip("/")
    if path.rsplit("/", 1)[-1].lower() == "v1":
        root = urlunsplit((parts.scheme, parts.netloc, path[: -len("/v1")], "", ""))
        raise ValueError(
            f"base_url {url!r} ends in /v1: give the API's root ({root}); the SDK adds /v1/..."
        )
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class BaseClient(Generic[HttpT]):
    """Settings and set-up common to both clients."""

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        environment: Environment = Environment.PRODUCTION,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        httpx_client: HttpT | None = None,
        transport: AnyTransport | None = None,
        long_poll: bool = True,
        patience: float = DEFAULT_PATIENCE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_face_bytes: int = DEFAULT_MAX_FACE_BYTES,
    ) -> None:
        """Connect to the Magic Hour API.

        Args:
            token: the API key; default: the `MAGIC_HOUR_API_TOKEN` environment variable.
            base_url: default: `MAGIC_HOUR_BASE_URL`, else the environment's URL.
            environment: which API, when no base URL is given.
            timeout: seconds each HTTP request may take in all, however the server
                trickles its answer (None: no limit); an `httpx.Timeout` sets httpx's
                per-phase limits, its read limit bounding the whole request. An upload
                is bounded per phase only: it takes as long as its size needs.
            max_retries: retries of a failed request (429, 5xx, a connection error or a
                timeout; a create only when it surely was not processed), backing off
                and honouring Retry-After (docs/sdk.md says how).
            httpx_client: an httpx client to send requests with (proxies, HTTP/2, your
                own transports), used exactly as given; the SDK does not close it. Not
                knowing how its transports report failures, the SDK retries a create
                through it only when the server refused it (429, 503) or honours
                `Idempotency-Key`.
            transport: an httpx transport for the client the SDK makes (a
                `MockTransport` in tests); httpx's own transports are trusted to raise
                connect errors only for requests never sent.
            long_poll: ask the server to hold polls until a task changes (`Prefer: wait`);
                a server that ignores it is polled on the usual schedule. Per call:
                `generate(..., long_poll=False)`.
            patience: seconds each step of `generate()` (upload, create, each download)
                goes on retrying a transient failure (connection error, timeout, 429,
                5xx; for create only those that show it was not processed) after
                `max_retries`, backing off and honouring Retry-After; polls go on until
                `poll_timeout`. Single calls (`create`, `get`) keep `max_retries` alone.
            max_response_bytes: the most an API answer may hold, decoded (16 MiB); past
                it the SDK stops reading and raises `ResponseTooLargeError`.
            max_face_bytes: the same for each face image downloaded (64 MiB); nothing of
                a face past it is kept on disk.
        """
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        if not token or not token.strip():
            raise MagicHourError(
                f"no API token: pass Client(token=...) or set the {TOKEN_ENV} environment variable"
            )
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if max_response_bytes < 1 or max_face_bytes < 1:
            raise ValueError("max_response_bytes and max_face_bytes must be at least 1")
        if not patience >= 0:
            raise ValueError(f"patience must be a number of seconds >= 0, got {patience}")
        setup_logging()
        self.base_url = check_base_url(
            base_url or os.environ.get(BASE_URL_ENV) or environment.value
        )
        self.timeout = timeout
        self.max_retries = max_retries
        if httpx_client is not None and transport is not None:
            raise ValueError("pass httpx_client or transport, not both")
        self._owns_http = httpx_client is None
        self._http: HttpT = httpx_client if httpx_client is not None else self._new_http(transport)
        api = AuthenticatedClient(base_url=self.base_url, token=token)
        self._context = Context(
            api=api,
            http=self._http,
            base_url=self.base_url,
            timeout=timeout,
            max_retries=max_retries,
            poll_interval=parse_poll_interval(os.environ.get(POLL_INTERVAL_ENV)),
            long_poll=long_poll,
            patience=patience,
            # Known only for a client the SDK made, over a transport whose type it knows.
            connect_errors_mean_unsent=self._owns_http and reports_unsent(transport),
            max_response_bytes=max_response_bytes,
            max_face_bytes=max_face_bytes,
        )
        self._attach()

    def _new_http(self, transport: AnyTransport | None) -> HttpT:
        """The httpx client to use when none is given (see `_client`)."""
        raise NotImplementedError

    def _attach(self) -> None:
        """Create the driver and the `v1` resources."""
        raise NotImplementedError

    def __repr__(self) -> str:  # never shows the token
        return f"{type(self).__name__}(base_url={self.base_url!r})"
