"""Merging alike slots for the power-feed planner, and spreading the plan back.

Pure Python, no Home Assistant imports. Consecutive slots with the same prices, export limit,
home load, vehicles' power limits and cycle-budget day, with no departure between them and
after every vehicle has restored its floor, are one block. That is exact: a plan of the
slots sums to a plan of the block at the same cost (the block's constraints are a subset),
and a plan of the block spread over its slots in proportion to their hours is feasible (the
battery moves linearly between the block's ends, and floor and capacity are constant there)
at the same cost. A week of 15-minute slots under a time-of-use tariff is a few dozen blocks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise

from .planner_feed_types import FeedPlan, FeedPremise, FeedVehicle, FeedVehiclePlan


def _kw(limits: tuple[float, ...] | None, cap: float, t: int) -> float:
    return min(cap, limits[t]) if limits is not None else cap


def blocks(vehicles: Sequence[FeedVehicle], premise: FeedPremise) -> list[tuple[int, int]]:
    """The ``[start, end)`` slot ranges that can be planned as one slot each."""
    n = len(premise.slot_hours)
    if not n:
        return []
    starts = [0.0]
    for h in premise.slot_hours:
        starts.append(starts[-1] + h)
    cut = [False] * (n + 1)
    cut[0] = cut[n] = True
    home = premise.home_load_kw
    for v in vehicles:
        if v.departure_slot < n:
            cut[v.departure_slot] = True
        reach = min(v.soc_kwh, v.capacity_kwh)
        t = 0
        while reach < v.floor_kwh and t < n:  # restoring the floor: slot by slot
            cut[t] = cut[t + 1] = True
            h = premise.slot_hours[t]
            reach += v.charge_efficiency * _kw(v.charge_limit_kw, v.max_charge_kw, t) * h
            t += 1
    for t in range(1, n):
        if cut[t]:
            continue
        if (
            int(starts[t] / 24.0 + 1e-9) != int(starts[t - 1] / 24.0 + 1e-9)
            or premise.import_price[t] != premise.import_price[t - 1]
            or premise.export_price[t] != premise.export_price[t - 1]
            or premise.export_limit_kw[t] != premise.export_limit_kw[t - 1]
            or (home is not None and home[t] != home[t - 1])
            or any(
                _kw(v.charge_limit_kw, v.max_charge_kw, t)
                != _kw(v.charge_limit_kw, v.max_charge_kw, t - 1)
                or _kw(v.discharge_limit_kw, v.max_discharge_kw, t)
                != _kw(v.discharge_limit_kw, v.max_discharge_kw, t - 1)
                for v in vehicles
            )
        ):
            cut[t] = True
    edges = [t for t in range(n + 1) if cut[t]]
    return list(pairwise(edges))


def merged(
    vehicles: Sequence[FeedVehicle], premise: FeedPremise, spans: list[tuple[int, int]]
) -> tuple[list[FeedVehicle], FeedPremise]:
    """The vehicles and premise over the blocks."""
    first = [s for s, _ in spans]
    hours = tuple(math.fsum(premise.slot_hours[s:e]) for s, e in spans)
    home = premise.home_load_kw
    prem = FeedPremise(
        slot_hours=hours,
        import_price=tuple(premise.import_price[s] for s in first),
        export_price=tuple(premise.export_price[s] for s in first),
        export_limit_kw=tuple(premise.export_limit_kw[s] for s in first),
        home_load_kw=None if home is None else tuple(home[s] for s in first),
    )
    out = []
    for v in vehicles:
        dep = sum(1 for _, e in spans if e <= v.departure_slot)
        ch, dis = v.charge_limit_kw, v.discharge_limit_kw
        out.append(
            replace(
                v,
                departure_slot=dep,
                charge_limit_kw=None if ch is None else tuple(ch[s] for s in first),
                discharge_limit_kw=None if dis is None else tuple(dis[s] for s in first),
            )
        )
    return out, prem


def spread(plan: FeedPlan, premise: FeedPremise, spans: list[tuple[int, int]]) -> FeedPlan:
    """The blocks' plan over the original slots (in proportion to their hours)."""
    hours = premise.slot_hours
    fracs: list[list[float]] = []
    for s, e in spans:
        total = math.fsum(hours[s:e])
        fracs.append([hours[t] / total for t in range(s, e)])
    vehicles: dict[str, FeedVehiclePlan] = {}
    for vid, p in plan.vehicles.items():

        def per_slot(values: tuple[float, ...]) -> tuple[float, ...]:
            return tuple(values[b] * f for b in range(len(spans)) for f in fracs[b])

        soc: list[float] = []
        for b in range(len(spans)):
            lo, hi = p.soc_kwh[b], p.soc_kwh[b + 1]
            done = 0.0
            for f in fracs[b]:
                soc.append(lo + (hi - lo) * done)
                done += f
        soc.append(p.soc_kwh[len(spans)])
        vehicles[vid] = replace(
            p,
            charge_kwh=per_slot(p.charge_kwh),
            discharge_kwh=per_slot(p.discharge_kwh),
            home_kwh=per_slot(p.home_kwh),
            export_kwh=per_slot(p.export_kwh),
            soc_kwh=tuple(soc),
        )
    return replace(plan, vehicles=vehicles)
