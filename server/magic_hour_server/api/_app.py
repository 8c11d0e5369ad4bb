"""The ASGI application. From the outside in: long-poll disconnects, scripted answers for
tests, the access log and body limits, the signed storage routes, the API operations'
direct path (`_direct`), and connexion, which routes and validates everything else from
openapi.yaml and answers every refusal."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import warnings
from collections.abc import AsyncIterator, Callable
from importlib import resources
from typing import Any

import anyio

with warnings.catch_warnings():
    # connexion imports starlette's test client and jsonschema's RefResolver, which warn.
    warnings.simplefilter("ignore")
    from connexion import AsyncApp
    from connexion.datastructures import MediaTypeDict
    from connexion.exceptions import BadRequestProblem, ProblemException
    from connexion.lifecycle import ConnexionRequest, ConnexionResponse
    from connexion.options import SwaggerUIOptions
    from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from magic_hour_server._config import Settings
from magic_hour_server._metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from magic_hour_server.api._api import Api
from magic_hour_server.api._auth import bearer_handler, token_checker
from magic_hour_server.api._direct import DirectOperations, routes_from
from magic_hour_server.api._logging import BodyTimeout, BodyTooLarge, RequestGuard
from magic_hour_server.api._outcomes import ScriptedResponses
from magic_hour_server.api._problems import problem, problem_response
from magic_hour_server.api._schema import load_document, request_validator
from magic_hour_server.api._state import ServerState
from magic_hour_server.api._waiters import CancelOnDisconnect
from magic_hour_server.detection._detector import FaceDetector, default_detector

log = logging.getLogger("magic_hour_server")


class _BodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """connexion's JSON body validator with a `multipleOf` that accepts 0.15 or 0.35 for 0.05."""

    @property
    def _validator(self) -> Any:
        return request_validator(self._schema)

    async def _parse(self, stream: AsyncIterator[bytes], scope: Any) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        try:
            return json.loads(raw.decode(self._encoding))
        except (UnicodeDecodeError, LookupError):
            raise BadRequestProblem(detail="Request body is not valid UTF-8 text") from None
        except json.JSONDecodeError as err:
            raise BadRequestProblem(detail=f"Request body is not valid JSON: {err}") from None
        except RecursionError:
            raise BadRequestProblem(detail="Request body is nested too deeply") from None


def _problem_response(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    status, message, headers = problem(exc)
    return ConnexionResponse(
        status_code=status,
        mimetype="application/json",
        content_type="application/json",
        body=json.dumps({"message": message}).encode(),
        headers=headers,
        is_streamed=False,
    )


class StorageRoutes:
    """ASGI: the signed storage URLs (upload PUT, face GET) go straight to their handler.
    They are storage, not API operations: no bearer token, no document to validate
    against, so connexion's middleware stack (security, validation, routing) is work
    they do not need. Every other request goes on to `app`."""

    PREFIX = "/api-assets/"

    def __init__(self, app: Any, storage: Callable[[Request], Any]) -> None:
        self._app, self._storage = app, storage

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.PREFIX):
            await self._app(scope, receive, send)
            return
        started = False

        async def tracked(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        parts = scope["path"][len(self.PREFIX) :].split("/")
        try:
            if len(parts) != 2:
                response: Response = JSONResponse({"message": "Not Found"}, 404)
            elif scope["method"] not in ("GET", "HEAD", "PUT"):
                response = JSONResponse({"message": "Method Not Allowed"}, 405,
                                        headers={"Allow": "GET, HEAD, PUT"})  # fmt: skip
            else:
                item_id, name = parts
                path_params = {"item_id": item_id, "name": name}
                response = await self._storage(
                    Request({**scope, "path_params": path_params}, receive)
                )
            await response(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise
            await problem_response(exc)(scope, receive, tracked)


def _import_anyio_now() -> None:
    """anyio imports its parts on first use. Left to the server's first requests, that
    import runs on the server's thread, possibly while the thread that started it imports
    too, and an import hook that is not thread-safe then fails the request (pytest's
    assertion rewriting, which treats anyio as a plugin, did so in a test run). Every part
    is imported here, where the server is made, instead."""
    for name in dir(anyio):
        getattr(anyio, name)


def create_app(
    settings: Settings, detector: Callable[[], FaceDetector] | None = None
) -> tuple[Any, ServerState]:
    """The ASGI app serving `settings`, and its shared state; workers start with the app."""
    _import_anyio_now()
    if detector is None:
        detector = functools.partial(
            default_detector,
            "int8" if settings.detector_precision == "int8" else "fp32",
            multi_scale=settings.multi_scale_detection,
            cache_dir=settings.data_dir / "models",
        )
    state = ServerState(settings, detector)
    api = Api(state)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        state.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(state.stop)

    validators = dict(VALIDATOR_MAP)
    validators["body"] = MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": _BodyValidator})
    check_token = token_checker(settings.tokens)
    app = AsyncApp(
        __name__,
        lifespan=lifespan,
        security_map={"bearer": bearer_handler(check_token)},
        validator_map=validators,
        # The document is served as written, at /openapi.yaml, below.
        swagger_ui_options=SwaggerUIOptions(serve_spec=False, swagger_ui=False),
    )
    document = load_document()
    app.add_api(
        document,
        resolver=api.by_operation_id,
        base_path="",
        strict_validation=False,
        validate_responses=False,
    )
    for error in (ProblemException, HTTPException, BodyTooLarge, BodyTimeout, Exception):
        app.add_error_handler(error, _problem_response)

    spec_text = resources.files("magic_hour_server").joinpath("openapi.yaml").read_text("utf-8")

    async def openapi_yaml(_request: Request) -> Response:
        return PlainTextResponse(spec_text, media_type="application/yaml")

    async def healthz(_request: Request) -> Response:
        # `waiting`: requests held by `Prefer: wait` right now.
        return JSONResponse({"status": "ok", "waiting": state.waiters.count})

    async def readyz(_request: Request) -> Response:
        # Readiness, what a balancer routes on: the database answers at our schema.
        # /healthz is liveness: the process answers.
        problem = await anyio.to_thread.run_sync(state.store.readiness)
        if problem is None:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready", "reason": problem}, status_code=503,
                            headers={"Retry-After": "1"})  # fmt: skip

    async def metrics(_request: Request) -> Response:
        # Outside the API document and its token, like /healthz: what Prometheus scrapes.
        # The queue figures are read from the store, so in a thread.
        text = await anyio.to_thread.run_sync(state.metrics.exposition)
        return Response(text, media_type=METRICS_CONTENT_TYPE)

    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
    app.add_url_rule("/readyz", "readyz", readyz, methods=["GET"])
    app.add_url_rule("/openapi.yaml", "openapi", openapi_yaml, methods=["GET"])
    guarded = RequestGuard(
        StorageRoutes(
            DirectOperations(app, routes_from(document, api.operation), check_token),
            api.storage,
        ),
        max_json_bytes=settings.max_json_bytes,
        body_timeout=settings.body_timeout,
        upload_prefix="/api-assets/",
        metrics=state.metrics,
    )
    return CancelOnDisconnect(ScriptedResponses(guarded, state.outcomes)), state
