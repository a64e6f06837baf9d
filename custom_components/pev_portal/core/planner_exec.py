"""The executable plan: the continuous optimum realised at the chargers' own power levels.

See :mod:`.planner` ("The executable plan") for what this computes and why. In short, every
slot is packed separately: each vehicle gets the energy the continuous optimum gives it there,
realised as pieces ``(start, end, level)`` inside the slot (time-sharing), such that the sum of
the levels in force stays within the circuit at every instant. Where that falls short, the
exact time-sharing optimum (:mod:`.planner_lp`) where it suits, else a search: what a slot
cannot realise is offered again to slots with room left, through the same min-cost flow, a few
rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .planner_build import _Problem, _Vehicle
from .planner_lp import Row, _merge, polish, suits
from .planner_model import EPS, ChargeMode
from .planner_pack import _GAIN_KWH, _SAME_KWH, Piece, _better, _levels_under, _pack
from .planner_search import _cheapen, _exchange, _repair, _top_up

_CUT_ROUNDS: Final = 4
_VARIANTS: Final = 6
_PAIR_ROUNDS: Final = 2
_SMALL: Final = 800
"""Up to this many vehicle-slots (where a vehicle may charge), all rounds and both optima are tried; above, one optimum and
^no cuts (each round re-solves the flow and packs every slot again)."""


_Best = tuple[float, float, dict[int, list[Row]], list[float]]
"""(kWh, cost, rows, kWh per vehicle) of the best plan seen."""


def realise(
    problem: _Problem, circuit_kw: float | None, resolve: Callable[[int], None]
) -> tuple[dict[int, list[Row]], dict[int, float]]:
    """The executable plan of every vehicle, and the energy each lost to the levels.

    ``resolve(variant)`` recomputes the continuous optimum (``energy``) after limits were
    tightened (variant 1: another optimum, ties broken the other way). ``lost`` is what the
    continuous optimum gives a vehicle and its executable plan does not.

    Where the configuration LP suits (:func:`.planner_lp.suits`), one packing pass gives it
    its first columns and the LP the optimum; the search (variants, cuts, exchanges) runs only
    where it does not suit, or if the LP runs out of its budget.
    """
    first = [sum(v.energy) for v in problem.vehicles]
    first_cost = sum(
        e * p for v in problem.vehicles for e, p in zip(v.energy, v.prices, strict=True)
    )
    limits = [list(v.limit) for v in problem.vehicles]
    circuit = None if problem.circuit is None else list(problem.circuit)
    small = sum(1 for v in problem.vehicles for lim in v.limit if lim > 0) <= _SMALL
    if circuit_kw is not None and suits(problem, limits, circuit_kw):
        best = _search(
            problem, circuit_kw, resolve, first, limits, circuit, 1, 1, None, pack_only=True
        )
        # The continuous optimum bounds every executable plan: at its energy and cost the
        # plan is optimal already.
        if best[0] < sum(first) - _SAME_KWH or best[1] > first_cost + 1e-9:
            found = polish(problem, limits, circuit_kw, best[2])
            if found is not None:
                delivered, cost, per = _measure_rows(problem, found)
                if _better(delivered, cost, best[0], best[1]):
                    best = (delivered, cost, found, per)
            else:  # out of budget: the search instead
                best = _search(
                    problem,
                    circuit_kw,
                    resolve,
                    first,
                    limits,
                    circuit,
                    _VARIANTS,
                    _CUT_ROUNDS,
                    best,
                    restart=True,
                )
    elif small:
        best = _search(
            problem, circuit_kw, resolve, first, limits, circuit, _VARIANTS, _CUT_ROUNDS, None
        )
    else:
        best = _search(problem, circuit_kw, resolve, first, limits, circuit, 1, 1, None)
    lost = {v.index: max(0.0, first[v.index] - best[3][v.index]) for v in problem.vehicles}
    return best[2], lost


def _search(
    problem: _Problem,
    circuit_kw: float | None,
    resolve: Callable[[int], None],
    first: list[float],
    limits: list[list[float]],
    circuit: list[float] | None,
    variants: int,
    rounds: int,
    best: _Best | None,
    *,
    restart: bool = False,
    pack_only: bool = False,
) -> _Best:
    """The heuristic: pack, repair, search; ``variants`` optima of the continuous problem,
    ``rounds`` cuts each (a full search when both are above one). ``restart``: the problem's
    limits and optimum are reset first; ``pack_only``: every slot packed, no repair or search
    (the LP's first columns)."""
    thorough = variants > 1
    for variant in range(variants):
        if variant or restart:
            for v, lim in zip(problem.vehicles, limits, strict=True):
                v.limit = list(lim)
            problem.circuit = None if circuit is None else list(circuit)
            resolve(variant % 4)
        for round_ in range(rounds):
            rows, got, losses = _realise_once(
                problem, circuit_kw, thorough=thorough, pack_only=pack_only
            )
            delivered = sum(map(sum, got))
            cost = sum(
                kwh * problem.vehicles[idx].prices[t]
                for idx, pieces in rows.items()
                for _, _, _, kwh, t in pieces
            )
            if best is None or _better(delivered, cost, best[0], best[1]):
                best = (delivered, cost, rows, [sum(g) for g in got])
            if not losses or round_ + 1 == rounds or delivered >= sum(first) - _SAME_KWH:
                break  # nothing lost, or all the continuous optimum's energy delivered anyway
            fix = round_ >= _PAIR_ROUNDS
            if not _cut(problem, circuit_kw, losses, got, fix=fix, evict=variant >= 4):
                break
            resolve(variant % 4)
        assert best is not None
        if best[0] >= sum(first) - _SAME_KWH:
            break
    assert best is not None
    return best


def _realise_once(
    problem: _Problem, circuit_kw: float | None, *, thorough: bool, pack_only: bool = False
) -> tuple[dict[int, list[Row]], list[list[float]], list[int]]:
    """Pack every slot, repair; the rows, the energy per vehicle and slot, the slots that
    still lose energy."""
    bounds, hours = problem.bounds, problem.hours
    vehicles = problem.vehicles
    n_slots = len(hours)
    wants = [list(v.energy) for v in vehicles]
    packed: list[dict[int, list[Piece]]] = []
    got = [[0.0] * n_slots for _ in vehicles]
    for t in range(n_slots):
        rows = _pack(
            vehicles, {v.index: wants[v.index][t] for v in vehicles}, t, bounds, circuit_kw
        )
        packed.append(rows)
        for idx, pieces in rows.items():
            got[idx][t] = sum(p[3] for p in pieces)
    losses = [
        t
        for t in range(n_slots)
        if sum(v.energy[t] for v in vehicles) > sum(g[t] for g in got) + _GAIN_KWH
    ]
    if losses and not pack_only:
        _repair(problem, circuit_kw, wants, packed, got)
        if sum(map(sum, got)) < sum(sum(v.energy) for v in vehicles) - _SAME_KWH:
            _top_up(problem, circuit_kw, packed, got, passes=3 if thorough else 1)
            if thorough:
                _exchange(problem, circuit_kw, packed, got)
        _cheapen(problem, circuit_kw, packed, got)
    out: dict[int, list[Row]] = {v.index: [] for v in vehicles}
    for t in range(n_slots):
        for idx, pieces in packed[t].items():
            rows_v = out[idx]
            for s, e, kw, kwh in pieces:
                if e > s and kwh > 0:
                    rows_v.append((bounds[t] + s, bounds[t] + e, kw, kwh, t))
    return {idx: _merge(rows) for idx, rows in out.items()}, got, losses


def _cut(
    problem: _Problem,
    circuit_kw: float | None,
    losses: list[int],
    got: list[list[float]],
    *,
    fix: bool,
    evict: bool = False,
) -> bool:
    """Tighten the continuous problem where a slot lost energy; ``False``: nothing to tighten.

    A vehicle whose target power in the slot leaves less than another active vehicle's lowest
    level on the circuit gets its limit there lowered to leave that room (they can then run
    side by side). With ``evict``, the other vehicle may instead be kept out of the slot (it
    charges elsewhere), whichever of all these cuts takes the least room from the optimum,
    one per slot. With ``fix`` (or where no such pair exists) the slot is fixed to what it
    realised: every vehicle's limit there becomes the power it got, the circuit the sum. A
    packing realises any lower energies too (shorter pieces), so a fixed slot loses nothing
    in the next round.
    """
    if circuit_kw is None:
        return False
    hours = problem.hours
    changed = False
    for t in losses:
        h = hours[t]
        active = [v for v in problem.vehicles if v.energy[t] > EPS]
        options: list[tuple[float, int, _Vehicle, float]] = []  # (room taken, index, who, limit)
        for v in [] if fix else active:
            if v.req.mode is ChargeMode.IMMEDIATE:
                continue
            p = v.energy[t] / h
            for u in active:
                room = circuit_kw - _lowest(u, u.limit[t])
                if u is v or p <= room + EPS or (room <= 0 and not evict):
                    continue
                new = v.top(room) if room > 0 else 0.0
                options.append(((p - new) * h, v.index, v, new))
                if evict and u.req.mode is not ChargeMode.IMMEDIATE:
                    options.append((u.energy[t], u.index, u, 0.0))
        if evict and options:  # only the cut that takes the least room from the optimum
            options = [min(options, key=lambda o: o[:2])]
        cut_any = False
        for _, _, who, new in options:
            if new < who.limit[t] - EPS:
                who.limit[t] = new
                cut_any = changed = True
        if not cut_any and problem.circuit is not None:
            for v in active:
                if v.req.mode is not ChargeMode.IMMEDIATE:
                    v.limit[t] = min(v.limit[t], got[v.index][t] / h)
            realised = sum(got[v.index][t] for v in active)
            problem.circuit[t] = max(0.0, min(problem.circuit[t], realised))
            changed = True
    return changed


def _lowest(v: _Vehicle, limit: float) -> float:
    levels = _levels_under(v, limit)
    return levels[1] if len(levels) > 1 else 0.0


def _measure_rows(
    problem: _Problem, rows: dict[int, list[Row]]
) -> tuple[float, float, list[float]]:
    """(kWh, cost, kWh per vehicle) of a plan's rows."""
    per = [0.0] * len(problem.vehicles)
    cost = 0.0
    for idx, pieces in rows.items():
        prices = problem.vehicles[idx].prices
        for _, _, _, kwh, t in pieces:
            per[idx] += kwh
            cost += kwh * prices[t]
    return sum(per), cost, per
