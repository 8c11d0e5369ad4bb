"""The docs quote one recorded bench run, rendered from its JSON, never typed by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from benchmarks import _docs
from benchmarks._common import Figure, Target
from benchmarks._report import write_json

ROOT = Path(__file__).resolve().parents[2]


def recorded() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / _docs.RECORDED).read_text(encoding="utf-8"))
    return document


@pytest.mark.parametrize("page", _docs.PAGES, ids=str)
def test_each_page_quotes_the_recorded_run_as_rendered(page: Path) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    assert _docs.blocks_in(text), f"{page} quotes no bench figures"
    assert _docs.render(text, recorded()) == text, f"{page}: run `make bench-docs`"


def test_the_recorded_run_is_a_full_one_without_errors() -> None:
    document = recorded()
    assert not document["quick"] and "--only" not in document["command"]
    assert document["errors"] == []


def test_the_readme_types_no_ratio_outside_its_generated_block() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    outside = re.sub(r"<!-- bench:(.+?) -->.*?<!-- /bench:\1 -->", "", text, flags=re.S)
    assert re.findall(r"\d+\.\d+\s?\N{MULTIPLICATION SIGN}", outside) == []


def _run(tmp_path: Path, command: str, *, quick: bool = False) -> Path:
    from datetime import UTC, datetime

    out = tmp_path / "run.json"
    write_json(
        out,
        [
            Figure("1. SDK", "ratio", 1.234, "x", Target("<=", 1.1), context="12 vs 10 ms"),
            Figure("1. SDK", "untargeted | piped", 250.0, " ms"),
            Figure("2. Video", "speed", 21.0, "x", Target(">=", 20)),
        ],
        command=command,
        quick=quick,
        skipped=[],
        errors=[],
        started=datetime(2026, 12, 7, tzinfo=UTC),
        machine_before={"cpus": 2, "platform": "p", "python": "3.11", "load_average": [0.5]},
    )
    return out


def test_blocks_are_rendered_with_provenance_and_verdicts(tmp_path: Path) -> None:
    document = json.loads(_run(tmp_path, "scripts/bench").read_text())
    page = "a\n<!-- bench:headline -->\nold\n<!-- /bench:headline -->\nb\n"
    page += "<!-- bench:section:2. -->\n<!-- /bench:section:2. -->\n"
    text = _docs.render(page, document)
    headline = _docs.blocks_in(text)["headline"]
    assert "`scripts/bench`, started 2026-12-07T00:00:00+00:00" in headline
    assert "| 1. SDK | ratio | 1.23\N{MULTIPLICATION SIGN} | <= 1.1 | **missed** |" in headline
    assert "untargeted" not in headline  # the headline shows targeted figures only
    assert "| 2. Video | speed | 21\N{MULTIPLICATION SIGN} | >= 20 | met |" in headline
    section = _docs.blocks_in(text)["section:2."]
    assert "speed" in section and "ratio" not in section
    assert text.startswith("a\n") and "\nb\n" in text and "old" not in text
    assert _docs.render(text, document) == text


def test_an_unknown_block_or_an_empty_section_is_an_error(tmp_path: Path) -> None:
    document = json.loads(_run(tmp_path, "scripts/bench").read_text())
    with pytest.raises(ValueError, match="unknown bench block"):
        _docs.render("<!-- bench:tabel -->\n\n<!-- /bench:tabel -->", document)
    with pytest.raises(ValueError, match=r"no section starting '9\.'"):
        _docs.render("<!-- bench:section:9. -->\n\n<!-- /bench:section:9. -->", document)


@pytest.mark.parametrize(
    ("command", "quick"),
    [("scripts/bench --quick", True), ("scripts/bench --only overhead", False)],
)
def test_only_a_full_run_can_be_recorded(tmp_path: Path, command: str, quick: bool) -> None:
    target = tmp_path / "recorded.json"
    with pytest.raises(ValueError, match="not a full run"):
        _docs.record(_run(tmp_path, command, quick=quick), target)
    assert not target.exists()
    _docs.record(_run(tmp_path, "scripts/bench"), target)
    assert json.loads(target.read_text())["command"] == "scripts/bench"
