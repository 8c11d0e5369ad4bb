"""Every case of the hostile-input table gets its documented answer, and after each one
the server is up, nothing changed outside its data directory, and no secret leaked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults._target import Target
from tests.faults.hostile import CASES, END, START, Case

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with Target(tmp_path_factory.mktemp("hostile")).running() as running:
        yield running


@pytest.mark.parametrize("case", CASES, ids=[f"{c.group}: {c.name}" for c in CASES])
def test_hostile_input_gets_its_documented_answer(target: Target, case: Case) -> None:
    outside = target.outside_files()
    seen = len(target.bodies)
    log_seen = len(target.server.log())

    observed = case.run(target)

    assert case.accepts(observed), f"expected {case.expected}, got {observed}"
    assert target.server.healthy(), "the server stopped answering"
    assert target.outside_files() == outside, "something was written outside the data dir"
    answers = "\n".join(target.bodies[seen:])
    log = target.server.log()[log_seen:]
    for secret in target.secrets():
        assert secret not in answers, "a secret appeared in a response"
        assert secret not in log, "a secret appeared in the server log"
    assert "Traceback" not in log, log


def test_the_documented_table_lists_every_case() -> None:
    """docs/reliability.md shows the same cases and expectations as this list."""
    text = DOC.read_text("utf-8")
    table = text.split(START, 1)[1].split(END, 1)[0]
    for case in CASES:
        assert f"| {case.group} | {case.name} | {case.expected} | " in table, case.name
    assert "python -m tests.faults.hostile" in text
