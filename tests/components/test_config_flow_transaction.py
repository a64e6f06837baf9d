"""The charger form's transaction roles: the charger's own meterStart, transaction energy and
transaction ID (lbbrhzn/ocpp's Energy Meter Start, Energy Session and Transaction Id).

The OCPP preset fills them in, the form shows them (and leaves PEV Portal's own entities out of
their pickers), they are saved with the charger, the adapter reads the session's edges from
them, and reconfiguring the charger changes or clears them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.adapters import Transaction
from tests.components.conftest import make_entry
from tests.components.test_config_flow import (
    ELECTRICAL,
    ENTITIES,
    METER_CHOICE,
    charger_states,  # noqa: F401 (a fixture, used by name)
    defaults,
    flow_at_charger,
    flow_at_entities,
    suggested_values,
)

ROLES = ("meter_start_entity", "session_energy_entity", "transaction_entity")
ENERGY = {"device_class": "energy", "unit_of_measurement": "kWh"}
TX_STARTED = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
# lbbrhzn/ocpp's single-connector charger "cp1" (entity IDs as its sensor.py makes them).
OCPP_STATES: dict[str, tuple[str, dict[str, Any]]] = {
    "sensor.cp1_status_connector": ("Charging", {}),
    "switch.cp1_charge_control": ("on", {}),
    "number.cp1_maximum_current": ("32", {"min": 0, "max": 32}),
    "sensor.cp1_power_active_import": ("7.36", {"unit_of_measurement": "kW"}),
    "sensor.cp1_energy_active_import_register": ("1234.6", ENERGY),
    "sensor.cp1_id_tag": ("unknown", {}),
    "sensor.cp1_energy_meter_start": ("1234.5", ENERGY),
    "sensor.cp1_energy_session": ("0.1", ENERGY),
    # OCPP 1.6: the transaction ID is the start's epoch second.
    "sensor.cp1_transaction_id": (str(int(TX_STARTED.timestamp())), {}),
}
OCPP_MAPPING = {
    "status_entity": "sensor.cp1_status_connector",
    "switch_entity": "switch.cp1_charge_control",
    "current_entity": "number.cp1_maximum_current",
    "power_entity": "sensor.cp1_power_active_import",
    "energy_entity": "sensor.cp1_energy_active_import_register",
    "vehicle_id_entity": "sensor.cp1_id_tag",
    "meter_start_entity": "sensor.cp1_energy_meter_start",
    "session_energy_entity": "sensor.cp1_energy_session",
    "transaction_entity": "sensor.cp1_transaction_id",
}


def _ocpp_device(hass: HomeAssistant) -> str:
    """An lbbrhzn/ocpp charger's device with its entities; returns the device's ID."""
    ocpp_entry = MockConfigEntry(domain="ocpp")
    ocpp_entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=ocpp_entry.entry_id, identifiers={("ocpp", "cp1")}, name="cp1"
    )
    registry = er.async_get(hass)
    for entity_id, (value, attributes) in OCPP_STATES.items():
        domain, object_id = entity_id.split(".")
        registered = registry.async_get_or_create(
            domain,
            "ocpp",
            f"ocpp.{object_id}",
            suggested_object_id=object_id,
            config_entry=ocpp_entry,
            device_id=device.id,
        )
        assert registered.entity_id == entity_id
        hass.states.async_set(entity_id, value, attributes)
    return device.id


def _picker(result: Any, key: str) -> dict[str, Any]:
    """The selector config of a field of the form."""
    schema = result["data_schema"].schema
    (marker,) = [m for m in schema if str(m) == key]
    config: dict[str, Any] = schema[marker].config
    return config


async def test_ocpp_preset_fills_the_transaction_roles(hass: HomeAssistant) -> None:
    """The OCPP preset suggests the three roles; accepted, they are saved and the adapter
    reads the transaction (running, its start, meterStart, its energy) from them."""
    device_id = _ocpp_device(hass)
    flow_id = await flow_at_charger(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "CP1", "charger_type": "entities", "device": device_id}
    )
    assert result["step_id"] == "charger_entities"
    suggested = suggested_values(result)
    assert {key: suggested[key] for key in ROLES} == {key: OCPP_MAPPING[key] for key in ROLES}
    # Optional sensors; the two registers only among energy sensors.
    for key in ROLES:
        marker = next(m for m in result["data_schema"].schema if str(m) == key)
        assert type(marker).__name__ == "Optional"
        assert _picker(result, key)["domain"] == ["sensor"]
    assert _picker(result, "meter_start_entity")["device_class"] == ["energy"]
    assert _picker(result, "session_energy_entity")["device_class"] == ["energy"]
    assert "device_class" not in _picker(result, "transaction_entity")
    assert defaults(result)["meter_source"] == "charger"

    result = await hass.config_entries.flow.async_configure(flow_id, OCPP_MAPPING)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    (charger,) = entry.subentries.values()
    assert dict(charger.data) == {
        "charger_name": "CP1",
        "charger_type": "entities",
        "preset": "ocpp",
        "ocpp_devid": "cp1",
        **OCPP_MAPPING,
        **ELECTRICAL,
        "meter_source": "charger",
    }
    assert entry.state is ConfigEntryState.LOADED
    adapter = entry.runtime_data.chargers[charger.subentry_id].adapter
    assert adapter.transaction() == Transaction(True, TX_STARTED, 1234.5, 0.1)

    # The transaction ends (lbbrhzn: ID 0, the energy meterStop - meterStart).
    hass.states.async_set("sensor.cp1_transaction_id", "0")
    hass.states.async_set("sensor.cp1_energy_session", "0.25", ENERGY)
    assert adapter.transaction() == Transaction(False, None, 1234.5, 0.25)


@pytest.mark.usefixtures("charger_states")
async def test_transaction_role_errors(hass: HomeAssistant) -> None:
    """A register that is no energy sensor, a transaction sensor that does not exist: each
    said on its field; without the roles the charger has no transaction registers."""
    hass.states.async_set("sensor.wb_meter_start", "12.5", ENERGY)
    hass.states.async_set("sensor.wb_tx", "7")
    flow_id = await flow_at_entities(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            **ENTITIES,
            **METER_CHOICE,
            "meter_start_entity": "sensor.wb_power",  # a power sensor
            "session_energy_entity": "sensor.wb_vehicle_id",  # no energy sensor at all
            "transaction_entity": "sensor.wb_gone",
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        "meter_start_entity": "not_energy_sensor",
        "session_energy_entity": "not_energy_sensor",
        "transaction_entity": "entity_not_found",
    }
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            **ENTITIES,
            **METER_CHOICE,
            "meter_start_entity": "sensor.wb_meter_start",
            "transaction_entity": "sensor.wb_tx",
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    (charger,) = entry.subentries.values()
    assert charger.data["meter_start_entity"] == "sensor.wb_meter_start"
    assert "session_energy_entity" not in charger.data
    adapter = entry.runtime_data.chargers[charger.subentry_id].adapter
    # A plain counter ("7") still says a transaction runs.
    found = adapter.transaction()
    assert (found.running, found.meter_start_kwh, found.energy_kwh) == (True, 12.5, None)


async def test_own_entities_left_out_of_the_transaction_pickers(
    hass: HomeAssistant, loaded_demo: MockConfigEntry
) -> None:
    """PEV Portal's own sensors (its session energy among them) are not offered."""
    own = sorted(
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), loaded_demo.entry_id)
    )
    assert any(e.endswith("_session_energy") for e in own)
    result = await hass.config_entries.subentries.async_init(
        (loaded_demo.entry_id, "charger"), context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"charger_name": "Second", "charger_type": "entities"}
    )
    assert result["step_id"] == "charger_entities"
    for key in ROLES:
        assert set(own) <= set(_picker(result, key)["exclude_entities"])


async def test_reconfigure_changes_and_clears_the_roles(hass: HomeAssistant) -> None:
    """Reconfiguring an OCPP charger shows its roles; a cleared role is dropped (the adapter
    then has no transaction registers), a changed one saved."""
    _ocpp_device(hass)
    hass.states.async_set("sensor.cp1_other_session", "0.0", ENERGY)
    entry = make_entry(
        charger={
            "charger_name": "CP1",
            "charger_type": "entities",
            "preset": "ocpp",
            **OCPP_MAPPING,
            "meter_source": "charger",
        }
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    async def reconfigure(mapping: dict[str, str]) -> None:
        result = await hass.config_entries.subentries.async_init(
            (entry.entry_id, "charger"),
            context={"source": config_entries.SOURCE_RECONFIGURE, "subentry_id": "charger1"},
        )
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"charger_name": "CP1", "charger_type": "entities"}
        )
        assert result["step_id"] == "charger_entities"
        shown = suggested_values(result)
        assert {k: shown[k] for k in ROLES} == {
            k: entry.subentries["charger1"].data.get(k) for k in ROLES
        }
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {**mapping, "meter_source": "charger"}
        )
        await hass.async_block_till_done()
        assert result["reason"] == "reconfigure_successful"

    changed = {**OCPP_MAPPING, "session_energy_entity": "sensor.cp1_other_session"}
    await reconfigure(changed)
    assert entry.subentries["charger1"].data["session_energy_entity"] == (
        "sensor.cp1_other_session"
    )
    adapter = entry.runtime_data.chargers["charger1"].adapter
    assert adapter.transaction() == Transaction(True, TX_STARTED, 1234.5, 0.0)

    cleared = {k: v for k, v in OCPP_MAPPING.items() if k not in ROLES}
    await reconfigure(cleared)
    data = entry.subentries["charger1"].data
    assert not set(ROLES) & set(data)
    assert entry.runtime_data.chargers["charger1"].adapter.transaction() is None
