"""Buttons: charge now, on each charger and on each vehicle (where it is plugged in); a
vehicle's commissioning test (with a utility link)."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import PevPortalConfigEntry
from .entity import (
    ChargerEntity,
    PevPortalEntity,
    VehicleSessionEntity,
    async_add_charger_entities,
)

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a charge-now button per charger and per vehicle."""
    async_add_charger_entities(
        entry,
        async_add_entities,
        lambda coordinator, runtime: [ChargeNowButton(coordinator, runtime, "charge_now")],
    )
    coordinator = entry.runtime_data
    for vehicle_id, vehicle in coordinator.vehicles.items():
        async_add_entities(
            [VehicleChargeNowButton(coordinator, vehicle, "charge_now")],
            config_subentry_id=vehicle_id,
        )
        if coordinator.commissioning is not None:
            async_add_entities(
                [CommissioningTestButton(coordinator, vehicle, "start_commissioning_test")],
                config_subentry_id=vehicle_id,
            )


class ChargeNowMixin(PevPortalEntity, ButtonEntity):
    """Clear any pause and charge at full power now.

    Unavailable while the session's charger is: the command could not reach it.
    """

    follows_charger = True

    async def async_press(self) -> None:
        """Charge now."""
        runtime = self.session_charger()
        if runtime is None:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_session")
        await self.coordinator.async_charge_now(runtime)


class ChargeNowButton(ChargerEntity, ChargeNowMixin):
    """Charge now on the charger."""


class VehicleChargeNowButton(VehicleSessionEntity, ChargeNowMixin):
    """Charge now on the charger the vehicle is plugged in at."""


class CommissioningTestButton(VehicleSessionEntity, ButtonEntity):
    """Start a local commissioning test of the vehicle (a program whose COMMISSIONING_TEST is
    LOCAL). Available while the vehicle is plugged in; the action says why it cannot start."""

    follows_charger = True

    async def async_press(self) -> None:
        """Start the test."""
        await self.coordinator.async_start_commissioning_test(self.vehicle)
