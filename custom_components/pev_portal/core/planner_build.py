"""The planner's problem: the slot grid, every vehicle's limits and prices, and the
continuous optimum over them (see :mod:`.planner`)."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from .planner_flow import min_cost_allocation
from .planner_model import (
    _US_PER_HOUR,
    EPS,
    ChargeMode,
    PowerCap,
    SolarForecast,
    VehicleRequest,
    _dt,
    _TopLevel,
    _us,
)
from .tariff import Tariff


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
    circuit_kw: float | None = None  # what the levels can use of the circuit (discrete)


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
    if discretize and circuit_kw is not None:
        circuit_kw = usable_circuit(circuit_kw, [v.levels for v in vehicles])
    if discretize:  # the highest level each charger can run, alone on the circuit too
        room = math.inf if circuit_kw is None else max(0.0, circuit_kw)
        for v in vehicles:
            top = v.top
            v.limit = [top(min(x, room)) for x in v.limit]
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
    return _Problem(bounds, hours, vehicles, circuit, discretize, circuit_kw)


def usable_circuit(circuit_kw: float, levels: Sequence[Sequence[float]]) -> float:
    """The most the chargers' levels can sum to within ``circuit_kw``: every level is a
    multiple of the greatest common divisor of all levels (in watts), so is any sum of them
    (e.g. 10.81 kW of an 11 kW circuit for 230 V one-phase steps of 230 W). Exact for any set
    of chargers, and it tightens the continuous problem for free."""
    step = 0
    for lv in levels:
        for kw in lv:
            w = round(kw * 1000)
            if w > 0 and abs(kw * 1000 - w) < 1e-6:
                step = math.gcd(step, w)
            elif kw > 0:
                return circuit_kw  # not whole watts: no common grid
    if step <= 0:
        return circuit_kw
    return math.floor(max(0.0, circuit_kw) * 1000 / step + 1e-9) * step / 1000


def _order(vehicles: Sequence[_Vehicle]) -> list[_Vehicle]:
    return sorted(vehicles, key=lambda v: (-v.req.priority, v.req.vehicle_id))


def _solve(problem: _Problem, *, variant: int = 0) -> None:
    """Fill ``energy`` of every vehicle (continuous plan). ``variant`` picks another of the
    optimal plans for the executable step to try: bit 1 breaks price ties between vehicles
    toward the later ones (by index), bit 2 ties between slots the other way (later slots in
    ``CHEAPEST`` mode)."""
    hours = problem.hours
    n_slots = len(hours)
    circuit = None if problem.circuit is None else list(problem.circuit)
    for v in problem.vehicles:
        v.energy = [0.0] * n_slots
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
    if variant & 1:  # another of the optimal plans: ties between vehicles broken the other way
        n = len(optimised)
        arcs = [(k, t, u, c + 1e-9 * (n - k)) for k, t, u, c in arcs]
    if variant & 2:  # ... and ties between slots
        late = [not x for x in late]
    flows = min_cost_allocation(demands, arcs, circuit, late=late)
    for (k, t), f in zip(owner, flows, strict=True):
        if f > EPS:
            optimised[k].energy[t] += f
