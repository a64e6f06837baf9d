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
columns). Not modelled: a circuit limit shared by charging vehicles (the charging planner's),
vehicle-to-vehicle netting inside a slot (it can only make the bill lower than planned).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .planner_feed_flow import Arc, FlowError, NetworkSimplex, solve_with_side_constraints

DEFAULT_WEAR_COST_PER_KWH: Final = 0.04
"""Battery wear per kWh discharged from the battery (in the tariff's currency).

BloombergNEF's 2024 battery price survey: lithium-ion packs at $115/kWh on average (10
December 2024); over 3,000 equivalent full cycles that is $0.038 per kWh cycled, rounded up.
The user sets their own (a pack's price and warranty cycles)."""
DEFAULT_CHARGE_EFFICIENCY: Final = 0.92
DEFAULT_DISCHARGE_EFFICIENCY: Final = 0.92
"""A round trip of 0.85 (AC to AC) by default: set the charger's and car's own."""
TIE_COST: Final = 1e-9
_TOL: Final = 1e-7


class FeedError(ValueError):
    """Bad input for the power-feed planner (a clear message, nothing planned)."""


def _finite(name: str, value: float, *, lo: float = 0.0, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FeedError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or not lo <= v <= hi:
        raise FeedError(f"{name} must be between {lo} and {hi}, got {value!r}")
    return v


def _series(
    name: str,
    values: Sequence[float] | None,
    n: int,
    *,
    lo: float = -math.inf,
    inf_ok: bool = False,
) -> tuple[float, ...] | None:
    if values is None:
        return None
    if len(values) != n:
        raise FeedError(f"{name} needs one value per slot ({n}), got {len(values)}")
    out = []
    for i, x in enumerate(values):
        if isinstance(x, bool) or not isinstance(x, int | float) or math.isnan(x):
            raise FeedError(f"{name}[{i}] must be a number, got {x!r}")
        if x < lo or (math.isinf(x) and not (inf_ok and x > 0)):
            raise FeedError(f"{name}[{i}] out of range: {x!r}")
        out.append(float(x))
    return tuple(out)


def split_round_trip(round_trip: float) -> tuple[float, float]:
    """Charge and discharge efficiencies of a round trip (its square root each)."""
    rt = _finite("round_trip", round_trip, lo=1e-3, hi=1.0)
    return math.sqrt(rt), math.sqrt(rt)


@dataclass(frozen=True, slots=True)
class FeedVehicle:
    """A plugged-in vehicle whose battery may feed the home or the grid.

    Energies in battery kWh; ``departure_slot``: it leaves at the start of that slot (it is
    plugged in for slots ``0 .. departure_slot - 1``). ``max_discharge_kw=0``: never feeds.
    ``charge_limit_kw``/``discharge_limit_kw``: optional per-slot caps (load control).
    ``cycles_per_day``: equivalent full cycles it may feed per 24 h (``None``: no budget).
    """

    vehicle_id: str
    capacity_kwh: float
    soc_kwh: float
    floor_kwh: float
    target_kwh: float
    departure_slot: int
    max_charge_kw: float
    max_discharge_kw: float
    charge_efficiency: float = DEFAULT_CHARGE_EFFICIENCY
    discharge_efficiency: float = DEFAULT_DISCHARGE_EFFICIENCY
    wear_cost_per_kwh: float = DEFAULT_WEAR_COST_PER_KWH
    cycles_per_day: float | None = None
    charge_limit_kw: tuple[float, ...] | None = None
    discharge_limit_kw: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.vehicle_id, str) or not self.vehicle_id:
            raise FeedError(f"vehicle_id must be a non-empty string, got {self.vehicle_id!r}")
        cap = _finite("capacity_kwh", self.capacity_kwh, lo=1e-3)
        _finite("soc_kwh", self.soc_kwh)
        _finite("floor_kwh", self.floor_kwh, hi=cap)
        _finite("target_kwh", self.target_kwh)
        _finite("max_charge_kw", self.max_charge_kw)
        _finite("max_discharge_kw", self.max_discharge_kw)
        _finite("charge_efficiency", self.charge_efficiency, lo=1e-3, hi=1.0)
        _finite("discharge_efficiency", self.discharge_efficiency, lo=1e-3, hi=1.0)
        _finite("wear_cost_per_kwh", self.wear_cost_per_kwh)
        if self.cycles_per_day is not None:
            _finite("cycles_per_day", self.cycles_per_day)
        if isinstance(self.departure_slot, bool) or not isinstance(self.departure_slot, int):
            raise FeedError(f"departure_slot must be an int, got {self.departure_slot!r}")
        if self.departure_slot < 0:
            raise FeedError(f"departure_slot must be >= 0, got {self.departure_slot}")


@dataclass(frozen=True, slots=True)
class FeedPremise:
    """The premise over the plan's slots (one value per slot in every series).

    Prices per kWh; ``export_limit_kw``: the most the premise may export (``inf``: no limit,
    ``0``: no export; the configured limit and EXPORT_CAPACITY_LIMIT events, the smaller);
    ``home_load_kw``: the home's own forecast load (``None``: zero).
    """

    slot_hours: tuple[float, ...]
    import_price: tuple[float, ...]
    export_price: tuple[float, ...]
    export_limit_kw: tuple[float, ...]
    home_load_kw: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.slot_hours)
        for i, h in enumerate(self.slot_hours):
            _finite(f"slot_hours[{i}]", h, lo=1e-6, hi=24.0)
        _series("import_price", self.import_price, n)
        _series("export_price", self.export_price, n)
        _series("export_limit_kw", self.export_limit_kw, n, lo=0.0, inf_ok=True)
        _series("home_load_kw", self.home_load_kw, n, lo=0.0)


@dataclass(frozen=True, slots=True)
class FeedVehiclePlan:
    """One vehicle's plan: per slot AC energies (kWh) and the battery's energy.

    ``soc_kwh[t]`` is the battery at the start of slot ``t`` (one more entry: after the last
    slot). ``home_kwh + export_kwh == discharge_kwh`` per slot (the premise's split, shared
    among feeding vehicles in proportion). ``cycles``: battery kWh fed / capacity.
    """

    vehicle_id: str
    charge_kwh: tuple[float, ...]
    discharge_kwh: tuple[float, ...]
    home_kwh: tuple[float, ...]
    export_kwh: tuple[float, ...]
    soc_kwh: tuple[float, ...]
    target_kwh: float
    reachable: bool
    cycles: float
    import_cost: float
    home_saving: float
    export_credit: float
    wear_cost: float

    @property
    def net_cost(self) -> float:
        """What the vehicle costs: energy bought, minus what its feed saves and earns, plus wear."""
        return self.import_cost - self.home_saving - self.export_credit + self.wear_cost


@dataclass(frozen=True, slots=True)
class FeedPlan:
    """The plans of all vehicles; ``objective`` is what the LP minimised."""

    vehicles: dict[str, FeedVehiclePlan]
    objective: float
    import_cost: float
    home_saving: float
    export_credit: float
    wear_cost: float
    pivots: int = 0
    rounds: int = 0

    @property
    def net_cost(self) -> float:
        """Energy bought minus the feed's savings and credit, plus wear."""
        return self.import_cost - self.home_saving - self.export_credit + self.wear_cost


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
    vehicles: Sequence[FeedVehicle], premise: FeedPremise, *, feed: bool = True
) -> FeedPlan:
    """The least-cost plan (``feed=False``: charging only, nothing fed back)."""
    ids = [v.vehicle_id for v in vehicles]
    if len(set(ids)) != len(ids):
        raise FeedError(f"vehicle ids must be unique, got {ids}")
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
    if side:
        closed = {a for coeffs in side for a in coeffs}
        start = [
            Arc(a.tail, a.head, 0.0, 0.0, a.cost) if i in closed else a for i, a in enumerate(arcs)
        ]
        try:
            flows, rounds = solve_with_side_constraints(
                n_nodes, supplies, arcs, side, budgets, start
            )
        except FlowError as err:  # pragma: no cover - feasible by construction
            raise FeedError(f"no feasible power-feed plan: {err}") from err
        pivots = 0
    else:
        solver = NetworkSimplex(n_nodes, supplies, arcs)
        try:
            flows = solver.solve()
        except FlowError as err:  # pragma: no cover - feasible by construction
            raise FeedError(f"no feasible power-feed plan: {err}") from err
        pivots = solver.pivots
    return _extract(lanes, flows, premise, p_exp, home_arc, export_arc, n_slots, pivots, rounds)


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
