"""Presets: fill the charger's entity mapping from the entities of a known integration's device.

Each preset lists, per role, the entity domain and the suffixes its integration uses in entity
IDs or translation keys. Found entities are suggestions on the form; the user can change them.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .const import (
    CONF_CURRENT_ENTITY,
    CONF_ENERGY_ENTITY,
    CONF_POWER_ENTITY,
    CONF_START_BUTTON,
    CONF_STATUS_ENTITY,
    CONF_STOP_BUTTON,
    CONF_SWITCH_ENTITY,
    CONF_VEHICLE_ID_ENTITY,
)

type Role = tuple[str, tuple[str, ...]]

PRESETS: dict[str, dict[str, Role]] = {
    # lbbrhzn/ocpp
    "ocpp": {
        CONF_STATUS_ENTITY: ("sensor", ("status_connector", "status")),
        CONF_SWITCH_ENTITY: ("switch", ("charge_control",)),
        CONF_CURRENT_ENTITY: ("number", ("maximum_current",)),
        CONF_POWER_ENTITY: ("sensor", ("power_active_import",)),
        CONF_ENERGY_ENTITY: ("sensor", ("energy_active_import_register", "energy_session")),
        CONF_VEHICLE_ID_ENTITY: ("sensor", ("id_tag",)),
    },
    "wallbox": {
        CONF_STATUS_ENTITY: ("sensor", ("status_description",)),
        CONF_SWITCH_ENTITY: ("switch", ("pause_resume",)),
        CONF_CURRENT_ENTITY: ("number", ("maximum_charging_current",)),
        CONF_POWER_ENTITY: ("sensor", ("charging_power",)),
        CONF_ENERGY_ENTITY: ("sensor", ("added_energy",)),
    },
    "easee": {
        CONF_STATUS_ENTITY: ("sensor", ("status",)),
        CONF_SWITCH_ENTITY: ("switch", ("is_enabled",)),
        CONF_POWER_ENTITY: ("sensor", ("power",)),
        CONF_ENERGY_ENTITY: ("sensor", ("lifetime_energy", "session_energy")),
    },
    "zaptec": {
        CONF_STATUS_ENTITY: ("sensor", ("charger_operation_mode",)),
        CONF_START_BUTTON: ("button", ("resume_charging",)),
        CONF_STOP_BUTTON: ("button", ("stop_charging",)),
        CONF_CURRENT_ENTITY: ("number", ("charger_max_current",)),
        CONF_POWER_ENTITY: ("sensor", ("charge_power",)),
        CONF_ENERGY_ENTITY: ("sensor", ("signed_meter_value", "total_charge_power")),
    },
    "goecharger_api2": {
        CONF_STATUS_ENTITY: ("sensor", ("car_value", "car")),
        CONF_SWITCH_ENTITY: ("switch", ("allow_charging",)),
        CONF_CURRENT_ENTITY: ("number", ("amp",)),
        CONF_POWER_ENTITY: ("sensor", ("nrg_11", "power")),
        CONF_ENERGY_ENTITY: ("sensor", ("eto",)),
    },
}


def preset_mapping(hass: HomeAssistant, device_id: str) -> tuple[str | None, dict[str, str]]:
    """The preset's name and the entity mapping found on a device (empty when none fits)."""
    entries = er.async_entries_for_device(er.async_get(hass), device_id)
    if not entries:
        return None, {}
    platform = entries[0].platform
    preset = PRESETS.get(platform)
    if preset is None:
        return None, {}
    found: dict[str, str] = {}
    for role, (domain, suffixes) in preset.items():
        for suffix in suffixes:
            match = next(
                (
                    e.entity_id
                    for e in entries
                    if e.domain == domain
                    and (
                        e.translation_key == suffix
                        or e.entity_id.endswith(f"_{suffix}")
                        or (e.unique_id or "").endswith(suffix)
                    )
                ),
                None,
            )
            if match is not None:
                found[role] = match
                break
    return platform, found
