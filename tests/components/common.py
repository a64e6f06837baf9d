"""Helpers shared by the Home Assistant tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.pev_portal.coordinator import PevPortalCoordinator


def state(hass: HomeAssistant, entity_id: str) -> str:
    """The state of an entity that must exist."""
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found.state


def attrs(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    """The attributes of an entity that must exist."""
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return dict(found.attributes)


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Move time forward in 5-second ticks, letting the demo charger run."""
    remaining = seconds
    while remaining > 0:
        step = min(5.0, remaining)
        freezer.tick(timedelta(seconds=step))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        remaining -= step


async def setup(hass: HomeAssistant, entry: MockConfigEntry) -> PevPortalCoordinator:
    """Add and set up an entry; return its coordinator."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    coordinator: PevPortalCoordinator = entry.runtime_data
    return coordinator
