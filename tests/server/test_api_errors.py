"""Requests the API refuses: each gets the documented status and a {"message"} naming why."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from magic_hour_server import LocalServer

from tests.server.conftest import OTHER_TOKEN, detect, start, upload
from tests.server.images import astronaut, encode

pytestmark = pytest.mark.timeout(60)
TARGET = {"assets": {"target_file_path": "https://example.com/photo.png"}}


@pytest.mark.parametrize("score", [0, 0.05, 0.15, 0.3, 0.35, 0.6, 0.7, 0.95, 1])
def test_every_multiple_of_005_is_accepted(api: httpx.Client, score: float) -> None:
    reply = api.post("/v1/face-detection", json={**TARGET, "confidence_score": score})
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("score", [0.33, -0.05, 1.05, "0.5", None])
def test_other_scores_are_refused(api: httpx.Client, score: object) -> None:
    reply = api.post("/v1/face-detection", json={**TARGET, "confidence_score": score})
    assert reply.status_code == 400
    assert "confidence_score" in reply.json()["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "Missing request body"),
        ({}, "'assets' is a required property"),
        ({"assets": {}}, "'target_file_path' is a required property"),
        (b"{not json", "Request body is not valid JSON"),
        (b"\xff\xfe", "not valid UTF-8"),
    ],
)
def test_bad_bodies_get_400_naming_the_problem(
    api: httpx.Client, body: object, message: str
) -> None:
    if body is None:
        reply = api.post("/v1/face-detection", headers={"content-type": "application/json"})
    elif isinstance(body, bytes):
        reply = api.post(
            "/v1/face-detection", content=body, headers={"content-type": "application/json"}
        )
    else:
        reply = api.post("/v1/face-detection", json=body)
    assert reply.status_code == 400
    assert message in reply.json()["message"]


def test_a_body_that_is_not_json_gets_400(api: httpx.Client) -> None:
    reply = api.post("/v1/face-detection", content="hi", headers={"content-type": "text/plain"})
    assert reply.status_code == 400
    assert "Content-type" in reply.json()["message"]


def test_a_json_body_past_the_limit_gets_400(api: httpx.Client) -> None:
    padding = "x" * 100_000
    reply = api.post("/v1/face-detection", json={**TARGET, "padding": padding})
    assert reply.status_code == 400
    assert "too large" in reply.json()["message"]


def test_upload_urls_validation(api: httpx.Client) -> None:
    assert api.post("/v1/files/upload-urls", json={"items": []}).status_code == 400
    bad = api.post("/v1/files/upload-urls", json={"items": [{"type": "image", "extension": "PNG"}]})
    assert bad.status_code == 400
    assert "PNG" in bad.json()["message"]


def test_upload_urls_come_back_in_order(api: httpx.Client) -> None:
    asked = [{"type": "image", "extension": e} for e in ("png", "jpg", "webp")]
    reply = api.post("/v1/files/upload-urls", json={"items": asked})
    assert reply.status_code == 200
    items = reply.json()["items"]
    assert [i["file_path"].rsplit(".", 1)[1] for i in items] == ["png", "jpg", "webp"]
    assert all(i["expires_at"].endswith("Z") for i in items)


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer", "garbage"])
def test_missing_or_wrong_token_gets_401(server: LocalServer, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path, body in [
        ("POST", "/v1/face-detection", TARGET),
        ("GET", "/v1/face-detection/abc", None),
        ("POST", "/v1/files/upload-urls", {"items": [{"type": "image", "extension": "png"}]}),
    ]:
        reply = httpx.request(method, server.url + path, json=body, headers=headers)
        assert reply.status_code == 401, (method, path)
        assert reply.json() == {"message": "Unauthorized"}


def test_unknown_task_gets_404(api: httpx.Client) -> None:
    reply = api.get("/v1/face-detection/doesnotexist")
    assert reply.status_code == 404
    assert reply.json() == {"message": "Not Found"}


def test_another_tokens_task_is_not_found(api: httpx.Client, server: LocalServer) -> None:
    task_id = start(api, upload(api, encode(astronaut())))
    other = httpx.get(
        f"{server.url}/v1/face-detection/{task_id}",
        headers={"Authorization": f"Bearer {OTHER_TOKEN}"},
    )
    assert other.status_code == 404
    assert other.json() == {"message": "Not Found"}
    assert api.get(f"/v1/face-detection/{task_id}").status_code == 200


def test_another_tokens_upload_cannot_be_used(api: httpx.Client, server: LocalServer) -> None:
    path = upload(api, encode(astronaut()))
    other = httpx.post(
        f"{server.url}/v1/face-detection",
        json={"assets": {"target_file_path": path}},
        headers={"Authorization": f"Bearer {OTHER_TOKEN}"},
    )
    assert other.status_code == 422
    assert other.json() == {"message": f"{path} does not exist"}


def test_another_tokens_faces_cannot_be_used(api: httpx.Client, server: LocalServer) -> None:
    face = detect(api, encode(astronaut()))["faces"][0]["path"]
    other = httpx.post(
        f"{server.url}/v1/face-detection",
        json={"assets": {"target_file_path": face}},
        headers={"Authorization": f"Bearer {OTHER_TOKEN}"},
    )
    assert other.status_code == 422


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("api-assets/nosuchid/input.png", "does not exist"),
        ("api-assets/../../etc/passwd", "does not exist"),
        ("/etc/passwd", "must be an http(s) URL"),
        ("ftp://example.com/a.png", "must be an http(s) URL"),
        ("http://", "not a valid URL"),
        ("https://example.com:notaport/a.png", "not a valid URL"),
    ],
)
def test_unusable_targets_get_422(api: httpx.Client, target: str, message: str) -> None:
    reply = api.post("/v1/face-detection", json={"assets": {"target_file_path": target}})
    assert reply.status_code == 422
    assert message in reply.json()["message"]


def test_an_upload_not_yet_sent_gets_422(api: httpx.Client) -> None:
    reply = api.post(
        "/v1/files/upload-urls", json={"items": [{"type": "image", "extension": "png"}]}
    )
    path = reply.json()["items"][0]["file_path"]
    refused = api.post("/v1/face-detection", json={"assets": {"target_file_path": path}})
    assert refused.status_code == 422
    assert "not been uploaded" in refused.json()["message"]


def test_unknown_path_and_method(api: httpx.Client) -> None:
    assert api.get("/v1/nothing").json() == {"message": "Not Found"}
    wrong = api.delete("/v1/face-detection")
    assert wrong.status_code == 405
    assert wrong.json() == {"message": "Method Not Allowed"}


def test_health_and_document(server: LocalServer) -> None:
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    document = httpx.get(f"{server.url}/openapi.yaml")
    assert document.status_code == 200
    assert yaml.safe_load(document.text)["openapi"].startswith("3.0.")


@pytest.mark.parametrize("token_ok", [True, False])
def test_a_body_that_stops_coming_gets_400_naming_the_wait(tmp_path: Path, token_ok: bool) -> None:
    import socket
    from urllib.parse import urlsplit

    with LocalServer(data_dir=tmp_path, workers=0, body_timeout=0.5) as server:
        url = urlsplit(server.url)
        token = server.token if token_ok else "wrong"
        head = (
            "POST /v1/face-detection HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\nAuthorization: Bearer {token}\r\n"
            'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"assets":'
        )
        with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
            sock.sendall(head.encode())
            answer = sock.recv(65536).decode()
    status_line, _, rest = answer.partition("\r\n")
    if token_ok:
        assert " 400 " in status_line, answer
        assert "Timed out after 0.5 s waiting for the request body" in rest
    else:
        assert " 401 " in status_line, answer
