"""The configuration LP of the executable plan (``core/planner_lp.py``): its pricing is an exact
knapsack, it applies where it should, and the planner falls back to its search when the LP runs
out of budget (the plan stays executable)."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from decimal import Decimal

import pytest

from custom_components.pev_portal.core import planner_lp
from custom_components.pev_portal.core.planner import (
    ChargeMode,
    PowerCap,
    SolarForecast,
    VehicleRequest,
    plan,
)
from custom_components.pev_portal.core.planner_build import _build, _Problem, _solve
from custom_components.pev_portal.core.planner_lp import _best_config, _trim, suits
from custom_components.pev_portal.core.planner_model import _ONE_US, _us
from custom_components.pev_portal.core.tariff import FlatTariff
from tests.core.test_planner_milp import (
    CHARGERS,
    NOW,
    ONE_16,
    PROBE_NOW,
    THREE_32,
    Case,
    check_executable,
    probe_requests,
    random_case,
    time_sharing_reference,
)

FLAT = FlatTariff("USD", Decimal("0.30"))


def test_pricing_is_an_exact_knapsack() -> None:
    """The best level vector within the circuit, against brute force."""
    rng = random.Random(7)
    for _ in range(400):
        n = rng.randint(1, 4)
        levels = {v: rng.choice(CHARGERS).levels() for v in range(n)}
        gain = {v: rng.choice([rng.uniform(-1, 3), 1.0]) for v in range(n)}
        circuit = rng.choice([5.75, 7.36, 9.2, 11.04, 14.72, rng.uniform(1, 20)])
        value, cfg = _best_config(levels, gain, circuit)
        brute = max(
            sum(gain[v] * kw for v, kw in enumerate(combo) if gain[v] > 0)
            for combo in itertools.product(*(levels[v] for v in range(n)))
            if sum(combo) <= circuit + 1e-9
        )
        assert value == pytest.approx(brute, abs=1e-9)
        assert sum(kw for _, kw in cfg) <= circuit + 1e-9
        assert all(kw in levels[v] for v, kw in cfg)


def test_pricing_within_its_node_budget_is_still_a_level_vector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(planner_lp, "_KNAPSACK_NODES", 3)
    levels = {v: THREE_32.levels() for v in range(4)}
    value, cfg = _best_config(levels, dict.fromkeys(range(4), 1.0), 22.08)
    assert 0 < value <= 22.08
    assert sum(kw for _, kw in cfg) <= 22.08 + 1e-9


def _problem(
    requests: list[VehicleRequest], circuit: float | None, solar: SolarForecast | None = None
) -> tuple[_Problem, list[list[float]]]:
    now_us = _us(NOW, "now")
    end_us = now_us + timedelta(hours=4) // _ONE_US
    problem = _build(requests, now_us, end_us, FLAT, (), circuit, solar, 15, True)
    _solve(problem)
    return problem, [list(v.limit) for v in problem.vehicles]


def test_where_the_lp_applies() -> None:
    """A circuit that binds, vehicles planned for cost (no immediate charging, no solar
    surplus), a small enough problem."""
    pair = [
        VehicleRequest("a", 10.0, NOW + timedelta(hours=3), ONE_16),
        VehicleRequest("b", 20.0, NOW + timedelta(hours=3), THREE_32),
    ]
    problem, limits = _problem(pair, 7.36)
    assert suits(problem, limits, 7.36)
    problem, limits = _problem(pair, None)
    assert not suits(problem, limits, None)
    problem, limits = _problem(pair, 40.0)  # never binds
    assert not suits(problem, limits, 40.0)
    immediate = [pair[0], VehicleRequest("b", 20.0, None, THREE_32, ChargeMode.IMMEDIATE)]
    problem, limits = _problem(immediate, 7.36)
    assert not suits(problem, limits, 7.36)
    sun = SolarForecast(((NOW, NOW + timedelta(hours=1), 3.0),))
    solar = [pair[0], VehicleRequest("b", 20.0, None, THREE_32, ChargeMode.SOLAR)]
    problem, limits = _problem(solar, 7.36, sun)
    assert not suits(problem, limits, 7.36)
    many = [VehicleRequest(f"v{i}", 10.0, NOW + timedelta(hours=4), ONE_16) for i in range(150)]
    problem, limits = _problem(many, 7.36)
    assert not suits(problem, limits, 7.36)  # 150 vehicles + 16 slots: above MAX_ROWS


@pytest.mark.parametrize("budget", ["_MAX_PIVOTS", "_MAX_ROUNDS"])
def test_out_of_budget_the_search_plans_instead(
    monkeypatch: pytest.MonkeyPatch, budget: str
) -> None:
    """The LP giving up (pivots or pricing rounds) leaves the heuristic search's plan:
    executable, and no worse than before the LP existed on the issue's probe (115.9 kWh)."""
    monkeypatch.setattr(planner_lp, budget, 1)
    reqs = probe_requests()
    p = plan(reqs, now=PROBE_NOW, tariff=FLAT, circuit_kw=7.36, horizon=timedelta(hours=16))
    check_executable(Case(reqs, FLAT, [], 7.36, 64), p)
    assert sum(vp.energy_kwh for vp in p.vehicles.values()) >= 115.9


def test_the_plan_is_the_time_sharing_optimum_with_caps() -> None:
    """A few random instances with caps: energy and cost of the exact reference."""
    for seed in range(40):
        case = random_case(random.Random(7_000 + seed))
        case.caps.append(PowerCap(NOW, NOW + timedelta(minutes=30), 4.2, "cap"))
        p = case.run()
        check_executable(case, p)
        kwh, cost = time_sharing_reference(case)
        got = sum(vp.energy_kwh for vp in p.vehicles.values())
        spent = sum(s.energy_kwh * float(s.price) for vp in p.vehicles.values() for s in vp.slots)
        assert got == pytest.approx(kwh, abs=1e-6)
        assert spent <= cost + 1e-5 * abs(cost) + 1e-6


def test_rounding_to_microseconds_never_delivers_more_than_wanted() -> None:
    rows = [(0, 900_000_000, 7.36, 1.84, 0), (900_000_000, 1_800_000_000, 3.68, 0.92, 1)]
    _trim(rows, 2.0)
    assert sum(r[3] for r in rows) <= 2.0
    assert rows[-1][1] < 1_800_000_000
    rows = [(0, 900_000_000, 7.36, 1.84, 0), (900_000_000, 1_800_000_000, 3.68, 0.92, 1)]
    _trim(rows, 1.0)  # the last piece goes, the first ends earlier
    assert len(rows) == 1
    assert rows[0][3] <= 1.0


def test_the_lp_is_never_worse_than_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """Larger instances (up to nine vehicles): the plan with the LP delivers at least the
    search's energy, at no higher cost for as much, and more on some."""
    from custom_components.pev_portal.core import planner_exec

    cases = []
    for seed in range(40):
        rng = random.Random(900 + seed)
        case = random_case(rng)
        for i in range(rng.randint(0, 5)):
            charger = rng.choice(CHARGERS)
            dep = rng.randint(1, case.n_slots)
            wanted = round(rng.uniform(0.1, 1.0) * charger.max_kw * 0.25 * dep, 3)
            case.requests.append(
                VehicleRequest(f"x{i}", wanted, NOW + timedelta(minutes=15 * dep), charger)
            )
        case.circuit_kw = case.circuit_kw or 11.04
        cases.append(case)
    with_lp = [case.run() for case in cases]
    monkeypatch.setattr(planner_exec, "suits", lambda *_: False)
    better = 0
    for case, p in zip(cases, with_lp, strict=True):
        check_executable(case, p)
        q = case.run()
        kwh = sum(vp.energy_kwh for vp in p.vehicles.values())
        other = sum(vp.energy_kwh for vp in q.vehicles.values())
        assert kwh >= other - 1e-6
        if kwh <= other + 1e-6:
            assert p.total_cost <= q.total_cost + Decimal("0.00001")
        better += kwh > other + 1e-4
    print(f"\nthe LP delivers more than the search on {better} of {len(cases)}")
    assert better >= 5
