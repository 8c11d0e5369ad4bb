"""The transports the SDK builds itself, through httpx's and httpcore's public interfaces:
`AsyncioTransport` (what `AsyncClient` uses unless told otherwise) and the opt-in
`AiohttpTransport` (the `aiohttp` extra). Whether a connect error means "not sent" is
known for both (`_retry.reports_unsent`)."""

from ._aiohttp import AiohttpTransport
from ._asyncio import AsyncioTransport

__all__ = ["AiohttpTransport", "AsyncioTransport"]
