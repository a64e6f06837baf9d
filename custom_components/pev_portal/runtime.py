"""The premise's plain runtime state: its vehicles and chargers.

No behaviour beyond derivations: the parts (sessions, program events, smart charging, the
command controller) act on these objects; the entities read them through the coordinator.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import CALLBACK_TYPE

from .adapters import ChargerAdapter, DemoCharger, MeterAdapter
from .const import (
    CONF_CAPACITY,
    CONF_DEFAULT_VEHICLE,
    CONF_NAME,
    CONF_PEV_ID,
    CONF_RELATION,
    CONF_SOC_ENTITY,
    CONF_SOH_ENTITY,
    CONF_TAGS,
)
from .core.binding import Relation
from .core.metering import Interval, IntervalLedger, MeterReading
from .core.metering_feed import ReceivedRegister
from .core.session import ChargingSession
from .core.simulator import DemoCar, DemoEvse
from .core.summary import SessionSummary


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A registered vehicle (a config subentry)."""

    subentry_id: str
    pev_id: str
    name: str
    relation: Relation
    capacity_kwh: float | None
    default_target: float | None
    tags: tuple[str, ...]
    default: bool
    soc_entity: str | None = None
    soh_entity: str | None = None  # the battery's state of health (%), from the car

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> Vehicle:
        """Build from a vehicle subentry."""
        data = subentry.data
        tags = data.get(CONF_TAGS) or ()
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",") if t.strip()]
        return cls(
            subentry_id=subentry.subentry_id,
            pev_id=data[CONF_PEV_ID],
            name=data.get(CONF_NAME) or subentry.title,
            relation=Relation(data.get(CONF_RELATION, Relation.HOME)),
            capacity_kwh=data.get(CONF_CAPACITY),
            default_target=data.get("default_target"),
            tags=tuple(tags),
            default=bool(data.get(CONF_DEFAULT_VEHICLE)),
            soc_entity=data.get(CONF_SOC_ENTITY) or None,
            soh_entity=data.get(CONF_SOH_ENTITY) or None,
        )


@dataclass(slots=True)
class OfflineSpan:
    """A session resumed after a restart, on the charger's register (offline_energy): the
    ledger's last reading before it, the transaction it belonged to (its ID, its start), the
    register as restored at the start (unchanged: no news) and the first changed reading,
    held until the charger's transaction registers vouch for it or not."""

    last: MeterReading
    transaction: tuple[str | None, str | None]
    restored: MeterReading | None = None
    held: MeterReading | None = None


@dataclass(slots=True)
class ChargerRuntime:
    """One charger of the premise: its adapters, active session and ledger."""

    charger_id: str
    name: str
    adapter: ChargerAdapter
    meter: MeterAdapter
    demo: DemoCharger | None = None
    session: ChargingSession | None = None
    ledger: IntervalLedger | None = None
    # The meter's received register in the session (power feed; None: the meter has none).
    received: ReceivedRegister | None = None
    intervals: list[Interval] = field(default_factory=list)
    last_session: ChargingSession | None = None
    last_summary: SessionSummary | None = None
    last_reading: tuple[datetime, float, str] | None = None
    preselected_pev: str | None = None
    last_saved: datetime | None = None
    last_report: datetime | None = None
    # The load-control limit in force on the session (kW, None: none), as last applied by the
    # command controller: what the entities and the card show.
    cap_kw: float | None = None
    connection: str = "PREMISE_AC_L2"
    dirty: bool = False
    unsubscribers: list[CALLBACK_TYPE] = field(default_factory=list)
    availability: tuple[bool, bool] | None = None  # (charger, its power), as entities last saw
    unavailable_logged: bool = False
    offline: OfflineSpan | None = None  # the time Home Assistant was down, until decided
    # The meter's latest readings (time, kWh, meter ID): a command's result when the charger
    # has no power sensor (see sessions.meter_power_kw).
    readings: deque[tuple[datetime, float, str]] = field(default_factory=lambda: deque(maxlen=64))

    @property
    def current(self) -> ChargingSession | None:
        """The active session, else the last one."""
        return self.session or self.last_session


def with_end(interval: Interval, end: datetime) -> Interval:
    """The interval cut at ``end``."""
    return replace(interval, end=end)


def demo_meta(runtime: ChargerRuntime) -> dict[str, Any]:
    """The demo charger's state as its meta row (none for a real charger)."""
    if runtime.demo is None:
        return {}
    evse = runtime.demo.evse
    car = evse.car
    state = {
        "register_kwh": evse.register_kwh,
        "enabled": evse.enabled,
        "current_limit_a": evse.current_limit_a,
        # Power feed: the received register and the discharge current it was told.
        "discharged_kwh": evse.discharged_kwh,
        "discharge_a": evse.discharge_a,
        "car": ({f.name: getattr(car, f.name) for f in fields(DemoCar)} if car else None),
    }
    return {f"demo:{runtime.charger_id}": state}


def demo_evse(bidirectional: bool) -> DemoEvse:
    """The demo charger's EVSE, no car yet: 16 A on three phases (11 kW); bidirectional
    (power feed): 32 A on one phase, 7.4 kW both ways (its demo car's, ``bidirectional_car``)."""
    if bidirectional:
        return DemoEvse(
            max_current_a=32, phases=1, current_limit_a=32, car=None, bidirectional=True
        )
    return DemoEvse(car=None)


def restore_demo(evse: DemoEvse, saved: dict[str, Any]) -> None:
    """The demo charger's state from its meta row (``demo_meta``; older rows lack the power
    feed's fields: none fed, no feed told, a one-way car)."""
    evse.register_kwh = float(saved.get("register_kwh", 0.0))
    evse.enabled = bool(saved.get("enabled", True))
    evse.current_limit_a = int(saved.get("current_limit_a", evse.max_current_a))
    evse.discharged_kwh = float(saved.get("discharged_kwh", 0.0))
    evse.discharge_a = int(saved.get("discharge_a", 0)) if evse.bidirectional else 0
    if car := saved.get("car"):
        known = {f.name for f in fields(DemoCar)}
        evse.car = DemoCar(**{k: v for k, v in car.items() if k in known})
