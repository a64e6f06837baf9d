"""Commissioning: the enrollment state machine and the test event's verification on the meter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.pev_portal.core.enrollment import (
    TRANSITIONS,
    Enrollment,
    EnrollmentError,
    EnrollmentState,
    Verification,
    tolerance_kw,
    verify_test,
)

T0 = datetime(2030, 7, 2, 17, tzinfo=UTC)
S = timedelta(seconds=1)
State = EnrollmentState


def samples(*points: tuple[int, float]) -> list[tuple[datetime, float]]:
    return [(T0 + s * S, kw) for s, kw in points]


def test_passed_within_the_response_time() -> None:
    # 7.4 kW until 25 s, then 1.4 kW (limit 1.4 kW) until the end
    got = verify_test(
        samples((0, 7.4), (10, 7.4), (25, 1.45), (40, 1.3), (300, 1.4)),
        limit_kw=1.4,
        start=T0,
        end=T0 + 300 * S,
        response_time=60 * S,
    )
    assert got == Verification(True, 25.0, 1.4, "power at the limit after 25 s")


def test_failed_too_slow_never_or_bounced() -> None:
    slow = verify_test(samples((0, 7.4), (90, 1.0)), limit_kw=1.4, start=T0, end=T0 + 300 * S)
    assert not slow.passed
    assert slow.response_s == 90
    assert "allowed 60 s" in slow.reason
    never = verify_test(samples((0, 7.4), (120, 7.4)), limit_kw=1.4, start=T0, end=T0 + 300 * S)
    assert (never.passed, never.response_s, never.max_kw_after) == (False, None, 7.4)
    # dropped in time but came back up: the response counts from the last drop
    bounced = verify_test(
        samples((0, 7.4), (20, 1.0), (100, 7.4), (150, 1.0)),
        limit_kw=1.4,
        start=T0,
        end=T0 + 300 * S,
    )
    assert (bounced.passed, bounced.response_s, bounced.max_kw_after) == (False, 150, 7.4)
    nothing = verify_test(
        samples((-5, 7.4), (400, 0.0), (30, float("nan"))), limit_kw=1.4, start=T0, end=T0 + 300 * S
    )
    assert (nothing.passed, nothing.reason) == (False, "no measurement during the test")


def test_tolerance() -> None:
    assert tolerance_kw(0.0) == 0.1
    assert tolerance_kw(10.0) == 0.5
    ok = verify_test(samples((0, 0.09)), limit_kw=0.0, start=T0, end=T0 + 60 * S)
    assert ok.passed
    assert ok.response_s == 0
    with pytest.raises(ValueError, match="limit"):
        verify_test([], limit_kw=float("inf"), start=T0, end=T0 + S)
    with pytest.raises(ValueError, match="end after"):
        verify_test([], limit_kw=1.0, start=T0, end=T0)
    with pytest.raises(ValueError, match="negative"):
        verify_test([], limit_kw=1.0, start=T0, end=T0 + S, response_time=-S)


PASS = Verification(True, 20.0, 1.0, "ok")
FAIL = Verification(False, None, 7.0, "too slow")


def test_commissioning_passed_then_active_suspended_resumed() -> None:
    e = Enrollment("PEV-1", "prg-1")
    assert e.state is State.PENDING
    assert not e.takes_part
    e = e.request_test(T0)
    assert e.state is State.TEST_REQUESTED
    assert e.takes_part
    e = e.record_test(T0 + 300 * S, PASS)
    assert (e.state, e.verified_once, e.last_test) == (State.VERIFIED, True, PASS)
    e = e.activate(T0 + 400 * S)
    assert e.takes_part
    e = e.suspend(T0 + 500 * S, "charger ignored 3 events")
    assert (e.state, e.reason) == (State.SUSPENDED, "charger ignored 3 events")
    e = e.resume(T0 + 600 * S)
    assert e.state is State.ACTIVE
    assert [h[1] for h in e.history] == [
        State.TEST_REQUESTED,
        State.VERIFIED,
        State.ACTIVE,
        State.SUSPENDED,
        State.ACTIVE,
    ]
    assert e.since == T0 + 600 * S


def test_commissioning_failed() -> None:
    e = Enrollment("PEV-1", "prg-1").request_test(T0).record_test(T0 + S, FAIL)
    assert (e.state, e.reason, e.last_test) == (State.PENDING, "too slow", FAIL)
    with pytest.raises(EnrollmentError, match="resume without a passed test"):
        e.resume(T0)
    # an active vehicle that fails a re-test is suspended
    e = e.request_test(T0).record_test(T0, PASS).activate(T0).request_test(T0).record_test(T0, FAIL)
    assert e.state is State.SUSPENDED
    e = e.request_test(T0 + S)
    assert e.state is State.TEST_REQUESTED


def test_every_forbidden_transition_raises() -> None:
    calls = {
        "request_test": lambda e: e.request_test(T0),
        "test_passed": lambda e: e.record_test(T0, PASS),
        "test_failed": lambda e: e.record_test(T0, FAIL),
        "activate": lambda e: e.activate(T0),
        "suspend": lambda e: e.suspend(T0, "x"),
        "resume": lambda e: e.resume(T0),
    }
    for action, allowed in TRANSITIONS.items():
        for state in State:
            e = Enrollment("v", "p", state, verified_once=True)
            if state in allowed:
                calls[action](e)
            else:
                with pytest.raises(EnrollmentError, match="cannot"):
                    calls[action](e)
