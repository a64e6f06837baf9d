"""The power-feed planner: its promises as properties, worked days, and bad input."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.pev_portal.core.planner_feed import (
    DEFAULT_WEAR_COST_PER_KWH,
    FeedError,
    FeedPlan,
    FeedPremise,
    FeedVehicle,
    plan_feed,
    split_round_trip,
)
from custom_components.pev_portal.core.planner_feed_flow import (
    Arc,
    FlowError,
    NetworkSimplex,
    solve_master,
)
from tests.core.test_planner_feed_lp import Case, random_case

TOL = 1e-6


def _plan(case: Case) -> FeedPlan:
    return plan_feed(case.vehicles, case.premise)


def _cases() -> st.SearchStrategy[Case]:
    return st.builds(
        lambda seed, n: random_case(random.Random(seed), n),
        st.integers(0, 2**32 - 1),
        st.sampled_from([1, 2, 4]),
    )


@settings(max_examples=80, deadline=None)
@given(_cases())
def test_battery_stays_between_floor_and_capacity(case: Case) -> None:
    """SoC never below the floor (once reached), never above capacity, and it adds up."""
    result = _plan(case)
    for v in case.vehicles:
        p = result.vehicles[v.vehicle_id]
        soc = p.soc_kwh
        reached = soc[0] >= v.floor_kwh - TOL
        for t in range(len(case.premise.slot_hours)):
            step = (
                v.charge_efficiency * p.charge_kwh[t] - p.discharge_kwh[t] / v.discharge_efficiency
            )
            assert soc[t + 1] == pytest.approx(soc[t] + step, abs=1e-6)
            assert soc[t + 1] <= v.capacity_kwh + TOL
            if reached:
                assert soc[t + 1] >= v.floor_kwh - TOL
            elif p.discharge_kwh[t] > TOL:
                pytest.fail("fed below the floor before restoring it")
            reached = reached or soc[t + 1] >= v.floor_kwh - TOL
            assert p.charge_kwh[t] <= v.max_charge_kw * case.premise.slot_hours[t] + TOL
            assert p.discharge_kwh[t] <= v.max_discharge_kw * case.premise.slot_hours[t] + TOL


@settings(max_examples=80, deadline=None)
@given(_cases())
def test_departure_target_met(case: Case) -> None:
    """At departure the battery holds the target, or all it could reach (then not reachable)."""
    result = _plan(case)
    n = len(case.premise.slot_hours)
    for v in case.vehicles:
        p = result.vehicles[v.vehicle_id]
        dep = min(v.departure_slot, n)
        assert p.soc_kwh[dep] >= p.target_kwh - TOL
        if p.reachable:
            assert p.target_kwh == pytest.approx(min(v.target_kwh, v.capacity_kwh))
        # After departure nothing moves.
        assert all(c == 0 for c in p.charge_kwh[dep:])
        assert all(d == 0 for d in p.discharge_kwh[dep:])


@settings(max_examples=80, deadline=None)
@given(_cases())
def test_no_export_above_the_limit_and_v2h_within_home_load(case: Case) -> None:
    """Export per slot within the limit; the feed beyond the home's load is export."""
    result = _plan(case)
    prem = case.premise
    home = prem.home_load_kw or (0.0,) * len(prem.slot_hours)
    for t, h in enumerate(prem.slot_hours):
        fed = sum(p.discharge_kwh[t] for p in result.vehicles.values())
        exported = sum(p.export_kwh[t] for p in result.vehicles.values())
        covered = sum(p.home_kwh[t] for p in result.vehicles.values())
        assert exported <= prem.export_limit_kw[t] * h + TOL
        assert covered <= home[t] * h + TOL
        assert fed == pytest.approx(exported + covered, abs=1e-6)
        if prem.export_limit_kw[t] == 0:
            assert fed <= home[t] * h + TOL  # V2H never above the home's load


@settings(max_examples=80, deadline=None)
@given(_cases())
def test_cycle_budget_kept(case: Case) -> None:
    result = _plan(case)
    starts = [0.0]
    for h in case.premise.slot_hours:
        starts.append(starts[-1] + h)
    for v in case.vehicles:
        if v.cycles_per_day is None:
            continue
        p = result.vehicles[v.vehicle_id]
        per_day: dict[int, float] = {}
        for t, d in enumerate(p.discharge_kwh):
            day = int(starts[t] / 24 + 1e-9)
            per_day[day] = per_day.get(day, 0.0) + d / v.discharge_efficiency
        for fed in per_day.values():
            assert fed <= v.cycles_per_day * v.capacity_kwh + 1e-6


@settings(max_examples=80, deadline=None)
@given(_cases(), st.floats(0.0, 0.05))
def test_no_discharge_when_the_spread_does_not_beat_losses_and_wear(
    case: Case, margin: float
) -> None:
    """Wear set so that the best feed price x round trip <= cheapest buy + wear x eta_c."""
    prem = case.premise
    home = prem.home_load_kw or (0.0,) * len(prem.slot_hours)
    vehicles = []
    for v in case.vehicles:
        best = max(
            max(
                prem.import_price[t] if home[t] > 0 else -math.inf,
                min(prem.export_price[t], prem.import_price[t])
                if prem.export_limit_kw[t] > 0
                else -math.inf,
            )
            for t in range(len(prem.slot_hours))
        )
        cheapest = max(0.0, min(prem.import_price))
        eta_c, eta_d = v.charge_efficiency, v.discharge_efficiency
        wear = max(0.0, (best * eta_c * eta_d - cheapest) / eta_c) + margin
        vehicles.append(replace(v, wear_cost_per_kwh=wear))
    result = plan_feed(vehicles, prem)
    for p in result.vehicles.values():
        assert sum(p.discharge_kwh) <= TOL
        assert p.cycles <= TOL


def _premise(prices: list[float], export: list[float], **kw: object) -> FeedPremise:
    n = len(prices)
    return FeedPremise(
        slot_hours=(1.0,) * n,
        import_price=tuple(prices),
        export_price=tuple(export),
        export_limit_kw=tuple(kw.get("limit", [math.inf] * n)),  # type: ignore[arg-type]
        home_load_kw=None if "home" not in kw else tuple(kw["home"]),  # type: ignore[arg-type]
    )


def _car(**kw: object) -> FeedVehicle:
    base: dict[str, object] = {
        "vehicle_id": "car",
        "capacity_kwh": 60.0,
        "soc_kwh": 30.0,
        "floor_kwh": 24.0,
        "target_kwh": 48.0,
        "departure_slot": 14,
        "max_charge_kw": 7.4,
        "max_discharge_kw": 7.4,
    }
    base.update(kw)
    return FeedVehicle(**base)  # type: ignore[arg-type]


# Octopus Flux (see docs/power-feed.md), from 17:00: peak until 19:00, day rate, night 02-05.
FLUX_IMPORT = [0.4693, 0.4693] + [0.3352] * 7 + [0.2011] * 3 + [0.3352] * 2
FLUX_EXPORT = [0.3593, 0.3593] + [0.2252] * 7 + [0.0911] * 3 + [0.2252] * 2


def test_evening_peak_fed_night_charged_ready_by_departure() -> None:
    """A day with a spread: feeds at the evening peak, charges at night, ready at 07:00."""
    car = _car(max_charge_kw=11.0)
    result = plan_feed([car], _premise(FLUX_IMPORT, FLUX_EXPORT))
    p = result.vehicles["car"]
    # 30 kWh down to the 24 kWh floor at the peak: 6 battery kWh, 5.52 kWh out of the charger.
    assert sum(p.discharge_kwh[:2]) == pytest.approx(6.0 * 0.92)
    assert p.soc_kwh[2] == pytest.approx(24.0)
    assert sum(p.discharge_kwh[2:]) == pytest.approx(0.0, abs=1e-9)
    # All of it bought back at night (02:00-05:00), none at the day rate.
    assert sum(p.charge_kwh[9:12]) == pytest.approx(24.0 / 0.92)
    assert sum(p.charge_kwh) == pytest.approx(24.0 / 0.92)
    assert p.soc_kwh[14] == pytest.approx(48.0)
    assert min(p.soc_kwh) >= 24.0 - TOL
    assert p.export_credit == pytest.approx(5.52 * 0.3593)
    assert p.cycles == pytest.approx(6.0 / 60.0)
    only_charging = plan_feed([car], _premise(FLUX_IMPORT, FLUX_EXPORT), feed=False)
    assert result.net_cost < only_charging.net_cost


def test_home_load_first_then_export() -> None:
    """V2H: the feed covers the home (worth the import price) before exporting."""
    home = [2.0] * 14
    result = plan_feed([_car()], _premise(FLUX_IMPORT, FLUX_EXPORT, home=home))
    p = result.vehicles["car"]
    assert p.home_kwh[0] == pytest.approx(2.0)
    assert p.home_kwh[0] + p.export_kwh[0] == pytest.approx(p.discharge_kwh[0])
    no_export = plan_feed(
        [_car()], _premise(FLUX_IMPORT, FLUX_EXPORT, home=home, limit=[0.0] * 14)
    ).vehicles["car"]
    assert max(no_export.discharge_kwh) <= 2.0 + TOL
    assert sum(no_export.export_kwh) == pytest.approx(0.0, abs=1e-9)


def test_export_limit_caps_the_premise_not_each_car() -> None:
    cars = [_car(vehicle_id="a", soc_kwh=50.0), _car(vehicle_id="b", soc_kwh=50.0)]
    result = plan_feed(cars, _premise(FLUX_IMPORT, FLUX_EXPORT, limit=[5.0] * 14))
    for t in range(14):
        assert sum(p.export_kwh[t] for p in result.vehicles.values()) <= 5.0 + TOL


def test_below_the_floor_charges_to_it_first() -> None:
    """Arriving below the floor: full power until the floor, nothing fed before."""
    p = plan_feed([_car(soc_kwh=10.0)], _premise(FLUX_IMPORT, FLUX_EXPORT)).vehicles["car"]
    assert p.charge_kwh[0] == pytest.approx(7.4)
    assert p.charge_kwh[1] == pytest.approx(7.4)
    assert p.soc_kwh[3] >= 24.0 - TOL
    assert sum(p.discharge_kwh[:3]) == 0.0


def test_unreachable_target_gets_all_it_can() -> None:
    p = plan_feed(
        [_car(soc_kwh=10.0, target_kwh=60.0, departure_slot=3)], _premise(FLUX_IMPORT, FLUX_EXPORT)
    ).vehicles["car"]
    assert not p.reachable
    assert p.soc_kwh[3] == pytest.approx(10.0 + 0.92 * 7.4 * 3)
    assert sum(p.discharge_kwh) == 0.0


def test_surplus_on_arrival_sold_only_when_it_pays() -> None:
    """Energy above the target is worth its cheapest replacement, not zero."""
    flat = [0.30] * 14
    p = plan_feed([_car(soc_kwh=55.0)], _premise(flat, [0.29] * 14)).vehicles["car"]
    assert sum(p.discharge_kwh) == 0.0  # 0.29 x 0.92 - 0.04 < 0.30 / 0.92
    p = plan_feed([_car(soc_kwh=55.0, wear_cost_per_kwh=0.0)], _premise(flat, [0.60] * 14))
    assert sum(p.vehicles["car"].discharge_kwh) == 0.0  # export clamped to import price


def test_default_wear_and_round_trip_split() -> None:
    assert pytest.approx(115 / 3000, abs=0.002) == DEFAULT_WEAR_COST_PER_KWH
    c, d = split_round_trip(0.81)
    assert c == pytest.approx(0.9)
    assert d == pytest.approx(0.9)
    with pytest.raises(FeedError):
        split_round_trip(1.5)


def test_a_vehicle_already_gone_and_an_empty_horizon() -> None:
    p = plan_feed([_car(departure_slot=0)], _premise(FLUX_IMPORT, FLUX_EXPORT)).vehicles["car"]
    assert p.soc_kwh == (30.0,) * 15
    assert p.net_cost == 0.0
    empty = plan_feed([_car()], FeedPremise((), (), (), ()))
    assert empty.vehicles["car"].soc_kwh == (30.0,)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"capacity_kwh": math.nan}, "capacity_kwh"),
        ({"soc_kwh": -1.0}, "soc_kwh"),
        ({"floor_kwh": 70.0}, "floor_kwh"),
        ({"charge_efficiency": 1.2}, "charge_efficiency"),
        ({"max_discharge_kw": math.inf}, "max_discharge_kw"),
        ({"departure_slot": -1}, "departure_slot"),
        ({"departure_slot": 1.5}, "departure_slot"),
        ({"vehicle_id": ""}, "vehicle_id"),
        ({"cycles_per_day": -0.5}, "cycles_per_day"),
        ({"wear_cost_per_kwh": "0.04"}, "wear_cost_per_kwh"),
    ],
)
def test_bad_vehicle_input_is_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(FeedError, match=message):
        _car(**change)


def test_bad_premise_input_is_refused() -> None:
    with pytest.raises(FeedError, match="import_price"):
        FeedPremise((1.0, 1.0), (0.1,), (0.1, 0.1), (1.0, 1.0))
    with pytest.raises(FeedError, match="export_price"):
        FeedPremise((1.0,), (0.1,), (math.nan,), (1.0,))
    with pytest.raises(FeedError, match="export_limit_kw"):
        FeedPremise((1.0,), (0.1,), (0.1,), (-1.0,))
    with pytest.raises(FeedError, match="home_load_kw"):
        FeedPremise((1.0,), (0.1,), (0.1,), (1.0,), (math.inf,))
    with pytest.raises(FeedError, match="slot_hours"):
        FeedPremise((0.0,), (0.1,), (0.1,), (1.0,))
    with pytest.raises(FeedError, match="import_price"):
        FeedPremise((1.0,), (math.inf,), (0.1,), (1.0,))
    with pytest.raises(FeedError, match="max_rounds"):
        plan_feed([_car()], _premise(FLUX_IMPORT, FLUX_EXPORT), max_rounds=0)
    with pytest.raises(FeedError, match="unique"):
        plan_feed([_car(), _car()], _premise(FLUX_IMPORT, FLUX_EXPORT))
    with pytest.raises(FeedError, match="charge_limit_kw"):
        plan_feed([_car(charge_limit_kw=(1.0,))], _premise(FLUX_IMPORT, FLUX_EXPORT))


def test_network_simplex_reports_infeasible_and_bad_arcs() -> None:
    with pytest.raises(FlowError, match="no feasible flow"):
        NetworkSimplex(2, [1.0, -1.0], [Arc(0, 1, 0.0, 0.5, 1.0)]).solve()
    with pytest.raises(FlowError, match="lower bound"):
        NetworkSimplex(2, [0.0, 0.0], [Arc(0, 1, 2.0, 1.0, 1.0)])
    with pytest.raises(FlowError, match="unbounded"):
        NetworkSimplex(
            2, [0.0, 0.0], [Arc(0, 1, 0.0, math.inf, -1.0), Arc(1, 0, 0.0, math.inf, 0.0)]
        ).solve()
    with pytest.raises(ValueError, match="one supply per node"):
        NetworkSimplex(2, [0.0], [])
    with pytest.raises(ValueError, match="one cost per arc"):
        NetworkSimplex(2, [0.0, 0.0], [Arc(0, 1, 0.0, 1.0, 1.0)]).resolve([])


def test_master_lp_mixes_two_columns_at_the_budget() -> None:
    """Column 0 uses nothing and costs 0; column 1 saves 10 using 2 of a budget of 1."""
    mu, y, sigma = solve_master([0.0, -10.0], [[0.0, 2.0]], [1.0])
    assert mu == pytest.approx([0.5, 0.5])
    assert y[0] == pytest.approx(-5.0)
    assert sigma == pytest.approx(0.0)


def test_open_arcs_refuses_an_arc_with_flow() -> None:
    solver = NetworkSimplex(2, [1.0, -1.0], [Arc(0, 1, 0.0, 2.0, 1.0), Arc(0, 1, 0.0, 0.0, 0.0)])
    solver.solve()
    with pytest.raises(ValueError, match="carries flow"):
        solver.open_arcs({0: 5.0})
    solver.open_arcs({1: 5.0})
    assert solver.resolve([1.0, 0.5]) == [0.0, 1.0]
