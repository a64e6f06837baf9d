"""Button: charge now."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import SUBENTRY_CHARGER
from .coordinator import PevPortalConfigEntry
from .entity import ChargerEntity

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charge-now button per charger."""
    coordinator = entry.runtime_data
    for subentry_id, subentry in entry.subentries.items():
        if subentry.subentry_type == SUBENTRY_CHARGER:
            async_add_entities(
                [ChargeNowButton(coordinator, coordinator.chargers[subentry_id], "charge_now")],
                config_subentry_id=subentry_id,
            )


class ChargeNowButton(ChargerEntity, ButtonEntity):
    """Clear any pause and charge at full power now."""

    async def async_press(self) -> None:
        """Charge now."""
        await self.coordinator.async_charge_now(self.runtime)
