"""Binary sensors: plugged in, charging."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import SUBENTRY_CHARGER
from .coordinator import PevPortalConfigEntry
from .core.session import SessionState
from .entity import ChargerEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of each charger."""
    coordinator = entry.runtime_data
    for subentry_id, subentry in entry.subentries.items():
        if subentry.subentry_type == SUBENTRY_CHARGER:
            runtime = coordinator.chargers[subentry_id]
            async_add_entities(
                [
                    PluggedSensor(coordinator, runtime, "plugged"),
                    ChargingSensor(coordinator, runtime, "charging"),
                ],
                config_subentry_id=subentry_id,
            )


class PluggedSensor(ChargerEntity, BinarySensorEntity):
    """A vehicle is connected."""

    _attr_device_class = BinarySensorDeviceClass.PLUG

    @property
    def is_on(self) -> bool:
        """True while a session is active."""
        return self.runtime.session is not None


class ChargingSensor(ChargerEntity, BinarySensorEntity):
    """Energy is flowing into a vehicle."""

    _attr_device_class = BinarySensorDeviceClass.BATTERY_CHARGING

    @property
    def is_on(self) -> bool:
        """True while the session is charging."""
        session = self.runtime.session
        return session is not None and session.state is SessionState.CHARGING
