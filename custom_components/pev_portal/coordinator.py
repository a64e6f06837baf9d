"""The composition root of a premise, and the read model its entities show.

It builds the parts and wires them; it has no domain logic of its own:

* :class:`~.ports.Premise`: the premise's plain state, shared by every part;
* :class:`~.program_events.ProgramEvents`: local events and the utility's timeline, one view;
* :class:`~.sessions.Sessions`: plug-in to unplug, metering, the durable ledger;
* :class:`~.charging.SmartCharging`: the plan and each charger's effective limit, applied by
  the one command owner (:class:`~.charging.ChargerController`) and audited
  (:class:`~.charging.CommandAudit`);
* :class:`~.utility.UtilityLink` and :class:`~.reporting.UtilityReports` with a utility program;
* :class:`~.notifications.Notifier`, :class:`~.statistics.SessionStatistics`, the Zigbee ESI.

Data flows one way: meter and charger readings -> sessions and interval ledger -> entity
states; events -> the plan -> the controller -> charger commands.
"""

from __future__ import annotations

import importlib
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event, async_track_time_interval
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from . import repairs, zigbee
from .adapters import DemoCharger, EntityCharger, MeterAdapter, SensorMeter
from .battery_use import BatteryUse
from .charging import ChargerController, CommandAudit, SmartCharging
from .const import (
    CHARGER_TYPE_DEMO,
    CONF_CHARGER_NAME,
    CONF_CHARGER_TYPE,
    CONF_DEFAULT_PRICE,
    CONF_DEMO_BIDIRECTIONAL,
    CONF_DISCHARGED_ENERGY_ENTITY,
    CONF_ENERGY_ENTITY,
    CONF_INTERVAL_MINUTES,
    CONF_METER_ENTITY,
    CONF_METER_SOURCE,
    CONF_PREMISE_ID,
    CONF_PRICE_ENTITY,
    CONF_PROTOCOL,
    CONF_TARIFF,
    CONF_UTILITY,
    CONF_VALIDATION_WINDOW,
    DEFAULT_INTERVAL_MINUTES,
    DEFAULT_PRICE,
    DEFAULT_VALIDATION_WINDOW,
    DOMAIN,
    METER_SOURCE_CHARGER,
    METER_SOURCE_DEMO,
    METER_SOURCE_ZHA,
    PROTOCOL_OADR2,
    STORE_FILENAME,
    SUBENTRY_CHARGER,
    SUBENTRY_VEHICLE,
    TICK_SECONDS,
)
from .core.metering import Interval
from .core.session import VehicleSource
from .core.summary import SessionSummary
from .core.tariff import FlatTariff, Tariff, tariff_from_dict
from .flex_reports import FlexReports
from .io.store import AsyncLedgerStore
from .notifications import Notifier
from .ports import Premise
from .premise_store import async_claim
from .price_feed import PriceFeed
from .program_events import ProgramEvents
from .reporting import UtilityReports
from .runtime import ChargerRuntime, Vehicle, demo_evse, restore_demo
from .session_feed import ReceivedSensorMeter
from .sessions import Sessions
from .settlement_tracker import SettlementTracker
from .statistics import SessionStatistics

if TYPE_CHECKING:
    from .commissioning import Commissioning
    from .utility import UtilityLink

_LOGGER = logging.getLogger(__name__)

type PevPortalConfigEntry = ConfigEntry[PevPortalCoordinator]

__all__ = ["ChargerRuntime", "PevPortalConfigEntry", "PevPortalCoordinator", "Vehicle"]


class PevPortalCoordinator(DataUpdateCoordinator[None]):
    """Builds and wires a premise's parts; the entities read the premise through it."""

    config_entry: PevPortalConfigEntry

    def __init__(self, hass: HomeAssistant, entry: PevPortalConfigEntry) -> None:
        super().__init__(hass, _LOGGER, config_entry=entry, name=DOMAIN)
        options = {**entry.data, **entry.options}
        ledger_path = Path(hass.config.path(STORE_FILENAME))
        self.store = AsyncLedgerStore(
            ledger_path,
            on_status=repairs.store_status_listener(hass, entry.entry_id, ledger_path),
        )
        self.premise = Premise(
            hass=hass,
            entry=entry,
            premise_id=entry.data[CONF_PREMISE_ID],
            interval_minutes=int(options.get(CONF_INTERVAL_MINUTES, DEFAULT_INTERVAL_MINUTES)),
            validation_window=float(options.get(CONF_VALIDATION_WINDOW, DEFAULT_VALIDATION_WINDOW)),
            store=self.store,
            updated=self.async_update_listeners,
        )
        self.base_tariff: Tariff = tariff_from_dict(options[CONF_TARIFF])
        self.default_tariff: Tariff = FlatTariff(
            self.base_tariff.currency,
            Decimal(str(options.get(CONF_DEFAULT_PRICE, DEFAULT_PRICE))),
        )
        self.events = ProgramEvents(self.premise, self.base_tariff, self.default_tariff)
        self.audit = CommandAudit(self.premise)
        self.controller = ChargerController(self.premise, self.audit)
        self.smart = SmartCharging(self.premise, self.events, self.controller, self.audit)
        self.sessions = Sessions(self.premise, self.events, self.smart, self.default_tariff)
        self.notifier = Notifier(self.premise, self.events, options)
        self.settlement = SettlementTracker(
            self.premise, self.events, self.smart, self.sessions.intervals_so_far
        )
        self.battery = BatteryUse(self.premise, self.sessions.intervals_so_far)
        self.price_feed: PriceFeed | None = None
        if options.get(CONF_PRICE_ENTITY):  # live prices from another integration's entity
            self.price_feed = PriceFeed(self.premise, self.events, options)
        self.link: UtilityLink | None = None
        self.reports: UtilityReports | None = None
        self.commissioning: Commissioning | None = None
        self._stopped = False
        self._missing_entities = False
        self._price_marker: tuple[Any, ...] | None = None
        self._unsubscribers: list[CALLBACK_TYPE] = []
        self.flex: FlexReports | None = None

    # -- the premise, as the entities read it -----------------------------------------------

    @property
    def premise_id(self) -> str:
        """The premise's ID."""
        return self.premise.premise_id

    @property
    def interval_minutes(self) -> int:
        """The metering interval."""
        return self.premise.interval_minutes

    @property
    def validation_window(self) -> float:
        """The validation window in seconds."""
        return self.premise.validation_window

    @validation_window.setter
    def validation_window(self, seconds: float) -> None:
        self.premise.validation_window = seconds

    @property
    def chargers(self) -> dict[str, ChargerRuntime]:
        """The premise's chargers by subentry ID."""
        return self.premise.chargers

    @property
    def vehicles(self) -> dict[str, Vehicle]:
        """The premise's vehicles by subentry ID."""
        return self.premise.vehicles

    @property
    def program_tariff(self) -> Tariff:
        """The program tariff (with the price events) for the premise as a whole."""
        return self.events.program_tariff

    @property
    def local_events(self) -> list[dict[str, Any]]:
        """The local events not yet over, as dicts (for the Zigbee ESI and diagnostics)."""
        return [e.as_dict() for e in self.events.local_events()]

    @property
    def opted_out(self) -> set[str]:
        """The events opted out of."""
        return self.events.opted_out

    # -- life cycle ---------------------------------------------------------------------

    async def async_start(self) -> None:
        """Open the store, build the parts, resume open sessions and start listening."""
        entry = self.config_entry
        await repairs.async_open_ledger(self.hass, entry.entry_id, self.store)
        await async_claim(self.hass, entry, self.store)  # the premise's rows (premise_store)
        for subentry in entry.subentries.values():
            if subentry.subentry_type == SUBENTRY_VEHICLE:
                vehicle = Vehicle.from_subentry(subentry)
                self.vehicles[vehicle.subentry_id] = vehicle
        for subentry in entry.subentries.values():
            if subentry.subentry_type == SUBENTRY_CHARGER:
                self.chargers[subentry.subentry_id] = await self._build_charger(subentry)
        since, premise_id = dt_util.utcnow() - timedelta(days=1), self.premise_id
        rows = await self.store.call(lambda s: s.local_events(since, premise_id))
        # A stored event that cannot be used is skipped, kept for inspection and named in a
        # repair issue: it never stops the set-up.
        self.events.load(repairs.filter_local_events(self.hass, entry.entry_id, self.store, rows))
        if utility := entry.data.get(CONF_UTILITY):
            from .utility import UtilityLink

            link_kind: type[UtilityLink] = UtilityLink
            if utility.get(CONF_PROTOCOL) == PROTOCOL_OADR2:  # OpenADR 2.0b (utility2.py)
                # Imported in the executor: openleadr reads its XML schema files at import.
                module = await self.hass.async_add_import_executor_job(
                    importlib.import_module, f"{__package__}.utility2"
                )
                link_kind = module.Oadr2Link
            self.link = link_kind(
                self.hass,
                self.premise,
                dict(utility),
                dict(entry.options),
                currency=self.base_tariff.currency,
                on_timeline=self.events.timeline_changed,
            )
            if attach := getattr(self.link, "attach", None):
                attach(self.events)
            self.events.link = self.smart.link = self.sessions.link = self.link
            self.settlement.link = self.link
            self.reports = UtilityReports(self.premise, self.link, self.events, self.audit)
            from .commissioning import Commissioning

            self.commissioning = Commissioning(self.premise, self.events, self.link)
            await self.commissioning.async_load()
        self._wire()
        await self.smart.async_load()
        for runtime in await self.sessions.async_restore():
            self.smart.session_resumed(runtime)
        await self.settlement.async_load()
        await self.battery.async_load()
        entry.async_on_unload(async_at_started(self.hass, self.smart.async_park_idle))
        for runtime in self.chargers.values():
            self.sessions.listen(runtime)
        self._unsubscribers.append(
            async_track_time_interval(self.hass, self._tick, timedelta(seconds=TICK_SECONDS))
        )
        self._unsubscribers.append(self.hass.bus.async_listen("tag_scanned", self.sessions.on_tag))
        if soc_entities := [v.soc_entity for v in self.vehicles.values() if v.soc_entity]:
            self._unsubscribers.append(
                async_track_state_change_event(self.hass, soc_entities, self._on_soc_change)
            )
        self._unsubscribers.append(async_at_started(self.hass, self._async_check_entities))
        if (
            esi_stop := zigbee.async_setup_esi(self.premise, self.events, self.async_add_listener)
        ) is not None:
            self._unsubscribers.append(esi_stop)
        if self.link is not None:
            await self.link.async_start()
        self.events.start()
        self._unsubscribers.append(self.settlement.start())
        if self.price_feed is not None:
            await self.price_feed.async_start()
        else:
            repairs.async_price_source_ok(self.hass, entry.entry_id)  # no price entity now
        self.smart.schedule()
        self.async_set_updated_data(None)

    def _wire(self) -> None:
        """Who hears of what: sessions, the command audit, the plan and the events."""
        listeners = self.sessions.listeners
        if self.link is not None:  # flexibility reports; the fail-safe limit replans, is shown
            self.flex = FlexReports(self.premise, self.link, self.smart)
            self.flex.start()
            self._unsubscribers.append(self.flex.stop)
            listeners.append(self.flex)
            self.link.failsafe.listeners.append(self._on_failsafe)
        if self.reports is not None:
            listeners.append(self.reports)  # before smart charging forgets the trail
        listeners.extend((self.settlement, self.battery))
        listeners.extend((self.notifier, SessionStatistics(self.hass, self.events), self.smart))
        self.audit.on_ignored.append(self.notifier.command_ignored)
        self.smart.on_planned.append(self.notifier.plan_computed)
        self._unsubscribers.append(self.events.add_listener(self._on_events))
        if self.commissioning is not None:
            self._unsubscribers.append(self.commissioning.start())

    @callback
    def _on_events(self, _reason: str) -> None:
        self.async_update_listeners()

    @callback
    def _on_failsafe(self) -> None:
        self.smart.schedule()
        self.async_update_listeners()

    @callback
    def _on_soc_change(self, _event: Event[EventStateChangedData]) -> None:
        """A vehicle's battery sensor changed: the energy it still wants did too."""
        self.smart.schedule()

    async def _async_check_entities(self, _hass: HomeAssistant) -> None:
        """Once Home Assistant runs (every integration loaded), report missing entities.

        A charger unavailable since start-up is logged now: before, its integration may simply
        not have loaded yet.
        """
        self._check_entities(log=True)
        repairs.async_clear_stale(self.hass, self.config_entry.entry_id, set(self.chargers))
        self.sessions.started()

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
        """Finish the commands in flight, make everything durable and close the store (once:
        at unload or at shutdown)."""
        if self._stopped:
            return
        self._stopped = True
        if self.price_feed is not None:
            self.price_feed.stop()
        self.settlement.stop()
        await self.smart.async_stop()
        if self.link is not None:
            await self.link.async_stop()
        self.events.stop()
        for unsub in self._unsubscribers:
            unsub()
        self._unsubscribers.clear()
        self.sessions.stop()
        await self.store.close()

    async def _build_charger(self, subentry: ConfigSubentry) -> ChargerRuntime:
        data = dict(subentry.data)
        name = data.get(CONF_CHARGER_NAME) or subentry.title
        charger_id = subentry.subentry_id
        if data.get(CONF_CHARGER_TYPE) == CHARGER_TYPE_DEMO:
            evse = demo_evse(bool(data.get(CONF_DEMO_BIDIRECTIONAL)))
            saved = await self.store.call(lambda s: s.get_meta(f"demo:{charger_id}"))
            if saved:
                restore_demo(evse, saved)
            demo = DemoCharger(evse, meter_id=f"DEMO-METER-{charger_id[-6:].upper()}")
            meter: MeterAdapter = demo
            source = data.get(CONF_METER_SOURCE, METER_SOURCE_DEMO)
            if source == METER_SOURCE_ZHA:  # a real Zigbee meter on the simulated charger
                from .zigbee.meter import ZhaMeter

                meter = ZhaMeter.from_config(self.premise, charger_id, name, data)
            elif source != METER_SOURCE_DEMO:
                meter = self._sensor_meter(data)
            return ChargerRuntime(charger_id, name, demo, meter, demo=demo)
        adapter = EntityCharger(self.hass, data)
        if data.get(CONF_METER_SOURCE) == METER_SOURCE_ZHA:
            from .zigbee.meter import ZhaMeter

            zha = ZhaMeter.from_config(self.premise, charger_id, name, data)
            return ChargerRuntime(charger_id, name, adapter, zha)
        return ChargerRuntime(charger_id, name, adapter, self._sensor_meter(data))

    def _sensor_meter(self, data: dict[str, Any]) -> SensorMeter:
        if data.get(CONF_METER_SOURCE) == METER_SOURCE_CHARGER:
            entity_id = data[CONF_ENERGY_ENTITY]
        else:
            entity_id = data[CONF_METER_ENTITY]
        meter_id = self._meter_id(entity_id)
        if received := data.get(CONF_DISCHARGED_ENERGY_ENTITY):  # power feed: its register
            return ReceivedSensorMeter(self.hass, entity_id, meter_id, received)
        return SensorMeter(self.hass, entity_id, meter_id)

    def _meter_id(self, entity_id: str) -> str:
        """The meter's ID: its device's serial number when known, else the entity ID."""
        entry = er.async_get(self.hass).async_get(entity_id)
        if entry is not None and entry.device_id:
            device = dr.async_get(self.hass).async_get(entry.device_id)
            serial = getattr(device, "serial_number", None)
            if serial:
                return str(serial)
        return entity_id

    @callback
    def _tick(self, _now: datetime) -> None:
        """Every few seconds: the demo, checkpoints, reports, event news, verification."""
        now = dt_util.utcnow()
        self._refresh_prices(now)
        if self._missing_entities:
            self._check_entities(log=False)  # clears the repairs issue once they are back
        self.sessions.tick(now)
        if self.reports is not None:
            self.reports.tick(now)
        self.settlement.tick(now)
        if self.commissioning is not None:
            self.commissioning.tick(now)  # samples and verifies commissioning tests
        self.notifier.check_events(now)  # notifications: events that began
        if any(r.session is not None for r in self.chargers.values()):
            self.smart.schedule()  # verify commands, follow the energy delivered

    def _refresh_prices(self, now: datetime) -> None:
        """Update the entities when a price or tariff period starts or ends.

        Nothing else refreshes them while no vehicle is plugged in.
        """
        marker: tuple[Any, ...] = tuple(
            (segment.period, segment.price)
            for segment in (
                self.events.tariff_of(runtime).price_at(now) for runtime in self.chargers.values()
            )
        )
        if marker != self._price_marker:
            self._price_marker = marker
            self.async_update_listeners()

    # -- what the entities, services and the card read and do ---------------------------------

    def active_event(self, now: datetime | None = None) -> dict[str, Any] | None:
        """The event in force now (the dashboard's shape)."""
        event = self.events.active(now)
        return event.as_dict() if event is not None else None

    def next_event(self, now: datetime | None = None) -> dict[str, Any] | None:
        """The next event to start (the dashboard's shape)."""
        event = self.events.next(now)
        return event.as_dict() if event is not None else None

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
        """Add a local price or load-control event (see :class:`ProgramEvents`); returns once
        the chargers have been told the limits it sets."""
        event_id = await self.events.async_add_local(
            kind, start, end, price=price, limit_kw=limit_kw, name=name
        )
        await self.smart.async_run_now()
        return event_id

    async def async_start_commissioning_test(self, vehicle: Vehicle) -> None:
        """Start a local commissioning test of the vehicle (see :mod:`.commissioning`);
        returns once the charger has been told the test's limit."""
        if self.commissioning is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="commissioning_not_local",
                translation_placeholders={"vehicle": vehicle.name},
            )
        await self.commissioning.async_start_local_test(vehicle)
        await self.smart.async_run_now()

    def tariff_of(self, runtime: ChargerRuntime) -> Tariff:
        """The tariff the charger's session is priced on (the program's when idle)."""
        return self.events.tariff_of(runtime)

    def program_tariff_for(self, pev_id: str | None) -> Tariff:
        """The program tariff with the price events for a PEV."""
        return self.events.tariff_for(pev_id)

    def vehicle_by_pev_id(self, pev_id: str | None) -> Vehicle | None:
        """The registered vehicle with this PEV ID."""
        return self.premise.vehicle_by_pev_id(pev_id)

    def default_vehicle(self) -> Vehicle | None:
        """The vehicle marked default, else the only home vehicle."""
        return self.premise.default_vehicle()

    @callback
    def assign_vehicle(
        self, runtime: ChargerRuntime, pev_id: str | None, source: VehicleSource
    ) -> None:
        """Bind a vehicle to the charger's session (or preselect it for the next plug-in)."""
        self.sessions.assign_vehicle(runtime, pev_id, source)

    async def async_set_charging_enabled(self, runtime: ChargerRuntime, enabled: bool) -> None:
        """Pause (by the user) or resume charging."""
        await self.smart.async_set_charging_enabled(runtime, enabled)

    async def async_charge_now(self, runtime: ChargerRuntime) -> None:
        """Clear any pause and charge at once (within the limits in force)."""
        await self.smart.async_charge_now(runtime)

    def charging_enabled(self, runtime: ChargerRuntime) -> bool:
        """False while the user has paused charging."""
        return self.smart.charging_enabled(runtime)

    def plan_for(self, runtime: ChargerRuntime) -> dict[str, Any] | None:
        """The charging plan of the charger's session (the dashboard's PLAN shape)."""
        return self.smart.plan_dict(runtime)

    def caps_for(self, runtime: ChargerRuntime) -> list[dict[str, Any]]:
        """The load-control caps on the charger's session (the dashboard's CAP shape)."""
        return self.smart.caps_list(runtime)

    def battery_use(self, subentry_id: str) -> dict[str, float]:
        """A vehicle's power feed as metered: cycles, energy fed this month and in all."""
        return self.battery.figures(self.vehicles[subentry_id])

    def live_summary(self, runtime: ChargerRuntime) -> SessionSummary | None:
        """The active session's summary including the interval still open."""
        return self.sessions.live_summary(runtime)

    def charger_by_device(self, device_id: str) -> ChargerRuntime:
        """The charger a device belongs to."""
        return self.sessions.charger_by_device(device_id)

    async def async_export(
        self, start: datetime, end: datetime
    ) -> tuple[list[dict[str, Any]], list[tuple[str, Interval]]]:
        """Sessions started in [start, end) with their intervals (and their commands and the
        performance of each event that touched them, ``events``)."""
        sessions, intervals = await self.sessions.async_export(start, end)
        found = await self.settlement.async_of_sessions([s["session_id"] for s in sessions])
        for session in sessions:
            session["events"] = [p for p in found if p["session_id"] == session["session_id"]]
        return sessions, intervals
