"""Settlement: what a load-control or price event achieved on one charging session.

Pure Python, no Home Assistant imports. Times are timezone-aware (UTC inside), energy in kWh,
power in kW, money as :class:`~decimal.Decimal`.

For each event that touched a session the EV's *baseline* over the event window (what it would
have drawn without the event) is computed two ways, and both are kept:

* **counterfactual plan**: the planner run on the same inputs without the event's caps and
  prices (:func:`counterfactual_plan`). The Home Assistant side computes it when the event
  arrives and freezes its slots (:func:`plan_intervals`), so later changes (a new target, a
  replan) cannot move the baseline after the fact.
* **meter baseline** from the vehicle's previous comparable sessions (:func:`meter_baseline`):
  the average of the last ``N = 5`` sessions that started on the same weekday type (Monday to
  Friday / Saturday and Sunday, in the premise's time zone) with a plug-in time of day within
  +-1 h of this session's (across midnight too), that ended before this one started and were
  not touched by an event themselves. Each is aligned on its plug-in time: the energy it drew
  from ``plug-in + (t - this plug-in)`` is what counts for ``t`` (pro rata inside a metered
  interval; 0 after it was unplugged). Fewer than 2 such sessions: no meter baseline (``None``
  with the reason).

From a baseline and the metered intervals (:func:`settle`):

* ``delivered_kwh`` = baseline - measured energy in the window (negative when the EV drew more
  than its baseline); ``delivered_kw`` = that over the window's hours. Never above the
  baseline's energy (measured energy is never negative).
* ``asked_kwh`` (load control only) = the baseline's energy above the event's limit, interval
  by interval. ``compliance`` = delivered / asked, in [0, 1]; a ratio outside is clipped and
  flagged (``increased_load``, ``exceeded_ask``); nothing asked (price events, or the EV would
  not have drawn above the limit) gives ``None`` and a flag (``price_event``,
  ``nothing_asked``).
* ``shifted_kwh``: the energy not drawn in the window that was drawn after it instead (the
  measured energy after the window above the baseline's, at most the delivered reduction;
  ``None`` when the baseline's energy after the window is unknown, e.g. a meter baseline
  computed without the session's end).
* ``target_met``: whether the session's measured energy reached the energy asked at plug-in
  (``None`` when no target is known).
* ``incentive``: from the program's declared rules (:class:`IncentiveRules`): ``per_kwh`` times
  the positive delivered reduction, plus ``per_event`` when the EV took part (delivered more
  than 1 Wh) with a compliance of at least ``min_compliance`` (or no compliance, for a price
  event). Rounded to cents (half even). The program chooses which baseline settles
  (``baseline_method``); the other one is the fallback when the chosen one is missing.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Final

from .planner import Plan, PowerCap, SolarForecast, VehiclePlan, VehicleRequest, plan
from .tariff import OverlayTariff, Tariff

__all__ = [
    "MAX_COMPARABLE",
    "MIN_COMPARABLE",
    "Baseline",
    "BaselineMethod",
    "EnergyInterval",
    "EventWindow",
    "IncentiveRules",
    "PastSession",
    "Performance",
    "PlanningInputs",
    "counterfactual_plan",
    "energy_in",
    "event_grid",
    "meter_baseline",
    "plan_baseline",
    "plan_intervals",
    "settle",
    "without_event",
]

EnergyInterval = tuple[datetime, datetime, float]
"""``(start, end, kWh)``: energy drawn at constant power over ``[start, end)``."""

MAX_COMPARABLE: Final = 5
"""The meter baseline averages at most this many comparable sessions (the most recent)."""
MIN_COMPARABLE: Final = 2
"""Fewer comparable sessions than this: no meter baseline."""
PLUG_IN_WINDOW: Final = timedelta(hours=1)
"""Comparable sessions plugged in within this of the session's time of day."""
PARTICIPATION_KWH: Final = 0.001
"""Delivering more than this is taking part (for a per-event incentive)."""
_CENTS: Final = Decimal("0.01")
_EPS: Final = 1e-9


class BaselineMethod(StrEnum):
    """How a baseline was computed (and which one a program settles on)."""

    COUNTERFACTUAL = "COUNTERFACTUAL"
    METER = "METER"


@dataclass(frozen=True, slots=True)
class PlanningInputs:
    """Everything one call of :func:`~.planner.plan` takes (for :func:`counterfactual_plan`)."""

    requests: tuple[VehicleRequest, ...]
    now: datetime
    tariff: Tariff
    caps: tuple[PowerCap, ...] = ()
    circuit_kw: float | None = None
    solar: SolarForecast | None = None
    slot_minutes: int = 15
    horizon: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class EventWindow:
    """One event as it touched the premise.

    ``cap_names`` are the :class:`~.planner.PowerCap` names the event put into the plan's
    inputs (load control); ``price_names`` the period names of the price overlays
    (:class:`~.tariff.CppEvent`) it laid over the tariffs. ``limits`` is the event's power
    limit for the vehicle as ``(start, end, kW)`` pieces (empty for a price event).
    """

    event_id: str
    program_id: str
    start: datetime
    end: datetime
    cap_names: frozenset[str] = frozenset()
    price_names: frozenset[str] = frozenset()
    limits: tuple[tuple[datetime, datetime, float], ...] = ()

    def __post_init__(self) -> None:
        _aware(self.start, "start")
        _aware(self.end, "end")
        if self.end <= self.start:
            raise ValueError("an event window must end after it starts")
        for s, e, kw in self.limits:
            _aware(s, "limit start")
            _aware(e, "limit end")
            if not (math.isfinite(kw) and kw >= 0):
                raise ValueError(f"a limit must be a finite number of kW >= 0, got {kw!r}")

    @property
    def is_load_control(self) -> bool:
        """Whether the event limits power (else it is a price event)."""
        return bool(self.limits or self.cap_names)


@dataclass(frozen=True, slots=True)
class PastSession:
    """A previous session of the vehicle, as metered."""

    plug_in: datetime
    unplug: datetime
    intervals: tuple[EnergyInterval, ...]
    had_event: bool = False


@dataclass(frozen=True, slots=True)
class IncentiveRules:
    """What a program pays for a delivered reduction (see the profile: program attributes
    ``INCENTIVE_PER_KWH``, ``INCENTIVE_PER_EVENT``, ``INCENTIVE_MIN_COMPLIANCE``,
    ``BASELINE_METHOD``; the currency from the program's payload descriptor of the same type).
    """

    currency: str | None = None
    per_kwh: Decimal | None = None
    per_event: Decimal | None = None
    min_compliance: float = 0.0
    baseline_method: BaselineMethod = BaselineMethod.COUNTERFACTUAL

    def __post_init__(self) -> None:
        for name in ("per_kwh", "per_event"):
            value = getattr(self, name)
            if value is not None and not value.is_finite():
                raise ValueError(f"{name} must be a finite amount")
        if not (math.isfinite(self.min_compliance) and 0 <= self.min_compliance <= 1):
            raise ValueError("min_compliance must be from 0 to 1")


@dataclass(frozen=True, slots=True)
class Baseline:
    """A baseline over the event window: per interval of :func:`event_grid`, or ``None``.

    ``after_kwh`` is its energy from the window's end to the end of the session (for the energy
    shifted); ``sessions`` how many past sessions a meter baseline averages.
    """

    method: BaselineMethod
    intervals: tuple[EnergyInterval, ...] | None
    after_kwh: float | None = None
    reason: str | None = None
    sessions: int = 0

    @property
    def energy_kwh(self) -> float | None:
        """The baseline's energy over the window."""
        if self.intervals is None:
            return None
        return sum(kwh for _, _, kwh in self.intervals)


@dataclass(frozen=True, slots=True)
class Performance:
    """What one event achieved on one session (see the module docstring)."""

    event_id: str
    program_id: str
    vehicle_id: str
    start: datetime
    end: datetime
    counterfactual: Baseline
    meter: Baseline
    measured: tuple[EnergyInterval, ...]
    method: BaselineMethod | None
    """The baseline settled on (``None``: neither is known)."""
    delivered_kwh: float | None
    delivered_kw: float | None
    asked_kwh: float | None
    compliance: float | None
    shifted_kwh: float | None
    target_met: bool | None
    incentive: Decimal | None
    currency: str | None
    flags: tuple[str, ...] = field(default=())
    delivered_by_method: dict[BaselineMethod, float] = field(default_factory=dict)

    @property
    def measured_kwh(self) -> float:
        """The energy metered in the window."""
        return sum(kwh for _, _, kwh in self.measured)


# --------------------------------------------------------------------------- helpers


def _aware(at: datetime, name: str) -> datetime:
    if not isinstance(at, datetime):
        raise TypeError(f"{name} must be a datetime")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return at.astimezone(UTC)


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


def _check_intervals(intervals: Sequence[EnergyInterval], name: str) -> list[EnergyInterval]:
    out: list[EnergyInterval] = []
    for s, e, kwh in intervals:
        s, e = _aware(s, f"{name} start"), _aware(e, f"{name} end")
        if e < s:
            raise ValueError(f"{name}: an interval ends before it starts")
        if not (math.isfinite(kwh) and kwh >= 0):
            raise ValueError(f"{name}: energy must be a finite number of kWh >= 0, got {kwh!r}")
        out.append((s, e, kwh))
    out.sort(key=lambda i: i[0])
    return out


def energy_in(intervals: Sequence[EnergyInterval], start: datetime, end: datetime) -> float:
    """Energy of ``intervals`` inside ``[start, end)``, pro rata (constant power in each)."""
    total = 0.0
    for s, e, kwh in intervals:
        total += _share(s, e, kwh, start, end)
    return total


def _share(s: datetime, e: datetime, kwh: float, start: datetime, end: datetime) -> float:
    lo, hi = max(s, start), min(e, end)
    if hi <= lo:
        return 0.0
    return kwh * (hi - lo).total_seconds() / (e - s).total_seconds()


class _Series:
    """Checked, sorted, non-overlapping energy intervals with a fast :meth:`energy`."""

    __slots__ = ("ends", "items", "sorted_ends", "starts")

    def __init__(self, intervals: Sequence[EnergyInterval], name: str) -> None:
        self.items = _check_intervals(intervals, name)
        self.starts = [i[0] for i in self.items]
        self.ends = [i[1] for i in self.items]
        self.sorted_ends = all(a <= b for a, b in zip(self.ends, self.ends[1:], strict=False))

    def energy(self, start: datetime, end: datetime) -> float:
        """As :func:`energy_in`, touching only the intervals that can overlap ``[start, end)``
        (sorted by start; when their ends are sorted too, as for metered intervals, the first
        one is found by bisection as well)."""
        if not self.items or end <= start:
            return 0.0
        first = bisect_right(self.ends, start) if self.sorted_ends else 0
        last = bisect_left(self.starts, end)
        total = 0.0
        for s, e, kwh in self.items[first:last]:
            total += _share(s, e, kwh, start, end)
        return total


def event_grid(start: datetime, end: datetime, minutes: int) -> list[tuple[datetime, datetime]]:
    """The event window cut into report intervals of ``minutes`` from its start (last partial)."""
    if isinstance(minutes, bool) or not 1 <= minutes <= 60:
        raise ValueError("minutes must be from 1 to 60")
    s, e = _aware(start, "start"), _aware(end, "end")
    step = timedelta(minutes=minutes)
    out: list[tuple[datetime, datetime]] = []
    while s < e:
        out.append((s, min(s + step, e)))
        s += step
    return out


# --------------------------------------------------------------------------- counterfactual


def _strip(tariff: Tariff | None, names: frozenset[str]) -> Tariff | None:
    if tariff is None or not names or not isinstance(tariff, OverlayTariff):
        return tariff
    kept = [e for e in tariff.events if e.name not in names]
    if len(kept) == len(tariff.events):
        return tariff
    return OverlayTariff(tariff.base, kept) if kept else tariff.base


def without_event(inputs: PlanningInputs, event: EventWindow) -> PlanningInputs:
    """The same inputs without the event's caps and price overlays."""
    caps = tuple(c for c in inputs.caps if c.name not in event.cap_names)
    tariff = _strip(inputs.tariff, event.price_names)
    assert tariff is not None
    requests = tuple(
        replace(r, tariff=_strip(r.tariff, event.price_names)) for r in inputs.requests
    )
    return replace(inputs, caps=caps, tariff=tariff, requests=requests)


def counterfactual_plan(inputs: PlanningInputs, event: EventWindow) -> Plan:
    """What the planner would have done without the event (freeze it when the event arrives)."""
    cf = without_event(inputs, event)
    return plan(
        cf.requests,
        now=cf.now,
        tariff=cf.tariff,
        caps=cf.caps,
        circuit_kw=cf.circuit_kw,
        solar=cf.solar,
        slot_minutes=cf.slot_minutes,
        horizon=cf.horizon,
        explain=False,
    )


def plan_intervals(vehicle_plan: VehiclePlan) -> tuple[EnergyInterval, ...]:
    """A vehicle's planned slots as energy intervals (what the Home Assistant side freezes)."""
    return tuple((s.start, s.end, s.energy_kwh) for s in vehicle_plan.slots)


def plan_baseline(
    planned: Sequence[EnergyInterval],
    event: EventWindow,
    *,
    interval_minutes: int,
    session_end: datetime | None = None,
) -> Baseline:
    """The counterfactual baseline from the frozen planned intervals."""
    slots = _Series(planned, "planned")
    grid = event_grid(event.start, event.end, interval_minutes)
    values = tuple((a, b, slots.energy(a, b)) for a, b in grid)
    horizon = session_end if session_end is not None else datetime.max.replace(tzinfo=UTC)
    after = slots.energy(event.end, horizon)
    return Baseline(BaselineMethod.COUNTERFACTUAL, values, after)


# --------------------------------------------------------------------------- meter baseline


def _weekend(at: datetime, tz: tzinfo) -> bool:
    return at.astimezone(tz).weekday() >= 5


def _minute_of_day(at: datetime, tz: tzinfo) -> int:
    local = at.astimezone(tz)
    return local.hour * 60 + local.minute


def _comparable(plug_in: datetime, past: PastSession, tz: tzinfo) -> bool:
    if past.had_event or past.unplug > plug_in or past.plug_in >= plug_in:
        return False
    if _weekend(past.plug_in, tz) != _weekend(plug_in, tz):
        return False
    diff = abs(_minute_of_day(past.plug_in, tz) - _minute_of_day(plug_in, tz))
    return min(diff, 1440 - diff) <= PLUG_IN_WINDOW.total_seconds() / 60


def meter_baseline(
    history: Sequence[PastSession],
    event: EventWindow,
    *,
    plug_in: datetime,
    interval_minutes: int,
    tz: tzinfo = UTC,
    session_end: datetime | None = None,
) -> Baseline:
    """The meter baseline from the vehicle's previous sessions (rule: module docstring)."""
    p = _aware(plug_in, "plug_in")
    chosen = sorted(
        (s for s in history if _comparable(p, s, tz)), key=lambda s: s.plug_in, reverse=True
    )[:MAX_COMPARABLE]
    if len(chosen) < MIN_COMPARABLE:
        return Baseline(
            BaselineMethod.METER,
            None,
            reason=(
                f"{len(chosen)} comparable session{'s' if len(chosen) != 1 else ''}"
                f" (same weekday type, plug-in within 1 h, no event; {MIN_COMPARABLE} needed)"
            ),
            sessions=len(chosen),
        )
    aligned = [(s.plug_in, _Series(s.intervals, "past session")) for s in chosen]
    grid = event_grid(event.start, event.end, interval_minutes)

    def average(a: datetime, b: datetime) -> float:
        total = 0.0
        for q, series in aligned:
            total += series.energy(q + (a - p), q + (b - p))
        return total / len(aligned)

    values = tuple((a, b, average(a, b)) for a, b in grid)
    after: float | None = None  # unknown without the session's end: no energy shifted
    if session_end is not None:
        after = average(event.end, session_end) if session_end > event.end else 0.0
    return Baseline(BaselineMethod.METER, values, after, sessions=len(chosen))


# --------------------------------------------------------------------------- settlement


def _asked(baseline: Baseline, event: EventWindow) -> float | None:
    if not event.limits or baseline.intervals is None:
        return None
    limits = [(_aware(s, "limit"), _aware(e, "limit"), kw) for s, e, kw in event.limits]
    asked = 0.0
    for a, b, kwh in baseline.intervals:
        allowed = 0.0
        covered = 0.0
        for s, e, kw in limits:
            lo, hi = max(s, a), min(e, b)
            if hi > lo:
                allowed += kw * _hours(lo, hi)
                covered += _hours(lo, hi)
        if covered <= 0:
            continue  # no limit in this interval: nothing asked there
        share = kwh * covered / _hours(a, b) if b > a else 0.0
        asked += max(0.0, share - allowed)
    return asked


def _compliance(
    delivered: float, asked: float | None, event: EventWindow
) -> tuple[float | None, tuple[str, ...]]:
    if asked is None:
        return None, ("price_event",) if not event.is_load_control else ("no_limit",)
    if asked <= _EPS:
        return None, ("nothing_asked",)
    ratio = delivered / asked
    if ratio < 0:
        return 0.0, ("increased_load",)
    if ratio > 1:
        return 1.0, ("exceeded_ask",)
    return ratio, ()


def _incentive(
    rules: IncentiveRules | None, delivered: float, compliance: float | None, asked: float | None
) -> Decimal | None:
    if rules is None or (rules.per_kwh is None and rules.per_event is None):
        return None
    amount = Decimal(0)
    if rules.per_kwh is not None and delivered > 0:
        amount += rules.per_kwh * Decimal(repr(round(delivered, 6)))
    took_part = delivered > PARTICIPATION_KWH
    meets = compliance is None if asked is None else (compliance or 0.0) >= rules.min_compliance
    if rules.per_event is not None and took_part and meets:
        amount += rules.per_event
    return amount.quantize(_CENTS, rounding=ROUND_HALF_EVEN)


def settle(
    event: EventWindow,
    *,
    vehicle_id: str,
    measured: Sequence[EnergyInterval],
    counterfactual: Baseline,
    meter: Baseline,
    target_kwh: float | None = None,
    rules: IncentiveRules | None = None,
) -> Performance:
    """The event's performance on one session (see the module docstring).

    ``measured`` are the session's metered intervals (all of them: the energy after the window
    counts for the energy shifted and the target). Both baselines must be on the same grid
    (:func:`plan_baseline`, :func:`meter_baseline` with the same ``interval_minutes``).
    """
    if target_kwh is not None and not (math.isfinite(target_kwh) and target_kwh >= 0):
        raise ValueError(f"target_kwh must be a finite number >= 0, got {target_kwh!r}")
    meters = _Series(measured, "measured")
    grid = [(a, b) for a, b, _ in (counterfactual.intervals or meter.intervals or ())]
    if not grid:
        grid = event_grid(event.start, event.end, 60)
    in_window = tuple((a, b, meters.energy(a, b)) for a, b in grid)
    measured_kwh = sum(kwh for _, _, kwh in in_window)
    after = meters.energy(event.end, datetime.max.replace(tzinfo=UTC))
    total = sum(kwh for _, _, kwh in meters.items)
    target_met = None if target_kwh is None else total >= target_kwh - max(0.05, 0.01 * target_kwh)

    by_method: dict[BaselineMethod, float] = {}
    for b in (counterfactual, meter):
        energy = b.energy_kwh
        if energy is not None:
            by_method[b.method] = energy - measured_kwh
    preferred = rules.baseline_method if rules is not None else BaselineMethod.COUNTERFACTUAL
    order = [counterfactual, meter]
    if preferred is BaselineMethod.METER:
        order.reverse()
    chosen = next((b for b in order if b.intervals is not None), None)
    flags: list[str] = []
    if chosen is None:
        return Performance(
            event.event_id,
            event.program_id,
            vehicle_id,
            event.start,
            event.end,
            counterfactual,
            meter,
            in_window,
            None,
            None,
            None,
            None,
            None,
            None,
            target_met,
            None,
            rules.currency if rules is not None else None,
            ("no_baseline",),
            by_method,
        )
    if chosen.method is not preferred:
        flags.append(f"fallback_{chosen.method.value.lower()}")
    delivered = by_method[chosen.method]
    hours = _hours(event.start, event.end)
    asked = _asked(chosen, event)
    compliance, why = _compliance(delivered, asked, event)
    flags.extend(why)
    shifted = None
    if chosen.after_kwh is not None:
        shifted = max(0.0, min(max(delivered, 0.0), after - chosen.after_kwh))
    return Performance(
        event.event_id,
        event.program_id,
        vehicle_id,
        event.start,
        event.end,
        counterfactual,
        meter,
        in_window,
        chosen.method,
        delivered,
        delivered / hours,
        asked,
        compliance,
        shifted,
        target_met,
        _incentive(rules, delivered, compliance, asked),
        rules.currency if rules is not None else None,
        tuple(flags),
        by_method,
    )
