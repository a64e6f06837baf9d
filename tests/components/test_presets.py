"""Presets against the entities the real integrations register (docs/chargers.md).

Each device is registered as its integration does it: the platform, the unique ID pattern, the
translation key and the entity ID (English names). Versions read: Home Assistant 2026.10.4's
wallbox; nordicopen/easee_hass 0.9.74 (0a95d0dc); custom-components/zaptec 0.8.7 (b1a02b30);
marq24/ha-goecharger-api2 2026.8.4 (b48a90c3). lbbrhzn/ocpp is covered by tests/ocpp.
"""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.presets import CONTROL, PRESETS, preset_mapping

# (domain, unique ID, translation key, object ID) per entity, as each integration makes them.
Entity = tuple[str, str, str | None, str]

WALLBOX: list[Entity] = [  # unique ID "<key>-<serial>"
    ("sensor", "status_description-1234", "status_description", "wb_status_description"),
    ("sensor", "charging_power-1234", "charging_power", "wb_charging_power"),
    ("sensor", "added_energy-1234", "added_energy", "wb_added_energy"),
    # A bidirectional Quasar's fed-back energy (power feed): beside added_energy, and not
    # taken for it.
    (
        "sensor",
        "added_discharged_energy-1234",
        "added_discharged_energy",
        "wb_added_discharged_energy",
    ),
    ("sensor", "max_charging_current-1234", "max_charging_current", "wb_max_charging_current"),
    ("switch", "paused-1234", "pause_resume", "wb_pause_resume"),
    ("number", "max_charging_current-1234", "maximum_charging_current", "wb_max_current"),
    ("lock", "locked-1234", "lock", "wb_lock"),
]
EASEE: list[Entity] = [  # unique ID "<charger ID>_<name>"
    ("sensor", "EH123_status", "easee_status", "eh_status"),
    ("sensor", "EH123_power", "power", "eh_power"),
    ("sensor", "EH123_session_energy", "session_energy", "eh_session_energy"),
    ("sensor", "EH123_lifetime_energy", "lifetime_energy", "eh_lifetime_energy"),
    ("sensor", "EH123_reason_for_no_current", "easee_reason_no_current", "eh_reason"),
    ("switch", "EH123_is_enabled", "is_enabled", "eh_is_enabled"),
    ("switch", "EH123_smart_charging", "smart_charging", "eh_smart_charging"),
]
ZAPTEC: list[Entity] = [  # unique ID "<charger ID>_<key>"
    ("sensor", "zc1_charger_operation_mode", "charger_operation_mode", "zc_charger_mode"),
    ("sensor", "zc1_total_charge_power", "total_charge_power", "zc_charge_power"),
    ("sensor", "zc1_total_charge_power_session", "total_charge_power_session", "zc_session"),
    ("sensor", "zc1_signed_meter_value_kwh", "signed_meter_value", "zc_energy_meter"),
    ("switch", "zc1_charger_operation_mode", "charger_operation_mode", "zc_charging"),
    ("number", "zc1_charger_max_current", "charger_max_current", "zc_max_current"),
    ("number", "zc1_charger_min_current", "charger_min_current", "zc_min_current"),
    ("button", "zc1_resume_charging", "resume_charging", "zc_resume_charging"),
    ("button", "zc1_stop_charging_final", "stop_charging", "zc_stop_charging"),
]
GOE: list[Entity] = [  # unique ID "goecharger_api2.goe_<serial>_<key>", entity ID the same
    ("sensor", "goecharger_api2.goe_012345_car_value", "car_value", "goe_012345_car_value"),
    ("sensor", "goecharger_api2.goe_012345_car", "car", "goe_012345_car"),
    ("sensor", "goecharger_api2.goe_012345_nrg_11", "nrg_11", "goe_012345_nrg_11"),
    ("sensor", "goecharger_api2.goe_012345_eto", "eto", "goe_012345_eto"),
    ("sensor", "goecharger_api2.goe_012345_wh", "wh", "goe_012345_wh"),
    ("binary_sensor", "goecharger_api2.goe_012345_alw", "alw", "goe_012345_alw"),
    ("number", "goecharger_api2.goe_012345_amp", "amp", "goe_012345_amp"),
    ("select", "goecharger_api2.goe_012345_frc", "frc", "goe_012345_frc"),
]


def register(hass: HomeAssistant, platform: str, entities: list[Entity]) -> str:
    """A device of ``platform`` with these entities; returns the device's ID."""
    entry = MockConfigEntry(domain=platform)
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(platform, "charger")}
    )
    registry = er.async_get(hass)
    for domain, unique_id, translation_key, object_id in entities:
        registry.async_get_or_create(
            domain,
            platform,
            unique_id,
            config_entry=entry,
            device_id=device.id,
            translation_key=translation_key,
            suggested_object_id=object_id,
        )
    return device.id


@pytest.mark.parametrize(
    ("platform", "entities", "expected"),
    [
        (
            "wallbox",
            WALLBOX,
            {
                "status_entity": "sensor.wb_status_description",
                "switch_entity": "switch.wb_pause_resume",
                "current_entity": "number.wb_max_current",
                "power_entity": "sensor.wb_charging_power",
                "energy_entity": "sensor.wb_added_energy",
                "discharged_energy_entity": "sensor.wb_added_discharged_energy",
            },
        ),
        (
            "easee",
            EASEE,
            {
                "status_entity": "sensor.eh_status",
                "switch_entity": "switch.eh_is_enabled",
                "power_entity": "sensor.eh_power",
                "energy_entity": "sensor.eh_lifetime_energy",
            },
        ),
        (
            "zaptec",
            ZAPTEC,
            {
                "status_entity": "sensor.zc_charger_mode",
                "start_button": "button.zc_resume_charging",
                "stop_button": "button.zc_stop_charging",
                "current_entity": "number.zc_max_current",
                "power_entity": "sensor.zc_charge_power",
                "energy_entity": "sensor.zc_energy_meter",
            },
        ),
        (
            "goecharger_api2",
            GOE,
            {
                "status_entity": "sensor.goe_012345_car_value",
                "current_entity": "number.goe_012345_amp",
                "power_entity": "sensor.goe_012345_nrg_11",
                "energy_entity": "sensor.goe_012345_eto",
            },
        ),
    ],
)
async def test_preset_maps_the_integrations_entities(
    hass: HomeAssistant, platform: str, entities: list[Entity], expected: dict[str, str]
) -> None:
    device_id = register(hass, platform, entities)
    assert preset_mapping(hass, device_id) == (platform, expected)


async def test_zaptec_energy_fallback_is_an_energy_sensor(hass: HomeAssistant) -> None:
    """Without the signed meter, the session's energy (kWh), never the power sensor (W)."""
    device_id = register(hass, "zaptec", [e for e in ZAPTEC if e[2] != "signed_meter_value"])
    _, found = preset_mapping(hass, device_id)
    assert found["energy_entity"] == "sensor.zc_session"


def test_every_preset_has_a_control_preset() -> None:
    assert set(PRESETS) == set(CONTROL)


# Where a preset maps a vehicle-ID source, the test that a visitor after a home session is
# billed as a guest (issue 19); a preset gaining an ID source needs its own.
VISITOR_TESTS = {
    "ocpp": "tests/ocpp/test_interop.py::test_visitor_after_home_session_is_billed_as_guest"
}


def test_every_preset_with_a_vehicle_id_has_a_visitor_test() -> None:
    with_id = {name for name, roles in PRESETS.items() if "vehicle_id_entity" in roles}
    assert with_id == set(VISITOR_TESTS)
