"""Selects: which vehicle is (or will be) on the charger, and each vehicle's charge mode."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CHARGE_MODES, DOMAIN, SELECT_AUTO
from .coordinator import PevPortalConfigEntry
from .core.planner import ChargeMode
from .core.session import VehicleSource
from .entity import ChargerEntity, VehicleEntity, async_add_charger_entities

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a vehicle select per charger."""
    async_add_charger_entities(
        entry,
        async_add_entities,
        lambda coordinator, runtime: [VehicleSelect(coordinator, runtime, "vehicle")],
    )
    coordinator = entry.runtime_data
    for vehicle_id, vehicle in coordinator.vehicles.items():
        async_add_entities(
            [ChargeModeSelect(coordinator, vehicle, "charge_mode")],
            config_subentry_id=vehicle_id,
        )


class VehicleSelect(ChargerEntity, SelectEntity):
    """The vehicle on the charger; choosing one assigns it to the session or the next one."""

    @property
    def options(self) -> list[str]:
        """'auto' and every registered vehicle's name."""
        return [SELECT_AUTO, *(v.name for v in self.coordinator.vehicles.values())]

    @property
    def current_option(self) -> str | None:
        """The session's vehicle, else the preselected one, else 'auto'."""
        session = self.runtime.session
        pev_id = session.pev_id if session is not None else self.runtime.preselected_pev
        vehicle = self.coordinator.vehicle_by_pev_id(pev_id)
        return vehicle.name if vehicle is not None else SELECT_AUTO

    async def async_select_option(self, option: str) -> None:
        """Assign the chosen vehicle."""
        if option == SELECT_AUTO:
            if self.runtime.session is None:
                self.coordinator.assign_vehicle(self.runtime, None, VehicleSource.SELECT)
            return
        vehicle = next((v for v in self.coordinator.vehicles.values() if v.name == option), None)
        if vehicle is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_vehicle",
                translation_placeholders={"vehicle": option},
            )
        self.coordinator.assign_vehicle(self.runtime, vehicle.pev_id, VehicleSource.SELECT)


class ChargeModeSelect(VehicleEntity, SelectEntity):
    """How the vehicle charges: at once, cheapest by the departure, on solar, or not at all.

    ``solar`` plans like ``cheapest`` while no solar forecast is configured.
    """

    _attr_options = CHARGE_MODES

    @property
    def current_option(self) -> str:
        """The vehicle's charge mode."""
        return self.coordinator.smart.settings_of(self.vehicle).mode.value

    async def async_select_option(self, option: str) -> None:
        """Change the charge mode (the plan follows at once)."""
        self.coordinator.smart.update_settings(self.vehicle, mode=ChargeMode(option))
