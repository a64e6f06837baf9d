"""The power-feed planner: charge and discharge plugged-in vehicles (V2G/V2H) at least cost.

Pure Python (standard library only), no Home Assistant imports. Slots are given by index
(``FeedPremise.slot_hours``); mapping them to clock times, tariffs and events is the caller's.

The model (a linear program)
----------------------------
Per vehicle ``v`` and slot ``t`` (``h_t`` hours), with ``c`` the AC energy drawn from the grid
and ``d`` the AC energy the charger feeds back, the battery holds

    ``E[t+1] = E[t] + eta_c * c[t] - d[t] / eta_d``,  ``E[0] = soc_kwh``

and the plan keeps ``floor <= E <= capacity`` (below the floor on arrival: the floor is
restored at full power first, ``E[t] >= min(floor, soc + eta_c * max charge so far)``, as
evcc's minimum SoC), ``E[departure] >= min(target, reachable)``, ``c <= charge kW * h``,
``d <= discharge kW * h`` and, per 24 h from the plan's start, the battery energy discharged
at most ``cycles_per_day * capacity``. The premise: the vehicles' feed in slot ``t`` first
covers the home's own load (``home_load_kw``, worth the import price), the rest is exported
(worth the export price, at most ``export_limit_kw``; 0: no export, so V2H never feeds more
than the home uses). The export rate is taken at most the import rate of the slot (the meter
nets within a slot; a higher feed-in rate would reward importing to export).

It minimises ``sum p_imp c - sum p_imp home - sum p_exp export + wear * discharged battery
kWh - v_term * E[departure]`` where ``v_term``, the value of the energy left in the battery,
is its cheapest replacement: the lowest import price while plugged in over ``eta_c`` (so
energy on arrival is not sold off unless the spread pays). Hence a vehicle feeds only when
``export (or import) price * eta_c * eta_d > buying price + wear * eta_c``: the spread beats
the losses and the wear. Ties are broken against charging and discharging (1e-9 per kWh).

The algorithm (exact)
---------------------
In units of AC kWh at the charger's output (``eta_d`` battery kWh) every vehicle is a chain of
storage arcs; charging comes from one source (cost ``p_imp / (eta_c eta_d)`` per unit), feeding
goes to a per-slot feed node whose arcs to the sink are the home's load (``-p_imp``) and the
export (``-p_exp``, capacity the export limit). That is a min-cost flow, solved by the network
simplex (:mod:`.planner_feed_flow`). The daily cycle budget of a single feeding vehicle is a
per-day node after its feed nodes (still a network); with several feeding vehicles, budgets
are side constraints handled by Dantzig-Wolfe decomposition (the network simplex prices
columns; exact, or within the plan's ``gap`` when ``max_rounds`` cuts it short). Not modelled: a circuit limit shared by charging vehicles (the charging planner's),
vehicle-to-vehicle netting inside a slot (it can only make the bill lower than planned).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from .planner_feed_flow import Arc, FlowError, NetworkSimplex, solve_with_side_constraints
from .planner_feed_slots import blocks, merged, spread
from .planner_feed_types import (
    DEFAULT_CHARGE_EFFICIENCY,
    DEFAULT_DISCHARGE_EFFICIENCY,
    DEFAULT_WEAR_COST_PER_KWH,
    TIE_COST,
    FeedError,
    FeedPlan,
    FeedPremise,
    FeedVehicle,
    FeedVehiclePlan,
    _series,
    split_round_trip,
)

__all__ = [
    "DEFAULT_CHARGE_EFFICIENCY",
    "DEFAULT_DISCHARGE_EFFICIENCY",
    "DEFAULT_WEAR_COST_PER_KWH",
    "FeedError",
    "FeedPlan",
    "FeedPremise",
    "FeedVehicle",
    "FeedVehiclePlan",
    "plan_feed",
    "split_round_trip",
]

_TOL: Final = 1e-7


@dataclass(slots=True)
class _Lane:
    """One vehicle's arcs in the network."""

    v: FeedVehicle
    slots: int
    eta_c: float
    eta_d: float
    soc0: float
    target: float
    reachable: bool
    charge: list[int]
    discharge: list[int]
    storage: list[int]
    charge_cap: list[float]
    discharge_cap: list[float]


def _limits(v: FeedVehicle, premise: FeedPremise, n: int) -> tuple[list[float], list[float]]:
    ch = _series(
        f"{v.vehicle_id}.charge_limit_kw",
        v.charge_limit_kw,
        len(premise.slot_hours),
        lo=0.0,
        inf_ok=True,
    )
    dis = _series(
        f"{v.vehicle_id}.discharge_limit_kw",
        v.discharge_limit_kw,
        len(premise.slot_hours),
        lo=0.0,
        inf_ok=True,
    )
    charge = [
        min(v.max_charge_kw, ch[t] if ch else math.inf) * premise.slot_hours[t] for t in range(n)
    ]
    discharge = [
        min(v.max_discharge_kw, dis[t] if dis else math.inf) * premise.slot_hours[t]
        for t in range(n)
    ]
    return charge, discharge


def plan_feed(
    vehicles: Sequence[FeedVehicle],
    premise: FeedPremise,
    *,
    feed: bool = True,
    max_rounds: int = 500,
) -> FeedPlan:
    """The least-cost plan (``feed=False``: charging only, nothing fed back).

    Alike consecutive slots are planned as one (:mod:`.planner_feed_slots`, exact).
    ``max_rounds`` bounds the Dantzig-Wolfe rounds (several feeding vehicles with binding
    cycle budgets); a plan cut short keeps every constraint and says its ``gap``.
    """
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
        raise FeedError(f"max_rounds must be an int >= 1, got {max_rounds!r}")
    ids = [v.vehicle_id for v in vehicles]
    if len(set(ids)) != len(ids):
        raise FeedError(f"vehicle ids must be unique, got {ids}")
    n = len(premise.slot_hours)
    for v in vehicles:
        _series(f"{v.vehicle_id}.charge_limit_kw", v.charge_limit_kw, n, lo=0.0, inf_ok=True)
        _series(f"{v.vehicle_id}.discharge_limit_kw", v.discharge_limit_kw, n, lo=0.0, inf_ok=True)
    spans = blocks(vehicles, premise)
    if len(spans) == n:
        return _plan_exact(vehicles, premise, feed, max_rounds)
    few, prem = merged(vehicles, premise, spans)
    return spread(_plan_exact(few, prem, feed, max_rounds), premise, spans)


def _plan_exact(
    vehicles: Sequence[FeedVehicle], premise: FeedPremise, feed: bool, max_rounds: int
) -> FeedPlan:
    n_slots = len(premise.slot_hours)
    hours = premise.slot_hours
    p_imp = premise.import_price
    p_exp = tuple(min(e, i) for e, i in zip(premise.export_price, p_imp, strict=True))
    home = premise.home_load_kw or (0.0,) * n_slots
    starts = [0.0]
    for h in hours:
        starts.append(starts[-1] + h)
    day = [int(starts[t] / 24.0 + 1e-9) for t in range(n_slots)]
    n_days = (day[-1] + 1) if n_slots else 0

    lanes: list[_Lane] = []
    for v in vehicles:
        slots = min(v.departure_slot, n_slots)
        charge, discharge = _limits(v, premise, slots)
        if not feed:
            discharge = [0.0] * slots
        soc0 = min(v.soc_kwh, v.capacity_kwh)
        reach = min(v.capacity_kwh, soc0 + v.charge_efficiency * math.fsum(charge))
        target = min(v.target_kwh, v.capacity_kwh)
        lanes.append(
            _Lane(
                v,
                slots,
                v.charge_efficiency,
                v.discharge_efficiency,
                soc0,
                min(target, reach),
                reach >= target - 1e-9,
                [],
                [],
                [],
                charge,
                discharge,
            )
        )
    feeders = [ln for ln in lanes if any(d > 0 for d in ln.discharge_cap)]
    laminar = len(feeders) <= 1

    # Nodes: 0 sink, 1 source, 2.. feed nodes per slot, then per-day nodes, then vehicles.
    sink, source = 0, 1
    feed_node = [2 + t for t in range(n_slots)]
    day_node = [2 + n_slots + k for k in range(n_days)] if laminar and feeders else []
    n_nodes = 2 + n_slots + len(day_node)
    arcs: list[Arc] = [Arc(sink, source, 0.0, math.inf, 0.0)]
    supplies: list[float] = []
    home_arc: list[int] = [-1] * n_slots
    export_arc: list[int] = [-1] * n_slots
    side: list[dict[int, float]] = []
    budgets: list[float] = []

    for ln in lanes:
        v, eta_c, eta_d = ln.v, ln.eta_c, ln.eta_d
        base = n_nodes
        n_nodes += ln.slots
        if not ln.slots:
            continue
        cheapest = min(p_imp[t] for t in range(ln.slots))
        v_term = max(0.0, cheapest) / eta_c  # per battery kWh
        reach_so_far = ln.soc0
        for t in range(ln.slots):
            node = base + t
            ln.charge.append(len(arcs))
            arcs.append(
                Arc(
                    source,
                    node,
                    0.0,
                    ln.charge_cap[t] * eta_c * eta_d,
                    p_imp[t] / (eta_c * eta_d) + TIE_COST,
                )
            )
            ln.discharge.append(len(arcs))
            arcs.append(
                Arc(
                    node,
                    feed_node[t],
                    0.0,
                    ln.discharge_cap[t],
                    v.wear_cost_per_kwh / eta_d + TIE_COST,
                )
            )
            reach_so_far = min(v.capacity_kwh, reach_so_far + eta_c * ln.charge_cap[t])
            low = min(v.floor_kwh, reach_so_far)
            ln.storage.append(len(arcs))
            if t + 1 < ln.slots:
                arcs.append(Arc(node, node + 1, low * eta_d, v.capacity_kwh * eta_d, 0.0))
            else:
                arcs.append(
                    Arc(
                        node,
                        sink,
                        max(low, ln.target) * eta_d,
                        v.capacity_kwh * eta_d,
                        -v_term / eta_d,
                    )
                )
        # The daily budget of several feeders: Dantzig-Wolfe side constraints.
        if v.cycles_per_day is not None and not laminar and ln in feeders:
            budget = v.cycles_per_day * v.capacity_kwh
            for k in range(n_days):
                coeffs = {ln.discharge[t]: 1.0 / eta_d for t in range(ln.slots) if day[t] == k}
                if (
                    sum(ln.discharge_cap[t] for t in range(ln.slots) if day[t] == k) / eta_d
                    > budget + _TOL
                ):
                    side.append(coeffs)
                    budgets.append(budget)

    for t in range(n_slots):  # the premise: home load first, then export
        out = day_node[day[t]] if day_node else sink
        home_arc[t] = len(arcs)
        arcs.append(Arc(feed_node[t], out, 0.0, home[t] * hours[t], -p_imp[t]))
        export_arc[t] = len(arcs)
        arcs.append(Arc(feed_node[t], out, 0.0, premise.export_limit_kw[t] * hours[t], -p_exp[t]))
    if day_node:
        v = feeders[0].v
        budget = math.inf if v.cycles_per_day is None else v.cycles_per_day * v.capacity_kwh
        for k in range(n_days):
            arcs.append(Arc(day_node[k], sink, 0.0, budget * feeders[0].eta_d, 0.0))

    supplies = [0.0] * n_nodes
    base = 2 + n_slots + len(day_node)
    for ln in lanes:
        if ln.slots:
            supplies[base] += ln.soc0 * ln.eta_d
            supplies[sink] -= ln.soc0 * ln.eta_d
        base += ln.slots

    rounds = 0
    gap = 0.0
    if side:
        closed = {a for coeffs in side for a in coeffs}
        start = [
            Arc(a.tail, a.head, 0.0, 0.0, a.cost) if i in closed else a for i, a in enumerate(arcs)
        ]
        try:
            found = solve_with_side_constraints(
                n_nodes, supplies, arcs, side, budgets, start, max_rounds=max_rounds
            )
            flows, rounds, pivots, gap = found.flows, found.rounds, found.pivots, found.gap
        except FlowError as err:  # pragma: no cover - feasible by construction
            raise FeedError(f"no feasible power-feed plan: {err}") from err
    else:
        solver = NetworkSimplex(n_nodes, supplies, arcs)
        try:
            flows = solver.solve()
        except FlowError as err:  # pragma: no cover - feasible by construction
            raise FeedError(f"no feasible power-feed plan: {err}") from err
        pivots = solver.pivots
    plan = _extract(lanes, flows, premise, p_exp, home_arc, export_arc, n_slots, pivots, rounds)
    return replace(plan, gap=gap) if gap else plan


def _extract(
    lanes: list[_Lane],
    flows: list[float],
    premise: FeedPremise,
    p_exp: tuple[float, ...],
    home_arc: list[int],
    export_arc: list[int],
    n_slots: int,
    pivots: int,
    rounds: int,
) -> FeedPlan:
    p_imp = premise.import_price
    fed = [0.0] * n_slots
    for ln in lanes:
        for t, a in enumerate(ln.discharge):
            fed[t] += max(0.0, flows[a])
    plans: dict[str, FeedVehiclePlan] = {}
    objective = 0.0
    for ln in lanes:
        eta_c, eta_d = ln.eta_c, ln.eta_d
        charge = [max(0.0, flows[a]) / (eta_c * eta_d) for a in ln.charge]
        dis = [max(0.0, flows[a]) for a in ln.discharge]
        soc = [ln.soc0] + [flows[a] / eta_d for a in ln.storage]
        soc += [soc[-1]] * (n_slots + 1 - len(soc))
        home_kwh, export_kwh = [], []
        for t, d in enumerate(dis):
            share = d / fed[t] if fed[t] > 0 else 0.0
            home_kwh.append(share * flows[home_arc[t]])
            export_kwh.append(share * flows[export_arc[t]])
        pad = [0.0] * (n_slots - ln.slots)
        battery_out = math.fsum(dis) / eta_d
        import_cost = math.fsum(p_imp[t] * c for t, c in enumerate(charge))
        home_saving = math.fsum(p_imp[t] * x for t, x in enumerate(home_kwh))
        export_credit = math.fsum(p_exp[t] * x for t, x in enumerate(export_kwh))
        wear = ln.v.wear_cost_per_kwh * battery_out
        if ln.slots:
            cheapest = min(p_imp[t] for t in range(ln.slots))
            objective -= max(0.0, cheapest) / eta_c * soc[ln.slots]
        objective += import_cost - home_saving - export_credit + wear
        plans[ln.v.vehicle_id] = FeedVehiclePlan(
            vehicle_id=ln.v.vehicle_id,
            charge_kwh=tuple(charge + pad),
            discharge_kwh=tuple(dis + pad),
            home_kwh=tuple(home_kwh + pad),
            export_kwh=tuple(export_kwh + pad),
            soc_kwh=tuple(soc),
            target_kwh=ln.target,
            reachable=ln.reachable,
            cycles=battery_out / ln.v.capacity_kwh,
            import_cost=import_cost,
            home_saving=home_saving,
            export_credit=export_credit,
            wear_cost=wear,
        )
    vals = list(plans.values())
    return FeedPlan(
        vehicles=plans,
        objective=objective,
        import_cost=math.fsum(p.import_cost for p in vals),
        home_saving=math.fsum(p.home_saving for p in vals),
        export_credit=math.fsum(p.export_credit for p in vals),
        wear_cost=math.fsum(p.wear_cost for p in vals),
        pivots=pivots,
        rounds=rounds,
    )
