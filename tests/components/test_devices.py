"""Stale devices: removed at setup, and deletable by the user once the entry no longer has them."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.pev_portal import async_remove_config_entry_device
from custom_components.pev_portal.const import DOMAIN

from .common import setup
from .conftest import OPTIONS, PREMISE, make_entry

# The devices of make_entry(): the charger, the vehicle and the premise (no utility link).
CURRENT = {(DOMAIN, "charger1"), (DOMAIN, "vehicle1"), (DOMAIN, "premise1")}


def identifiers_of(registry: dr.DeviceRegistry, entry_id: str) -> set[tuple[str, str]]:
    """All identifiers of an entry's devices."""
    return {
        identifier
        for device in dr.async_entries_for_config_entry(registry, entry_id)
        for identifier in device.identifiers
    }


async def test_stale_devices_removed_at_setup(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Devices of the entry that are no charger, vehicle, premise or utility link of it go.

    A charger device of an older version goes with its leftover entity; the utility link's
    device goes once the entry no longer has a link; another entry's device is not touched.
    """
    entry = make_entry()
    entry.add_to_hass(hass)
    old_charger = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "old-charger")}, name="Old"
    )
    old_entity = entity_registry.async_get_or_create(
        "sensor", DOMAIN, "old-charger_power", config_entry=entry, device_id=old_charger.id
    )
    old_link = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "premise1_utility")}
    )
    other_entry = MockConfigEntry(domain="other", entry_id="other1")
    other_entry.add_to_hass(hass)
    other = device_registry.async_get_or_create(
        config_entry_id=other_entry.entry_id, identifiers={(DOMAIN, "old-charger")}
    )

    await setup(hass, entry)

    assert device_registry.async_get(old_charger.id) is None
    assert device_registry.async_get(old_link.id) is None
    assert entity_registry.async_get(old_entity.entity_id) is None
    assert identifiers_of(device_registry, entry.entry_id) == CURRENT
    assert device_registry.async_get(other.id) is not None


async def test_removed_subentries_take_their_devices(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Deleting the vehicle, then the charger, deletes its device and entities."""
    entry = make_entry()
    await setup(hass, entry)
    for subentry_id in ("vehicle1", "charger1"):
        assert hass.config_entries.async_remove_subentry(entry, subentry_id)
        await hass.async_block_till_done()
        assert (DOMAIN, subentry_id) not in identifiers_of(device_registry, entry.entry_id)
        assert not [
            e
            for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
            if e.config_subentry_id == subentry_id
        ]
    assert identifiers_of(device_registry, entry.entry_id) == {(DOMAIN, "premise1")}


async def test_entity_of_an_old_device_moves_and_stays(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """An entity the charger still has, registered on a stale device, keeps its entity ID.

    Cleanup runs after the platforms: the entity has moved to the charger's device by then, so
    removing the stale device does not take it (and the user's name for it) along.
    """
    entry = make_entry()
    entry.add_to_hass(hass)
    old = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "garage")}
    )
    kept = entity_registry.async_get_or_create(
        "sensor",
        DOMAIN,
        "charger1_session_state",
        config_entry=entry,
        config_subentry_id="charger1",
        device_id=old.id,
        suggested_object_id="my_garage_state",
    )

    await setup(hass, entry)

    assert device_registry.async_get(old.id) is None
    moved = entity_registry.async_get(kept.entity_id)
    assert moved is not None
    assert moved.entity_id == "sensor.my_garage_state"
    charger = device_registry.async_get_device_by_identifier((DOMAIN, "charger1"), entry.entry_id)
    assert charger is not None
    assert moved.device_id == charger.id
    assert hass.states.get("sensor.my_garage_state") is not None


async def test_user_deletes_only_devices_the_entry_no_longer_has(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Delete (device page) is refused for the premise, the charger and the vehicle.

    A device left over while the entry is loaded is deleted.
    """
    assert await async_setup_component(hass, "config", {})
    entry = make_entry()
    await setup(hass, entry)
    leftover = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "old-vehicle")}
    )
    client = await hass_ws_client(hass)

    for identifier in sorted(CURRENT):
        device = device_registry.async_get_device_by_identifier(identifier, entry.entry_id)
        assert device is not None
        assert await async_remove_config_entry_device(hass, entry, device) is False
        response = await client.remove_device(device.id)
        assert not response["success"], identifier
        assert device_registry.async_get(device.id) is not None

    assert await async_remove_config_entry_device(hass, entry, leftover) is True
    response = await client.remove_device(leftover.id)
    assert response["success"]
    assert device_registry.async_get(leftover.id) is None
    assert identifiers_of(device_registry, entry.entry_id) == CURRENT


async def test_utility_link_device_is_current_while_linked(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry
) -> None:
    """The utility link's device can be deleted only once the entry has no link."""
    linked = MockConfigEntry(
        domain=DOMAIN,
        data={**PREMISE, "utility": {"vtn_url": "https://vtn.example"}},
        options=OPTIONS,
        entry_id="linked",
    )
    linked.add_to_hass(hass)
    unlinked = MockConfigEntry(domain=DOMAIN, data=PREMISE, options=OPTIONS, entry_id="unlinked")
    unlinked.add_to_hass(hass)
    for entry, deletable in ((linked, False), (unlinked, True)):
        device = device_registry.async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={(DOMAIN, f"{entry.entry_id}_utility")},
        )
        assert await async_remove_config_entry_device(hass, entry, device) is deletable
