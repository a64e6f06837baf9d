"""Local search on the executable plan: give what slots could not realise to other slots,
let short vehicles take more, exchange, move energy to cheaper slots (see :mod:`.planner`,
"The executable plan"). Every step keeps each slot executable: a slot's new packing is kept
only if it realises more (or as much for less), and lower energies are always realisable."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Final

from .planner_build import _Problem, _Vehicle
from .planner_flow import min_cost_allocation
from .planner_model import _US_PER_HOUR, EPS, ChargeMode
from .planner_pack import (
    _GAIN_KWH,
    Piece,
    _better,
    _levels_under,
    _measure,
    _pack,
    _top,
)

_REPAIR_ROUNDS: Final = 3
_EXCHANGE_SLOTS: Final = 12
_CHEAPEN_TRIES: Final = 3  # cheaper slots packed again per dear slot and vehicle


def _repair(
    problem: _Problem,
    circuit_kw: float | None,
    wants: list[list[float]],
    packed: list[dict[int, list[Piece]]],
    got: list[list[float]],
) -> None:
    """Offer what the slots could not realise to the slots with room left (min-cost flow on
    the room), re-pack the slots that receive energy, keep a slot's new packing only if it
    realises more, a few rounds."""
    vehicles = [v for v in problem.vehicles if v.req.mode is not ChargeMode.IMMEDIATE]
    hours = problem.hours
    bounds = problem.bounds
    n_slots = len(hours)
    target = [sum(v.energy) for v in vehicles]
    for _ in range(_REPAIR_ROUNDS):
        short = [max(0.0, target[k] - sum(got[v.index])) for k, v in enumerate(vehicles)]
        if sum(short) <= _GAIN_KWH:
            return
        # Failed slots attract nothing more: a vehicle's target there drops to what it got.
        for v in vehicles:
            w, g = wants[v.index], got[v.index]
            for t in range(n_slots):
                if w[t] > g[t] + EPS:
                    w[t] = g[t]
        arcs: list[Piece] = []
        for k, v in enumerate(vehicles):
            if short[k] <= EPS:
                continue
            w = wants[v.index]
            for t in range(n_slots):
                room = v.top(v.limit[t]) * hours[t] - w[t]
                if room > EPS:
                    arcs.append((k, t, room, v.prices[t]))
        if not arcs:
            return
        caps: list[float] | None = None
        if circuit_kw is not None:
            caps = [
                max(0.0, circuit_kw * hours[t] - sum(wants[v.index][t] for v in problem.vehicles))
                for t in range(n_slots)
            ]
        flows = min_cost_allocation(short, arcs, caps)
        touched: dict[int, dict[int, float]] = {}
        for (k, t, _, _), f in zip(arcs, flows, strict=True):
            if f > EPS:
                touched.setdefault(t, {})[vehicles[k].index] = f
        if not touched:
            return
        gained = 0.0
        for t, extra in touched.items():
            trial = {v.index: wants[v.index][t] for v in problem.vehicles}
            for idx, f in extra.items():
                trial[idx] += f
            rows = _pack(problem.vehicles, trial, t, bounds, circuit_kw)
            before = sum(got[v.index][t] for v in problem.vehicles)
            after = {idx: sum(p[3] for p in pieces) for idx, pieces in rows.items()}
            if sum(after.values()) > before + _GAIN_KWH:
                gained += sum(after.values()) - before
                packed[t] = rows
                for v in problem.vehicles:
                    wants[v.index][t] = trial[v.index]
                    got[v.index][t] = after.get(v.index, 0.0)
        if gained <= _GAIN_KWH:
            return


def _top_up(
    problem: _Problem,
    circuit_kw: float | None,
    packed: list[dict[int, list[Piece]]],
    got: list[list[float]],
    passes: int = 3,
) -> None:
    """Give the vehicles still short of their request more where a slot has room, even at the
    expense of another vehicle in that slot, whenever the slot then realises more in total.

    Cheapest slots first; each slot tries the packing at time-shared levels and the balanced
    single configuration (:func:`_balanced`) with the short vehicles' bounds raised by what
    they miss, and keeps the better one if it realises more than before.
    """
    if circuit_kw is None:
        return
    hours, bounds = problem.hours, problem.bounds
    vehicles = problem.vehicles
    planned = [v for v in vehicles if v.req.mode is not ChargeMode.IMMEDIATE]
    for _ in range(passes):
        need = {v.index: max(0.0, v.req.energy_kwh) - sum(got[v.index]) for v in planned}
        needy = [v for v in planned if need[v.index] > _GAIN_KWH]
        if not needy:
            return
        gained = 0.0
        slots = _open_slots(problem, circuit_kw, needy, got)
        for t in slots:
            h = hours[t]
            caps = {v.index: got[v.index][t] for v in vehicles}
            for v in needy:
                if need[v.index] > _GAIN_KWH:
                    caps[v.index] = min(v.top(v.limit[t]) * h, caps[v.index] + need[v.index])
            before = sum(got[v.index][t] for v in vehicles)
            best_rows = _pack(vehicles, caps, t, bounds, circuit_kw)
            best_total, best_cost = _measure(best_rows, vehicles, t)
            alt = _balanced(vehicles, caps, t, bounds[t + 1] - bounds[t], circuit_kw)
            alt_total, alt_cost = _measure(alt, vehicles, t)
            if _better(alt_total, alt_cost, best_total, best_cost):
                best_rows, best_total = alt, alt_total
            if best_total > before + _GAIN_KWH:
                gained += best_total - before
                packed[t] = best_rows
                for v in vehicles:
                    new = sum(p[3] for p in best_rows.get(v.index, ()))
                    if v.index in need:
                        need[v.index] -= new - got[v.index][t]
                    got[v.index][t] = new
        if gained <= _GAIN_KWH:
            return


def _open_slots(
    problem: _Problem, circuit_kw: float, needy: list[_Vehicle], got: list[list[float]]
) -> list[int]:
    """The slots with circuit room where a short vehicle could take more, cheapest first."""
    hours = problem.hours
    out: list[tuple[float, int]] = []
    for t, h in enumerate(hours):
        if circuit_kw * h - sum(g[t] for g in got) <= _GAIN_KWH:
            continue
        prices = [
            v.prices[t]
            for v in needy
            if v.limit[t] > 0 and got[v.index][t] < v.top(v.limit[t]) * h - _GAIN_KWH
        ]
        if prices:
            out.append((min(prices), t))
    out.sort()
    return [t for _, t in out]


def _exchange(
    problem: _Problem,
    circuit_kw: float | None,
    packed: list[dict[int, list[Piece]]],
    got: list[list[float]],
) -> None:
    """Let a vehicle that is served take more in a slot where that fills the circuit better,
    shed as much in its dearest other slots, and the short vehicles take the room it frees
    there (:func:`_top_up`); kept only if the plan then delivers more (a two-hop exchange the
    slot-by-slot packing cannot see). At most :data:`_EXCHANGE_SLOTS` slots are tried."""
    if circuit_kw is None:
        return
    hours, bounds = problem.hours, problem.bounds
    vehicles = problem.vehicles
    planned = [v for v in vehicles if v.req.mode is not ChargeMode.IMMEDIATE]

    def short() -> list[_Vehicle]:
        return [v for v in planned if max(0.0, v.req.energy_kwh) - sum(got[v.index]) > _GAIN_KWH]

    needy = short()
    if not needy or len(planned) < 2:
        return
    slots = _open_slots(problem, circuit_kw, planned, got)
    for t in slots[:_EXCHANGE_SLOTS]:
        if not short():
            return
        h = hours[t]
        total = sum(map(sum, got))
        caps = {v.index: got[v.index][t] for v in vehicles}
        for v in planned:
            if v.limit[t] > 0:
                extra = max(0.0, v.req.energy_kwh) - got[v.index][t]
                caps[v.index] = min(v.top(v.limit[t]) * h, got[v.index][t] + max(0.0, extra))
        before = sum(got[v.index][t] for v in vehicles)
        rows = _pack(vehicles, caps, t, bounds, circuit_kw)
        first = {v.index for v in short()}
        alt = _balanced(vehicles, caps, t, bounds[t + 1] - bounds[t], circuit_kw, first)
        if _better(*_measure(alt, vehicles, t), *_measure(rows, vehicles, t)):
            rows = alt
        if sum(p[3] for r in rows.values() for p in r) <= before + _GAIN_KWH:
            continue
        saved = (list(packed), [list(g) for g in got])
        packed[t] = rows
        for v in vehicles:
            got[v.index][t] = sum(p[3] for p in rows.get(v.index, ()))
        for v in planned:
            excess = sum(got[v.index]) - max(0.0, v.req.energy_kwh)
            if excess > EPS:
                _shed(v, excess, t, packed, got)
        _top_up(problem, circuit_kw, packed, got, passes=1)
        if sum(map(sum, got)) <= total + _GAIN_KWH:
            packed[:] = saved[0]
            for g, old in zip(got, saved[1], strict=True):
                g[:] = old


def _cheapen(
    problem: _Problem,
    circuit_kw: float | None,
    packed: list[dict[int, list[Piece]]],
    got: list[list[float]],
) -> None:
    """Move energy of a vehicle from its dearest slots to cheaper slots with room (the cheaper
    slot is packed again with the vehicle's bound raised; what it takes there is shed from
    the dear one): the cost the cuts and top-ups may have added, never the energy."""
    if circuit_kw is None:
        return
    hours, bounds = problem.hours, problem.bounds
    vehicles = problem.vehicles
    for v in vehicles:
        if v.req.mode is ChargeMode.IMMEDIATE:
            continue
        mine = got[v.index]
        dear = sorted((t for t in range(len(hours)) if mine[t] > EPS), key=lambda t: -v.prices[t])
        cheap = sorted(
            (t for t in range(len(hours)) if v.limit[t] > 0),
            key=lambda t: (v.prices[t], t),
        )
        for src in dear[:_EXCHANGE_SLOTS]:
            tries = 0
            for dst in cheap:
                if v.prices[dst] >= v.prices[src] - 1e-12 or mine[src] <= EPS:
                    break
                if tries >= _CHEAPEN_TRIES:
                    break
                h = hours[dst]
                room = circuit_kw * h - sum(g[dst] for g in got)
                if room <= _GAIN_KWH or mine[dst] >= v.top(v.limit[dst]) * h - EPS:
                    continue
                caps = {u.index: got[u.index][dst] for u in vehicles}
                caps[v.index] = min(v.top(v.limit[dst]) * h, mine[dst] + mine[src])
                tries += 1
                rows = _pack(vehicles, caps, dst, bounds, circuit_kw)
                new = {u.index: sum(p[3] for p in rows.get(u.index, ())) for u in vehicles}
                if any(new[u.index] < got[u.index][dst] - EPS for u in vehicles if u is not v):
                    continue
                moved = new[v.index] - mine[dst]
                if moved <= _GAIN_KWH:
                    continue
                packed[dst] = rows
                mine[dst] = new[v.index]
                _shed(v, moved, dst, packed, got, only=src)


def _shed(
    v: _Vehicle,
    excess: float,
    keep: int,
    packed: list[dict[int, list[Piece]]],
    got: list[list[float]],
    *,
    only: int | None = None,
) -> None:
    """Take ``excess`` kWh off ``v``'s plan, dearest slots first (then the latest), not in
    slot ``keep`` (only in slot ``only`` if given): its last pieces there end earlier (lower
    energy is always realisable)."""
    order = sorted(
        (t for t in range(len(got[v.index])) if t != keep and got[v.index][t] > EPS),
        key=lambda t: (-v.prices[t], -t),
    )
    if only is not None:
        order = [only]
    for t in order:
        if excess <= EPS:
            return
        pieces = list(packed[t].get(v.index, ()))
        while pieces and excess > EPS:
            s, e, kw, kwh = pieces[-1]
            if kwh <= excess + EPS:
                pieces.pop()
                excess -= kwh
                got[v.index][t] -= kwh
            else:
                cut = (e - s) - int((kwh - excess) / kw * _US_PER_HOUR)
                new_e = e - max(0, cut)
                left = kw * (new_e - s) / _US_PER_HOUR
                pieces[-1] = (s, new_e, kw, left)
                got[v.index][t] -= kwh - left
                excess -= kwh - left
                excess = max(0.0, excess)
                break
        slot = dict(packed[t])
        slot[v.index] = pieces
        packed[t] = slot


def _balanced(
    vehicles: Sequence[_Vehicle],
    caps: dict[int, float],
    t: int,
    slot_us: int,
    circuit_kw: float,
    first_ids: frozenset[int] | set[int] = frozenset(),
) -> dict[int, list[Piece]]:
    """One level per vehicle for the whole slot (bounded by ``caps``, kWh), the best of two
    greedy configurations by energy, then cost:

    * raised step by step, the lowest first, while the circuit holds: levels that complement
      each other (e.g. 4.14 kW three-phase beside 3.22 kW one-phase on 7.36 kW);
    * the cheapest vehicle first (those in ``first_ids`` before all) as high as it goes while
      the others' lowest levels still fit, then the next (e.g. 5.52 kW at the cheaper price
      beside 1.84 kW).
    """
    h = slot_us / _US_PER_HOUR
    live = [v for v in vehicles if caps.get(v.index, 0.0) > EPS]
    levels = {v.index: _levels_under(v, v.limit[t]) for v in live}
    live = [v for v in live if len(levels[v.index]) > 1]
    at = dict.fromkeys(levels, 0)
    total = 0.0
    while True:
        pick: _Vehicle | None = None
        for v in live:
            lv = levels[v.index]
            k = at[v.index]
            if k + 1 >= len(lv) or lv[k] * h >= caps[v.index] - EPS:
                continue
            if total - lv[k] + lv[k + 1] > circuit_kw + EPS:
                continue
            if pick is None or lv[k] < levels[pick.index][at[pick.index]]:
                pick = v
        if pick is None:
            break
        lv = levels[pick.index]
        k = at[pick.index]
        total += lv[k + 1] - lv[k]
        at[pick.index] = k + 1
    first = {v.index: levels[v.index][at[v.index]] for v in live}
    cheap = sorted(live, key=lambda v: (v.index not in first_ids, v.prices[t], v.index))
    second: dict[int, float] = {}
    used = 0.0
    for k, v in enumerate(cheap):
        reserve = sum(levels[u.index][1] for u in cheap[k + 1 :])
        lv = levels[v.index]
        room = circuit_kw - used - reserve
        if room < lv[1] - EPS:
            room = circuit_kw - used  # the others may not all fit anyway
        kw = _top(lv, room)
        need = caps[v.index] / h  # no higher than the lowest level covering the bound
        idx = bisect_left(lv, need - EPS)
        if idx < len(lv) and lv[idx] < kw:
            kw = lv[idx]
        second[v.index] = kw
        used += kw
    best: tuple[float, float, dict[int, list[Piece]]] | None = None
    for config in (first, second):
        out: dict[int, list[Piece]] = {}
        for v in live:
            kw = config[v.index]
            if kw <= 0:
                continue
            want = caps[v.index]
            if kw * h <= want + EPS:
                out[v.index] = [(0, slot_us, kw, kw * h)]
            else:
                on = int(want / kw * _US_PER_HOUR)
                if on > 0:
                    out[v.index] = [(0, on, kw, kw * on / _US_PER_HOUR)]
        got, cost = _measure(out, vehicles, t)
        if best is None or _better(got, cost, best[0], best[1]):
            best = (got, cost, out)
    assert best is not None
    return best[2]
