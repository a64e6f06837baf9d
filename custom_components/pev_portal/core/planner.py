"""The charge planner: an exact, cost-optimal charging plan for the vehicles of a premise.

Pure Python (standard library only), no Home Assistant imports. All times are timezone-aware;
everything returned is in UTC.

The problem
-----------
Time from ``now`` to ``now + horizon`` is cut into *slots*: the clock grid of
``slot_minutes`` (multiples of ``slot_minutes`` since the Unix epoch, i.e. aligned to the UTC
clock, which is the local clock for every zone whose offset is a multiple of the slot), further
split at ``now``, at every departure, at every :class:`PowerCap` boundary and at every
:class:`SolarForecast` point boundary. So a slot is never longer than ``slot_minutes``, the
first one starts at ``now`` (partial), a departure inside a grid slot truncates that slot, and
every limit is constant over a slot. Price changes do *not* split slots: the price of a slot is
the time-weighted average of the tariff over it (:attr:`PlanSlot.price`). Charging at constant
power over a slot costs exactly that average times the energy, which is also what
:meth:`Tariff.cost` charges for it.

For vehicle ``v`` and slot ``t`` the allowed power ``limit[v, t]`` is the charger's maximum
(``ChargerModel.max_kw``), lowered by every power cap in force that applies to ``v``, and zero
from the departure on. With ``discretize=True`` (the default) it is further lowered to the
highest power level the charger can realise (:meth:`ChargerModel.levels`). The circuit limit
``circuit_kw`` is shared by all the premise's chargers in every slot (solar power included:
it limits what flows through the chargers).

With ``x[v, t]`` the energy of ``v`` in ``t`` the optimiser solves, lexicographically:

1. maximise the group's delivered energy ``sum x``;
2. then minimise the cost ``sum price[v, t] * x[v, t]``;

subject to ``0 <= x[v, t] <= limit[v, t] * hours[t]``, ``sum_t x[v, t] <= energy_kwh[v]`` and
``sum_v x[v, t] <= circuit_kw * hours[t]``. So a reachable target is always reached, and an
unreachable one gets as close as the limits allow.

The algorithm (exact)
---------------------
This is a transportation problem: a min-cost max-flow from the vehicles (supply
``energy_kwh``) through vehicle-slot arcs (capacity ``limit * hours``, cost ``price``) into the
slots (capacity ``circuit_kw * hours``). See :func:`min_cost_allocation`:

* When no slot's circuit limit can bind (no circuit, or the sum of the vehicles' limits fits),
  the vehicles are independent and each is solved greedily: fill its arcs in increasing price
  order. That is optimal (a fractional knapsack with unit weights).
* Otherwise successive shortest paths: augment along a cheapest path of the residual graph
  until no path is left. Starting from the zero flow (no negative cycle) this gives a min-cost
  flow for every flow value, hence a min-cost max-flow. A residual path alternates vehicles and
  slots (``v -> t -> v' -> t' -> ... -> sink``: ``v`` takes over part of ``v'``'s energy in
  ``t`` and ``v'`` moves it to ``t'``), so it is computed on a graph of the vehicles only,
  where the weight of ``v -> v'`` is the best such exchange over all slots and the weight of
  ``v -> sink`` the cheapest slot with room on both the arc and the circuit. Those minima are
  kept in lazily-cleaned heaps (only the tops an augmentation invalidated are read again), and
  the path is found by a dense Dijkstra on weights made nonnegative by potentials (Johnson's
  reweighting, the distances of the previous round capped at the sink's), stopped as soon as
  no open vehicle can reach the sink cheaper: an augmentation costs ``O(V^2 + V log T)`` at
  most, usually a few vehicles' rows, instead of a search over all ``V * T`` arcs. The number
  of augmentations is about the number of slots in use.

Ties (equal prices) go to the *earlier* slot in ``CHEAPEST`` mode (ready sooner, robust to an
early unplug) and to the *later* slot for the grid energy of ``SOLAR`` mode (leaving room for a
better-than-forecast sun). In the coupled (circuit) case the cost is optimal but which of
several equal-cost plans is returned is not specified.

Modes
-----
* ``IMMEDIATE``: as early as possible at the maximum allowed power, by design not
  cost-optimal. Immediate vehicles are served first, slot by slot in priority order
  (``priority`` descending, then ``vehicle_id``), and the circuit headroom they leave is what
  the optimised vehicles share.
* ``CHEAPEST``: the optimum above.
* ``SOLAR``: the forecast surplus (:class:`SolarForecast`) is free. In each slot it is
  apportioned to the solar-mode vehicles in priority order (up to each one's limit); the
  vehicle's arc then has two pieces, the surplus at price ``min(0, price)`` (negative grid
  prices beat free sun) and the rest at ``price``. Grid energy is bought only as needed for
  the target by the departure (the energy request), cheapest first, ties late. A vehicle
  without a departure is planned to the horizon.
* ``OFF``: nothing (the plan says so, with an explanation of constraint ``"mode"``).

``priority`` orders immediate charging, the surplus and ties in the packing below; the
optimiser itself maximises the *group's* energy, so when the circuit makes the group fall
short the shortfall may fall on any vehicle.

The executable plan (``discretize=True``)
-----------------------------------------
A charger realises only its levels: ``0`` and ``phases * voltage * A / 1000`` for integer
``A`` in ``[min_a, max_a]`` within ``[min_kw, max_kw]`` (current steps), or ``0`` and
``max_kw`` (``on_off_only``). The continuous optimum above is computed with each limit already
lowered to the highest level the charger can run (alone on the circuit too), and the circuit
lowered to what sums of levels can reach (:func:`.planner_build.usable_circuit`: 10.81 kW of
an 11 kW circuit for 230 W steps). It is then made executable (:mod:`.planner_exec`):

* Time-sharing inside a slot. A vehicle alone (or on a circuit with room for every charger's
  top level) runs at the smallest level that delivers its energy, from the start of the slot,
  then off (``IMMEDIATE``: its top level). On a binding circuit the slot is *packed*: vehicles
  whose energy is below their lowest level all along take turns at common levels (a group
  runs like one vehicle), then each unit is water-filled into the circuit's headroom: the
  highest level it can hold wherever it fits, the next level up on part of the time (most
  headroom first). Coarse units (high minimum, big steps) go first and finer ones fill what
  they leave; three orders are tried, the first that realises everything wins. The result is
  sub-slots ``(start, end, level)`` such that the levels in force sum to at most the circuit
  at every instant.
* Where the packing falls short of the continuous optimum (which bounds every executable
  plan) on a binding circuit with every vehicle planned for cost (:func:`.planner_lp.suits`),
  the exact optimum over all time-shared schedules: a linear program over the slots'
  *configurations* (one level per charger within the circuit; a slot runs several, each for
  part of it), solved by column generation (:mod:`.planner_lp`). It includes every schedule
  at constant levels per slot (the mixed-integer reference of the tests).
* Elsewhere (or if the LP runs out of its budget), a heuristic search. What a slot cannot
  realise goes back to the optimiser: a min-cost flow over the room left
  in the other slots (repair); then short vehicles take more where a slot has room, even from
  another vehicle of that slot when the slot realises more in total, trying the packing and
  two single-level configurations (balanced, cheapest first); then two-hop exchanges (a served
  vehicle fills a slot better, sheds as much in its dearest slot, where a short vehicle takes
  the room); then energy moves to cheaper slots with room. If energy is still lost, the
  continuous problem is tightened where it was lost (a vehicle whose target leaves no room for
  another's lowest level gets its limit lowered; later rounds fix a lossy slot to what it
  realised) and solved again, up to four rounds, from four optima (ties between vehicles
  and between slots broken either way), then twice more where a cut may keep the other
  vehicle out of the slot instead. The best plan seen (energy, then cost) is returned. Above
  800 vehicle-slots the effort is bounded (one optimum, no cuts, one top-up pass).
* Caps are never exceeded (every level is at most the slot's realisable limit), nor the
  circuit at any instant. What the executable plan delivers less than the continuous optimum
  is reported per vehicle with constraint ``"charger"`` (the chargers' power levels).

A :class:`PlanSlot` may therefore be shorter than its slot, and one slot may hold several
pieces of a vehicle at different levels; a vehicle's pieces are sorted and disjoint, its
``power_kw`` is always one of the charger's levels, and only pieces with energy are listed.
Figures against a mixed-integer reference: ``docs/planner.md``.

Explanations
------------
When a target is not reachable, the continuous optimum at the chargers' levels is recomputed
without each cap (grouped by name), and without the circuit limit, in turn (the executable step
is not run for these trials); every constraint whose removal delivers more energy to the
vehicle than that optimum with all constraints is reported with the energy it withholds and
the ready times with and without it. If
the target is still out of reach without any cap or circuit, ``"departure"`` (or ``"horizon"``)
is reported, and energy lost to the chargers' levels is reported as ``"charger"``. When only
several constraints *together* withhold energy (no single removal helps), one ``"combined"``
explanation names them all.
``ready_by`` of an unreachable vehicle is when it would be ready if it kept charging at its
allowed power after the departure (``None`` beyond 7 days). Messages are built by
:func:`explanation_message` with a time zone (UTC in the core; the Home Assistant side may
re-render them in local time).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from itertools import pairwise

from .planner_build import _build, _Problem, _solve, _Vehicle
from .planner_exec import realise
from .planner_flow import min_cost_allocation
from .planner_model import (
    _COST_QUANTUM,
    _EXPLAIN_MIN_KWH,
    _ONE_US,
    _READY_LOOKAHEAD,
    _US_PER_HOUR,
    EPS,
    REACHABLE_TOL_KWH,
    ChargeMode,
    ChargerModel,
    Explanation,
    Plan,
    PlanInputs,
    PlanningError,
    PlanSlot,
    PowerCap,
    SolarForecast,
    VehiclePlan,
    VehicleRequest,
    _dt,
    _fmt,
    _kwh_decimal,
    _us,
)
from .planner_replan import needs_replan
from .tariff import Tariff

__all__ = [
    "ChargeMode",
    "ChargerModel",
    "Explanation",
    "Plan",
    "PlanInputs",
    "PlanSlot",
    "PlanningError",
    "PowerCap",
    "SolarForecast",
    "VehiclePlan",
    "VehicleRequest",
    "explanation_message",
    "immediate_cost",
    "min_cost_allocation",
    "needs_replan",
    "plan",
]


@dataclass(frozen=True, slots=True)
class _Outcome:
    plan: Plan
    lost: dict[str, float]  # energy lost to discretisation per vehicle
    continuous: dict[str, float]  # energy per vehicle of the continuous optimum at the levels


def _plan(
    requests: Sequence[VehicleRequest],
    *,
    now: datetime,
    tariff: Tariff,
    caps: Sequence[PowerCap],
    circuit_kw: float | None,
    solar: SolarForecast | None,
    slot_minutes: int,
    horizon: timedelta,
    discretize: bool,
    execute: bool = True,
) -> _Outcome:
    """One plan. ``discretize``: limits lowered to the chargers' levels, and with ``execute``
    the executable plan; without, the continuous optimum at those limits."""
    if not 1 <= slot_minutes <= 60 or 60 % slot_minutes:
        raise ValueError(f"slot_minutes must divide 60, got {slot_minutes!r}")
    if horizon <= timedelta(0):
        raise ValueError("horizon must be positive")
    ids = [r.vehicle_id for r in requests]
    if len(set(ids)) != len(ids):
        raise ValueError("vehicle ids must be unique")
    for req in requests:
        if not math.isfinite(req.energy_kwh):
            raise ValueError(f"{req.vehicle_id}: energy_kwh must be finite")
    if circuit_kw is not None and not math.isfinite(circuit_kw):
        raise ValueError("circuit_kw must be finite")
    now_us = _us(now, "now")
    end_us = now_us + horizon // _ONE_US
    problem = _build(
        requests, now_us, end_us, tariff, caps, circuit_kw, solar, slot_minutes, discretize
    )
    _solve(problem)
    continuous = {v.req.vehicle_id: sum(v.energy) for v in problem.vehicles}
    if discretize and execute:
        rows, lost = realise(
            problem, problem.circuit_kw, lambda variant: _solve(problem, variant=variant)
        )
    else:
        rows, lost = _continuous_rows(problem), {v.index: 0.0 for v in problem.vehicles}
    vehicles: dict[str, VehiclePlan] = {}
    total = Decimal(0)
    for v in problem.vehicles:
        slots: list[PlanSlot] = []
        cost = Decimal(0)
        energy = 0.0
        for s, e, kw, kwh, t in rows[v.index]:
            sol = min(kwh, v.solar[t]) if v.prices[t] > 0 else 0.0
            price = v.dprices[t]
            slots.append(PlanSlot(_dt(s), _dt(e), kw, kwh, price, sol))
            cost += _kwh_decimal(kwh - sol) * price
            energy += kwh
        cost = cost.quantize(_COST_QUANTUM)
        if cost.is_zero():
            cost = abs(cost)
        shortfall = max(0.0, max(0.0, v.req.energy_kwh) - energy)
        reachable = shortfall <= REACHABLE_TOL_KWH
        if shortfall <= REACHABLE_TOL_KWH:
            shortfall = 0.0
        ready: datetime | None
        if reachable:
            ready = slots[-1].end if slots else now.astimezone(UTC)
        else:
            ready = _projected_ready(v, shortfall, problem, caps, circuit_kw)
        vehicles[v.req.vehicle_id] = VehiclePlan(
            v.req.vehicle_id,
            tuple(slots),
            energy,
            cost,
            reachable,
            shortfall,
            ready,
            slots[0].start if slots else None,
            (),
        )
        total += cost
    plan_ = Plan(vehicles, total, now.astimezone(UTC), slot_minutes, _dt(end_us))
    lost_by_id = {v.req.vehicle_id: lost[v.index] for v in problem.vehicles}
    return _Outcome(plan_, lost_by_id, continuous)


def _continuous_rows(problem: _Problem) -> dict[int, list[tuple[int, int, float, float, int]]]:
    """The continuous optimum as it is: one piece per slot with energy, at its average power."""
    bounds, hours = problem.bounds, problem.hours
    out: dict[int, list[tuple[int, int, float, float, int]]] = {}
    for v in problem.vehicles:
        out[v.index] = [
            (bounds[t], bounds[t + 1], e / hours[t], e, t)
            for t, e in enumerate(v.energy)
            if e > EPS
        ]
    return out


def _projected_ready(
    v: _Vehicle,
    shortfall: float,
    problem: _Problem,
    caps: Sequence[PowerCap],
    circuit_kw: float | None,
) -> datetime | None:
    """When ``v`` would be ready charging on alone after its departure (or the horizon)."""
    if v.req.mode is ChargeMode.OFF:
        return None
    start_us = problem.bounds[-1]
    if v.req.departure is not None:
        start_us = min(start_us, _us(v.req.departure, "departure"))
    start_us = max(start_us, problem.bounds[0])
    stop_us = start_us + _READY_LOOKAHEAD // _ONE_US
    mine = [
        (_us(c.start, "cap start"), _us(c.end, "cap end"), c.max_kw)
        for c in caps
        if c.vehicle_ids is None or v.req.vehicle_id in c.vehicle_ids
    ]
    points = sorted(
        {start_us, stop_us} | {p for s, e, _ in mine for p in (s, e) if start_us < p < stop_us}
    )
    left = shortfall
    for lo, hi in pairwise(points):
        kw = v.req.charger.max_kw
        if circuit_kw is not None:
            kw = min(kw, circuit_kw)
        for s, e, c in mine:
            if s <= lo and hi <= e:
                kw = min(kw, c)
        if problem.discretize:
            kw = v.top(max(0.0, kw))
        if kw <= 0:
            continue
        span_h = (hi - lo) / _US_PER_HOUR
        if kw * span_h >= left:
            return _dt(lo + round(left / kw * _US_PER_HOUR))
        left -= kw * span_h
    return None


# --------------------------------------------------------------------------- explanations


def explanation_message(e: Explanation, *, tz: tzinfo = UTC) -> str:
    """The human text of an explanation, times shown in ``tz``."""
    ready = ""
    if e.ready_by is not None or e.ready_without is not None:
        ready = f"; ready at {_fmt(e.ready_by, tz)}"
        if e.constraint in ("cap", "circuit", "combined"):
            ready += f" instead of {_fmt(e.ready_without, tz)}"
    kwh = f"{e.delayed_kwh:.1f} kWh"
    match e.constraint:
        case "cap":
            span = f" from {_fmt(e.start, tz)} to {_fmt(e.end, tz)}" if e.start else ""
            return f"the {e.name}{span} delays {kwh}{ready}"
        case "circuit":
            return f"the {e.name} shared with the other vehicles delays {kwh}{ready}"
        case "combined":
            return f"together, the {e.name} delay {kwh}{ready}"
        case "departure":
            return f"departure at {_fmt(e.start, tz)} leaves {kwh} short even at full power{ready}"
        case "horizon":
            return f"the planning horizon ends at {_fmt(e.start, tz)}, {kwh} short{ready}"
        case "charger":
            return f"the {e.name} leave {kwh} short{ready}"
        case "mode":
            return f"charging is off ({kwh} not planned)"
        case _:
            return f"{e.name} delays {kwh}{ready}"


def _explain(
    requests: Sequence[VehicleRequest],
    base: _Outcome,
    reference: dict[str, float],
    caps: Sequence[PowerCap],
    circuit_kw: float | None,
    tz: tzinfo,
    replan: Callable[[Sequence[PowerCap], float | None], _Outcome],
) -> dict[str, tuple[Explanation, ...]]:
    short = [
        r for r in requests if not base.plan.vehicles[r.vehicle_id].reachable and r.energy_kwh > 0
    ]
    out: dict[str, list[Explanation]] = {r.vehicle_id: [] for r in short}
    if not short:
        return {}

    def add(
        vid: str,
        c: str,
        name: str,
        s: datetime | None,
        e: datetime | None,
        kwh: float,
        ready_with: datetime | None,
        ready_without: datetime | None,
    ) -> None:
        ex = Explanation(c, name, s, e, kwh, "", ready_with, ready_without)
        out[vid].append(replace(ex, message=explanation_message(ex, tz=tz)))

    groups: dict[str, list[PowerCap]] = {}
    for c in caps:
        groups.setdefault(c.name, []).append(c)
    trials: list[tuple[str, str, datetime | None, datetime | None, _Outcome]] = []
    for name, members in groups.items():
        rest = [c for c in caps if c.name != name]
        trials.append(
            (
                "cap",
                name,
                min(m.start for m in members),
                max(m.end for m in members),
                replan(rest, circuit_kw),
            )
        )
    if circuit_kw is not None:
        trials.append(
            ("circuit", f"{circuit_kw:g} kW circuit limit", None, None, replan(caps, None))
        )
    free = replan((), None)
    for r in short:
        vid = r.vehicle_id
        mine = base.plan.vehicles[vid]
        if r.mode is ChargeMode.OFF:
            add(vid, "mode", "off", None, None, max(0.0, r.energy_kwh), None, None)
            continue
        ref = reference[vid]
        for kind, name, s, e, outcome in trials:
            other = outcome.plan.vehicles[vid]
            gain = other.energy_kwh - ref
            if gain > _EXPLAIN_MIN_KWH:
                add(vid, kind, name, s, e, gain, mine.ready_by, other.ready_by)
        free_gain = free.plan.vehicles[vid].energy_kwh - ref
        if not out[vid] and free_gain > _EXPLAIN_MIN_KWH:
            # No single cap or circuit explains it: they withhold the energy only together.
            names = [*groups, *([f"{circuit_kw:g} kW circuit limit"] if circuit_kw else [])]
            ready_free = free.plan.vehicles[vid].ready_by
            add(
                vid,
                "combined",
                " and ".join(names),
                None,
                None,
                free_gain,
                mine.ready_by,
                ready_free,
            )
        lost = base.lost.get(vid, 0.0)
        if lost > _EXPLAIN_MIN_KWH:
            levels = "chargers' power levels (minimum current, steps) on the shared circuit"
            if circuit_kw is None:
                levels = "charger's power levels (minimum current, steps)"
            add(vid, "charger", levels, None, None, lost, mine.ready_by, None)
        free_short = free.plan.vehicles[vid].shortfall_kwh - free.lost.get(vid, 0.0)
        if free_short > _EXPLAIN_MIN_KWH:
            horizon_end = base.plan.horizon_end
            dep = r.departure
            if dep is not None and (horizon_end is None or dep <= horizon_end):
                add(vid, "departure", "departure", dep, dep, free_short, mine.ready_by, None)
            else:
                add(
                    vid,
                    "horizon",
                    "horizon",
                    horizon_end,
                    horizon_end,
                    free_short,
                    mine.ready_by,
                    None,
                )
    return {k: tuple(v) for k, v in out.items()}


# --------------------------------------------------------------------------- public API


def plan(
    requests: Sequence[VehicleRequest],
    *,
    now: datetime,
    tariff: Tariff,
    caps: Sequence[PowerCap] = (),
    circuit_kw: float | None = None,
    solar: SolarForecast | None = None,
    slot_minutes: int = 15,
    horizon: timedelta = timedelta(days=7),
    discretize: bool = True,
    explain: bool = True,
    tz: tzinfo = UTC,
) -> Plan:
    """Plan the charging of ``requests`` (see the module docstring for the exact problem).

    ``discretize=False`` returns the continuous optimum (any power up to the limits);
    ``explain=False`` skips the explanations (which replan once per cap name and for the
    circuit); ``tz`` is the time zone of the explanation messages.
    """

    def run(c: Sequence[PowerCap], circuit: float | None, execute: bool = True) -> _Outcome:
        return _plan(
            requests,
            now=now,
            tariff=tariff,
            caps=c,
            circuit_kw=circuit,
            solar=solar,
            slot_minutes=slot_minutes,
            horizon=horizon,
            discretize=discretize,
            execute=execute,
        )

    base = run(caps, circuit_kw)
    if not explain or all(
        base.plan.vehicles[r.vehicle_id].reachable or r.energy_kwh <= 0 for r in requests
    ):
        return base.plan  # nothing to explain (the trials below only explain shortfalls)
    # The trials (each constraint removed) compare continuous optima at the chargers' levels:
    # what a constraint withholds, measured exactly; what the executable plan loses on top of
    # that is the "charger" explanation. The continuous optimum with every constraint is the
    # executable step's own starting point.
    notes = _explain(
        requests, base, base.continuous, caps, circuit_kw, tz, lambda c, k: run(c, k, execute=False)
    )
    if not notes:
        return base.plan
    vehicles = {
        vid: replace(vp, explanations=notes.get(vid, ())) for vid, vp in base.plan.vehicles.items()
    }
    return replace(base.plan, vehicles=vehicles)


def immediate_cost(
    requests: Sequence[VehicleRequest],
    *,
    now: datetime,
    tariff: Tariff,
    caps: Sequence[PowerCap] = (),
    circuit_kw: float | None = None,
    slot_minutes: int = 15,
    horizon: timedelta = timedelta(days=7),
    discretize: bool = True,
) -> Decimal:
    """Cost of charging every (not ``OFF``) vehicle at full allowed power from ``now``."""
    asap = [
        r if r.mode is ChargeMode.OFF else replace(r, mode=ChargeMode.IMMEDIATE) for r in requests
    ]
    return plan(
        asap,
        now=now,
        tariff=tariff,
        caps=caps,
        circuit_kw=circuit_kw,
        slot_minutes=slot_minutes,
        horizon=horizon,
        discretize=discretize,
        explain=False,
    ).total_cost
