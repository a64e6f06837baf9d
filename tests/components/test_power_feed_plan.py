"""Power feed (issue #18, part B): the feed plan wired to the demo's bidirectional charger.

A day with a price spread (peak 0.50 from 16:00 to 21:00, 0.10 otherwise), the home drawing
5 kW (a power sensor in W), the demo EVSE made bidirectional with the demo's bidirectional car
(60 kWh, 0.92 each way, a 10 % reserve) plugged in at the peak at 50 %; floor 40 %, target
80 % by 07:00. Asserted on :meth:`SmartCharging.target` and the plan's dict (the discharge
command itself is the controller's, part A).
"""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.pev_portal.charging.controller import Target
from custom_components.pev_portal.charging.feed_build import (
    Candidate,
    average,
    build,
    clean_pieces,
    plan_groups,
    power_kw,
    slot_grid,
    smallest,
)
from custom_components.pev_portal.charging.settings import VehicleSettings
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.planner import ChargeMode
from custom_components.pev_portal.core.planner_feed import FeedError
from custom_components.pev_portal.core.simulator import DemoCar, bidirectional_car
from custom_components.pev_portal.core.tariff import FlatTariff
from custom_components.pev_portal.runtime import ChargerRuntime

from .common import advance, setup
from .conftest import DEMO_CHARGER, GUEST_CAR, HOME_CAR, make_entry
from .test_smart_charging import TOU_OPTIONS, _at, _cheapest, _device, utc

__all__ = ["utc"]  # a fixture used here

HOME = "sensor.home_power"
FEED_OPTIONS = {**TOU_OPTIONS, "home_load_entity": HOME}
PEAK = datetime.fromisoformat("2026-11-23T16:30:00+00:00")
PEAK_END = datetime.fromisoformat("2026-11-23T21:00:00+00:00")
DEPARTURE = datetime.fromisoformat("2026-11-24T07:00:00+00:00")
FLOOR_KWH = 24.0  # 40 % of 60 kWh


async def _feeding_home(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    *,
    power_feed: bool = True,
    bidirectional: bool = True,
    home: str | None = "5000",
    options: dict[str, Any] | None = None,
) -> tuple[PevPortalCoordinator, ChargerRuntime]:
    freezer.move_to(PEAK)
    if home is not None:
        hass.states.async_set(HOME, home, {"unit_of_measurement": "W"})
    coordinator = await setup(hass, make_entry(options=options or FEED_OPTIONS))
    await _cheapest(hass, target=80)
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    vehicle = coordinator.smart.premise.vehicles["vehicle1"]
    coordinator.smart.update_settings(vehicle, power_feed=power_feed, floor=40.0)
    runtime.demo.evse.bidirectional = bidirectional
    runtime.demo.evse.plug(bidirectional_car("PEV-DEMO-0001", soc=0.5))
    await advance(hass, freezer, 10)
    assert runtime.session is not None
    return coordinator, runtime


def _targets(coordinator: PevPortalCoordinator, runtime: ChargerRuntime) -> list[Target]:
    """The target at every quarter hour from the peak to the departure."""
    found = []
    at = PEAK
    while at < DEPARTURE:
        found.append(coordinator.smart.target(runtime, at))
        at += timedelta(minutes=15)
    return found


def _slots_when(plan: dict[str, Any], key: str) -> list[tuple[datetime, datetime]]:
    return [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in plan["slots"]
        if s[key] > 0
    ]


async def test_feeds_at_the_peak_charges_at_night_ready_by_departure(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The plan feeds the home at the peak (never above its 5 kW, nothing exported without
    an export price), down to the floor and no further, charges in the cheap night, and is
    ready 80 % by 07:00; the target at the peak is a discharge, at night a charge."""
    coordinator, runtime = await _feeding_home(hass, freezer)
    smart = coordinator.smart
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    feed = plan["feed"]
    assert feed is not None
    # 30 kWh down to the 24 kWh floor: 6 kWh out of the battery, 5.52 kWh AC to the home
    assert feed["energy_kwh"] == pytest.approx(6.0 * 0.92, abs=1e-3)
    assert feed["home_kwh"] == pytest.approx(feed["energy_kwh"], abs=1e-3)
    assert feed["export_kwh"] == 0.0
    assert feed["floor"] == 40.0
    assert feed["credit"] == pytest.approx(0.5 * feed["energy_kwh"], abs=1e-3)
    assert feed["cycles"] == pytest.approx(0.1, abs=1e-3)
    assert feed["gap"] == 0.0
    assert feed["wear"] == pytest.approx(0.04 * 6.0, abs=1e-3)
    fed = _slots_when(plan, "feed_kw")
    assert fed
    assert all(a >= PEAK and b <= PEAK_END for a, b in fed)
    assert all(s["feed_kw"] <= 5.0 + 1e-6 for s in plan["slots"])
    charged = _slots_when(plan, "power_kw")
    assert charged
    assert all(a >= PEAK_END and b <= DEPARTURE for a, b in charged)
    assert all(s["power_kw"] == 0 or s["feed_kw"] == 0 for s in plan["slots"])  # never both
    assert plan["reachable"] is True
    assert plan["reason"].startswith("Feeds the home 16:")
    assert "(peak 0.50/kWh); ready 80 % by 07:00" in plan["reason"]
    # the battery: never below the floor, 80 % at the departure
    result = smart.feed_result
    assert result is not None
    vp = result.plans["charger1"]
    assert min(vp.soc_kwh) >= FLOOR_KWH - 1e-6
    assert vp.soc_kwh[result.bounds.index(DEPARTURE)] >= 48.0 - 1e-6
    # the targets: a discharge at the peak (within the home's load), charging at night only
    targets = _targets(coordinator, runtime)
    feeding = [t for t in targets if t.discharge_kw > 0]
    assert feeding
    assert all(t.limit_kw == 0 and t.discharge_kw <= 5.0 + 1e-6 for t in feeding)
    assert all(t.pause_reason is None for t in feeding)
    assert any(t.limit_kw > 0 for t in targets)
    first = fed[0][0]
    assert smart.target(runtime, first + timedelta(minutes=1)).discharge_kw > 0
    # the dispatch: net kW per slot, below zero while feeding
    dispatch = smart.feed_dispatch("charger1")
    assert any(kw < 0 for _a, _b, kw in dispatch)
    assert PEAK <= dispatch[0][0] < PEAK + timedelta(minutes=1)
    assert dispatch[-1][1] == DEPARTURE
    assert smart.feed_dispatch("charger2") == []
    assert smart.diagnostics()["feeding_vehicles"] == 1


async def test_power_feed_off_never_discharges(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Power feed off (the default): the charging plan as before, no discharge target."""
    coordinator, runtime = await _feeding_home(hass, freezer, power_feed=False)
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["feed"] is None
    assert all(s["feed_kw"] == 0.0 for s in plan["slots"])
    assert "feed" not in (plan["reason"] or "")
    assert all(t.discharge_kw == 0 for t in _targets(coordinator, runtime))
    assert coordinator.smart.feed_result is None
    assert coordinator.smart.feed_dispatch("charger1") == []


async def test_charger_that_cannot_discharge_is_never_asked(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Power feed on, but the charger cannot discharge: charging only, and the plan says why."""
    coordinator, runtime = await _feeding_home(hass, freezer, bidirectional=False)
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["feed"] is None
    assert plan["reason"].startswith("the charger or the car cannot feed back: charging only")
    assert all(t.discharge_kw == 0 for t in _targets(coordinator, runtime))


@pytest.mark.parametrize("home", ["nan", "unavailable", "unknown", "inf", "lots", None])
async def test_unknown_home_load_feeds_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, home: str
) -> None:
    """A home-load sensor that is NaN, infinite, unavailable or not a number reads as unknown:
    no home load, and without an export price nothing is worth feeding; charging goes on."""
    coordinator, runtime = await _feeding_home(hass, freezer, home=home)
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["feed"] is not None
    assert plan["feed"]["energy_kwh"] == 0.0
    assert plan["reason"].startswith("Does not feed: ")
    assert plan["reachable"] is True
    targets = _targets(coordinator, runtime)
    assert all(t.discharge_kw == 0 for t in targets)
    assert any(t.limit_kw > 0 for t in targets)


@pytest.mark.parametrize("error", [FeedError("bad slot"), RuntimeError("a planner bug")])
async def test_planner_error_falls_back_to_charging(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    """The feed planner failing (bad input or a bug) is logged; the session is planned and
    charged by the charging planner as without power feed, and never stops charging."""
    with patch("custom_components.pev_portal.charging.feed.plan_groups", side_effect=error):
        coordinator, runtime = await _feeding_home(hass, freezer)
        plan = coordinator.plan_for(runtime)
        assert plan is not None
        assert plan["feed"] is None
        assert plan["reason"].startswith("the power-feed plan failed: charging only")
        targets = _targets(coordinator, runtime)
        assert all(t.discharge_kw == 0 for t in targets)
        assert any(t.limit_kw > 0 for t in targets)
        assert plan["slots"]
        assert plan["slots"][0]["feed_kw"] == 0.0
    assert "power-feed plan" in caplog.text


async def test_switching_power_feed_on_replans(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Switching power feed on builds the inputs again and makes a feed plan; a steady home
    then builds no inputs (the feed plan is refreshed every quarter hour, nothing else)."""
    coordinator, runtime = await _feeding_home(hass, freezer, power_feed=False)
    smart = coordinator.smart
    built = smart.inputs_built
    vehicle = smart.premise.vehicles["vehicle1"]
    smart.update_settings(vehicle, power_feed=True)
    await advance(hass, freezer, 10)
    assert smart.inputs_built == built + 1
    assert smart.feed_result is not None
    assert smart.feed_runs == 1
    built = smart.inputs_built
    await advance(hass, freezer, 600)
    assert smart.inputs_built == built
    assert smart.feed_runs == 1
    smart.update_settings(vehicle, floor=50.0, wear_cost=0.05, cycles_per_day=0.5)
    await advance(hass, freezer, 10)
    assert smart.inputs_built == built + 1
    assert smart.feed_runs == 2
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["feed"]["floor"] == 50.0
    assert smart.settings["vehicle1"].wear_cost == 0.05
    smart.update_settings(vehicle, wear_cost=-1)  # below zero: the default again
    assert smart.settings["vehicle1"].wear_cost is None
    smart.update_settings(vehicle, power_feed=False)
    await advance(hass, freezer, 10)
    assert smart.feed_result is None
    assert coordinator.plan_for(runtime)["feed"] is None  # type: ignore[index]


async def test_charge_now_and_pause_win_over_the_feed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """ "Charge now": no feed, full power; the user's pause: neither charge nor discharge."""
    coordinator, runtime = await _feeding_home(hass, freezer)
    smart = coordinator.smart
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    first = _slots_when(plan, "feed_kw")[0][0] + timedelta(minutes=1)
    assert smart.target(runtime, first).discharge_kw > 0
    await smart.async_set_charging_enabled(runtime, False)
    paused = smart.target(runtime, first)
    assert (paused.limit_kw, paused.discharge_kw) == (0.0, 0.0)
    await smart.async_charge_now(runtime)
    now = smart.target(runtime, first)
    assert now.discharge_kw == 0.0
    assert now.limit_kw == pytest.approx(runtime.adapter.max_power_kw())
    assert smart.feed_result is None or "charger1" not in smart.feed_result.plans
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["feed"] is None
    assert plan["reason"].startswith("charge now: no power feed")


async def test_feed_plan_follows_the_clock(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Time passing: the feed plan is made again (a quarter hour on), the target follows it;
    past the departure the charging plan's rules apply again."""
    coordinator, runtime = await _feeding_home(hass, freezer)
    smart = coordinator.smart
    runs = smart.feed_runs
    await _at(hass, freezer, PEAK + timedelta(minutes=16))
    await advance(hass, freezer, 5)
    assert smart.feed_runs > runs
    result = smart.feed_result
    assert result is not None
    assert result.bounds[0] >= PEAK + timedelta(minutes=15)
    later = DEPARTURE + timedelta(minutes=5)
    assert result.kw_at("charger1", later) is None
    assert smart.target(runtime, later).discharge_kw == 0.0
    assert dt_util.utcnow() < DEPARTURE


async def test_load_control_limits_the_charge_not_the_feed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A load-control limit over the peak and the first night hours: the feed plan charges
    at most the limit then (the target is held by the event), and still feeds at the peak (an
    import limit does not limit feeding)."""
    coordinator, runtime = await _feeding_home(hass, freezer, power_feed=False)
    smart = coordinator.smart
    await coordinator.async_add_local_event(
        "load_control", PEAK, PEAK_END + timedelta(hours=3), limit_kw=4.5, name="Grid peak"
    )
    smart.update_settings(smart.premise.vehicles["vehicle1"], power_feed=True)
    await advance(hass, freezer, 10)
    result = smart.feed_result
    assert result is not None
    vp = result.plans["charger1"]
    for i, (a, b) in enumerate(itertools.pairwise(result.bounds)):
        if a < PEAK_END + timedelta(hours=3):
            assert vp.charge_kwh[i] <= 4.5 * (b - a).total_seconds() / 3600 + 1e-6
    feeding = [t for t in _targets(coordinator, runtime) if t.discharge_kw > 0]
    assert feeding
    assert all(t.cap_kw == 4.5 for t in feeding)
    night = smart.target(runtime, PEAK_END + timedelta(hours=1))
    assert night.limit_kw <= 4.5 + 1e-6
    assert night.discharge_kw == 0.0


@pytest.mark.parametrize("guest_feeds", [False, True])
async def test_shared_circuit_keeps_the_feeding_charge_within_it(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, guest_feeds: bool
) -> None:
    """A shared circuit (16 A, 11 kW) with a guest charging on the second demo charger (or
    feeding too): at no quarter hour do the two chargers' charge limits exceed it."""
    freezer.move_to(PEAK)
    hass.states.async_set(HOME, "5", {"unit_of_measurement": "kW"})
    entry = make_entry(
        vehicles=[HOME_CAR, GUEST_CAR],
        options={**FEED_OPTIONS, "circuit_limit_a": 16},
        extra_chargers=[{**DEMO_CHARGER, "charger_name": "Drive"}],
    )
    coordinator = await setup(hass, entry)
    await _cheapest(hass, target=80)
    smart = coordinator.smart
    smart.update_settings(smart.premise.vehicles["vehicle1"], power_feed=True)
    smart.update_settings(smart.premise.vehicles["vehicle2"], mode=ChargeMode.CHEAPEST, target=100)
    home, guest = coordinator.chargers["charger1"], coordinator.chargers["charger2"]
    assert home.demo is not None
    assert guest.demo is not None
    home.demo.evse.bidirectional = True
    home.demo.evse.plug(bidirectional_car("PEV-DEMO-0001", soc=0.5))
    if guest_feeds:
        smart.update_settings(smart.premise.vehicles["vehicle2"], power_feed=True)
        guest.demo.evse.bidirectional = True
        guest.demo.evse.plug(bidirectional_car("PEV-GUEST-1", soc=0.2))
    else:
        guest.demo.evse.plug(DemoCar(pev_id="PEV-GUEST-1", soc=0.1))
    await advance(hass, freezer, 10)
    assert smart.feeding("charger1")
    assert smart.feeding("charger2") is guest_feeds
    circuit = smart.circuit_kw()
    assert circuit == pytest.approx(11.04)
    at, fed, shared = PEAK, False, False
    while at < DEPARTURE:
        mine = smart.target(home, at)
        theirs = smart.target(guest, at)
        fed = fed or mine.discharge_kw > 0
        shared = shared or (mine.limit_kw > 0 and theirs.limit_kw > 0)
        assert mine.limit_kw + theirs.limit_kw <= circuit + 1e-6, at
        at += timedelta(minutes=15)
    assert fed
    assert shared


async def test_sessions_that_cannot_be_fed_say_why(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Power feed on but the mode does not plan (immediate), or the state of charge is
    unknown: charging only, and the plan's reason says why."""
    coordinator, runtime = await _feeding_home(hass, freezer)
    smart = coordinator.smart
    vehicle = smart.premise.vehicles["vehicle1"]
    smart.update_settings(vehicle, mode=ChargeMode.IMMEDIATE)
    await advance(hass, freezer, 10)
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["feed"] is None
    assert plan["reason"].startswith("power feed plans in the cheapest or solar mode only")
    smart.update_settings(vehicle, mode=ChargeMode.CHEAPEST)
    with patch("custom_components.pev_portal.charging.feed.state_of_charge", return_value=None):
        await advance(hass, freezer, 10)
        plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["feed"] is None
    assert plan["reason"].startswith("the state of charge is unknown: charging only")
    assert all(t.discharge_kw == 0 for t in _targets(coordinator, runtime))


async def test_unreachable_target_is_said(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A limit that keeps the car from charging all night: the feed plan cannot reach the
    target and says how far it gets."""
    coordinator, runtime = await _feeding_home(hass, freezer, power_feed=False)
    await coordinator.async_add_local_event(
        "load_control", PEAK, DEPARTURE, limit_kw=1.0, name="All night"
    )
    coordinator.smart.update_settings(
        coordinator.smart.premise.vehicles["vehicle1"], power_feed=True
    )
    await advance(hass, freezer, 10)
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["feed"] is not None
    assert plan["reachable"] is False
    assert plan["ready_by"] is None
    assert "by 07:00, short of the 80 % target" in plan["reason"]


def test_slot_values_from_pieces() -> None:
    """The slot grid and the per-slot values: a gap counts as the gap value (export price)
    or no limit (export limit); a piece touching a slot partly averages in by its time, and
    its limit holds over the whole slot; a malformed piece is left out."""
    now = datetime.fromisoformat("2026-11-23T16:07:00+00:00")
    end = datetime.fromisoformat("2026-11-23T17:00:00+00:00")
    dep = datetime.fromisoformat("2026-11-23T16:40:00+00:00")
    bounds = slot_grid(now, end, [dep, end + timedelta(hours=1)])
    assert [b.strftime("%H:%M") for b in bounds] == [
        "16:07", "16:15", "16:30", "16:40", "16:45", "17:00"
    ]  # fmt: skip
    q = datetime.fromisoformat("2026-11-23T16:15:00+00:00")
    half = datetime.fromisoformat("2026-11-23T16:35:00+00:00")
    pieces = clean_pieces(
        [(q, half, 0.2), (half, end, float("nan")), (end, end, 1.0), (half, end, 0.4)]
    )
    assert pieces == [(q, half, 0.2), (half, end, 0.4)]
    prices = average(pieces, bounds, 0.0)
    assert prices[0] == 0.0  # a gap: no export price
    assert prices[1] == pytest.approx(0.2)
    assert prices[2] == pytest.approx((0.2 * 5 + 0.4 * 5) / 10)
    assert smallest([(q, half, 3.0), (half, end, 1.0)], bounds) == [math.inf, 3.0, 1.0, 1.0, 1.0]


async def test_power_sensor_units(hass: HomeAssistant) -> None:
    """The home's load in W (no unit: W), kW or MW; below zero (a net meter exporting): 0."""
    for value, unit, kw in (
        ("1500", "W", 1.5),
        ("1500", None, 1.5),
        ("2.5", "kW", 2.5),
        ("0.001", "MW", 1.0),
        ("-800", "W", 0.0),
    ):
        hass.states.async_set(HOME, value, {"unit_of_measurement": unit} if unit else {})
        assert power_kw(hass, HOME) == pytest.approx(kw)
    assert power_kw(hass, None) is None
    assert power_kw(hass, "sensor.nothing") is None


async def test_export_signals_replan_and_export_within_the_limit(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export price and an export limit appearing (part D's signals) change the inputs
    key: the inputs are built again and the feed plan exports at the peak, never above the
    limit, on top of the home's 1 kW (worth more: the import price)."""
    coordinator, runtime = await _feeding_home(hass, freezer, home="1000")
    smart = coordinator.smart
    built, runs = smart.inputs_built, smart.feed_runs
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["feed"]["export_kwh"] == 0.0
    events = smart.events
    start, end = PEAK - timedelta(days=1), DEPARTURE + timedelta(days=2)
    monkeypatch.setattr(events, "export_prices", lambda _s, _e: [(start, end, 0.45)])
    monkeypatch.setattr(events, "export_limits", lambda _s, _e: [(start, end, 3.0)])
    await advance(hass, freezer, 10)
    assert smart.inputs_built == built + 1
    assert smart.feed_runs == runs + 1
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    feed = plan["feed"]
    assert feed["export_kwh"] > 0
    assert feed["home_kwh"] > 0
    assert "Feeds the home and the grid" in plan["reason"]
    result = smart.feed_result
    assert result is not None
    vp = result.plans["charger1"]
    for i, (a, b) in enumerate(itertools.pairwise(result.bounds)):
        h = (b - a).total_seconds() / 3600
        assert vp.export_kwh[i] <= 3.0 * h + 1e-6
        assert vp.home_kwh[i] <= 1.0 * h + 1e-6
    assert min(vp.soc_kwh) >= FLOOR_KWH - 1e-6
    assert max(t.discharge_kw for t in _targets(coordinator, runtime)) > 1.0


def test_vehicles_on_different_tariffs_share_the_premise() -> None:
    """Two feeding vehicles on different tariffs are planned apart, each with half the home's
    load and half the export limit (never more than the premise's together)."""
    now = datetime.fromisoformat("2026-11-23T16:00:00+00:00")
    dep = datetime.fromisoformat("2026-11-24T07:00:00+00:00")

    def car(cid: str, price: str) -> Candidate:
        return Candidate(
            charger_id=cid,
            tariff=FlatTariff("EUR", Decimal(price)),
            capacity_kwh=60.0,
            soc=0.5,
            floor_pct=40.0,
            target_pct=80.0,
            departure=dep,
            max_charge_kw=7.4,
            max_discharge_kw=7.4,
            charge_efficiency=0.92,
            discharge_efficiency=0.92,
            wear=0.04,
            cycles_per_day=1.0,
        )

    inputs = build([car("a", "0.30"), car("b", "0.20"), car("c", "0.30")], now, [], [], 4.0)
    assert len(inputs.groups) == 2
    for premise, vehicles in inputs.groups:
        assert premise.home_load_kw is not None
        assert set(premise.home_load_kw) == {2.0}
        assert set(premise.export_limit_kw) == {math.inf}
        assert len(vehicles) in (1, 2)
    assert inputs.import_price["a"][0] == pytest.approx(0.30)
    assert inputs.import_price["b"][0] == pytest.approx(0.20)
    plans, gap = plan_groups(inputs, 40)
    assert set(plans) == {"a", "b", "c"}
    assert gap == 0.0


async def test_preview_with_power_feed(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A preview with power feed on shows the feed plan it would get (nothing applied); with
    it off, charging only; a feed planner failure in a preview says so."""
    coordinator, runtime = await _feeding_home(hass, freezer, power_feed=False)
    smart = coordinator.smart
    on = VehicleSettings(mode=ChargeMode.CHEAPEST, target=80, power_feed=True)
    preview = await smart.async_preview(runtime, on)
    assert preview is not None
    assert preview["feed"] is not None
    assert preview["feed"]["energy_kwh"] > 0
    assert preview["mode"] == "cheapest"
    assert any(s["feed_kw"] > 0 for s in preview["slots"])
    assert smart.feed_result is None  # not applied
    assert coordinator.plan_for(runtime)["feed"] is None  # type: ignore[index]
    off = VehicleSettings(mode=ChargeMode.CHEAPEST, target=80)
    preview = await smart.async_preview(runtime, off)
    assert preview is not None
    assert preview["feed"] is None
    immediate = VehicleSettings(mode=ChargeMode.IMMEDIATE, power_feed=True)
    preview = await smart.async_preview(runtime, immediate)
    assert preview is not None
    assert preview["feed"] is None
    assert preview["reason"].startswith("power feed plans in the cheapest or solar mode only")
    with patch(
        "custom_components.pev_portal.charging.feed.plan_groups", side_effect=RuntimeError("bug")
    ):
        preview = await smart.async_preview(runtime, on)
    assert preview is not None
    assert preview["feed"] is None
    assert preview["reason"].startswith("the power-feed plan failed: charging only")


async def test_a_night_on_the_demo_car_is_ready_by_departure(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The clock run from the peak to the departure (5-minute steps): the demo car, charged
    by the feed plan's charge targets at night (the feed plan made again as it goes), is at
    80 % by 07:00 and never below the floor; it charges nothing at the peak price."""
    coordinator, runtime = await _feeding_home(hass, freezer)
    assert runtime.demo is not None
    car = runtime.demo.evse.car
    assert car is not None
    at, lowest, peak_kwh = PEAK, car.soc, 0.0
    start = runtime.demo.evse.register_kwh
    while at < DEPARTURE:
        at += timedelta(minutes=5)
        await _at(hass, freezer, at)
        await advance(hass, freezer, 5)
        lowest = min(lowest, car.soc)
        if at <= PEAK_END:
            peak_kwh = runtime.demo.evse.register_kwh - start
    assert car.soc >= 0.8 - 0.01
    assert lowest >= 0.4 - 1e-6
    assert peak_kwh == pytest.approx(0.0, abs=0.05)
    assert coordinator.smart.feed_runs > 40  # again at least every quarter hour


async def test_the_preview_action_keeps_the_vehicles_power_feed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """``pev_portal.plan_preview`` with another target previews the feed plan of a vehicle
    whose power feed is on (its power-feed settings carry over), and applies nothing."""
    coordinator, runtime = await _feeding_home(hass, freezer)
    device = _device(hass, "charger1")
    answer = await hass.services.async_call(
        "pev_portal",
        "plan_preview",
        {"device_id": device, "target": 70},
        blocking=True,
        return_response=True,
    )
    assert answer is not None
    preview: Any = answer["plan"]
    assert preview["feed"] is not None
    assert preview["feed"]["energy_kwh"] > 0
    assert preview["target_kwh"] != coordinator.plan_for(runtime)["target_kwh"]  # type: ignore[index]


@pytest.mark.parametrize(("limit", "home_after"), [(0.5, "0"), (0.0, "500"), (0.5, "nan")])
async def test_a_falling_home_load_never_lets_the_feed_exceed_the_export_limit(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    limit: float,
    home_after: str,
) -> None:
    """The plan counted on the home's load; the load falls (still a valid reading, or not a
    number): at the next target the feed is at most the home's load now plus the export limit
    in force (0: V2H only), without waiting for the plan to be made again."""
    coordinator, runtime = await _feeding_home(hass, freezer, home="1000")
    smart = coordinator.smart
    start, end = PEAK - timedelta(days=1), DEPARTURE + timedelta(days=2)
    monkeypatch.setattr(smart.events, "export_prices", lambda _s, _e: [(start, end, 0.45)])
    monkeypatch.setattr(smart.events, "export_limits", lambda _s, _e: [(start, end, limit)])
    await advance(hass, freezer, 10)
    now = dt_util.utcnow()
    before = smart.target(runtime, now)
    home_kw = float(home_after) / 1000 if home_after != "nan" else 0.0
    assert before.discharge_kw > home_kw + limit  # the home's 1 kW is fed too
    runs = smart.feed_runs
    hass.states.async_set(HOME, home_after, {"unit_of_measurement": "W"})
    after = smart.target(runtime, now)
    assert smart.feed_runs == runs  # no new plan was needed for this
    assert after.discharge_kw <= home_kw + limit + 1e-6
    if home_kw + limit > 0:
        assert after.discharge_kw > 0
    else:
        assert after.pause_reason is not None
