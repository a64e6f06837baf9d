"""Commissioning: the enrollment of one vehicle in one program, as a small state machine.

Pure Python, no Home Assistant imports.

States: ``PENDING`` (enrolled on paper, not yet tested), ``TEST_REQUESTED`` (a test event is
due or running), ``VERIFIED`` (the test passed on the meter), ``ACTIVE`` (taking part in the
program's events), ``SUSPENDED`` (taken out: a failed re-test, the utility, the customer).

Transitions (:data:`TRANSITIONS`; anything else raises :class:`EnrollmentError`):

=================  ===================  ==================================================
from               action               to
=================  ===================  ==================================================
PENDING            request_test         TEST_REQUESTED
VERIFIED, ACTIVE   request_test         TEST_REQUESTED (a periodic re-test)
SUSPENDED          request_test         TEST_REQUESTED (the way back in)
TEST_REQUESTED     test_passed          VERIFIED
TEST_REQUESTED     test_failed          PENDING if it was never verified, else SUSPENDED
VERIFIED           activate             ACTIVE
ACTIVE             suspend              SUSPENDED
SUSPENDED          resume               ACTIVE (only if it passed a test before)
=================  ===================  ==================================================

The test's verification rule (:func:`verify_test`): the charger's measured power must drop to
the test's limit (plus a tolerance: ``max(0.1 kW, 5 %`` of the limit) within the program's
response time, and stay at or below it until the test ends. The response time measured is the
time from the test's start to the first sample at or below the limit after which every sample
stays there. A test without any sample inside its response window fails ("no measurement").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

__all__ = [
    "DEFAULT_RESPONSE_TIME",
    "TRANSITIONS",
    "Enrollment",
    "EnrollmentError",
    "EnrollmentState",
    "Verification",
    "tolerance_kw",
    "verify_test",
]

DEFAULT_RESPONSE_TIME: Final = timedelta(minutes=1)
"""The response time when the program declares none."""


class EnrollmentState(StrEnum):
    """Where a vehicle stands in a program."""

    PENDING = "pending"
    TEST_REQUESTED = "test_requested"
    VERIFIED = "verified"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class EnrollmentError(ValueError):
    """A transition the state machine does not allow."""


_S = EnrollmentState
TRANSITIONS: Final[dict[str, frozenset[EnrollmentState]]] = {
    "request_test": frozenset({_S.PENDING, _S.VERIFIED, _S.ACTIVE, _S.SUSPENDED}),
    "test_passed": frozenset({_S.TEST_REQUESTED}),
    "test_failed": frozenset({_S.TEST_REQUESTED}),
    "activate": frozenset({_S.VERIFIED}),
    "suspend": frozenset({_S.ACTIVE}),
    "resume": frozenset({_S.SUSPENDED}),
}
"""Action -> the states it is allowed from."""


@dataclass(frozen=True, slots=True)
class Verification:
    """What the test showed on the meter."""

    passed: bool
    response_s: float | None
    """Seconds from the test's start until the power stayed at or below the limit."""
    max_kw_after: float | None
    """Highest power measured after the response time (``None``: no sample there)."""
    reason: str


@dataclass(frozen=True, slots=True)
class Enrollment:
    """One vehicle in one program; transitions return the next :class:`Enrollment`."""

    vehicle_id: str
    program_id: str
    state: EnrollmentState = EnrollmentState.PENDING
    since: datetime | None = None
    verified_once: bool = False
    reason: str | None = None
    last_test: Verification | None = None
    history: tuple[tuple[datetime, EnrollmentState, str], ...] = field(default=())

    def _to(self, action: str, state: EnrollmentState, at: datetime, reason: str) -> Enrollment:
        if self.state not in TRANSITIONS[action]:
            raise EnrollmentError(f"cannot {action.replace('_', ' ')} from {self.state.value}")
        return replace(
            self,
            state=state,
            since=at,
            reason=reason,
            history=(*self.history, (at, state, reason)),
        )

    def request_test(self, at: datetime, reason: str = "test requested") -> Enrollment:
        """A test event was requested (by the utility, or started locally)."""
        return self._to("request_test", _S.TEST_REQUESTED, at, reason)

    def record_test(self, at: datetime, result: Verification) -> Enrollment:
        """The test ended: verified, or back to pending / suspended."""
        if result.passed:
            after = self._to("test_passed", _S.VERIFIED, at, result.reason)
            return replace(after, verified_once=True, last_test=result)
        state = _S.SUSPENDED if self.verified_once else _S.PENDING
        return replace(self._to("test_failed", state, at, result.reason), last_test=result)

    def activate(self, at: datetime, reason: str = "activated") -> Enrollment:
        """The program takes the verified vehicle in."""
        return self._to("activate", _S.ACTIVE, at, reason)

    def suspend(self, at: datetime, reason: str) -> Enrollment:
        """Taken out of the program's events (the reason is shown)."""
        return self._to("suspend", _S.SUSPENDED, at, reason)

    def resume(self, at: datetime, reason: str = "resumed") -> Enrollment:
        """Back in; only a vehicle that passed a test before may resume without one."""
        if not self.verified_once:
            raise EnrollmentError("cannot resume without a passed test")
        return self._to("resume", _S.ACTIVE, at, reason)

    @property
    def takes_part(self) -> bool:
        """Whether program events apply to the vehicle's settlement (ACTIVE, or under test)."""
        return self.state in (_S.ACTIVE, _S.TEST_REQUESTED)


def tolerance_kw(limit_kw: float) -> float:
    """The measurement tolerance above a limit: 0.1 kW or 5 % of it, whichever is larger."""
    return max(0.1, 0.05 * limit_kw)


def verify_test(
    samples: Sequence[tuple[datetime, float]],
    *,
    limit_kw: float,
    start: datetime,
    end: datetime,
    response_time: timedelta = DEFAULT_RESPONSE_TIME,
) -> Verification:
    """Whether the measured power dropped to ``limit_kw`` in time and stayed there (rule above).

    ``samples`` are ``(time, kW)`` measurements (any order); those outside ``[start, end]`` and
    non-finite ones are ignored.
    """
    if not (math.isfinite(limit_kw) and limit_kw >= 0):
        raise ValueError(f"limit_kw must be a finite number >= 0, got {limit_kw!r}")
    if end <= start:
        raise ValueError("a test must end after it starts")
    if response_time < timedelta(0):
        raise ValueError("the response time cannot be negative")
    ceiling = limit_kw + tolerance_kw(limit_kw)
    inside = sorted(
        (t, kw) for t, kw in samples if start <= t <= end and math.isfinite(kw) and kw >= 0
    )
    deadline = start + response_time
    if not inside:
        return Verification(False, None, None, "no measurement during the test")
    # the first sample from which every later sample is at or below the ceiling
    settled: datetime | None = None
    for t, kw in inside:
        if kw > ceiling:
            settled = None
        elif settled is None:
            settled = t
    after = [kw for t, kw in inside if t >= deadline]
    max_after = max(after) if after else None
    if settled is None:
        return Verification(False, None, max_after, f"power stayed above {ceiling:.2f} kW")
    response = (settled - start).total_seconds()
    if settled > deadline:
        return Verification(
            False,
            response,
            max_after,
            f"power reached the limit after {response:.0f} s"
            f" (allowed {response_time.total_seconds():.0f} s)",
        )
    return Verification(True, response, max_after, f"power at the limit after {response:.0f} s")
