"""The executable plan against a mixed-integer reference (scipy.optimize.milp, HiGHS).

The reference is a discrete time-indexed model of the same problem: in every 15-minute slot
each charger runs at one of its real levels (an integer current between its minimum and its
maximum, times phases x voltage; or 0 / full power for an on/off charger), lowered by the caps
in force, never after the departure; the levels of all the chargers in force at any instant sum
to at most the circuit; a charger may stop early in a slot (energy up to its level times the
slot). Lexicographic, like the planner: the most energy, then the least cost. ``scipy`` is a
test-only dependency.

The planner's executed plan may run a charger at several levels inside a slot (time-sharing),
which the reference cannot: it may deliver *more*. So there is a second reference, exact for
time-sharing: a linear program over every maximal level vector of every slot, the share of
the slot each one runs (``time_sharing_reference``). Issue 14 asks for at least 99.9 % of the
MILP's energy on every instance and a cost within 0.5 %. The executed plan reaches both
references on all of these deliberately mixed instances (one- and three-phase, on/off
chargers, circuits between steps): the MILP's energy or more, the time-sharing optimum's
energy, and the optimum's cost at the same energy (the MILP's when the energies are equal, the
time-sharing optimum's when the plan delivers more) within ``COST_SLACK`` (rounding of the
pieces to whole microseconds). ``test_figures_reported`` prints the figures.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import lil_array

from custom_components.pev_portal.core.planner import (
    ChargeMode,
    ChargerModel,
    Plan,
    PowerCap,
    VehicleRequest,
    plan,
)
from custom_components.pev_portal.core.tariff import FlatTariff, RtpTariff, Tariff

NOW = datetime(2026, 7, 1, 17, 0, tzinfo=UTC)
SLOT = timedelta(minutes=15)
H = 0.25

ONE_16 = ChargerModel(max_kw=3.68, max_a=16)
ONE_32 = ChargerModel(max_kw=7.36)
THREE_16 = ChargerModel(max_kw=11.04, phases=3, max_a=16)
THREE_32 = ChargerModel(max_kw=22.08, phases=3, max_a=32)
ON_OFF_23 = ChargerModel(max_kw=2.3, on_off_only=True)
ON_OFF_74 = ChargerModel(max_kw=7.4, on_off_only=True)
CHARGERS = [ONE_16, ONE_32, THREE_16, THREE_32, ON_OFF_23, ON_OFF_74]
CIRCUITS = [7.36, 9.2, 11.04, 5.75, 14.72]


@dataclass
class Case:
    requests: list[VehicleRequest]
    tariff: Tariff
    caps: list[PowerCap]
    circuit_kw: float | None
    n_slots: int

    def run(self) -> Plan:
        return plan(
            self.requests,
            now=NOW,
            tariff=self.tariff,
            caps=self.caps,
            circuit_kw=self.circuit_kw,
            horizon=SLOT * self.n_slots,
            explain=False,
        )


def random_case(rng: random.Random) -> Case:
    n_slots = rng.randint(4, 24)
    hours = n_slots // 4 + 2
    flat = rng.random() < 0.25
    points = [
        (
            NOW + timedelta(hours=h),
            NOW + timedelta(hours=h + 1),
            Decimal("0.30") if flat else Decimal(str(round(rng.uniform(0.05, 0.6), 2))),
        )
        for h in range(hours)
    ]
    tariff = RtpTariff("USD", points, FlatTariff("USD", Decimal("0.30")))
    n = rng.randint(1, 4)
    requests = []
    # Mostly one- and three-phase chargers side by side on one circuit.
    pool = [rng.choice([ONE_16, ONE_32]), rng.choice([THREE_16, THREE_32])]
    for i in range(n):
        charger = pool[i] if i < 2 and rng.random() < 0.8 else rng.choice(CHARGERS)
        dep = rng.randint(1, n_slots)
        cap_kwh = charger.max_kw * H * dep
        requests.append(
            VehicleRequest(
                f"ev{i}",
                round(rng.uniform(0.05, 1.1) * cap_kwh, 3),
                NOW + SLOT * dep,
                charger,
                mode=ChargeMode.CHEAPEST,
                tariff=FlatTariff("USD", Decimal("0.25")) if rng.random() < 0.15 else None,
            )
        )
    caps = []
    for k in range(rng.choice([0, 0, 1, 2])):
        s = rng.randrange(n_slots)
        who = None if rng.random() < 0.5 else frozenset({f"ev{rng.randrange(n)}"})
        caps.append(
            PowerCap(
                NOW + SLOT * s,
                NOW + SLOT * rng.randint(s + 1, n_slots),
                rng.choice([0.0, 2.0, 4.2, 5.0, rng.uniform(1, 12)]),
                f"cap{k}",
                who,
            )
        )
    circuit = rng.choice(CIRCUITS) if rng.random() < 0.9 else None
    return Case(requests, tariff, caps, circuit, n_slots)


def slot_price(tariff: Tariff, t: int) -> float:
    start = NOW + SLOT * t
    return float(tariff.segments(start, start + SLOT)[0].price)


def max_amps(charger: ChargerModel, limit_kw: float) -> int:
    """The highest current whose power is within ``limit_kw`` (and the charger's maximum)."""
    k = charger.phases * charger.voltage / 1000
    best = 0
    for amps in range(charger.min_a, charger.max_a + 1):
        if amps * k <= min(limit_kw, charger.max_kw) + 1e-9:
            best = amps
    return best


def milp_reference(case: Case) -> tuple[float, float, float]:
    """(energy, cost, dearest price) of the lexicographic optimum at constant levels per slot."""
    reqs = case.requests
    n, m = len(reqs), case.n_slots
    # Variables per (v, t): z (on), a (amps; for on/off chargers fixed to 0), x (kWh).
    nv = 3 * n * m

    def idx(v: int, t: int, k: int) -> int:
        return (v * m + t) * 3 + k

    lo = np.zeros(nv)
    hi = np.zeros(nv)
    integrality = np.zeros(nv)
    price = np.zeros(nv)
    rows: list[tuple[dict[int, float], float, float]] = []
    dearest = 0.0
    for v, r in enumerate(reqs):
        c = r.charger
        k = c.phases * c.voltage / 1000
        dep = round((r.departure - NOW) / SLOT) if r.departure else m  # type: ignore[operator]
        for t in range(m):
            a, b = NOW + SLOT * t, NOW + SLOT * (t + 1)
            limit = c.max_kw
            for cap in case.caps:
                if (cap.vehicle_ids is None or r.vehicle_id in cap.vehicle_ids) and (
                    cap.start < b and a < cap.end
                ):
                    limit = min(limit, cap.max_kw)
            if case.circuit_kw is not None:
                limit = min(limit, case.circuit_kw)
            z, amps, x = idx(v, t, 0), idx(v, t, 1), idx(v, t, 2)
            integrality[z] = integrality[amps] = 1
            p = slot_price(r.tariff or case.tariff, t)
            price[x] = p
            if t >= dep:
                continue
            dearest = max(dearest, p)
            hi[x] = np.inf
            if c.on_off_only:
                if c.max_kw <= limit + 1e-9:
                    hi[z] = 1
                rows.append(({x: 1.0, z: -c.max_kw * H}, -np.inf, 0.0))
            else:
                top = max_amps(c, limit)
                if top >= c.min_a:
                    hi[z] = 1
                    hi[amps] = top
                rows.append(({amps: 1.0, z: -float(c.min_a)}, 0.0, np.inf))
                rows.append(({amps: 1.0, z: -float(top)}, -np.inf, 0.0))
                rows.append(({x: 1.0, amps: -k * H}, -np.inf, 0.0))
        rows.append(({idx(v, t, 2): 1.0 for t in range(m)}, -np.inf, max(0.0, r.energy_kwh)))
    if case.circuit_kw is not None:
        for t in range(m):
            row: dict[int, float] = {}
            for v, r in enumerate(reqs):
                c = r.charger
                if c.on_off_only:
                    row[idx(v, t, 0)] = c.max_kw
                else:
                    row[idx(v, t, 1)] = c.phases * c.voltage / 1000
            rows.append((row, -np.inf, case.circuit_kw))
    a_mat = lil_array((len(rows) + 1, nv))
    lbs, ubs = [], []
    for i, (row, lb, ub) in enumerate(rows):
        for j, val in row.items():
            a_mat[i, j] = val
        lbs.append(lb)
        ubs.append(ub)
    energy = np.zeros(nv)
    for v in range(n):
        for t in range(m):
            energy[idx(v, t, 2)] = 1.0
    opts = {"mip_rel_gap": 1e-9, "time_limit": 20.0}
    first = milp(
        -energy,
        integrality=integrality,
        bounds=Bounds(lo, hi),
        constraints=LinearConstraint(a_mat[: len(rows)].tocsr(), lbs, ubs),
        options=opts,
    )
    assert first.status == 0, first.message
    best = -float(first.fun)
    a_mat[len(rows), :] = energy
    second = milp(
        price,
        integrality=integrality,
        bounds=Bounds(lo, hi),
        constraints=LinearConstraint(
            a_mat.tocsr(), [*lbs, best - 1e-7 * max(1.0, best)], [*ubs, np.inf]
        ),
        options=opts,
    )
    assert second.status == 0, second.message
    return best, float(second.fun), dearest


def slot_levels(case: Case, r: VehicleRequest, t: int) -> tuple[float, ...]:
    """The levels ``r``'s charger may run in slot ``t`` (caps, circuit, departure)."""
    if r.departure is not None and NOW + SLOT * (t + 1) > r.departure:
        return (0.0,)
    a, b = NOW + SLOT * t, NOW + SLOT * (t + 1)
    limit = r.charger.max_kw
    for cap in case.caps:
        if (cap.vehicle_ids is None or r.vehicle_id in cap.vehicle_ids) and (
            cap.start < b and a < cap.end
        ):
            limit = min(limit, cap.max_kw)
    if case.circuit_kw is not None:
        limit = min(limit, case.circuit_kw)
    return tuple(lv for lv in r.charger.levels() if lv <= limit + 1e-9)


def maximal_configs(levels: list[tuple[float, ...]], circuit: float) -> list[tuple[float, ...]]:
    """Every level vector within the circuit in which no charger can step up (all of them)."""
    out: list[tuple[float, ...]] = []

    def walk(k: int, used: float, acc: tuple[float, ...]) -> None:
        if k == len(levels):
            if all(
                not any(used - lv + up <= circuit + 1e-9 for up in levels[i] if up > lv)
                for i, lv in enumerate(acc)
            ):
                out.append(acc)
            return
        for lv in levels[k]:
            if used + lv <= circuit + 1e-9:
                walk(k + 1, used + lv, (*acc, lv))

    walk(0, 0.0, ())
    return out


def time_sharing_reference(case: Case) -> tuple[float, float]:
    """(energy, cost) of the lexicographic optimum when a slot may be shared in time between
    level vectors (what the executed plan may do): a linear program over every maximal level
    vector of every slot, enumerated (``linprog``, HiGHS). Variables: the share of each
    vector in its slot, and each vehicle's energy per slot (at most what the shares give it:
    a charger may stop early)."""
    reqs = case.requests
    n, m = len(reqs), case.n_slots
    circuit = case.circuit_kw if case.circuit_kw is not None else float("inf")
    shares: list[tuple[int, tuple[float, ...]]] = []
    for t in range(m):
        levels = [slot_levels(case, r, t) for r in reqs]
        shares.extend((t, cfg) for cfg in maximal_configs(levels, circuit))
    n_x = n * m
    nv = n_x + len(shares)
    rows = lil_array((n_x + m + n + 1, nv))
    ub = np.zeros(n_x + m + n + 1)
    for j, (t, cfg) in enumerate(shares):
        rows[n_x + t, n_x + j] = 1.0
        for v, lv in enumerate(cfg):
            if lv > 0:
                rows[v * m + t, n_x + j] = -lv * H
    for v, r in enumerate(reqs):
        for t in range(m):
            rows[v * m + t, v * m + t] = 1.0
            rows[n_x + m + v, v * m + t] = 1.0
        ub[n_x + m + v] = max(0.0, r.energy_kwh)
    ub[n_x : n_x + m] = 1.0
    price = np.zeros(nv)
    for v, r in enumerate(reqs):
        for t in range(m):
            price[v * m + t] = slot_price(r.tariff or case.tariff, t)
    energy = np.zeros(nv)
    energy[:n_x] = 1.0
    first = linprog(-energy, A_ub=rows[:-1].tocsr(), b_ub=ub[:-1], bounds=(0, None))
    assert first.status == 0, first.message
    best = -float(first.fun)
    rows[n_x + m + n, :n_x] = -1.0
    ub[-1] = -(best - 1e-7 * max(1.0, best))
    second = linprog(price, A_ub=rows.tocsr(), b_ub=ub, bounds=(0, None))
    assert second.status == 0, second.message
    return best, float(second.fun)


def check_executable(case: Case, p: Plan) -> None:
    """Every piece at one of the charger's levels under its caps, within the circuit at every
    instant, before the departure; pieces sorted and disjoint."""
    edges: set[datetime] = set()
    for r in case.requests:
        vp = p.vehicles[r.vehicle_id]
        levels = r.charger.levels()
        for a, b in zip(vp.slots, vp.slots[1:], strict=False):
            assert a.end <= b.start
        for s in vp.slots:
            assert s.start < s.end
            assert r.departure is None or s.end <= r.departure
            assert any(abs(s.power_kw - lv) <= 1e-9 for lv in levels), (s.power_kw, levels)
            for c in case.caps:
                if (c.vehicle_ids is None or r.vehicle_id in c.vehicle_ids) and (
                    s.start < c.end and c.start < s.end
                ):
                    assert s.power_kw <= c.max_kw + 1e-9
            edges.add(s.start)
        assert vp.energy_kwh <= r.energy_kwh + 1e-7
    if case.circuit_kw is not None:
        for at in edges:
            total = sum(vp.power_at(at) for vp in p.vehicles.values())
            assert total <= case.circuit_kw + 1e-6, (at, total)


ENERGY_FLOOR = 1.0  # per instance: executed energy / MILP energy (and / time-sharing optimum)
COST_SLACK = 1e-5  # per instance: relative cost above the optimum at the same energy
MEAN_FLOOR = 1.0  # over the set: mean energy ratio to the MILP
TARGET_SHARE = 1.0  # over the set: instances at the target (99.9 % and 0.5 %)
ENERGY_RATIO: list[float] = []
COST_GAP: list[float] = []


def compare(case: Case) -> tuple[float, float]:
    """(executed / MILP energy, relative cost gap to the optimum at the same energy) after
    checking the plan is executable.

    The executed plan is held to both references: at least the MILP's energy, and exactly
    the time-sharing optimum's energy and cost (which include every MILP schedule, so at
    equal energy its cost is at most the MILP's; with more energy, the MILP's cost is no
    measure, the time-sharing optimum's is).
    """
    p = case.run()
    check_executable(case, p)
    ref_kwh, ref_cost, _ = milp_reference(case)
    ts_kwh, ts_cost = time_sharing_reference(case)
    assert ts_kwh >= ref_kwh - 1e-6  # the references agree: time-sharing includes the MILP
    kwh = sum(vp.energy_kwh for vp in p.vehicles.values())
    cost = sum(s.energy_kwh * float(s.price) for vp in p.vehicles.values() for s in vp.slots)
    ratio = kwh / ref_kwh if ref_kwh > 1e-9 else 1.0
    assert kwh >= ENERGY_FLOOR * ref_kwh - 1e-6, (kwh, ref_kwh)
    assert kwh >= ENERGY_FLOOR * ts_kwh - 1e-6, (kwh, ts_kwh)
    optimum = ref_cost if kwh <= ref_kwh + 1e-6 else ts_cost
    gap = (cost - optimum) / abs(optimum) if abs(optimum) > 1e-9 else 0.0
    assert cost <= optimum + COST_SLACK * abs(optimum) + 1e-6, (cost, optimum)
    assert cost <= ts_cost + COST_SLACK * abs(ts_cost) + 1e-6, (cost, ts_cost)
    return ratio, gap


@pytest.mark.parametrize("seed", range(300))
def test_executed_plan_reaches_the_mixed_integer_optimum(seed: int) -> None:
    case = random_case(random.Random(140_000 + seed))
    ratio, gap = compare(case)
    ENERGY_RATIO.append(ratio)
    COST_GAP.append(gap)


def test_figures_reported() -> None:
    """Runs last in this module: the worst figures over the random instances."""
    if not ENERGY_RATIO:
        pytest.skip("run together with test_executed_plan_reaches_the_mixed_integer_optimum")
    n = len(ENERGY_RATIO)
    mean = sum(ENERGY_RATIO) / n
    on_target = sum(r >= 0.999 and g <= 0.005 for r, g in zip(ENERGY_RATIO, COST_GAP, strict=True))
    print(
        f"\nexecuted/MILP energy over {n} instances: min {min(ENERGY_RATIO):.5f}"
        f" mean {mean:.5f}; cost gap max {max(COST_GAP):+.4%};"
        f" at the issue's target (99.9 %, 0.5 %): {on_target}/{n}"
    )
    assert mean >= MEAN_FLOOR - 1e-6
    assert on_target >= TARGET_SHARE * n


PROBE_NOW = datetime(2026, 7, 1, 18, tzinfo=UTC)


def probe_requests() -> list[VehicleRequest]:
    """Issue 14's probe: three vehicles on a 32 A x 230 V circuit, one-phase and three-phase."""
    return [
        VehicleRequest("one-phase", 40.0, PROBE_NOW + timedelta(hours=16), ONE_16),
        VehicleRequest("three-phase 32 A", 50.0, PROBE_NOW + timedelta(hours=16), THREE_32),
        VehicleRequest("three-phase 16 A", 30.0, PROBE_NOW + timedelta(hours=9), THREE_16),
    ]


def test_probe_one_and_three_phase_on_a_32a_circuit() -> None:
    reqs = probe_requests()
    p = plan(
        reqs,
        now=PROBE_NOW,
        tariff=FlatTariff("USD", Decimal("0.30")),
        circuit_kw=7.36,
        horizon=timedelta(hours=16),
    )
    case = Case(reqs, FlatTariff("USD", Decimal("0.30")), [], 7.36, 64)
    check_executable(case, p)
    delivered = sum(vp.energy_kwh for vp in p.vehicles.values())
    # Issue 14 asked for 115.9 (75.8 before time-sharing): the executed plan reaches the
    # continuous optimum, 117.76 kWh, which bounds every executable plan.
    assert delivered >= 117.76 - 1e-6
    # Every vehicle short is told why, and the levels are named when they cost energy.
    for vp in p.vehicles.values():
        if not vp.reachable:
            assert vp.explanations
    lost = [e for vp in p.vehicles.values() for e in vp.explanations if e.constraint == "charger"]
    cont = plan(
        reqs,
        now=PROBE_NOW,
        tariff=FlatTariff("USD", Decimal("0.30")),
        circuit_kw=7.36,
        horizon=timedelta(hours=16),
        discretize=False,
        explain=False,
    )
    gap = sum(vp.energy_kwh for vp in cont.vehicles.values()) - delivered
    assert abs(gap) < 1e-6
    assert sum(e.delayed_kwh for e in lost) >= gap - 1e-3  # nothing lost, nothing blamed
    assert not lost


def test_energy_lost_to_the_levels_is_explained() -> None:
    """A 16 A three-phase charger at its top level beside a 32 A one-phase one on a 32 A
    circuit: the continuous optimum gives the one-phase vehicle the 0.46 kW left beside
    6.90 kW, which no level can run (the least is 1.38 kW, 1.84 kW beside 5.52 kW). The
    executed plan delivers the time-sharing optimum, and the energy it delivers less than the
    continuous one is explained as the chargers' levels."""
    reqs = [
        VehicleRequest("one-phase", 0.92, NOW + timedelta(hours=2), ONE_32),
        VehicleRequest("three-phase", 13.8, NOW + timedelta(hours=2), THREE_16),
    ]
    flat = FlatTariff("USD", Decimal("0.30"))
    kwargs = {"now": NOW, "tariff": flat, "circuit_kw": 7.36, "horizon": timedelta(hours=2)}
    p = plan(reqs, **kwargs)  # type: ignore[arg-type]
    cont = plan(reqs, discretize=False, explain=False, **kwargs)  # type: ignore[arg-type]
    case = Case(reqs, flat, [], 7.36, 8)
    check_executable(case, p)
    delivered = sum(vp.energy_kwh for vp in p.vehicles.values())
    exact_kwh, _ = time_sharing_reference(case)
    assert delivered == pytest.approx(exact_kwh, abs=1e-6)
    gap = sum(vp.energy_kwh for vp in cont.vehicles.values()) - delivered
    assert gap > 0.5
    lost = [e for vp in p.vehicles.values() for e in vp.explanations if e.constraint == "charger"]
    assert lost
    assert sum(e.delayed_kwh for e in lost) == pytest.approx(gap, abs=1e-3)
    assert "power levels" in lost[0].message
