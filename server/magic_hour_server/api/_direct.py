"""The API operations' ordinary requests, answered without connexion's middleware stack.

connexion routes, authenticates and validates each request against openapi.yaml through
about ten ASGI layers, and builds its handler's decorators again for every request: on
these cores that is most of what an operation costs the server (a task read answered in
0.7 ms of CPU, of which the database read is 0.13). `DirectOperations` answers a request it
can vouch for exactly as connexion would: the same operation code (`Api.operation`), the
same token check, the same schema validator for the body and the parameters, the same JSON.

Everything else goes on to connexion untouched (the body replayed as it came): no token or
a wrong one, a body that is not JSON or does not validate, a header outside its schema, a
method or path the document does not have. So every refusal keeps connexion's wording,
and the document stays the one contract. An operation whose parameters this path does not
know how to read (query, cookie or non-string parameters, security other than a bearer
token) is left to connexion whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers

from magic_hour_server.api._api import Call, Operation, Reply
from magic_hour_server.api._logging import BodyTimeout, BodyTooLarge, read_body, replay
from magic_hour_server.api._problems import json_response, problem_response
from magic_hour_server.api._schema import request_validator, resolve

__all__ = ["DirectOperations", "routes_from"]

TokenCheck = Callable[[str], dict[str, Any] | None]
_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class _Parameter:
    name: str
    location: str  # "path" or "header"
    required: bool
    validator: Any


@dataclass(frozen=True)
class Route:
    """One operation of the document, as the direct path reads it."""

    method: str
    path: re.Pattern[str]
    operation: Operation
    parameters: tuple[_Parameter, ...]
    body: Any  # the body's validator; None for an operation without a body


def routes_from(document: dict[str, Any], operations: Callable[[str], Operation]) -> list[Route]:
    """The operations of `document` the direct path can take, each with its validators."""
    routes = []
    for template, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            spec = item.get(method)
            if spec is None:
                continue
            route = _route(document, template, method, spec, shared, operations)
            if route is not None:
                routes.append(route)
    return routes


def _route(
    document: dict[str, Any],
    template: str,
    method: str,
    spec: dict[str, Any],
    shared: list[Any],
    operations: Callable[[str], Operation],
) -> Route | None:
    security = spec.get("security", document.get("security"))
    schemes = document.get("components", {}).get("securitySchemes", {})
    if not security or len(security) != 1 or len(security[0]) != 1:
        return None
    scheme = schemes.get(next(iter(security[0])), {})
    if scheme.get("type") != "http" or str(scheme.get("scheme", "")).lower() != "bearer":
        return None
    parameters = []
    for raw in [*shared, *spec.get("parameters", [])]:
        parameter = resolve(raw, document)
        schema = parameter.get("schema", {})
        if parameter.get("in") not in ("path", "header") or schema.get("type") != "string":
            return None
        parameters.append(
            _Parameter(
                parameter["name"] if parameter["in"] == "path" else parameter["name"].lower(),
                parameter["in"],
                bool(parameter.get("required")),
                request_validator(schema),
            )
        )
    body = None
    if "requestBody" in spec:
        content = resolve(spec["requestBody"], document).get("content", {})
        if set(content) != {"application/json"}:
            return None
        body = request_validator(content["application/json"].get("schema", {}))
    path = re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
    path = re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", r"(?P<\1>[^/]+)", path)
    return Route(
        method.upper(), re.compile(f"^{path}$"), operations(spec["operationId"]),
        tuple(parameters), body,
    )  # fmt: skip


class DirectOperations:
    """ASGI: requests to `routes` that pass their checks are answered here; every other
    request goes on to `app` (connexion), which answers it or refuses it."""

    def __init__(self, app: Any, routes: list[Route], check_token: TokenCheck) -> None:
        self._app = app
        self._routes = routes
        self._check_token = check_token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        for route in self._routes:
            if route.method != scope["method"]:
                continue
            match = route.path.match(scope["path"])
            if match is not None:
                await self._answer(route, match.groupdict(), scope, receive, send)
                return
        await self._app(scope, receive, send)

    async def _answer(
        self, route: Route, path: dict[str, str], scope: Any, receive: Any, send: Any
    ) -> None:
        headers = Headers(scope=scope)
        call = self._call(route, path, headers)
        if call is not None and route.body is not None:
            try:
                raw = await read_body(receive)
            except (BodyTooLarge, BodyTimeout) as exc:  # the client's doing: a 400 that says so
                await problem_response(exc)(scope, receive, send)
                return
            receive = replay(raw, receive)
            body = _json_body(raw, headers, route.body)
            call = None if body is None else Call(call.owner, body, call.path, call.headers)
        if call is None:
            await self._app(scope, receive, send)
            return
        try:
            response = _reply(await route.operation(call))
        except Exception as exc:
            response = problem_response(exc)
        await response(scope, receive, send)

    def _call(self, route: Route, path: dict[str, str], headers: Headers) -> Call | None:
        """The call, when the token is valid and the parameters fit their schemas."""
        # Read as connexion reads it: "<scheme> <token>", split once on whitespace.
        parts = headers.get("authorization", "").split(maxsplit=1)
        if len(parts) != 2 or parts[0].lower() != "bearer":
            return None
        info = self._check_token(parts[1])
        if info is None:
            return None
        for parameter in route.parameters:
            value = path.get(parameter.name) if parameter.location == "path" else None
            if parameter.location == "header":
                value = headers.get(parameter.name)
            if value is None:
                if parameter.required:
                    return None
            elif not parameter.validator.is_valid(value):
                return None
        return Call(owner=info["sub"], body=None, path=path, headers=headers)


def _json_body(raw: bytes, headers: Headers, validator: Any) -> Any:
    """The body parsed, when it is JSON (said and sent as UTF-8) that `validator` accepts."""
    media, _, options = headers.get("content-type", "").partition(";")
    if media.strip().lower() != "application/json" or not raw:
        return None
    charset = re.search(r"charset\s*=\s*\"?([^\";\s]+)", options, re.IGNORECASE)
    if charset is not None and charset.group(1).lower() not in ("utf-8", "utf8"):
        return None
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return body if validator.is_valid(body) else None


def _reply(reply: Reply) -> Any:
    if isinstance(reply, dict):
        return json_response(reply)
    if len(reply) == 2:
        return json_response(reply[0], reply[1])
    return json_response(reply[0], reply[1], reply[2])
