"""The structural rules of the change report: operations, parameters, bodies, responses
and schemas, compared between two built documents (rules after oasdiff's checks; see
_changes.py for the levels)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._examples import resolve
from ._facts import EXTENSIONS_KEY
from ._levels import BREAKING, COMPATIBLE, REVIEW, Change, Direction, Level

__all__ = ["SchemaDiffer"]


class SchemaDiffer:
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
            if status in new_responses:
                continue
            if str(status).startswith("2"):
                self.add(BREAKING, key, f"success response {status} removed")
            else:
                self.add(REVIEW, key, f"response {status} removed (the SDK still raises its "
                         "error for that status; the server may stop answering it)")  # fmt: skip
        for status, response in new_responses.items():
            if status not in old_responses:
                server = f"answer {status} on {key} where it applies"
                body = self._error_body(response)
                self.add(COMPATIBLE, key, f"response {status} added{body}", server)
                continue
            self.response(f"{key} → {status}", old_responses[status], response)

    def _error_body(self, response: Any) -> str:
        schema = self.resolve(self.new_doc, response).get("content", {})
        ref = schema.get("application/json", {}).get("schema", {}).get("$ref", "")
        return f" (body: {ref.rsplit('/', 1)[-1]})" if ref else ""

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
                    self.add(COMPATIBLE, key, f"optional {name} added", f"honour {name} of {key}")
                continue
            before = old_params[name]
            if param.get("required") and not before.get("required"):
                self.add(BREAKING, where, "became required")
            elif before.get("required") and not param.get("required"):
                self.add(COMPATIBLE, where, "became optional", f"accept {key} without {name}")
            self.schema(where, before.get("schema", {}), param.get("schema", {}), "request")

    def request_body(self, key: str, old: Any, new: Any) -> None:
        old_body, new_body = self.resolve(self.old_doc, old), self.resolve(self.new_doc, new)
        if not new_body:
            if old_body:
                self.add(BREAKING, key, "request body removed")
            return
        if not old_body:
            level = BREAKING if new_body.get("required") else COMPATIBLE
            self.add(level, key, "request body added", f"read the request body of {key}")
            return
        if new_body.get("required") and not old_body.get("required"):
            self.add(BREAKING, key, "request body became required")
        for media, content in new_body.get("content", {}).items():
            before = old_body.get("content", {}).get(media)
            if before is None:
                server = f"accept {media} on {key}"
                self.add(COMPATIBLE, key, f"request body accepts {media}", server)
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
                self.add(REVIEW, where, f"header {name} removed")
        for name in new.get("headers", {}):
            if name not in old.get("headers", {}):
                self.add(COMPATIBLE, where, f"header {name} added", f"send {name} on {where}")
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
                REVIEW, where, f"format changed from {old.get('format')} to {new.get('format')}"
            )
        self.nullable(where, bool(old.get("nullable")), bool(new.get("nullable")), request)
        self.enum(where, old.get("enum"), new.get("enum"), request)
        if request:
            self.constraints(where, old, new)
            if "default" in old and old.get("default") != new.get("default"):
                self.add(REVIEW, where, f"default changed from {old['default']!r} "
                         f"to {new.get('default')!r}")  # fmt: skip
        self.extensions(where, old.get(EXTENSIONS_KEY), new.get(EXTENSIONS_KEY))
        self.properties(where, old, new, direction, seen)
        if "items" in old or "items" in new:
            self.schema(f"{where}[]", old.get("items", {}), new.get("items", {}), direction, seen)

    def extensions(self, where: str, old: Any, new: Any) -> None:
        """The upload extensions the prose states (`x-accepted-extensions`), by type."""
        if not isinstance(old, Mapping) or not isinstance(new, Mapping):
            if isinstance(new, Mapping) != isinstance(old, Mapping):
                self.add(REVIEW, where, "accepted extensions " + ("now stated" if new else
                         "no longer stated: the SDK would refuse every upload"))  # fmt: skip
            return
        for kind in dict.fromkeys([*old, *new]):
            before, after = list(old.get(kind, [])), list(new.get(kind, []))
            added = [e for e in after if e not in before]
            removed = [e for e in before if e not in after]
            if added:
                names = ", ".join(added)
                self.add(COMPATIBLE, where, f"accepts the new {kind} extension(s) {names}",
                         f"read {kind} inputs with extension(s) {names}")  # fmt: skip
            if removed:
                names = ", ".join(removed)
                self.add(BREAKING, where, f"no longer accepts the {kind} extension(s) {names} "
                         "(the SDK refuses such files before any request)")  # fmt: skip

    def nullable(self, where: str, before: bool, after: bool, request: bool) -> None:
        if before == after:
            return
        if request:
            level = COMPATIBLE if after else BREAKING
            self.add(level, where, "now accepts null" if after else "no longer accepts null")
        elif after:
            self.add(BREAKING, where, "may now be null (callers reading it must handle None)")
        else:
            self.add(COMPATIBLE, where, "is no longer null")

    def enum(self, where: str, before: Any, after: Any, request: bool) -> None:
        if not isinstance(before, list) or not isinstance(after, list):
            if isinstance(after, list) and before is None:
                level = BREAKING if request else COMPATIBLE
                self.add(level, where, f"restricted to {after}")
            return
        for value in after:
            if value in before:
                continue
            if request:
                self.add(COMPATIBLE, where, f"accepts the new value {value!r}",
                         f"accept {value!r} for {where}")  # fmt: skip
            else:
                self.add(
                    REVIEW,
                    where,
                    f"new value {value!r} (this SDK parses it and keeps its text; code that "
                    "compares against the values it knows must expect it)",
                    f"report {value!r} for {where} where it applies",
                )
        for value in before:
            if value not in after:
                level = BREAKING if request else COMPATIBLE
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
                self.add(COMPATIBLE, where, f"{name} relaxed from {before} to {after}")
        for name in ("pattern", "multipleOf"):
            if old.get(name) != new.get(name):
                level = BREAKING if new.get(name) is not None else COMPATIBLE
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
                    level = BREAKING if required else COMPATIBLE
                    kind = "required" if required else "optional"
                    self.add(level, at, f"{kind} property added", f"accept and honour {at}")
                elif required:
                    nullable = self.resolve(self.new_doc, schema).get("nullable")
                    self.add(COMPATIBLE, at,
                             "required property added" + (" (nullable)" * bool(nullable)),
                             f"send {at} in every response" + (" (null where it does not apply)"
                                                               * bool(nullable)))  # fmt: skip
                else:
                    self.add(COMPATIBLE, at, "optional property added")
                continue
            if name in new_required and name not in old_required:
                if request:
                    self.add(BREAKING, at, "became required")
                else:
                    self.add(COMPATIBLE, at, "became required", f"always send {at}")
            elif name in old_required and name not in new_required:
                if request:
                    self.add(COMPATIBLE, at, "became optional", f"accept requests without {at}")
                else:
                    self.add(BREAKING, at, "became optional (callers reading it may get Unset)")
            self.schema(at, old_props[name], schema, direction, seen)
