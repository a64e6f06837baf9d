"""Time: each vehicle's departure (the plan has the vehicle ready by its next occurrence)."""

from __future__ import annotations

from datetime import time

from homeassistant.components.time import TimeEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PevPortalConfigEntry
from .entity import VehicleEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a departure time per vehicle."""
    coordinator = entry.runtime_data
    for vehicle_id, vehicle in coordinator.vehicles.items():
        async_add_entities(
            [DepartureTime(coordinator, vehicle, "departure")], config_subentry_id=vehicle_id
        )


class DepartureTime(VehicleEntity, TimeEntity):
    """When the vehicle leaves (local time, every day; 07:00 by default)."""

    @property
    def native_value(self) -> time:
        """The departure time."""
        return self.coordinator.smart.settings_of(self.vehicle).departure

    async def async_set_value(self, value: time) -> None:
        """Change the departure (the plan follows at once)."""
        self.coordinator.smart.update_settings(self.vehicle, departure=value)
