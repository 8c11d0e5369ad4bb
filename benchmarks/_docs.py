"""The docs' figures, rendered from one recorded `make bench` run, never typed by hand.

`docs/bench-results.json` is the JSON of the full run the docs quote. The README shows
its targeted figures; docs/performance.md shows every figure. Each block sits between
`<!-- bench:NAME -->` and `<!-- /bench:NAME -->` and names the run it came from;
`make bench-docs` rewrites the blocks and a test holds them equal to the JSON.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

RECORDED = Path("docs/bench-results.json")
TIMES = "\N{MULTIPLICATION SIGN}"


def _value(entry: Mapping[str, Any]) -> str:
    value, unit = entry["value"], entry["unit"]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit in ("x", "") and abs(value) < 10 and value != int(value):
        text = f"{value:.3f}" if unit == "" or abs(value) < 0.1 else f"{value:.2f}"
        return text + (TIMES if unit == "x" else "")
    text = f"{value:.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.1f}"
    return text + (TIMES if unit == "x" else unit)


def _verdict(entry: Mapping[str, Any]) -> str:
    met = entry.get("met")
    return "" if met is None else ("met" if met else "**missed**")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def provenance(document: Mapping[str, Any]) -> str:
    """Which run the figures came from, in one line."""
    machine = document["machine"]
    load = machine.get("load_average") or [math.nan]
    line = (
        f"From `{document['command']}`, started {document['started']} UTC on "
        f"{machine['cpus']} CPUs (load {load[0]:.2f} at the start)"
    )
    if document.get("quick"):
        line += ", a quick smoke run"
    if document.get("errors"):
        line += f"; parts that failed: {', '.join(document['errors'])}"
    if document.get("skipped"):
        line += f"; parts skipped (no data): {', '.join(document['skipped'])}"
    return line + "."


def headline(document: Mapping[str, Any]) -> str:
    """Every figure that has a target: the README's table."""
    rows = [e for e in document["figures"] if e.get("target")]
    lines = [
        provenance(document),
        "",
        "| Part | Measure | Result | Target | |",
        "|---|---|---|---|---|",
    ]
    for entry in rows:
        lines.append(
            f"| {_cell(entry['section'])} | {_cell(entry['name'])} | {_value(entry)} "
            f"| {_cell(entry['target'])} | {_verdict(entry)} |"
        )
    return "\n".join(lines)


def every_figure(document: Mapping[str, Any]) -> str:
    """Every figure with what it came from: docs/performance.md's table."""
    lines = [
        provenance(document),
        "",
        "| Part | Measure | Result | Target | How measured |",
        "|---|---|---|---|---|",
    ]
    for entry in document["figures"]:
        target = entry.get("target") or ""
        verdict = _verdict(entry)
        lines.append(
            f"| {_cell(entry['section'])} | {_cell(entry['name'])} | {_value(entry)} "
            f"| {_cell(target)}{' ' + verdict if verdict else ''} "
            f"| {_cell(entry.get('context') or '')} |"
        )
    return "\n".join(lines)


def section(prefix: str) -> Callable[[Mapping[str, Any]], str]:
    """The figures of the sections whose title starts with `prefix` (`section:5.`)."""

    def make(document: Mapping[str, Any]) -> str:
        chosen = [e for e in document["figures"] if e["section"].startswith(prefix)]
        if not chosen:
            raise ValueError(f"the recorded run has no section starting {prefix!r}")
        return every_figure({**document, "figures": chosen})

    return make


BLOCKS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "headline": headline,
    "every-figure": every_figure,
}
_BLOCK = re.compile(r"(<!-- bench:(.+?) -->\n)(?:(.*?)\n)?(<!-- /bench:\2 -->)", re.DOTALL)


def maker(name: str) -> Callable[[Mapping[str, Any]], str]:
    if name.startswith("section:"):
        return section(name.removeprefix("section:"))
    if name not in BLOCKS:
        raise ValueError(f"unknown bench block {name!r}: {', '.join(BLOCKS)} or section:PREFIX")
    return BLOCKS[name]


def blocks_in(text: str) -> dict[str, str]:
    """The generated blocks a page holds: name -> body."""
    return {match.group(2): match.group(3) or "" for match in _BLOCK.finditer(text)}


def render(text: str, document: Mapping[str, Any]) -> str:
    """`text` with each of its blocks rewritten from `document`."""
    return _BLOCK.sub(
        lambda m: m.group(1) + maker(m.group(2))(document) + "\n" + m.group(4),
        text,
    )


def update(pages: Sequence[Path], recorded: Path = RECORDED) -> list[Path]:
    """Rewrite the pages' blocks from the recorded run; returns the pages that changed.
    A page without a block is an error: the docs must quote the run somewhere."""
    document = json.loads(recorded.read_text(encoding="utf-8"))
    changed = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if not blocks_in(text):
            raise ValueError(f"{page} has no <!-- bench:NAME --> block")
        new = render(text, document)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed


def record(source: Path, recorded: Path = RECORDED) -> None:
    """Make `source` (a `make bench` JSON) the run the docs quote. Only a full run will
    do: a quick or partial run's figures would read as the project's."""
    document = json.loads(source.read_text(encoding="utf-8"))
    if document.get("quick") or "--only" in document["command"].split():
        raise ValueError(f"{source} is not a full run ({document['command']})")
    recorded.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


PAGES = [Path("README.md"), Path("docs/performance.md"), Path("docs/scaling.md")]


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m benchmarks._docs [RUN.json]`: record a run (when given), then rewrite
    the docs' blocks from the recorded one."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args:
            record(Path(args[0]))
        changed = update(PAGES)
    except (OSError, ValueError, KeyError) as err:
        print(f"bench-docs: {err}", file=sys.stderr)
        return 2
    for page in changed:
        print(f"rewrote {page}'s figures from {RECORDED}")
    if not changed:
        print(f"{', '.join(map(str, PAGES))} already quote {RECORDED}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
