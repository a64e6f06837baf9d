"""Binary sensors: plugged in, charging."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PevPortalConfigEntry
from .core.session import SessionState
from .entity import ChargerEntity, async_add_charger_entities

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of each charger."""
    async_add_charger_entities(
        entry,
        async_add_entities,
        lambda coordinator, runtime: [
            PluggedSensor(coordinator, runtime, "plugged"),
            ChargingSensor(coordinator, runtime, "charging"),
        ],
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
