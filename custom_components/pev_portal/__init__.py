"""PEV Portal: the premise side of a utility's electric-vehicle program."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_UNAVAILABLE, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.typing import ConfigType

from .const import (
    CHARGER_TYPE_DEMO,
    CONF_CHARGER_TYPE,
    CONF_METER_ENTITY,
    CONF_METER_SOURCE,
    CONF_PRICE_ENTITY,
    CONF_STATUS_ENTITY,
    DOMAIN,
    METER_SOURCE_CHARGER,
    METER_SOURCE_DEMO,
    METER_SOURCE_SENSOR,
    METER_SOURCE_ZHA,
    SUBENTRY_CHARGER,
)
from .coordinator import PevPortalConfigEntry, PevPortalCoordinator
from .entity import current_device_identifiers
from .frontend_panel import async_register_frontend
from .http import async_setup_http
from .premise_store import async_forget
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
    _check_ready(hass, entry)
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


# The states of another integration's config entry from which it comes up by itself.
_NOT_YET_LOADED = (
    ConfigEntryState.NOT_LOADED,
    ConfigEntryState.SETUP_IN_PROGRESS,
    ConfigEntryState.SETUP_RETRY,
)
_NOT_SENSOR_METERS = (METER_SOURCE_DEMO, METER_SOURCE_CHARGER, METER_SOURCE_ZHA)


def _coming_up(source: ConfigEntry) -> bool:
    """Another integration's entry that will load by itself (not disabled, not failed)."""
    return source.disabled_by is None and source.state in _NOT_YET_LOADED


def _needed_entities(entry: PevPortalConfigEntry) -> list[str]:
    """The other integrations' entities set-up needs: each mapped charger's status, a sensor
    meter's energy sensor and the price entity."""
    needed: list[str] = []
    for subentry in entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_CHARGER:
            continue
        data = subentry.data
        if data.get(CONF_CHARGER_TYPE) != CHARGER_TYPE_DEMO and data.get(CONF_STATUS_ENTITY):
            needed.append(data[CONF_STATUS_ENTITY])
        source = data.get(CONF_METER_SOURCE, METER_SOURCE_SENSOR)
        if source not in _NOT_SENSOR_METERS and data.get(CONF_METER_ENTITY):
            needed.append(data[CONF_METER_ENTITY])
    if price_entity := {**entry.data, **entry.options}.get(CONF_PRICE_ENTITY):
        needed.append(price_entity)
    return needed


def _check_ready(hass: HomeAssistant, entry: PevPortalConfigEntry) -> None:
    """Raise ConfigEntryNotReady while what set-up needs is still being set up elsewhere.

    An entity counts as not there yet when it has no state (or Home Assistant's restored
    "unavailable") and its integration's config entry is not loaded yet (not loaded, setting
    up, or retrying; not disabled): Home Assistant then retries this entry with backoff. An
    entity missing from the entity registry is not waited for (the missing-entities repair
    issue names it), nor one whose integration failed for good or was disabled; the utility's VTN is not checked (the link retries
    by itself).
    """
    registry = er.async_get(hass)
    for entity_id in _needed_entities(entry):
        state = hass.states.get(entity_id)
        if state is not None and state.state != STATE_UNAVAILABLE:
            continue
        registered = registry.async_get(entity_id)
        if registered is None or registered.config_entry_id is None:
            continue
        source = hass.config_entries.async_get_entry(registered.config_entry_id)
        if source is not None and _coming_up(source):
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="entity_not_ready",
                translation_placeholders={"entity": entity_id, "integration": source.title},
            )
    uses_zha = any(
        subentry.subentry_type == SUBENTRY_CHARGER
        and subentry.data.get(CONF_METER_SOURCE) == METER_SOURCE_ZHA
        for subentry in entry.subentries.values()
    )
    zha_entries = hass.config_entries.async_entries("zha")
    if (
        uses_zha
        and zha_entries
        and all(z.state is not ConfigEntryState.LOADED for z in zha_entries)
        and any(_coming_up(z) for z in zha_entries)
    ):
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="zha_not_ready")


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


async def async_remove_entry(hass: HomeAssistant, entry: PevPortalConfigEntry) -> None:
    """The user deleted the premise: its local events, enrollments and settings are deleted
    from the shared store (they reach no other premise); its sessions, intervals and reports
    are kept, found again when the same premise ID is added back (premise_store)."""
    await async_forget(hass, entry)


async def _async_update_listener(hass: HomeAssistant, entry: PevPortalConfigEntry) -> None:
    """Reload when options or subentries change (history stays in the store)."""
    hass.config_entries.async_schedule_reload(entry.entry_id)
