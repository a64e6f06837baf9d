"""The exact time-sharing optimum of the executable plan: a configuration LP.

Inside a slot a charger may run at one of its levels for part of the slot (see
:mod:`.planner`, "The executable plan"). A *configuration* of a slot is one level per vehicle
whose sum stays within the circuit; a slot's schedule is a sequence of configurations, each
for part of the slot. So the energies a slot can deliver are exactly the convex hull of its
configurations (times the slot's hours), and the best executable plan is a linear program over
the configurations (Dantzig-Wolfe's master problem):

    maximise   sum_j c_j x_j        (x_j: share of slot t_j's time in configuration j)
    subject to sum_j h_j L_jv x_j <= E_v       for every vehicle v (its energy wanted)
               sum_{j in t} x_j <= 1           for every slot t
               x_j >= 0

with ``c_j = h_j * sum_v (W - price_vt) * L_jv``: the most energy first (``W`` dominates every
price), then the least cost. There are exponentially many configurations, so they are
generated as needed (column generation): given the duals ``y_v`` of the vehicles' rows and
``z_t`` of a slot's, the best new configuration of slot ``t`` maximises
``sum_v h (W - price_vt - y_v) L_v`` over levels summing to at most the circuit (a knapsack
over the levels, solved exactly on the sums they can reach), and is added while that exceeds
``z_t``. The master is solved by a revised simplex with an explicit basis inverse (a few dozen
rows here). At the end no configuration improves the master: the plan is optimal among all
time-shared schedules, which include every schedule at constant levels per slot (the
mixed-integer reference of the tests).

Pure Python, used on small problems only (:data:`MAX_ROWS`), as a polish of the heuristic
plan (:mod:`.planner_exec`), whose configurations are the starting columns.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from operator import mul
from typing import Final

from .planner_build import _Problem, _Vehicle
from .planner_model import _US_PER_HOUR, EPS, ChargeMode
from .planner_pack import _levels_under

MAX_ROWS: Final = 160
"""Rows (vehicles + slots where one may charge) above which the LP is not tried."""
_W: Final = 1000.0  # worth of a kWh delivered: above any price difference times any exchange
_TOL: Final = 1e-9
_MAX_PIVOTS: Final = 4000
_MAX_ROUNDS: Final = 200
_KNAPSACK_NODES: Final = 20_000
_CANDIDATES: Final = 24


@dataclass(slots=True)
class SlotSpec:
    """One slot of the LP: its length, the circuit, and per vehicle its levels (ascending,
    starting with 0, within its limit there) and price."""

    length_us: int
    circuit_kw: float
    levels: dict[int, tuple[float, ...]]
    prices: dict[int, float]


Row = tuple[int, int, float, float, int]
"""A realised piece of a vehicle's plan: ``(start_us, end_us, kW, kWh, slot)``."""

Config = tuple[tuple[int, float], ...]
"""Levels in force: ``((vehicle, kW), ...)`` for the vehicles that run (kW > 0)."""


class _Master:
    """Revised simplex on ``max c x, A x <= b, x >= 0`` with ``b >= 0`` (the slack basis is
    feasible), columns added on the fly. ``A``'s columns are sparse, so is the basis inverse
    (kept by columns, as dictionaries row -> value); pricing is partial (the best
    :data:`_CANDIDATES` columns of a full scan are pivoted in first)."""

    def __init__(self, rhs: Sequence[float]) -> None:
        m = len(rhs)
        self.m = m
        self.idx: list[tuple[int, ...]] = [(i,) for i in range(m)]
        self.val: list[tuple[float, ...]] = [(1.0,)] * m
        self.cost: list[float] = [0.0] * m
        self.basis = list(range(m))
        self.binv: list[dict[int, float]] = [{k: 1.0} for k in range(m)]  # by columns
        self.xb = list(rhs)

    def add(self, col: Sequence[tuple[int, float]], cost: float) -> int:
        self.idx.append(tuple(i for i, _ in col))
        self.val.append(tuple(a for _, a in col))
        self.cost.append(cost)
        return len(self.cost) - 1

    def duals(self) -> list[float]:
        cb = [self.cost[j] for j in self.basis]
        return [sum(cb[r] * x for r, x in col.items()) for col in self.binv]

    def _reduced(self, y: list[float], j: int) -> float:
        dot: float = sum(map(mul, self.val[j], map(y.__getitem__, self.idx[j]), strict=True))
        return self.cost[j] - dot

    def optimise(self, budget: int) -> int:
        """Pivot until no column improves (Dantzig's rule on the candidates, Bland's on
        degenerate stalls); returns the pivots spent."""
        spent = 0
        stall = 0
        in_basis = set(self.basis)
        y = self.duals()
        candidates: list[int] = []
        while spent < budget:
            enter, best = -1, _TOL
            for j in candidates:
                d = self._reduced(y, j)
                if d > best and j not in in_basis:
                    best, enter = d, j
            if enter < 0 or stall > 20:
                scored = []
                for j in range(len(self.cost)):
                    d = self._reduced(y, j)
                    if d > _TOL and j not in in_basis:
                        if stall > 20:  # Bland: the first improving column
                            scored = [(d, j)]
                            break
                        scored.append((d, j))
                if not scored:
                    return spent
                scored.sort(reverse=True)
                candidates = [j for _, j in scored[:_CANDIDATES]]
                best, enter = scored[0]
            u: dict[int, float] = {}
            for i, a in zip(self.idx[enter], self.val[enter], strict=True):
                for r, b in self.binv[i].items():
                    u[r] = u.get(r, 0.0) + b * a
            leave, ratio = -1, 0.0
            for r, ur in u.items():
                if ur > _TOL:
                    q = self.xb[r] / ur
                    if (
                        leave < 0
                        or q < ratio - 1e-12
                        or (q <= ratio + 1e-12 and self.basis[r] < self.basis[leave])
                    ):
                        leave, ratio = r, q
            if leave < 0:  # pragma: no cover - bounded by the slots' rows
                return spent
            stall = stall + 1 if ratio <= 1e-12 else 0
            row = self._pivot(leave, u)
            in_basis.discard(self.basis[leave])
            self.basis[leave] = enter
            in_basis.add(enter)
            spent += 1
            for k, x in row:  # the duals move along the pivot row
                y[k] += best * x
        return spent

    def _pivot(self, r: int, u: dict[int, float]) -> list[tuple[int, float]]:
        """Row ``r`` leaves for the column whose ``B^-1 a`` is ``u``; the new row ``r`` of the
        inverse (its nonzeros) is returned."""
        piv = u[r]
        xr = self.xb[r] / piv
        self.xb[r] = xr
        others = [(i, f) for i, f in u.items() if i != r and f]
        for i, f in others:
            self.xb[i] = max(0.0, self.xb[i] - f * xr)
        row: list[tuple[int, float]] = []
        for k, col in enumerate(self.binv):
            x = col.get(r)
            if x is None:
                continue
            x /= piv
            col[r] = x
            row.append((k, x))
            for i, f in others:
                v = col.get(i, 0.0) - f * x
                if abs(v) > 1e-14:
                    col[i] = v
                else:
                    col.pop(i, None)
        return row


def _best_config(
    levels: dict[int, tuple[float, ...]], gain: dict[int, float], circuit_kw: float
) -> tuple[float, Config]:
    """The configuration maximising ``sum gain_v * L_v`` within the circuit: exact, by branch
    and bound (vehicles by gain, highest levels first; the bound fills what is left at the
    remaining vehicles' gains, ignoring their steps), within :data:`_KNAPSACK_NODES` nodes
    (then the best found)."""
    items = sorted(
        ((g, v, lv) for v, lv in levels.items() if (g := gain[v]) > _TOL and len(lv) > 1),
        key=lambda x: (-x[0], x[1]),
    )
    n = len(items)
    best_val = 0.0
    best: list[float] = [0.0] * n
    chosen = [0.0] * n
    nodes = 0

    def bound(k: int, room: float) -> float:
        total = 0.0
        for g, _, lv in items[k:]:
            take = min(lv[-1], room)
            total += g * take
            room -= take
            if room <= 0:
                break
        return total

    def walk(k: int, room: float, value: float) -> None:
        nonlocal best_val, best, nodes
        nodes += 1
        if value > best_val + 1e-12:
            best_val = value
            best = [*chosen[:k], *([0.0] * (n - k))]
        if k == n or nodes > _KNAPSACK_NODES:
            return
        if value + bound(k, room) <= best_val + 1e-12:
            return
        g, _, lv = items[k]
        idx = bisect_right(lv, room + 1e-9) - 1
        while idx >= 1:
            chosen[k] = lv[idx]
            walk(k + 1, room - lv[idx], value + g * lv[idx])
            idx -= 1
            if value + g * lv[idx] + bound(k + 1, room - lv[idx]) <= best_val + 1e-12:
                break  # lower levels of this vehicle cannot do better either
        chosen[k] = 0.0
        walk(k + 1, room, value)

    walk(0, circuit_kw, 0.0)
    cfg = tuple(sorted((items[k][1], kw) for k, kw in enumerate(best) if kw > 0))
    return best_val, cfg


def solve(
    slots: Sequence[SlotSpec],
    wants: Sequence[float],
    start: Sequence[Sequence[Config]],
) -> list[list[tuple[float, Config]]] | None:
    """The optimal time-sharing of every slot: per slot, ``(share of the slot, configuration)``
    in the order to run them; ``None`` if the LP did not finish within its budget.

    ``wants[v]``: energy wanted by vehicle ``v`` (its row); ``start[t]``: configurations to
    begin with in slot ``t`` (e.g. the heuristic plan's).
    """
    n_v = len(wants)
    master = _Master([max(0.0, w) for w in wants] + [1.0] * len(slots))
    hours = [s.length_us / _US_PER_HOUR for s in slots]
    owner: list[tuple[int, Config]] = [(-1, ())] * master.m
    seen: set[tuple[int, Config]] = set()

    def add(t: int, cfg: Config) -> bool:
        if not cfg or (t, cfg) in seen:
            return False
        seen.add((t, cfg))
        h = hours[t]
        prices = slots[t].prices
        col = [*((v, h * kw) for v, kw in cfg), (n_v + t, 1.0)]
        master.add(col, h * sum((_W - prices[v]) * kw for v, kw in cfg))
        owner.append((t, cfg))
        return True

    for t, spec in enumerate(slots):
        for cfg in start[t]:
            add(t, cfg)
        for v, lv in spec.levels.items():  # each vehicle alone at its top level
            if len(lv) > 1:
                add(t, ((v, lv[-1]),))
    budget = _MAX_PIVOTS
    for _ in range(_MAX_ROUNDS):
        budget -= master.optimise(budget)
        if budget <= 0:
            return None
        y = master.duals()
        added = False
        for t, spec in enumerate(slots):
            h = hours[t]
            gain = {v: h * (_W - spec.prices[v] - y[v]) for v in spec.levels}
            value, cfg = _best_config(spec.levels, gain, spec.circuit_kw)
            if value - y[n_v + t] > 1e-7 * max(1.0, value):
                added |= add(t, cfg)
        if not added:
            break
    else:
        return None
    out: list[list[tuple[float, Config]]] = [[] for _ in slots]
    for r, j in enumerate(master.basis):
        t, cfg = owner[j]
        if t >= 0 and master.xb[r] > 1e-12:
            out[t].append((master.xb[r], cfg))
    for runs in out:  # the highest levels first: a vehicle's pieces tend to follow each other
        runs.sort(key=lambda run: sorted(run[1]), reverse=True)
    return out


def suits(problem: _Problem, limits: Sequence[Sequence[float]], circuit_kw: float | None) -> bool:
    """Whether :func:`polish` applies: a circuit that binds somewhere, every vehicle to plan
    in ``CHEAPEST`` (or ``SOLAR`` without surplus) mode (no immediate charging, no free energy:
    their energies are not the LP's), at most :data:`MAX_ROWS` rows. ``limits``: every
    vehicle's realisable limit per slot."""
    if circuit_kw is None:
        return False
    vehicles = [v for v in problem.vehicles if v.req.mode is not ChargeMode.OFF]
    for v in vehicles:
        if v.req.mode is ChargeMode.IMMEDIATE or any(s > EPS for s in v.solar):
            return False
    live = _live(problem, limits, vehicles)
    if not live or len(vehicles) + len(live) > MAX_ROWS:
        return False
    return any(sum(v.top(limits[v.index][t]) for v in vehicles) > circuit_kw + EPS for t in live)


def _live(
    problem: _Problem, limits: Sequence[Sequence[float]], vehicles: Sequence[_Vehicle]
) -> list[int]:
    """The slots where a vehicle that wants energy may charge."""
    return [
        t
        for t in range(len(problem.hours))
        if any(limits[v.index][t] > 0 and max(0.0, v.req.energy_kwh) > EPS for v in vehicles)
    ]


def polish(
    problem: _Problem,
    limits: Sequence[Sequence[float]],
    circuit_kw: float,
    rows: dict[int, list[Row]],
) -> dict[int, list[Row]] | None:
    """The optimal time-shared plan of a problem that :func:`suits`; ``None`` if the LP ran out
    of its budget. ``limits``: every vehicle's realisable limit per slot (before any cut);
    ``rows``: a plan whose configurations start the LP (the heuristic's)."""
    vehicles = [v for v in problem.vehicles if v.req.mode is not ChargeMode.OFF]
    bounds = problem.bounds
    live = _live(problem, limits, vehicles)
    pos = {v.index: k for k, v in enumerate(vehicles)}
    specs: list[SlotSpec] = []
    for t in live:
        levels: dict[int, tuple[float, ...]] = {}
        prices: dict[int, float] = {}
        for v in vehicles:
            lv = _levels_under(v, limits[v.index][t])
            if len(lv) > 1 and v.req.energy_kwh > EPS:
                levels[pos[v.index]] = lv
                prices[pos[v.index]] = v.prices[t]
        specs.append(SlotSpec(bounds[t + 1] - bounds[t], circuit_kw, levels, prices))
    start = [_configs(rows, pos, t, bounds) for t in live]
    found = solve(specs, [max(0.0, v.req.energy_kwh) for v in vehicles], start)
    if found is None:
        return None
    out: dict[int, list[Row]] = {v.index: [] for v in problem.vehicles}
    for t, runs in zip(live, found, strict=True):
        length = bounds[t + 1] - bounds[t]
        at = 0.0
        for share, cfg in runs:
            s = min(length, round(at * length))
            at += share
            e = min(length, round(at * length))
            if e <= s:
                continue
            for k, kw in cfg:
                idx = vehicles[k].index
                out[idx].append((bounds[t] + s, bounds[t] + e, kw, kw * (e - s) / _US_PER_HOUR, t))
    for v in vehicles:  # rounding to whole µs must not deliver more than wanted
        _trim(out[v.index], max(0.0, v.req.energy_kwh))
    return {idx: _merge(r) for idx, r in out.items()}


def _configs(
    rows: dict[int, list[Row]], pos: dict[int, int], t: int, bounds: list[int]
) -> list[Config]:
    """The configurations a plan runs in slot ``t`` (one per interval between its pieces' edges)."""
    pieces = [
        (s, e, pos[idx], kw)
        for idx, rs in rows.items()
        if idx in pos
        for s, e, kw, _, tt in rs
        if tt == t
    ]
    edges = sorted({p for s, e, _, _ in pieces for p in (s, e)})
    out: list[Config] = []
    for a, b in pairwise(edges):
        cfg = tuple(sorted((k, kw) for s, e, k, kw in pieces if s <= a and b <= e))
        if cfg and cfg not in out:
            out.append(cfg)
    return out


def _trim(rows: list[Row], want: float) -> None:
    """End a vehicle's last pieces earlier until it gets at most ``want``."""
    excess = sum(r[3] for r in rows) - want
    rows.sort(key=lambda r: (r[4], r[0]))
    while excess > 0 and rows:
        s, e, kw, kwh, t = rows[-1]
        if kwh <= excess:
            rows.pop()
            excess -= kwh
            continue
        new_e = e - math.ceil(excess / kw * _US_PER_HOUR)
        left = kw * (new_e - s) / _US_PER_HOUR
        rows[-1] = (s, new_e, kw, left, t)
        break


def _merge(rows: list[Row]) -> list[Row]:
    """Join a vehicle's adjacent pieces at the same power within a slot."""
    rows.sort()
    out: list[Row] = []
    for r in rows:
        if out and out[-1][1] == r[0] and out[-1][2] == r[2] and out[-1][4] == r[4]:
            p = out[-1]
            out[-1] = (p[0], r[1], p[2], p[3] + r[3], p[4])
        else:
            out.append(r)
    return out
