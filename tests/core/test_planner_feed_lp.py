"""The power-feed planner against a linear-programming reference (scipy.optimize.linprog, HiGHS).

The reference is written from the model in :mod:`core.planner_feed`'s docstring, not from the
network: per vehicle and slot the AC energy charged ``c`` and fed ``d`` and the battery at the
slot's end ``E``; per slot the feed covering the home ``hm`` and the export ``ex``. ``scipy``
is a test-only dependency.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, replace

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import coo_array

from custom_components.pev_portal.core.planner_feed import (
    FeedPlan,
    FeedPremise,
    FeedVehicle,
    plan_feed,
)

REL_TOL = 1e-6
DEVIATIONS: list[float] = []


@dataclass
class Case:
    vehicles: list[FeedVehicle]
    premise: FeedPremise


def reference(case: Case, timings: list[float] | None = None) -> float:
    """The optimal objective by HiGHS (see the module docstring for the model).

    ``timings``: the CPU seconds of HiGHS alone (``linprog``, not the model's build) are
    appended to it."""
    prem = case.premise
    n = len(prem.slot_hours)
    hours = prem.slot_hours
    p_imp = prem.import_price
    p_exp = [min(e, i) for e, i in zip(prem.export_price, p_imp, strict=True)]
    home = prem.home_load_kw or (0.0,) * n
    start = np.concatenate([[0.0], np.cumsum(hours)])
    day = [math.floor(start[t] / 24 + 1e-9) for t in range(n)]
    names: list[tuple[str, int, int]] = []
    cost: list[float] = []
    bounds: list[tuple[float, float | None]] = []

    def var(name: str, v: int, t: int, lo: float, hi: float, c: float) -> int:
        names.append((name, v, t))
        cost.append(c)
        bounds.append((lo, None if math.isinf(hi) else hi))
        return len(names) - 1

    eq_rows: list[tuple[dict[int, float], float]] = []
    ub_rows: list[tuple[dict[int, float], float]] = []
    feed_at: list[list[int]] = [[] for _ in range(n)]
    for vi, v in enumerate(case.vehicles):
        slots = min(v.departure_slot, n)
        if not slots:
            continue
        soc0 = min(v.soc_kwh, v.capacity_kwh)
        ch_lim = v.charge_limit_kw or (math.inf,) * n
        dis_lim = v.discharge_limit_kw or (math.inf,) * n
        pc = [min(v.max_charge_kw, ch_lim[t]) * hours[t] for t in range(slots)]
        pd = [min(v.max_discharge_kw, dis_lim[t]) * hours[t] for t in range(slots)]
        reach = min(v.capacity_kwh, soc0 + v.charge_efficiency * sum(pc))
        target = min(v.target_kwh, v.capacity_kwh, reach)
        v_term = max(0.0, min(p_imp[:slots])) / v.charge_efficiency
        prev: int | None = None
        cum = soc0
        disch_by_day: dict[int, dict[int, float]] = {}
        for t in range(slots):
            c = var("c", vi, t, 0.0, pc[t], p_imp[t])
            d = var("d", vi, t, 0.0, pd[t], v.wear_cost_per_kwh / v.discharge_efficiency)
            cum = min(v.capacity_kwh, cum + v.charge_efficiency * pc[t])
            lo = min(v.floor_kwh, cum)
            last = t == slots - 1
            e = var(
                "E",
                vi,
                t,
                max(lo, target) if last else lo,
                v.capacity_kwh,
                -v_term if last else 0.0,
            )
            row = {e: 1.0, c: -v.charge_efficiency, d: 1.0 / v.discharge_efficiency}
            if prev is None:
                eq_rows.append((row, soc0))
            else:
                row[prev] = -1.0
                eq_rows.append((row, 0.0))
            prev = e
            feed_at[t].append(d)
            disch_by_day.setdefault(day[t], {})[d] = 1.0 / v.discharge_efficiency
        if v.cycles_per_day is not None:
            for coeffs in disch_by_day.values():
                ub_rows.append((coeffs, v.cycles_per_day * v.capacity_kwh))
    for t in range(n):
        hm = var("hm", -1, t, 0.0, home[t] * hours[t], -p_imp[t])
        ex = var("ex", -1, t, 0.0, prem.export_limit_kw[t] * hours[t], -p_exp[t])
        row = {hm: 1.0, ex: 1.0}
        for d in feed_at[t]:
            row[d] = -1.0
        eq_rows.append((row, 0.0))

    def matrix(rows: list[tuple[dict[int, float], float]]) -> coo_array | None:
        if not rows:
            return None
        r, c, val = [], [], []
        for i, (coeffs, _) in enumerate(rows):
            for j, x in coeffs.items():
                r.append(i)
                c.append(j)
                val.append(x)
        return coo_array((val, (r, c)), shape=(len(rows), len(names))).tocsr()

    started = time.process_time()
    res = linprog(
        np.array(cost),
        A_ub=matrix(ub_rows),
        b_ub=[b for _, b in ub_rows] or None,
        A_eq=matrix(eq_rows),
        b_eq=[b for _, b in eq_rows] or None,
        bounds=bounds,
        method="highs",
    )
    if timings is not None:
        timings.append(time.process_time() - started)
    assert res.status == 0, res.message
    return float(res.fun)


def random_case(rng: random.Random, n_vehicles: int) -> Case:
    days = rng.randint(1, 7)
    slot_h = rng.choice([1.0, 2.0, 3.0])
    n = int(days * 24 / slot_h)
    base = [rng.uniform(0.05, 0.25) for _ in range(n)]
    peak = [rng.random() < 0.2 for _ in range(n)]
    p_imp = [
        round(b + (rng.uniform(0.2, 0.5) if pk else 0.0), 3)
        for b, pk in zip(base, peak, strict=True)
    ]
    if rng.random() < 0.1:
        p_imp[rng.randrange(n)] = -0.05  # a negative price now and then
    flat_export = rng.random() < 0.3
    p_exp = [
        round(rng.uniform(0.03, 0.1) if flat_export else p * rng.uniform(0.5, 1.1), 3)
        for p in p_imp
    ]
    no_export = rng.random() < 0.2
    limit = [
        0.0 if no_export else rng.choice([math.inf, 3.0, 5.0, rng.uniform(0, 10)]) for _ in range(n)
    ]
    home = None if rng.random() < 0.3 else [round(rng.uniform(0, 4), 2) for _ in range(n)]
    premise = FeedPremise(
        tuple([slot_h] * n),
        tuple(p_imp),
        tuple(p_exp),
        tuple(limit),
        None if home is None else tuple(home),
    )
    vehicles = []
    for i in range(n_vehicles):
        cap = rng.choice([40.0, 60.0, 77.0, 100.0])
        floor = cap * rng.choice([0.0, 0.2, 0.4])
        dep = rng.randint(0, n) if rng.random() < 0.9 else n + 3
        eta_c = rng.uniform(0.85, 1.0)
        eta_d = rng.uniform(0.85, 1.0)
        vehicles.append(
            FeedVehicle(
                f"ev{i}",
                capacity_kwh=cap,
                soc_kwh=round(cap * rng.uniform(0.05, 1.0), 2),
                floor_kwh=floor,
                target_kwh=round(cap * rng.uniform(0.3, 1.05), 2),
                departure_slot=dep,
                max_charge_kw=rng.choice([3.7, 7.4, 11.0]),
                max_discharge_kw=rng.choice([0.0, 3.7, 7.4, 10.0]),
                charge_efficiency=eta_c,
                discharge_efficiency=eta_d,
                wear_cost_per_kwh=rng.choice([0.0, 0.02, 0.04, 0.1]),
                cycles_per_day=rng.choice([None, 0.2, 0.5, 1.0]),
                charge_limit_kw=None
                if rng.random() < 0.7
                else tuple(rng.choice([math.inf, math.inf, 2.0, 0.0]) for _ in range(n)),
                discharge_limit_kw=None
                if rng.random() < 0.8
                else tuple(rng.choice([math.inf, 1.0, 0.0]) for _ in range(n)),
            )
        )
    if rng.random() < 0.5:  # alike sub-slots, merged by the planner, not by the reference
        return subdivide(Case(vehicles, premise), rng.randint(2, 4))
    return Case(vehicles, premise)


def subdivide(case: Case, k: int) -> Case:
    """Every slot cut into ``k`` equal slots with the same data (departures scale)."""

    def rep(values: tuple[float, ...] | None) -> tuple[float, ...] | None:
        return None if values is None else tuple(x for x in values for _ in range(k))

    p = case.premise
    premise = FeedPremise(
        tuple(h / k for h in p.slot_hours for _ in range(k)),
        rep(p.import_price) or (),
        rep(p.export_price) or (),
        rep(p.export_limit_kw) or (),
        rep(p.home_load_kw),
    )
    vehicles = [
        replace(
            v,
            departure_slot=v.departure_slot * k,
            charge_limit_kw=rep(v.charge_limit_kw),
            discharge_limit_kw=rep(v.discharge_limit_kw),
        )
        for v in case.vehicles
    ]
    return Case(vehicles, premise)


def check(case: Case, result: FeedPlan) -> None:
    ref = reference(case)
    dev = abs(result.objective - ref) / (1.0 + abs(ref))
    DEVIATIONS.append(dev)
    assert dev <= REL_TOL, (result.objective, ref)
    assert result.gap == 0.0


@pytest.mark.parametrize("seed", [10_002, 10_004, 10_005])
def test_rounds_cut_short_keep_every_constraint_and_bound_the_gap(seed: int) -> None:
    """One Dantzig-Wolfe round: a feasible plan, no better than HiGHS, within its gap."""
    case = random_case(random.Random(seed), 4)
    full = plan_feed(case.vehicles, case.premise)
    cut = plan_feed(case.vehicles, case.premise, max_rounds=1)
    ref = reference(case)
    assert full.rounds > 1, "an instance where the budgets bind"
    assert cut.rounds == 1
    assert cut.gap > 0
    assert cut.objective >= ref - 1e-6 * (1 + abs(ref))
    assert cut.objective - cut.gap <= ref + 1e-6 * (1 + abs(ref))
    starts = [0.0]
    for h in case.premise.slot_hours:
        starts.append(starts[-1] + h)
    for v in case.vehicles:
        p = cut.vehicles[v.vehicle_id]
        if v.cycles_per_day is None:
            continue
        per_day: dict[int, float] = {}
        for t, d in enumerate(p.discharge_kwh):
            day = int(starts[t] / 24 + 1e-9)
            per_day[day] = per_day.get(day, 0.0) + d / v.discharge_efficiency
        assert max(per_day.values()) <= v.cycles_per_day * v.capacity_kwh + 1e-6


@pytest.mark.parametrize("seed", range(150))
def test_one_vehicle_matches_highs(seed: int) -> None:
    case = random_case(random.Random(seed), 1)
    check(case, plan_feed(case.vehicles, case.premise))


@pytest.mark.parametrize("seed", range(150))
def test_four_vehicles_match_highs(seed: int) -> None:
    case = random_case(random.Random(10_000 + seed), 4)
    check(case, plan_feed(case.vehicles, case.premise))


@pytest.mark.parametrize("seed", range(40))
def test_charging_only_matches_highs(seed: int) -> None:
    """``feed=False`` is the same LP with every discharge limit at zero."""
    case = random_case(random.Random(20_000 + seed), random.Random(seed).choice([1, 4]))
    closed = Case(
        [
            FeedVehicle(
                **{**{f: getattr(v, f) for f in v.__dataclass_fields__}, "max_discharge_kw": 0.0}
            )
            for v in case.vehicles
        ],
        case.premise,
    )
    result = plan_feed(case.vehicles, case.premise, feed=False)
    check(closed, result)
    assert all(d == 0 for p in result.vehicles.values() for d in p.discharge_kwh)
