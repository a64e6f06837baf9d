"""Number: each vehicle's charge target (% of the battery when its capacity is known, else kWh)."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import PERCENTAGE, UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import PevPortalConfigEntry, PevPortalCoordinator, Vehicle
from .entity import VehicleEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charge target per vehicle."""
    coordinator = entry.runtime_data
    for vehicle_id, vehicle in coordinator.vehicles.items():
        async_add_entities(
            [ChargeTargetNumber(coordinator, vehicle, "charge_target")],
            config_subentry_id=vehicle_id,
        )


class ChargeTargetNumber(VehicleEntity, NumberEntity):
    """The charge target: a state of charge in % (capacity known) or the energy to add in kWh."""

    _attr_mode = NumberMode.BOX

    def __init__(self, coordinator: PevPortalCoordinator, vehicle: Vehicle, key: str) -> None:
        super().__init__(coordinator, vehicle, key)
        if vehicle.capacity_kwh:
            # A target state of charge, as Renault's charge_limit_target (Home Assistant core).
            self._attr_device_class = NumberDeviceClass.BATTERY
            self._attr_native_unit_of_measurement = PERCENTAGE
            self._attr_native_min_value = 0
            self._attr_native_max_value = 100
            self._attr_native_step = 1
        else:
            self._attr_device_class = NumberDeviceClass.ENERGY
            self._attr_native_unit_of_measurement = UnitOfEnergy.KILO_WATT_HOUR
            self._attr_native_min_value = 0
            self._attr_native_max_value = 200
            self._attr_native_step = 0.5

    @property
    def native_value(self) -> float | None:
        """The target (unknown until set: charge to full)."""
        return self.coordinator.smart.settings_of(self.vehicle).target

    async def async_set_native_value(self, value: float) -> None:
        """Change the target (the plan follows at once)."""
        self.coordinator.smart.update_settings(self.vehicle, target=value)
