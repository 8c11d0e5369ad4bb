"""A short run of `make soak`: a few clients for a few seconds; nothing lost, no 5xx."""

from __future__ import annotations

import pytest

from tests.faults.soak import soak

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


def test_a_short_soak_loses_nothing() -> None:
    report = soak(clients=8, duration=4.0)
    print(report.table())
    assert report.server_errors == 0
    assert report.lost == 0
    assert report.unexpected == 0
    assert report.created > 0
    assert report.failed == 0, report.errors
    assert report.completed == report.created, report.errors
    assert len(report.latencies) == report.completed
    assert not report.errors
    # The clients long-poll: every poll but each task's first was held by the server.
    assert report.held_polls > 0 and report.held_polls >= report.polls - report.created


def test_a_short_chaos_run_on_the_cluster_loses_nothing_and_raises_nothing() -> None:
    # 24 s: a worker SIGKILLed at 8 and 18 s, the database crashed for ~3 s at 7 and 17 s,
    # an API process stopped and started at 12 s, under 4 clients.
    from tests.faults.chaos import chaos

    report, events, duplicated = chaos(clients=4, duration=24.0)
    print("\n".join(events))
    print(report.table())
    assert sum("SIGKILLed" in e for e in events) == 2
    assert sum("database stopped" in e for e in events) == 2
    assert any("API process 0 stopped" in e for e in events)
    assert report.created > 0 and report.completed == report.created, report.errors
    assert report.lost == 0 and report.unexpected == 0 and duplicated == 0
    assert not report.errors and report.failed == 0
