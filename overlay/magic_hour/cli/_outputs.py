"""Where `magic-hour detect` writes: one folder per input, replaced whole or not at all.

Each input's crops, preview and manifest are written into a hidden staging folder
next to the final one and moved into place when everything is there, so an
interrupted or failed run never leaves a half-filled result folder. A folder is only
ever replaced when it holds our manifest: `--out ~` never wipes someone's `~/photos`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

MANIFEST = "magic-hour.json"
_UNSAFE = re.compile(r"[^\w.\-]+")


@dataclass(frozen=True)
class Planned:
    """An input and the folder its results go to."""

    source: Path | str  # a local file, or an http(s) URL / api-assets/ path
    name: str
    directory: Path


def folder_name(source: Path | str) -> str:
    """The input's stem, made safe as a folder name (`my photo.jpg` -> `my_photo`); for a
    URL, the stem of its path's last part."""
    name = source.name if isinstance(source, Path) else urlsplit(source).path.rsplit("/", 1)[-1]
    stem = _UNSAFE.sub("_", PurePosixPath(name).stem).strip("._") or "input"
    return stem[:100]


def is_ours(directory: Path) -> bool:
    """True for a folder an earlier run wrote (it has our manifest)."""
    return (directory / MANIFEST).is_file()


def plan(sources: Sequence[Path | str], out: Path) -> list[Planned]:
    """Give every input its own folder under `out`: the stem, then `-2`, `-3`... for
    duplicates (compared without case, for case-insensitive file systems) and for
    existing folders that an earlier run did not write."""
    taken: set[str] = set()
    planned = []
    for source in sources:
        base = folder_name(source)
        name, n = base, 1
        while name.lower() in taken or (
            (out / name).exists() and not ((out / name).is_dir() and is_ours(out / name))
        ):
            n += 1
            name = f"{base}-{n}"
        taken.add(name.lower())
        planned.append(Planned(source, name, out / name))
    return planned


def staging_for(final: Path) -> Path:
    """A fresh hidden folder beside `final`, on the same file system (rename is atomic),
    named with this process's id so that a later run can tell it was abandoned."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.with_name(f".{final.name}.partial-{os.getpid()}-{secrets.token_hex(4)}")
    staging.mkdir()
    return staging


_LEFTOVER = re.compile(r"^\..+\.(?:partial|old)-(?:(\d+)-)?[0-9a-f]{8}$")


def sweep_abandoned(out: Path) -> list[Path]:
    """Remove the staging folders that runs killed outright (SIGKILL, a power cut) left
    in `out`: those of processes no longer alive. A running one's are left alone."""
    removed: list[Path] = []
    try:
        entries = list(out.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _LEFTOVER.match(entry.name)
        if match is None or not entry.is_dir() or (match.group(1) and _alive(int(match.group(1)))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def write_manifest(staging: Path, document: dict[str, Any]) -> None:
    (staging / MANIFEST).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def publish(staging: Path, final: Path) -> None:
    """Move a complete staging folder to `final`, replacing an earlier run's folder."""
    if final.exists():
        if not (final.is_dir() and is_ours(final)):
            raise FileExistsError(f"{final} exists and was not written by magic-hour")
        retired = final.with_name(f".{final.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        os.replace(final, retired)
        os.replace(staging, final)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, final)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
