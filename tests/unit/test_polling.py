"""The poll schedule, as plain functions."""

from __future__ import annotations

import pytest
from magic_hour._polling import MAX_POLL_INTERVAL, parse_poll_interval, poll_delay


def test_polls_start_at_100_ms_and_double_to_a_2_s_cap() -> None:
    no_jitter = [poll_delay(n, lambda: 0.0) for n in range(8)]
    assert no_jitter == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0])
    assert poll_delay(10_000, lambda: 0.0) == MAX_POLL_INTERVAL


def test_jitter_only_shortens_the_wait_by_up_to_a_fifth() -> None:
    assert poll_delay(0, lambda: 1.0) == pytest.approx(0.08)
    assert poll_delay(9, lambda: 0.999) == pytest.approx(2.0 * (1 - 0.2 * 0.999))


def test_a_fixed_interval_replaces_the_schedule() -> None:
    assert [poll_delay(n, lambda: 0.7, fixed=0.25) for n in range(4)] == [0.25] * 4


@pytest.mark.parametrize(("value", "seconds"), [(None, None), ("", None), ("0.5", 0.5), ("3", 3.0)])
def test_poll_interval_from_the_environment(value: str | None, seconds: float | None) -> None:
    assert parse_poll_interval(value) == seconds


@pytest.mark.parametrize("value", ["fast", "-1", "inf", "nan"])
def test_a_bad_poll_interval_is_a_clear_error(value: str) -> None:
    with pytest.raises(ValueError, match="MAGIC_HOUR_POLL_INTERVAL"):
        parse_poll_interval(value)
