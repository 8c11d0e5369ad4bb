"""The release that follows a regeneration: the version by semver from the change report,
and a CHANGELOG.md entry in the Keep a Changelog shape (https://keepachangelog.com).

`pyproject.toml`'s `[project] version` is the version's only source (the wheel,
`magic-hour --version` and the SDK's User-Agent read the installed package's metadata);
`uv.lock` records it too and is kept in step. Until 1.0 the 0.x convention holds: a
breaking change bumps the minor, anything else that changes callers or the docs the
patch, and a report with nothing that ships leaves the version alone.

Everything is computed first (`plan_release`), and any problem (a version that is not
semver, a changelog that cannot be read) raises SpecError before a file is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ._changes import ChangeReport
from ._errors import SpecError
from ._levels import BREAKING, COMPATIBLE, DOCS, REVIEW, Change

__all__ = ["Release", "bump", "changelog_entry", "plan_release", "read_version"]

DISTRIBUTION = "magic-hour-face-detection"
_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
_PROJECT_VERSION = re.compile(r'^version = "([^"\n]*)"$', re.MULTILINE)
_LOCK_VERSION = re.compile(
    rf'^(name = "{re.escape(DISTRIBUTION)}"\nversion = )"([^"\n]*)"$', re.MULTILINE
)
CHANGELOG_HEADER = (
    "# Changelog\n\n"
    "All notable changes to this project are written here, newest first. The format follows\n"
    "[Keep a Changelog](https://keepachangelog.com/en/1.1.0/), and the version follows\n"
    "[Semantic Versioning](https://semver.org/spec/v2.0.0.html) (0.x: a breaking change bumps\n"
    "the minor). Entries for API changes are written by `make update-spec` from its report.\n"
)


@dataclass(frozen=True)
class Release:
    old_version: str
    new_version: str
    why: str
    files: dict[Path, str]  # path → its new text; empty when nothing is released

    def summary(self) -> str:
        if self.old_version == self.new_version:
            return f"Release: none; the version stays {self.old_version} ({self.why})."
        return f"Release: {self.old_version} → {self.new_version} ({self.why})."


def read_version(pyproject: str) -> str:
    """The `[project]` table's version, which must be MAJOR.MINOR.PATCH."""
    section = pyproject.split("\n[project]\n", 1)
    body = section[1].split("\n[", 1)[0] if len(section) == 2 else ""
    found = _PROJECT_VERSION.findall(body)
    if len(found) != 1:
        raise SpecError('pyproject.toml has no single `version = "..."` in its [project] table')
    if not _SEMVER.fullmatch(found[0]):
        raise SpecError(
            f"pyproject.toml's version {found[0]!r} is not semver MAJOR.MINOR.PATCH: "
            "cannot choose the next one (fix it, or run with --no-release)"
        )
    return str(found[0])


def bump(version: str, report: ChangeReport) -> tuple[str, str]:
    """The next version for `report`, and why."""
    match = _SEMVER.fullmatch(version)
    assert match is not None
    major, minor, patch = (int(part) for part in match.groups())
    shipped = [c for c in report.changes if c.ships]
    if any(c.level == BREAKING for c in shipped):
        if major == 0:
            return f"0.{minor + 1}.0", "breaking changes; 0.x bumps the minor"
        return f"{major + 1}.0.0", "breaking changes"
    if shipped:
        kind = "documentation" if all(c.level == DOCS for c in shipped) else "compatible changes"
        return f"{major}.{minor}.{patch + 1}", kind
    return version, "nothing changes for callers or in the docs"


def _section(change: Change) -> tuple[str, str]:
    text = f"{change.where}: {change.what}"
    if change.level == BREAKING:
        gone = "removed" in change.what or "no longer" in change.what
        return ("Removed" if gone else "Changed"), f"**Breaking:** {text}"
    if change.level == COMPATIBLE:
        added = change.what.startswith(("accepts", "optional", "operation added", "response"))
        return ("Added" if added or " added" in change.what else "Changed"), text
    if change.level == REVIEW:
        return "Changed", text
    return "Changed", f"Documentation: {text}"


def changelog_entry(version: str, date: str, report: ChangeReport, source: str, sha256: str) -> str:
    sections: dict[str, list[str]] = {"Added": [], "Changed": [], "Removed": [], "Fixed": []}
    for change in report.changes:
        if change.ships:
            name, text = _section(change)
            sections[name].append(f"- {text}")
    lines = [
        f"## [{version}] - {date}",
        "",
        f"Regenerated from the hosted API document {source} (sha256 {sha256}).",
    ]
    for name, items in sections.items():
        if items:
            lines += ["", f"### {name}", "", *items]
    return "\n".join(lines) + "\n"


def plan_release(
    root: Path, report: ChangeReport, *, date: str, source: str, sha256: str
) -> Release:
    """What the release writes: the new version in pyproject.toml and uv.lock, and the
    changelog with the new entry on top (nothing when the version stays)."""
    pyproject_path = root / "pyproject.toml"
    try:
        pyproject = pyproject_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read pyproject.toml: {exc.strerror or exc}") from None
    old = read_version(pyproject)
    new, why = bump(old, report)
    if new == old:
        return Release(old, new, why, {})
    files = {pyproject_path: _PROJECT_VERSION.sub(f'version = "{new}"', pyproject, count=1)}
    lock_path = root / "uv.lock"
    if lock_path.exists():
        lock = lock_path.read_text(encoding="utf-8")
        if len(_LOCK_VERSION.findall(lock)) != 1:
            raise SpecError(f"uv.lock has no single entry for {DISTRIBUTION} to set the version")
        files[lock_path] = _LOCK_VERSION.sub(rf'\g<1>"{new}"', lock, count=1)
    changelog_path = root / "CHANGELOG.md"
    try:
        changelog = changelog_path.read_text(encoding="utf-8") if changelog_path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read CHANGELOG.md: {exc}") from None
    if f"## [{new}]" in changelog:
        raise SpecError(f"CHANGELOG.md already has an entry for {new}")
    entry = changelog_entry(new, date, report, source, sha256)
    files[changelog_path] = _prepend(changelog, entry)
    return Release(old, new, why, files)


def _prepend(changelog: str, entry: str) -> str:
    if not changelog.strip():
        return f"{CHANGELOG_HEADER}\n{entry}"
    at = changelog.find("\n## [")
    if at < 0:
        return changelog.rstrip("\n") + "\n\n" + entry
    return f"{changelog[: at + 1]}{entry}\n{changelog[at + 1 :]}"
