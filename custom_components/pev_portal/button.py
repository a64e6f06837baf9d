"""Button: charge now."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PevPortalConfigEntry
from .entity import ChargerEntity, async_add_charger_entities

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charge-now button per charger."""
    async_add_charger_entities(
        entry,
        async_add_entities,
        lambda coordinator, runtime: [ChargeNowButton(coordinator, runtime, "charge_now")],
    )


class ChargeNowButton(ChargerEntity, ButtonEntity):
    """Clear any pause and charge at full power now."""

    async def async_press(self) -> None:
        """Charge now."""
        await self.coordinator.async_charge_now(self.runtime)
