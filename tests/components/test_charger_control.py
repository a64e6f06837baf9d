"""How entity-mapped chargers are commanded: presets, the OCPP charge-rate service, and a pause
that the charger ignores moving on to the preset's next way of pausing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.pev_portal.adapters import EntityCharger
from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.core.session import PauseReason

from .common import advance, setup
from .conftest import HOME_CAR, make_entry
from .test_entity_charger import CP, ChargePoint, record_switch_calls, run
from .test_smart_charging import CHEAP_FROM, EVENING, TOU_OPTIONS, _at, _cheapest

ISSUE = "charger_ignores_commands_premise1_charger1"


@pytest.fixture
def cp(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> ChargePoint:
    """The driveway charge point; its current limit takes 0 A (a charging profile of 0 A)."""
    freezer.move_to(EVENING)
    point = ChargePoint(hass, "cp", "sensor.meter_energy")
    point.install()
    hass.states.async_set("number.cp_current", "16", {"min": 0, "max": 32, "step": 1})
    return point


async def _plug(hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint) -> None:
    await cp.id_tag(HOME_CAR["pev_id"])
    await cp.power(7360)  # the car draws at once, before any command
    await cp.status("Charging")
    await advance(hass, freezer, 2)


def _adapter(coordinator: Any) -> EntityCharger:
    adapter = coordinator.chargers["charger1"].adapter
    assert isinstance(adapter, EntityCharger)
    return adapter


async def test_ocpp_pauses_by_zero_amps_then_by_its_switch(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """OCPP: the plan's pause is a 0 A limit (the transaction stays open). The charger ignores
    it: the next way (its charge-control switch) is used, and no repairs issue is raised."""
    coordinator = await setup(
        hass, make_entry(charger={**CP, "preset": "ocpp"}, options=TOU_OPTIONS)
    )
    await _cheapest(hass, target=20)
    switch_calls = record_switch_calls(hass)
    number_calls = async_mock_service(hass, "number", "set_value")
    adapter = _adapter(coordinator)
    assert adapter.stop_methods() == ["current_zero", "switch"]

    await _plug(hass, freezer, cp)
    assert [c.data["value"] for c in number_calls] == [0]
    assert switch_calls == []
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    assert runtime.session.pause_reason is PauseReason.PLAN

    # Still drawing 10 s later: the switch is tried.
    await advance(hass, freezer, 12)
    assert [(c.service, c.data["entity_id"]) for c in switch_calls] == [
        ("turn_off", "switch.cp_charge")
    ]
    trail = coordinator.smart.audit_for(runtime)
    assert trail[0]["via"] == "current_zero"
    assert trail[0]["obeyed"] is False
    assert trail[0]["escalated_to"] == "switch"
    assert trail[-1]["via"] == "switch"
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None

    # The switch works: the command is obeyed.
    await cp.power(0)
    await advance(hass, freezer, 5)
    assert coordinator.smart.audit_for(runtime)[-1]["obeyed"] is True
    assert adapter.describe()["stop_method"] == "switch"

    # Off-peak: resumed the way it was paused (its switch), then the current is set.
    await _at(hass, freezer, CHEAP_FROM)
    assert [c.service for c in switch_calls] == ["turn_off", "turn_on"]
    assert number_calls[-1].data["value"] == 32


async def test_every_way_ignored_raises_the_issue(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """When the last way of pausing is ignored as well, the repairs issue is raised."""
    await setup(hass, make_entry(charger={**CP, "preset": "ocpp"}, options=TOU_OPTIONS))
    await _cheapest(hass, target=20)
    record_switch_calls(hass)
    async_mock_service(hass, "number", "set_value")
    await _plug(hass, freezer, cp)
    await advance(hass, freezer, 12)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None
    await advance(hass, freezer, 12)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is not None


async def test_ocpp_charge_rate_service_without_current_entity(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """Without a current entity, the OCPP integration's set_charge_rate service carries the
    limit (with the charge point's devid): 0 A to pause, the plan's current to charge."""
    charger = {k: v for k, v in CP.items() if k not in ("current_entity", "switch_entity")}
    rate_calls = async_mock_service(hass, "ocpp", "set_charge_rate")
    coordinator = await setup(
        hass,
        make_entry(charger={**charger, "preset": "ocpp", "ocpp_devid": "cp1"}, options=TOU_OPTIONS),
    )
    await _cheapest(hass, target=20)
    assert _adapter(coordinator).controllable
    await _plug(hass, freezer, cp)
    assert [c.data for c in rate_calls] == [{"limit_amps": 0, "conn_id": 0, "devid": "cp1"}]
    await cp.power(0)
    await _at(hass, freezer, CHEAP_FROM)
    assert rate_calls[-1].data == {"limit_amps": 32, "conn_id": 0, "devid": "cp1"}


async def test_preset_where_zero_amps_does_not_pause(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A Wallbox takes 6 A as its lowest current: it is paused by its switch, never 0 A."""
    coordinator = await setup(
        hass, make_entry(charger={**CP, "preset": "wallbox"}, options=TOU_OPTIONS)
    )
    await _cheapest(hass, target=20)
    switch_calls = record_switch_calls(hass)
    number_calls = async_mock_service(hass, "number", "set_value")
    assert _adapter(coordinator).stop_methods() == ["switch"]
    await _plug(hass, freezer, cp)
    assert [c.service for c in switch_calls] == ["turn_off"]
    assert number_calls == []


async def test_no_way_to_pause_sends_the_lowest_current(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """Only a current entity whose lowest value is 6 A: the pause is 6 A, and when the charger
    keeps charging above the plan's 0 kW the user learns it through the repairs issue."""
    charger = {k: v for k, v in CP.items() if k != "switch_entity"}
    hass.states.async_set("number.cp_current", "16", {"min": 6, "max": 32, "step": 1})
    coordinator = await setup(hass, make_entry(charger=charger, options=TOU_OPTIONS))
    await _cheapest(hass, target=20)
    number_calls = async_mock_service(hass, "number", "set_value")
    assert _adapter(coordinator).stop_methods() == []
    await _plug(hass, freezer, cp)
    assert [c.data["value"] for c in number_calls] == [6]
    await advance(hass, freezer, 12)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is not None


async def test_three_phase_charger_set_up_as_one_phase(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A charger set up as one phase draws three times the power of its current limit: it is
    treated as three-phase at once (the cap holds again), no 'ignores commands' issue is
    raised, and the fixable issue stores three phases in its electrical connection."""
    coordinator = await setup(hass, make_entry(charger=CP))
    adapter = _adapter(coordinator)
    assert adapter.phases == 1

    async def set_current(call: ServiceCall) -> None:  # the charger: three phases at 230 V
        amps = float(call.data["value"])
        cp.set_power(amps * 230 * 3)
        hass.states.async_set("number.cp_current", str(amps), {"min": 0, "max": 32})

    hass.services.async_register("number", "set_value", set_current)
    now = dt_util.utcnow()
    await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=1), limit_kw=7.0, name="Grid peak"
    )
    await cp.id_tag(HOME_CAR["pev_id"])
    await cp.status("Charging")
    await advance(hass, freezer, 2)
    assert float(hass.states.get("number.cp_current").state) == 30  # 7 kW on one phase
    assert cp.power_w == pytest.approx(20_700)

    await advance(hass, freezer, 12)
    assert adapter.phases == 3
    assert float(hass.states.get("number.cp_current").state) == 10  # 6.9 kW on three
    await advance(hass, freezer, 5)
    runtime = coordinator.chargers["charger1"]
    trail = coordinator.smart.audit_for(runtime)
    assert trail[0]["obeyed"] is False
    assert trail[0]["escalated_to"] == "three_phase"
    assert trail[-1]["current_a"] == 10
    assert trail[-1]["obeyed"] is True
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, ISSUE) is None
    issue_id = "charger_three_phase_premise1_charger1"
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable

    # The fix: three phases stored, the entry reloaded with them.
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, context={"issue_id": issue_id})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {"charger": "Driveway"}
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = hass.config_entries.async_get_entry("premise1")
    assert entry is not None
    assert entry.subentries["charger1"].data["phases"] == 3
    assert _adapter(entry.runtime_data).phases == 3
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_full_power_ignoring_a_limit_is_not_taken_for_three_phases(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A one-phase charger that ignores a limit and keeps its full power is not three-phase:
    the ratio to the limit is not 3. It is reported as ignoring commands."""
    coordinator = await setup(hass, make_entry(charger=CP))
    async_mock_service(hass, "number", "set_value")
    now = dt_util.utcnow()
    await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=1), limit_kw=4.0, name="Grid peak"
    )
    await cp.id_tag(HOME_CAR["pev_id"])
    await cp.power(7360)
    await cp.status("Charging")
    await advance(hass, freezer, 14)
    assert _adapter(coordinator).phases == 1
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is not None
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, "charger_three_phase_premise1_charger1") is None
    )


NO_POWER_SENSOR = {k: v for k, v in CP.items() if k != "power_entity"} | {"preset": "wallbox"}


async def test_pause_verified_on_the_meter_without_a_power_sensor(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """No power sensor: the plan's pause is verified on the meter. Its register stops moving,
    so after 90 s the charger is idle: obeyed, measured by the meter, and no issue."""
    coordinator = await setup(hass, make_entry(charger=NO_POWER_SENSOR, options=TOU_OPTIONS))
    await _cheapest(hass, target=20)
    switch_calls = record_switch_calls(hass)
    await cp.id_tag(HOME_CAR["pev_id"])
    await cp.status("Charging")
    await advance(hass, freezer, 2)
    assert [c.service for c in switch_calls] == ["turn_off"]
    runtime = coordinator.chargers["charger1"]
    assert runtime.adapter.power_kw() is None
    await advance(hass, freezer, 30)
    assert coordinator.smart.audit_for(runtime)[0]["obeyed"] is None  # too early to tell

    await run(hass, freezer, 2, [cp])  # the register does not move: no readings
    (command,) = coordinator.smart.audit_for(runtime)
    assert command["obeyed"] is True
    assert command["measured_by"] == "meter"
    assert command["measured_kw"] == 0.0
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None


async def test_ignored_pause_seen_on_the_meter(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """No power sensor, and the charger keeps charging: the meter's register climbs at
    7.36 kW, so the pause is ignored (and the issue raised: the switch is its only way)."""
    coordinator = await setup(hass, make_entry(charger=NO_POWER_SENSOR, options=TOU_OPTIONS))
    await _cheapest(hass, target=20)
    record_switch_calls(hass)
    cp.set_power(7360)  # the car draws, whatever the switch says
    await cp.id_tag(HOME_CAR["pev_id"])
    await cp.status("Charging")
    await advance(hass, freezer, 2)
    runtime = coordinator.chargers["charger1"]
    await run(hass, freezer, 3, [cp])  # a reading a minute
    command = coordinator.smart.audit_for(runtime)[0]
    assert command["obeyed"] is False
    assert command["measured_by"] == "meter"
    assert command["measured_kw"] == pytest.approx(7.36, abs=0.01)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is not None


async def test_vehicle_taking_less_seen_on_the_meter(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """No power sensor: the meter's slope shows the car takes 3.6 kW of the 7.36 kW planned;
    at the next replan the session is planned at what it takes."""
    coordinator = await setup(hass, make_entry(charger=NO_POWER_SENSOR, options=TOU_OPTIONS))
    await _cheapest(hass, target=80)
    record_switch_calls(hass)
    async_mock_service(hass, "number", "set_value")
    await cp.id_tag(HOME_CAR["pev_id"])
    await cp.status("Preparing")
    await advance(hass, freezer, 5)
    runtime = coordinator.chargers["charger1"]
    await _at(hass, freezer, CHEAP_FROM)
    cp.set_power(3600)
    await cp.status("Charging")
    await run(hass, freezer, 20, [cp])  # a reading a minute; a slot boundary on the way
    trail = coordinator.smart.audit_for(runtime)
    full = trail[1]  # off-peak: 32 A; verified on the meter at what the car takes
    assert (full["current_a"], full["measured_by"], full["obeyed"]) == (32, "meter", True)
    assert full["measured_kw"] == pytest.approx(3.6, abs=0.05)
    assert trail[2]["current_a"] == 15  # then planned at 3.6 kW: 15 A
    assert coordinator.smart.reason == "under-delivery: charger1"
    assert runtime.session is not None
    kw, _until = coordinator.smart.learned[runtime.session.session_id]
    assert kw == pytest.approx(3.6, abs=0.05)
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert max(s["power_kw"] for s in plan["slots"]) <= 3.65


async def test_on_off_charger_keeps_what_the_vehicle_takes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A charger that is only switched (a smart plug): the car takes 2.3 kW; that is what the
    session is planned at from then on, not retried at full power every 15 minutes."""
    on_off = {k: v for k, v in CP.items() if k != "current_entity"}
    coordinator = await setup(hass, make_entry(charger=on_off, options=TOU_OPTIONS))
    runtime = coordinator.chargers["charger1"]
    assert not runtime.adapter.sets_current()
    await _cheapest(hass, target=20)
    record_switch_calls(hass)
    await cp.id_tag(HOME_CAR["pev_id"])
    await cp.status("Preparing")
    await advance(hass, freezer, 5)
    await _at(hass, freezer, CHEAP_FROM)
    await cp.power(2300)
    await cp.status("Charging")
    await advance(hass, freezer, 20)
    assert coordinator.smart.reason == "under-delivery: charger1"
    assert runtime.session is not None
    kw, until = coordinator.smart.learned[runtime.session.session_id]
    assert kw == pytest.approx(2.3)
    assert until - dt_util.utcnow() > timedelta(days=1)

    await run(hass, freezer, 20, [cp])  # past the 15 minutes a current-limited one retries
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert max(s["power_kw"] for s in plan["slots"]) == pytest.approx(2.3)


async def test_one_phase_charger_at_full_power_is_not_taken_for_three_phases(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A 2.3 kW cap is 10 A; a one-phase charger ignoring it keeps its full 7.36 kW, three
    times 2.3 kW by chance. That is its full one-phase power: ignoring, not three-phase."""
    coordinator = await setup(hass, make_entry(charger=CP))
    async_mock_service(hass, "number", "set_value")
    now = dt_util.utcnow()
    await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=1), limit_kw=2.3, name="Grid peak"
    )
    await cp.id_tag(HOME_CAR["pev_id"])
    await cp.power(7360)
    await cp.status("Charging")
    await advance(hass, freezer, 14)
    command = coordinator.smart.audit_for(coordinator.chargers["charger1"])[0]
    assert command["current_a"] == 10
    assert 2.6 <= command["measured_kw"] / command["target_kw"] <= 3.4
    assert _adapter(coordinator).phases == 1
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is not None
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, "charger_three_phase_premise1_charger1") is None
    )
