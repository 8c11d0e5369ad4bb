"""What `magic-hour detect` found, as a table for a person or one JSON document."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["image", "video"]


@dataclass
class FaceRecord:
    """One face as written to disk, with what the API said about it."""

    file: str
    url: str
    path: str
    box: dict[str, int] | None = None
    score: float | None = None
    frame: int | None = None
    frame_time: float | None = None


@dataclass
class InputResult:
    """The outcome for one input: its faces and files, or why it failed."""

    input: str
    name: str
    kind: Kind | None = None
    ok: bool = False
    seconds: float = 0.0
    task_id: str | None = None
    output_dir: str | None = None
    faces: list[FaceRecord] = field(default_factory=list)
    preview: str | None = None
    note: str | None = None  # something worth knowing on success, e.g. no preview
    error: str | None = None  # why it failed and what to do
    error_code: str | None = None  # a stable code for scripts (see _messages.error_code)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["status"] = "ok" if self.ok else "failed"
        del data["ok"]
        return data


def render_json(results: Sequence[InputResult], *, server: str, base_url: str) -> str:
    """One JSON document for the whole run: where it ran, and every input's outcome."""
    document = {
        "server": server,
        "base_url": base_url,
        "inputs": len(results),
        "failed": sum(not r.ok for r in results),
        "results": [r.to_json() for r in results],
    }
    return json.dumps(document, indent=2)


def _cell(text: str, width: int) -> str:
    """Cut from the left: the end of a path (the file's name) is what tells files apart."""
    return text if len(text) <= width else "…" + text[len(text) - max(1, width - 1) :]


def render_table(results: Sequence[InputResult], *, width: int = 100) -> str:
    """A plain-text table: file, faces, time, and where the results went (or why not).

    Failed inputs show `failed` in the faces column, and their reasons follow the table
    in full, one per line, so a long reason is never cut.
    """
    headers = ("file", "faces", "time", "output")
    rows: list[tuple[str, str, str, str]] = []
    for result in results:
        faces = str(len(result.faces)) if result.ok else "failed"
        where = (result.preview or result.output_dir or "") if result.ok else "see below"
        rows.append((result.input, faces, f"{result.seconds:.1f}s", where))
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    fixed = widths[1] + widths[2] + 3 * 2
    spare = max(20, width - fixed)
    # The file and output columns share what is left, the file name first.
    widths[0] = min(widths[0], max(12, spare // 2))
    widths[3] = min(widths[3], max(8, spare - widths[0]))

    def line(cells: Sequence[str]) -> str:
        file, faces, time, where = cells
        return "  ".join(
            (
                _cell(file, widths[0]).ljust(widths[0]),
                faces.rjust(widths[1]),
                time.rjust(widths[2]),
                _cell(where, widths[3]),
            )
        ).rstrip()

    lines = [line(headers)] + [line(row) for row in rows]
    notes = [f"{r.input}: {r.note}" for r in results if r.ok and r.note]
    failures = [f"{r.input}: {r.error}" for r in results if not r.ok]
    if notes:
        lines += ["", *notes]
    if failures:
        lines += ["", "failed:", *(f"  {failure}" for failure in failures)]
    return "\n".join(lines)


def summary_line(results: Sequence[InputResult]) -> str:
    """`3 inputs, 7 faces, 1 failed` -- the last line a person reads."""
    faces = sum(len(r.faces) for r in results if r.ok)
    failed = sum(not r.ok for r in results)
    noun = "input" if len(results) == 1 else "inputs"
    text = f"{len(results)} {noun}, {faces} {'face' if faces == 1 else 'faces'}"
    return text + (f", {failed} failed" if failed else "")
