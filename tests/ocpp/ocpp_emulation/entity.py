"""What lbbrhzn/ocpp's entities share: device, entity ID and unique ID rules.

sensor.py / number.py / switch.py / button.py (a37fed39d852d393312d107cf915fea546df5088): no
``has_entity_name``, no translation keys; the entity ID is set to ``<domain>.<slug of
"<cpid>_<key>">`` or, on a connector of a multi-connector charger,
``<domain>.<slug of "<cpid>_connector_<n>_<key>">``; connector entities sit on a device
``<cpid> Connector <n>`` (identifier ``<cpid>-conn<n>``) via the charger's device.
"""

from __future__ import annotations

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.util import slugify

from .central import CentralSystem
from .const import DATA_UPDATED, DOMAIN


def device_info(central: CentralSystem, cpid: str, connector_id: int | None) -> DeviceInfo:
    """The charger's device, or a connector's device via it.

    lbbrhzn passes ``via_device=(DOMAIN, cpid)``, deprecated in Home Assistant 2026.10 (logged
    for a custom integration until 2027.8, an error in tests): the same link by device ID.
    """
    if connector_id:
        return DeviceInfo(
            identifiers={(DOMAIN, f"{cpid}-conn{connector_id}")},
            name=f"{cpid} Connector {connector_id}",
            via_device_id=central.device_ids[cpid],
        )
    return DeviceInfo(identifiers={(DOMAIN, cpid)}, name=cpid)


def entity_id(domain: str, cpid: str, key: str, connector_id: int | None) -> str:
    object_id = f"{cpid}_connector_{connector_id}_{key}" if connector_id else f"{cpid}_{key}"
    return f"{domain}.{slugify(object_id)}"


class OcppEntity(Entity):
    """Pushed, never polled; refreshed on the ``ocpp_data_updated`` dispatcher signal."""

    _attr_has_entity_name = False
    _attr_should_poll = False
    _attr_icon = "mdi:ev-station"

    def __init__(self, central: CentralSystem, cpid: str) -> None:
        self.central = central
        self.cpid = cpid

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(async_dispatcher_connect(self.hass, DATA_UPDATED, self._refresh))

    @callback
    def _refresh(self, *_: object) -> None:
        self.async_write_ha_state()
