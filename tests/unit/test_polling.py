"""The poll schedule, as plain functions."""

from __future__ import annotations

from itertools import pairwise

import pytest
from magic_hour._polling import (
    MAX_POLL_INTERVAL,
    MIN_POLL_INTERVAL,
    parse_poll_interval,
    poll_delay,
)


def no_jitter() -> float:
    return 0.0


def schedule(until: float) -> list[float]:
    """The times of the polls (the first at 0) of a task watched for `until` seconds."""
    times = [0.0]
    while times[-1] < until:
        times.append(times[-1] + poll_delay(times[-1], no_jitter))
    return times


def test_the_wait_is_a_tenth_of_the_elapsed_time_within_25_ms_and_2_s() -> None:
    assert poll_delay(0.0, no_jitter) == MIN_POLL_INTERVAL == 0.025
    assert poll_delay(0.1, no_jitter) == pytest.approx(0.025)
    assert poll_delay(1.0, no_jitter) == pytest.approx(0.1)
    assert poll_delay(7.5, no_jitter) == pytest.approx(0.75)
    assert poll_delay(20.0, no_jitter) == MAX_POLL_INTERVAL
    assert poll_delay(1e9, no_jitter) == MAX_POLL_INTERVAL


@pytest.mark.parametrize("finished", [0.05, 0.12, 0.5, 1.0, 3.0, 30.0, 600.0])
def test_a_finished_task_is_seen_soon_after(finished: float) -> None:
    seen = next(t for t in schedule(finished + 5) if t >= finished)
    # Within 100 ms for a task of up to a second, within a tenth of its time after that.
    assert seen - finished <= max(0.1, 0.1 * finished + 0.01)
    assert seen - finished <= MAX_POLL_INTERVAL


def test_a_long_task_is_not_hammered() -> None:
    assert len(schedule(1.0)) <= 30
    assert len(schedule(60.0)) <= 90
    polls = schedule(600.0)
    assert len(polls) <= 400  # about one every 2 s once the task is long
    assert all(b - a <= MAX_POLL_INTERVAL + 1e-9 for a, b in pairwise(polls))


def test_jitter_only_shortens_the_wait_by_up_to_a_fifth() -> None:
    assert poll_delay(1.0, lambda: 1.0) == pytest.approx(0.08)
    assert poll_delay(60.0, lambda: 0.999) == pytest.approx(2.0 * (1 - 0.2 * 0.999))


def test_a_fixed_interval_replaces_the_schedule() -> None:
    assert [poll_delay(t, lambda: 0.7, fixed=0.25) for t in (0, 1, 10, 100)] == [0.25] * 4


@pytest.mark.parametrize(("value", "seconds"), [(None, None), ("", None), ("0.5", 0.5), ("3", 3.0)])
def test_poll_interval_from_the_environment(value: str | None, seconds: float | None) -> None:
    assert parse_poll_interval(value) == seconds


@pytest.mark.parametrize("value", ["fast", "-1", "inf", "nan"])
def test_a_bad_poll_interval_is_a_clear_error(value: str) -> None:
    with pytest.raises(ValueError, match="MAGIC_HOUR_POLL_INTERVAL"):
        parse_poll_interval(value)
