"""Presets: what PEV Portal knows about the chargers of other integrations.

Each preset lists, per role, the entity domain and the suffixes its integration uses in entity
IDs or translation keys. Found entities are suggestions on the form; the user can change them.

Each preset also says how the charger is best commanded (:class:`ControlPreset`): in which order
to try the ways of pausing a charge (its switch, its stop button, a 0 A current limit, or the
integration's charge-rate service at 0 A), whether 0 A pauses it at all, and the charge-rate
service to use when no current entity is mapped. A pause the charger ignores moves on to the
next way (see :meth:`adapters.EntityCharger.escalate_stop`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from .const import (
    CONF_CURRENT_ENTITY,
    CONF_DISCHARGED_ENERGY_ENTITY,
    CONF_ENERGY_ENTITY,
    CONF_METER_START_ENTITY,
    CONF_POWER_ENTITY,
    CONF_SESSION_ENERGY_ENTITY,
    CONF_START_BUTTON,
    CONF_STATUS_ENTITY,
    CONF_STOP_BUTTON,
    CONF_SWITCH_ENTITY,
    CONF_TRANSACTION_ENTITY,
    CONF_VEHICLE_ID_ENTITY,
)

type Role = tuple[str, tuple[str, ...]]

CONF_OCPP_DEVID: Final = "ocpp_devid"

# The ways to pause a charge, by name (see ControlPreset.stop_order).
STOP_SWITCH: Final = "switch"
STOP_BUTTON: Final = "button"
STOP_CURRENT_ZERO: Final = "current_zero"
STOP_RATE_ZERO: Final = "rate_zero"


@dataclass(frozen=True, slots=True)
class ControlPreset:
    """How a charger integration's entities and services are best commanded."""

    stop_order: tuple[str, ...] = (STOP_SWITCH, STOP_BUTTON, STOP_CURRENT_ZERO, STOP_RATE_ZERO)
    zero_amps_stops: bool = True
    rate_service: tuple[str, str] | None = None


CONTROL: dict[str, ControlPreset] = {
    # lbbrhzn/ocpp: a charging profile of 0 A suspends the charge and keeps the transaction
    # (the charge_control switch ends it, so it is the last resort); without a current entity
    # the ocpp.set_charge_rate service sets the limit (devid: the charge point's ID).
    "ocpp": ControlPreset(
        stop_order=(STOP_CURRENT_ZERO, STOP_RATE_ZERO, STOP_SWITCH, STOP_BUTTON),
        rate_service=("ocpp", "set_charge_rate"),
    ),
    # These accept 6 A as their lowest current: a pause needs their switch or button.
    "wallbox": ControlPreset(zero_amps_stops=False),
    "easee": ControlPreset(zero_amps_stops=False),
    "zaptec": ControlPreset(stop_order=(STOP_BUTTON, STOP_SWITCH), zero_amps_stops=False),
    "goecharger_api2": ControlPreset(zero_amps_stops=False),
}


def control_preset(preset: str | None) -> ControlPreset:
    """The control preset of an integration (the generic one when unknown)."""
    return CONTROL.get(preset or "", ControlPreset())


PRESETS: dict[str, dict[str, Role]] = {
    # lbbrhzn/ocpp (docs/chargers.md). Its sensors have no translation keys; entity IDs are
    # "<cpid>_<metric>" ("<cpid>_connector_<n>_<metric>" on a connector of a multi-connector
    # charger). Only the connector's status: "Status" is connector 0's, which OCPP 1.6 never
    # reports as Preparing or Charging.
    "ocpp": {
        CONF_STATUS_ENTITY: ("sensor", ("status_connector",)),
        CONF_SWITCH_ENTITY: ("switch", ("charge_control",)),
        CONF_CURRENT_ENTITY: ("number", ("maximum_current",)),
        CONF_POWER_ENTITY: ("sensor", ("power_active_import",)),
        CONF_ENERGY_ENTITY: ("sensor", ("energy_active_import_register", "energy_session")),
        CONF_VEHICLE_ID_ENTITY: ("sensor", ("id_tag",)),
        # The transaction's own registers (optional): meterStart (kWh), meterStop - meterStart
        # at the stop, and the transaction ID (its start's epoch second, 0 after the stop).
        CONF_METER_START_ENTITY: ("sensor", ("energy_meter_start",)),
        CONF_SESSION_ENERGY_ENTITY: ("sensor", ("energy_session",)),
        CONF_TRANSACTION_ENTITY: ("sensor", ("transaction_id",)),
    },
    "wallbox": {
        CONF_STATUS_ENTITY: ("sensor", ("status_description",)),
        CONF_SWITCH_ENTITY: ("switch", ("pause_resume",)),
        CONF_CURRENT_ENTITY: ("number", ("maximum_charging_current",)),
        CONF_POWER_ENTITY: ("sensor", ("charging_power",)),
        CONF_ENERGY_ENTITY: ("sensor", ("added_energy",)),
        # The energy a bidirectional Quasar fed back (power feed: its received register). No
        # discharge number: its current number goes negative (adapters.EntityCharger).
        CONF_DISCHARGED_ENERGY_ENTITY: ("sensor", ("added_discharged_energy",)),
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
        # total_charge_power is the power (W); its _session twin the session's energy (kWh).
        CONF_POWER_ENTITY: ("sensor", ("total_charge_power",)),
        CONF_ENERGY_ENTITY: ("sensor", ("signed_meter_value", "total_charge_power_session")),
    },
    # go-e (marq24/ha-goecharger-api2): no switch pauses it ("alw", charging allowed, is a
    # binary sensor; the force-state select "frc" and the stop_charging service do), and its
    # "amp" number starts at 6 A.
    "goecharger_api2": {
        CONF_STATUS_ENTITY: ("sensor", ("car_value", "car")),
        CONF_CURRENT_ENTITY: ("number", ("amp",)),
        CONF_POWER_ENTITY: ("sensor", ("nrg_11",)),
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
    if platform == "ocpp" and (devid := _ocpp_devid(hass, device_id)) is not None:
        found[CONF_OCPP_DEVID] = devid
    return platform, found


def _ocpp_devid(hass: HomeAssistant, device_id: str) -> str | None:
    """The charge point's ID for ocpp.set_charge_rate's ``devid``.

    A connector of a multi-connector charger has its own device ("<cpid>-conn<n>", via the
    charger's device), which lbbrhzn/ocpp does not know as a charger: the service would fall
    back to the first charger it has. Such a device is named by the charger's ID.
    """
    registry = dr.async_get(hass)
    device = registry.async_get(device_id)
    if device is None:
        return None
    ids = sorted(value for domain, value in device.identifiers if domain == "ocpp")
    link = (
        device.parent_device_id if isinstance(device, dr.ChildDeviceEntry) else device.via_device_id
    )
    parent = registry.async_get(link) if link else None
    if parent is not None:
        parent_ids = sorted(value for domain, value in parent.identifiers if domain == "ocpp")
        if any(i.startswith(f"{p}-conn") for i in ids for p in parent_ids):
            ids = parent_ids
    return ids[0] if ids else None


# The presets' integrations by the names their users know them by (the charger form's note).
PRESET_NAMES: dict[str, str] = {
    "ocpp": "OCPP",
    "wallbox": "Wallbox",
    "easee": "Easee",
    "zaptec": "Zaptec",
    "goecharger_api2": "go-e",
}
