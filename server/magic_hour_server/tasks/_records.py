"""The records the task store reads and writes (tasks, faces, uploads), their ids, and
how they map to and from rows of `_statements`."""

from __future__ import annotations

import base64
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def worker_name() -> str:
    """This process's name as a lease owner: host, process id and a random part."""
    import os

    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def new_id() -> str:
    """A random, URL- and file-name-safe id (24 lower-case letters and digits)."""
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


@dataclass(frozen=True)
class Face:
    frame: int
    index: int
    box: tuple[int, int, int, int]
    score: float
    frame_time: float | None

    @property
    def name(self) -> str:
        return f"{self.frame}-{self.index}.png"


@dataclass(frozen=True)
class Task:
    id: str
    owner: str
    status: str
    target: str
    threshold: float
    progress: float
    error_message: str | None
    created_at: float
    faces: list[Face] = field(default_factory=list)


@dataclass(frozen=True)
class Asset:
    id: str
    owner: str
    name: str
    uploaded: bool


def task_from(row: Sequence[Any], found: Sequence[Sequence[Any]]) -> Task:
    """A task from its row (`sql.TASK_COLUMNS`) and its faces' rows (`sql.FACE_COLUMNS`)."""
    task_faces = [Face(f[0], f[1], (f[2], f[3], f[4], f[5]), f[6], f[7]) for f in found]
    return Task(*row, faces=task_faces)  # type: ignore[misc]


def face_row(task_id: str, face: Face) -> dict[str, Any]:
    return {
        "task_id": task_id, "frame": face.frame, "idx": face.index,
        "x": face.box[0], "y": face.box[1], "width": face.box[2], "height": face.box[3],
        "score": face.score, "frame_time": face.frame_time,
    }  # fmt: skip
