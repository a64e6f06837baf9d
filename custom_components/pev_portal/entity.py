"""Base entities: one device per charger, one per vehicle, one per premise (and its utility link).

Entities acting on a session (the plan sensor, charge now, opt-out) exist on the charger's device
and on the vehicle's: :meth:`PevPortalEntity.session_charger` is the charger whose session they
act on (a charger entity: its charger; a vehicle entity: the charger the vehicle is plugged in
at, if any), so each such entity's logic is written once, as a mixin, for both.

A device's identifier is its subentry's ID (a charger or a vehicle), the entry's ID (the premise)
or the entry's ID with ``_utility`` (the utility link); :func:`current_device_identifiers` is the
set of those the entry has now, anything else of the entry's is stale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import CONF_UTILITY, DOMAIN, SUBENTRY_CHARGER, SUBENTRY_VEHICLE
from .coordinator import ChargerRuntime, PevPortalConfigEntry, PevPortalCoordinator, Vehicle


def utility_device_key(entry_id: str) -> str:
    """The identifier of a premise's utility-link device."""
    return f"{entry_id}_utility"


def current_device_identifiers(entry: PevPortalConfigEntry) -> set[tuple[str, str]]:
    """The identifiers of the devices the entry has now, from its data (loaded or not).

    The premise's device, the utility link's (while the entry has one), and one per charger or
    vehicle subentry.
    """
    keys = {entry.entry_id}
    if entry.data.get(CONF_UTILITY):
        keys.add(utility_device_key(entry.entry_id))
    keys.update(
        subentry.subentry_id
        for subentry in entry.subentries.values()
        if subentry.subentry_type in (SUBENTRY_CHARGER, SUBENTRY_VEHICLE)
    )
    return {(DOMAIN, key) for key in keys}


def async_add_charger_entities(
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[PevPortalCoordinator, ChargerRuntime], Sequence[Entity]],
) -> None:
    """Add the entities ``build`` makes for each charger, under the charger's subentry."""
    coordinator = entry.runtime_data
    for charger_id, runtime in coordinator.chargers.items():
        async_add_entities(build(coordinator, runtime), config_subentry_id=charger_id)


class PevPortalEntity(CoordinatorEntity[PevPortalCoordinator]):
    """An entity of PEV Portal; names are translated.

    Availability: an entity that mirrors a charger's live state, or commands the charger, sets
    :attr:`follows_charger` and is unavailable while its charger is (a mapped charger whose
    status entity is unavailable or missing; the demo charger always is available). These are
    Session state, Plugged in, Charging and Charging power (what the charger reports: while it
    is unavailable the last state seen would be shown as if it were true), Charging enabled and
    Charge now (their commands could not reach the charger), and a vehicle's Charging state and
    Charge now while it is plugged in at such a charger. Charging power also follows the power
    sensor it mirrors (:meth:`charger_available`).

    Everything computed from the premise's own ledger, tariff and plan stays available: session
    energy (the meter readings recorded), session cost, binding, billing party, price, tariff
    period, the plan, opt-out and the vehicle select. Their values remain true while the charger
    cannot be seen: the session stays open (and is metered on while its meter reads).
    """

    _attr_has_entity_name = True
    follows_charger: bool = False

    def session_charger(self) -> ChargerRuntime | None:
        """The charger whose session the entity acts on (None: not a session's entity)."""
        return None

    def charger_available(self, runtime: ChargerRuntime) -> bool:
        """Whether what the entity mirrors of the charger can be seen now."""
        return runtime.adapter.available()

    @property
    def available(self) -> bool:
        """Unavailable while a charger the entity follows is (see the class)."""
        if not super().available:
            return False
        if not self.follows_charger:
            return True
        runtime = self.session_charger()
        return runtime is None or self.charger_available(runtime)


class ChargerEntity(PevPortalEntity):
    """An entity on a charger's device."""

    def __init__(
        self, coordinator: PevPortalCoordinator, runtime: ChargerRuntime, key: str
    ) -> None:
        super().__init__(coordinator)
        self.runtime = runtime
        self._attr_translation_key = key
        self._attr_unique_id = f"{runtime.charger_id}_{key}"
        demo = runtime.demo is not None
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, runtime.charger_id)},
            name=runtime.name,
            manufacturer="PEV Portal" if demo else None,
            model="Demo charger" if demo else "Charger",
        )

    def session_charger(self) -> ChargerRuntime:
        """The entity's charger."""
        return self.runtime


class VehicleEntity(PevPortalEntity):
    """An entity on a vehicle's device."""

    def __init__(self, coordinator: PevPortalCoordinator, vehicle: Vehicle, key: str) -> None:
        super().__init__(coordinator)
        self.vehicle = vehicle
        self._attr_translation_key = key
        self._attr_unique_id = f"{vehicle.subentry_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, vehicle.subentry_id)},
            name=vehicle.name,
            model="Vehicle",
        )

    def session_charger(self) -> ChargerRuntime | None:
        """The charger the vehicle is plugged in at (its session's vehicle), if any."""
        smart = self.coordinator.smart
        return next(
            (
                runtime
                for runtime in self.coordinator.chargers.values()
                if (vehicle := smart.vehicle_of(runtime)) is not None
                and vehicle.subentry_id == self.vehicle.subentry_id
            ),
            None,
        )


class VehicleSessionEntity(VehicleEntity):
    """A vehicle entity acting on its session: unavailable while the vehicle is not plugged in."""

    @property
    def available(self) -> bool:
        """Available while the vehicle has a session on one of the premise's chargers."""
        return super().available and self.session_charger() is not None


class PremiseEntity(PevPortalEntity):
    """An entity of the whole premise (its own device, always present)."""

    def __init__(self, coordinator: PevPortalCoordinator, key: str) -> None:
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self._attr_translation_key = key
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name=entry.title,
            model="Premise",
            manufacturer="PEV Portal",
        )


class UtilityEntity(PevPortalEntity):
    """An entity of the premise's utility link (one device per premise)."""

    def __init__(self, coordinator: PevPortalCoordinator, key: str) -> None:
        super().__init__(coordinator)
        entry_id = coordinator.config_entry.entry_id
        self._attr_translation_key = key
        self._attr_unique_id = f"{entry_id}_utility_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, utility_device_key(entry_id))},
            name=f"{coordinator.config_entry.title} utility link",
            model="OpenADR 3.1 VEN",
            manufacturer="PEV Portal",
        )
