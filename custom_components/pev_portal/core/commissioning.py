"""A commissioning test as it runs and as it is kept: its window, limit, samples and result.

Pure Python, no Home Assistant imports. The state machine and the verification rule are in
:mod:`.enrollment`; this module adds what the premise keeps of one test (so a restart in the
middle of a test resumes it with the samples taken so far) and what is reported of it:

* :meth:`CommissioningTest.verify`: :func:`.enrollment.verify_test` on the samples;
* :meth:`CommissioningTest.operating_states`: the test window as OpenADR operating states,
  split where the charger responded: ``RUNNING_NORMAL`` before (still at its power),
  ``RUNNING_CURTAILED`` (``IDLE_CURTAILED`` when it drew nothing) after, or ``ERROR`` after the
  allowed response time when the test failed;
* :meth:`CommissioningTest.energy`: the baseline (the power drawn just before the test, held
  over the window) and the measured energy (the samples, each held until the next) on the
  same two intervals, for ``BASELINE``/``DELTA_USAGE``.

:func:`enrollment_to_dict` / :func:`enrollment_from_dict` keep an :class:`.enrollment.Enrollment`
as plain JSON data (its history bounded to :data:`HISTORY_KEPT` entries).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, Final

from .enrollment import Enrollment, EnrollmentState, Verification, verify_test

__all__ = [
    "HISTORY_KEPT",
    "IDLE_KW",
    "SOURCE_LOCAL",
    "SOURCE_UTILITY",
    "CommissioningTest",
    "enrollment_from_dict",
    "enrollment_to_dict",
]

SOURCE_UTILITY: Final = "utility"
SOURCE_LOCAL: Final = "local"
HISTORY_KEPT: Final = 20
"""Transitions kept with an enrollment (the oldest are dropped)."""
IDLE_KW: Final = 0.05
"""At or below this the charger drew nothing (``IDLE_CURTAILED``)."""
MAX_SAMPLES: Final = 2000
"""Samples kept of one test (a sample every 5 s for more than 2 h)."""


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"not a time: {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"a time without a zone: {value!r}")
    return parsed


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _verification_to_dict(result: Verification | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "passed": result.passed,
        "response_s": result.response_s,
        "max_kw_after": result.max_kw_after,
        "reason": result.reason,
    }


def _verification_from_dict(data: Any) -> Verification | None:
    if not isinstance(data, dict):
        return None
    return Verification(
        passed=bool(data.get("passed")),
        response_s=_number(data.get("response_s")),
        max_kw_after=_number(data.get("max_kw_after")),
        reason=str(data.get("reason") or ""),
    )


@dataclass(slots=True)
class CommissioningTest:
    """One test event of one vehicle in one program (running, or the last one)."""

    test_id: str
    """The utility's event ID, or the local test's event ID."""
    source: str
    program_id: str
    start: datetime
    end: datetime
    response_time: timedelta
    limit_kw: float | None = None
    charger_id: str | None = None
    before_kw: float | None = None
    """The power drawn just before the test (the baseline)."""
    samples: list[tuple[datetime, float]] = field(default_factory=list)
    result: Verification | None = None
    finished_at: datetime | None = None
    reported: bool = False
    """Whether its reports are in the outbox (queued again after a crash if not)."""
    report_to: list[tuple[str, str, bool, bool]] = field(default_factory=list)
    """``(event ID, program ID, OPERATING_STATE, DELTA_USAGE)``: where it is reported."""

    @property
    def finished(self) -> bool:
        """Whether the test was verified."""
        return self.result is not None

    def add_sample(self, at: datetime, kw: float) -> bool:
        """Keep a measurement (a finite power >= 0 taken in the window); True when kept."""
        if not (math.isfinite(kw) and kw >= 0) or self.finished:
            return False
        if len(self.samples) >= MAX_SAMPLES:
            return False
        if at < self.start:
            self.before_kw = kw
            return False
        if at > self.end:
            return False
        self.samples.append((at, kw))
        return True

    def verify(self, at: datetime) -> Verification:
        """The result on the samples taken (kept as :attr:`result`)."""
        if self.limit_kw is None:
            reason = "no load-control limit for the charger" if self.samples else ""
            result = Verification(False, None, None, reason or "no measurement during the test")
        else:
            result = verify_test(
                self.samples,
                limit_kw=self.limit_kw,
                start=self.start,
                end=self.end,
                response_time=self.response_time,
            )
        self.result = result
        self.finished_at = at
        return result

    @property
    def split(self) -> datetime:
        """Where the charger responded (or should have: the allowed response time)."""
        result = self.result
        if result is not None and result.passed and result.response_s is not None:
            at = self.start + timedelta(seconds=result.response_s)
        else:
            at = self.start + self.response_time
        return min(max(at, self.start), self.end)

    def operating_states(self) -> list[tuple[datetime, datetime, str]]:
        """The test window as OpenADR operating states (see the module docstring)."""
        result = self.result
        if result is None:
            return []
        split = self.split
        if not result.passed and split >= self.end:
            return [(self.start, self.end, "ERROR")]
        if not result.passed:
            after = "ERROR"
        elif max((kw for t, kw in self.samples if t >= split), default=0.0) > IDLE_KW:
            after = "RUNNING_CURTAILED"
        else:
            after = "IDLE_CURTAILED"
        states: list[tuple[datetime, datetime, str]] = []
        if split > self.start:
            states.append((self.start, split, "RUNNING_NORMAL"))
        states.append((split, self.end, after))  # empty when it responded at the very end
        return states

    def _measured(self, a: datetime, b: datetime) -> float:
        """kWh over ``[a, b)``: each sample held until the next, the power before the test
        until the first one."""
        points = sorted(self.samples)
        level = self.before_kw if self.before_kw is not None else (points[0][1] if points else 0.0)
        total, at = 0.0, a
        for t, kw in points:
            if t <= a:
                level = kw
                continue
            if t >= b:
                break
            total += level * (t - at).total_seconds() / 3600.0
            at, level = t, kw
        return total + level * (b - at).total_seconds() / 3600.0

    def energy(
        self,
    ) -> tuple[list[tuple[datetime, datetime, float]], list[tuple[datetime, datetime, float]]]:
        """``(baseline, measured)`` kWh on the same intervals (before and after the split)."""
        split = self.split
        bounds = [self.start, *([split] if self.start < split < self.end else []), self.end]
        before = self.before_kw if self.before_kw is not None else 0.0
        baseline, measured = [], []
        for a, b in pairwise(bounds):
            hours = (b - a).total_seconds() / 3600.0
            baseline.append((a, b, before * hours))
            measured.append((a, b, self._measured(a, b)))
        return baseline, measured

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "test_id": self.test_id,
            "source": self.source,
            "program_id": self.program_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "response_time_s": self.response_time.total_seconds(),
            "limit_kw": self.limit_kw,
            "charger_id": self.charger_id,
            "before_kw": self.before_kw,
            "samples": [[t.isoformat(), kw] for t, kw in self.samples],
            "result": _verification_to_dict(self.result),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "reported": self.reported,
            "report_to": [list(item) for item in self.report_to],
        }

    @classmethod
    def from_dict(cls, data: Any) -> CommissioningTest:
        """From :meth:`as_dict`; raises ValueError when it cannot be used."""
        if not isinstance(data, dict):
            raise ValueError("a test must be an object")
        try:
            start, end = _time(data["start"]), _time(data["end"])
            response = _number(data.get("response_time_s"))
            samples = []
            for item in data.get("samples") or ():
                kw = _number(item[1])
                if kw is not None:
                    samples.append((_time(item[0]), kw))
            report_to = [
                (str(e), str(p), bool(s), bool(d)) for e, p, s, d in data.get("report_to") or ()
            ]
            finished = data.get("finished_at")
            return cls(
                test_id=str(data["test_id"]),
                source=str(data.get("source") or SOURCE_UTILITY),
                program_id=str(data.get("program_id") or ""),
                start=start,
                end=end,
                response_time=timedelta(seconds=response if response is not None else 60.0),
                limit_kw=_number(data.get("limit_kw")),
                charger_id=data.get("charger_id") or None,
                before_kw=_number(data.get("before_kw")),
                samples=samples,
                result=_verification_from_dict(data.get("result")),
                finished_at=_time(finished) if finished else None,
                reported=bool(data.get("reported")),
                report_to=report_to,
            )
        except (KeyError, TypeError, IndexError) as err:
            raise ValueError(f"unreadable test: {err}") from err


def enrollment_to_dict(enrollment: Enrollment) -> dict[str, Any]:
    """An enrollment as plain JSON data (the latest :data:`HISTORY_KEPT` transitions)."""
    return {
        "state": enrollment.state.value,
        "since": enrollment.since.isoformat() if enrollment.since else None,
        "verified_once": enrollment.verified_once,
        "reason": enrollment.reason,
        "last_test": _verification_to_dict(enrollment.last_test),
        "history": [
            [at.isoformat(), state.value, reason]
            for at, state, reason in enrollment.history[-HISTORY_KEPT:]
        ],
    }


def enrollment_from_dict(vehicle_id: str, program_id: str, data: Any) -> Enrollment:
    """Inverse of :func:`enrollment_to_dict`; raises ValueError when it cannot be used."""
    if not isinstance(data, dict):
        raise ValueError("an enrollment must be an object")
    try:
        since = data.get("since")
        history = tuple(
            (_time(at), EnrollmentState(state), str(reason))
            for at, state, reason in data.get("history") or ()
        )
        return Enrollment(
            vehicle_id=vehicle_id,
            program_id=program_id,
            state=EnrollmentState(data["state"]),
            since=_time(since) if since else None,
            verified_once=bool(data.get("verified_once")),
            reason=data.get("reason"),
            last_test=_verification_from_dict(data.get("last_test")),
            history=history,
        )
    except (KeyError, TypeError) as err:
        raise ValueError(f"unreadable enrollment: {err}") from err
