"""sensor.py of lbbrhzn/ocpp (a37fed39d852d393312d107cf915fea546df5088), emulated.

One sensor per metric: the charger-level ones, then per connector the configured measurands
(``monitored_variables``) and the connector's status, transaction and session metrics. Units
come from the metric (kWh, kW, A...) or, before any value, from the device class. Sensors
restore their last value after a restart and show it until the charge point sends a new one.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import EntityCategory
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .central import CentralSystem, charger_settings
from .const import (
    CHARGER_ONLY,
    CONNECTOR_ONLY,
    DOMAIN,
    ERROR_CODE_CONNECTOR,
    HEARTBEAT,
    SESSION_TIME,
    STATUS_CONNECTOR,
    metric_key,
    sensor_unique_id,
)
from .entity import OcppEntity, device_info, entity_id

# const.py DEFAULT_CLASS_UNITS_HA: the unit before the charger reported one.
DEFAULT_CLASS_UNITS = {
    SensorDeviceClass.CURRENT: "A",
    SensorDeviceClass.VOLTAGE: "V",
    SensorDeviceClass.FREQUENCY: "Hz",
    SensorDeviceClass.BATTERY: "%",
    SensorDeviceClass.POWER: "kW",
    SensorDeviceClass.ENERGY: "kWh",
    SensorDeviceClass.TEMPERATURE: "°C",
}


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    central: CentralSystem = hass.data[DOMAIN][entry.entry_id]
    entities: list[ChargePointMetric] = []
    for settings in charger_settings(entry).values():
        measurands = sorted(m.strip() for m in settings.monitored_variables.split(",") if m.strip())
        entities += [
            ChargePointMetric(central, settings.cpid, metric, None, diagnostic=True)
            for metric in CHARGER_ONLY
        ]
        connectors: list[int | None] = (
            list(range(1, settings.num_connectors + 1)) if settings.num_connectors > 1 else [None]
        )
        for connector in connectors:
            entities += [
                ChargePointMetric(
                    central,
                    settings.cpid,
                    metric,
                    connector,
                    diagnostic=metric in (STATUS_CONNECTOR, ERROR_CODE_CONNECTOR),
                )
                for metric in [*measurands, *CONNECTOR_ONLY]
            ]
    async_add_entities(entities)


class ChargePointMetric(OcppEntity, RestoreSensor):
    """sensor.py ChargePointMetric."""

    def __init__(
        self,
        central: CentralSystem,
        cpid: str,
        metric: str,
        connector_id: int | None,
        *,
        diagnostic: bool,
    ) -> None:
        super().__init__(central, cpid)
        self.metric = metric
        self.connector_id = connector_id
        key = metric_key(metric)
        self._attr_unique_id = sensor_unique_id(cpid, metric, connector_id)
        self._attr_name = metric.replace(".", " ")
        self._attr_device_info = device_info(central, cpid, connector_id)
        self.entity_id = entity_id("sensor", cpid, key, connector_id)
        self._attr_entity_category = EntityCategory.DIAGNOSTIC if diagnostic else None
        self._attr_device_class = self._device_class()
        self._attr_state_class = self._state_class()

    def _device_class(self) -> SensorDeviceClass | None:
        """sensor.py device_class: by the metric's name."""
        name = self.metric.lower()
        if name.startswith("current."):
            return SensorDeviceClass.CURRENT
        if name.startswith("voltage"):
            return SensorDeviceClass.VOLTAGE
        if name.startswith("energy.r"):
            return None
        if name.startswith("energy"):
            return SensorDeviceClass.ENERGY
        if name.startswith("frequency"):
            return SensorDeviceClass.FREQUENCY
        if name.startswith(("power.a", "power.o")):
            return SensorDeviceClass.POWER
        if name.startswith("temperature"):
            return SensorDeviceClass.TEMPERATURE
        if name.startswith("soc"):
            return SensorDeviceClass.BATTERY
        if self.metric == HEARTBEAT:
            return None  # a timestamp in lbbrhzn; a plain string is enough here
        return None

    def _state_class(self) -> SensorStateClass | None:
        """sensor.py state_class: energy is total_increasing (Energy.Session included)."""
        if self._attr_device_class is SensorDeviceClass.ENERGY:
            return SensorStateClass.TOTAL_INCREASING
        if self._attr_device_class is not None or self.metric == SESSION_TIME:
            return SensorStateClass.MEASUREMENT
        return None

    @property
    def available(self) -> bool:
        return self.central.get_available(self.cpid, self.connector_id)

    @property
    def native_value(self) -> Any:
        """The metric, else the last value shown (restored after a restart)."""
        value = self.central.get_metric(self.cpid, self.metric, self.connector_id)
        if value is not None:
            self._attr_native_value = value
        return self._attr_native_value

    @property
    def native_unit_of_measurement(self) -> str | None:
        unit = self.central.get_ha_unit(self.cpid, self.metric, self.connector_id)
        if unit is None and self._attr_device_class is not None:
            unit = DEFAULT_CLASS_UNITS.get(self._attr_device_class)
        self._attr_native_unit_of_measurement = unit
        return unit

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        return self.central.get_extra_attr(self.cpid, self.metric, self.connector_id)

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if restored := await self.async_get_last_sensor_data():
            self._attr_native_value = restored.native_value
            self._attr_native_unit_of_measurement = restored.native_unit_of_measurement
