"""Replan hysteresis for coarse state-of-charge sensors (issue 14): a whole-percent sensor moving
one step does not replan, a real change does; the step comes from the sensor's precision."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.pev_portal.charging.inputs import soc_resolution_percent
from custom_components.pev_portal.coordinator import PevPortalCoordinator

from .common import advance, setup
from .conftest import HOME_CAR, make_entry
from .test_entity_charger import CP, ChargePoint, record_switch_calls
from .test_smart_charging import EVENING, TOU_OPTIONS, _cheapest

BATTERY = "sensor.car_battery"
# 120 kWh: one whole-percent step (1.2 kWh) is above the default tolerance of 1.0 kWh.
BIG_CAR = {**HOME_CAR, "capacity_kwh": 120, "soc_entity": BATTERY}


@pytest.fixture
def cp(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> ChargePoint:
    """The driveway charge point, installed in the evening peak."""
    freezer.move_to(EVENING)
    point = ChargePoint(hass, "cp", "sensor.meter_energy")
    point.install()
    return point


def _soc(hass: HomeAssistant, percent: str) -> None:
    hass.states.async_set(BATTERY, percent, {"device_class": "battery", "unit_of_measurement": "%"})


async def _plugged(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint, at: str = EVENING
) -> PevPortalCoordinator:
    """The big car plugged in at 50 %, planned for 80 % in the cheap hours (paused now)."""
    freezer.move_to(at)
    _soc(hass, "50")
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=[BIG_CAR], options=TOU_OPTIONS))
    await _cheapest(hass, target=80)
    record_switch_calls(hass)
    async_mock_service(hass, "number", "set_value")
    await cp.id_tag("PEV-DEMO-0001")
    await cp.status("Preparing")
    await advance(hass, freezer, 5)
    plan = coordinator.plan_for(coordinator.chargers["charger1"])
    assert plan is not None
    assert plan["target_kwh"] == pytest.approx(36.0, abs=0.01)  # (80 % - 50 %) of 120 kWh
    return coordinator


async def test_whole_percent_step_does_not_replan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """One step of a whole-percent sensor (1.2 kWh) keeps the plan; three steps replan."""
    coordinator = await _plugged(hass, freezer, cp)
    assert coordinator.smart.soc_step_kwh() == pytest.approx(1.2)
    plans = coordinator.smart.plans_computed

    _soc(hass, "51")
    await advance(hass, freezer, 10)
    assert coordinator.smart.plans_computed == plans

    _soc(hass, "50")  # and back: the sensor flickering between two steps
    await advance(hass, freezer, 10)
    assert coordinator.smart.plans_computed == plans

    _soc(hass, "53")  # a real change: 3.6 kWh less wanted
    await advance(hass, freezer, 10)
    assert coordinator.smart.plans_computed == plans + 1
    assert coordinator.smart.reason == "energy changed: charger1"
    plan = coordinator.plan_for(coordinator.chargers["charger1"])
    assert plan is not None
    assert plan["target_kwh"] == pytest.approx(32.4, abs=0.01)


async def test_fine_sensor_keeps_the_default_tolerance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A sensor with one decimal (its suggested display precision) has a 0.12 kWh step: the
    default tolerance (1.0 kWh) holds, so a 1.2 kWh change replans."""
    registry = er.async_get(hass)
    entry = registry.async_get_or_create(
        "sensor", "car", "battery", suggested_object_id="car_battery"
    )
    assert entry.entity_id == BATTERY
    registry.async_update_entity_options(BATTERY, "sensor", {"suggested_display_precision": 1})
    coordinator = await _plugged(hass, freezer, cp)
    assert coordinator.smart.soc_step_kwh() == pytest.approx(0.12)
    plans = coordinator.smart.plans_computed

    _soc(hass, "50.5")  # 0.6 kWh: within the tolerance
    await advance(hass, freezer, 10)
    assert coordinator.smart.plans_computed == plans

    _soc(hass, "51.0")  # 1.2 kWh
    await advance(hass, freezer, 10)
    assert coordinator.smart.plans_computed == plans + 1
    assert coordinator.smart.reason == "energy changed: charger1"


async def test_soc_resolution_from_the_registry(hass: HomeAssistant) -> None:
    """The user's display precision wins over the suggested one; a bad value is whole percent."""
    registry = er.async_get(hass)
    registry.async_get_or_create("sensor", "car", "battery", suggested_object_id="car_battery")
    assert soc_resolution_percent(hass, BATTERY) == 1.0
    assert soc_resolution_percent(hass, "sensor.not_registered") == 1.0
    registry.async_update_entity_options(BATTERY, "sensor", {"suggested_display_precision": 0})
    assert soc_resolution_percent(hass, BATTERY) == 1.0
    registry.async_update_entity_options(
        BATTERY, "sensor", {"suggested_display_precision": 0, "display_precision": 2}
    )
    assert soc_resolution_percent(hass, BATTERY) == pytest.approx(0.01)
    registry.async_update_entity_options(BATTERY, "sensor", {"display_precision": "2"})
    assert soc_resolution_percent(hass, BATTERY) == 1.0
    registry.async_update_entity_options(BATTERY, "sensor", {"display_precision": True})
    assert soc_resolution_percent(hass, BATTERY) == 1.0


async def test_no_step_without_a_sensor(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """Without a state-of-charge sensor (or without a session) there is no step."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(charger=CP, options=TOU_OPTIONS))
    assert coordinator.smart.soc_step_kwh() is None
    await cp.id_tag("PEV-DEMO-0001")
    await cp.status("Preparing")
    await advance(hass, freezer, 5)
    assert coordinator.chargers["charger1"].session is not None
    assert coordinator.smart.soc_step_kwh() is None


async def test_steady_hour_builds_no_inputs(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """Issue 14: the 5-second tick reuses the planner's inputs while nothing they are built
    from changes. An hour of ticks (the off-peak start, the sensor moving a step and back)
    builds them not once; the energies are read again, and while they stay the inputs are
    the very same object. (The car plugs in in the evening peak, paused until the off-peak
    hours: the test's charge point draws no power, which would be learned as under-delivery.)"""
    coordinator = await _plugged(hass, freezer, cp, at="2026-11-23T19:50:00+00:00")
    smart = coordinator.smart
    built, plans = smart.inputs_built, smart.plans_computed
    await advance(hass, freezer, 1200)
    first = smart.inputs
    _soc(hass, "51")  # one whole-percent step: the energy is read again, no build
    await advance(hass, freezer, 1200)
    inputs, _ = smart.current_inputs(dt_util.utcnow())
    assert inputs.requests[0].energy_kwh == pytest.approx(34.8)
    assert first is not None
    assert inputs.fingerprint == first.fingerprint
    assert smart.current_inputs(dt_util.utcnow())[0] is inputs
    _soc(hass, "50")
    await advance(hass, freezer, 1200)
    assert smart.inputs_built == built
    assert smart.plans_computed == plans


async def test_every_change_builds_the_inputs_again(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """What the inputs are built from changing (a setting, a program event, "charge now",
    what the vehicle was seen to take, a departure passing) builds them again, once."""
    coordinator = await _plugged(hass, freezer, cp)
    smart = coordinator.smart
    runtime = coordinator.chargers["charger1"]
    built = smart.inputs_built

    vehicle = smart.vehicle_of(runtime)
    assert vehicle is not None
    smart.update_settings(vehicle, target=90)  # a setting: one build, the plan follows
    await advance(hass, freezer, 10)
    assert smart.inputs_built == built + 1
    assert smart.reason == "energy changed: charger1"

    now = dt_util.utcnow()
    await coordinator.async_add_local_event(
        "load_control", now + timedelta(hours=2), now + timedelta(hours=3), limit_kw=2.0
    )
    await advance(hass, freezer, 10)
    assert smart.inputs_built == built + 2
    assert smart.reason == "events changed"

    session = runtime.session
    assert session is not None
    smart.learned[session.session_id] = (3.0, now + timedelta(hours=1))
    await advance(hass, freezer, 10)
    assert smart.inputs_built == built + 3

    inputs, departures = smart.current_inputs(dt_util.utcnow())
    departure = departures["charger1"]
    assert departure is not None
    assert smart.inputs_built == built + 3
    later, moved = smart.current_inputs(departure)  # the departure passed: the next one
    assert smart.inputs_built == built + 4
    assert moved["charger1"] == departure + timedelta(days=1)
    assert later.fingerprint != inputs.fingerprint


async def test_a_vehicle_that_takes_nothing_is_not_replanned_every_tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """The car takes nothing once the off-peak charge starts (this charge point draws no
    power): it is planned at what it takes (the charger's least power) once, and again only
    when that expires (15 minutes: full power is tried again), not at every 5-second tick
    (239 replans in half an hour before)."""
    coordinator = await _plugged(hass, freezer, cp)
    smart = coordinator.smart
    plans = smart.plans_computed
    await advance(hass, freezer, 1800)
    assert smart.reason == "under-delivery: charger1"
    assert smart.plans_computed - plans <= 4
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    kw, _until = smart.learned[runtime.session.session_id]
    assert kw == 0.0
