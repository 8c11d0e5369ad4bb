"""The three things the Makefile asks for: generate, check, update from a new upstream.

Everything is made in a temporary directory first and put in place only at the end, so a
bad input leaves the vendored upstream, the built document, generated/ and the reference
docs exactly as they were.
"""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ._build import (
    BUILT,
    ROOT,
    UPSTREAM,
    UPSTREAM_SOURCE,
    build,
    load_overlay,
    render_built,
    select_operations,
    served_operations,
)
from ._changes import ChangeReport, Upstreams, compare
from ._documents import dump_json, load_openapi, parse_openapi, read_source, sha256
from ._errors import SpecError
from ._facts import accepted_extensions, render_facts_module
from ._reference import REFERENCE_DIR, render_pages
from ._release import Release, plan_release

__all__ = ["Outputs", "check", "generate", "make_outputs", "update"]

GENERATED = ROOT / "generated" / "magic_hour_client"
GENERATE_SCRIPT = ROOT / "scripts" / "generate"


@dataclass
class Outputs:
    """Everything made from one upstream document and the overlay, in `work`."""

    built: dict[str, Any]
    built_text: str
    client: Path
    pages: dict[str, str]


def make_outputs(upstream: Mapping[str, Any], work: Path, root: Path = ROOT) -> Outputs:
    built = build(upstream, load_overlay(root / "openapi" / "overlay.yaml"))
    text = render_built(built)
    spec = work / "face-detection.yaml"
    spec.write_text(text, encoding="utf-8")
    client = work / "client" / "magic_hour_client"
    result = subprocess.run(
        [str(GENERATE_SCRIPT), str(spec), str(client)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-12:]
        raise SpecError("the client generator failed on the built document:\n" + "\n".join(last))
    facts = accepted_extensions(built)
    assert facts is not None  # build() always writes them
    (client / "document_facts.py").write_text(render_facts_module(facts), encoding="utf-8")
    pages = render_pages(built, _existing_pages(root))
    return Outputs(built, text, client, pages)


def _existing_pages(root: Path) -> dict[str, str]:
    folder = root / REFERENCE_DIR
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))}


def _install(outputs: Outputs, root: Path) -> None:
    (root / "openapi" / "face-detection.yaml").write_text(outputs.built_text, encoding="utf-8")
    generated = root / "generated" / "magic_hour_client"
    staged = generated.with_name(".magic_hour_client.new")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(outputs.client, staged)
    old = generated.with_name(".magic_hour_client.old")
    shutil.rmtree(old, ignore_errors=True)
    if generated.exists():
        generated.rename(old)
    staged.rename(generated)
    shutil.rmtree(old, ignore_errors=True)
    folder = root / REFERENCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in outputs.pages.items():
        (folder / name).write_text(text, encoding="utf-8")


def generate(root: Path = ROOT) -> None:
    """Build the document from the vendored upstream and the overlay, then the client and
    the reference docs."""
    upstream = load_openapi(str(root / UPSTREAM.relative_to(ROOT)))
    with tempfile.TemporaryDirectory(prefix="magic-hour-generate-") as work:
        outputs = make_outputs(upstream, Path(work), root)
        _install(outputs, root)
    print(f"built {BUILT.relative_to(ROOT)}, generated/magic_hour_client and {REFERENCE_DIR}/")


def check(root: Path = ROOT) -> list[str]:
    """What differs from what the inputs give (empty when everything matches)."""
    problems: list[str] = []
    upstream_path = root / UPSTREAM.relative_to(ROOT)
    source = json.loads((root / UPSTREAM_SOURCE.relative_to(ROOT)).read_text(encoding="utf-8"))
    if sha256(upstream_path.read_bytes()) != source.get("sha256"):
        problems.append(
            f"{UPSTREAM.relative_to(ROOT)} differs from the sha256 in source.json: it was edited "
            "by hand. Vendor upstream documents with `make update-spec FROM=...`."
        )
    with tempfile.TemporaryDirectory(prefix="magic-hour-check-") as work:
        outputs = make_outputs(load_openapi(str(upstream_path)), Path(work), root)
        built_path = root / BUILT.relative_to(ROOT)
        committed = built_path.read_text(encoding="utf-8") if built_path.exists() else ""
        problems += _diff(str(BUILT.relative_to(ROOT)), committed, outputs.built_text)
        generated = root / GENERATED.relative_to(ROOT)
        result = subprocess.run(
            ["diff", "-ru", "--exclude=__pycache__", str(generated), str(outputs.client)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            problems.append("generated/magic_hour_client differs:\n" + _head(result.stdout))
        folder = root / REFERENCE_DIR
        for name, text in outputs.pages.items():
            page = folder / name
            now = page.read_text(encoding="utf-8") if page.exists() else ""
            problems += _diff(f"{REFERENCE_DIR}/{name}", now, text)
        for page in folder.glob("*.md"):
            if page.name not in outputs.pages:
                problems.append(f"{REFERENCE_DIR}/{page.name} documents no resource any more")
    return problems


def _diff(name: str, committed: str, expected: str) -> list[str]:
    if committed == expected:
        return []
    lines = difflib.unified_diff(
        committed.splitlines(keepends=True), expected.splitlines(keepends=True),
        f"{name} (committed)", f"{name} (what the inputs give)",
    )  # fmt: skip
    return [f"{name} differs:\n" + _head("".join(lines))]


def _head(text: str, lines: int = 80) -> str:
    kept = text.splitlines()
    more = f"\n... ({len(kept) - lines} more lines)" if len(kept) > lines else ""
    return "\n".join(kept[:lines]) + more


def update(
    source: str, root: Path = ROOT, *, today: str | None = None, release: bool = True
) -> tuple[ChangeReport, Release | None]:
    """Vendor `source` (file or URL) as the upstream, rebuild and regenerate; the report of
    what changed, and the release that follows (`release=False`: the version and the
    changelog are left alone). On SpecError nothing was written."""
    data = read_source(source)
    published = parse_openapi(data, source)
    overlay = load_overlay(root / "openapi" / "overlay.yaml")
    vendored = select_operations(published, served_operations(overlay))
    built_path = root / BUILT.relative_to(ROOT)
    old_built = (
        yaml.safe_load(built_path.read_text(encoding="utf-8")) if built_path.exists() else {}
    )
    upstream_path = root / UPSTREAM.relative_to(ROOT)
    old_text = upstream_path.read_text(encoding="utf-8") if upstream_path.exists() else ""
    old_upstream = json.loads(old_text) if old_text else {"paths": {}}
    date = today or datetime.now(UTC).date().isoformat()
    with tempfile.TemporaryDirectory(prefix="magic-hour-update-") as work:
        outputs = make_outputs(vendored, Path(work), root)
        text = dump_json(vendored)
        report = compare(
            old_built or {"paths": {}}, outputs.built, Upstreams(old_upstream, vendored, overlay)
        )
        report.upstream_changed = text != old_text
        where = source if "://" in source else Path(source).name
        plan = (
            plan_release(root, report, date=date, source=where, sha256=sha256(data))
            if release
            else None
        )
        files = dict(plan.files) if plan else {}
        if report.upstream_changed:
            record = {
                "document": str(published.get("info", {}).get("title", "")) + " (OpenAPI "
                + str(published.get("openapi")) + "), as the hosted API publishes it",
                "from": where,
                "retrieved": date,
                "published_sha256": sha256(data),
                "operations": served_operations(overlay),
                "sha256": sha256(text.encode("utf-8")),
                "note": "Vendored as published, reduced to the path items of the operations "
                "this project serves (everything outside `paths` is kept). Written by `make "
                "update-spec`; never edit it or the document by hand: `make check-generated` "
                "checks sha256.",
            }  # fmt: skip
            files[upstream_path] = text
            files[root / UPSTREAM_SOURCE.relative_to(ROOT)] = json.dumps(record, indent=2) + "\n"
        staged = _stage(files)
        _install(outputs, root)
        for temporary, final in staged:
            temporary.replace(final)
    return report, plan


def _stage(files: Mapping[Path, str]) -> list[tuple[Path, Path]]:
    """Each file written beside its final place; SpecError (and nothing left) if one fails."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in files.items():
            if path.exists() and not path.is_file():
                raise SpecError(f"cannot write {path.name}: it is not a regular file")
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.new")
            temporary.write_text(text, encoding="utf-8")
            staged.append((temporary, path))
    except OSError as exc:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise SpecError(f"cannot write {exc.filename or 'a file'}: {exc.strerror or exc}") from None
    except SpecError:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    return staged
