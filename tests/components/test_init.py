"""Setting up, unloading and reloading a premise."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.pev_portal.const import STORE_FILENAME
from custom_components.pev_portal.coordinator import PevPortalCoordinator

from .common import state
from .conftest import OPTIONS

GARAGE = "garage"


async def test_setup_and_unload(hass: HomeAssistant, loaded_demo: MockConfigEntry) -> None:
    """Loading opens the store and adds the entities; unloading closes the store."""
    assert loaded_demo.state is ConfigEntryState.LOADED
    coordinator: PevPortalCoordinator = loaded_demo.runtime_data
    assert coordinator.store._store is not None
    assert await hass.async_add_executor_job(Path(hass.config.path(STORE_FILENAME)).exists)
    entities = er.async_entries_for_config_entry(er.async_get(hass), loaded_demo.entry_id)
    # 9 sensors (plan included), 2 binary sensors, select, button, 3 switches (opt-out
    # included); the vehicle's state sensor, charge mode, charge target, departure, plan sensor,
    # charge-now button and opt-out switch, its power-feed switch and three power-feed numbers
    # (floor, wear cost, cycles per day), its energy fed this month and power feed cycles
    # sensors (it has a capacity); the premise's charging-plan calendar and its last event
    # performance sensor.
    assert len(entities) == 31
    unique_ids = {e.unique_id for e in entities}
    assert {
        "vehicle1_fed_energy_month",
        "vehicle1_feed_cycles",
        "vehicle1_plan",
        "vehicle1_charge_now",
        "vehicle1_opt_out",
        "premise1_charging_plan",
    } <= unique_ids
    names = {e.entity_id: e.translation_key for e in entities}
    assert names["sensor.family_car_charging_plan"] == "plan"
    assert names["button.family_car_charge_now"] == "charge_now"
    assert names["switch.family_car_opt_out_of_event"] == "opt_out"
    assert names["calendar.test_home_charging_plan"] == "charging_plan"
    assert state(hass, f"sensor.{GARAGE}_session_state") == "unplugged"

    assert await hass.config_entries.async_unload(loaded_demo.entry_id)
    await hass.async_block_till_done()
    assert loaded_demo.state is ConfigEntryState.NOT_LOADED
    assert coordinator.store._store is None
    with pytest.raises(RuntimeError, match="closed"):
        coordinator.store.submit(lambda s: None)
    assert state(hass, f"sensor.{GARAGE}_session_state") == STATE_UNAVAILABLE


async def test_reload_after_options_change_keeps_history(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, loaded_demo: MockConfigEntry
) -> None:
    """Changing the options reloads the entry; the sessions stored before remain."""
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"}, blocking=True
    )
    for _ in range(12 * 16):
        freezer.tick(timedelta(seconds=5))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done()
    before: PevPortalCoordinator = loaded_demo.runtime_data
    session = before.chargers["charger1"].last_session
    assert session is not None

    hass.config_entries.async_update_entry(
        loaded_demo,
        options={**OPTIONS, "tariff": {"type": "flat", "currency": "EUR", "price": "0.25"}},
    )
    await hass.async_block_till_done()
    assert loaded_demo.state is ConfigEntryState.LOADED
    after: PevPortalCoordinator = loaded_demo.runtime_data
    assert after is not before
    assert float(state(hass, f"sensor.{GARAGE}_current_price")) == pytest.approx(0.25)

    window = (session.started_at - timedelta(hours=1), session.started_at + timedelta(hours=1))
    sessions, intervals = await after.async_export(*window)
    assert [s["session_id"] for s in sessions] == [session.session_id]
    # 16 minutes of charging cross one or two 15-minute boundaries, by the wall clock.
    assert len(intervals) in (2, 3)
    assert sum(i.kwh for _, i in intervals) == pytest.approx(session.meter_kwh, abs=1e-9)
    last = after.chargers["charger1"].last_session
    assert last is not None
    assert last.session_id == session.session_id


async def test_subentries_added_reload(hass: HomeAssistant, loaded_demo: MockConfigEntry) -> None:
    """A vehicle or charger added as a subentry reloads the entry and brings its entities."""
    vehicle = ConfigSubentry(
        data={"pev_id": "PEV-NEW", "name": "New car", "relation": "guest", "tags": []},
        subentry_type="vehicle",
        title="New car",
        unique_id="PEV-NEW",
    )
    hass.config_entries.async_add_subentry(loaded_demo, vehicle)
    await hass.async_block_till_done()
    assert loaded_demo.state is ConfigEntryState.LOADED
    assert state(hass, "sensor.new_car_charging_state") == "unplugged"
    select = hass.states.get(f"select.{GARAGE}_vehicle")
    assert select is not None
    assert "New car" in select.attributes["options"]
    coordinator: PevPortalCoordinator = loaded_demo.runtime_data
    assert coordinator.vehicle_by_pev_id("PEV-NEW") is not None

    charger = ConfigSubentry(
        data={"charger_name": "Shed", "charger_type": "demo", "meter_source": "demo"},
        subentry_type="charger",
        title="Shed",
        unique_id=None,
    )
    hass.config_entries.async_add_subentry(loaded_demo, charger)
    await hass.async_block_till_done()
    assert loaded_demo.state is ConfigEntryState.LOADED
    assert state(hass, "sensor.shed_session_state") == "unplugged"
    assert state(hass, "switch.shed_charging_enabled") == "on"
    coordinator = loaded_demo.runtime_data
    assert len(coordinator.chargers) == 2


async def test_removed_charger_closes_its_open_session(
    hass: HomeAssistant, loaded_demo: MockConfigEntry
) -> None:
    """Removing a charger with a vehicle plugged in closes the session in the store."""
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done()
    coordinator: PevPortalCoordinator = loaded_demo.runtime_data
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert hass.config_entries.async_remove_subentry(loaded_demo, "charger1")
    await hass.async_block_till_done()
    coordinator = loaded_demo.runtime_data
    assert coordinator.chargers == {}
    row = await coordinator.store.call(lambda s: s.session(session.session_id))
    assert row is not None
    assert row.data["state"] == "completed"
    assert await coordinator.store.call(lambda s: s.open_sessions()) == []
    assert (
        hass.states.get(f"sensor.{GARAGE}_session_state") is None
        or state(hass, f"sensor.{GARAGE}_session_state") == STATE_UNAVAILABLE
    )


async def test_less_used_entities_disabled_or_diagnostic(
    hass: HomeAssistant, loaded_demo: MockConfigEntry
) -> None:
    """The tariff period is disabled by default (the current price has it as an attribute);
    the charger's other entities are enabled and not diagnostic; the demo's cable and the
    vehicle's power-feed numbers are configuration."""
    registry = er.async_get(hass)
    entries = er.async_entries_for_config_entry(registry, loaded_demo.entry_id)
    disabled = {e.entity_id for e in entries if e.disabled_by is not None}
    assert disabled == {"sensor.garage_tariff_period"}
    entry = registry.async_get("sensor.garage_tariff_period")
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get("sensor.garage_tariff_period") is None
    assert "period" in hass.states.get("sensor.garage_current_price").attributes
    assert {e.entity_id for e in entries if e.entity_category is not None} == {
        "switch.garage_demo_car_plugged_in",
        "number.family_car_power_feed_floor",
        "number.family_car_battery_wear_cost",
        "number.family_car_power_feed_cycles_per_day",
    }
