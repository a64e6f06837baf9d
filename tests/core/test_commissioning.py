"""A commissioning test as kept and reported (core/commissioning.py), against hand-computed
cases, and the enrollment's round trip through plain data."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.pev_portal.core.commissioning import (
    HISTORY_KEPT,
    CommissioningTest,
    enrollment_from_dict,
    enrollment_to_dict,
)
from custom_components.pev_portal.core.enrollment import Enrollment, EnrollmentState

T0 = datetime(2030, 7, 2, 17, tzinfo=UTC)
S = timedelta(seconds=1)


def make(samples: list[tuple[int, float]], *, before: float | None = 11.0) -> CommissioningTest:
    """A 5-minute test at 4 kW, 60 s allowed, with samples at ``T0 + s``."""
    test = CommissioningTest(
        test_id="evt-1",
        source="utility",
        program_id="prg-1",
        start=T0,
        end=T0 + 300 * S,
        response_time=60 * S,
        limit_kw=4.0,
        before_kw=before,
    )
    for seconds, kw in samples:
        test.add_sample(T0 + seconds * S, kw)
    return test


def test_a_test_passed_is_split_where_the_charger_responded() -> None:
    test = make([(0, 11.0), (15, 11.0), (20, 4.0), (150, 4.0), (300, 4.0)])
    result = test.verify(T0 + 300 * S)
    assert result.passed
    assert result.response_s == 20
    assert test.operating_states() == [
        (T0, T0 + 20 * S, "RUNNING_NORMAL"),
        (T0 + 20 * S, T0 + 300 * S, "RUNNING_CURTAILED"),
    ]
    baseline, measured = test.energy()
    # 11 kW for 20 s; then 4 kW for 280 s (each sample held until the next).
    assert baseline == [
        (T0, T0 + 20 * S, pytest.approx(11 * 20 / 3600)),
        (T0 + 20 * S, T0 + 300 * S, pytest.approx(11 * 280 / 3600)),
    ]
    assert [kwh for _, _, kwh in measured] == [
        pytest.approx(11 * 20 / 3600),
        pytest.approx(4 * 280 / 3600),
    ]


def test_a_test_failed_is_an_error_after_the_allowed_time() -> None:
    test = make([(0, 11.0), (100, 11.0), (300, 11.0)])
    result = test.verify(T0 + 300 * S)
    assert not result.passed
    assert test.operating_states() == [
        (T0, T0 + 60 * S, "RUNNING_NORMAL"),
        (T0 + 60 * S, T0 + 300 * S, "ERROR"),
    ]
    _, measured = test.energy()
    assert sum(kwh for _, _, kwh in measured) == pytest.approx(11 * 300 / 3600)


def test_a_charger_that_stopped_is_idle_and_a_test_shorter_than_allowed_fails_whole() -> None:
    idle = make([(0, 0.0), (300, 0.0)])
    assert idle.verify(T0 + 300 * S).passed
    assert idle.operating_states() == [(T0, T0 + 300 * S, "IDLE_CURTAILED")]
    short = make([(0, 11.0)])
    short.response_time = 600 * S
    assert not short.verify(T0 + 300 * S).passed
    assert short.operating_states() == [(T0, T0 + 300 * S, "ERROR")]


def test_samples_outside_the_window_or_not_finite_are_not_kept() -> None:
    test = make([], before=None)
    assert not test.add_sample(T0 - 5 * S, 10.5)
    assert test.before_kw == 10.5, "a sample before the start is the baseline"
    assert not test.add_sample(T0 + 10 * S, math.nan)
    assert not test.add_sample(T0 + 10 * S, -1.0)
    assert not test.add_sample(T0 + 301 * S, 1.0)
    assert test.add_sample(T0 + 10 * S, 3.0)
    test.verify(T0 + 300 * S)
    assert not test.add_sample(T0 + 20 * S, 3.0), "nothing is added once verified"
    assert test.samples == [(T0 + 10 * S, 3.0)]


def test_no_limit_or_no_sample_fails() -> None:
    test = make([(10, 1.0)])
    test.limit_kw = None
    assert test.verify(T0 + 300 * S).reason == "no load-control limit for the charger"
    assert make([]).verify(T0 + 300 * S).reason == "no measurement during the test"


def test_a_test_round_trips_through_json() -> None:
    test = make([(0, 11.0), (20, 4.0), (300, 4.0)])
    test.verify(T0 + 301 * S)
    test.report_to = [("evt-1", "prg-1", True, False)]
    again = CommissioningTest.from_dict(json.loads(json.dumps(test.as_dict())))
    assert again == test
    for bad in (None, [], {"start": "x"}, {**test.as_dict(), "start": "2030-07-02T17:00:00"}):
        with pytest.raises(ValueError, match=r"test|time|format"):
            CommissioningTest.from_dict(bad)


def test_an_enrollment_round_trips_with_its_history_bounded() -> None:
    enrollment = Enrollment("PEV-1", "prg")
    at = T0
    for _ in range(HISTORY_KEPT):  # many re-tests
        enrollment = enrollment.request_test(at)
        enrollment = enrollment.record_test(at, make([(0, 1.0), (300, 1.0)]).verify(at))
        at += timedelta(days=1)
    data = json.loads(json.dumps(enrollment_to_dict(enrollment)))
    again = enrollment_from_dict("PEV-1", "prg", data)
    assert again.state is EnrollmentState.VERIFIED
    assert again.verified_once
    assert again.last_test == enrollment.last_test
    assert len(again.history) == HISTORY_KEPT
    assert again.history == enrollment.history[-HISTORY_KEPT:]
    for bad in (None, {"state": "nonsense"}, {"since": "yesterday", "state": "pending"}):
        with pytest.raises(ValueError, match=r"enrollment|nonsense|format"):
            enrollment_from_dict("PEV-1", "prg", bad)
