"""button.py of lbbrhzn/ocpp (a37fed39d852d393312d107cf915fea546df5088), emulated.

``Reset`` (charger level, hard reset) and ``Unlock`` (per connector; on the charger's device
for a single connector), both in the config category.
"""

from __future__ import annotations

from homeassistant.components.button import ButtonDeviceClass, ButtonEntity
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import EntityCategory
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .central import CentralSystem, charger_settings
from .const import DOMAIN
from .entity import OcppEntity, device_info, entity_id


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    central: CentralSystem = hass.data[DOMAIN][entry.entry_id]
    entities: list[ChargePointButton] = []
    for settings in charger_settings(entry).values():
        entities.append(ChargePointButton(central, settings.cpid, "reset", None, None))
        if settings.num_connectors > 1:
            entities += [
                ChargePointButton(central, settings.cpid, "unlock", conn, conn)
                for conn in range(1, settings.num_connectors + 1)
            ]
        else:
            entities.append(ChargePointButton(central, settings.cpid, "unlock", None, 1))
    async_add_entities(entities)


class ChargePointButton(OcppEntity, ButtonEntity):
    """button.py ChargePointButton."""

    _attr_entity_category = EntityCategory.CONFIG

    def __init__(
        self,
        central: CentralSystem,
        cpid: str,
        key: str,
        connector_id: int | None,
        op_connector_id: int | None,
    ) -> None:
        super().__init__(central, cpid)
        self.key = key
        self.op_connector_id = op_connector_id
        parts = ["button", DOMAIN, cpid, key]
        if connector_id:
            parts.insert(3, f"conn{connector_id}")
        self._attr_unique_id = ".".join(parts)
        self._attr_name = key.capitalize()
        self._attr_device_class = ButtonDeviceClass.RESTART if key == "reset" else None
        self._attr_device_info = device_info(central, cpid, connector_id)
        self.entity_id = entity_id("button", cpid, key, connector_id)

    @property
    def available(self) -> bool:
        return self.central.get_available(self.cpid, self.op_connector_id)

    async def async_press(self) -> None:
        handler = self.central.handler_for_service(self.cpid)
        if self.key == "reset":
            await handler.reset()
        else:
            await handler.unlock(self.op_connector_id or 1)
