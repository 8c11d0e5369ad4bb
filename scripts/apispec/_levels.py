"""One line of the change report, and the four ways a change is classified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["BREAKING", "COMPATIBLE", "DOCS", "LEVELS", "REVIEW", "Change", "Direction", "Level"]

Level = Literal["breaking", "review", "compatible", "documentation"]
BREAKING: Level = "breaking"
"""Code written against the old generated client can stop working against the new one."""
REVIEW: Level = "review"
"""It works, but deserves a look (a new response value, an upstream change the overlay
masks, a difference no rule classifies)."""
COMPATIBLE: Level = "compatible"
"""Callers keep working and may use something new."""
DOCS: Level = "documentation"
"""Descriptions, summaries, examples, links and code samples: the reference pages change."""
LEVELS: tuple[Level, ...] = (BREAKING, REVIEW, COMPATIBLE, DOCS)
_LABELS = {
    BREAKING: "BREAKING  ",
    REVIEW: "review    ",
    COMPATIBLE: "compatible",
    DOCS: "docs      ",
}
Direction = Literal["request", "response"]


@dataclass(frozen=True)
class Change:
    level: Level
    where: str
    what: str
    server: str | None = None  # what the local server must now do, if anything
    ships: bool = True  # False: upstream changed where the overlay masks it; nothing ships

    def line(self) -> str:
        return f"  {_LABELS[self.level]}  {self.where}: {self.what}"
