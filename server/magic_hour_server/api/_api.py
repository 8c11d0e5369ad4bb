"""Handlers of the three API operations and of the signed storage URLs."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import anyio
from connexion import request
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response

from magic_hour_server._metrics import kind_of_target
from magic_hour_server.api._logging import note_task_id
from magic_hour_server.api._waiters import requested_wait
from magic_hour_server.storage._storage import (
    READ_AT_ONCE_BYTES,
    READ_WHOLE_BYTES,
    NotRecorded,
    UploadTooLarge,
    api_path,
    parse_api_path,
    valid_parts,
)
from magic_hour_server.tasks._at_once import Busy
from magic_hour_server.tasks._database import database_went_away
from magic_hour_server.tasks._records import Task

if TYPE_CHECKING:
    from magic_hour_server.api._state import ServerState

log = logging.getLogger(__name__)
T = TypeVar("T")

Reply = dict[str, Any] | tuple[dict[str, Any], int] | tuple[dict[str, Any], int, dict[str, str]]


@dataclass(frozen=True)
class Call:
    """One validated request to an operation: who sent it (the owner id of its token), its
    JSON body, its path parameters and its headers."""

    owner: str
    body: Any
    path: dict[str, str]
    headers: Headers


Operation = Callable[[Call], Awaitable[Reply]]

_FINAL = frozenset({"complete", "error"})
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_LINGER = 0.1

NOT_FOUND: tuple[dict[str, Any], int] = ({"message": "Not Found"}, 404)
MAX_UPLOAD_ITEMS = 100
_MAX_URL_LENGTH = 4096


def _unprocessable(message: str) -> tuple[dict[str, Any], int]:
    return {"message": message}, 422


class Api:
    """The operations of openapi.yaml, by operationId. Their input is validated before they
    are called: by `DirectOperations` for a request in order, by connexion otherwise."""

    def __init__(self, state: ServerState) -> None:
        self._state = state

    async def _db(self, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)` in a worker thread. While the database cannot be reached (a
        restart, a failover) it is tried again, backing off, for up to the
        `database_wait_seconds` setting; only then does the request get its 503."""
        deadline = time.monotonic() + self._state.settings.database_wait_seconds
        delay = 0.1
        while True:
            try:
                return await anyio.to_thread.run_sync(call, *args)
            except Exception as exc:
                if not database_went_away(exc):
                    raise
                if time.monotonic() + delay > deadline:
                    self._state.metrics.database_unavailable.inc()  # a 503 follows
                    raise
                self._state.metrics.database_waits.inc()
                log.info("the task database is unavailable; trying again in %.1f s", delay)
            await anyio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def _at_once(self, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)` (a store call that takes `wait`) made by the event loop itself
        when the store can answer without waiting (SQLite, see `tasks._at_once`): a
        thread hop costs more CPU than such a call. Otherwise, or when it would wait, in
        a worker thread (`_db`)."""
        if self._state.store.answers_at_once:
            try:
                return call(*args, wait=False)
            except Busy:
                pass
        return await self._db(call, *args)

    def operation(self, operation_id: str) -> Operation:
        """The operation named `operation_id` in openapi.yaml, for a request validated
        against it (by connexion, or by `DirectOperations` on its direct path)."""
        operations: dict[str, Operation] = {
            "create": self.create,
            "get": self.get,
            "createUploadUrls": self.create_upload_urls,
        }
        return operations[operation_id]

    def by_operation_id(self, operation_id: str) -> Any:
        """connexion's resolver: the operation, called with connexion's arguments."""
        operation = self.operation(operation_id)

        async def handler(token_info: dict[str, Any], body: Any = None, **_path: str) -> Reply:
            call = Call(
                owner=token_info["sub"],
                body=body,
                path=dict(request.path_params),
                headers=request.headers,
            )
            return await operation(call)

        return handler

    def _over_quota(self, owner: str, count: int) -> Reply | None:
        wait = self._state.quota.take(owner, count)
        if wait == 0:
            return None
        quota = self._state.quota.per_minute
        message = f"Too many requests: this key may create {quota} tasks or upload URLs a minute"
        return {"message": message}, 429, {"Retry-After": str(wait)}

    async def create(self, call: Call) -> Reply:
        owner, body = call.owner, call.body
        refused = self._over_quota(owner, 1)
        if refused is not None:
            return refused
        target: str = body["assets"]["target_file_path"]
        threshold = float(body.get("confidence_score", 0.5))
        key = call.headers.get("idempotency-key")
        if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
            return {"message": "Idempotency-Key must be 1 to 255 visible ASCII characters"}, 400
        refusal, task_id = await self._at_once(self._create_checked, owner, target, threshold, key)
        if refusal is not None:
            return _unprocessable(refusal)
        self._state.pool.notify()
        self._state.metrics.tasks_created.labels(kind_of_target(target)).inc()
        note_task_id(task_id)
        if key is None:
            return {"id": task_id, "credits_charged": 0}
        # Said back: the client learns that a create sent again with it is safe here.
        return {"id": task_id, "credits_charged": 0}, 200, {"Idempotency-Key": key}

    def _create_checked(
        self, owner: str, target: str, threshold: float, key: str | None, *, wait: bool = True
    ) -> tuple[str | None, str]:
        """(why `target` cannot be used, "") or (None, the new task's id): one thread hop,
        or none (`wait=False`)."""
        refusal = self._check_target(owner, target, wait=wait)
        if refusal is not None:
            return refusal, ""
        return None, self._state.store.create_task(owner, target, threshold, key, wait=wait)

    def _check_target(self, owner: str, target: str, *, wait: bool = True) -> str | None:
        """Why `target` cannot be used by `owner`, or None when it can."""
        if target.lower().startswith(("http://", "https://")):
            if len(target) > _MAX_URL_LENGTH:
                return "target_file_path is too long"
            try:
                parts = urlsplit(target)
                _ = parts.port  # raises ValueError for a port that is not a number
                valid = bool(parts.hostname)
            except ValueError:
                valid = False
            return None if valid else f"target_file_path is not a valid URL: {target!r}"
        if not target.startswith("api-assets/"):
            return (
                "target_file_path must be an http(s) URL or a file_path returned by"
                " POST /v1/files/upload-urls"
            )
        parts_of = parse_api_path(target)
        missing = f"{target} does not exist"
        if parts_of is None:
            return missing
        item_id, name = parts_of
        asset = self._state.store.get_asset(item_id, name, wait=wait)
        if asset is not None:
            if asset.owner != owner:
                return missing
            return None if asset.uploaded else f"{target} has not been uploaded yet"
        # A face found by an earlier detection can be detected in again.
        task = self._state.store.get_task(item_id, wait=wait)
        if task is None or task.owner != owner or all(f.name != name for f in task.faces):
            return missing
        return None

    async def get(self, call: Call) -> Reply:
        owner, id = call.owner, call.path["id"]
        wait = requested_wait(call.headers.getlist("prefer"), self._state.settings.max_wait_seconds)
        if wait is None:
            task = await self._read(id, owner)
            return NOT_FOUND if task is None else self._task_body(task)
        with self._state.waiters.watch(id) as changed:
            task = await self._read(id, owner)
            if task is None:
                return NOT_FOUND
            if changed is None:  # stopping, or too many held already: answered now
                return self._task_body(task)
            task = await self._hold(task, changed, wait, owner)
            if task is None:  # deleted while waiting (retention)
                return NOT_FOUND
        return self._task_body(task), 200, {"Preference-Applied": f"wait={wait}"}

    async def _hold(
        self, task: Task, changed: asyncio.Event, wait: float, owner: str
    ) -> Task | None:
        """The task once it changed (or `wait` passed). A change that does not finish the
        task is answered `_LINGER` later, with whatever followed it by then: a short task
        goes from queued to complete in one answer, a video's progress shows ten times a
        second at most."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        first_change: float | None = None
        current: Task | None = task
        while current is not None and current.status not in _FINAL:
            until = deadline if first_change is None else min(deadline, first_change + _LINGER)
            try:
                await asyncio.wait_for(changed.wait(), max(0.0, until - loop.time()))
            except TimeoutError:
                return await self._read(current.id, owner) if first_change is None else current
            changed.clear()  # before reading: a later change sets it again
            first_change = first_change if first_change is not None else loop.time()
            current = await self._read(current.id, owner)
        return current

    async def _read(self, task_id: str, owner: str) -> Task | None:
        task = await self._at_once(self._state.store.get_task, task_id)
        if task is None or task.owner != owner:
            return None
        note_task_id(task.id)
        return task

    def _task_body(self, task: Task) -> dict[str, Any]:
        faces = []
        for face in task.faces:
            x, y, width, height = face.box
            entry: dict[str, Any] = {
                "path": api_path(task.id, face.name),
                "url": self._state.signed_url("GET", task.id, face.name),
                "box": {"x": x, "y": y, "width": width, "height": height},
                "score": face.score,
                "frame": face.frame,
            }
            if face.frame_time is not None:
                entry["frame_time"] = face.frame_time
            faces.append(entry)
        body: dict[str, Any] = {
            "id": task.id,
            "credits_charged": 0,
            "status": task.status,
            "faces": faces,
            "progress": task.progress,
        }
        if task.status == "error":
            body["error_message"] = task.error_message or "the detection failed"
        return body

    async def create_upload_urls(self, call: Call) -> Reply:
        items = call.body["items"]
        if len(items) > MAX_UPLOAD_ITEMS:
            return _unprocessable(f"at most {MAX_UPLOAD_ITEMS} items can be asked for at once")
        names = [f"input.{item['extension']}" for item in items]
        if any(not valid_parts("a", name) for name in names):
            return _unprocessable("extension must be at most 16 characters long")
        refused = self._over_quota(call.owner, len(names))
        if refused is not None:
            return refused
        result = []
        for name in names:
            asset_id = await self._at_once(self._state.store.create_asset, call.owner, name)
            url, expires = self._state.signed_url_and_expiry(
                "PUT", asset_id, name, self._state.settings.upload_url_ttl
            )
            expires_at = datetime.fromtimestamp(expires, UTC).isoformat(timespec="milliseconds")
            result.append(
                {
                    "upload_url": url,
                    "expires_at": expires_at.replace("+00:00", "Z"),
                    "file_path": api_path(asset_id, name),
                }
            )
        return {"items": result}

    # Storage URLs: outside the API document, signed instead of authenticated.

    async def storage(self, request: Request) -> Response:
        item_id, name = request.path_params["item_id"], request.path_params["name"]
        if not valid_parts(item_id, name):
            return JSONResponse({"message": "Not Found"}, 404)
        method = "GET" if request.method == "HEAD" else request.method
        refusal = self._state.signer.verify(
            method,
            request.url.path,
            request.query_params.get("expires"),
            request.query_params.get("signature"),
        )
        if refusal is not None:
            return JSONResponse({"message": refusal}, 403)
        if method == "PUT":
            return await self._upload(request, item_id, name)
        files = self._state.files
        # A face crop was written moments ago: it is in the page cache, and reading it
        # here costs less than the thread hop around it. Larger files go to a thread.
        found = files.read_small(item_id, name, READ_AT_ONCE_BYTES)
        if found is not None and found[1] is None and found[0].st_size <= READ_WHOLE_BYTES:
            found = await anyio.to_thread.run_sync(files.read_small, item_id, name)
        if found is None:
            return JSONResponse({"message": "Not Found"}, 404)
        stat, content = found
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        whole = FileResponse(files.path(item_id, name), media_type=media_type, stat_result=stat)
        if content is None or request.method == "HEAD":
            return whole  # streamed from the file, a chunk at a time
        # A file read whole is answered from memory, where streaming it would take a
        # thread hop per step (open, each chunk, close); the headers are the same.
        return Response(content, headers=dict(whole.headers))

    async def _upload(self, request: Request, item_id: str, name: str) -> Response:
        limit = self._state.settings.max_upload_bytes
        too_large = JSONResponse(
            {"message": f"The file is larger than the {limit:,} byte upload limit"}, 413
        )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return too_large
        store = self._state.store
        asset = await self._at_once(store.get_asset, item_id, name)
        if asset is None:
            return JSONResponse({"message": "Not Found"}, 404)
        # On SQLite the event loop records the upload itself once the file is in place; on
        # PostgreSQL the thread that puts the file in place records it (one hop for both).
        then = None if store.answers_at_once else partial(store.mark_uploaded, item_id)
        try:
            size = await self._state.files.receive(
                item_id, name, request.stream(), limit, then=then
            )
        except UploadTooLarge:
            return too_large
        except ClientDisconnect:
            # The client went away mid-upload: its mistake or its network, not ours;
            # nothing was kept. One 4xx line in the access log, not a traceback.
            return JSONResponse({"message": "The upload ended before the whole file arrived"}, 400)
        except NotRecorded as stored:
            # The file is in place; recording it failed (the database restarting, say):
            # try again as any database call is, so the upload is not lost.
            await self._db(store.mark_uploaded, item_id, stored.size)
            return Response(status_code=200)
        if then is None:
            await self._at_once(store.mark_uploaded, item_id, size)
        return Response(status_code=200)
