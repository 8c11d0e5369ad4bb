"""The benchmarks' verdicts, table and JSON, from hand-made figures."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._common import Figure, Target
from benchmarks._report import table, write_json


def test_targets_decide_met_and_say_how_far_a_miss_is() -> None:
    assert Figure("s", "ratio", 1.05, "x", Target("<=", 1.10)).met is True
    missed = Figure("s", "ratio", 1.32, "x", Target("<=", 1.10))
    assert missed.met is False
    assert missed.miss() == "missed by 20%"
    assert Figure("s", "speed", 4.0, "x", Target(">=", 5.0)).miss() == "missed by 20%"
    assert Figure("s", "count", 3.0).met is None
    assert Figure("s", "nothing", math.nan, "x", Target("<=", 1.0)).met is None


def test_table_groups_by_section_and_shows_misses() -> None:
    text = table(
        [
            Figure("1. A", "first", 1.234, "x", Target("<=", 1.1), context="12 vs 10 ms"),
            Figure("1. A", "second", 250.0, " ms"),
            Figure("2. B", "third", 0.95, "x", Target(">=", 0.9)),
        ]
    )
    lines = text.splitlines()
    assert lines[0] == "1. A"
    assert "1.23x" in lines[1] and "MISS (missed by 12%)" in lines[1]
    assert lines[2].strip() == "12 vs 10 ms"
    assert "250 ms" in lines[3] and "MISS" not in lines[3]
    assert "2. B" in lines and lines[-1].rstrip().endswith("ok")


def test_json_has_every_figure_with_its_verdict_and_no_nan(tmp_path: Path) -> None:
    out = tmp_path / "bench-results.json"
    figures = [
        Figure("1. A", "ratio", 1.5, "x", Target("<=", 1.1), details={"runs": [1.0, math.nan]}),
        Figure("6. C", "AP", math.nan),
    ]
    write_json(
        out,
        figures,
        command="scripts/bench --quick",
        quick=True,
        skipped=["accuracy"],
        errors=[],
        started=datetime.now(UTC),
        machine_before={"cpus": 2, "load_average": None},
    )
    document = json.loads(out.read_text())  # strict JSON: NaN would not be valid
    assert document["command"] == "scripts/bench --quick"
    assert document["skipped"] == ["accuracy"]
    first, second = document["figures"]
    assert first["target"] == "<= 1.1" and first["met"] is False
    assert first["details"]["runs"] == [1.0, None]
    assert second["value"] is None and second["met"] is None
    assert not list(tmp_path.glob("*.tmp"))
