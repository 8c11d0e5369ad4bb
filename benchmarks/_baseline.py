"""The yardstick for the SDK: the same HTTP calls as `generate()`, in plain httpx.

Upload URL, PUT of the file, create, poll, download of each face -- nothing else: no
retries, no validation, no progress events, no atomic writes. Its poll loop asks at the
ideal moment, which no real client can: an oracle (`BenchServer.wait_complete`, watching the
server's database) says when the task is complete, and only then does it send its GET.

`generate_held` is the yardstick under load: the same calls with the server's long-poll
(`Prefer: wait`) as the SDK asks for it, so that nothing outside the client is watched.
`generate_held_aiohttp` makes them without httpx, through aiohttp (its C parser, its own
connection pool): what the requests themselves cost a Python client on this machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx

POLL_GAP = 0.002


@dataclass(frozen=True)
class RawRun:
    task_id: str
    polls: int
    faces: int


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _upload_request(extension: str) -> dict[str, Any]:
    return {"items": [{"type": "image", "extension": extension}]}


def _create_request(file_path: str) -> dict[str, Any]:
    return {"assets": {"target_file_path": file_path}, "confidence_score": 0.5}


def _done(task: dict[str, Any]) -> bool:
    if task["status"] == "error":
        raise RuntimeError(f"task {task['id']} failed: {task.get('error_message')}")
    return bool(task["status"] == "complete")


def generate_sync(
    http: httpx.Client,
    base_url: str,
    token: str,
    image: Path,
    out: Path,
    until_complete: Callable[[str], None],
) -> RawRun:
    """Upload `image`, detect, wait, save the faces in `out`."""
    auth = _headers(token)
    reply = http.post(
        f"{base_url}/v1/files/upload-urls", json=_upload_request(image.suffix[1:]), headers=auth
    )
    item = reply.raise_for_status().json()["items"][0]
    http.put(item["upload_url"], content=image.read_bytes()).raise_for_status()
    reply = http.post(
        f"{base_url}/v1/face-detection", json=_create_request(item["file_path"]), headers=auth
    )
    task_id = reply.raise_for_status().json()["id"]
    until_complete(task_id)
    polls = 0
    while True:
        task = http.get(f"{base_url}/v1/face-detection/{task_id}", headers=auth).json()
        polls += 1
        if _done(task):
            break
        time.sleep(POLL_GAP)
    out.mkdir(parents=True, exist_ok=True)
    for number, face in enumerate(task["faces"]):
        (out / f"{number}.png").write_bytes(http.get(face["url"]).raise_for_status().content)
    return RawRun(task_id, polls, len(task["faces"]))


async def generate_async(
    http: httpx.AsyncClient,
    base_url: str,
    token: str,
    image: Path,
    out: Path,
    until_complete: Callable[[str], Awaitable[None]],
) -> RawRun:
    """`generate_sync`, awaited."""
    auth = _headers(token)
    task_id = await _start_async(http, base_url, auth, image)
    await until_complete(task_id)
    polls = 0
    while True:
        task = (await http.get(f"{base_url}/v1/face-detection/{task_id}", headers=auth)).json()
        polls += 1
        if _done(task):
            break
        await asyncio.sleep(POLL_GAP)
    faces = await _save_faces_async(http, task, out)
    return RawRun(task_id, polls, faces)


async def _start_async(
    http: httpx.AsyncClient, base_url: str, auth: dict[str, str], image: Path
) -> str:
    """Upload URL, PUT of `image`, create: the new task's id."""
    reply = await http.post(
        f"{base_url}/v1/files/upload-urls", json=_upload_request(image.suffix[1:]), headers=auth
    )
    item = reply.raise_for_status().json()["items"][0]
    # A small file: reading it in the event loop costs less than a hop to a thread.
    content = image.read_bytes()  # noqa: ASYNC240
    (await http.put(item["upload_url"], content=content)).raise_for_status()
    reply = await http.post(
        f"{base_url}/v1/face-detection", json=_create_request(item["file_path"]), headers=auth
    )
    task_id: str = reply.raise_for_status().json()["id"]
    return task_id


async def _save_faces_async(http: httpx.AsyncClient, task: dict[str, Any], out: Path) -> int:
    """Each face of the complete `task` saved in `out`; how many."""
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    for number, face in enumerate(task["faces"]):
        content = (await http.get(face["url"])).raise_for_status().content
        (out / f"{number}.png").write_bytes(content)
    return len(task["faces"])


async def generate_held(
    http: httpx.AsyncClient, base_url: str, token: str, image: Path, out: Path
) -> RawRun:
    """`generate_async` with held polls instead of the oracle: the first GET asks the
    server to wait up to 1 s for a change (`Prefer: wait=1`), later ones up to 20 s,
    as the SDK asks."""
    auth = _headers(token)
    task_id = await _start_async(http, base_url, auth, image)
    polls, wait = 0, 1
    while True:
        reply = await http.get(
            f"{base_url}/v1/face-detection/{task_id}", headers={**auth, "Prefer": f"wait={wait}"}
        )
        task = reply.raise_for_status().json()
        polls, wait = polls + 1, 20
        if _done(task):
            break
    return RawRun(task_id, polls, await _save_faces_async(http, task, out))


async def generate_held_aiohttp(
    http: aiohttp.ClientSession, base_url: str, token: str, image: Path, out: Path
) -> RawRun:
    """`generate_held` in aiohttp."""
    auth = _headers(token)
    upload = _upload_request(image.suffix[1:])
    async with http.post(f"{base_url}/v1/files/upload-urls", json=upload, headers=auth) as reply:
        item = (await reply.json())["items"][0]
    content = image.read_bytes()  # noqa: ASYNC240 (as in `_start_async`)
    async with http.put(item["upload_url"], data=content) as reply:
        await reply.read()
    create = _create_request(item["file_path"])
    async with http.post(f"{base_url}/v1/face-detection", json=create, headers=auth) as reply:
        task_id: str = (await reply.json())["id"]
    polls, wait = 0, 1
    while True:
        url, prefer = f"{base_url}/v1/face-detection/{task_id}", {"Prefer": f"wait={wait}"}
        async with http.get(url, headers={**auth, **prefer}) as reply:
            task = await reply.json()
        polls, wait = polls + 1, 20
        if _done(task):
            break
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    for number, face in enumerate(task["faces"]):
        async with http.get(face["url"]) as reply:
            (out / f"{number}.png").write_bytes(await reply.read())
    return RawRun(task_id, polls, len(task["faces"]))
