"""Binary sensors: plugged in, charging; the utility link's connection and fail-safe limit."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import EntityCategory
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PevPortalConfigEntry
from .core.session import SessionState
from .entity import ChargerEntity, UtilityEntity, async_add_charger_entities

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
    coordinator = entry.runtime_data
    if coordinator.link is not None:
        async_add_entities(
            [
                UtilityConnectionSensor(coordinator, "utility_connection"),
                FailsafeSensor(coordinator, "failsafe"),
            ]
        )


class PluggedSensor(ChargerEntity, BinarySensorEntity):
    """A vehicle is connected."""

    _attr_device_class = BinarySensorDeviceClass.PLUG
    follows_charger = True

    @property
    def is_on(self) -> bool:
        """True while a session is active."""
        return self.runtime.session is not None


class ChargingSensor(ChargerEntity, BinarySensorEntity):
    """Energy is flowing into a vehicle."""

    _attr_device_class = BinarySensorDeviceClass.BATTERY_CHARGING
    follows_charger = True

    @property
    def is_on(self) -> bool:
        """True while the session is charging."""
        session = self.runtime.session
        return session is not None and session.state is SessionState.CHARGING


class UtilityConnectionSensor(UtilityEntity, BinarySensorEntity):
    """Whether the utility's VTN answers."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    @property
    def is_on(self) -> bool:
        """True while the last exchange with the VTN succeeded."""
        link = self.coordinator.link
        return link is not None and link.state.connected

    @property
    def extra_state_attributes(self) -> dict[str, object]:
        """The last error, the time of the last contact and whether pushes arrive."""
        link = self.coordinator.link
        if link is None:
            return {}
        return {
            "last_error": link.state.last_error,
            "last_contact": link.state.last_contact.isoformat()
            if link.state.last_contact
            else None,
            "push": link.state.push_active,
        }


class FailsafeSensor(UtilityEntity, BinarySensorEntity):
    """Whether the utility's fail-safe limit holds the premise's chargers (the link is silent
    longer than the program's heartbeat, or the events were not read again since)."""

    @property
    def is_on(self) -> bool:
        """True while the fail-safe limit is in force."""
        link = self.coordinator.link
        return link is not None and link.failsafe.state().active

    @property
    def extra_state_attributes(self) -> dict[str, object]:
        """The limit in force, why, since and until when, and the program's rule."""
        link = self.coordinator.link
        if link is None:
            return {}
        # Not the last contact: it moves with every exchange (a state a minute in the recorder).
        return {k: v for k, v in link.failsafe.attributes().items() if k != "last_heard"}
