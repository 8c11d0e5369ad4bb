"""What the SDK returns for a task, as plain Python.

The generated models mark an optional field the API did not send with the generator's
`UNSET` sentinel, which prints as `<...Unset object at 0x...>` and makes `is None` checks
wrong. `Task` and `Face` are those models with every such field read as None: they are
still `FaceDetection` and `DetectedFace` (isinstance holds, `to_dict()` gives the API's
shape, omitting what was absent), and their repr shows their values.

A regenerated document can add optional fields; `tests/unit/test_results.py` fails until
each is listed here, so no new field can bring `UNSET` back into a result.

Lenient reading (`fill_missing_nullable`): a required field that may be null, and is
missing, reads as None. A newer document can make a nullable field required (the hosted
API's `error` object is one) before every server sends it; the generated `from_dict`
would fail on the missing key. Fields that cannot be null stay strict: without them the
answer is not what the document promises, and the caller gets
`APIResponseValidationError`.
"""

from __future__ import annotations

import re
from typing import Any, Self

import attrs
import magic_hour_client.models as models
from magic_hour_client.models import BoundingBox, DetectedFace, FaceDetection
from magic_hour_client.types import UNSET, Unset

__all__ = ["Face", "Task", "fill_missing_nullable", "plain_task"]


def _none_if_unset(value: Any) -> Any:
    return None if isinstance(value, Unset) else value


def _restore(instance: Any, generated: type[Any], optional: tuple[str, ...]) -> Any:
    """The generated model with the same values, `UNSET` where this one has None."""
    values = {
        field.name: getattr(instance, field.name) for field in attrs.fields(generated) if field.init
    }
    for name in optional:
        if values[name] is None:
            values[name] = UNSET
    model = generated(**values)
    model.additional_properties = dict(instance.additional_properties)
    return model


# The fields below narrow the generated `X | Unset` to `X | None` on purpose (type: ignore).
@attrs.define
class Face(DetectedFace):
    """A detected face: `path` and `url`, and (from servers that send them) its `box`,
    `score`, `frame` and `frame_time`, None when absent."""

    box: BoundingBox | None = attrs.field(default=None, converter=_none_if_unset, kw_only=True)  # type: ignore[assignment]
    score: float | None = attrs.field(default=None, converter=_none_if_unset, kw_only=True)  # type: ignore[assignment]
    frame: int | None = attrs.field(default=None, converter=_none_if_unset, kw_only=True)  # type: ignore[assignment]
    frame_time: float | None = attrs.field(default=None, converter=_none_if_unset, kw_only=True)  # type: ignore[assignment]

    OPTIONAL = ("box", "score", "frame", "frame_time")

    @classmethod
    def of(cls, face: DetectedFace) -> Self:
        if isinstance(face, cls):
            return face
        plain = cls(**{f.name: getattr(face, f.name) for f in attrs.fields(DetectedFace) if f.init})
        plain.additional_properties = dict(face.additional_properties)
        return plain

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = _restore(self, DetectedFace, self.OPTIONAL).to_dict()
        return result


def _faces(faces: Any) -> list[Face]:
    return [Face.of(face) for face in faces]


@attrs.define
class Task(FaceDetection):
    """A face-detection task: `id`, `credits_charged`, `status` and `faces`, and (from
    servers that send them) `progress` and `error_message`, None when absent."""

    faces: list[Face] = attrs.field(converter=_faces, kw_only=True)  # type: ignore[assignment]
    progress: float | None = attrs.field(default=None, converter=_none_if_unset, kw_only=True)  # type: ignore[assignment]
    error_message: str | None = attrs.field(default=None, converter=_none_if_unset, kw_only=True)  # type: ignore[assignment]

    OPTIONAL = ("progress", "error_message")

    def to_dict(self) -> dict[str, Any]:
        generated = _restore(self, FaceDetection, self.OPTIONAL)
        generated.faces = [_restore(face, DetectedFace, Face.OPTIONAL) for face in self.faces]
        result: dict[str, Any] = generated.to_dict()
        return result


def plain_task(task: FaceDetection) -> Task:
    """`task` as a `Task` (the same object when it is one already)."""
    if isinstance(task, Task):
        return task
    values = {f.name: getattr(task, f.name) for f in attrs.fields(FaceDetection) if f.init}
    plain = Task(**values)
    plain.additional_properties = dict(task.additional_properties)
    return plain


_LIST = re.compile(r"^list\[(\w+)\]")
_MODEL = re.compile(r"^(\w+)\b")


def fill_missing_nullable(model: type[Any], body: Any, depth: int = 0) -> Any:
    """`body` with None for every missing required nullable field of `model`, in nested
    models and lists of models too."""
    if not isinstance(body, dict) or not attrs.has(model) or depth > 8:
        return body
    filled = dict(body)
    for field in attrs.fields(model):
        if not field.init:
            continue
        key = field.name.rstrip("_")
        kind = str(field.type)
        if key not in filled:
            if field.default is attrs.NOTHING and "None" in kind.split(" | "):
                filled[key] = None
            continue
        inner = _LIST.match(kind)
        if inner and isinstance(filled[key], list):
            cls = getattr(models, inner.group(1), None)
            if cls is not None:
                filled[key] = [fill_missing_nullable(cls, item, depth + 1) for item in filled[key]]
            continue
        named = _MODEL.match(kind)
        cls = getattr(models, named.group(1), None) if named else None
        if cls is not None and attrs.has(cls):
            filled[key] = fill_missing_nullable(cls, filled[key], depth + 1)
    return filled
