"""A JSON body sent in chunks (no Content-Length) is read like any other, within the limits."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.server.conftest import upload, wait
from tests.server.images import astronaut, encode

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def chunks(document: object, size: int = 7) -> Iterator[bytes]:
    raw = json.dumps(document).encode()
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


def test_a_chunked_create_starts_a_task(api: httpx.Client) -> None:
    file_path = upload(api, encode(astronaut()))
    body = {"assets": {"target_file_path": file_path}, "confidence_score": 0.35}
    reply = api.post(
        "/v1/face-detection",
        content=chunks(body),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in reply.request.headers  # really sent chunked
    assert reply.status_code == 200, reply.text
    assert wait(api, reply.json()["id"])["status"] == "complete"


def test_a_chunked_body_is_still_validated(api: httpx.Client) -> None:
    reply = api.post(
        "/v1/face-detection",
        content=chunks({"assets": {}, "confidence_score": 0.33}),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 400
    assert "message" in reply.json()


def test_a_chunked_body_past_the_limit_is_refused(api: httpx.Client) -> None:
    huge = {"assets": {"target_file_path": "x" * 200_000}}
    reply = api.post(
        "/v1/face-detection",
        content=chunks(huge, 4096),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status_code == 400
    assert "too large" in reply.json()["message"]
