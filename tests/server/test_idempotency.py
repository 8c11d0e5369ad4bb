"""Idempotency-Key on create: sent again, the same task; said back; bad keys refused."""

from __future__ import annotations

import httpx
import pytest
from magic_hour_server import LocalServer

from tests.server.conftest import OTHER_TOKEN, upload
from tests.server.images import astronaut, encode

pytestmark = pytest.mark.timeout(60)


def test_a_create_sent_again_with_its_key_answers_the_same_task(
    server: LocalServer, api: httpx.Client
) -> None:
    target = upload(api, encode(astronaut()))
    body = {"assets": {"target_file_path": target}}
    first = api.post("/v1/face-detection", json=body, headers={"Idempotency-Key": "key-1"})
    again = api.post("/v1/face-detection", json=body, headers={"Idempotency-Key": "key-1"})
    other = api.post("/v1/face-detection", json=body, headers={"Idempotency-Key": "key-2"})
    plain = api.post("/v1/face-detection", json=body)
    assert first.status_code == again.status_code == other.status_code == 200
    assert first.json()["id"] == again.json()["id"] != other.json()["id"]
    assert first.headers["Idempotency-Key"] == "key-1"
    assert "Idempotency-Key" not in plain.headers  # nothing to say back without a key
    # Keys belong to an API key: another caller's same key is another task.
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {OTHER_TOKEN}"},
                      timeout=30) as stranger:  # fmt: skip
        theirs = upload(stranger, encode(astronaut()))
        reply = stranger.post(
            "/v1/face-detection",
            json={"assets": {"target_file_path": theirs}},
            headers={"Idempotency-Key": "key-1"},
        )
    assert reply.status_code == 200 and reply.json()["id"] != first.json()["id"]


@pytest.mark.parametrize("key", [b"x" * 256, b"has space", "é".encode()])
def test_a_key_that_is_not_1_to_255_visible_characters_is_a_400(
    api: httpx.Client, key: bytes
) -> None:
    reply = api.post(
        "/v1/face-detection",
        json={"assets": {"target_file_path": "https://example.com/a.png"}},
        headers={b"Idempotency-Key": key},
    )
    assert reply.status_code == 400
    message = reply.json()["message"]
    # The document's pattern and length are checked first; the first line says which.
    assert "is too long" in message or "does not match '^[!-~]+$'" in message
    assert "\n" not in message
