"""The layout's rules (docs/architecture.md), read from the source: no import circle in
the SDK or the server, no arrow from a lower part of the server up into its HTTP API, the
SDK's own modules free of the command line and the server, at most 20 modules on the
SDK's top floor, and the SDK's libraries used through their public names only. Every
import counts: at module level, inside functions, and under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"magic_hour": ROOT / "overlay" / "magic_hour",
            "magic_hour_server": ROOT / "server" / "magic_hour_server"}  # fmt: skip


def module_name(path: Path, package: str, base: Path) -> str:
    parts = [package, *path.relative_to(base).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package, base in PACKAGES.items():
        for path in base.rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path, package, base)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                stem = f"{base}.{node.module}" if node.module else base
            else:
                stem = node.module or ""
            # `from package import submodule` imports the submodule, not the package's
            # other contents; anything else imports from the module `stem` itself.
            subs = [f"{stem}.{alias.name}" for alias in node.names]
            targets = [s for s in subs if s in known] or [stem]
        else:
            continue
        for target in targets:
            # The deepest project module the name points into.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    names = set(known)
    return {name: imports(name, path, names) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle (one path each), by depth-first search."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt in PACKAGES:
                continue  # a top-level package re-exports its public API
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_no_import_circle() -> None:
    assert cycles(graph()) == []


def test_nothing_below_the_http_api_imports_it() -> None:
    lower = ("tasks", "storage", "detection", "video")
    wrong = [
        (name, target)
        for name, targets in graph().items()
        for target in targets
        if name.split(".")[1:2] and name.split(".")[1] in lower
        and target.startswith("magic_hour_server.api")
    ]  # fmt: skip
    assert wrong == []


def test_the_sdk_imports_neither_the_command_line_nor_the_server() -> None:
    sdk = {
        name: targets
        for name, targets in graph().items()
        if name.startswith("magic_hour")
        and not name.startswith(("magic_hour.cli", "magic_hour.pytest_plugin", "magic_hour_"))
    }
    wrong = [
        (name, target)
        for name, targets in sdk.items()
        for target in targets
        if target.startswith(("magic_hour.cli", "magic_hour_server"))
    ]
    assert sdk and wrong == []


def test_the_sdk_s_top_floor_has_at_most_20_modules_and_a_cli_room() -> None:
    top = sorted(p.name for p in PACKAGES["magic_hour"].glob("*.py"))
    assert len(top) <= 20, top
    assert (PACKAGES["magic_hour"] / "cli" / "__init__.py").is_file()


def test_the_rules_catch_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def private_doors(source: str) -> list[str]:
    """What in `source` reaches past a library's public names: a `_name` attribute of
    anything but `self`, `cls` or the generated client's operation modules (this project's
    own code, whose `_get_kwargs` builds a request without sending it), an assignment to
    `__class__`, or an entry set in `sys.modules`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            name, owner = node.attr, node.value
            if name == "__class__" and isinstance(node.ctx, ast.Store):
                found.append(f"line {node.lineno}: {ast.unparse(node)} assigned")
            elif name.startswith("_") and not name.startswith("__"):
                if isinstance(owner, ast.Name) and (
                    owner.id in ("self", "cls") or owner.id.endswith("_operation")
                ):
                    continue
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Store | ast.Del)
            and ast.unparse(node.value) == "sys.modules"
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node)} set")
    return found


def test_the_sdk_uses_its_libraries_through_their_public_doors() -> None:
    wrong = {
        str(path.relative_to(ROOT)): doors
        for path in sorted(PACKAGES["magic_hour"].rglob("*.py"))
        if (doors := private_doors(path.read_text(encoding="utf-8")))
    }
    assert wrong == {}


def test_the_rules_catch_a_private_door() -> None:
    source = (
        "import sys\nsys.modules['sniffio'] = None\npool.__class__ = Mine\n"
        "client._transport._pool\nself._own\n"
    )
    assert private_doors(source) == [
        "line 2: sys.modules['sniffio'] set",
        "line 3: pool.__class__ assigned",
        "line 4: client._transport._pool",
        "line 4: client._transport",
    ]
