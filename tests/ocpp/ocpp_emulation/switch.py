"""switch.py of lbbrhzn/ocpp (a37fed39d852d393312d107cf915fea546df5088), emulated.

``Charge Control`` (per connector; flattened to the charger's device on a single-connector
charger): on = RemoteStartTransaction with the integration's own random tag, off =
RemoteStopTransaction; it reads on while the connector is Charging, SuspendedEVSE or
SuspendedEV. ``Availability`` (charger level): ChangeAvailability; on while the charger's
status is Available.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .central import CentralSystem, charger_settings
from .const import DOMAIN, STATUS, STATUS_CONNECTOR
from .entity import OcppEntity, device_info, entity_id

CHARGING_STATES = ("Charging", "SuspendedEVSE", "SuspendedEV")


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    central: CentralSystem = hass.data[DOMAIN][entry.entry_id]
    entities: list[SwitchEntity] = []
    for settings in charger_settings(entry).values():
        flatten = settings.num_connectors == 1
        entities += [
            ChargeControl(central, settings.cpid, conn, flatten)
            for conn in range(1, settings.num_connectors + 1)
        ]
        entities.append(Availability(central, settings.cpid))
    async_add_entities(entities)


class ChargeControl(OcppEntity, SwitchEntity):
    """switch.py ChargePointSwitch, key ``charge_control``."""

    def __init__(self, central: CentralSystem, cpid: str, connector_id: int, flatten: bool) -> None:
        super().__init__(central, cpid)
        self.connector_id = connector_id
        shown = None if flatten else connector_id
        parts = ["switch", DOMAIN, cpid]
        if shown:
            parts.append(f"conn{connector_id}")
        self._attr_unique_id = ".".join([*parts, "charge_control"])
        self._attr_name = "Charge Control"
        self._attr_device_info = device_info(central, cpid, shown)
        self.entity_id = entity_id("switch", cpid, "charge_control", shown)

    @property
    def available(self) -> bool:
        return self.central.get_available(self.cpid, self.connector_id)

    @property
    def is_on(self) -> bool:
        status = self.central.get_metric(self.cpid, STATUS_CONNECTOR, self.connector_id)
        return status in CHARGING_STATES

    async def async_turn_on(self, **kwargs: Any) -> None:
        handler = self.central.handler_for_service(self.cpid)
        await handler.start_transaction(self.connector_id)

    async def async_turn_off(self, **kwargs: Any) -> None:
        handler = self.central.handler_for_service(self.cpid)
        await handler.stop_transaction(self.connector_id)


class Availability(OcppEntity, SwitchEntity):
    """switch.py ChargePointSwitch, key ``availability`` (charger level)."""

    def __init__(self, central: CentralSystem, cpid: str) -> None:
        super().__init__(central, cpid)
        self._attr_unique_id = f"switch.{DOMAIN}.{cpid}.availability"
        self._attr_name = "Availability"
        self._attr_device_info = device_info(central, cpid, None)
        self.entity_id = entity_id("switch", cpid, "availability", None)

    @property
    def available(self) -> bool:
        return self.central.get_available(self.cpid, None)

    @property
    def is_on(self) -> bool:
        return self.central.get_metric(self.cpid, STATUS, 0) == "Available"

    async def _set(self, operative: bool) -> None:
        handler = self.central.handler_for_service(self.cpid)
        await handler.set_availability(operative)

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self._set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self._set(False)
