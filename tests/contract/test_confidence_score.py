"""confidence_score takes every multiple of 0.05 in [0, 1], whatever float division says."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from magic_hour_server.api._schema import is_multiple_of

from tests.contract._openapi import Validator, operations

CREATE = next(op for op in operations() if op.operation_id == "create")
SCHEMA = CREATE.request_schema()

VALID = [0, 0.05, 0.15, 0.3, 0.35, 0.5, 0.55, 0.6, 0.7, 0.95, 1]
INVALID = [0.33, -0.05, 1.05, 0.01, 0.051, 0.999]


def body(score: object) -> dict[str, object]:
    return {"assets": {"target_file_path": "api-assets/id/1234.png"}, "confidence_score": score}


@pytest.mark.parametrize("score", VALID)
def test_multiples_of_005_validate(score: float) -> None:
    assert Validator(SCHEMA).is_valid(body(score))


@pytest.mark.parametrize("score", INVALID)
def test_other_numbers_do_not(score: float) -> None:
    assert not Validator(SCHEMA).is_valid(body(score))


@pytest.mark.parametrize("score", ["0.5", None, True, float("nan"), float("inf"), 1e308])
def test_non_numbers_and_non_finite_do_not(score: object) -> None:
    assert not Validator(SCHEMA).is_valid(body(score))


@given(st.integers(min_value=0, max_value=20))
def test_every_step_in_range_validates_however_it_is_computed(k: int) -> None:
    # k * 0.05, k / 20 and round(k * 0.05, 2) are three floats for one decimal value.
    for score in (k * 0.05, k / 20, round(k * 0.05, 2)):
        assert Validator(SCHEMA).is_valid(body(score)), score


@given(st.floats(min_value=0, max_value=1))
def test_agrees_with_exact_decimal_arithmetic(score: float) -> None:
    from decimal import Decimal

    exact = Decimal(repr(score)) % Decimal("0.05") == 0
    if exact:
        assert is_multiple_of(score, 0.05)
    # Away from float noise (> 1e-6 from a step), the answer is "no".
    nearest = round(score / 0.05) * 0.05
    if abs(score - nearest) > 1e-6:
        assert not is_multiple_of(score, 0.05)
