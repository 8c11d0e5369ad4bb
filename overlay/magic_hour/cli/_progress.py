"""Progress bars on a terminal, with nothing but the standard library.

A `ProgressBoard` keeps one row per input that is under way (upload, detection,
download) and redraws them in place on stderr. Finished inputs leave the board; their
outcome is in the report printed at the end. When the board is disabled (output piped,
`--json`) every method does nothing.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

CLEAR_LINE = "\x1b[2K"


def up(lines: int) -> str:
    """The escape that moves the cursor to the start of the line `lines` above."""
    return f"\x1b[{lines}F" if lines else "\r"


def supports_unicode(stream: TextIO) -> bool:
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    return encoding in {"utf8", "utf16", "utf32"}


def render_bar(fraction: float | None, width: int, *, unicode: bool = True) -> str:
    """`[█████░░░░░]` for a known fraction; a bouncing block when it is unknown (None)."""
    full, empty = ("█", "░") if unicode else ("#", "-")
    inner = max(1, width - 2)
    if fraction is None:
        # An indeterminate bar: a short block that moves with the clock.
        span = max(1, inner // 5)
        position = int(time.monotonic() * 8) % (2 * (inner - span) or 1)
        start = position if position <= inner - span else 2 * (inner - span) - position
        return "[" + empty * start + full * span + empty * (inner - span - start) + "]"
    filled = round(min(1.0, max(0.0, fraction)) * inner)
    return "[" + full * filled + empty * (inner - filled) + "]"


def human_bytes(count: float) -> str:
    """`1536` -> `1.5 KiB`."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def _terminal_size() -> tuple[int, int]:
    size = shutil.get_terminal_size((100, 24))
    return size.columns, size.lines


@dataclass
class Row:
    label: str
    stage: str = "waiting"
    fraction: float | None = None
    detail: str = ""


def render_row(row: Row, width: int, *, unicode: bool = True) -> str:
    """`name.jpg  detect   [████░░░░]  40%  2 faces`, fitted to `width` columns."""
    label_width = max(8, min(28, width // 3))
    label = row.label if len(row.label) <= label_width else row.label[: label_width - 1] + "…"
    percent = "    " if row.fraction is None else f"{min(1.0, max(0.0, row.fraction)):4.0%}"
    bar_width = max(10, min(30, width - label_width - 30))
    text = (
        f"{label.ljust(label_width)}  {row.stage:<8} "
        f"{render_bar(row.fraction, bar_width, unicode=unicode)} {percent}  {row.detail}"
    )
    return text[: max(1, width - 1)].rstrip()


class ProgressBoard:
    """Rows of progress bars redrawn in place; a no-op when `enabled` is false."""

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool,
        total: int = 0,
        min_interval: float = 0.08,
        terminal_size: Callable[[], tuple[int, int]] | None = None,
    ) -> None:
        self.enabled = enabled
        self._stream = stream
        self._total = total
        self._done = 0
        self._failed = 0
        self._rows: dict[str, Row] = {}
        self._drawn = 0
        self._last_draw = 0.0
        self._min_interval = min_interval
        self._unicode = supports_unicode(stream)
        self._size = terminal_size or _terminal_size
        self._lock = threading.Lock()

    def start(self, key: str, label: str) -> None:
        """Put an input on the board."""
        if self.enabled:
            with self._lock:
                self._rows[key] = Row(label)
            self._draw(force=True)

    def update(self, key: str, stage: str, fraction: float | None = None, detail: str = "") -> None:
        """Move an input's bar; redraws at most every `min_interval` seconds."""
        if not self.enabled:
            return
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                return
            changed_stage = row.stage != stage
            row.stage, row.fraction, row.detail = stage, fraction, detail
        self._draw(force=changed_stage)

    def finish(self, key: str, *, failed: bool = False) -> None:
        """Take an input off the board; it counts as done (or failed)."""
        if not self.enabled:
            return
        with self._lock:
            self._rows.pop(key, None)
            self._done += 1
            self._failed += failed
        self._draw(force=True)

    def message(self, text: str) -> None:
        """Print a line above the board (which is redrawn under it)."""
        if not self.enabled:
            self._stream.write(text + "\n")
            self._stream.flush()
            return
        with self._lock:
            if self._drawn:
                self._stream.write(up(self._drawn) + "\x1b[J")
            self._stream.write(text + "\n")
            self._drawn = 0
        self._draw(force=True)

    def close(self) -> None:
        """Erase the board, leaving the terminal as it was before the first bar."""
        if not self.enabled:
            return
        with self._lock:
            if self._drawn:
                self._stream.write(up(self._drawn) + "\x1b[J")
                self._stream.flush()
            self._drawn = 0

    def lines(self) -> list[str]:
        """What the board shows now: a header, then one row per input under way."""
        columns, height = self._size()
        header = f"{self._done}/{self._total} done" if self._total else f"{self._done} done"
        if self._failed:
            header += f", {self._failed} failed"
        rows = list(self._rows.values())
        room = max(1, height - 3)
        shown = [render_row(row, columns, unicode=self._unicode) for row in rows[:room]]
        if len(rows) > room:
            shown.append(f"… and {len(rows) - room} more under way")
        return [header, *shown]

    def _draw(self, *, force: bool) -> None:
        with self._lock:
            now = time.monotonic()
            if not force and now - self._last_draw < self._min_interval:
                return
            self._last_draw = now
            lines = self.lines()
            out = [up(self._drawn)] if self._drawn else []
            out += [CLEAR_LINE + line + "\n" for line in lines]
            if len(lines) < self._drawn:  # the board shrank: wipe what is left below
                out.append("\x1b[J")
            self._stream.write("".join(out))
            self._stream.flush()
            self._drawn = len(lines)
