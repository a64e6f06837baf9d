"""The one place where the core, the adapters and Home Assistant meet.

Data flows one way: meter and charger readings -> session and interval ledger -> entity states;
the ledger is written to the durable store before anything is shown or reported.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from . import repairs, zigbee
from .adapters import ChargerAdapter, DemoCharger, EntityCharger, MeterAdapter, SensorMeter
from .charging import SmartCharging
from .const import (
    CHARGER_TYPE_DEMO,
    CHECKPOINT_SECONDS,
    CONF_CAPACITY,
    CONF_CHARGER_NAME,
    CONF_CHARGER_TYPE,
    CONF_DEFAULT_PRICE,
    CONF_DEFAULT_VEHICLE,
    CONF_ENERGY_ENTITY,
    CONF_INTERVAL_MINUTES,
    CONF_METER_ENTITY,
    CONF_METER_SOURCE,
    CONF_NAME,
    CONF_PEV_ID,
    CONF_PREMISE_ID,
    CONF_RELATION,
    CONF_SOC_ENTITY,
    CONF_TAGS,
    CONF_TARIFF,
    CONF_UTILITY,
    CONF_VALIDATION_WINDOW,
    DEFAULT_INTERVAL_MINUTES,
    DEFAULT_PRICE,
    DEFAULT_VALIDATION_WINDOW,
    DOMAIN,
    EVENT_SESSION_BOUND,
    EVENT_SESSION_ENDED,
    EVENT_SESSION_STARTED,
    METER_MIN_SPAN_SECONDS,
    METER_QUIET_MAX_SECONDS,
    METER_SETTLE_SECONDS,
    METER_SOURCE_CHARGER,
    METER_SOURCE_DEMO,
    METER_SOURCE_ZHA,
    METER_VERIFY_SECONDS,
    STORE_FILENAME,
    SUBENTRY_CHARGER,
    SUBENTRY_VEHICLE,
    TAG_MEMORY_SECONDS,
    TICK_SECONDS,
)
from .core.binding import (
    PENDING_DECISION,
    BindingDecision,
    Relation,
    ValidationAnswer,
    decide,
    decide_local,
)
from .core.metering import Anomaly, Interval, IntervalLedger
from .core.session import (
    ChargerStatus,
    ChargingSession,
    PauseReason,
    SessionState,
    VehicleSource,
)
from .core.simulator import DemoCar, DemoEvse
from .core.summary import SessionSummary, summarize, tariff_for
from .core.tariff import CppEvent, FlatTariff, OverlayTariff, Tariff, tariff_from_dict
from .io.store import AsyncLedgerStore, LedgerStore
from .notifications import Notifier
from .openadr.models import event_mandatory, opt_out_consequence
from .statistics import async_record_session
from .texts import async_texts, text

if TYPE_CHECKING:
    from .utility import UtilityLink

_LOGGER = logging.getLogger(__name__)

type PevPortalConfigEntry = ConfigEntry[PevPortalCoordinator]


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
        )


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
    intervals: list[Interval] = field(default_factory=list)
    last_session: ChargingSession | None = None
    last_summary: SessionSummary | None = None
    last_reading: tuple[datetime, float, str] | None = None
    preselected_pev: str | None = None
    last_saved: datetime | None = None
    last_report: datetime | None = None
    cap_kw: float | None = None
    connection: str = "PREMISE_AC_L2"
    dirty: bool = False
    unsubscribers: list[CALLBACK_TYPE] = field(default_factory=list)
    availability: tuple[bool, bool] | None = None  # (charger, its power), as entities last saw
    unavailable_logged: bool = False
    # The meter's latest readings (time, kWh, meter ID): a command's result when the charger
    # has no power sensor (see meter_power_kw).
    readings: deque[tuple[datetime, float, str]] = field(default_factory=lambda: deque(maxlen=64))

    @property
    def current(self) -> ChargingSession | None:
        """The active session, else the last one."""
        return self.session or self.last_session


class PevPortalCoordinator(DataUpdateCoordinator[None]):
    """Runs the premise: its chargers, vehicles, tariff and durable ledger."""

    config_entry: PevPortalConfigEntry

    def __init__(self, hass: HomeAssistant, entry: PevPortalConfigEntry) -> None:
        super().__init__(hass, _LOGGER, config_entry=entry, name=DOMAIN)
        self.premise_id: str = entry.data[CONF_PREMISE_ID]
        options = {**entry.data, **entry.options}
        self.interval_minutes: int = int(
            options.get(CONF_INTERVAL_MINUTES, DEFAULT_INTERVAL_MINUTES)
        )
        self.validation_window: float = float(
            options.get(CONF_VALIDATION_WINDOW, DEFAULT_VALIDATION_WINDOW)
        )
        self.base_tariff: Tariff = tariff_from_dict(options[CONF_TARIFF])
        self.default_tariff: Tariff = FlatTariff(
            self.base_tariff.currency,
            Decimal(str(options.get(CONF_DEFAULT_PRICE, DEFAULT_PRICE))),
        )
        self.program_tariff: Tariff = self.base_tariff
        self._local_overlays: list[CppEvent] = []
        self._tariffs: dict[str | None, Tariff] = {}
        self.link: UtilityLink | None = None
        self.opted_out: set[str] = set()
        self._stopped = False
        self._boundary_unsub: CALLBACK_TYPE | None = None
        self.local_events: list[dict[str, Any]] = []
        self.store = AsyncLedgerStore(Path(hass.config.path(STORE_FILENAME)))
        self.chargers: dict[str, ChargerRuntime] = {}
        self.vehicles: dict[str, Vehicle] = {}
        self._last_tag: tuple[str, datetime] | None = None
        self._missing_entities = False
        self._started = False  # Home Assistant runs: availability is logged from then on
        self._price_marker: tuple[Any, ...] | None = None
        self._unsubscribers: list[CALLBACK_TYPE] = []
        self.smart = SmartCharging(self)
        self.notifier = Notifier(self, options)  # notifications

    # -- life cycle ---------------------------------------------------------------------

    async def async_start(self) -> None:
        """Open the store, build the chargers, resume open sessions and start listening."""
        await self.store.open()
        for subentry in self.config_entry.subentries.values():
            if subentry.subentry_type == SUBENTRY_VEHICLE:
                vehicle = Vehicle.from_subentry(subentry)
                self.vehicles[vehicle.subentry_id] = vehicle
        for subentry in self.config_entry.subentries.values():
            if subentry.subentry_type == SUBENTRY_CHARGER:
                self.chargers[subentry.subentry_id] = await self._build_charger(subentry)
        self.local_events = await self.store.call(
            lambda s: s.local_events(dt_util.utcnow() - timedelta(days=1))
        )
        if utility := self.config_entry.data.get(CONF_UTILITY):
            from .utility import UtilityLink

            self.link = UtilityLink(self.hass, self, dict(utility), dict(self.config_entry.options))
        await self.smart.async_load()
        self._rebuild_program_tariff()
        await self._resume_sessions()
        self.config_entry.async_on_unload(async_at_started(self.hass, self.smart.async_park_idle))
        for runtime in self.chargers.values():
            runtime.unsubscribers.append(
                runtime.adapter.async_listen(self._charger_callback(runtime))
            )
            runtime.unsubscribers.append(
                runtime.meter.async_listen_readings(self._reading_callback(runtime))
            )
            reading = runtime.meter.reading()
            if reading is not None:
                self._on_reading(runtime, reading[0], reading[1], runtime.meter.meter_id)
            self._on_charger(runtime)
        self._unsubscribers.append(
            async_track_time_interval(self.hass, self._tick, timedelta(seconds=TICK_SECONDS))
        )
        self._unsubscribers.append(self.hass.bus.async_listen("tag_scanned", self._on_tag))
        if soc_entities := [v.soc_entity for v in self.vehicles.values() if v.soc_entity]:
            self._unsubscribers.append(
                async_track_state_change_event(self.hass, soc_entities, self._on_soc_change)
            )
        self._unsubscribers.append(async_at_started(self.hass, self._async_check_entities))
        if (esi_stop := zigbee.async_setup_esi(self)) is not None:
            self._unsubscribers.append(esi_stop)
        if self.link is not None:
            await self.link.async_start()
        self.smart.schedule()
        self.async_set_updated_data(None)

    @callback
    def _on_soc_change(self, _event: Event[EventStateChangedData]) -> None:
        """A vehicle's battery sensor changed: the energy it still wants did too."""
        self.smart.schedule()

    async def _async_check_entities(self, _hass: HomeAssistant) -> None:
        """Once Home Assistant runs (every integration loaded), report missing entities.

        A charger unavailable since start-up is logged now: before, its integration may simply
        not have loaded yet.
        """
        self._started = True
        self._check_entities(log=True)
        repairs.async_clear_stale(self.hass, self.config_entry.entry_id, set(self.chargers))
        for runtime in self.chargers.values():
            self._follow_availability(runtime)

    def _check_entities(self, log: bool) -> None:
        self._missing_entities = False
        for runtime in self.chargers.values():
            needed = runtime.adapter.entity_ids()
            if isinstance(runtime.meter, SensorMeter) and runtime.meter.entity_id not in needed:
                needed.append(runtime.meter.entity_id)
            missing = repairs.async_check_entities(
                self.hass, self.config_entry.entry_id, runtime.charger_id, runtime.name, needed
            )
            if missing:
                self._missing_entities = True
                if log:
                    _LOGGER.warning(
                        "Charger %s: entities %s do not exist; its sessions are not metered",
                        runtime.name,
                        ", ".join(missing),
                    )

    async def async_stop(self) -> None:
        """Make everything durable and close the store (once: at unload or at shutdown)."""
        if self._stopped:
            return
        self._stopped = True
        self.smart.stop()
        if self.link is not None:
            await self.link.async_stop()
        if self._boundary_unsub is not None:
            self._boundary_unsub()
            self._boundary_unsub = None
        for unsub in self._unsubscribers:
            unsub()
        self._unsubscribers.clear()
        for runtime in self.chargers.values():
            for unsub in runtime.unsubscribers:
                unsub()
            runtime.unsubscribers.clear()
            if runtime.session is not None:
                self.schedule_save(runtime)
            elif runtime.demo is not None:
                self._save_demo(runtime)
        await self.store.close()

    async def _build_charger(self, subentry: ConfigSubentry) -> ChargerRuntime:
        data = dict(subentry.data)
        name = data.get(CONF_CHARGER_NAME) or subentry.title
        charger_id = subentry.subentry_id
        if data.get(CONF_CHARGER_TYPE) == CHARGER_TYPE_DEMO:
            evse = DemoEvse(car=None)
            saved = await self.store.call(lambda s: s.get_meta(f"demo:{charger_id}"))
            if saved:
                evse.register_kwh = float(saved.get("register_kwh", 0.0))
                evse.enabled = bool(saved.get("enabled", True))
                evse.current_limit_a = int(saved.get("current_limit_a", evse.max_current_a))
                if saved.get("car"):
                    evse.car = DemoCar(**saved["car"])
            demo = DemoCharger(evse, meter_id=f"DEMO-METER-{charger_id[-6:].upper()}")
            meter: MeterAdapter = demo
            if data.get(CONF_METER_SOURCE, METER_SOURCE_DEMO) != METER_SOURCE_DEMO:
                meter = self._sensor_meter(data)
            return ChargerRuntime(charger_id, name, demo, meter, demo=demo)
        adapter = EntityCharger(self.hass, data)
        if data.get(CONF_METER_SOURCE) == METER_SOURCE_ZHA:
            from .zigbee.meter import ZhaMeter

            zha = ZhaMeter.from_config(self, charger_id, name, data)
            return ChargerRuntime(charger_id, name, adapter, zha)
        return ChargerRuntime(charger_id, name, adapter, self._sensor_meter(data))

    def _sensor_meter(self, data: dict[str, Any]) -> SensorMeter:
        if data.get(CONF_METER_SOURCE) == METER_SOURCE_CHARGER:
            entity_id = data[CONF_ENERGY_ENTITY]
        else:
            entity_id = data[CONF_METER_ENTITY]
        return SensorMeter(self.hass, entity_id, self._meter_id(entity_id))

    def _meter_id(self, entity_id: str) -> str:
        """The meter's ID: its device's serial number when known, else the entity ID."""
        entry = er.async_get(self.hass).async_get(entity_id)
        if entry is not None and entry.device_id:
            device = dr.async_get(self.hass).async_get(entry.device_id)
            serial = getattr(device, "serial_number", None)
            if serial:
                return str(serial)
        return entity_id

    async def _resume_sessions(self) -> None:
        stored = await self.store.call(lambda s: s.open_sessions())
        for row in stored:
            if row.data.get("premise_id") != self.premise_id:
                continue  # another premise's session (the store is shared by all entries)
            runtime = self.chargers.get(row.charger_id)
            if runtime is None:
                _LOGGER.warning("Open session %s of a removed charger is closed", row.session_id)
                session = ChargingSession.from_dict(row.data)
                session.update_charger(ChargerStatus.UNPLUGGED, None, dt_util.utcnow())
                await self.store.call(partial(_save_closed, session.to_dict()))
                continue
            runtime.session = ChargingSession.from_dict(row.data)
            runtime.ledger = (
                IntervalLedger.restore(row.ledger) if row.ledger else self._new_ledger(runtime)
            )
            runtime.intervals = await self.store.call(
                partial(LedgerStore.intervals, session_id=row.session_id)
            )
            _LOGGER.info(
                "Resumed session %s on %s with %d intervals",
                row.session_id,
                runtime.name,
                len(runtime.intervals),
            )
        for runtime in self.chargers.values():
            if runtime.session is None:
                last = await self.store.call(
                    partial(LedgerStore.recent_sessions, limit=1, charger_id=runtime.charger_id)
                )
                if last:
                    runtime.last_session = ChargingSession.from_dict(last[0].data)
                    intervals = await self.store.call(
                        partial(LedgerStore.intervals, session_id=last[0].session_id)
                    )
                    runtime.last_summary = self._summarize(runtime.last_session, intervals)

    def _new_ledger(self, runtime: ChargerRuntime) -> IntervalLedger:
        return IntervalLedger(
            interval_minutes=self.interval_minutes,
            premise_id=self.premise_id,
            meter_id=runtime.meter.meter_id,
        )

    # -- tariffs and events -------------------------------------------------------------

    def _rebuild_program_tariff(self) -> None:
        self._local_overlays = [
            CppEvent(e["start"], e["end"], Decimal(str(e["price"])), e.get("name") or "event")
            for e in self.local_events
            if e["kind"] == "price"
        ]
        self._tariffs.clear()
        self.program_tariff = self.program_tariff_for(None)

    def program_tariff_for(self, pev_id: str | None) -> Tariff:
        """The program tariff with local price events and the utility's prices for a PEV."""
        if pev_id in self._tariffs:
            return self._tariffs[pev_id]
        overlays = list(self._local_overlays)
        if self.link is not None:
            overlays.extend(self.link.timeline.price_overlays(pev_id))
        tariff = OverlayTariff(self.base_tariff, overlays) if overlays else self.base_tariff
        self._tariffs[pev_id] = tariff
        return tariff

    @callback
    def async_timeline_changed(self) -> None:
        """The utility's events changed: new prices and caps take effect now."""
        self._rebuild_program_tariff()
        for runtime in self.chargers.values():
            self.apply_caps(runtime)
        self._schedule_boundary()
        self.smart.schedule()
        self.async_update_listeners()

    async def async_add_local_event(
        self,
        kind: str,
        start: datetime,
        end: datetime,
        *,
        price: float | None = None,
        limit_kw: float | None = None,
        name: str | None = None,
    ) -> str:
        """Add a local price or load-control event (programs without a utility link)."""
        if end <= start:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="event_end_before_start"
            )
        if kind == "price" and price is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="event_needs_price"
            )
        if kind == "load_control" and limit_kw is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="event_needs_limit"
            )
        event_id = uuid.uuid4().hex
        if not name:  # named after its kind, in Home Assistant's language
            name = text(await async_texts(self.hass), f"local_event_name_{kind}", default=kind)
        data: dict[str, Any] = {"name": name, "price": price, "limit_kw": limit_kw}
        start_utc, end_utc = dt_util.as_utc(start), dt_util.as_utc(end)
        await self.store.call(lambda s: s.add_local_event(event_id, kind, start_utc, end_utc, data))
        self.local_events.append(
            {"event_id": event_id, "kind": kind, "start": start_utc, "end": end_utc, **data}
        )
        self.local_events.sort(key=lambda e: e["start"])
        self._rebuild_program_tariff()
        self.smart.schedule()
        self.async_set_updated_data(None)
        return event_id

    def active_event(self, now: datetime | None = None) -> dict[str, Any] | None:
        """The event in force now: a local one, else the utility's (lowest priority number)."""
        now = now or dt_util.utcnow()
        for event in self.local_events:
            if event["start"] <= now < event["end"]:
                # The premise's own load-control events may be opted out of (price ones not).
                return {**event, "opt_out_allowed": event["kind"] == "load_control"}
        if self.link is not None:
            active = sorted(self.link.timeline.active(now), key=lambda e: e.priority)
            if active:
                return self._utility_event(active[0])
        return None

    def next_event(self, now: datetime | None = None) -> dict[str, Any] | None:
        """The next event to start, local or the utility's."""
        now = now or dt_util.utcnow()
        found = [e for e in self.local_events if e["start"] > now]
        if self.link is not None and (entry := self.link.timeline.next(now)) is not None:
            found.append(self._utility_event(entry))
        return min(found, key=lambda e: e["start"]) if found else None

    def _utility_event(self, entry: Any) -> dict[str, Any]:
        """A utility timeline entry in the shape of a local event (for entities and the card)."""
        assert self.link is not None
        event = self.link.state.events.get(entry.event_id)
        program = next(
            (p for p in self.link.state.programs if event and p.id == event.program_id), None
        )
        mandatory = event is None or event_mandatory(event, program)
        consequence = opt_out_consequence(event, program) if event is not None else None
        return {
            "event_id": entry.event_id,
            "kind": "price" if entry.price is not None else "load_control",
            "name": entry.name or entry.label,
            "start": entry.start,
            "end": entry.end,
            "price": float(entry.price) if entry.price is not None else None,
            "limit_kw": entry.cap_kw,
            "level": entry.level,
            "source": "utility",
            "opt_out_allowed": entry.price is None and not mandatory,
            "opt_out_consequence": consequence,
        }

    def tariff_of(self, runtime: ChargerRuntime) -> Tariff:
        """The tariff the charger's session is priced on (the program's when idle)."""
        if runtime.session is None:
            return self.program_tariff
        return tariff_for(
            runtime.session,
            self.program_tariff_for(runtime.session.pev_id),
            self.default_tariff,
        )

    # -- vehicles -----------------------------------------------------------------------

    def vehicle_by_pev_id(self, pev_id: str | None) -> Vehicle | None:
        """The registered vehicle with this PEV ID."""
        if pev_id is None:
            return None
        return next((v for v in self.vehicles.values() if v.pev_id == pev_id), None)

    def default_vehicle(self) -> Vehicle | None:
        """The vehicle marked default, else the only home vehicle."""
        marked = [v for v in self.vehicles.values() if v.default]
        if marked:
            return marked[0]
        home = [v for v in self.vehicles.values() if v.relation is Relation.HOME]
        return home[0] if len(home) == 1 else None

    def _identify(self, runtime: ChargerRuntime, now: datetime) -> tuple[str | None, VehicleSource]:
        """Identify the vehicle at plug-in: charger ID, NFC tag, select, default; else unknown."""
        if (reported := runtime.adapter.vehicle_id()) is not None:
            return reported, VehicleSource.CHARGER
        if self._last_tag is not None:
            tag, scanned = self._last_tag
            if (now - scanned).total_seconds() <= TAG_MEMORY_SECONDS:
                vehicle = next((v for v in self.vehicles.values() if tag in v.tags), None)
                if vehicle is not None:
                    self._last_tag = None
                    return vehicle.pev_id, VehicleSource.TAG
        if runtime.preselected_pev is not None:
            return runtime.preselected_pev, VehicleSource.SELECT
        if (default := self.default_vehicle()) is not None:
            return default.pev_id, VehicleSource.DEFAULT
        return None, VehicleSource.UNKNOWN

    async def _async_validate(self, runtime: ChargerRuntime, session: ChargingSession) -> None:
        """Ask the utility about the PEV and apply its answer, or its absence (req 30)."""
        assert self.link is not None
        pev_id = session.pev_id
        vehicle = self.vehicle_by_pev_id(pev_id)
        registered = vehicle is not None and vehicle.relation is Relation.HOME
        answer: ValidationAnswer | None = None
        failure: str | None = "the vehicle could not be identified"
        if pev_id is not None:
            energy, departure = self.smart.energy_request(runtime)
            answer, failure = await self.link.async_validate(
                pev_id=pev_id,
                max_power_kw=runtime.adapter.max_power_kw(),
                connection=runtime.connection,
                energy_request_kwh=energy,
                departure=departure,
                window=self.validation_window,
            )
        if runtime.session is not session or not session.active:
            return  # unplugged meanwhile, or re-identified: a newer validation decides
        decision = decide(
            answer, registered_here=registered, utility_id=self.link.utility_id, failure=failure
        )
        self._bind(runtime, decision, dt_util.utcnow())
        self._rebuild_program_tariff()
        self.apply_caps(runtime)

    def cap_for(self, runtime: ChargerRuntime, at: datetime | None = None) -> float | None:
        """The utility's power cap on the charger's session now (None: no cap)."""
        session = runtime.session
        if self.link is None or session is None or self.smart.opted_out_now(runtime, at):
            return None
        return self.link.timeline.cap_kw(
            session.pev_id,
            at or dt_util.utcnow(),
            runtime.adapter.max_power_kw(),
            runtime.adapter.min_power_kw(),
        )

    @callback
    def apply_caps(self, runtime: ChargerRuntime) -> None:
        """Enforce the load-control cap in force (DLC): on change only."""
        cap = self.cap_for(runtime)
        if cap == runtime.cap_kw or runtime.session is None:
            return
        runtime.cap_kw = cap
        self.config_entry.async_create_background_task(
            self.hass, self._async_enforce(runtime, cap), "pev_portal_enforce"
        )
        self._schedule_boundary()

    async def _async_enforce(self, runtime: ChargerRuntime, cap: float | None) -> None:
        session = runtime.session
        if session is None:
            return
        adapter, now = runtime.adapter, dt_util.utcnow()
        if self.smart.circuit_kw() is not None:
            # On a shared circuit the plan (which has the cap) commands every charger, turning
            # one down before another up: a cap's start or end must not jump one to full current.
            _LOGGER.info("%s: load-control cap %s, applied by the plan", runtime.name, cap)
            self.smart.schedule()
            return
        if cap is None:
            _LOGGER.info("%s: load-control cap lifted", runtime.name)
            if session.pause_reason is PauseReason.EVENT:
                session.resume(now)
                await adapter.async_set_enabled(True)
            await adapter.async_set_current(adapter.max_current_a)
        elif cap < adapter.min_power_kw() or cap <= 0:
            _LOGGER.info("%s: load-control event stops charging", runtime.name)
            session.pause(PauseReason.EVENT, now)
            await adapter.async_set_enabled(False)
        else:
            amps = adapter.amps_for(cap)
            _LOGGER.info("%s: load-control cap %.2f kW (%d A)", runtime.name, cap, amps)
            if session.pause_reason is PauseReason.EVENT:
                session.resume(now)
                await adapter.async_set_enabled(True)
            await adapter.async_set_current(amps)
        self.smart.forget(runtime)
        allowed = cap is None or (cap > 0 and cap >= adapter.min_power_kw())
        limit_a = adapter.max_current_a if cap is None else adapter.amps_for(cap)
        self.smart.record(runtime, "event", allowed, limit_a)
        runtime.dirty = True
        self._on_charger(runtime)
        self.async_set_updated_data(None)

    def _schedule_boundary(self) -> None:
        """Wake up exactly when the next event starts or ends (caps within seconds)."""
        if self._boundary_unsub is not None:
            self._boundary_unsub()
            self._boundary_unsub = None
        if self.link is None:
            return
        now = dt_util.utcnow()
        upcoming = [t for e in self.link.timeline.entries for t in (e.start, e.end) if t > now]
        if upcoming:
            self._boundary_unsub = async_track_point_in_utc_time(
                self.hass, self._on_boundary, min(upcoming)
            )

    @callback
    def _on_boundary(self, _now: datetime) -> None:
        self._boundary_unsub = None
        self.async_timeline_changed()
        self._schedule_boundary()

    def _decide(self, pev_id: str | None) -> BindingDecision:
        vehicle = self.vehicle_by_pev_id(pev_id)
        return decide_local(vehicle is not None and vehicle.relation is Relation.HOME)

    @callback
    def _on_tag(self, event: Event) -> None:
        tag_id = event.data.get("tag_id")
        if not tag_id:
            return
        now = dt_util.utcnow()
        vehicle = next((v for v in self.vehicles.values() if tag_id in v.tags), None)
        if vehicle is None:
            return
        # A scan during a session whose vehicle is not known from the charger reassigns it.
        for runtime in self.chargers.values():
            session = runtime.session
            if session is not None and session.vehicle_source in (
                VehicleSource.UNKNOWN,
                VehicleSource.DEFAULT,
            ):
                self.assign_vehicle(runtime, vehicle.pev_id, VehicleSource.TAG)
                return
        self._last_tag = (tag_id, now)

    @callback
    def assign_vehicle(
        self, runtime: ChargerRuntime, pev_id: str | None, source: VehicleSource
    ) -> None:
        """Bind a vehicle to the charger's session (or preselect it for the next plug-in)."""
        session = runtime.session
        if session is None:
            runtime.preselected_pev = pev_id
            self.async_set_updated_data(None)
            return
        now = dt_util.utcnow()
        session.identify(pev_id, source)
        if runtime.ledger is not None:
            runtime.ledger.pev_id = pev_id
        runtime.intervals = [replace(i, pev_id=pev_id) for i in runtime.intervals]
        self.submit(lambda s: s.assign_pev(session.session_id, pev_id))
        if self.link is None:
            self._bind(runtime, self._decide(pev_id), now)
            return
        session.bind(PENDING_DECISION, now)
        self.async_set_updated_data(None)
        self.config_entry.async_create_background_task(
            self.hass, self._async_validate(runtime, session), "pev_portal_validate"
        )

    def _bind(self, runtime: ChargerRuntime, decision: BindingDecision, now: datetime) -> None:
        session = runtime.session
        assert session is not None
        session.bind(decision, now)
        self.notifier.binding_decided(runtime)  # notifications: plugged in but not bound
        self.hass.bus.async_fire(
            EVENT_SESSION_BOUND,
            {
                "charger": runtime.name,
                "session_id": session.session_id,
                "pev_id": session.pev_id,
                "vehicle_source": session.vehicle_source.value,
                "outcome": decision.outcome.value,
                "billing_party": decision.billing_party.value,
                "program_rate": decision.program_rate,
            },
        )
        runtime.dirty = True
        self.schedule_save(runtime)
        self.smart.schedule()
        self.async_set_updated_data(None)

    # -- charger and meter input --------------------------------------------------------

    def _charger_callback(self, runtime: ChargerRuntime) -> CALLBACK_TYPE:
        @callback
        def _changed() -> None:
            self._on_charger(runtime)

        return _changed

    def _reading_callback(self, runtime: ChargerRuntime) -> Callable[[datetime, float, str], None]:
        @callback
        def _reading(at: datetime, kwh: float, meter_id: str) -> None:
            self._on_reading(runtime, at, kwh, meter_id)

        return _reading

    @callback
    def _follow_availability(self, runtime: ChargerRuntime) -> None:
        """Write the entities' states when the charger (or its power sensor) becomes unavailable
        or returns; log the charger's unavailability once, and once its return (at INFO)."""
        adapter = runtime.adapter
        available = adapter.available()
        if not available and not runtime.unavailable_logged and self._started:
            runtime.unavailable_logged = True
            _LOGGER.info(
                "Charger %s is unavailable (%s); its live entities follow it until it returns",
                runtime.name,
                adapter.unavailable_reason(),
            )
        elif available and runtime.unavailable_logged:
            runtime.unavailable_logged = False
            _LOGGER.info("Charger %s is available again", runtime.name)
        marker = (available, adapter.power_available())
        if marker != runtime.availability:
            runtime.availability = marker
            self.async_update_listeners()

    @callback
    def _on_charger(self, runtime: ChargerRuntime) -> None:
        self._follow_availability(runtime)
        status = runtime.adapter.status()
        if status is None:
            return
        now = dt_util.utcnow()
        session = runtime.session
        if session is None:
            if status in (ChargerStatus.PLUGGED, ChargerStatus.CHARGING):
                self._start_session(runtime, status, now)
            return
        previous = session.state
        session.update_charger_energy(runtime.adapter.energy_kwh())
        session.update_charger(status, runtime.adapter.power_kw(), now)
        if session.state is SessionState.COMPLETED:
            self._end_session(runtime, now)
            return
        reported = runtime.adapter.vehicle_id()
        if (
            reported is not None
            and reported != session.pev_id
            and session.vehicle_source in (VehicleSource.UNKNOWN, VehicleSource.DEFAULT)
        ):
            # An OCPP charger reports the ID tag after plug-in (with the transaction).
            self.assign_vehicle(runtime, reported, VehicleSource.CHARGER)
            return
        if session.state is not previous:
            runtime.dirty = True
            self.schedule_save(runtime)
        self.async_set_updated_data(None)

    def _start_session(self, runtime: ChargerRuntime, status: ChargerStatus, now: datetime) -> None:
        session = ChargingSession(
            charger_id=runtime.charger_id, premise_id=self.premise_id, started_at=now
        )
        pev_id, source = self._identify(runtime, now)
        session.identify(pev_id, source)
        session.update_charger_energy(runtime.adapter.energy_kwh())
        session.update_charger(status, runtime.adapter.power_kw(), now)
        runtime.session = session
        runtime.preselected_pev = None
        runtime.intervals = []
        ledger = self._new_ledger(runtime)
        ledger.pev_id = pev_id
        runtime.ledger = ledger
        if runtime.last_reading is not None:
            # The register at plug-in is the session's baseline.
            _at, kwh, meter_id = runtime.last_reading
            ledger.add(now.replace(microsecond=0), kwh, meter_id)
        self.hass.bus.async_fire(
            EVENT_SESSION_STARTED,
            {
                "charger": runtime.name,
                "session_id": session.session_id,
                "pev_id": pev_id,
                "vehicle_source": source.value,
            },
        )
        _LOGGER.debug("Session %s started on %s (%s)", session.session_id, runtime.name, pev_id)
        if self.link is None:
            # Without a utility link the binding is decided at once, locally.
            self._bind(runtime, self._decide(pev_id), now)
        else:
            # The utility validates the PEV; charging is not held meanwhile (req 3).
            self.async_set_updated_data(None)
            self.config_entry.async_create_background_task(
                self.hass, self._async_validate(runtime, session), "pev_portal_validate"
            )

    def _end_session(self, runtime: ChargerRuntime, now: datetime) -> None:
        session, ledger = runtime.session, runtime.ledger
        assert session is not None
        closed: list[Interval] = []
        anomalies: list[Anomaly] = []
        if ledger is not None:
            closed = runtime.meter.mark_intervals(ledger.close(now))
            anomalies = ledger.drain_anomalies()
            session.meter_kwh = ledger.total_kwh
        runtime.intervals.extend(closed)
        summary = self._summarize(session, runtime.intervals)
        all_intervals = runtime.intervals
        runtime.last_session, runtime.last_summary = session, summary
        runtime.cap_kw = None
        runtime.session, runtime.ledger = None, None
        errors = self.smart.error_windows(session, now)
        self.smart.session_ended(runtime, session)
        runtime.intervals = []
        self.hass.bus.async_fire(
            EVENT_SESSION_ENDED,
            {"charger": runtime.name, **summary.to_dict()},
        )
        data, sdict = session.to_dict(), summary.to_dict()
        self.submit(lambda s: s.save_session(data, None, closed, anomalies, sdict))
        if runtime.demo is not None:
            self._save_demo(runtime)
        if self.link is not None:
            # After the final save (the store writes in order): report at unplug.
            self._queue_reports(session, all_intervals, final=True, errors=errors)
        async_record_session(self, runtime, session, all_intervals)  # long-term statistics
        self.async_set_updated_data(None)

    def _queue_reports(
        self,
        session: ChargingSession,
        intervals: list[Interval],
        *,
        final: bool = False,
        errors: Sequence[tuple[datetime, datetime]] = (),
    ) -> None:
        """Queue the session's USAGE reports (and event participation at the end)."""
        link = self.link
        if link is None or not session.pev_id or not intervals:
            return
        pev_id, frozen = session.pev_id, list(intervals)

        async def _queue() -> None:
            await link.async_queue_usage(session.session_id, pev_id, frozen)
            if final:
                await self._async_queue_states(session.session_id, pev_id, frozen, errors)

        self.config_entry.async_create_background_task(self.hass, _queue(), "pev_portal_report")

    async def _async_queue_states(
        self,
        session_id: str,
        pev_id: str,
        intervals: list[Interval],
        errors: Sequence[tuple[datetime, datetime]],
    ) -> None:
        link = self.link
        assert link is not None
        for event, states in self.link_participation(pev_id, intervals, errors):
            await link.async_queue_state(session_id, pev_id, event, states)

    @callback
    def report_charger_error(self, runtime: ChargerRuntime) -> None:
        """The charger ignores commands: report OPERATING_STATE ERROR to the utility now.

        For each event in force that asks for state reports, the session's participation so far
        is queued, with the intervals since the charger stopped obeying (the open one included)
        as ``ERROR``. The report at unplug updates the same report.
        """
        session, ledger = runtime.session, runtime.ledger
        if self.link is None or session is None or not session.pev_id:
            return
        now = dt_util.utcnow()
        intervals = list(runtime.intervals)
        if ledger is not None and (pending := ledger.pending()) is not None:
            intervals.append(pending)
        errors = self.smart.error_windows(session, now + timedelta(minutes=self.interval_minutes))
        self.config_entry.async_create_background_task(
            self.hass,
            self._async_queue_states(session.session_id, session.pev_id, intervals, errors),
            "pev_portal_report_error",
        )

    def link_participation(
        self,
        pev_id: str,
        intervals: list[Interval],
        errors: Sequence[tuple[datetime, datetime]] = (),
    ) -> list[tuple[Any, list[tuple[datetime, datetime, str]]]]:
        """OPERATING_STATE per load-control event the session overlapped (curtailed or not).

        An interval that overlaps one of ``errors`` (the charger was ignoring commands) is
        ``ERROR``.
        """
        link = self.link
        if link is None:
            return []
        result = []
        for event in link.state.events.values():
            if not event.wants_state_reports or not link.timeline.applies(event, pev_id):
                continue
            windows = [
                (e.start, e.end)
                for e in link.timeline.entries
                if e.event_id == event.id and e.kind in ("cap", "level", "alert")
            ]
            states = []
            for interval in intervals:
                if any(start < interval.end and interval.start < end for start, end in windows):
                    running = interval.kwh > 0
                    opted = event.id in self.opted_out
                    state = ("RUNNING" if running else "IDLE") + (
                        "_OPTED_OUT" if opted else "_CURTAILED"
                    )
                    if any(s < interval.end and interval.start < e for s, e in errors):
                        state = "ERROR"
                    states.append((interval.start, interval.end, state))
            if states:
                result.append((event, states))
        return result

    @callback
    def _on_reading(self, runtime: ChargerRuntime, at: datetime, kwh: float, meter_id: str) -> None:
        at = at.replace(microsecond=0)
        runtime.last_reading = (at, kwh, meter_id)
        runtime.readings.append((at, kwh, meter_id))
        ledger, session = runtime.ledger, runtime.session
        if ledger is None or session is None:
            return
        last = ledger.last_reading
        if last is not None and at <= last.at and meter_id == ledger.meter_id:
            # Several readings within one second (NF.1 resolution): the register is
            # cumulative, so the next reading in a later second carries this energy.
            return
        try:
            closed = runtime.meter.mark_intervals(ledger.add(at, kwh, meter_id))
        except ValueError as err:
            _LOGGER.warning("Meter reading %s at %s rejected: %s", kwh, at, err)
            return
        anomalies = ledger.drain_anomalies()
        for anomaly in anomalies:
            _LOGGER.warning("Meter %s on %s: %s", meter_id, runtime.name, anomaly.message)
        session.meter_kwh = ledger.total_kwh
        if closed or anomalies:
            runtime.intervals.extend(closed)
            self.schedule_save(runtime, closed, anomalies)
        else:
            runtime.dirty = True
        self.async_set_updated_data(None)

    def meter_power_kw(
        self, runtime: ChargerRuntime, since: datetime, now: datetime, *, quiet_is_idle: bool = True
    ) -> float | None:
        """The power the meter's register shows since ``since`` (plus a settling time).

        Its slope over the readings after that, once they span METER_MIN_SPAN_SECONDS. A
        register that has not moved twice by then is idle (0 kW) once METER_VERIFY_SECONDS
        have passed, or three of the meter's usual reading intervals if it reports more slowly
        (a meter reports when its register moves, or on its own period). None while it is too
        early to tell, or across a meter change or reset (and for a quiet register unless
        ``quiet_is_idle``: a slowly reporting meter is not an idle charger when it matters).
        """
        if not runtime.readings:
            return None
        start = since + timedelta(seconds=METER_SETTLE_SECONDS)
        meter_id = runtime.readings[-1][2]
        mine = [(at, kwh) for at, kwh, mid in runtime.readings if mid == meter_id]
        points = [(at, kwh) for at, kwh in mine if at >= start]
        if len(points) >= 2:
            (t0, k0), (t1, k1) = points[0], points[-1]
            span = (t1 - t0).total_seconds()
            if k1 < k0:
                return None  # a reset or rollover: not a measurement
            if span >= METER_MIN_SPAN_SECONDS:
                return (k1 - k0) * 3600.0 / span
        before = [at for at, _ in mine if at < start][-9:]
        gaps = sorted((b - a).total_seconds() for a, b in pairwise(before))
        usual = gaps[len(gaps) // 2] if gaps else 0.0
        quiet_after = min(max(METER_VERIFY_SECONDS, 3 * usual), METER_QUIET_MAX_SECONDS)
        if quiet_is_idle and len(points) < 2 and (now - start).total_seconds() >= quiet_after:
            return 0.0
        return None

    def schedule_save(
        self,
        runtime: ChargerRuntime,
        closed: list[Interval] | None = None,
        anomalies: list[Anomaly] | None = None,
    ) -> None:
        """Write the session, its ledger snapshot and closed intervals in one transaction.

        The state is captured now, synchronously; the store's single thread writes the
        transactions in the order they were scheduled.
        """
        session, ledger = runtime.session, runtime.ledger
        if session is None:
            return
        data = session.to_dict()
        snapshot = ledger.snapshot() if ledger is not None else None
        new, found = list(closed or ()), list(anomalies or ())
        runtime.dirty = False
        runtime.last_saved = dt_util.utcnow()
        self.submit(lambda s: s.save_session(data, snapshot, new, found))
        if runtime.demo is not None:
            # The simulated register must be restored together with the ledger snapshot that
            # read it, or a crash rewinds it (a spurious 'backwards' reading at restart).
            self._save_demo(runtime)

    def submit(self, job: Callable[[LedgerStore], None]) -> None:
        """Hand a write to the store now (in order); log if it fails."""
        future = self.store.submit(job)

        def _done(fut: asyncio.Future[None]) -> None:
            if not fut.cancelled() and (err := fut.exception()) is not None:
                _LOGGER.error("Writing to the session store failed: %s", err)

        future.add_done_callback(_done)

    def _save_demo(self, runtime: ChargerRuntime) -> None:
        assert runtime.demo is not None
        evse = runtime.demo.evse
        car = evse.car
        state = {
            "register_kwh": evse.register_kwh,
            "enabled": evse.enabled,
            "current_limit_a": evse.current_limit_a,
            "car": (
                {
                    "pev_id": car.pev_id,
                    "capacity_kwh": car.capacity_kwh,
                    "soc": car.soc,
                    "max_ac_kw": car.max_ac_kw,
                }
                if car
                else None
            ),
        }
        self.submit(lambda s: s.set_meta(f"demo:{runtime.charger_id}", state))

    @callback
    def _tick(self, now: datetime) -> None:
        """Advance the demo, and make running sums durable at least every 30 s."""
        now = dt_util.utcnow()
        self._refresh_prices(now)
        if self._missing_entities:
            self._check_entities(log=False)  # clears the repairs issue once they are back
        for runtime in self.chargers.values():
            if runtime.demo is not None:
                runtime.demo.step(now)
            if runtime.session is not None and (
                runtime.dirty
                and (
                    runtime.last_saved is None
                    or (now - runtime.last_saved).total_seconds() >= CHECKPOINT_SECONDS
                )
            ):
                self.schedule_save(runtime)
            link = self.link
            if (
                link is not None
                and runtime.session is not None
                and runtime.intervals
                and (
                    runtime.last_report is None or now - runtime.last_report >= link.report_interval
                )
            ):
                runtime.last_report = now
                self._queue_reports(runtime.session, runtime.intervals)
        self.notifier.check_events(now)  # notifications: events that began
        self.smart.schedule()

    def _refresh_prices(self, now: datetime) -> None:
        """Update the entities when a price, tariff period or local event starts or ends.

        Nothing else refreshes them while no vehicle is plugged in.
        """
        event = self.active_event(now)
        marker: tuple[Any, ...] = (
            event["event_id"] if event else None,
            *(
                (segment.period, segment.price)
                for segment in (
                    self.tariff_of(runtime).price_at(now) for runtime in self.chargers.values()
                )
            ),
        )
        if marker != self._price_marker:
            self._price_marker = marker
            self.async_update_listeners()

    # -- user actions -------------------------------------------------------------------

    async def async_set_charging_enabled(self, runtime: ChargerRuntime, enabled: bool) -> None:
        """Pause (by the user) or resume charging."""
        now = dt_util.utcnow()
        if runtime.session is not None:
            if enabled:
                runtime.session.resume(now)
            else:
                runtime.session.pause(PauseReason.USER, now)
            runtime.dirty = True
            self.schedule_save(runtime)
        self.smart.forget(runtime)
        await runtime.adapter.async_set_enabled(enabled)
        self._on_charger(runtime)
        self.async_set_updated_data(None)

    async def async_charge_now(self, runtime: ChargerRuntime) -> None:
        """Clear any pause and charge at full power (on a shared circuit: what it leaves)."""
        if self.smart.circuit_kw() is not None and runtime.session is not None:
            # The plan turns the other chargers down first, then this one on (smart.override).
            runtime.session.resume(dt_util.utcnow())
            runtime.dirty = True
            self.schedule_save(runtime)
            self.smart.override(runtime)
            self.async_set_updated_data(None)
            return
        await self.async_set_charging_enabled(runtime, True)
        await runtime.adapter.async_set_current(runtime.adapter.max_current_a)
        self.smart.override(runtime)

    def plan_for(self, runtime: ChargerRuntime) -> dict[str, Any] | None:
        """The charging plan of the charger's session (the dashboard's PLAN shape)."""
        return self.smart.plan_dict(runtime)

    def caps_for(self, runtime: ChargerRuntime) -> list[dict[str, Any]]:
        """The load-control caps on the charger's session (the dashboard's CAP shape)."""
        return self.smart.caps_list(runtime)

    def charging_enabled(self, runtime: ChargerRuntime) -> bool:
        """False while the user has paused charging."""
        session = runtime.session
        return not (session is not None and session.pause_reason is PauseReason.USER)

    # -- reading for entities -----------------------------------------------------------

    def _summarize(self, session: ChargingSession, intervals: list[Interval]) -> SessionSummary:
        return summarize(
            session, intervals, self.program_tariff_for(session.pev_id), self.default_tariff
        )

    def live_summary(self, runtime: ChargerRuntime) -> SessionSummary | None:
        """The active session's summary including the interval still open."""
        session = runtime.session
        if session is None:
            return runtime.last_summary
        intervals = list(runtime.intervals)
        if runtime.ledger is not None and (pending := runtime.ledger.pending()) is not None:
            last = runtime.ledger.last_reading
            if last is not None and pending.start < last.at < pending.end:
                # The energy so far was delivered by the last reading, not by the boundary:
                # priced over the whole interval it would fall partly into a later period.
                pending = _with_end(pending, last.at)
            intervals.append(pending)
        return self._summarize(session, intervals)

    def charger_by_device(self, device_id: str) -> ChargerRuntime:
        """The charger a device belongs to."""
        device = dr.async_get(self.hass).async_get(device_id)
        if device is not None:
            for domain, identifier in device.identifiers:
                if domain == DOMAIN and identifier in self.chargers:
                    return self.chargers[identifier]
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_charger",
            translation_placeholders={"device_id": device_id},
        )

    async def async_export(
        self, start: datetime, end: datetime
    ) -> tuple[list[dict[str, Any]], list[tuple[str, Interval]]]:
        """Sessions started in [start, end) with their intervals (and their commands)."""
        rows = await self.store.call(lambda s: s.sessions_between(start, end))
        sessions: list[dict[str, Any]] = []
        intervals: list[tuple[str, Interval]] = []
        for row in rows:
            if row.data.get("premise_id") != self.premise_id:
                continue
            found = await self.store.call(partial(LedgerStore.intervals, session_id=row.session_id))
            commands = await self.store.call(
                partial(LedgerStore.commands, session_id=row.session_id)
            )
            sessions.append({**row.data, "summary": row.summary, "commands": commands})
            intervals.extend((row.session_id, i) for i in found)
        return sessions, intervals


def _with_end(interval: Interval, end: datetime) -> Interval:
    return replace(interval, end=end)


def _save_closed(data: dict[str, Any], store: LedgerStore) -> None:
    """Store a session closed at set-up (its charger was removed)."""
    store.save_session(data, None)
