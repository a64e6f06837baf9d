"""Power feed (V2H/V2G): the core feed planner's inputs from Home Assistant's state, and its
result on the clock (issue #18, docs/power-feed.md "Planner wiring").

* The slot grid: from now to the latest feeding departure, at every quarter hour (the first slot
  is the rest of the current one) and at every departure; the core merges alike slots itself.
* Per slot: the import price (the session's tariff, time-weighted), the export price
  (``ProgramEvents.export_prices``; a gap is worth nothing, and the core takes it at most the
  import price), the export limit (``ProgramEvents.export_limits``: the smallest segment the
  slot touches; a gap has no limit), the home's load (the option's power sensor now, as a flat
  forecast; unknown: none, so nothing is fed to the home).
* Per vehicle: capacity, state of charge, floor and target (% of the capacity), departure
  slot, maximum charge (the charger model, learned limits included; DLC caps lower it per
  slot, the circuit bounds it) and discharge power, efficiencies (the demo car's, else the
  core's defaults), wear and the daily cycle budget.

No Home Assistant state is read in :func:`plan_groups` (it runs in the executor).
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant

from ..core.planner_feed import FeedPlan, FeedPremise, FeedVehicle, FeedVehiclePlan, plan_feed
from ..core.tariff import Tariff

SLOT = timedelta(minutes=15)
_HOUR = 3600.0


def slot_grid(now: datetime, end: datetime, marks: Sequence[datetime] = ()) -> list[datetime]:
    """The slots' bounds from ``now`` to ``end``: every quarter hour between them, and
    ``marks`` (departures) that fall inside."""
    bounds = {now, end, *(m for m in marks if now < m < end)}
    t = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + SLOT
    while t < end:
        bounds.add(t)
        t += SLOT
    return sorted(bounds)


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / _HOUR


def _touching(
    pieces: Sequence[tuple[datetime, datetime, float]], bounds: Sequence[datetime]
) -> list[list[tuple[datetime, datetime, float]]]:
    """Per slot, the pieces it touches (one pass: pieces sorted by start, not overlapping, as
    tariffs and ``ProgramEvents``' export signals are)."""
    ordered = sorted(pieces, key=lambda p: p[0])
    out: list[list[tuple[datetime, datetime, float]]] = []
    j = 0
    for a, b in itertools.pairwise(bounds):
        while j < len(ordered) and ordered[j][1] <= a:
            j += 1
        k, found = j, []
        while k < len(ordered) and ordered[k][0] < b:
            if ordered[k][1] > a:
                found.append(ordered[k])
            k += 1
        out.append(found)
    return out


def average(
    pieces: Sequence[tuple[datetime, datetime, float]], bounds: Sequence[datetime], gap: float
) -> list[float]:
    """Per slot, the time-weighted average of piecewise values (a time no piece covers counts
    as ``gap``)."""
    out = []
    for (a, b), touching in zip(itertools.pairwise(bounds), _touching(pieces, bounds), strict=True):
        covered = total = 0.0
        for start, end, value in touching:
            h = _hours(max(a, start), min(b, end))
            covered += h
            total += value * h
        span = _hours(a, b)
        out.append((total + gap * max(0.0, span - covered)) / span)
    return out


def smallest(
    pieces: Sequence[tuple[datetime, datetime, float]], bounds: Sequence[datetime]
) -> list[float]:
    """Per slot, the smallest value of the pieces it touches (none: ``inf``)."""
    return [
        max(0.0, min(v for _a, _b, v in touching)) if touching else math.inf
        for touching in _touching(pieces, bounds)
    ]


def import_prices(tariff: Tariff, bounds: Sequence[datetime]) -> list[float]:
    """Per slot, the tariff's time-weighted price."""
    segments = tariff.segments(bounds[0], bounds[-1])
    return average([(s.start, s.end, float(s.price)) for s in segments], bounds, 0.0)


def clean_pieces(
    pieces: Sequence[tuple[datetime, datetime, float]],
) -> list[tuple[datetime, datetime, float]]:
    """The pieces with a finite value and a positive length (a malformed one is left out)."""
    return [
        (a, b, float(v))
        for a, b, v in pieces
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and b > a
    ]


def power_kw(hass: HomeAssistant, entity_id: str | None) -> float | None:
    """A power sensor's value in kW now (W unless its unit says kW or MW); ``None`` when it
    is missing, unavailable, unknown, not a number, NaN or infinite. Below zero (a net meter
    exporting): 0."""
    if not entity_id:
        return None
    state = hass.states.get(entity_id)
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    unit = str(state.attributes.get("unit_of_measurement") or "W")
    scale = {"kW": 1.0, "MW": 1000.0}.get(unit, 0.001)
    return max(0.0, value * scale)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A session that may feed: everything its :class:`FeedVehicle` is built from."""

    charger_id: str
    tariff: Tariff
    capacity_kwh: float
    soc: float  # 0-1
    floor_pct: float
    target_pct: float
    departure: datetime
    max_charge_kw: float
    max_discharge_kw: float
    charge_efficiency: float
    discharge_efficiency: float
    wear: float
    cycles_per_day: float
    caps: tuple[tuple[datetime, datetime, float], ...] = ()


@dataclass(frozen=True, slots=True)
class FeedInputs:
    """One planning run: the slot bounds and per tariff the premise and vehicles."""

    bounds: tuple[datetime, ...]
    groups: tuple[tuple[FeedPremise, tuple[FeedVehicle, ...]], ...]
    import_price: dict[str, tuple[float, ...]]  # per charger
    export_price: tuple[float, ...]
    candidates: tuple[Candidate, ...]


def build(
    candidates: Sequence[Candidate],
    now: datetime,
    export_prices: Sequence[tuple[datetime, datetime, float]],
    export_limits: Sequence[tuple[datetime, datetime, float]],
    home_kw: float | None,
) -> FeedInputs:
    """The planner's inputs (raises :class:`~..core.planner_feed.FeedError` on bad values).

    Vehicles on different tariffs are planned apart (the core has one import price per slot),
    each group with an equal share of the home's load and of the export limit, so that the
    premise never exports more than allowed and no kWh of the home counts twice.
    """
    end = max(c.departure for c in candidates)
    bounds = slot_grid(now, end, [c.departure for c in candidates])
    hours = tuple(_hours(a, b) for a, b in itertools.pairwise(bounds))
    export = tuple(average(clean_pieces(export_prices), bounds, 0.0))
    limit = smallest(clean_pieces(export_limits), bounds)
    by_tariff: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_tariff.setdefault(c.tariff.fingerprint, []).append(c)
    share = 1.0 / len(by_tariff)
    groups = []
    prices: dict[str, tuple[float, ...]] = {}
    for members in by_tariff.values():
        price = tuple(import_prices(members[0].tariff, bounds))
        premise = FeedPremise(
            slot_hours=hours,
            import_price=price,
            export_price=export,
            export_limit_kw=tuple(x * share for x in limit),
            home_load_kw=None if home_kw is None else (home_kw * share,) * len(hours),
        )
        vehicles = tuple(_vehicle(c, bounds) for c in members)
        groups.append((premise, vehicles))
        for c in members:
            prices[c.charger_id] = price
    return FeedInputs(tuple(bounds), tuple(groups), prices, export, tuple(candidates))


def _vehicle(c: Candidate, bounds: Sequence[datetime]) -> FeedVehicle:
    limits = smallest(c.caps, bounds) if c.caps else None
    soc = min(1.0, max(0.0, c.soc)) * c.capacity_kwh
    return FeedVehicle(
        vehicle_id=c.charger_id,
        capacity_kwh=c.capacity_kwh,
        soc_kwh=soc,
        floor_kwh=c.capacity_kwh * min(100.0, max(0.0, c.floor_pct)) / 100.0,
        target_kwh=c.capacity_kwh * min(100.0, max(0.0, c.target_pct)) / 100.0,
        departure_slot=list(bounds).index(c.departure),
        max_charge_kw=c.max_charge_kw,
        max_discharge_kw=c.max_discharge_kw,
        charge_efficiency=c.charge_efficiency,
        discharge_efficiency=c.discharge_efficiency,
        wear_cost_per_kwh=c.wear,
        cycles_per_day=c.cycles_per_day,
        charge_limit_kw=tuple(limits) if limits is not None else None,
    )


@dataclass(frozen=True, slots=True)
class FeedResult:
    """A feed plan on the clock: per feeding charger its plan over the slots ``bounds``."""

    made_at: datetime
    bounds: tuple[datetime, ...]
    plans: dict[str, FeedVehiclePlan]
    candidates: dict[str, Candidate]
    import_price: dict[str, tuple[float, ...]]
    export_price: tuple[float, ...]
    gap: float = 0.0
    starts: tuple[datetime, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts", self.bounds[:-1])

    def slot_index(self, at: datetime) -> int | None:
        """The slot holding ``at`` (None: outside the plan)."""
        i = bisect_right(self.starts, at) - 1
        return i if 0 <= i < len(self.starts) and at < self.bounds[i + 1] else None

    def kw_at(self, charger_id: str, at: datetime) -> tuple[float, float] | None:
        """The planned charge and discharge power (kW) of a feeding charger at ``at`` (None:
        not planned by the feed planner then)."""
        vp = self.plans.get(charger_id)
        i = self.slot_index(at)
        if vp is None or i is None:
            return None
        h = _hours(self.bounds[i], self.bounds[i + 1])
        return vp.charge_kwh[i] / h, vp.discharge_kwh[i] / h

    def dispatch(self, charger_id: str) -> list[tuple[datetime, datetime, float]]:
        """Per slot (start, end, net kW; below zero: fed back), alike neighbours merged."""
        vp = self.plans.get(charger_id)
        if vp is None:
            return []
        out: list[tuple[datetime, datetime, float]] = []
        for i, (a, b) in enumerate(zip(self.bounds, self.bounds[1:], strict=False)):
            net = round((vp.charge_kwh[i] - vp.discharge_kwh[i]) / _hours(a, b), 3)
            if out and out[-1][2] == net and out[-1][1] == a:
                out[-1] = (out[-1][0], b, net)
            else:
                out.append((a, b, net))
        return out

    def wakeups(self, after: datetime) -> list[datetime]:
        """When a feeding charger's planned power changes (a timer wakes the planner)."""
        times = {b for cid in self.plans for _a, b, _kw in self.dispatch(cid) if b > after}
        return sorted(times)


def plan_groups(inputs: FeedInputs, max_rounds: int) -> tuple[dict[str, FeedVehiclePlan], float]:
    """Run the core planner on each tariff group (in the executor); the plans by charger and
    the largest proven gap."""
    plans: dict[str, FeedVehiclePlan] = {}
    gap = 0.0
    for premise, vehicles in inputs.groups:
        found: FeedPlan = plan_feed(vehicles, premise, max_rounds=max_rounds)
        plans.update(found.vehicles)
        gap = max(gap, found.gap)
    return plans, gap
