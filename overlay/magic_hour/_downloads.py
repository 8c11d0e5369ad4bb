"""Where face images are saved: safe file names, free names, and atomic writes.

Naming is plain code. `DownloadFile` does the file work (a temporary file in the target
directory, renamed into place once complete) and is shared by both clients.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import httpx

from ._events import DownloadFinished, DownloadProgress, ProgressCallback

__all__ = ["DownloadFile", "candidate_names", "filename_from_url", "sanitize_filename"]

MAX_NAME_LENGTH = 200
TEMP_SUFFIX = ".part"
_UNSAFE_CHARACTERS = re.compile(r'[<>:"|?*\\/]')
# Names Windows reserves whatever their extension.
_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10)]
)


def sanitize_filename(name: str, fallback: str) -> str:
    """A plain file name made from `name`, safe to join to a directory: no separators,
    no `..`, no control characters, not empty; `fallback` when nothing usable is left."""
    # Whatever came in, keep only what follows the last separator of either kind.
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(
        "_" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in name
    )
    name = _UNSAFE_CHARACTERS.sub("_", name).strip(" .")
    if not name or set(name) <= {"_"}:
        return fallback
    if name.split(".")[0].lower() in _RESERVED:
        name = f"_{name}"
    if len(name) > MAX_NAME_LENGTH:
        _stem, dot, extension = name.rpartition(".")
        keep = extension if dot and len(extension) < 16 else ""
        name = name[: MAX_NAME_LENGTH - len(keep) - 1].rstrip(" .") + ("." + keep if keep else "")
    return name


def filename_from_url(url: str, fallback: str) -> str:
    """The sanitized last path segment of `url`. The decoded name is as hostile as the raw
    one (`%2e%2e%2fx.png` decodes to `../x.png`), so it is sanitized after decoding."""
    segment = urlsplit(url).path.rsplit("/", 1)[-1]
    return sanitize_filename(unquote(segment), fallback)


def candidate_names(name: str) -> Iterator[str]:
    """`name`, then `stem (1).ext`, `stem (2).ext`, ...: the names to try in turn."""
    yield name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    suffix = f".{extension}" if extension else ""
    number = 1
    while True:
        yield f"{stem} ({number}){suffix}"
        number += 1


def unique_names(names: list[str]) -> list[str]:
    """The names with repeats renamed `stem (1).ext` and so on, so that two faces of one
    task never compete for the same file."""
    taken: set[str] = set()
    result = []
    for name in names:
        chosen = next(c for c in candidate_names(name) if c.lower() not in taken)
        taken.add(chosen.lower())
        result.append(chosen)
    return result


def check_download_url(url: str) -> None:
    """Refuse a face URL that is not plain http(s): a hostile server must not make the
    SDK read local files or other schemes."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise ValueError(f"refusing to download a face from a non-http(s) URL: {url!r}")
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"invalid face URL {url!r}: {exc}") from exc


class DownloadFile:
    """One face image being written: to a hidden temporary file in `directory`, moved to
    a free name by `commit()`. `discard()` removes whatever is left of it."""

    def __init__(
        self, directory: Path, name: str, url: str, on_progress: ProgressCallback | None = None
    ) -> None:
        self.directory = directory
        self.name = name
        self.url = url
        self.on_progress = on_progress
        self.total: int | None = None
        self.received = 0
        self.temp_path: Path | None
        self.temp_path, self._file = _create_temporary(directory, name)

    def start(self, response: httpx.Response) -> None:
        """Begin (or begin again, after a retry) writing the body of `response`."""
        self._file.seek(0)
        self._file.truncate()
        self.received = 0
        length = response.headers.get("content-length", "")
        self.total = int(length) if length.isdigit() else None
        self._report()

    def write(self, chunk: bytes) -> None:
        """Append a chunk of the body."""
        self._file.write(chunk)
        self.received += len(chunk)
        self._report()

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(DownloadProgress(self.url, self.received, self.total))

    def commit(self) -> Path:
        """Give the complete file its name, replacing a file of that name atomically (a
        face saved again by a later call into the same folder), never a folder."""
        assert self.temp_path is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        final = self.directory / self.name
        if final.is_dir():
            raise IsADirectoryError(f"cannot save the face as {str(final)!r}: it is a folder")
        os.replace(self.temp_path, final)
        self.temp_path = None
        if self.on_progress is not None:
            self.on_progress(DownloadFinished(self.url, str(final)))
        return final

    def discard(self) -> None:
        """Close and delete the temporary file, if it is still there."""
        self._file.close()
        if self.temp_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.temp_path.unlink()
            self.temp_path = None


def _create_temporary(directory: Path, name: str) -> tuple[Path, BinaryIO]:
    """A new hidden file beside the final name, open for writing. Unlike mkstemp's 0600,
    it gets the permissions the umask gives any new file, which the saved face keeps."""
    while True:
        path = directory / f".{name[:50]}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            continue
        return path, os.fdopen(descriptor, "wb")
