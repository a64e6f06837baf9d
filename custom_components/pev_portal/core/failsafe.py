"""The fail-safe limit: what applies to the premise's chargers when the utility goes silent.

Pure Python, no Home Assistant imports. Modelled on the German section 14a EnWG control box and
EEBus LPC (Limitation of Power Consumption), whose controllable system keeps a *failsafe
consumption limit* for a *failsafe duration* when the energy manager's heartbeat stops.

A program declares (profile 'Fail-safe'):

* ``limit_kw``: the premise's chargers' total power limit while the link is lost;
* ``heartbeat``: the link is lost when nothing was heard from the utility for longer than this;
* ``duration`` (optional): after this long in fail-safe the limit lifts (the controllable
  system returns to autonomous operation, as LPC's failsafe duration allows); without it the
  limit holds until the link is back.

The rule (:meth:`Failsafe.state`):

1. No program declares a fail-safe: nothing changes, ever.
2. Silent for longer than the heartbeat (``now - last_heard > heartbeat``): the fail-safe limit
   applies from ``last_heard + heartbeat``.
3. Heard again after a silence: the limit still applies until the current events are known
   again (a complete read of the programs and events after the link came back,
   :meth:`Failsafe.synced`), since events may have changed while it was silent.
4. ``duration`` elapsed since the fail-safe began: the limit lifts (``reason`` says so) until
   the link is back.

The tracker is immutable: :meth:`Failsafe.heard` and :meth:`Failsafe.synced` return the next
state (the Home Assistant side keeps one per premise, calls ``heard`` on every successful
exchange with the VTN and ``synced`` after a complete read of programs and events).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "Failsafe",
    "FailsafeReason",
    "FailsafeRule",
    "FailsafeState",
    "circuit_with_failsafe",
    "strictest",
]


class FailsafeReason(StrEnum):
    """Why the fail-safe limit applies or not."""

    NOT_DECLARED = "not_declared"
    LINK_OK = "link_ok"
    LINK_SILENT = "link_silent"
    AWAITING_EVENTS = "awaiting_events"
    DURATION_OVER = "duration_over"


@dataclass(frozen=True, slots=True)
class FailsafeRule:
    """A program's fail-safe declaration."""

    limit_kw: float
    heartbeat: timedelta
    duration: timedelta | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.limit_kw) and self.limit_kw >= 0):
            raise ValueError(f"the fail-safe limit must be a finite kW >= 0, got {self.limit_kw!r}")
        if self.heartbeat <= timedelta(0):
            raise ValueError("the heartbeat must be positive")
        if self.duration is not None and self.duration <= timedelta(0):
            raise ValueError("the fail-safe duration must be positive")


def strictest(rules: list[FailsafeRule]) -> FailsafeRule | None:
    """One rule for several programs: the lowest limit, the shortest heartbeat, the longest
    duration (``None``, unlimited, wins)."""
    if not rules:
        return None
    durations = [r.duration for r in rules]
    return FailsafeRule(
        min(r.limit_kw for r in rules),
        min(r.heartbeat for r in rules),
        None if any(d is None for d in durations) else max(d for d in durations if d is not None),
    )


@dataclass(frozen=True, slots=True)
class FailsafeState:
    """The limit in force (``None``: none) and why; ``since`` when the fail-safe began."""

    limit_kw: float | None
    reason: FailsafeReason
    since: datetime | None = None
    until: datetime | None = None
    """When the limit lifts by itself (the end of the fail-safe duration), if it does."""

    @property
    def active(self) -> bool:
        """Whether the fail-safe limit applies now."""
        return self.limit_kw is not None


@dataclass(frozen=True, slots=True)
class Failsafe:
    """The link's last contact and last complete read; see the module docstring."""

    rule: FailsafeRule | None
    last_heard: datetime
    """Last successful exchange with the VTN (at start-up: when the link started)."""
    last_synced: datetime | None = None
    lost_since: datetime | None = None
    """When the fail-safe began, while it has not been cleared by a complete read."""

    def _deadline(self) -> datetime | None:
        return None if self.rule is None else self.last_heard + self.rule.heartbeat

    def heard(self, at: datetime) -> Failsafe:
        """Something was heard from the VTN at ``at``."""
        deadline = self._deadline()
        lost = self.lost_since
        if deadline is not None and at > deadline and lost is None:
            lost = deadline
        return replace(self, last_heard=max(at, self.last_heard), lost_since=lost)

    def synced(self, at: datetime) -> Failsafe:
        """Programs and events were read completely at ``at`` (clears a past fail-safe)."""
        after = self.heard(at)
        return replace(after, last_synced=at, lost_since=None)

    def state(self, now: datetime) -> FailsafeState:
        """The limit in force at ``now``."""
        rule = self.rule
        if rule is None:
            return FailsafeState(None, FailsafeReason.NOT_DECLARED)
        deadline = self.last_heard + rule.heartbeat
        if now > deadline:
            since = self.lost_since or deadline
            reason = FailsafeReason.LINK_SILENT
        elif self.lost_since is not None:
            since = self.lost_since
            reason = FailsafeReason.AWAITING_EVENTS
        else:
            return FailsafeState(None, FailsafeReason.LINK_OK)
        until = None if rule.duration is None else since + rule.duration
        if until is not None and now >= until:
            return FailsafeState(None, FailsafeReason.DURATION_OVER, since, until)
        return FailsafeState(rule.limit_kw, reason, since, until)


def circuit_with_failsafe(circuit_kw: float | None, state: FailsafeState) -> float | None:
    """The planner's ``circuit_kw`` with the fail-safe limit in force (the premise's total)."""
    if state.limit_kw is None:
        return circuit_kw
    return state.limit_kw if circuit_kw is None else min(circuit_kw, state.limit_kw)
