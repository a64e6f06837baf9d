"""Numbers per vehicle: the charge target (% of the battery when its capacity is known, else
kWh), and the power-feed settings (V2H/V2G, docs/power-feed.md): the state of charge never fed
below, the battery wear cost per kWh fed and the cycles it may feed a day."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charging.settings import VehicleSettings
from .coordinator import PevPortalConfigEntry, PevPortalCoordinator, Vehicle
from .core.planner_feed_types import DEFAULT_WEAR_COST_PER_KWH
from .entity import VehicleEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charge target and the power-feed numbers per vehicle."""
    coordinator = entry.runtime_data
    currency = coordinator.base_tariff.currency
    for vehicle_id, vehicle in coordinator.vehicles.items():
        async_add_entities(
            [
                ChargeTargetNumber(coordinator, vehicle, "charge_target"),
                *(FeedNumber(coordinator, vehicle, d, currency) for d in FEED_NUMBERS),
            ],
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


@dataclass(frozen=True, slots=True)
class FeedNumberDescription:
    """A power-feed setting shown as a number: its key, setting and range."""

    key: str
    setting: str  # the VehicleSettings field (and update_settings keyword)
    min_value: float
    max_value: float
    step: float
    unit: str | None  # the wear cost's: the program currency per kWh
    device_class: NumberDeviceClass | None = None


FEED_NUMBERS = (
    # The state of charge the battery never feeds below (the planner's floor).
    FeedNumberDescription(
        "power_feed_floor", "floor", 0, 100, 5, PERCENTAGE, NumberDeviceClass.BATTERY
    ),
    # What a kWh taken out of the battery costs in wear (unset: the documented default).
    FeedNumberDescription("battery_wear_cost", "wear_cost", 0, 1, 0.01, None),
    # Equivalent full cycles the battery may feed a day.
    FeedNumberDescription("power_feed_cycles", "cycles_per_day", 0, 5, 0.1, None),
)


class FeedNumber(VehicleEntity, NumberEntity):
    """A power-feed setting of the vehicle; a change is stored and the plan follows at once.

    The wear cost not set yet shows :data:`DEFAULT_WEAR_COST_PER_KWH` (what the planner uses).
    """

    _attr_mode = NumberMode.BOX
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(
        self,
        coordinator: PevPortalCoordinator,
        vehicle: Vehicle,
        description: FeedNumberDescription,
        currency: str,
    ) -> None:
        super().__init__(coordinator, vehicle, description.key)
        self.description = description
        self._attr_native_min_value = description.min_value
        self._attr_native_max_value = description.max_value
        self._attr_native_step = description.step
        self._attr_device_class = description.device_class
        self._attr_native_unit_of_measurement = (
            description.unit
            if description.setting != "wear_cost"
            else f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}"
        )

    @property
    def native_value(self) -> float:
        """The vehicle's setting (the wear cost's default until set)."""
        settings: VehicleSettings = self.coordinator.smart.settings_of(self.vehicle)
        value: float | None = getattr(settings, self.description.setting)
        return DEFAULT_WEAR_COST_PER_KWH if value is None else value

    async def async_set_native_value(self, value: float) -> None:
        """Change the setting (stored with the others; the plan follows at once)."""
        smart, value = self.coordinator.smart, float(value)
        match self.description.setting:
            case "floor":
                smart.update_settings(self.vehicle, floor=value)
            case "wear_cost":
                smart.update_settings(self.vehicle, wear_cost=value)
            case _:
                smart.update_settings(self.vehicle, cycles_per_day=value)
