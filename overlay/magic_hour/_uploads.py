"""What to do with a `target_file_path`: pass it through or upload it, and as what type.

Deciding is plain code; `UploadStream` is the one piece that reads the file, shared by
the sync and the async client.
"""

from __future__ import annotations

import contextlib
import io
import os
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Union

import attrs
import httpx
from magic_hour_client.document_facts import UPLOAD_EXTENSIONS
from magic_hour_client.models import AssetType

from ._events import ProgressCallback, UploadProgress

__all__ = [
    "AUDIO_EXTENSIONS",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "FileInput",
    "LocalFile",
    "RemoteFile",
    "UploadStream",
    "asset_type_for",
    "classify_file",
]

# The extensions the API takes per asset type, generated from the document's prose at
# build time (magic_hour_client.document_facts): an extension the API adds reaches the
# SDK with the next `make update-spec`, never by hand. "gif" is listed for face swap only.
VIDEO_EXTENSIONS = UPLOAD_EXTENSIONS.get("video", ())
AUDIO_EXTENSIONS = UPLOAD_EXTENSIONS.get("audio", ())
IMAGE_EXTENSIONS = UPLOAD_EXTENSIONS.get("image", ())
# Reading in chunks this big keeps memory flat whatever the file's size.
CHUNK_SIZE = 256 * 1024

FileInput = Union[str, "os.PathLike[str]", IO[bytes]]
"""A local path, a binary file object with a name, an http(s) URL or an `api-assets/` path."""

_REMOTE_PREFIXES = ("http://", "https://", "api-assets/")


@attrs.frozen
class RemoteFile:
    """A file the API can already read: sent as is."""

    file_path: str


@attrs.frozen
class LocalFile:
    """A local file to upload: from `path`, or from `file` starting at offset `start`."""

    name: str
    extension: str
    asset_type: AssetType
    size: int
    path: Path | None = None
    file: IO[bytes] | None = None
    start: int = 0

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        """The file positioned at its start; a caller's file object is left open."""
        if self.file is not None:
            self.file.seek(self.start)
            yield self.file
            return
        assert self.path is not None
        with self.path.open("rb") as file:
            yield file


def supported_extensions() -> str:
    """The extensions the API takes, for error messages."""
    return (
        f"video: {', '.join(VIDEO_EXTENSIONS)}; audio: {', '.join(AUDIO_EXTENSIONS)}; "
        f"image: {', '.join(IMAGE_EXTENSIONS)}"
    )


def asset_type_for(name: str) -> tuple[str, AssetType]:
    """The upload extension and asset type of a file name; ValueError when unsupported."""
    extension = Path(name).suffix.lower().lstrip(".")
    if not extension:
        raise ValueError(
            f"cannot tell the type of {name!r}: it has no extension "
            f"(supported: {supported_extensions()})"
        )
    # webm is both video and audio; as input to face detection it is a video.
    for extensions, asset_type in (
        (VIDEO_EXTENSIONS, AssetType.VIDEO),
        (AUDIO_EXTENSIONS, AssetType.AUDIO),
        (IMAGE_EXTENSIONS, AssetType.IMAGE),
    ):
        if extension in extensions:
            return extension, asset_type
    raise ValueError(
        f"unsupported file extension {extension!r} in {name!r} "
        f"(supported: {supported_extensions()})"
    )


def classify_file(file: FileInput) -> RemoteFile | LocalFile:
    """Decide what `file` is, before any request: raises ValueError for an unsupported or
    missing extension, FileNotFoundError for a missing file, TypeError for other input."""
    if isinstance(file, str) and file.lower().startswith(_REMOTE_PREFIXES):
        return RemoteFile(file)
    if isinstance(file, str) and file.lower().startswith("file:"):
        return _local_path(path_from_file_url(file))
    if isinstance(file, str | os.PathLike):
        return _local_path(Path(file))
    if isinstance(file, io.TextIOBase):
        raise TypeError("open the file in binary mode ('rb') to upload it")
    if hasattr(file, "read"):
        return _file_object(file)
    raise TypeError(
        "target_file_path must be a path, a binary file object, an http(s) URL or an "
        f"api-assets/ path, not {type(file).__name__}"
    )


def path_from_file_url(url: str) -> Path:
    """The local path of a `file:` URL (RFC 8089: `file:///p`, `file:/p`,
    `file://localhost/p`); ValueError for one that names another host."""
    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"{url!r} names the host {parts.netloc!r}: only local files are read")
    if not parts.path:
        raise ValueError(f"{url!r} has no path")
    return Path(urllib.request.url2pathname(parts.path))


def _local_path(path: Path) -> LocalFile:
    path = path.expanduser()
    extension, asset_type = asset_type_for(path.name)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if not path.is_file():
        raise IsADirectoryError(f"not a regular file: {str(path)!r}")
    size = path.stat().st_size
    return LocalFile(path.name, extension, asset_type, size, path=path)


def _file_object(file: IO[bytes]) -> LocalFile:
    name = getattr(file, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(
            "a file object to upload needs a `name` with an extension, e.g. from open(path, 'rb')"
        )
    extension, asset_type = asset_type_for(name)
    try:
        start = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(start)
    except (OSError, ValueError) as exc:
        raise ValueError(f"a file object to upload must be seekable: {exc}") from exc
    return LocalFile(Path(name).name, extension, asset_type, end - start, file=file, start=start)


class UploadStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A request body that reads the file chunk by chunk, from the start on every
    iteration, so that a retried PUT sends the whole file again.

    The async client reads it too: a local disk read of one chunk is brief enough
    not to hold up the event loop in practice.
    """

    def __init__(self, source: LocalFile, on_progress: ProgressCallback | None = None) -> None:
        self.source = source
        self.on_progress = on_progress

    @property
    def headers(self) -> dict[str, str]:
        """The headers that describe the body."""
        return {"Content-Length": str(self.source.size)}

    def _chunks(self) -> Iterator[bytes]:
        sent = 0
        self._report(sent)
        with self.source.open() as file:
            # Stop at the size announced in Content-Length even if the file grew.
            while sent < self.source.size:
                chunk = file.read(min(CHUNK_SIZE, self.source.size - sent))
                if not chunk:
                    raise OSError(f"{self.source.name} shrank while it was being uploaded")
                sent += len(chunk)
                self._report(sent)
                yield chunk

    def _report(self, sent: int) -> None:
        if self.on_progress is not None:
            self.on_progress(UploadProgress(self.source.name, sent, self.source.size))

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks():
            yield chunk
