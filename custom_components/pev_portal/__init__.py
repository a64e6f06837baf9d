"""PEV Portal: the premise side of a utility's electric-vehicle program."""

from __future__ import annotations

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .coordinator import PevPortalConfigEntry, PevPortalCoordinator
from .entity import current_device_identifiers
from .frontend_panel import async_register_frontend
from .http import async_setup_http
from .services import async_setup_services
from .utility import async_register_view as async_register_notify_view
from .websocket_api import async_setup_websocket_api

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's services, the card and its API (once, not per entry)."""
    async_setup_services(hass)
    async_setup_websocket_api(hass)
    async_setup_http(hass)
    await async_register_frontend(hass)
    async_register_notify_view(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: PevPortalConfigEntry) -> bool:
    """Set up a premise from a config entry."""
    coordinator = PevPortalCoordinator(hass, entry)
    try:
        await coordinator.async_start()
    except BaseException:
        await coordinator.async_stop()  # close the store's thread; nothing is half-written
        raise
    entry.runtime_data = coordinator
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))

    async def _async_stop(_event: Event) -> None:
        """Home Assistant stops: make the running sums durable and close the store."""
        await coordinator.async_stop()

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _async_stop))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    _async_remove_stale_devices(hass, entry)
    return True


def _async_remove_stale_devices(hass: HomeAssistant, entry: PevPortalConfigEntry) -> None:
    """Remove the entry's devices that are no charger, vehicle, premise or utility link of it.

    Runs once the platforms are set up, so an entity an older version put on another device has
    already moved to its current one; removing a device removes the entities still on it.
    """
    current = current_device_identifiers(entry)
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if current.isdisjoint(device.identifiers):
            registry.async_remove_device(device.id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: PevPortalConfigEntry, device: dr.AnyDeviceEntry
) -> bool:
    """Let the user delete a device only if the entry no longer has it (see setup's cleanup)."""
    return current_device_identifiers(entry).isdisjoint(device.identifiers)


async def async_unload_entry(hass: HomeAssistant, entry: PevPortalConfigEntry) -> bool:
    """Unload a config entry; everything measured is written first."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded


async def _async_update_listener(hass: HomeAssistant, entry: PevPortalConfigEntry) -> None:
    """Reload when options or subentries change (history stays in the store)."""
    hass.config_entries.async_schedule_reload(entry.entry_id)
