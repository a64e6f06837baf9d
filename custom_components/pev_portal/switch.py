"""Switches: charging enabled (the user's pause), opt-out of the event (per charger and per
vehicle), the demo's cable, and each vehicle's power feed (V2H/V2G, off by default)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity import EntityCategory
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import ChargerRuntime, PevPortalConfigEntry, PevPortalCoordinator
from .core.simulator import DemoCar, bidirectional_car
from .entity import (
    ChargerEntity,
    PevPortalEntity,
    VehicleEntity,
    VehicleSessionEntity,
    async_add_charger_entities,
)

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches of each charger."""

    def build(coordinator: PevPortalCoordinator, runtime: ChargerRuntime) -> list[SwitchEntity]:
        entities: list[SwitchEntity] = [
            ChargingEnabledSwitch(coordinator, runtime, "charging_enabled"),
            OptOutSwitch(coordinator, runtime, "opt_out"),
        ]
        if runtime.demo is not None:
            entities.append(DemoPlugSwitch(coordinator, runtime, "demo_plug"))
        return entities

    async_add_charger_entities(entry, async_add_entities, build)
    coordinator = entry.runtime_data
    for vehicle_id, vehicle in coordinator.vehicles.items():
        async_add_entities(
            [
                VehicleOptOutSwitch(coordinator, vehicle, "opt_out"),
                PowerFeedSwitch(coordinator, vehicle, "power_feed"),
            ],
            config_subentry_id=vehicle_id,
        )


class ChargingEnabledSwitch(ChargerEntity, SwitchEntity):
    """Off pauses charging (by the user) until switched on or 'charge now'.

    Unavailable while the charger is: the command could not reach it.
    """

    follows_charger = True

    @property
    def is_on(self) -> bool:
        """False while the user has paused charging."""
        return self.coordinator.charging_enabled(self.runtime)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Resume charging."""
        await self.coordinator.async_set_charging_enabled(self.runtime, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Pause charging."""
        await self.coordinator.async_set_charging_enabled(self.runtime, False)


class DemoPlugSwitch(ChargerEntity, SwitchEntity):
    """The demo car's cable: on plugs the simulated car in, off unplugs it.

    The demo car is the premise's own car when it has one (its default vehicle, or its only home
    vehicle): it reports that vehicle's PEV ID, so a homeowner trying the demo sees the car they
    added (vehicle IDs are generated from the name outside a utility program). Otherwise it
    reports the demo's own ID, ``PEV-DEMO-0001``. A bidirectional demo charger plugs the demo's
    bidirectional car (``bidirectional_car``: 60 kWh, 7.4 kW both ways, 0.85 round trip).
    """

    _attr_entity_category = EntityCategory.CONFIG

    def __init__(
        self, coordinator: PevPortalCoordinator, runtime: ChargerRuntime, key: str
    ) -> None:
        super().__init__(coordinator, runtime, key)
        assert runtime.demo is not None
        self.demo = runtime.demo
        self._parked = bidirectional_car() if self.demo.evse.bidirectional else DemoCar()

    @property
    def is_on(self) -> bool:
        """True while the demo car is plugged in."""
        return self.demo.evse.plugged

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Plug the demo car in."""
        if not self.demo.evse.plugged:
            if (own := self.coordinator.default_vehicle()) is not None:
                self._parked.pev_id = own.pev_id
            self.demo.evse.plug(self._parked)
        self.demo.step(dt_util.utcnow())

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Unplug the demo car."""
        car = self.demo.evse.unplug()
        if car is not None:
            self._parked = car
        self.demo.step(dt_util.utcnow())


class OptOutMixin(PevPortalEntity, SwitchEntity):
    """On: the session is opted out of the load-control events in force (not mandatory ones).

    Turning it on lifts their caps for this session; the reports say ``*_OPTED_OUT``. An opt-out
    cannot be taken back during the event (turning it off is refused).
    """

    @property
    def is_on(self) -> bool:
        """True while every event in force on the session is opted out of."""
        runtime = self.session_charger()
        return runtime is not None and self.coordinator.smart.opted_out_now(runtime)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """What opting out of the events in force costs, when their program says so."""
        runtime = self.session_charger()
        found = self.coordinator.smart.consequences(runtime) if runtime is not None else []
        return {"consequence": " ".join(found) or None}

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Opt out of the events in force (refused for a mandatory event, and with the
        consequence in the message when the program declares one: a switch cannot ask)."""
        runtime = self.session_charger()
        if runtime is None:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_session")
        self.coordinator.smart.opt_out(runtime)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """An opt-out holds until the event ends."""
        if self.is_on:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="opt_out_final")


class OptOutSwitch(ChargerEntity, OptOutMixin):
    """Opt the charger's session out of the events in force."""


class VehicleOptOutSwitch(VehicleSessionEntity, OptOutMixin):
    """Opt the vehicle's session (where it is plugged in) out of the events in force."""


class PowerFeedSwitch(VehicleEntity, SwitchEntity):
    """On: the vehicle's battery may feed the home and the grid while plugged in (V2H/V2G),
    down to its floor, when the price spread beats the losses and the wear
    (docs/power-feed.md). Off by default; stored with the vehicle's settings (a replan
    follows)."""

    @property
    def is_on(self) -> bool:
        """True while power feed is allowed for the vehicle."""
        return self.coordinator.smart.settings_of(self.vehicle).power_feed

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Allow power feed."""
        self.coordinator.smart.update_settings(self.vehicle, power_feed=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop power feed (charging only)."""
        self.coordinator.smart.update_settings(self.vehicle, power_feed=False)
