"""Sensors: session state, binding, billing party, energy, cost, price, period, power."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import EntityCategory
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .adapters import ChargerAdapter
from .coordinator import ChargerRuntime, PevPortalConfigEntry, PevPortalCoordinator
from .core.binding import BillingParty, BindingOutcome
from .core.enrollment import EnrollmentState
from .core.session import SessionState
from .event_types import EXPORT_CAP, EXPORT_KINDS, EXPORT_PRICE, describe
from .openadr.enrollment import ACTIVE as ENROLLMENT_ACTIVE
from .openadr.enrollment import PENDING as ENROLLMENT_PENDING
from .settlement_view import by_event

if TYPE_CHECKING:
    from .openadr.timeline import TimelineEntry
    from .utility import UtilityLink

from .entity import (
    ChargerEntity,
    PevPortalEntity,
    PremiseEntity,
    UtilityEntity,
    VehicleEntity,
    VehicleSessionEntity,
    async_add_charger_entities,
)

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChargerSensorDescription(SensorEntityDescription):
    """How a charger sensor reads its value."""

    value: Callable[[PevPortalCoordinator, ChargerRuntime], StateType]
    attributes: Callable[[PevPortalCoordinator, ChargerRuntime], dict[str, Any]] | None = None
    # What must be available for the value to be true (None: the ledger's, always available).
    follows: Callable[[ChargerAdapter], bool] | None = None


def _session_state(_: PevPortalCoordinator, runtime: ChargerRuntime) -> str:
    return runtime.session.state.value if runtime.session else SessionState.UNPLUGGED.value


def _outcome(_: PevPortalCoordinator, runtime: ChargerRuntime) -> str | None:
    current = runtime.current
    return current.decision.outcome.value if current else None


def _billing(_: PevPortalCoordinator, runtime: ChargerRuntime) -> str | None:
    current = runtime.current
    return current.billing_party.value if current and current.bound else None


def _energy(_: PevPortalCoordinator, runtime: ChargerRuntime) -> float | None:
    current = runtime.current
    return round(current.meter_kwh, 3) if current else None


def _energy_attrs(coordinator: PevPortalCoordinator, runtime: ChargerRuntime) -> dict[str, Any]:
    current = runtime.current
    if current is None:
        return {}
    diff = current.charger_difference_kwh
    return {
        "session_id": current.session_id,
        "charger_reported_kwh": (
            round(current.charger_kwh, 3) if current.charger_kwh is not None else None
        ),
        "difference_kwh": round(diff, 3) if diff is not None else None,
        "interval_count": len(runtime.intervals),
        "meter_id": runtime.meter.meter_id,
    }


def _cost(coordinator: PevPortalCoordinator, runtime: ChargerRuntime) -> float | None:
    summary = coordinator.live_summary(runtime)
    return float(summary.cost.total) if summary else None


def _cost_attrs(coordinator: PevPortalCoordinator, runtime: ChargerRuntime) -> dict[str, Any]:
    summary = coordinator.live_summary(runtime)
    if summary is None:
        return {}
    data = summary.to_dict()
    return {
        "cost_by_period": data["cost_by_period"],
        "kwh_by_period": data["kwh_by_period"],
        "program_rate": summary.program_rate,
        "data_quality": summary.data_quality.value,
    }


def _price(coordinator: PevPortalCoordinator, runtime: ChargerRuntime) -> float:
    return float(coordinator.tariff_of(runtime).price_at(dt_util.utcnow()).price)


def _price_attrs(coordinator: PevPortalCoordinator, runtime: ChargerRuntime) -> dict[str, Any]:
    segment = coordinator.tariff_of(runtime).price_at(dt_util.utcnow())
    event = coordinator.active_event()
    if event is not None and event["kind"] in EXPORT_KINDS:
        event = None  # the power feed's: not an event of the import price
    return {
        "period": segment.period,
        "until": segment.end.isoformat(),
        "active_event": event["name"] if event else None,
    }


def _period(coordinator: PevPortalCoordinator, runtime: ChargerRuntime) -> str:
    return coordinator.tariff_of(runtime).price_at(dt_util.utcnow()).period


def _power(_: PevPortalCoordinator, runtime: ChargerRuntime) -> float | None:
    power = runtime.adapter.power_kw()
    return round(power, 3) if power is not None else None


CHARGER_SENSORS: tuple[ChargerSensorDescription, ...] = (
    ChargerSensorDescription(
        key="session_state",
        translation_key="session_state",
        device_class=SensorDeviceClass.ENUM,
        options=[s.value for s in SessionState],
        value=_session_state,
        follows=lambda adapter: adapter.available(),
    ),
    ChargerSensorDescription(
        key="binding_outcome",
        translation_key="binding_outcome",
        device_class=SensorDeviceClass.ENUM,
        options=[o.value for o in BindingOutcome],
        value=_outcome,
    ),
    ChargerSensorDescription(
        key="billing_party",
        translation_key="billing_party",
        device_class=SensorDeviceClass.ENUM,
        options=[p.value for p in BillingParty],
        value=_billing,
    ),
    ChargerSensorDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        # No state class: the charger's long-term statistic ``pev_portal:<charger>_energy``
        # (statistics.py) is the one statistic per charger the Energy dashboard offers; a
        # per-session figure as a statistic too would be counted twice.
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value=_energy,
        attributes=_energy_attrs,
    ),
    ChargerSensorDescription(
        key="session_cost",
        translation_key="session_cost",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value=_cost,
        attributes=_cost_attrs,
    ),
    ChargerSensorDescription(
        key="current_price",
        translation_key="current_price",
        # Shown in cents with a price history, as Home Assistant's Nord Pool integration does
        # (home-assistant/core homeassistant/components/nordpool/sensor.py, 0e1c6059).
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value=_price,
        attributes=_price_attrs,
    ),
    ChargerSensorDescription(
        key="tariff_period",
        translation_key="tariff_period",
        # The current price has the period as an attribute; this one is for automations.
        entity_registry_enabled_default=False,
        value=_period,
    ),
    ChargerSensorDescription(
        key="charging_power",
        translation_key="charging_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=2,
        value=_power,
        follows=lambda adapter: adapter.power_available(),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of each charger and vehicle."""
    currency = entry.runtime_data.base_tariff.currency
    async_add_charger_entities(
        entry,
        async_add_entities,
        lambda coordinator, runtime: [
            *(ChargerSensor(coordinator, runtime, d, currency) for d in CHARGER_SENSORS),
            PlanSensor(coordinator, runtime, "plan"),
        ],
    )
    coordinator = entry.runtime_data
    async_add_entities([EventPerformanceSensor(coordinator, "last_event_performance")])
    if coordinator.link is not None:
        async_add_entities(UtilitySensor(coordinator, d) for d in UTILITY_SENSORS)
    for vehicle_id, vehicle in coordinator.vehicles.items():
        async_add_entities(
            [
                VehicleStateSensor(coordinator, vehicle, "vehicle_state"),
                VehiclePlanSensor(coordinator, vehicle, "plan"),
                FedEnergySensor(coordinator, vehicle, "fed_energy_month"),
                # Cycles are the battery's: only with its capacity.
                *(
                    [FeedCyclesSensor(coordinator, vehicle, "feed_cycles")]
                    if vehicle.capacity_kwh
                    else []
                ),
            ],
            config_subentry_id=vehicle_id,
        )
        if coordinator.commissioning is not None:
            async_add_entities(
                [CommissioningSensor(coordinator, vehicle, "commissioning")],
                config_subentry_id=vehicle_id,
            )


class ChargerSensor(ChargerEntity, SensorEntity):
    """A sensor of a charger."""

    entity_description: ChargerSensorDescription

    def __init__(
        self,
        coordinator: PevPortalCoordinator,
        runtime: ChargerRuntime,
        description: ChargerSensorDescription,
        currency: str,
    ) -> None:
        super().__init__(coordinator, runtime, description.key)
        self.entity_description = description
        self.follows_charger = description.follows is not None
        if description.key == "session_cost":
            self._attr_native_unit_of_measurement = currency
        elif description.key == "current_price":
            self._attr_native_unit_of_measurement = f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}"

    def charger_available(self, runtime: ChargerRuntime) -> bool:
        """Whether what the sensor mirrors (the charger, or its power sensor) can be seen."""
        follows = self.entity_description.follows
        return follows is None or follows(runtime.adapter)

    @property
    def native_value(self) -> StateType:
        """The sensor's value."""
        return self.entity_description.value(self.coordinator, self.runtime)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details beside the value."""
        if self.entity_description.attributes is None:
            return None
        return self.entity_description.attributes(self.coordinator, self.runtime)


class VehicleStateSensor(VehicleEntity, SensorEntity):
    """Where a vehicle is: charging, plugged in somewhere, or not connected.

    Unavailable while the charger it is plugged in at is.
    """

    follows_charger = True

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [s.value for s in SessionState if s is not SessionState.COMPLETED]

    @property
    def native_value(self) -> str:
        """The state of the vehicle's active session."""
        runtime = self.session_charger()
        if runtime is None or runtime.session is None:
            return SessionState.UNPLUGGED.value
        return runtime.session.state.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The charger and session it is on."""
        runtime = self.session_charger()
        if runtime is None or runtime.session is None:
            return {"charger": None, "session_id": None}
        return {"charger": runtime.name, "session_id": runtime.session.session_id}


# -- the utility link ---------------------------------------------------------------------


def _entry_attrs(entry: TimelineEntry, currency: str | None = None) -> dict[str, Any]:
    """An entry's details; an export event's (power feed) in its own ``export_*`` fields and
    said in ``description`` ("Export price 0.25 EUR/kWh", "Export limit 3.0 kW")."""
    export_price = float(entry.export_price) if entry.export_price is not None else None
    return {
        "event_id": entry.event_id,
        "program_id": entry.program_id,
        "kind": entry.kind,
        "start": entry.start.isoformat(),
        "end": entry.end.isoformat(),
        "price": float(entry.price) if entry.price is not None else None,
        "cap_kw": entry.cap_kw,
        "level": entry.level,
        "export_price": export_price,
        "export_limit_kw": entry.export_kw,
        "description": describe(entry.kind, export_price, entry.export_kw, currency),
        "priority": entry.priority,
    }


def _active(link: UtilityLink) -> TimelineEntry | None:
    """The entry in force (charging's before the power feed's, then by priority)."""
    active = sorted(
        link.timeline.active(dt_util.utcnow()),
        key=lambda e: (e.kind in (EXPORT_CAP, EXPORT_PRICE), e.priority),
    )
    return active[0] if active else None


def _label(link: UtilityLink, entry: TimelineEntry) -> str:
    """The entry's name, else what it is (an export event), else its event's ID."""
    return (
        entry.name or _entry_attrs(entry, link.timeline.currency)["description"] or (entry.event_id)
    )


@dataclass(frozen=True, kw_only=True)
class UtilitySensorDescription(SensorEntityDescription):
    """How a utility-link sensor reads its value."""

    value: Callable[[UtilityLink], StateType | datetime]
    attributes: Callable[[UtilityLink], dict[str, Any]] | None = None


def _program(link: UtilityLink) -> str | None:
    names = [p.name for p in link.state.programs]
    return ", ".join(names) if names else None


def _active_name(link: UtilityLink) -> str | None:
    entry = _active(link)
    return _label(link, entry) if entry is not None else None


def _active_attrs(link: UtilityLink) -> dict[str, Any]:
    entry = _active(link)
    return _entry_attrs(entry, link.timeline.currency) if entry is not None else {}


def _next_start(link: UtilityLink) -> datetime | None:
    entry = link.timeline.next(dt_util.utcnow())
    return entry.start if entry is not None else None


def _next_attrs(link: UtilityLink) -> dict[str, Any]:
    entry = link.timeline.next(dt_util.utcnow())
    if entry is None:
        return {}
    return {"name": entry.name, **_entry_attrs(entry, link.timeline.currency)}


def _utility_price(link: UtilityLink) -> float | None:
    prices = [e for e in link.timeline.active(dt_util.utcnow()) if e.price is not None]
    if not prices:
        return None
    return float(min(prices, key=lambda e: e.priority).price or 0)


UTILITY_SENSORS: tuple[UtilitySensorDescription, ...] = (
    UtilitySensorDescription(
        key="program",
        translation_key="program",
        value=_program,
        attributes=lambda link: {"programs": [p.name for p in link.state.programs]},
    ),
    UtilitySensorDescription(
        key="active_event",
        translation_key="active_event",
        value=_active_name,
        attributes=_active_attrs,
    ),
    UtilitySensorDescription(
        key="next_event",
        translation_key="next_event",
        device_class=SensorDeviceClass.TIMESTAMP,
        value=_next_start,
        attributes=_next_attrs,
    ),
    UtilitySensorDescription(
        key="utility_price",
        translation_key="utility_price",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value=_utility_price,
    ),
    UtilitySensorDescription(
        key="outbox_backlog",
        translation_key="outbox_backlog",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        value=lambda link: link.state.backlog,
    ),
    UtilitySensorDescription(
        key="enrollment",
        translation_key="enrollment",
        device_class=SensorDeviceClass.ENUM,
        options=[ENROLLMENT_ACTIVE, ENROLLMENT_PENDING],
        value=lambda link: link.state.enrollment,
        attributes=lambda link: {"missing_programs": list(link.state.missing_programs)},
    ),
    UtilitySensorDescription(
        key="dead_letters",
        translation_key="dead_letters",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        value=lambda link: link.state.dead_letters,
    ),
    UtilitySensorDescription(
        key="last_report_ack",
        translation_key="last_report_ack",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value=lambda link: link.state.last_ack,
    ),
)


class UtilitySensor(UtilityEntity, SensorEntity):
    """A sensor of the utility link."""

    entity_description: UtilitySensorDescription

    def __init__(
        self, coordinator: PevPortalCoordinator, description: UtilitySensorDescription
    ) -> None:
        super().__init__(coordinator, description.key)
        self.entity_description = description
        if description.key == "utility_price":
            currency = coordinator.base_tariff.currency
            self._attr_native_unit_of_measurement = f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}"

    @property
    def native_value(self) -> StateType | datetime:
        """The sensor's value."""
        link = self.coordinator.link
        return self.entity_description.value(link) if link is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details beside the value."""
        link = self.coordinator.link
        if link is None or self.entity_description.attributes is None:
            return None
        return self.entity_description.attributes(link)


class PlanSensorMixin(PevPortalEntity, SensorEntity):
    """The session's charging plan: its start, with the slots, cost and ready-by beside."""

    _attr_device_class = SensorDeviceClass.TIMESTAMP

    @property
    def native_value(self) -> datetime | None:
        """When the plan starts charging (unknown without a session or planned charging)."""
        runtime = self.session_charger()
        plan = self.coordinator.plan_for(runtime) if runtime is not None else None
        start = plan.get("start") if plan else None
        return datetime.fromisoformat(start) if start else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The plan: mode, slots, end, cost, departure, ready-by, reachable, reason."""
        runtime = self.session_charger()
        plan = (self.coordinator.plan_for(runtime) if runtime is not None else None) or {}
        trail = self.coordinator.smart.audit_for(runtime) if runtime is not None else []
        return {
            key: plan.get(key)
            for key in (
                "mode",
                "end",
                "cost",
                "departure",
                "ready_by",
                "target_kwh",
                "reachable",
                "reason",
                "slots",
            )
        } | {"last_command": trail[-1] if trail else None}


class PlanSensor(ChargerEntity, PlanSensorMixin):
    """The plan of the charger's session (whichever vehicle, also a guest's or an unknown one)."""


class VehiclePlanSensor(VehicleSessionEntity, PlanSensorMixin):
    """The plan of the vehicle's session, on the charger it is plugged in at."""


class EventPerformanceSensor(PremiseEntity, SensorEntity):
    """The last event's delivered reduction (kWh, its sessions added up); the rest of its
    performance (baselines, compliance, shift, target, estimated credit) as attributes."""

    _attr_native_unit_of_measurement = UnitOfEnergy.KILO_WATT_HOUR
    _attr_suggested_display_precision = 2

    def _last(self) -> dict[str, Any] | None:
        events = by_event(self.coordinator.settlement.performances())
        return events[0] if events else None

    @property
    def native_value(self) -> float | None:
        """The delivered reduction of the last event settled."""
        last = self._last()
        return last["delivered_kwh"] if last is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The rest of its performance."""
        last = self._last()
        if last is None:
            return None
        attributes = {k: v for k, v in last.items() if k not in ("name", "delivered_kwh")}
        attributes["event_name"] = last["name"]
        return attributes


class CommissioningSensor(VehicleEntity, SensorEntity):
    """The vehicle's enrollment in the program (the first configured one it has), with its
    running or last commissioning test; every program's state under ``programs``."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [s.value for s in EnrollmentState]

    def _records(self) -> list[tuple[str, Any]]:
        commissioning = self.coordinator.commissioning
        if commissioning is None:
            return []
        return commissioning.vehicle_records(self.vehicle.pev_id)

    @property
    def native_value(self) -> str:
        """The enrollment's state (pending while the VEN sees no program yet)."""
        records = self._records()
        return records[0][1].enrollment.state.value if records else EnrollmentState.PENDING.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The program, why and since when, and the test (its measured response)."""
        records = self._records()
        if not records:
            return {"program": None, "programs": {}}
        program, record = records[0]
        enrollment, test = record.enrollment, record.test
        attributes: dict[str, Any] = {
            "program": program,
            "programs": {name: r.enrollment.state.value for name, r in records},
            "since": enrollment.since.isoformat() if enrollment.since else None,
            "reason": enrollment.reason,
        }
        if test is not None:
            result = test.result
            attributes.update(
                test_source=test.source,
                test_start=test.start.isoformat(),
                test_end=test.end.isoformat(),
                test_limit_kw=test.limit_kw,
                test_power_before_kw=test.before_kw,
                test_passed=result.passed if result else None,
                test_response_s=result.response_s if result else None,
                test_power_after_kw=result.max_kw_after if result else None,
                test_reason=result.reason if result else None,
            )
        return attributes


class FedEnergySensor(VehicleEntity, SensorEntity):
    """The energy the vehicle fed back this (local) month, as metered (power feed); the total
    since metering began in its attributes."""

    # No state class: the Energy dashboard must not offer it as a device's consumption (as the
    # session energy sensor; the charger's energy statistic is the one to pick).
    _attr_device_class = SensorDeviceClass.ENERGY
    _attr_native_unit_of_measurement = UnitOfEnergy.KILO_WATT_HOUR
    _attr_suggested_display_precision = 2

    @property
    def native_value(self) -> float:
        """kWh fed back this month."""
        return self.coordinator.battery_use(self.vehicle.subentry_id)["fed_kwh_month"]

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The energy fed back in all."""
        return {
            "total_kwh": self.coordinator.battery_use(self.vehicle.subentry_id)["fed_kwh_total"]
        }


class FeedCyclesSensor(VehicleEntity, SensorEntity):
    """The battery's equivalent full cycles spent feeding back, as metered (the energy fed over
    the discharge efficiency over the capacity)."""

    _attr_state_class = SensorStateClass.TOTAL_INCREASING
    _attr_suggested_display_precision = 2

    @property
    def native_value(self) -> float:
        """Equivalent full cycles fed."""
        return self.coordinator.battery_use(self.vehicle.subentry_id)["cycles"]
