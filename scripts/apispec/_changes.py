"""What changed between two built documents, and what it means for callers of this SDK.

Every difference is named, each classified (see _levels.py):

- the structural rules (_schema_diff.py, after oasdiff's checks: https://www.oasdiff.com,
  "breaking changes") classify operations, parameters, bodies, responses (error statuses
  included), schemas and the extensions the upload prose states. Where oasdiff only warns
  about a removed request parameter or an optional response property, this report calls
  it breaking, because for a generated client it removes a keyword argument or an
  attribute that callers use;
- documentation (descriptions, summaries, examples, links, code samples): one line per
  operation or section saying what changed;
- any other difference no rule covers: to review, never silently dropped;
- with the upstream documents and the overlay: where upstream now defines what an overlay
  action adds or changes (to review, with both definitions when they differ), and upstream
  changes the overlay masks in the built document.

Each change also says what the local reference server must now do, where it must do
something (send a newly required field, accept a new parameter, ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._doc_diff import Location, area_of, describe, differences, doc_keyword, group
from ._levels import BREAKING, COMPATIBLE, DOCS, LEVELS, REVIEW, Change
from ._overlap import Overlap, overlaps
from ._schema_diff import SchemaDiffer

__all__ = ["ChangeReport", "Upstreams", "compare"]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass
class ChangeReport:
    changes: list[Change] = field(default_factory=list)
    upstream_changed: bool = False  # the vendored document's bytes changed

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.level == BREAKING]

    def count(self, level: str) -> int:
        return sum(c.level == level for c in self.changes)

    @property
    def documentation_only(self) -> bool:
        return bool(self.changes) and all(c.level == DOCS for c in self.changes)

    def render(self) -> str:
        if not self.changes:
            if self.upstream_changed:
                return (
                    "The upstream document changed only in its form (key order, whitespace): "
                    "no value in the operations this project serves differs.\n"
                )
            return "No changes: the upstream document is the one already vendored.\n"
        lines = ["Changes to the operations this project serves:"]
        order = {level: index for index, level in enumerate(LEVELS)}
        lines += [c.line() for c in sorted(self.changes, key=lambda c: order[c.level])]
        todo = [c.server for c in self.changes if c.server]
        if todo:
            lines.append("The local server must now:")
            lines += [f"  - {item}" for item in dict.fromkeys(todo)]
        lines.append(
            f"{self.count(BREAKING)} breaking for callers of this SDK, {self.count(REVIEW)} to "
            f"review, {self.count(COMPATIBLE)} compatible, {self.count(DOCS)} documentation."
        )
        if self.documentation_only:
            lines.append("Documentation only: the reference pages change; callers do not.")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Upstreams:
    """The vendored upstream documents before and after, and the overlay between."""

    old: Mapping[str, Any]
    new: Mapping[str, Any]
    overlay: Mapping[str, Any]


def compare(
    old: Mapping[str, Any], new: Mapping[str, Any], upstreams: Upstreams | None = None
) -> ChangeReport:
    """The changes from the `old` built document to the `new` one (and, given the upstream
    documents, what the overlay meets or masks there)."""
    report = ChangeReport()
    differ = SchemaDiffer(old, new, report.changes)
    old_ops, new_ops = dict(_operations(old)), dict(_operations(new))
    for key in old_ops:
        if key not in new_ops:
            report.changes.append(Change(BREAKING, key, "operation removed"))
    for key, op in new_ops.items():
        if key not in old_ops:
            report.changes.append(
                Change(COMPATIBLE, key, "operation added", f"serve {key} ({op.get('operationId')})")
            )
        else:
            differ.operation(key, old_ops[key], op)
    whole = set(old_ops) ^ set(new_ops)  # operations added or removed: said once, above
    built = [
        at
        for at in differences(old, new)
        if area_of(at)[0] not in whole and not _in_whole_response(at, old, new)
    ]
    report.changes += _documentation(built, old, new, ships=True)
    report.changes += _unclassified(built, new, {_area(c.where) for c in report.changes})
    if upstreams is not None:
        report.changes += _upstream_meets_overlay(upstreams, set(built))
    return report


def _area(where: str) -> str:
    """The operation a structural change's `where` starts with (`POST /v1/face-detection`)."""
    return " ".join(where.split(" ")[:2])


def _operations(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if isinstance(item, Mapping) and isinstance(item.get(method), Mapping):
                yield f"{method.upper()} {path}", item[method]


def _documentation(
    locations: list[Location], old: Mapping[str, Any], new: Mapping[str, Any], *, ships: bool
) -> list[Change]:
    documented = [at for at in locations if doc_keyword(at)]
    named = {**group(documented, old), **group(documented, new)}
    return [Change(DOCS, area, ", ".join(names), ships=ships) for area, names in named.items()]


def _unclassified(
    locations: list[Location], new: Mapping[str, Any], classified: set[str]
) -> list[Change]:
    """Differences outside documentation in areas no structural rule spoke of."""
    rest = [at for at in locations if not doc_keyword(at)]
    changes = []
    for area, names in group(rest, new).items():
        if area in classified or (area == "components" and classified):
            continue
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        what = f"changed where no rule of this report applies: {shown}"
        changes.append(Change(REVIEW, area, what))
    return changes


def _upstream_meets_overlay(upstreams: Upstreams, in_built: set[Location]) -> list[Change]:
    changes: list[Change] = []
    before = {(o.action, o.location): o for o in overlaps(upstreams.old, upstreams.overlay)}
    reported: list[Location] = []
    for overlap in overlaps(upstreams.new, upstreams.overlay):
        was = before.get((overlap.action, overlap.location))
        if was is not None and _same(was.upstream, overlap.upstream):
            continue
        reported.append(overlap.location)
        changes.append(_overlap_change(overlap, new=was is None))
    masked = [
        at
        for at in differences(upstreams.old, upstreams.new)
        if at not in in_built
        and not any(at[: len(r)] == r for r in reported)
        and not _in_whole_response(at, upstreams.old, upstreams.new)
    ]
    masks = "the overlay replaces or removes it in the built document"
    for change in _documentation(masked, upstreams.old, upstreams.new, ships=False):
        what = f"{change.what} (upstream only: {masks})"
        changes.append(Change(DOCS, change.where, what, ships=False))
    for area, names in group([at for at in masked if not doc_keyword(at)], upstreams.new).items():
        what = f"upstream changed {', '.join(names)} ({masks})"
        changes.append(Change(REVIEW, area, what, ships=False))
    return changes


def _in_whole_response(at: Location, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Inside a response that one of the two documents lacks (reported as added or
    removed; its body is the error model in the built document)."""
    if len(at) < 5 or at[0] != "paths" or at[3] != "responses":
        return False
    present = []
    for document in (old, new):
        operation = document.get("paths", {}).get(at[1], {}).get(at[2], {})
        present.append(at[4] in operation.get("responses", {}))
    return present[0] != present[1]


def _overlap_change(overlap: Overlap, *, new: bool) -> Change:
    area, rest = area_of(overlap.location)
    at = describe(rest)
    if doc_keyword(overlap.location) and not new:
        what = (
            f"{at}: upstream changed what overlay action {overlap.action} replaces "
            "(upstream only: the built document keeps the overlay's)"
        )
        return Change(DOCS, area, what, ships=False)
    verb = "now defines" if new else "changed its definition of"
    what = f"{at}: upstream {verb} what overlay action {overlap.action} sets"
    if overlap.same:
        what += " (the same definition)"
    else:
        what += f"; upstream: {_short(overlap.upstream)}; overlay: {_short(overlap.overlay)}"
    return Change(REVIEW, area, what, ships=False)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
