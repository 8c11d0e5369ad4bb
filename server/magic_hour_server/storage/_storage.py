"""Files under the data directory: uploads and face crops, written atomically."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from PIL import Image

PREFIX = "api-assets"
_ID = re.compile(r"[a-z0-9]{1,64}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}(\.[a-z0-9]{1,16})?")
_API_PATH = re.compile(r"api-assets/([^/]+)/([^/]+)")

# zlib level for face crops. PNG is lossless at every level; on a 1200x1500 crop from a
# 12 MP photo, level 1 writes in 138 ms (3.3 MB) against 339 ms (2.9 MB) at Pillow's
# default 6: 2.5x faster for 15% more bytes.
PNG_LEVEL = 1
WRITE_BYTES = 1024 * 1024
"""Uploads are written in batches of at least this many bytes (the memory each one holds)."""
READ_WHOLE_BYTES = 4 * 1024 * 1024
"""Stored files up to this size are read whole (`Files.read_small`)."""
STALE_SECONDS = 3600.0
"""A file in `tmp` not written to for this long is a leftover of a write cut short."""
READ_AT_ONCE_BYTES = 256 * 1024
"""Stored files up to this size may be read by the event loop itself (`Api.storage`)."""


class UploadTooLarge(Exception):
    """The body went past the upload limit; nothing was kept."""


class NotRecorded(Exception):
    """The upload is in place but recording it failed (the cause): record it again."""

    def __init__(self, size: int) -> None:
        super().__init__(f"an upload of {size} bytes is stored but not recorded")
        self.size = size


def parse_api_path(path: str) -> tuple[str, str] | None:
    """(id, name) from `api-assets/<id>/<name>`, or None when `path` is not such a path."""
    match = _API_PATH.fullmatch(path)
    if match is None or not valid_parts(match[1], match[2]):
        return None
    return match[1], match[2]


def valid_parts(item_id: str, name: str) -> bool:
    """True for an id and a file name this server could have made (no `..`, no `/`)."""
    return _ID.fullmatch(item_id) is not None and _NAME.fullmatch(name) is not None


def api_path(item_id: str, name: str) -> str:
    return f"{PREFIX}/{item_id}/{name}"


class Files:
    """`<data dir>/files/<id>/<name>`, with partial writes kept in `<data dir>/tmp`."""

    def __init__(self, data_dir: Path, *, shared: bool = False) -> None:
        """`shared`: other processes use `data_dir` too (a cluster), and may be writing in
        `tmp` right now."""
        self.root = data_dir / "files"
        self.tmp = data_dir / "tmp"
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.remove_leftovers(STALE_SECONDS if shared else 0.0)

    def remove_leftovers(self, older_than: float = STALE_SECONDS) -> int:
        """Delete writes cut short by a crash: the files in `tmp` not written to for
        `older_than` seconds (0: all of them, for a process alone on its directory; in a
        cluster, a worker starting again must not delete what another is writing right
        now). How many went."""
        cutoff = time.time() - older_than
        removed = 0
        for leftover in self.tmp.iterdir():
            try:
                if older_than > 0 and leftover.lstat().st_mtime > cutoff:
                    continue
            except FileNotFoundError:
                continue  # finished meanwhile
            _remove(leftover)
            removed += 1
        return removed

    def path(self, item_id: str, name: str) -> Path:
        if not valid_parts(item_id, name):
            raise ValueError(f"not a storage name: {item_id}/{name}")
        return self.root / item_id / name

    def temp_path(self, suffix: str = "") -> Path:
        fd, name = tempfile.mkstemp(dir=self.tmp, suffix=suffix)
        os.close(fd)
        return Path(name)

    def save_png(self, item_id: str, name: str, image: Image.Image) -> Path:
        """Write `image` as PNG; readers see the whole file or none of it."""
        final = self.path(item_id, name)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.temp_path(".png")
        try:
            image.save(tmp, format="PNG", compress_level=PNG_LEVEL)
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return final

    def read_small(
        self, item_id: str, name: str, limit: int = READ_WHOLE_BYTES
    ) -> tuple[os.stat_result, bytes | None] | None:
        """A stored file's status and, when it is at most `limit` bytes, its bytes; None
        when there is no such file."""
        try:
            with self.path(item_id, name).open("rb") as file:
                stat = os.fstat(file.fileno())
                if not S_ISREG(stat.st_mode):
                    return None
                return stat, file.read() if stat.st_size <= limit else None
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    async def receive(
        self,
        item_id: str,
        name: str,
        chunks: AsyncIterator[bytes],
        limit: int,
        then: Callable[[int], None] | None = None,
    ) -> int:
        """Stream `chunks` to the file and return its size; past `limit` bytes raise
        UploadTooLarge, keeping nothing. `then(size)` runs once the file is in place, in
        the same thread hop (recording the upload); when it fails, `NotRecorded` is raised
        with the file kept.

        Chunks are written `WRITE_BYTES` at a time, each batch in one thread hop: a photo
        is written and put in place (and recorded, given `then`) in one hop, where each
        step took one.
        """
        final = self.path(item_id, name)
        tmp: Path | None = None  # made by the first write, in its thread
        size, buffered = 0, 0
        pending: list[bytes] = []
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge
                pending.append(chunk)
                buffered += len(chunk)
                if buffered >= WRITE_BYTES:
                    tmp = await anyio.to_thread.run_sync(self._append, tmp, pending)
                    pending, buffered = [], 0
            await anyio.to_thread.run_sync(self._finish, tmp, pending, final, size, then)
        except BaseException:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            raise
        return size

    def _append(self, tmp: Path | None, chunks: list[bytes]) -> Path:
        """Append `chunks` to `tmp` (made first when None, and removed if writing fails)."""
        made = tmp is None
        path = self.temp_path() if tmp is None else tmp
        try:
            with path.open("ab") as file:
                file.writelines(chunks)
        except BaseException:
            if made:
                path.unlink(missing_ok=True)
            raise
        return path

    def _finish(
        self,
        tmp: Path | None,
        pending: list[bytes],
        final: Path,
        size: int,
        then: Callable[[int], None] | None,
    ) -> None:
        """Write the last batch, put the file in place, run `then(size)`: one thread hop."""
        path = self._append(tmp, pending)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, final)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if then is not None:
            try:
                then(size)
            except Exception as err:
                raise NotRecorded(size) from err

    def remove(self, item_id: str) -> None:
        """Delete everything stored under `item_id`."""
        if _ID.fullmatch(item_id):
            _remove(self.root / item_id)

    def remove_face(self, item_id: str, name: str) -> None:
        self.path(item_id, name).unlink(missing_ok=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
