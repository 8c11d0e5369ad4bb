"""The httpx clients `Client` and `AsyncClient` make for themselves when given none:
httpx's, with lighter bookkeeping per request.

httpcore 1.0's connection pool re-examines every connection each time a request starts
or a response ends (`_assign_requests_to_connections`). For each idle connection it
counts all the connections again (quadratic, and a count of all where it means idle
ones: encode/httpcore#1035), and asks whether the server closed the socket, which on
asyncio goes through anyio's `extra` attributes: a dict built and a `getpeername` call
each time. At 16 photos in flight that bookkeeping was the largest part of the
`AsyncClient`'s CPU per photo. Here:

- `_pool.assign` makes the pool's decisions in one pass: closed connections dropped, idle
  ones beyond `max_keepalive_connections` closed (oldest first), queued requests given
  an idle connection to their origin (checked for expiry then, and closed if it has
  expired, rather than every idle connection on every pass), a new one, or an idle
  one's place. Unlike httpcore 1.0.9 it counts idle connections, not all of them, and
  never closes a connection already given to a queued request (encode/httpcore#1110);
- a response is handed to the cookie jar only when it sets a cookie (`_cookies`): the
  standard library's jar copies every header of every response to find none;
- each connection's socket is looked up once, not on every check of whether the server
  closed it;
- on asyncio, connections are asyncio's own streams (`_asyncio.Backend`: a read or a write
  is one call under `asyncio.timeout`) rather than anyio's, whose cancel scopes and
  checkpoints around each cost a fifth of the CPU of a request. Under trio (through
  anyio), httpcore's own backend is used.

The pool and the streams apply to HTTP/1.1 pools (httpx's default) of the httpcore
versions they were written against (1.0.x); otherwise the pools are httpx's own. A
client passed as `httpx_client=` is used as given.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import TypeVar

import httpcore
import httpx

from ._asyncio import Backend
from ._cookies import Cookies
from ._pool import AsyncPool, SyncPool

__all__ = ["lighten", "new_async_http", "new_sync_http"]


def _remember_that_sniffio_is_missing() -> None:
    """httpcore runs `import sniffio` each time it sets up an async lock. Without sniffio
    (anyio 4.11 and later no longer bring it) every such import searches sys.path again
    and fails: a fifth of the CPU of a busy async client. Record the absence once, as the
    import system records a module it found."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_remember_that_sniffio_is_missing()


_KNOWN_HTTPCORE = httpcore.__version__.startswith("1.0.")


def new_sync_http() -> httpx.Client:
    """The `httpx.Client` a `Client` makes when it is given none."""
    return lighten(httpx.Client())


def new_async_http() -> httpx.AsyncClient:
    """The `httpx.AsyncClient` an `AsyncClient` makes when it is given none."""
    return lighten(httpx.AsyncClient())


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


def lighten(http: HttpT) -> HttpT:
    """`http`, its cookie jar reading only the responses that set cookies (`Cookies`),
    and its pool doing its bookkeeping in one pass (async: on asyncio's streams) when it
    has httpx's own HTTP/1.1 transport over a known httpcore."""
    if type(http._cookies) is httpx.Cookies:
        http._cookies = Cookies(http._cookies)
    pool = getattr(http._transport, "_pool", None)
    if not _KNOWN_HTTPCORE or getattr(pool, "_http2", True):
        return http
    if type(pool) is httpcore.ConnectionPool:
        pool.__class__ = SyncPool
    elif type(pool) is httpcore.AsyncConnectionPool:
        pool.__class__ = AsyncPool
        pool._network_backend = Backend(pool._network_backend)
    return http
