"""What changed between two built documents, and whether it breaks callers of this SDK.

The rules follow oasdiff's checks (https://www.oasdiff.com, "breaking changes"): a change
is *breaking* when code written against the old generated client can stop working
against the new one (a removed operation, parameter or field; a new required input; a
narrower type; a response field that may now be missing or null), a *warning* when it
works but deserves a look (a new enum value in a response: this SDK parses it, code that
compares against known values may not expect it), and *info* otherwise. Where oasdiff
only warns about a removed request parameter or an optional response property, this
module calls it breaking, because for a generated client it removes a keyword argument
or an attribute that callers use.

Each change also says what the local reference server must now do, where it must do
something (send a newly required field, accept a new parameter, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._examples import resolve

__all__ = ["BREAKING", "INFO", "WARNING", "Change", "ChangeReport", "compare"]

Level = Literal["breaking", "warning", "info"]
BREAKING: Level = "breaking"
WARNING: Level = "warning"
INFO: Level = "info"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
Direction = Literal["request", "response"]


@dataclass(frozen=True)
class Change:
    level: Level
    where: str
    what: str
    server: str | None = None  # what the local server must now do, if anything

    def line(self) -> str:
        label = {BREAKING: "BREAKING", WARNING: "warning ", INFO: "info    "}[self.level]
        return f"  {label}  {self.where}: {self.what}"


@dataclass
class ChangeReport:
    changes: list[Change] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.level == BREAKING]

    def render(self) -> str:
        if not self.changes:
            return "No changes to the operations this project serves.\n"
        lines = ["Changes to the operations this project serves (rules after oasdiff):"]
        order = {BREAKING: 0, WARNING: 1, INFO: 2}
        lines += [c.line() for c in sorted(self.changes, key=lambda c: order[c.level])]
        todo = [c.server for c in self.changes if c.server]
        if todo:
            lines.append("The local server must now:")
            lines += [f"  - {item}" for item in dict.fromkeys(todo)]
        counts = {level: sum(c.level == level for c in self.changes) for level in order}
        lines.append(
            f"{counts[BREAKING]} breaking for callers of this SDK, {counts[WARNING]} to review, "
            f"{counts[INFO]} compatible."
        )
        return "\n".join(lines) + "\n"


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> ChangeReport:
    """The changes from the `old` built document to the `new` one."""
    report = ChangeReport()
    differ = _Differ(old, new, report.changes)
    old_ops, new_ops = dict(_operations(old)), dict(_operations(new))
    for key in old_ops:
        if key not in new_ops:
            report.changes.append(Change(BREAKING, key, "operation removed"))
    for key, op in new_ops.items():
        if key not in old_ops:
            report.changes.append(
                Change(INFO, key, "operation added", f"serve {key} ({op.get('operationId')})")
            )
        else:
            differ.operation(key, old_ops[key], op)
    return report


def _operations(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if isinstance(item, Mapping) and isinstance(item.get(method), Mapping):
                yield f"{method.upper()} {path}", item[method]


class _Differ:
    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any], out: list[Change]) -> None:
        self.old_doc, self.new_doc, self.out = old, new, out

    def add(self, level: Level, where: str, what: str, server: str | None = None) -> None:
        self.out.append(Change(level, where, what, server))

    @staticmethod
    def resolve(document: Mapping[str, Any], node: Any) -> Any:
        return resolve(document, node)

    # --- operations ----------------------------------------------------------------------

    def operation(self, key: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.parameters(key, old.get("parameters", []), new.get("parameters", []))
        self.request_body(key, old.get("requestBody"), new.get("requestBody"))
        old_responses, new_responses = old.get("responses", {}), new.get("responses", {})
        for status in old_responses:
            if status not in new_responses and str(status).startswith("2"):
                self.add(BREAKING, key, f"success response {status} removed")
        for status, response in new_responses.items():
            if status not in old_responses:
                server = f"answer {status} on {key} where it applies"
                self.add(INFO, key, f"response {status} added", server)
                continue
            self.response(f"{key} → {status}", old_responses[status], response)

    def parameters(self, key: str, old: list[Any], new: list[Any]) -> None:
        def index(document: Mapping[str, Any], params: list[Any]) -> dict[str, Any]:
            resolved = (self.resolve(document, p) for p in params)
            return {f"{p.get('in')} parameter {p.get('name')!r}": p for p in resolved if p}

        old_params, new_params = index(self.old_doc, old), index(self.new_doc, new)
        for name in old_params:
            if name not in new_params:
                self.add(BREAKING, key, f"{name} removed (callers passing it break)")
        for name, param in new_params.items():
            where = f"{key} {name}"
            if name not in old_params:
                if param.get("required"):
                    server = f"read the required {name} of {key}"
                    self.add(BREAKING, key, f"required {name} added", server)
                else:
                    self.add(INFO, key, f"optional {name} added", f"honour {name} of {key}")
                continue
            before = old_params[name]
            if param.get("required") and not before.get("required"):
                self.add(BREAKING, where, "became required")
            elif before.get("required") and not param.get("required"):
                self.add(INFO, where, "became optional", f"accept {key} without {name}")
            self.schema(where, before.get("schema", {}), param.get("schema", {}), "request")

    def request_body(self, key: str, old: Any, new: Any) -> None:
        old_body, new_body = self.resolve(self.old_doc, old), self.resolve(self.new_doc, new)
        if not new_body:
            if old_body:
                self.add(BREAKING, key, "request body removed")
            return
        if not old_body:
            level = BREAKING if new_body.get("required") else INFO
            self.add(level, key, "request body added", f"read the request body of {key}")
            return
        if new_body.get("required") and not old_body.get("required"):
            self.add(BREAKING, key, "request body became required")
        for media, content in new_body.get("content", {}).items():
            before = old_body.get("content", {}).get(media)
            if before is None:
                self.add(INFO, key, f"request body accepts {media}", f"accept {media} on {key}")
                continue
            self.schema(f"{key} body", before.get("schema", {}), content.get("schema", {}),
                        "request", top=True)  # fmt: skip
        for media in old_body.get("content", {}):
            if media not in new_body.get("content", {}):
                self.add(BREAKING, key, f"request body no longer accepts {media}")

    def response(self, where: str, old: Any, new: Any) -> None:
        old, new = self.resolve(self.old_doc, old), self.resolve(self.new_doc, new)
        for name in old.get("headers", {}):
            if name not in new.get("headers", {}):
                self.add(WARNING, where, f"header {name} removed")
        for name in new.get("headers", {}):
            if name not in old.get("headers", {}):
                self.add(INFO, where, f"header {name} added", f"send {name} on {where}")
        for media, content in new.get("content", {}).items():
            before = old.get("content", {}).get(media)
            if before is not None:
                self.schema(where, before.get("schema", {}), content.get("schema", {}),
                            "response", top=True)  # fmt: skip
        for media in old.get("content", {}):
            if media not in new.get("content", {}):
                self.add(BREAKING, where, f"no longer answers {media}")

    # --- schemas -------------------------------------------------------------------------

    def schema(
        self,
        where: str,
        old: Any,
        new: Any,
        direction: Direction,
        seen: frozenset[int] = frozenset(),
        top: bool = False,
    ) -> None:
        old, new = self.resolve(self.old_doc, old), self.resolve(self.new_doc, new)
        if id(new) in seen:
            return
        seen = seen | {id(new)}
        if top and new.get("title"):
            where = f"{where} {new['title']}"
        request = direction == "request"
        if old.get("type") != new.get("type") and old.get("type") and new.get("type"):
            self.add(BREAKING, where, f"type changed from {old['type']} to {new['type']}")
            return
        if old.get("format") != new.get("format"):
            self.add(
                WARNING, where, f"format changed from {old.get('format')} to {new.get('format')}"
            )
        self.nullable(where, bool(old.get("nullable")), bool(new.get("nullable")), request)
        self.enum(where, old.get("enum"), new.get("enum"), request)
        if request:
            self.constraints(where, old, new)
            if "default" in old and old.get("default") != new.get("default"):
                self.add(WARNING, where, f"default changed from {old['default']!r} "
                         f"to {new.get('default')!r}")  # fmt: skip
        self.properties(where, old, new, direction, seen)
        if "items" in old or "items" in new:
            self.schema(f"{where}[]", old.get("items", {}), new.get("items", {}), direction, seen)

    def nullable(self, where: str, before: bool, after: bool, request: bool) -> None:
        if before == after:
            return
        if request:
            level = INFO if after else BREAKING
            self.add(level, where, "now accepts null" if after else "no longer accepts null")
        elif after:
            self.add(BREAKING, where, "may now be null (callers reading it must handle None)")
        else:
            self.add(INFO, where, "is no longer null")

    def enum(self, where: str, before: Any, after: Any, request: bool) -> None:
        if not isinstance(before, list) or not isinstance(after, list):
            if isinstance(after, list) and before is None:
                level = BREAKING if request else INFO
                self.add(level, where, f"restricted to {after}")
            return
        for value in after:
            if value in before:
                continue
            if request:
                self.add(INFO, where, f"accepts the new value {value!r}",
                         f"accept {value!r} for {where}")  # fmt: skip
            else:
                self.add(
                    WARNING,
                    where,
                    f"new value {value!r} (this SDK parses it and keeps its text; code that "
                    "compares against the values it knows must expect it)",
                    f"report {value!r} for {where} where it applies",
                )
        for value in before:
            if value not in after:
                level = BREAKING if request else INFO
                self.add(level, where, f"value {value!r} removed")

    def constraints(self, where: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        tighter: dict[str, Callable[[Any, Any], bool]] = {
            "minimum": lambda a, b: b > a,
            "exclusiveMinimum": lambda a, b: b > a,
            "minLength": lambda a, b: b > a,
            "minItems": lambda a, b: b > a,
            "maximum": lambda a, b: b < a,
            "exclusiveMaximum": lambda a, b: b < a,
            "maxLength": lambda a, b: b < a,
            "maxItems": lambda a, b: b < a,
        }
        for name, is_tighter in tighter.items():
            before, after = old.get(name), new.get(name)
            if before == after or isinstance(after, bool) or isinstance(before, bool):
                continue
            if after is not None and (before is None or is_tighter(before, after)):
                self.add(BREAKING, where, f"{name} tightened from {before} to {after}")
            else:
                self.add(INFO, where, f"{name} relaxed from {before} to {after}")
        for name in ("pattern", "multipleOf"):
            if old.get(name) != new.get(name):
                level = BREAKING if new.get(name) is not None else INFO
                self.add(level, where, f"{name} changed from {old.get(name)!r} "
                         f"to {new.get(name)!r}")  # fmt: skip

    def properties(
        self,
        where: str,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        direction: Direction,
        seen: frozenset[int],
    ) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        request = direction == "request"
        for name in old_props:
            if name not in new_props:
                why = "callers passing it break" if request else "callers reading it break"
                self.add(BREAKING, f"{where}.{name}", f"property removed ({why})")
        for name, schema in new_props.items():
            at = f"{where}.{name}"
            if name not in old_props:
                required = name in new_required
                if request:
                    level = BREAKING if required else INFO
                    kind = "required" if required else "optional"
                    self.add(level, at, f"{kind} property added", f"accept and honour {at}")
                elif required:
                    nullable = self.resolve(self.new_doc, schema).get("nullable")
                    self.add(INFO, at, "required property added" + (" (nullable)" * bool(nullable)),
                             f"send {at} in every response" + (" (null where it does not apply)"
                                                               * bool(nullable)))  # fmt: skip
                else:
                    self.add(INFO, at, "optional property added")
                continue
            if name in new_required and name not in old_required:
                if request:
                    self.add(BREAKING, at, "became required")
                else:
                    self.add(INFO, at, "became required", f"always send {at}")
            elif name in old_required and name not in new_required:
                if request:
                    self.add(INFO, at, "became optional", f"accept requests without {at}")
                else:
                    self.add(BREAKING, at, "became optional (callers reading it may get Unset)")
            self.schema(at, old_props[name], schema, direction, seen)
