"""The HTTP side of scripted outcomes: 429s for the next API requests, as a test asked
(`LocalServer.outcomes.throttle_next_requests`; the outcomes live in `tasks/_outcomes`)."""

from __future__ import annotations

import json
from typing import Any

from magic_hour_server.tasks._outcomes import ScriptedOutcomes

__all__ = ["ScriptedResponses"]


class ScriptedResponses:
    """ASGI: answers API requests with 429 while `outcomes` says to."""

    def __init__(self, app: Any, outcomes: ScriptedOutcomes) -> None:
        self._app, self._outcomes = app, outcomes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            retry_after = self._outcomes.take_throttle()
            if retry_after is not None:
                body = json.dumps({"message": "Too Many Requests"}).encode()
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", f"{retry_after:g}".encode()),
                ]
                await send({"type": "http.response.start", "status": 429, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self._app(scope, receive, send)
