"""The user's power-feed controls per vehicle (issue #18, part E): the "Power feed" switch and
the floor, wear cost and cycle budget numbers; stored with the vehicle's settings (a replan
follows), restored after a restart, ranges kept."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant import config_entries
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import InvalidData
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import EntityCategory

from custom_components.pev_portal.charging.settings import VehicleSettings
from custom_components.pev_portal.const import DEFAULT_CYCLES_PER_DAY, DEFAULT_SOC_FLOOR
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.planner_feed_types import DEFAULT_WEAR_COST_PER_KWH

from .common import attrs, setup, state
from .conftest import HOME_CAR, make_entry

CAR = "family_car"
SWITCH = f"switch.{CAR}_power_feed"
FLOOR = f"number.{CAR}_power_feed_floor"
WEAR = f"number.{CAR}_battery_wear_cost"
CYCLES = f"number.{CAR}_power_feed_cycles_per_day"


async def _call(
    hass: HomeAssistant, domain: str, service: str, entity_id: str, **data: Any
) -> None:
    await hass.services.async_call(domain, service, {"entity_id": entity_id, **data}, blocking=True)
    await hass.async_block_till_done()


def _settings(coordinator: PevPortalCoordinator) -> VehicleSettings:
    return coordinator.smart.settings_of(coordinator.vehicles["vehicle1"])


async def test_defaults_off_and_documented(hass: HomeAssistant) -> None:
    """Power feed is off; the floor, cycles and the documented wear cost show until set."""
    await setup(hass, make_entry())
    assert state(hass, SWITCH) == "off"
    assert float(state(hass, FLOOR)) == DEFAULT_SOC_FLOOR
    assert float(state(hass, WEAR)) == DEFAULT_WEAR_COST_PER_KWH
    assert float(state(hass, CYCLES)) == DEFAULT_CYCLES_PER_DAY
    assert attrs(hass, FLOOR)[ATTR_UNIT_OF_MEASUREMENT] == "%"
    assert attrs(hass, WEAR)[ATTR_UNIT_OF_MEASUREMENT] == "EUR/kWh"
    assert (attrs(hass, FLOOR)["min"], attrs(hass, FLOOR)["max"], attrs(hass, FLOOR)["step"]) == (
        0,
        100,
        5,
    )
    assert (attrs(hass, WEAR)["min"], attrs(hass, WEAR)["max"], attrs(hass, WEAR)["step"]) == (
        0,
        1,
        0.01,
    )
    assert (attrs(hass, CYCLES)["min"], attrs(hass, CYCLES)["max"]) == (0, 5)
    registry = er.async_get(hass)
    categories = {e: registry.async_get(e).entity_category for e in (SWITCH, FLOOR, WEAR, CYCLES)}  # type: ignore[union-attr]
    assert categories == {
        SWITCH: None,  # the vehicle's main control, beside its charge mode
        FLOOR: EntityCategory.CONFIG,
        WEAR: EntityCategory.CONFIG,
        CYCLES: EntityCategory.CONFIG,
    }


async def test_changes_are_stored_replanned_and_restored(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each control goes through the settings update: stored, a replan, kept over a restart."""
    entry = make_entry()
    coordinator = await setup(hass, entry)
    replans: list[None] = []
    schedule = coordinator.smart.schedule
    monkeypatch.setattr(
        coordinator.smart, "schedule", lambda *a, **k: (replans.append(None), schedule(*a, **k))
    )
    await _call(hass, "switch", "turn_on", SWITCH)
    await _call(hass, "number", "set_value", FLOOR, value=55)
    await _call(hass, "number", "set_value", WEAR, value=0.07)
    await _call(hass, "number", "set_value", CYCLES, value=0.5)
    assert len(replans) == 4
    assert _settings(coordinator) == VehicleSettings(
        power_feed=True, floor=55.0, wear_cost=0.07, cycles_per_day=0.5
    )
    assert state(hass, SWITCH) == "on"
    assert float(state(hass, WEAR)) == 0.07

    await coordinator.store.call(lambda s: None)  # the write is done
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    assert state(hass, SWITCH) == "on"
    assert float(state(hass, FLOOR)) == 55
    assert float(state(hass, WEAR)) == 0.07
    assert float(state(hass, CYCLES)) == 0.5
    assert _settings(coordinator).power_feed is True

    await _call(hass, "switch", "turn_off", SWITCH)
    assert state(hass, SWITCH) == "off"
    assert _settings(coordinator).power_feed is False
    # A wear cost of 0 is a setting (not "unset"): it shows 0, not the default.
    await _call(hass, "number", "set_value", WEAR, value=0)
    assert float(state(hass, WEAR)) == 0
    assert _settings(coordinator).wear_cost == 0.0


@pytest.mark.parametrize(
    ("entity_id", "value"),
    [(FLOOR, 101), (FLOOR, -5), (WEAR, 1.5), (WEAR, -0.01), (CYCLES, 6)],
)
async def test_out_of_range_refused_nothing_changed(
    hass: HomeAssistant, entity_id: str, value: float
) -> None:
    """A value outside the range is refused with a clear error; the settings stay as they were."""
    coordinator = await setup(hass, make_entry())
    before = _settings(coordinator).to_dict()
    with pytest.raises(ServiceValidationError):
        await _call(hass, "number", "set_value", entity_id, value=value)
    assert _settings(coordinator).to_dict() == before


async def test_one_vehicles_feed_leaves_the_others(hass: HomeAssistant) -> None:
    """The settings are per vehicle."""
    second = {
        "pev_id": "PEV-SECOND",
        "name": "Second car",
        "relation": "home",
        "capacity_kwh": 40,
        "tags": [],
        "default_vehicle": False,
    }
    coordinator = await setup(hass, make_entry(vehicles=[HOME_CAR, second]))
    await _call(hass, "switch", "turn_on", SWITCH)
    assert state(hass, "switch.second_car_power_feed") == "off"
    assert coordinator.smart.settings_of(coordinator.vehicles["vehicle2"]).power_feed is False


def _suggested(result: Any) -> dict[str, Any]:
    """The suggested value of every field of a form that has one."""
    return {
        str(marker): marker.description["suggested_value"]
        for marker in result["data_schema"].schema
        if (marker.description or {}).get("suggested_value") is not None
    }


async def test_vehicle_form_takes_a_state_of_health_sensor(hass: HomeAssistant) -> None:
    """The vehicle form has an optional state-of-health sensor: stored, shown again on
    reconfigure, read into the vehicle; without it the vehicle has none."""
    entry = make_entry(vehicles=[{"pev_id": "PEV-A", "name": "A", "relation": "home"}])
    coordinator = await setup(hass, entry)
    assert coordinator.vehicles["vehicle1"].soh_entity is None
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"),
        context={"source": config_entries.SOURCE_RECONFIGURE, "subentry_id": "vehicle1"},
    )
    assert "soh_entity" in {str(m) for m in result["data_schema"].schema}
    assert "soh_entity" not in _suggested(result)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"pev_id": "PEV-A", "name": "A", "relation": "home", "soh_entity": "sensor.car_soh"},
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries["vehicle1"].data["soh_entity"] == "sensor.car_soh"
    await hass.async_block_till_done()
    assert entry.runtime_data.vehicles["vehicle1"].soh_entity == "sensor.car_soh"

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"),
        context={"source": config_entries.SOURCE_RECONFIGURE, "subentry_id": "vehicle1"},
    )
    assert _suggested(result)["soh_entity"] == "sensor.car_soh"
    # Not an entity ID: refused by the form, nothing stored.
    with pytest.raises(InvalidData):
        await hass.config_entries.subentries.async_configure(
            result["flow_id"],
            {"pev_id": "PEV-A", "name": "A", "relation": "home", "soh_entity": "not an entity"},
        )
    assert entry.subentries["vehicle1"].data["soh_entity"] == "sensor.car_soh"
