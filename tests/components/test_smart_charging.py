"""Smart charging: the planner drives the demo charger and an entity-mapped charger."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import DATA_COMPONENT as BUTTONS
from homeassistant.components.calendar import DATA_COMPONENT as CALENDARS
from homeassistant.components.switch import DATA_COMPONENT as SWITCHES
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.planner import PlanningError
from custom_components.pev_portal.core.session import PauseReason
from custom_components.pev_portal.program_events import ProgramEvent

from .common import advance, attrs, setup, state
from .conftest import GUEST_CAR, HOME_CAR, OPTIONS, make_entry
from .test_entity_charger import CP, ChargePoint, record_switch_calls

GARAGE = "garage"
CAR = "family_car"
# Off-peak 0.10 from 21:00 to 16:00, peak 0.50 from 16:00 to 21:00 (UTC), every day.
TOU: dict[str, Any] = {
    "type": "tou",
    "currency": "EUR",
    "timezone": "UTC",
    "default_period": "off_peak",
    "seasons": [
        {
            "name": "all",
            "start": "01-01",
            "end": "12-31",
            "periods": [
                {
                    "period": "peak",
                    "days": ["weekday", "weekend", "holiday"],
                    "start": "16:00",
                    "end": "21:00",
                    "price": "0.50",
                },
                {
                    "period": "off_peak",
                    "days": ["weekday", "weekend", "holiday"],
                    "start": "21:00",
                    "end": "16:00",
                    "price": "0.10",
                },
            ],
        }
    ],
}
# Without the random start delay, so that starts are exact (test_random_start_delay has it).
TOU_OPTIONS = {**OPTIONS, "tariff": TOU, "start_delay_minutes": 0}
EVENING = "2026-11-23T20:50:00+00:00"  # peak, ten minutes before the off-peak period
CHEAP_FROM = datetime.fromisoformat("2026-11-23T21:00:00+00:00")


@pytest.fixture
def cp(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> ChargePoint:
    """The driveway charge point, installed in the evening peak."""
    freezer.move_to(EVENING)
    point = ChargePoint(hass, "cp", "sensor.meter_energy")
    point.install()
    return point


@pytest.fixture(autouse=True)
async def utc(hass: HomeAssistant) -> None:
    """Local time is UTC (the departure is a local time)."""
    await hass.config.async_set_time_zone("UTC")


async def _call(
    hass: HomeAssistant, domain: str, service: str, entity_id: str, **data: Any
) -> None:
    await hass.services.async_call(domain, service, {"entity_id": entity_id, **data}, blocking=True)
    await hass.async_block_till_done()


async def _plug_demo(hass: HomeAssistant) -> None:
    await _call(hass, "switch", "turn_on", f"switch.{GARAGE}_demo_car_plugged_in")


async def _cheapest(hass: HomeAssistant, target: float = 80) -> None:
    await _call(hass, "select", "select_option", f"select.{CAR}_charge_mode", option="cheapest")
    await _call(hass, "number", "set_value", f"number.{CAR}_charge_target", value=target)
    await _call(hass, "time", "set_value", f"time.{CAR}_departure", time="07:00:00")


def _device(hass: HomeAssistant, identifier: str) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, identifier), "premise1")
    assert device is not None
    return device.id


async def _at(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    freezer.move_to(when)
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done()


async def test_defaults_charge_at_once(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Without settings the vehicle charges at plug-in (immediate) and no command is sent."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    assert state(hass, f"select.{CAR}_charge_mode") == "immediate"
    assert state(hass, f"time.{CAR}_departure") == "07:00:00"
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    assert state(hass, f"sensor.{GARAGE}_session_state") == "charging"
    runtime = coordinator.chargers["charger1"]
    assert coordinator.smart.audit_for(runtime) == []
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["mode"] == "immediate"
    assert plan["slots"][0]["price"] == 0.5  # at once, in the peak
    assert plan["departure"] is None
    assert coordinator.caps_for(runtime) == []


async def test_off_peak_delay_and_charge_now(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Cheapest: the session waits for the off-peak period; charge now overrides the plan."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    await _cheapest(hass)
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    assert runtime.session.pause_reason is PauseReason.PLAN
    assert state(hass, f"sensor.{GARAGE}_session_state") == "paused"
    assert float(state(hass, f"sensor.{GARAGE}_charging_power")) == 0.0
    assert state(hass, f"switch.{GARAGE}_charging_enabled") == "on"  # not the user's pause
    assert datetime.fromisoformat(state(hass, f"sensor.{GARAGE}_charging_plan")) == CHEAP_FROM
    plan = attrs(hass, f"sensor.{GARAGE}_charging_plan")
    assert plan["mode"] == "cheapest"
    assert plan["reachable"] is True
    assert plan["departure"] == "2026-11-24T07:00:00+00:00"
    # 80 % of 60 kWh from 30 %: 30 kWh, all of it off-peak at 0.10.
    assert plan["target_kwh"] == pytest.approx(30.0, abs=0.01)
    assert plan["cost"] == pytest.approx(3.0, abs=0.01)
    assert all(s["price"] == 0.1 for s in plan["slots"])
    trail = coordinator.smart.audit_for(runtime)
    assert trail[0]["source"] == "plan"
    assert trail[0]["enabled"] is False
    assert trail[-1]["obeyed"] is True

    # The off-peak period starts: charging starts within seconds.
    await _at(hass, freezer, CHEAP_FROM + timedelta(seconds=1))
    await advance(hass, freezer, 5)
    assert runtime.session.pause_reason is None
    assert state(hass, f"sensor.{GARAGE}_session_state") == "charging"
    assert runtime.demo is not None
    assert runtime.demo.evse.enabled

    # A new session at peak time, then charge now: it charges and stays charging.
    await _call(hass, "switch", "turn_off", f"switch.{GARAGE}_demo_car_plugged_in")
    await _at(hass, freezer, datetime.fromisoformat("2026-11-24T17:00:00+00:00"))
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    assert state(hass, f"sensor.{GARAGE}_session_state") == "paused"
    await _call(hass, "button", "press", f"button.{GARAGE}_charge_now")
    await advance(hass, freezer, 60)
    assert state(hass, f"sensor.{GARAGE}_session_state") == "charging"
    assert [c["source"] for c in coordinator.smart.audit_for(runtime)][-1] == "user"


async def test_entity_charger_follows_the_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """An OCPP-like charger is switched off at plug-in and on at the off-peak period."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(charger=CP, options=TOU_OPTIONS))
    await _cheapest(hass, target=20)  # 20 % of 60 kWh: 12 kWh to add
    switch_calls = record_switch_calls(hass)
    number_calls = async_mock_service(hass, "number", "set_value")
    await cp.id_tag("PEV-DEMO-0001")
    await cp.status("Preparing")
    await advance(hass, freezer, 5)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    assert runtime.session.pause_reason is PauseReason.PLAN
    assert [(c.service, c.data["entity_id"]) for c in switch_calls] == [
        ("turn_off", "switch.cp_charge")
    ]
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["start"] == CHEAP_FROM.isoformat()
    assert plan["target_kwh"] == pytest.approx(12.0, abs=0.01)
    assert plan["slots"][0]["power_kw"] == pytest.approx(7.36)  # 32 A single phase

    await _at(hass, freezer, CHEAP_FROM)
    assert [c.service for c in switch_calls] == ["turn_off", "turn_on"]
    assert number_calls[-1].data == {"entity_id": "number.cp_current", "value": 32}
    assert runtime.session.pause_reason is None


async def test_state_of_charge_from_the_vehicle_sensor(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A vehicle's battery sensor turns the % target into energy; a change replans."""
    freezer.move_to(EVENING)
    hass.states.async_set(
        "sensor.car_battery", "50", {"device_class": "battery", "unit_of_measurement": "%"}
    )
    car = {**HOME_CAR, "soc_entity": "sensor.car_battery"}
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=[car], options=TOU_OPTIONS))
    await _cheapest(hass, target=80)
    record_switch_calls(hass)
    async_mock_service(hass, "number", "set_value")
    await cp.id_tag("PEV-DEMO-0001")
    await cp.status("Preparing")
    await advance(hass, freezer, 5)
    runtime = coordinator.chargers["charger1"]
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["target_kwh"] == pytest.approx(18.0, abs=0.01)  # (80 % - 50 %) of 60 kWh

    hass.states.async_set(
        "sensor.car_battery", "70", {"device_class": "battery", "unit_of_measurement": "%"}
    )
    await advance(hass, freezer, 2)
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["target_kwh"] == pytest.approx(6.0, abs=0.01)

    # Unknown: the target is read as the energy to add in the session (80 % of 60 kWh).
    hass.states.async_set("sensor.car_battery", "unavailable")
    await advance(hass, freezer, 2)
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["target_kwh"] == pytest.approx(48.0, abs=0.01)


async def test_local_load_control_curtails_within_two_seconds(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A local DLC event lowers the current at its start and lifts it at its end."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    evse = runtime.demo.evse
    assert evse.current_limit_a == 16
    start = datetime.fromisoformat("2026-11-23T20:51:00+00:00")
    await hass.services.async_call(
        DOMAIN,
        "add_local_event",
        {
            "kind": "load_control",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
            "limit_kw": 4.2,
            "name": "Grid peak",
        },
        blocking=True,
    )
    await hass.async_block_till_done()
    assert evse.current_limit_a == 16
    assert coordinator.caps_for(runtime)[0]["limit_kw"] == 4.2

    await _at(hass, freezer, start + timedelta(seconds=1))
    assert evse.current_limit_a == 6  # 6 A x 3 x 230 V = 4.14 kW <= 4.2 kW
    await advance(hass, freezer, 10)
    assert float(state(hass, f"sensor.{GARAGE}_charging_power")) <= 4.2
    assert coordinator.smart.audit_for(runtime)[-1]["source"] == "event"
    assert coordinator.smart.audit_for(runtime)[-1]["obeyed"] is True

    await _at(hass, freezer, start + timedelta(minutes=30, seconds=1))
    assert evse.current_limit_a == 16
    assert coordinator.smart.audit_for(runtime)[-1]["source"] == "event"


async def test_opt_out(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Opting out lifts the event's cap; a mandatory event cannot be opted out of."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "switch", "turn_on", f"switch.{GARAGE}_opt_out_of_event")
    assert err.value.translation_key == "no_active_event"

    now = datetime.fromisoformat(EVENING)
    event_id = await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=1), limit_kw=0
    )
    await advance(hass, freezer, 5)
    assert runtime.demo.evse.enabled is False
    assert state(hass, f"sensor.{GARAGE}_session_state") == "paused"
    assert state(hass, f"switch.{GARAGE}_opt_out_of_event") == "off"

    response = await hass.services.async_call(
        DOMAIN,
        "opt_out",
        {"device_id": _device(hass, "charger1")},
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done()
    assert response == {"event_ids": [event_id], "consequences": []}
    assert event_id in coordinator.opted_out
    await advance(hass, freezer, 10)
    assert runtime.demo.evse.enabled is True
    assert state(hass, f"sensor.{GARAGE}_session_state") == "charging"
    assert state(hass, f"switch.{GARAGE}_opt_out_of_event") == "on"
    assert coordinator.smart.audit_for(runtime)[-1]["source"] == "user"
    with pytest.raises(ServiceValidationError):
        await _call(hass, "switch", "turn_off", f"switch.{GARAGE}_opt_out_of_event")


async def test_mandatory_event_refused(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mandatory utility event in force: the opt-out is refused with a translated error."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    await _plug_demo(hass)
    at = datetime.fromisoformat(EVENING)
    mandatory = ProgramEvent(
        "EVT-1", "load_control", "Peak", at, at + timedelta(hours=1), "utility", mandatory=True
    )
    monkeypatch.setattr(
        coordinator.events, "load_control_in_force", lambda pev_id, now: [mandatory]
    )
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "switch", "turn_on", f"switch.{GARAGE}_opt_out_of_event")
    assert err.value.translation_key == "event_mandatory"
    assert coordinator.opted_out == set()


async def test_charger_ignoring_commands_raises_issue(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The demo charger ignores the plan's stop: the command is marked ignored, an issue raised."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    runtime.demo.evse.ignore_commands = True
    await _cheapest(hass)
    await _plug_demo(hass)
    await advance(hass, freezer, 20)
    assert float(state(hass, f"sensor.{GARAGE}_charging_power")) == pytest.approx(11.0)
    command = coordinator.smart.audit_for(runtime)[0]
    assert command["obeyed"] is False
    assert command["measured_kw"] == pytest.approx(11.0)
    issue_id = f"charger_ignores_commands_{coordinator.config_entry.entry_id}_charger1"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    # It obeys again (the off-peak period: charging allowed): the issue clears.
    runtime.demo.evse.ignore_commands = False
    await _at(hass, freezer, CHEAP_FROM + timedelta(seconds=1))
    await advance(hass, freezer, 10)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_services(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Set departure and target; preview a plan without applying it; charge now."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    vehicle_device = _device(hass, "vehicle1")
    charger_device = _device(hass, "charger1")
    await hass.services.async_call(
        DOMAIN,
        "set_departure_and_target",
        {"device_id": vehicle_device, "departure": "06:30", "target": 50, "mode": "cheapest"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert state(hass, f"time.{CAR}_departure") == "06:30:00"
    assert float(state(hass, f"number.{CAR}_charge_target")) == 50
    assert state(hass, f"select.{CAR}_charge_mode") == "cheapest"

    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "plan_preview",
            {"device_id": charger_device},
            blocking=True,
            return_response=True,
        )
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    runtime = coordinator.chargers["charger1"]
    trail = len(coordinator.smart.audit_for(runtime))
    preview = await hass.services.async_call(
        DOMAIN,
        "plan_preview",
        {"device_id": charger_device, "mode": "immediate", "target": 80},
        blocking=True,
        return_response=True,
    )
    assert preview is not None
    plan = preview["plan"]
    assert plan["mode"] == "immediate"
    assert plan["start"] == "2026-11-23T20:50:10+00:00"
    assert plan["cost"] > 3.0  # partly at the peak price
    # Not applied: still cheapest and waiting, no command sent.
    assert state(hass, f"select.{CAR}_charge_mode") == "cheapest"
    assert state(hass, f"sensor.{GARAGE}_session_state") == "paused"
    assert len(coordinator.smart.audit_for(runtime)) == trail
    assert attrs(hass, f"sensor.{GARAGE}_charging_plan")["target_kwh"] == pytest.approx(12.0)

    await hass.services.async_call(
        DOMAIN, "charge_now", {"device_id": charger_device}, blocking=True
    )
    await advance(hass, freezer, 10)
    assert state(hass, f"sensor.{GARAGE}_session_state") == "charging"


async def test_settings_survive_a_restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Charge mode, departure and target are stored."""
    freezer.move_to(EVENING)
    entry = make_entry(options=TOU_OPTIONS)
    coordinator: PevPortalCoordinator = await setup(hass, entry)
    await _cheapest(hass, target=70)
    await coordinator.store.call(lambda s: None)  # the write is done
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, f"select.{CAR}_charge_mode") == "cheapest"
    assert float(state(hass, f"number.{CAR}_charge_target")) == 70


async def test_random_start_delay(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A start at the off-peak boundary is spread by up to start_delay_minutes; charging
    starts at the delayed time, not at the boundary."""
    freezer.move_to(EVENING)
    options = {**TOU_OPTIONS, "start_delay_minutes": 10}
    coordinator = await setup(hass, make_entry(options=options))
    coordinator.smart.rng = random.Random(4)
    await _cheapest(hass)
    await _plug_demo(hass)
    await advance(hass, freezer, 5)
    plan = coordinator.plan_for(coordinator.chargers["charger1"])
    assert plan is not None
    start = datetime.fromisoformat(plan["start"])
    assert CHEAP_FROM < start <= CHEAP_FROM + timedelta(minutes=10)
    assert plan["slots"][0]["start"] == plan["start"]
    assert plan["reachable"] is True  # the delay is a hold in the plan, not lost energy
    assert plan["target_kwh"] == pytest.approx(30.0, abs=0.01)

    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    await _at(hass, freezer, CHEAP_FROM + timedelta(seconds=1))
    assert runtime.session.pause_reason is PauseReason.PLAN
    await _call(hass, "number", "set_value", f"number.{CAR}_charge_target", value=90)
    await advance(hass, freezer, 1)
    assert coordinator.smart.reason is not None
    assert coordinator.smart.reason.startswith("energy changed")
    replanned = coordinator.plan_for(runtime)
    assert replanned is not None
    assert replanned["start"] == plan["start"], "the delay drawn for the boundary holds"
    assert runtime.session.pause_reason is PauseReason.PLAN
    await _at(hass, freezer, start + timedelta(seconds=1))
    assert runtime.session.pause_reason is None
    assert runtime.demo is not None
    assert runtime.demo.evse.enabled


async def test_vehicle_taking_less_is_planned_at_what_it_takes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """The car draws 3.6 kW where 7.36 kW was planned: the plan is redone at what it takes
    (ready later), and the charger's full power is tried again after a while."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(charger=CP, options=TOU_OPTIONS))
    await _cheapest(hass, target=80)  # 48 kWh to add
    record_switch_calls(hass)
    async_mock_service(hass, "number", "set_value")
    await cp.id_tag("PEV-DEMO-0001")
    await cp.status("Preparing")
    await advance(hass, freezer, 5)
    runtime = coordinator.chargers["charger1"]
    before = coordinator.plan_for(runtime)
    assert before is not None
    assert before["slots"][0]["power_kw"] == pytest.approx(7.36)

    await _at(hass, freezer, CHEAP_FROM)
    await cp.power(3600)
    await cp.status("Charging")
    await advance(hass, freezer, 20)
    assert coordinator.smart.reason == "under-delivery: charger1"
    after = coordinator.plan_for(runtime)
    assert after is not None
    assert max(s["power_kw"] for s in after["slots"]) <= 3.6
    assert after["end"] > before["end"]

    # 15 minutes later the full power is planned (and tried) again; the car still takes less.
    assert runtime.session is not None
    _kw, until = coordinator.smart.learned[runtime.session.session_id]
    assert until - dt_util.utcnow() <= timedelta(minutes=15)
    await _at(hass, freezer, until + timedelta(seconds=1))
    retry = coordinator.plan_for(runtime)
    assert retry is not None
    assert retry["slots"][0]["power_kw"] == pytest.approx(7.36)
    await advance(hass, freezer, 20)
    assert coordinator.smart.reason == "under-delivery: charger1"


async def test_audit_trail_kept_with_the_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The commands are stored with the session: read back after a restart, kept at its end."""
    freezer.move_to(EVENING)
    entry = make_entry(options=TOU_OPTIONS)
    coordinator: PevPortalCoordinator = await setup(hass, entry)
    await _cheapest(hass)
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    session_id = runtime.session.session_id
    trail = coordinator.smart.audit_for(runtime)
    assert [(c["source"], c["enabled"], c["obeyed"]) for c in trail] == [("plan", False, True)]
    await coordinator.store.call(lambda s: None)  # the writes are done
    assert await coordinator.store.call(lambda s: s.commands(session_id)) == trail

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    assert runtime.session.session_id == session_id
    assert coordinator.smart.audit_for(runtime)[: len(trail)] == trail

    await _call(hass, "button", "press", f"button.{GARAGE}_charge_now")
    await advance(hass, freezer, 10)
    await _call(hass, "switch", "turn_off", f"switch.{GARAGE}_demo_car_plugged_in")
    assert coordinator.audit.trails == {}  # dropped from memory with the session
    stored = await coordinator.store.call(lambda s: s.commands(session_id))
    assert [c["source"] for c in stored][-1] == "user"
    assert stored[: len(trail)] == trail


PLAN_CALENDAR = "calendar.test_home_charging_plan"
DATA_DOMAINS: dict[str, Any] = {"button": BUTTONS, "switch": SWITCHES}


async def test_calendar_of_planned_charging(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The premise's calendar shows the planned windows and the load-control events."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    calendar = hass.data[CALENDARS].get_entity(PLAN_CALENDAR)
    assert calendar is not None
    day = (CHEAP_FROM - timedelta(hours=12), CHEAP_FROM + timedelta(hours=24))
    assert await calendar.async_get_events(hass, *day) == []
    assert state(hass, PLAN_CALENDAR) == "off"

    await _cheapest(hass)
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    runtime = coordinator.chargers["charger1"]
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    events = await calendar.async_get_events(hass, *day)
    # 30 kWh at 11.04 kW from 21:00: one window of touching slots, merged.
    assert len(events) == 1
    window = events[0]
    assert window.start == CHEAP_FROM
    assert window.end == datetime.fromisoformat(plan["end"])
    assert window.summary == "Charging Family car · 11.0 kW"
    assert window.description == "30.00 kWh on Garage, 3.00 EUR"
    assert state(hass, PLAN_CALENDAR) == "off"  # not yet
    assert attrs(hass, PLAN_CALENDAR)["message"] == window.summary

    # A local load-control event in the window: shown, and the plan (and window) follow it.
    start = CHEAP_FROM + timedelta(hours=1)
    await coordinator.async_add_local_event(
        "load_control", start, start + timedelta(hours=1), limit_kw=0, name="Grid peak"
    )
    await advance(hass, freezer, 5)
    events = await calendar.async_get_events(hass, *day)
    assert [(e.start, e.summary) for e in events] == [
        (CHEAP_FROM, "Charging Family car · 11.0 kW"),
        (start, "Grid peak · ≤ 0 kW"),
        (start + timedelta(hours=1), "Charging Family car · 11.0 kW"),
    ]
    assert events[0].end == start

    # The calendar.get_events action.
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": PLAN_CALENDAR,
            "start_date_time": CHEAP_FROM.isoformat(),
            "end_date_time": (CHEAP_FROM + timedelta(minutes=90)).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    found = response[PLAN_CALENDAR]["events"]  # type: ignore[index]
    assert [e["summary"] for e in found] == [
        "Charging Family car · 11.0 kW",
        "Grid peak · ≤ 0 kW",
    ]
    assert found[1]["description"] == "Local load-control event"

    # In the window: the calendar is on. Unplugged: only the event is left.
    await _at(hass, freezer, CHEAP_FROM + timedelta(minutes=1))
    assert state(hass, PLAN_CALENDAR) == "on"
    await _call(hass, "switch", "turn_off", f"switch.{GARAGE}_demo_car_plugged_in")
    await advance(hass, freezer, 5)
    events = await calendar.async_get_events(hass, *day)
    assert [e.summary for e in events] == ["Grid peak · ≤ 0 kW"]


async def test_vehicle_entities_act_where_it_is_plugged_in(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The vehicle's plan sensor, charge-now button and opt-out switch follow its session."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(vehicles=[HOME_CAR, GUEST_CAR], options=TOU_OPTIONS))
    per_vehicle = ("sensor.{}_charging_plan", "button.{}_charge_now", "switch.{}_opt_out_of_event")
    for template in per_vehicle:
        assert state(hass, template.format(CAR)) == STATE_UNAVAILABLE
        assert state(hass, template.format("visitor")) == STATE_UNAVAILABLE
        assert state(hass, template.format(GARAGE)) != STATE_UNAVAILABLE  # guests, unknowns

    await _cheapest(hass)
    await _plug_demo(hass)  # the demo car is the family car
    await advance(hass, freezer, 10)
    for template in per_vehicle:
        assert state(hass, template.format(CAR)) != STATE_UNAVAILABLE
        assert state(hass, template.format("visitor")) == STATE_UNAVAILABLE
    plan_sensor = f"sensor.{CAR}_charging_plan"
    assert datetime.fromisoformat(state(hass, plan_sensor)) == CHEAP_FROM
    assert attrs(hass, plan_sensor) | {"friendly_name": None} == attrs(
        hass, f"sensor.{GARAGE}_charging_plan"
    ) | {"friendly_name": None}
    assert attrs(hass, plan_sensor)["mode"] == "cheapest"
    assert attrs(hass, plan_sensor)["last_command"]["source"] == "plan"

    # Opt-out from the vehicle: the event's stop is lifted on the charger it is plugged in at.
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    now = datetime.fromisoformat(EVENING)
    event_id = await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=1), limit_kw=0
    )
    await advance(hass, freezer, 5)
    assert state(hass, f"switch.{CAR}_opt_out_of_event") == "off"
    await _call(hass, "switch", "turn_on", f"switch.{CAR}_opt_out_of_event")
    assert event_id in coordinator.opted_out
    assert state(hass, f"switch.{CAR}_opt_out_of_event") == "on"
    assert state(hass, f"switch.{GARAGE}_opt_out_of_event") == "on"

    # Charge now from the vehicle: the session charges at once, in the peak.
    await _call(hass, "button", "press", f"button.{CAR}_charge_now")
    await advance(hass, freezer, 30)
    assert state(hass, f"sensor.{GARAGE}_session_state") == "charging"
    assert runtime.demo.evse.enabled
    assert coordinator.smart.audit_for(runtime)[-1]["source"] == "user"
    assert attrs(hass, plan_sensor)["last_command"]["source"] == "user"

    # Unplugged: unavailable again (the charger's own entities stay).
    await _call(hass, "switch", "turn_off", f"switch.{GARAGE}_demo_car_plugged_in")
    for template in per_vehicle:
        assert state(hass, template.format(CAR)) == STATE_UNAVAILABLE
        assert state(hass, template.format(GARAGE)) != STATE_UNAVAILABLE


async def test_vehicle_entities_refuse_without_a_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Pressed directly while the vehicle is away: a translated error, no command."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    for domain, entity_id, method in (
        ("button", f"button.{CAR}_charge_now", "async_press"),
        ("switch", f"switch.{CAR}_opt_out_of_event", "async_turn_on"),
    ):
        entity = hass.data[DATA_DOMAINS[domain]].get_entity(entity_id)
        assert entity is not None
        with pytest.raises(ServiceValidationError) as err:
            await getattr(entity, method)()
        assert err.value.translation_key == "no_session"
    assert coordinator.audit.trails == {}


async def test_charging_plan_calendar_in_german(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The calendar's texts follow Home Assistant's language (read when it is added)."""
    freezer.move_to(EVENING)
    entry = make_entry(options=TOU_OPTIONS)
    await setup(hass, entry)
    await _cheapest(hass)
    hass.config.language = "de"  # after the set-up: the entity IDs stay English
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    calendar = hass.data[CALENDARS].get_entity(PLAN_CALENDAR)
    assert calendar is not None
    start = CHEAP_FROM + timedelta(hours=1)
    await entry.runtime_data.async_add_local_event(
        "load_control", start, start + timedelta(hours=1), limit_kw=0, name="Netzspitze"
    )
    await advance(hass, freezer, 5)
    day = (CHEAP_FROM - timedelta(hours=12), CHEAP_FROM + timedelta(hours=24))
    events = await calendar.async_get_events(hass, *day)
    assert [(e.summary, e.description) for e in events[:2]] == [
        ("Family car laden · 11.0 kW", "11.04 kWh an Garage, 1.10 EUR"),
        ("Netzspitze · ≤ 0 kW", "Lokales Laststeuerungs-Ereignis"),
    ]


async def test_a_planner_failure_does_not_stop_charging(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The planner raising (a bug) is logged; the session goes on under the last plan."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    await _cheapest(hass)
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    runtime = coordinator.chargers["charger1"]
    before = coordinator.plan_for(runtime)
    assert before is not None

    def broken(*_args: object) -> None:
        raise PlanningError("the flow did not converge")

    coordinator.smart.compute = broken  # type: ignore[method-assign]
    await _call(hass, "number", "set_value", f"number.{CAR}_charge_target", value=90)
    await advance(hass, freezer, 10)
    assert "The charging plan could not be computed" in caplog.text
    assert coordinator.plan_for(runtime) == before  # the last plan goes on
    assert runtime.session is not None
    assert runtime.session.pause_reason is PauseReason.PLAN  # still waiting for off-peak
