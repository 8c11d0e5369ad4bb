"""The direct path for the API operations (`api/_direct.py`): a request it can vouch for is
answered by the operation itself; any other goes on to connexion untouched, body and all.

The routes are built from the server's own document; the operations and the app behind
(connexion, in the server) are stand-ins that record what reached them.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from magic_hour_server.api._api import Call, Operation, Reply
from magic_hour_server.api._auth import token_checker
from magic_hour_server.api._direct import DirectOperations, routes_from
from magic_hour_server.api._schema import load_document

from tests.document import example

TOKEN = "direct-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Recorder:
    """Operations that record their call, and an app behind them that records requests."""

    def __init__(self, reply: Reply | Exception | None = None) -> None:
        self.calls: list[tuple[str, Call]] = []
        self.passed_on: list[tuple[str, str, bytes]] = []
        self.reply = reply

    def operation(self, operation_id: str) -> Operation:
        async def run(call: Call) -> Reply:
            self.calls.append((operation_id, call))
            if isinstance(self.reply, Exception):
                raise self.reply
            return self.reply if self.reply is not None else {"operation": operation_id}

        return run

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.passed_on.append((scope["method"], scope["path"], body))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"connexion"})


async def _call(recorder: Recorder, method: str, path: str, **kwargs: Any) -> httpx.Response:
    routes = routes_from(load_document(), recorder.operation)
    app = DirectOperations(recorder.app, routes, token_checker([TOKEN]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return await http.request(method, path, **kwargs)


def request(recorder: Recorder, method: str, path: str, **kwargs: Any) -> httpx.Response:
    import anyio

    async def run() -> httpx.Response:
        return await _call(recorder, method, path, **kwargs)

    return anyio.run(run)


CREATE = example("FaceDetectionRequest")
UPLOADS = example("UploadUrlsRequest")


def test_every_operation_of_the_document_has_a_direct_route() -> None:
    recorder = Recorder()
    routes = routes_from(load_document(), recorder.operation)
    assert sorted((r.method, r.path.pattern) for r in routes) == [
        ("GET", "^/v1/face\\-detection/(?P<id>[^/]+)$"),
        ("POST", "^/v1/face\\-detection$"),
        ("POST", "^/v1/files/upload\\-urls$"),
    ]


@pytest.mark.parametrize(
    ("method", "path", "body", "operation"),
    [
        ("GET", "/v1/face-detection/abc123", None, "get"),
        ("POST", "/v1/face-detection", CREATE, "create"),
        ("POST", "/v1/files/upload-urls", UPLOADS, "createUploadUrls"),
    ],
)
def test_a_valid_request_is_answered_by_its_operation(
    method: str, path: str, body: Any, operation: str
) -> None:
    recorder = Recorder(({"id": "x"}, 201, {"Idempotency-Key": "k1"}))
    reply = request(recorder, method, path, json=body, headers={**AUTH, "Prefer": "wait=1"})
    assert reply.status_code == 201
    # Written as connexion writes a handler's JSON: json.dumps and a final newline.
    assert reply.content == b'{"id": "x"}\n'
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["idempotency-key"] == "k1"
    assert recorder.passed_on == []
    [(called, call)] = recorder.calls
    assert called == operation
    assert call.body == body
    assert call.headers.getlist("prefer") == ["wait=1"]
    assert len(call.owner) == 64  # the token's SHA-256, never the token
    if operation == "get":
        assert call.path == {"id": "abc123"}


@pytest.mark.parametrize(
    ("headers", "body", "content"),
    [
        ({}, CREATE, None),  # no token
        ({"Authorization": "Bearer wrong"}, CREATE, None),
        ({"Authorization": f"Basic {TOKEN}"}, CREATE, None),
        ({"Authorization": f"Bearer {TOKEN} "}, CREATE, None),  # connexion keeps the space
        (AUTH, None, b""),  # no body
        (AUTH, None, b"{not json"),
        (AUTH, None, b"\xff\xfe"),
        (AUTH, {"assets": {}}, None),  # fails the schema
        (AUTH, {**CREATE, "confidence_score": 0.33}, None),
        ({**AUTH, "Content-Type": "text/plain"}, None, json.dumps(CREATE).encode()),
        ({**AUTH, "Content-Type": "application/json; charset=latin-1"}, None, b'{"a": 1}'),
        ({**AUTH, "Idempotency-Key": "has space"}, CREATE, None),  # outside its pattern
        ({**AUTH, "Idempotency-Key": ""}, CREATE, None),
    ],
)
def test_anything_else_goes_to_connexion_with_its_body(
    headers: dict[str, str], body: Any, content: bytes | None
) -> None:
    recorder = Recorder()
    sent = content if content is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **headers}
    reply = request(recorder, "POST", "/v1/face-detection", content=sent, headers=headers)
    assert (reply.status_code, reply.content) == (299, b"connexion")
    assert recorder.calls == []
    assert recorder.passed_on == [("POST", "/v1/face-detection", sent)]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("HEAD", "/v1/face-detection/abc"),
        ("DELETE", "/v1/face-detection/abc"),
        ("GET", "/v1/face-detection/abc/more"),
        ("GET", "/v1/face-detection/"),
        ("GET", "/openapi.yaml"),
    ],
)
def test_paths_and_methods_outside_the_document_go_to_connexion(method: str, path: str) -> None:
    recorder = Recorder()
    reply = request(recorder, method, path, headers=AUTH)
    assert reply.status_code == 299
    assert recorder.calls == []


def test_an_operation_that_fails_is_answered_as_connexion_answers_it() -> None:
    recorder = Recorder(RuntimeError("boom"))
    reply = request(recorder, "GET", "/v1/face-detection/abc", headers=AUTH)
    assert reply.status_code == 500
    assert reply.json() == {"message": "Internal Server Error"}


def test_operations_with_parameters_it_cannot_read_are_left_to_connexion() -> None:
    document = json.loads(json.dumps(load_document()))
    get = document["paths"]["/v1/face-detection/{id}"]["get"]
    get["parameters"].append({"name": "page", "in": "query", "schema": {"type": "integer"}})
    document["paths"]["/v1/face-detection"]["post"]["security"] = [{"other": []}]
    routes = routes_from(document, Recorder().operation)
    assert [(r.method, r.path.pattern) for r in routes] == [("POST", "^/v1/files/upload\\-urls$")]
