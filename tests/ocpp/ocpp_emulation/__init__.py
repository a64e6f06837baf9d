"""A test emulation of the lbbrhzn/ocpp Home Assistant integration (domain ``ocpp``).

PEV Portal's interop tests load this package as the custom integration ``ocpp``: an OCPP 1.6J
and 2.0.1 central system on 127.0.0.1 (central.py, central_v201.py) and the entities lbbrhzn/ocpp 0.8.0 creates, with its entity IDs,
unique IDs, devices, units and update rules. Everything is our own code written from reading
lbbrhzn/ocpp at commit a37fed39d852d393312d107cf915fea546df5088 (files cited where used);
none of it is copied. See docs/chargers.md.
"""

from __future__ import annotations

import json
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .central import CentralSystem
from .const import CONF_CPID, CONF_CPIDS, DOMAIN

PLATFORMS = [Platform.SENSOR, Platform.SWITCH, Platform.NUMBER, Platform.BUTTON]
CONFIG_SCHEMA = cv.empty_config_schema(DOMAIN)

# api.py CHRGR_SERVICE_DATA_SCHEMA (services.yaml set_charge_rate): every field optional.
SET_CHARGE_RATE_SCHEMA = vol.Schema(
    {
        vol.Optional("devid"): cv.string,
        vol.Optional("limit_amps"): cv.positive_float,
        vol.Optional("limit_watts"): cv.positive_int,
        vol.Optional("conn_id"): cv.positive_int,
        vol.Optional("custom_profile"): vol.Any(cv.string, dict),
    }
)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    hass.data.setdefault(DOMAIN, {})
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """__init__.py async_setup_entry: start the server, create the devices, the platforms."""
    central = CentralSystem(hass, entry)
    await central.start()
    devices = dr.async_get(hass)
    central_device = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, central.id)},
        name=central.id,
        model="OCPP Central System",
    )
    for item in entry.data[CONF_CPIDS]:
        for cp_id, settings in item.items():
            central.device_ids[settings[CONF_CPID]] = devices.async_get_or_create(
                config_entry_id=entry.entry_id,
                identifiers={(DOMAIN, cp_id), (DOMAIN, settings[CONF_CPID])},
                name=settings[CONF_CPID],
                # lbbrhzn passes via_device=(DOMAIN, csid), which Home Assistant 2026.10
                # deprecates (tests raise on it): the same link by the device's ID.
                via_device_id=central_device.id,
            ).id
    hass.data.setdefault(DOMAIN, {})[entry.entry_id] = central
    _register_services(hass)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    central: CentralSystem = hass.data[DOMAIN].pop(entry.entry_id)
    await central.stop()
    for service in hass.services.async_services_for_domain(DOMAIN):
        hass.services.async_remove(DOMAIN, service)
    return unloaded


def _central(hass: HomeAssistant) -> CentralSystem:
    centrals = [v for v in hass.data[DOMAIN].values() if isinstance(v, CentralSystem)]
    return centrals[0]


def _register_services(hass: HomeAssistant) -> None:
    """api.py CentralSystem.__init__ registers the services (set_charge_rate, clear_profile...)."""

    async def set_charge_rate(call: ServiceCall) -> None:
        """api.py handle_set_charge_rate: a custom profile, else watts, else amps."""
        handler = _central(hass).handler_for_service(call.data.get("devid"))
        conn_id = int(call.data.get("conn_id", 0))
        profile: Any = call.data.get("custom_profile")
        if profile is not None:
            if isinstance(profile, str):
                profile = json.loads(profile.replace("'", '"'))
            await handler.set_charge_rate(profile=profile, conn_id=conn_id)
        elif (watts := call.data.get("limit_watts")) is not None:
            await handler.set_charge_rate(limit_watts=watts, conn_id=conn_id)
        elif (amps := call.data.get("limit_amps")) is not None:
            await handler.set_charge_rate(limit_amps=amps, conn_id=conn_id)

    async def clear_profile(call: ServiceCall) -> None:
        handler = _central(hass).handler_for_service(call.data.get("devid"))
        await handler.clear_profile()

    hass.services.async_register(
        DOMAIN, "set_charge_rate", set_charge_rate, schema=SET_CHARGE_RATE_SCHEMA
    )
    hass.services.async_register(DOMAIN, "clear_profile", clear_profile)
