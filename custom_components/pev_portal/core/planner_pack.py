"""Packing one slot of the executable plan: pieces ``(start, end, level)`` per vehicle such
that the chargers' levels in force sum to at most the circuit at every instant (see
:mod:`.planner`, "The executable plan")."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .planner_build import _order, _Vehicle
from .planner_model import _US_PER_HOUR, EPS, ChargeMode

Piece = tuple[int, int, float, float]
"""A vehicle's piece in a slot: ``(start_us, end_us, kW, kWh)``, µs from the slot start."""

_GAIN_KWH: Final = 1e-6  # less than this is no gain
_SAME_KWH: Final = 1e-4  # plans delivering this close are compared by cost


@dataclass(slots=True)
class _Unit:
    """Vehicles that take turns inside a slot at common levels (usually one vehicle)."""

    members: list[_Vehicle]
    wants: list[float]  # kWh per member
    levels: tuple[float, ...]  # common realisable levels, ascending, starting with 0
    front: bool  # immediate: the top level from the start of the slot

    @property
    def energy(self) -> float:
        return sum(self.wants)


def _levels_under(v: _Vehicle, limit: float) -> tuple[float, ...]:
    idx = bisect_right(v.levels, limit + EPS)
    return v.levels[:idx] if idx else (0.0,)


def _common(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    out = [0.0]
    j = 1
    for x in a[1:]:
        while j < len(b) and b[j] < x - 1e-6:
            j += 1
        if j < len(b) and abs(b[j] - x) <= 1e-6:
            out.append(x)
    return tuple(out)


def _units(
    vehicles: Sequence[_Vehicle], wants: Sequence[float], limits: Sequence[float], h: float
) -> list[_Unit]:
    """Group the vehicles that must pulse (their energy is below their lowest level over the
    whole slot) with others at common levels, so that they take turns instead of overlapping.

    A group runs like one vehicle with the members' common levels; grouping stops when the
    group's energy would exceed what its top common level delivers in the slot.
    """
    units: list[_Unit] = []
    pulsed: list[tuple[_Vehicle, float, tuple[float, ...]]] = []
    for v, w, lim in zip(vehicles, wants, limits, strict=True):
        levels = _levels_under(v, lim)
        if len(levels) < 2:
            continue
        front = v.req.mode is ChargeMode.IMMEDIATE
        if not front and w < levels[1] * h - EPS:
            pulsed.append((v, w, levels))
        else:
            units.append(_Unit([v], [w], levels, front))
    pulsed.sort(key=lambda x: (-x[2][1], -x[1]))
    groups: list[_Unit] = []
    for v, w, levels in pulsed:
        # Join the largest unit at common levels with time to spare (a steady vehicle too).
        for g in sorted((u for u in (*units, *groups) if not u.front), key=lambda u: -u.energy):
            common = _common(g.levels, levels)
            if len(common) > 1 and g.energy + w <= common[-1] * h + EPS:
                g.members.append(v)
                g.wants.append(w)
                g.levels = common
                break
        else:
            groups.append(_Unit([v], [w], levels, False))
    return units + groups


class _Profile:
    """The circuit's headroom over one slot: segments ``[start, end)`` (µs from the slot
    start) with the kW still free."""

    __slots__ = ("ends", "free", "starts")

    def __init__(self, length_us: int, headroom: float) -> None:
        self.starts = [0]
        self.ends = [length_us]
        self.free = [headroom]

    def split(self, i: int, at_us: int) -> None:
        """Split segment ``i`` at ``at_us`` (strictly inside it)."""
        self.starts.insert(i + 1, at_us)
        self.ends.insert(i + 1, self.ends[i])
        self.ends[i] = at_us
        self.free.insert(i + 1, self.free[i])


def _top(levels: tuple[float, ...], limit: float) -> float:
    idx = bisect_right(levels, limit + EPS) - 1
    return levels[idx] if idx >= 0 else 0.0


def _fill(prof: _Profile, unit: _Unit) -> list[tuple[int, int, float]]:
    """Place ``unit``'s energy into the headroom; return its pieces ``(start, end, kW)``.

    Front units run at the highest level that fits, from the start of the slot. The others are
    water-filled: the highest level ``L`` such that running ``min(L, fits)`` wherever they fit
    delivers no more than wanted, then the next level up on part of the time (most headroom
    first) for the rest: a steady power between two adjacent levels where the vehicle can run
    all along, pulses at its lowest level where it cannot, and room for the others either way.
    """
    levels = unit.levels
    want = unit.energy
    if want <= EPS:
        return []
    fits = [_top(levels, f) for f in prof.free]
    pieces: dict[int, float] = {}  # segment -> kW (segment indices shift on splits)
    if unit.front:
        left = want
        i = 0
        while i < len(fits) and left > EPS:
            kw = fits[i]
            if kw > 0:
                span = prof.ends[i] - prof.starts[i]
                if kw * span / _US_PER_HOUR > left:
                    cut = int(left / kw * _US_PER_HOUR)
                    if cut <= 0:
                        break
                    prof.split(i, prof.starts[i] + cut)
                    fits.insert(i + 1, kw)
                    span = cut
                pieces[i] = kw
                left -= kw * span / _US_PER_HOUR
            i += 1
        return _commit(prof, pieces)
    spans = [e - s for s, e in zip(prof.starts, prof.ends, strict=True)]
    full = sum(f * s for f, s in zip(fits, spans, strict=True)) / _US_PER_HOUR
    if full <= want + EPS:
        return _commit(prof, {i: f for i, f in enumerate(fits) if f > 0})
    # Highest base level whose energy stays within the want (levels[0] = 0 always does).
    base_k = 0
    for k in range(1, len(levels)):
        lv = levels[k]
        e = sum(min(lv, f) * s for f, s in zip(fits, spans, strict=True)) / _US_PER_HOUR
        if e > want + EPS:
            break
        base_k = k
    base = levels[base_k]
    left = want - sum(min(base, f) * s for f, s in zip(fits, spans, strict=True)) / _US_PER_HOUR
    for i, f in enumerate(fits):
        if min(base, f) > 0:
            pieces[i] = min(base, f)
    if left > EPS and base_k + 1 < len(levels):
        up = levels[base_k + 1]
        step = up - base
        order = sorted(
            (i for i, f in enumerate(fits) if f >= up - EPS), key=lambda i: -prof.free[i]
        )
        # Upgrade whole segments while they fit in what is left, the last one in part.
        chosen: list[tuple[int, int]] = []  # (segment, µs upgraded from its start)
        for i in order:
            if left <= EPS:
                break
            e = step * spans[i] / _US_PER_HOUR
            if e <= left + EPS:
                chosen.append((i, spans[i]))
                left -= e
            else:
                cut = int(left / step * _US_PER_HOUR)
                if cut > 0:
                    chosen.append((i, cut))
                    left -= step * cut / _US_PER_HOUR
                left = 0.0
        for i, cut in sorted(chosen, reverse=True):  # right to left: indices stay valid
            if cut < spans[i]:
                prof.split(i, prof.starts[i] + cut)
                shifted = {(j + 1 if j > i else j): kw for j, kw in pieces.items()}
                if i in pieces:
                    shifted[i + 1] = pieces[i]
                pieces = shifted
            pieces[i] = up
    return _commit(prof, pieces)


def _commit(prof: _Profile, pieces: dict[int, float]) -> list[tuple[int, int, float]]:
    out: list[tuple[int, int, float]] = []
    for i in sorted(pieces):
        kw = pieces[i]
        if kw <= 0:
            continue
        prof.free[i] -= kw
        out.append((prof.starts[i], prof.ends[i], kw))
    return out


def _share(unit: _Unit, pieces: list[tuple[int, int, float]]) -> list[list[Piece]]:
    """Hand a unit's pieces to its members in turn: ``(start, end, kW, kWh)`` per member."""
    out: list[list[Piece]] = [[] for _ in unit.members]
    k = 0
    left = unit.wants[0]
    for s, e, kw in pieces:
        while s < e and k < len(unit.members):
            span_e = kw * (e - s) / _US_PER_HOUR
            if span_e <= left + EPS or k == len(unit.members) - 1:
                take = min(span_e, left) if k == len(unit.members) - 1 else span_e
                out[k].append((s, e, kw, take))
                left -= span_e
                s = e
            else:
                cut = int(left / kw * _US_PER_HOUR)
                if cut > 0:
                    out[k].append((s, s + cut, kw, kw * cut / _US_PER_HOUR))
                    s += cut
                left = 0.0
            if left <= EPS and k + 1 < len(unit.members):
                k += 1
                left = unit.wants[k]
    return out


def _pack_slot(
    vehicles: Sequence[_Vehicle],
    wants: Sequence[float],
    t: int,
    slot_us: int,
    circuit_kw: float | None,
) -> dict[int, list[Piece]]:
    """Realise ``wants`` (kWh per vehicle) in slot ``t``: pieces per vehicle index, in µs
    from the slot start."""
    h = slot_us / _US_PER_HOUR
    limits = [v.limit[t] for v in vehicles]
    tops = sum(v.top(lim) for v, lim in zip(vehicles, limits, strict=True))
    binding = circuit_kw is not None and tops > circuit_kw + EPS
    out: dict[int, list[Piece]] = {}
    if not binding:
        for v, w, lim in zip(vehicles, wants, limits, strict=True):
            out[v.index] = _alone(v, w, lim, slot_us, h)
        return out
    assert circuit_kw is not None
    rank = {v.index: k for k, v in enumerate(_order(vehicles))}
    total = sum(wants)
    best: tuple[float, float, dict[int, list[Piece]]] | None = None
    for key in _ORDERS:
        units = _units(vehicles, wants, limits, h)
        units.sort(key=lambda u: (not u.front, *key(u), min(rank[m.index] for m in u.members)))
        prof = _Profile(slot_us, max(0.0, circuit_kw))
        trial: dict[int, list[Piece]] = {}
        for unit in units:
            for member, rows in zip(unit.members, _share(unit, _fill(prof, unit)), strict=True):
                trial[member.index] = rows
        got = sum(p[3] for rows in trial.values() for p in rows)
        if got >= total - _GAIN_KWH:
            return trial
        cost = sum(p[3] * v.prices[t] for v in vehicles for p in trial.get(v.index, ()))
        if (
            best is None
            or got > best[0] + _GAIN_KWH
            or (got > best[0] - _GAIN_KWH and cost < best[1])
        ):
            best = (got, cost, trial)
    assert best is not None
    return best[2]


def _coarse_first(u: _Unit) -> tuple[float, ...]:
    """Units with the highest lowest level and the coarsest steps first: the others, finer,
    fill the room they leave."""
    step = u.levels[-1] - u.levels[-2] if len(u.levels) > 2 else u.levels[1]
    return (-u.levels[1], -step)


def _largest_first(u: _Unit) -> tuple[float, ...]:
    return (-u.energy,)


def _fine_first(u: _Unit) -> tuple[float, ...]:
    return tuple(-x for x in _coarse_first(u))


_ORDERS: Final = (_coarse_first, _largest_first, _fine_first)
"""Orders in which a slot's units are packed; the first that realises everything wins, else the
one realising the most (then the cheapest)."""


def _alone(v: _Vehicle, w: float, limit: float, slot_us: int, h: float) -> list[Piece]:
    """A vehicle on its own in a slot: the smallest level that delivers ``w`` (immediate: the
    top level), from the start of the slot, then off."""
    top = v.top(limit)
    if w <= EPS or top <= 0:
        return []
    if v.req.mode is ChargeMode.IMMEDIATE:
        level = top
    else:
        idx = max(1, bisect_left(v.levels, w / h - EPS))
        level = v.levels[idx] if idx < len(v.levels) and v.levels[idx] <= top else top
    e = min(w, level * h)
    on_us = slot_us if e >= level * h - EPS else int(e / level * _US_PER_HOUR)
    if on_us <= 0:
        return []
    return [(0, on_us, level, e if on_us == slot_us else level * on_us / _US_PER_HOUR)]


def _pack(
    vehicles: Sequence[_Vehicle],
    wants: dict[int, float],
    t: int,
    bounds: list[int],
    circuit_kw: float | None,
) -> dict[int, list[Piece]]:
    active = [v for v in vehicles if wants.get(v.index, 0.0) > EPS]
    if not active:
        return {}
    return _pack_slot(
        active, [wants[v.index] for v in active], t, bounds[t + 1] - bounds[t], circuit_kw
    )


def _measure(
    rows: dict[int, list[Piece]], vehicles: Sequence[_Vehicle], t: int
) -> tuple[float, float]:
    """(kWh, cost) of a slot's packing."""
    got = cost = 0.0
    for v in vehicles:
        for p in rows.get(v.index, ()):
            got += p[3]
            cost += p[3] * v.prices[t]
    return got, cost


def _better(got: float, cost: float, best_got: float, best_cost: float) -> bool:
    """More energy, or as much for less."""
    return got > best_got + _SAME_KWH or (got > best_got - _SAME_KWH and cost < best_cost - 1e-12)
