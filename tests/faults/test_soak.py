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
