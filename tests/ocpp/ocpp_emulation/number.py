"""number.py of lbbrhzn/ocpp (a37fed39d852d393312d107cf915fea546df5088), emulated.

``Maximum Current``: 0 A to the entry's ``max_current`` (default 32 A), step 1, in A, starting
at the maximum; restored after a restart. One station-wide number (connector 0) on a
single-connector charger, one per connector otherwise. Setting it calls set_charge_rate; a
refusal puts the last accepted value back and raises. Available only while the charger is
connected and reports the SmartCharging profile.
"""

from __future__ import annotations

from homeassistant.components.number import NumberMode, RestoreNumber
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import UnitOfElectricCurrent
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .central import CentralSystem, charger_settings
from .const import DOMAIN, SMART
from .entity import OcppEntity, device_info, entity_id

KEY = "maximum_current"


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    central: CentralSystem = hass.data[DOMAIN][entry.entry_id]
    entities: list[ChargePointNumber] = []
    for settings in charger_settings(entry).values():
        if settings.num_connectors > 1:
            entities += [
                ChargePointNumber(central, settings.cpid, settings.max_current, conn, conn)
                for conn in range(1, settings.num_connectors + 1)
            ]
        else:
            entities.append(
                ChargePointNumber(central, settings.cpid, settings.max_current, None, 0)
            )
    async_add_entities(entities)


class ChargePointNumber(OcppEntity, RestoreNumber):
    """number.py ChargePointNumber."""

    _attr_native_min_value = 0
    _attr_native_step = 1
    _attr_native_unit_of_measurement = UnitOfElectricCurrent.AMPERE
    _attr_mode = NumberMode.AUTO

    def __init__(
        self,
        central: CentralSystem,
        cpid: str,
        max_current: int,
        connector_id: int | None,
        op_connector_id: int,
    ) -> None:
        super().__init__(central, cpid)
        self.connector_id = connector_id
        self.op_connector_id = op_connector_id
        parts = ["number", DOMAIN, cpid, KEY]
        if connector_id:
            parts.insert(3, f"conn{connector_id}")
        self._attr_unique_id = ".".join(parts)
        self._attr_name = "Maximum Current"
        self._attr_device_info = device_info(central, cpid, connector_id)
        self.entity_id = entity_id("number", cpid, KEY, connector_id)
        self._attr_native_max_value = float(max_current)
        self._attr_native_value = float(max_current)
        self._confirmed: float | None = None

    @property
    def available(self) -> bool:
        return bool(
            self.central.get_available(self.cpid, self.op_connector_id)
            and self.central.get_supported_features(self.cpid) & SMART
        )

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if restored := await self.async_get_last_number_data():
            self._attr_native_value = restored.native_value
            self._confirmed = restored.native_value

    async def async_set_native_value(self, value: float) -> None:
        target = float(value)
        self._attr_native_value = target
        self.async_write_ha_state()
        try:
            ok = await self.central.set_max_charge_rate_amps(
                self.cpid, target, self.op_connector_id
            )
        except Exception as err:
            self._revert()
            raise HomeAssistantError(f"set charge rate failed: {err}") from err
        if not ok:
            self._revert()
            raise HomeAssistantError(f"charger did not accept {target:.1f} A")
        self._confirmed = target

    def _revert(self) -> None:
        self._attr_native_value = self._confirmed
        self.async_write_ha_state()
