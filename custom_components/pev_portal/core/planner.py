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
  ``t`` and ``v'`` moves it to ``t'``), so it is computed by Bellman-Ford on a graph of the
  vehicles only, where the weight of ``v -> v'`` is the best such exchange over all slots and
  the weight of ``v -> sink`` the cheapest slot with room on both the arc and the circuit. Those
  minima are kept in lazily-cleaned heaps, so an augmentation costs ``O(V^3 + V^2 log T)``
  instead of a Dijkstra over all ``V * T`` arcs. The number of augmentations is about the
  number of slots in use.

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

``priority`` orders immediate charging, the surplus and the discrete rounding below; the
optimiser itself maximises the *group's* energy, so when the circuit makes the group fall
short the shortfall may fall on any vehicle.

Discrete power (``discretize=True``)
------------------------------------
A charger realises only its levels: ``0`` and ``phases * voltage * A / 1000`` for integer
``A`` in ``[min_a, max_a]`` within ``[min_kw, max_kw]`` (current steps), or ``0`` and
``max_kw`` (``on_off_only``). The continuous optimum above is computed with the per-slot limit
already lowered to the highest realisable level, then realised slot by slot in time order
(vehicles in priority order), carrying any remainder forward:

* wanted energy ``w = x[v, t] + carry[v]``; the vehicle runs at the *smallest* level ``L`` with
  ``L * hours >= w`` (at most the slot's top level; ``IMMEDIATE``: the top level, to finish
  as early as possible) for ``w / L`` hours from the start of the slot and is off for the rest
  of it, so the energy is exact (e.g. a 15-minute slot with 1.1 kWh at 11 kW becomes 6
  minutes on). If even the top level cannot deliver ``w``, it runs
  at the top level for the whole slot and carries the rest forward to its next slots.
* Circuit: a current-step vehicle reserves its level for the whole slot; on/off vehicles then
  share the remaining headroom one after the other inside the slot (non-overlapping on-times,
  each needing ``max_kw`` of headroom). A vehicle that does not fit carries its energy forward.
  Where the continuous plan splits a full circuit between vehicles at powers between steps,
  this reservation can push a little energy (less than one current step per vehicle and slot)
  forward, and at the very end into a shortfall.
* Energy still carried at the departure (or the horizon) is a shortfall, explained with
  constraint ``"charger"``. Caps are never exceeded: every level used is at most the slot's
  realisable limit. The discrete cost can be above the continuous optimum where energy is
  carried into dearer slots.

A discrete :class:`PlanSlot` may therefore be shorter than its slot (the on-time); its
``power_kw`` is always one of the charger's levels. Only slots with energy are listed.

Explanations
------------
When a target is not reachable, the plan is recomputed without each cap (grouped by name), and
without the circuit limit, in turn; every constraint whose removal delivers more energy to the
vehicle is reported with the energy it withholds and the ready times with and without it. If
the target is still out of reach without any cap or circuit, ``"departure"`` (or ``"horizon"``)
is reported, and a shortfall caused by the rounding to levels is reported as ``"charger"``. When only several constraints *together* withhold energy (no single removal
helps), one ``"combined"`` explanation names them all.
``ready_by`` of an unreachable vehicle is when it would be ready if it kept charging at its
allowed power after the departure (``None`` beyond 7 days). Messages are built by
:func:`explanation_message` with a time zone (UTC in the core; the Home Assistant side may
re-render them in local time).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, localcontext
from enum import StrEnum
from itertools import pairwise
from typing import Final

from .tariff import Tariff

__all__ = [
    "ChargeMode",
    "ChargerModel",
    "Explanation",
    "Plan",
    "PlanInputs",
    "PlanSlot",
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

EPS: Final = 1e-9
"""Energies (kWh) below this are zero."""
REACHABLE_TOL_KWH: Final = 1e-6
"""A shortfall up to this is no shortfall."""
_EXPLAIN_MIN_KWH: Final = 1e-3
_US_PER_HOUR: Final = 3_600_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US: Final = timedelta(microseconds=1)
_COST_QUANTUM: Final = Decimal("0.000001")
_READY_LOOKAHEAD: Final = timedelta(days=7)
_INF: Final = math.inf
_TIE: Final = 1e-12  # path costs this close are equal (float noise)


class PlanningError(RuntimeError):
    """The planner could not finish (a bug: it is exact and always terminates otherwise)."""


class ChargeMode(StrEnum):
    """The user's charge mode for a vehicle."""

    IMMEDIATE = "immediate"
    CHEAPEST = "cheapest"
    SOLAR = "solar"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class ChargerModel:
    """What a charger can do.

    ``max_kw`` should be the charger's power at ``max_a`` (``phases * voltage * max_a / 1000``,
    e.g. 7.36 kW for 32 A single phase at 230 V): levels above ``max_kw`` are never used.
    """

    max_kw: float
    min_kw: float = 0.0
    phases: int = 1
    voltage: float = 230.0
    min_a: int = 6
    max_a: int = 32
    on_off_only: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_kw) and self.max_kw >= 0):
            raise ValueError(f"max_kw must be a finite number >= 0, got {self.max_kw!r}")
        if not (math.isfinite(self.min_kw) and self.min_kw >= 0):
            raise ValueError(f"min_kw must be a finite number >= 0, got {self.min_kw!r}")
        if self.phases not in (1, 2, 3):
            raise ValueError(f"phases must be 1, 2 or 3, got {self.phases!r}")
        if not (math.isfinite(self.voltage) and self.voltage > 0):
            raise ValueError(f"voltage must be > 0, got {self.voltage!r}")
        if not 0 < self.min_a <= self.max_a:
            raise ValueError(f"need 0 < min_a <= max_a, got {self.min_a!r}..{self.max_a!r}")

    def levels(self) -> tuple[float, ...]:
        """The realisable powers in kW, ascending, starting with 0."""
        if self.on_off_only:
            return (0.0, self.max_kw) if self.max_kw > 0 else (0.0,)
        steps = (
            self.phases * self.voltage * amps / 1000 for amps in range(self.min_a, self.max_a + 1)
        )
        usable = sorted({p for p in steps if self.min_kw - EPS <= p <= self.max_kw + EPS and p > 0})
        return (0.0, *usable)


@dataclass(frozen=True, slots=True)
class VehicleRequest:
    """One plugged-in vehicle: the energy still wanted, by when, and how."""

    vehicle_id: str
    energy_kwh: float
    departure: datetime | None
    charger: ChargerModel
    mode: ChargeMode = ChargeMode.CHEAPEST
    tariff: Tariff | None = None  # None: the plan's default tariff
    priority: int = 0


@dataclass(frozen=True, slots=True)
class PowerCap:
    """A power limit over ``[start, end)`` (a load-control event, a user limit...).

    ``vehicle_ids=None``: the cap applies to each vehicle (not to their sum; that is the
    circuit limit).
    """

    start: datetime
    end: datetime
    max_kw: float
    name: str
    vehicle_ids: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class SolarForecast:
    """Forecast surplus power available to EV charging: ``(start, end, kW)`` intervals."""

    points: tuple[tuple[datetime, datetime, float], ...]


@dataclass(frozen=True, slots=True)
class PlanSlot:
    """Charging at ``power_kw`` over ``[start, end)``.

    ``price`` is the slot's time-weighted average price; ``solar_kwh`` of ``energy_kwh`` is
    forecast surplus (free), the rest is bought at ``price``.
    """

    start: datetime
    end: datetime
    power_kw: float
    energy_kwh: float
    price: Decimal
    solar_kwh: float = 0.0


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a vehicle gets less (or later) than asked.

    ``constraint``: ``"cap"``, ``"circuit"``, ``"combined"``, ``"departure"``, ``"horizon"``,
    ``"charger"`` or ``"mode"``. ``ready_by``/``ready_without`` are the ready times with and without the
    constraint (``None``: not within a week).
    """

    constraint: str
    name: str
    start: datetime | None
    end: datetime | None
    delayed_kwh: float
    message: str
    ready_by: datetime | None = None
    ready_without: datetime | None = None


@dataclass(frozen=True, slots=True)
class VehiclePlan:
    """The plan of one vehicle."""

    vehicle_id: str
    slots: tuple[PlanSlot, ...]
    energy_kwh: float
    cost: Decimal
    reachable: bool
    shortfall_kwh: float
    ready_by: datetime | None
    start: datetime | None
    explanations: tuple[Explanation, ...]

    def power_at(self, at: datetime) -> float:
        """Planned power at ``at`` (0 outside the charging slots)."""
        idx = bisect_right([s.start for s in self.slots], at) - 1
        if idx >= 0 and at < self.slots[idx].end:
            return self.slots[idx].power_kw
        return 0.0

    def energy_between(self, start: datetime, end: datetime) -> float:
        """Planned energy over ``[start, end)`` (assuming constant power inside each slot)."""
        total = 0.0
        for s in self.slots:
            lo, hi = max(s.start, start), min(s.end, end)
            if hi > lo:
                total += s.power_kw * ((hi - lo) / _ONE_US) / _US_PER_HOUR
        return total


@dataclass(frozen=True, slots=True)
class Plan:
    """The plans of all vehicles (``total_cost`` is their sum)."""

    vehicles: dict[str, VehiclePlan]
    total_cost: Decimal
    created_at: datetime
    slot_minutes: int
    horizon_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Everything a plan was computed from (for :func:`needs_replan`)."""

    requests: tuple[VehicleRequest, ...]
    tariff: Tariff
    caps: tuple[PowerCap, ...] = ()
    circuit_kw: float | None = None
    solar: SolarForecast | None = None


# --------------------------------------------------------------------------- helpers


def _us(at: datetime, name: str) -> int:
    if not isinstance(at, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {at.isoformat()}")
    return (at - _EPOCH) // _ONE_US


def _dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _fmt(at: datetime | None, tz: tzinfo) -> str:
    return "?" if at is None else at.astimezone(tz).strftime("%H:%M")


def _kwh_decimal(kwh: float) -> Decimal:
    return Decimal(f"{kwh:.9f}")


class _TopLevel:
    """Highest realisable level at most a given limit (memoised per limit)."""

    __slots__ = ("_cache", "_levels")

    def __init__(self, levels: tuple[float, ...]) -> None:
        self._levels = levels
        self._cache: dict[float, float] = {}

    def __call__(self, limit: float) -> float:
        hit = self._cache.get(limit)
        if hit is None:
            idx = bisect_right(self._levels, limit + EPS) - 1
            hit = self._levels[idx] if idx >= 0 else 0.0
            self._cache[limit] = hit
        return hit


# --------------------------------------------------------------------------- allocation


def min_cost_allocation(
    demands: Sequence[float],
    arcs: Sequence[tuple[int, int, float, float]],
    slot_caps: Sequence[float] | None,
    *,
    late: Sequence[bool] | None = None,
) -> list[float]:
    """Exact min-cost max-flow of the vehicle/slot transportation problem.

    ``demands[v]``: energy wanted by vehicle ``v``; ``arcs``: ``(vehicle, slot, capacity,
    cost)``; ``slot_caps[t]``: capacity of slot ``t`` shared by all arcs into it (``None``:
    unlimited). Returns the flow of every arc: the largest total flow and, among those, the
    cheapest. ``late[v]`` breaks price ties toward later slots for vehicle ``v`` (default
    earlier). See the module docstring for the algorithm.
    """
    n = len(demands)
    m = len(arcs)
    av = [a[0] for a in arcs]
    at = [a[1] for a in arcs]
    cap = [max(0.0, a[2]) for a in arcs]
    cost = [a[3] for a in arcs]
    sign = [(-1 if late is not None and late[v] else 1) for v in range(n)]
    key = [sign[av[a]] * at[a] for a in range(m)]
    flow = [0.0] * m

    coupled = False
    if slot_caps is not None:
        per_slot: dict[int, float] = {}
        for a in range(m):
            per_slot[at[a]] = per_slot.get(at[a], 0.0) + cap[a]
        coupled = any(total > slot_caps[t] + EPS for t, total in per_slot.items())

    if not coupled:
        by_vehicle: list[list[int]] = [[] for _ in range(n)]
        for a in range(m):
            if cap[a] > EPS:
                by_vehicle[av[a]].append(a)
        for v in range(n):
            need = demands[v]
            if need <= EPS:
                continue
            for a in sorted(by_vehicle[v], key=lambda i: (cost[i], key[i])):
                take = min(cap[a], need)
                flow[a] = take
                need -= take
                if need <= EPS:
                    break
        return flow

    assert slot_caps is not None
    _ssp(n, demands, av, at, cap, cost, key, flow, slot_caps)
    return flow


def _ssp(
    n: int,
    demands: Sequence[float],
    av: list[int],
    at: list[int],
    cap: list[float],
    cost: list[float],
    key: list[int],
    flow: list[float],
    slot_caps: Sequence[float],
) -> None:
    """Successive shortest paths on the vehicle graph (see module docstring)."""
    sent = [0.0] * n
    load: dict[int, float] = {}
    arcs_at: dict[int, list[int]] = {}
    sink: list[list[tuple[float, int, int]]] = [[] for _ in range(n)]
    for a in range(len(av)):
        if cap[a] <= EPS:
            continue
        arcs_at.setdefault(at[a], []).append(a)
        if slot_caps[at[a]] > EPS:
            sink[av[a]].append((cost[a], key[a], a))
    for h in sink:
        heapq.heapify(h)
    pair: list[list[list[tuple[float, int, int, int]]]] = [[[] for _ in range(n)] for _ in range(n)]
    inf = _INF
    rng_n = range(n)
    # A guard, never reached in the tests: each augmentation saturates an arc, empties one,
    # fills a slot or meets a demand, each arc at most a few times over.
    rounds, limit = 0, 20 * (len(av) + n) + 1000

    while True:
        # Edge weights: tops of the lazily cleaned heaps.
        w_sink: list[float] = [inf] * n
        a_sink: list[int] = [-1] * n
        for i in rng_n:
            h = sink[i]
            while h:
                _, _, a = h[0]
                t = at[a]
                if cap[a] - flow[a] > EPS and slot_caps[t] - load.get(t, 0.0) > EPS:
                    w_sink[i] = h[0][0]
                    a_sink[i] = a
                    break
                heapq.heappop(h)
        w_pair: list[list[float]] = [[inf] * n for _ in rng_n]
        e_pair: list[list[tuple[int, int]]] = [[(-1, -1)] * n for _ in rng_n]
        for i in rng_n:
            row = pair[i]
            for j in rng_n:
                hp = row[j]
                while hp:
                    _, _, a, b = hp[0]
                    if cap[a] - flow[a] > EPS and flow[b] > EPS:
                        w_pair[i][j] = hp[0][0]
                        e_pair[i][j] = (a, b)
                        break
                    heapq.heappop(hp)
        # Bellman-Ford from the vehicles that still want energy (finite edges only).
        edges = [(i, j, w_pair[i][j]) for i in rng_n for j in rng_n if w_pair[i][j] < inf]
        dist = [0.0 if demands[i] - sent[i] > EPS else inf for i in rng_n]
        pred = [-1] * n
        if edges:
            for _ in rng_n:
                changed = False
                for i, j, w in edges:
                    nd = dist[i] + w
                    if nd < dist[j] - 1e-12:
                        dist[j] = nd
                        pred[j] = i
                        changed = True
                if not changed:
                    break
        best = inf
        last = -1
        for i in rng_n:
            if dist[i] + w_sink[i] < best:
                best = dist[i] + w_sink[i]
                last = i
        if last < 0:
            return
        rounds += 1
        if rounds > limit:
            raise PlanningError(
                f"the flow did not converge in {limit} augmentations (demands {list(demands)})"
            )
        # The path, from the sink back to the vehicle that starts it.
        path: list[tuple[int, int]] = []  # (forward arc, backward arc or -1)
        j = last
        seen = {j}
        while pred[j] >= 0:
            i = pred[j]
            path.append(e_pair[i][j])
            j = i
            if j in seen:  # pragma: no cover - no negative cycles by construction
                raise RuntimeError("negative cycle in the residual graph")
            seen.add(j)
        first = j
        a_last = a_sink[last]
        t_last = at[a_last]
        # A last hop that only moves the last vehicle within the slot it ends in (it leaves
        # arc b of slot t and enters arc a_last of the same slot, no cheaper) is no hop at all:
        # the vehicle before it enters the slot directly, at no higher cost. Kept, its
        # bottleneck could be the last vehicle's tiny flow on b, augmented again and again.
        while path and at[path[0][1]] == t_last and cost[a_last] >= cost[path[0][1]] - _TIE:
            a_last = path[0][0]
            path.pop(0)
        delta = min(
            demands[first] - sent[first],
            cap[a_last] - flow[a_last],
            slot_caps[t_last] - load.get(t_last, 0.0),
        )
        for a, b in path:
            delta = min(delta, cap[a] - flow[a], flow[b])
        # Augment. Heap entries only become valid again when an arc gets its first flow (a
        # new backward edge) or loses its saturation (a new forward edge); the circuit's room
        # never grows. Those are re-offered; stale entries are dropped lazily above.
        sent[first] = (
            demands[first] if demands[first] - sent[first] - delta <= EPS else sent[first] + delta
        )
        new_load = load.get(t_last, 0.0) + delta
        load[t_last] = slot_caps[t_last] if slot_caps[t_last] - new_load <= EPS else new_load
        gained_flow: list[int] = []
        gained_room: list[int] = []
        forward = [a_last, *(a for a, _ in path)]
        for a in forward:
            if flow[a] <= EPS:
                gained_flow.append(a)
            flow[a] = cap[a] if cap[a] - flow[a] - delta <= EPS else flow[a] + delta
        for _, b in path:
            if cap[b] - flow[b] <= EPS:
                gained_room.append(b)
            flow[b] = 0.0 if flow[b] - delta <= EPS else flow[b] - delta
        for b in gained_flow:  # new backward edges x -> vehicle of b
            if flow[b] <= EPS:
                continue
            vb = av[b]
            for a in arcs_at[at[b]]:
                va = av[a]
                if va != vb and cap[a] - flow[a] > EPS:
                    heapq.heappush(pair[va][vb], (cost[a] - cost[b], key[a], a, b))
        for a in gained_room:  # new forward edges from the vehicle of a
            if cap[a] - flow[a] <= EPS:
                continue
            va = av[a]
            t = at[a]
            if slot_caps[t] - load.get(t, 0.0) > EPS:
                heapq.heappush(sink[va], (cost[a], key[a], a))
            for b in arcs_at[t]:
                vb = av[b]
                if vb != va and flow[b] > EPS:
                    heapq.heappush(pair[va][vb], (cost[a] - cost[b], key[a], a, b))


# --------------------------------------------------------------------------- planning


@dataclass(slots=True)
class _Vehicle:
    req: VehicleRequest
    index: int
    levels: tuple[float, ...]
    top: _TopLevel
    prices: list[float]
    dprices: list[Decimal]
    limit: list[float] = field(default_factory=list)  # kW per slot
    energy: list[float] = field(default_factory=list)  # kWh per slot (continuous)
    solar: list[float] = field(default_factory=list)  # kWh of surplus available per slot


@dataclass(slots=True)
class _Problem:
    bounds: list[int]  # slot boundaries, µs since the epoch
    hours: list[float]
    vehicles: list[_Vehicle]
    circuit: list[float] | None  # kWh per slot
    discretize: bool


def _slot_prices(
    tariff: Tariff, bounds: list[int], cache: dict[int, tuple[list[float], list[Decimal]]]
) -> tuple[list[float], list[Decimal]]:
    hit = cache.get(id(tariff))
    if hit is not None:
        return hit
    segs = tariff.segments(_dt(bounds[0]), _dt(bounds[-1]))
    seg_bounds = [(_us(s.start, "segment"), _us(s.end, "segment"), s.price) for s in segs]
    floats: list[float] = []
    decimals: list[Decimal] = []
    k = 0
    with localcontext() as ctx:
        ctx.prec = 28
        for t in range(len(bounds) - 1):
            lo, hi = bounds[t], bounds[t + 1]
            while seg_bounds[k][1] <= lo:
                k += 1
            _, s_hi, price = seg_bounds[k]
            if s_hi >= hi:
                avg = price
            else:
                acc = Decimal(0)
                j = k
                while j < len(seg_bounds) and seg_bounds[j][0] < hi:
                    a, b, p = seg_bounds[j]
                    acc += p * (min(b, hi) - max(a, lo))
                    j += 1
                avg = acc / (hi - lo)
            decimals.append(avg)
            floats.append(float(avg))
    cache[id(tariff)] = (floats, decimals)
    return floats, decimals


def _build(
    requests: Sequence[VehicleRequest],
    now_us: int,
    end_us: int,
    tariff: Tariff,
    caps: Sequence[PowerCap],
    circuit_kw: float | None,
    solar: SolarForecast | None,
    slot_minutes: int,
    discretize: bool,
) -> _Problem:
    step = slot_minutes * 60_000_000
    points = set(range((now_us // step + 1) * step, end_us, step))
    points.update((now_us, end_us))
    for req in requests:
        if req.departure is not None:
            points.add(_us(req.departure, "departure"))
    cap_us = [(_us(c.start, "cap start"), _us(c.end, "cap end"), c) for c in caps]
    for s, e, _ in cap_us:
        points.update((s, e))
    solar_us: list[tuple[int, int, float]] = []
    if solar is not None:
        for s_at, e_at, kw in solar.points:
            s, e = _us(s_at, "solar start"), _us(e_at, "solar end")
            solar_us.append((s, e, kw))
            points.update((s, e))
    bounds = sorted(p for p in points if now_us <= p <= end_us)
    n_slots = len(bounds) - 1
    hours = [(bounds[t + 1] - bounds[t]) / _US_PER_HOUR for t in range(n_slots)]

    price_cache: dict[int, tuple[list[float], list[Decimal]]] = {}
    vehicles: list[_Vehicle] = []
    for index, req in enumerate(requests):
        levels = req.charger.levels()
        prices, dprices = _slot_prices(req.tariff or tariff, bounds, price_cache)
        v = _Vehicle(req, index, levels, _TopLevel(levels), prices, dprices)
        limit = [req.charger.max_kw] * n_slots
        if req.departure is not None:
            dep = bisect_left(bounds, _us(req.departure, "departure"))
            for t in range(min(dep, n_slots), n_slots):
                limit[t] = 0.0
        v.limit = limit
        v.energy = [0.0] * n_slots
        v.solar = [0.0] * n_slots
        vehicles.append(v)
    for s, e, c in cap_us:
        lo = bisect_left(bounds, s)
        hi = min(bisect_left(bounds, e), n_slots)
        for v in vehicles:
            if c.vehicle_ids is not None and v.req.vehicle_id not in c.vehicle_ids:
                continue
            lim = v.limit
            kw = max(0.0, c.max_kw)
            for t in range(lo, hi):
                if kw < lim[t]:
                    lim[t] = kw
    if discretize:
        for v in vehicles:
            top = v.top
            v.limit = [top(x) for x in v.limit]
    circuit = None if circuit_kw is None else [max(0.0, circuit_kw) * h for h in hours]
    if solar_us and n_slots:
        surplus = [0.0] * n_slots
        for s, e, kw in solar_us:
            lo = bisect_left(bounds, s)
            hi = min(bisect_left(bounds, e), n_slots)
            for t in range(lo, hi):
                surplus[t] += max(0.0, kw) * hours[t]
        ordered = sorted(
            (v for v in vehicles if v.req.mode is ChargeMode.SOLAR),
            key=lambda v: (-v.req.priority, v.req.vehicle_id),
        )
        for t in range(n_slots):
            left = surplus[t]
            if circuit is not None:
                left = min(left, circuit[t])
            for v in ordered:
                if left <= EPS:
                    break
                share = min(left, v.limit[t] * hours[t])
                v.solar[t] = share
                left -= share
    return _Problem(bounds, hours, vehicles, circuit, discretize)


def _order(vehicles: Sequence[_Vehicle]) -> list[_Vehicle]:
    return sorted(vehicles, key=lambda v: (-v.req.priority, v.req.vehicle_id))


def _solve(problem: _Problem) -> None:
    """Fill ``energy`` of every vehicle (continuous plan)."""
    hours = problem.hours
    n_slots = len(hours)
    circuit = None if problem.circuit is None else list(problem.circuit)
    immediate = [v for v in problem.vehicles if v.req.mode is ChargeMode.IMMEDIATE]
    optimised = [
        v for v in problem.vehicles if v.req.mode in (ChargeMode.CHEAPEST, ChargeMode.SOLAR)
    ]
    ordered = _order(immediate)
    need = {v.index: max(0.0, v.req.energy_kwh) for v in ordered}
    for t in range(n_slots):
        for v in ordered:
            left = need[v.index]
            if left <= EPS:
                continue
            take = min(left, v.limit[t] * hours[t])
            if circuit is not None:
                take = min(take, circuit[t])
                circuit[t] -= take
            if take > EPS:
                v.energy[t] = take
                need[v.index] = left - take
    if not optimised:
        return
    demands = [max(0.0, v.req.energy_kwh) for v in optimised]
    arcs: list[tuple[int, int, float, float]] = []
    owner: list[tuple[int, int]] = []
    for k, v in enumerate(optimised):
        lim = v.limit
        prices = v.prices
        solar = v.solar
        for t in range(n_slots):
            u = lim[t] * hours[t]
            if u <= EPS:
                continue
            price = prices[t]
            s = solar[t]
            if s > EPS:
                s = min(s, u)
                arcs.append((k, t, s, min(0.0, price)))
                owner.append((k, t))
                if u - s > EPS:
                    arcs.append((k, t, u - s, price))
                    owner.append((k, t))
            else:
                arcs.append((k, t, u, price))
                owner.append((k, t))
    late = [v.req.mode is ChargeMode.SOLAR for v in optimised]
    flows = min_cost_allocation(demands, arcs, circuit, late=late)
    for (k, t), f in zip(owner, flows, strict=True):
        if f > EPS:
            optimised[k].energy[t] += f


def _realise(
    problem: _Problem, discretize: bool, circuit_kw: float | None
) -> tuple[dict[int, list[tuple[int, int, float, float, int]]], dict[int, float]]:
    """Slots actually planned per vehicle: ``(start_us, end_us, kW, kWh, slot)``.

    Also returns each vehicle's energy lost to the rounding to levels.
    """
    bounds, hours = problem.bounds, problem.hours
    out: dict[int, list[tuple[int, int, float, float, int]]] = {
        v.index: [] for v in problem.vehicles
    }
    lost: dict[int, float] = {v.index: 0.0 for v in problem.vehicles}
    if not discretize:
        for v in problem.vehicles:
            rows = out[v.index]
            for t, e in enumerate(v.energy):
                if e > EPS:
                    rows.append((bounds[t], bounds[t + 1], e / hours[t], e, t))
        return out, lost
    ordered = _order(problem.vehicles)
    carry = {v.index: 0.0 for v in ordered}
    last_open = {
        v.index: max((t for t, lim in enumerate(v.limit) if lim > 0), default=-1) for v in ordered
    }
    for t, h in enumerate(hours):
        slot_us = bounds[t + 1] - bounds[t]
        headroom = _INF if circuit_kw is None else max(0.0, circuit_kw)
        on_off: list[_Vehicle] = []
        for v in ordered:
            w = v.energy[t] + carry[v.index]
            if w <= EPS:
                carry[v.index] = 0.0
                continue
            if v.req.charger.on_off_only:
                on_off.append(v)
                continue
            top = v.top(min(v.limit[t], headroom))
            if top <= 0:
                carry[v.index] = w
                continue
            if v.req.mode is ChargeMode.IMMEDIATE:
                level = top  # as early as possible: full power, then off
            else:
                idx = max(1, bisect_left(v.levels, w / h - EPS))
                level = v.levels[idx] if idx < len(v.levels) and v.levels[idx] <= top else top
            e = min(w, level * h)
            on_us = slot_us if e >= level * h - EPS else round(e / level * _US_PER_HOUR)
            if on_us > 0:
                out[v.index].append((bounds[t], bounds[t] + on_us, level, e, t))
            carry[v.index] = w - e
            headroom -= level
        used_us = 0
        for v in on_off:
            w = v.energy[t] + carry[v.index]
            kw = v.req.charger.max_kw
            if kw <= 0 or v.limit[t] < kw - EPS or kw > headroom + EPS:
                carry[v.index] = w
                continue
            free_us = slot_us - used_us if circuit_kw is not None else slot_us
            on_us = min(free_us, round(w / kw * _US_PER_HOUR))
            if on_us <= 0:
                carry[v.index] = w
                continue
            e = min(w, kw * on_us / _US_PER_HOUR)
            start = bounds[t] + (used_us if circuit_kw is not None else 0)
            out[v.index].append((start, start + on_us, kw, e, t))
            carry[v.index] = w - e
            if circuit_kw is not None:
                used_us += on_us
        for v in ordered:  # past its last open slot, what is still carried is lost
            if carry[v.index] > EPS and t >= last_open[v.index]:
                lost[v.index] += carry[v.index]
                carry[v.index] = 0.0
    for v in ordered:
        if carry[v.index] > EPS:
            lost[v.index] += carry[v.index]
    return out, lost


@dataclass(frozen=True, slots=True)
class _Outcome:
    plan: Plan
    lost: dict[str, float]  # energy lost to discretisation per vehicle


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
) -> _Outcome:
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
    rows, lost = _realise(problem, discretize, circuit_kw)
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
    return _Outcome(plan_, {v.req.vehicle_id: lost[v.index] for v in problem.vehicles})


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
            return f"the charger's power steps leave {kwh} short{ready}"
        case "mode":
            return f"charging is off ({kwh} not planned)"
        case _:
            return f"{e.name} delays {kwh}{ready}"


def _explain(
    requests: Sequence[VehicleRequest],
    base: _Outcome,
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
    free = replan((), None) if (caps or circuit_kw is not None) else base
    for r in short:
        vid = r.vehicle_id
        mine = base.plan.vehicles[vid]
        if r.mode is ChargeMode.OFF:
            add(vid, "mode", "off", None, None, max(0.0, r.energy_kwh), None, None)
            continue
        for kind, name, s, e, outcome in trials:
            other = outcome.plan.vehicles[vid]
            gain = other.energy_kwh - mine.energy_kwh
            if gain > _EXPLAIN_MIN_KWH:
                add(vid, kind, name, s, e, gain, mine.ready_by, other.ready_by)
        free_gain = free.plan.vehicles[vid].energy_kwh - mine.energy_kwh
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
            add(vid, "charger", "power steps", None, None, lost, mine.ready_by, None)
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

    def run(c: Sequence[PowerCap], circuit: float | None) -> _Outcome:
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
        )

    base = run(caps, circuit_kw)
    if not explain:
        return base.plan
    notes = _explain(requests, base, caps, circuit_kw, tz, run)
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


def needs_replan(
    previous: PlanInputs | None,
    new: PlanInputs,
    *,
    current: Plan | None = None,
    now: datetime | None = None,
    measured_kw: Mapping[str, float] | None = None,
    energy_tolerance_kwh: float = 0.5,
    power_tolerance_kw: float = 0.5,
) -> str | None:
    """Why the plan must be recomputed, or ``None`` if it still holds.

    Checked in this order (the first reason found is returned):

    * ``"first plan"``: there is no previous plan;
    * ``"plugged: <id>"`` / ``"unplugged: <id>"``: the set of vehicles changed;
    * ``"events changed"``: power caps (load-control events) added, removed or changed;
    * ``"circuit changed"``, ``"solar forecast changed"``;
    * ``"price update"``: the default tariff or a vehicle's tariff changed;
    * ``"request changed: <id>"``: departure, charger, mode or priority changed;
    * ``"energy changed: <id>"``: the energy still wanted differs by more than
      ``energy_tolerance_kwh`` from what the plan expects at ``now`` (the previous request
      minus the energy planned between ``current.created_at`` and ``now``; without a plan, from
      the previous request): a target change, or charging that fell behind;
    * ``"under-delivery: <id>"``: the measured power is more than ``power_tolerance_kw`` below
      the planned power at ``now``;
    * ``"plan expired"``: ``now`` is past the plan's horizon.

    Nothing else (e.g. the energy going down as planned) requires a replan.
    """
    if previous is None:
        return "first plan"
    old = {r.vehicle_id: r for r in previous.requests}
    cur = {r.vehicle_id: r for r in new.requests}
    for vid in sorted(cur.keys() - old.keys()):
        return f"plugged: {vid}"
    for vid in sorted(old.keys() - cur.keys()):
        return f"unplugged: {vid}"
    if set(previous.caps) != set(new.caps):
        return "events changed"
    if previous.circuit_kw != new.circuit_kw:
        return "circuit changed"
    if previous.solar != new.solar:
        return "solar forecast changed"
    if previous.tariff != new.tariff:
        return "price update"
    for vid in sorted(cur):
        a, b = old[vid], cur[vid]
        if a.tariff != b.tariff:
            return "price update"
        if (a.departure, a.charger, a.mode, a.priority) != (
            b.departure,
            b.charger,
            b.mode,
            b.priority,
        ):
            return f"request changed: {vid}"
    for vid in sorted(cur):
        expected = old[vid].energy_kwh
        vp = current.vehicles.get(vid) if current is not None else None
        if vp is not None and current is not None and now is not None:
            expected -= vp.energy_between(current.created_at, now)
        if abs(cur[vid].energy_kwh - expected) > energy_tolerance_kwh:
            return f"energy changed: {vid}"
    if current is not None and now is not None:
        if measured_kw is not None:
            for vid in sorted(measured_kw):
                vp = current.vehicles.get(vid)
                if vp is not None and measured_kw[vid] < vp.power_at(now) - power_tolerance_kw:
                    return f"under-delivery: {vid}"
        if current.horizon_end is not None and now >= current.horizon_end:
            return "plan expired"
    return None
