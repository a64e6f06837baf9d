"""The premise's charging sessions: plug-in, identification and binding, metering, checkpoints,
resume after a restart, the end, and the export.

A session starts when a charger reports a plugged-in vehicle, is bound (locally, or by the
utility within the validation window), meters the end-use meter's readings into clock-aligned
intervals, and ends at unplug. Its row, the ledger's snapshot and the closed intervals are
written in one transaction; between interval closes the running sum is written at least every
:data:`CHECKPOINT_SECONDS`.

Other parts hear of sessions through :class:`~.ports.SessionListener` (started, bound, ended),
in the order they registered; this module never calls them by name.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from homeassistant.core import Event, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from . import session_feed as feed
from .const import (
    CHECKPOINT_SECONDS,
    DOMAIN,
    EVENT_SESSION_BOUND,
    EVENT_SESSION_ENDED,
    EVENT_SESSION_REIDENTIFIED,
    EVENT_SESSION_STARTED,
    TAG_MEMORY_SECONDS,
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
from .core.session import ChargerStatus, ChargingSession, SessionState, VehicleSource
from .core.summary import SessionSummary, summarize
from .core.tariff import Tariff
from .io.store import LedgerStore
from .offline_energy import add_reading, note_restart, settle
from .ports import ChargingPort, Premise, SessionListener
from .program_events import ProgramEvents
from .runtime import ChargerRuntime, demo_meta
from .session_edges import close_transaction, follow_transaction, fresh_vehicle_id, reconcile

if TYPE_CHECKING:
    from .utility import UtilityLink

_LOGGER = logging.getLogger(__name__)


class Sessions:
    """Runs every charger's sessions (see the module docstring)."""

    def __init__(
        self,
        premise: Premise,
        events: ProgramEvents,
        charging: ChargingPort,
        default_tariff: Tariff,
    ) -> None:
        self.premise = premise
        self.events = events
        self.charging = charging
        self.default_tariff = default_tariff
        self.link: UtilityLink | None = None
        self.listeners: list[SessionListener] = []
        self._last_tag: tuple[str, datetime] | None = None
        self._started = False  # Home Assistant runs: availability is logged from then on

    # -- life cycle ---------------------------------------------------------------------

    async def async_restore(self) -> list[ChargerRuntime]:
        """Resume the open sessions of this premise's chargers; the last session of the
        others. Returns the chargers whose session resumed."""
        store = self.premise.store
        resumed: list[ChargerRuntime] = []
        stored = await store.call(lambda s: s.open_sessions())
        for row in stored:
            if row.data.get("premise_id") != self.premise.premise_id:
                continue  # another premise's session (the store is shared by all entries)
            runtime = self.premise.chargers.get(row.charger_id)
            if runtime is None:
                _LOGGER.warning("Open session %s of a removed charger is closed", row.session_id)
                session = ChargingSession.from_dict(row.data)
                session.update_charger(ChargerStatus.UNPLUGGED, None, dt_util.utcnow())
                await store.call(partial(_save_closed, session.to_dict()))
                continue
            runtime.session = ChargingSession.from_dict(row.data)
            runtime.ledger = (
                IntervalLedger.restore(row.ledger) if row.ledger else self._new_ledger(runtime)
            )
            feed.restore(runtime, row.ledger)
            runtime.intervals = await store.call(
                partial(LedgerStore.intervals, session_id=row.session_id)
            )
            note_restart(runtime, runtime.session)  # the offline time (offline_energy)
            resumed.append(runtime)
            _LOGGER.info(
                "Resumed session %s on %s with %d intervals",
                row.session_id,
                runtime.name,
                len(runtime.intervals),
            )
        for runtime in self.premise.chargers.values():
            if runtime.session is None:
                last = await store.call(
                    partial(LedgerStore.recent_sessions, limit=1, charger_id=runtime.charger_id)
                )
                if last:
                    runtime.last_session = ChargingSession.from_dict(last[0].data)
                    intervals = await store.call(
                        partial(LedgerStore.intervals, session_id=last[0].session_id)
                    )
                    runtime.last_summary = self.summarize(runtime.last_session, intervals)
        return resumed

    def listen(self, runtime: ChargerRuntime) -> None:
        """Follow the charger and its meter (and read them once now)."""

        @callback
        def _changed() -> None:
            self.on_charger(runtime)

        @callback
        def _reading(at: datetime, kwh: float, meter_id: str) -> None:
            self.on_reading(runtime, at, kwh, meter_id)

        runtime.unsubscribers.append(runtime.adapter.async_listen(_changed))
        runtime.unsubscribers.append(runtime.meter.async_listen_readings(_reading))
        reading = runtime.meter.reading()
        if reading is not None:
            self.on_reading(runtime, reading[0], reading[1], runtime.meter.meter_id)
        self.on_charger(runtime)

    @callback
    def started(self) -> None:
        """Home Assistant runs: from now on a charger's unavailability is news."""
        self._started = True
        for runtime in self.premise.chargers.values():
            self.follow_availability(runtime)

    def stop(self) -> None:
        """Stop listening and write what is not yet durable (at unload or shutdown)."""
        for runtime in self.premise.chargers.values():
            for unsub in runtime.unsubscribers:
                unsub()
            runtime.unsubscribers.clear()
            if runtime.session is not None:
                self.schedule_save(runtime)
            elif runtime.demo is not None:
                self._save_demo(runtime)

    def _new_ledger(self, runtime: ChargerRuntime) -> IntervalLedger:
        return IntervalLedger(
            interval_minutes=self.premise.interval_minutes,
            premise_id=self.premise.premise_id,
            meter_id=runtime.meter.meter_id,
        )

    # -- identification and binding -----------------------------------------------------

    def _identify(self, runtime: ChargerRuntime, now: datetime) -> tuple[str | None, VehicleSource]:
        """Identify the vehicle at plug-in: charger ID (set or changed around the plug-in),
        NFC tag, select, default; else unknown."""
        if (reported := fresh_vehicle_id(runtime, now)) is not None:
            return reported, VehicleSource.CHARGER
        if runtime.adapter.vehicle_id() is not None:
            _LOGGER.debug("%s: the charger's vehicle ID is stale; not used", runtime.name)
        if self._last_tag is not None:
            tag, scanned = self._last_tag
            if (now - scanned).total_seconds() <= TAG_MEMORY_SECONDS:
                vehicle = self._vehicle_with_tag(tag)
                if vehicle is not None:
                    self._last_tag = None
                    return vehicle.pev_id, VehicleSource.TAG
        if runtime.preselected_pev is not None:
            return runtime.preselected_pev, VehicleSource.SELECT
        if (default := self.premise.default_vehicle()) is not None:
            return default.pev_id, VehicleSource.DEFAULT
        return None, VehicleSource.UNKNOWN

    def _vehicle_with_tag(self, tag: str) -> Any:
        return next((v for v in self.premise.vehicles.values() if tag in v.tags), None)

    @callback
    def on_tag(self, event: Event) -> None:
        """An NFC tag was scanned: it identifies the next plug-in, or a session's unknown car."""
        tag_id = event.data.get("tag_id")
        if not tag_id or (vehicle := self._vehicle_with_tag(tag_id)) is None:
            return
        # A scan during a session whose vehicle is not known from the charger reassigns it.
        for runtime in self.premise.chargers.values():
            session = runtime.session
            if session is not None and session.vehicle_source in (
                VehicleSource.UNKNOWN,
                VehicleSource.DEFAULT,
            ):
                self.assign_vehicle(runtime, vehicle.pev_id, VehicleSource.TAG)
                return
        self._last_tag = (tag_id, dt_util.utcnow())

    @callback
    def assign_vehicle(
        self, runtime: ChargerRuntime, pev_id: str | None, source: VehicleSource
    ) -> None:
        """Bind a vehicle to the charger's session (or preselect it for the next plug-in)."""
        session = runtime.session
        if session is None:
            runtime.preselected_pev = pev_id
            self.premise.changed()
            return
        now = dt_util.utcnow()
        session.identify(pev_id, source)
        if runtime.ledger is not None:
            runtime.ledger.pev_id = pev_id
        runtime.intervals = [replace(i, pev_id=pev_id) for i in runtime.intervals]
        self.premise.submit(lambda s: s.assign_pev(session.session_id, pev_id))
        if self.link is None:
            self._bind(runtime, self._decide(pev_id), now)
            return
        session.bind(PENDING_DECISION, now)
        self.premise.changed()
        self.premise.task(self._async_validate(runtime, session), "pev_portal_validate")

    def _reidentify(self, runtime: ChargerRuntime, pev_id: str, now: datetime) -> None:
        """The charger reports another vehicle during the session: re-identify it, re-bind it
        (the utility asked again when linked) and re-price the session from its first interval
        (its intervals are re-attributed; the summary follows the new binding)."""
        session = runtime.session
        assert session is not None
        session.reidentified.append(
            {
                "at": now.isoformat(),
                "from_pev_id": session.pev_id,
                "to_pev_id": pev_id,
                "from_source": session.vehicle_source.value,
                "previous_outcome": session.decision.outcome.value,
            }
        )
        _LOGGER.info(
            "Session %s on %s: the charger reports another vehicle; re-identified and re-bound",
            session.session_id,
            runtime.name,
        )
        self.premise.hass.bus.async_fire(
            EVENT_SESSION_REIDENTIFIED,
            {
                "charger": runtime.name,
                "session_id": session.session_id,
                "pev_id": pev_id,
                "previous_pev_id": session.pev_id,
                "previous_source": session.vehicle_source.value,
                "previous_outcome": session.decision.outcome.value,
            },
        )
        self.assign_vehicle(runtime, pev_id, VehicleSource.CHARGER)

    def _decide(self, pev_id: str | None) -> BindingDecision:
        vehicle = self.premise.vehicle_by_pev_id(pev_id)
        return decide_local(vehicle is not None and vehicle.relation is Relation.HOME)

    async def _async_validate(self, runtime: ChargerRuntime, session: ChargingSession) -> None:
        """Ask the utility about the PEV and apply its answer, or its absence (req 30)."""
        link = self.link
        assert link is not None
        pev_id = session.pev_id
        vehicle = self.premise.vehicle_by_pev_id(pev_id)
        registered = vehicle is not None and vehicle.relation is Relation.HOME
        answer: ValidationAnswer | None = None
        failure: str | None = "the vehicle could not be identified"
        if pev_id is not None:
            energy, departure = self.charging.energy_request(runtime)
            answer, failure = await link.async_validate(
                pev_id=pev_id,
                max_power_kw=runtime.adapter.max_power_kw(),
                connection=runtime.connection,
                energy_request_kwh=energy,
                departure=departure,
                window=self.premise.validation_window,
            )
        if runtime.session is not session or not session.active or session.pev_id != pev_id:
            return  # unplugged meanwhile, or re-identified: a newer validation decides
        decision = decide(
            answer, registered_here=registered, utility_id=link.utility_id, failure=failure
        )
        # The utility's answer rebuilt its timeline already (utility.async_validate); binding
        # tells smart charging, which plans the session on its tariff and limits.
        self._bind(runtime, decision, dt_util.utcnow())

    def _bind(self, runtime: ChargerRuntime, decision: BindingDecision, now: datetime) -> None:
        session = runtime.session
        assert session is not None
        session.bind(decision, now)
        self.premise.hass.bus.async_fire(
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
        for listener in self.listeners:
            listener.session_bound(runtime, session)
        self.premise.changed()

    # -- charger and meter input --------------------------------------------------------

    @callback
    def follow_availability(self, runtime: ChargerRuntime) -> None:
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
            self.premise.changed()

    @callback
    def on_charger(self, runtime: ChargerRuntime) -> None:
        """The charger's state changed: start, follow or end its session."""
        self.follow_availability(runtime)
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
        self._follow_transaction(runtime, session, now)
        reported = runtime.adapter.vehicle_id()
        if reported is not None and reported != session.charger_vehicle_id:
            # A new value (an OCPP charger reports the card after plug-in, with the
            # transaction); a restored, unchanged one is no news.
            session.charger_vehicle_id = reported
            runtime.dirty = True
            fresh = fresh_vehicle_id(runtime, session.started_at)
            if fresh is not None and session.pev_id is None:
                self.assign_vehicle(runtime, fresh, VehicleSource.CHARGER)  # identified
                return
            if (
                fresh is not None
                and fresh != session.pev_id
                and session.vehicle_source is not VehicleSource.USER
            ):
                self._reidentify(runtime, fresh, now)
                return
        if session.state is not previous:
            runtime.dirty = True
            self.schedule_save(runtime)
        self.premise.changed()

    def _start_session(self, runtime: ChargerRuntime, status: ChargerStatus, now: datetime) -> None:
        session = ChargingSession(
            charger_id=runtime.charger_id, premise_id=self.premise.premise_id, started_at=now
        )
        pev_id, source = self._identify(runtime, now)
        session.identify(pev_id, source)
        session.charger_vehicle_id = runtime.adapter.vehicle_id()
        session.update_charger_energy(runtime.adapter.energy_kwh())
        session.update_charger(status, runtime.adapter.power_kw(), now)
        runtime.session = session
        runtime.preselected_pev = None
        runtime.intervals = []
        ledger = self._new_ledger(runtime)
        ledger.pev_id = pev_id
        runtime.ledger = ledger
        feed.start(runtime, ledger)
        if runtime.last_reading is not None:
            # The register at plug-in is the session's baseline (both registers).
            _at, kwh, meter_id = runtime.last_reading
            ledger.add(now.replace(microsecond=0), kwh, meter_id)
            feed.sample(runtime, now.replace(microsecond=0))
        self._follow_transaction(runtime, session, now)
        self.premise.hass.bus.async_fire(
            EVENT_SESSION_STARTED,
            {
                "charger": runtime.name,
                "session_id": session.session_id,
                "pev_id": pev_id,
                "vehicle_source": source.value,
            },
        )
        _LOGGER.debug("Session %s started on %s (%s)", session.session_id, runtime.name, pev_id)
        for listener in self.listeners:
            listener.session_started(runtime, session)
        if self.link is None:
            # Without a utility link the binding is decided at once, locally.
            self._bind(runtime, self._decide(pev_id), now)
        else:
            # The utility validates the PEV; charging is not held meanwhile (req 3).
            self.premise.changed()
            self.premise.task(self._async_validate(runtime, session), "pev_portal_validate")

    def _follow_transaction(
        self, runtime: ChargerRuntime, session: ChargingSession, now: datetime
    ) -> None:
        """A transaction of the charger's started: noted; its meterStart is the session's
        baseline when the meter is the charger's register (session_edges)."""
        if follow_transaction(runtime, session, self._new_ledger(runtime)):
            runtime.dirty = True
            self.schedule_save(runtime)
        if runtime.offline is not None:
            self._metered(runtime, settle(runtime, session, final=False))

    def _end_session(self, runtime: ChargerRuntime, now: datetime) -> None:
        session, ledger = runtime.session, runtime.ledger
        assert session is not None
        closed: list[Interval] = []
        anomalies: list[Anomaly] = []
        if ledger is not None:
            # The offline time decided; the transaction closes the last interval.
            offline = settle(runtime, session, final=True)
            end, last_closed = close_transaction(runtime, session, ledger, now)
            feed.close(runtime, end)
            closed = runtime.meter.mark_intervals(
                feed.merge(runtime, offline + last_closed + ledger.close(end))
            )
            anomalies = ledger.drain_anomalies() + feed.anomalies(runtime)
            session.meter_kwh = ledger.total_kwh
            if (mismatch := reconcile(runtime, session)) is not None:
                anomalies.append(mismatch)
        runtime.intervals.extend(closed)
        summary = self.summarize(session, runtime.intervals)
        all_intervals = runtime.intervals
        runtime.last_session, runtime.last_summary = session, summary
        runtime.session, runtime.ledger, runtime.received = None, None, None
        runtime.intervals = []
        self.premise.hass.bus.async_fire(
            EVENT_SESSION_ENDED,
            {"charger": runtime.name, **summary.to_dict()},
        )
        data, sdict = session.to_dict(), summary.to_dict()
        meta = demo_meta(runtime)  # the car gone with the session's end, in one transaction
        self.premise.submit(
            lambda s: s.save_session(data, None, closed, anomalies, sdict, meta=meta)
        )
        # After the final save (the store writes in order): report, statistics, the plan.
        for listener in self.listeners:
            listener.session_ended(runtime, session, all_intervals, summary)
        self.premise.changed()

    @callback
    def on_reading(self, runtime: ChargerRuntime, at: datetime, kwh: float, meter_id: str) -> None:
        """A meter reading: into the session's ledger (closed intervals written at once)."""
        at = at.replace(microsecond=0)
        previous = runtime.last_reading
        runtime.last_reading = (at, kwh, meter_id)
        runtime.readings.append((at, kwh, meter_id))
        self._meter(runtime, at, kwh, meter_id, previous[0] if previous else None)

    def _meter(
        self,
        runtime: ChargerRuntime,
        at: datetime,
        kwh: float,
        meter_id: str,
        since: datetime | None = None,
    ) -> None:
        """Both registers at ``at``: the import reading (``since``: the meter's previous one;
        the ticks' samples between them are not the meter's), the received register then."""
        ledger, session = runtime.ledger, runtime.session
        if ledger is None or session is None:
            return
        last = ledger.last_reading
        if last is not None and at <= last.at and meter_id == ledger.meter_id:
            # Several readings within one second (NF.1 resolution): the register is
            # cumulative, so the next reading in a later second carries this energy.
            if at == last.at:
                feed.sample(runtime, at)  # the received register's news in that second
            return
        try:
            produced = add_reading(runtime, session, ledger, at, kwh, meter_id, since)
        except ValueError as err:
            _LOGGER.warning("Meter reading %s at %s rejected: %s", kwh, at, err)
            return
        feed.sample(runtime, at)
        self._metered(runtime, produced)

    def _metered(self, runtime: ChargerRuntime, produced: list[Interval]) -> None:
        """What a reading made of the ledger: intervals and anomalies saved, the sum shown."""
        ledger, session = runtime.ledger, runtime.session
        assert ledger is not None
        assert session is not None
        closed = runtime.meter.mark_intervals(feed.merge(runtime, produced))
        anomalies = ledger.drain_anomalies() + feed.anomalies(runtime)
        for anomaly in anomalies:
            _LOGGER.warning("Meter %s on %s: %s", ledger.meter_id, runtime.name, anomaly.message)
        session.meter_kwh = ledger.total_kwh
        if closed or anomalies:
            runtime.intervals.extend(closed)
            self.schedule_save(runtime, closed, anomalies)
        else:
            runtime.dirty = True
        self.premise.changed()

    # -- durability -----------------------------------------------------------------------

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
        snapshot = feed.snapshot(runtime, ledger.snapshot() if ledger is not None else None)
        new, found = list(closed or ()), list(anomalies or ())
        runtime.dirty = False
        runtime.last_saved = dt_util.utcnow()
        # The simulated register is written in the ledger's transaction: a crash never rewinds
        # it behind the snapshot that read it (a spurious 'backwards' reading at restart).
        meta = demo_meta(runtime)
        self.premise.submit(lambda s: s.save_session(data, snapshot, new, found, meta=meta))

    def _save_demo(self, runtime: ChargerRuntime) -> None:
        for key, value in demo_meta(runtime).items():
            self.premise.submit(partial(_set_meta, key, value))

    @callback
    def tick(self, now: datetime) -> None:
        """Advance the demo, and make running sums durable at least every 30 s."""
        for runtime in self.premise.chargers.values():
            if runtime.demo is not None:
                runtime.demo.step(now)
            if runtime.last_reading is not None and feed.changed(runtime):
                # The car feeds while the import register is flat: both sampled now.
                self._meter(runtime, now.replace(microsecond=0), *runtime.last_reading[1:])
            if runtime.session is not None and (
                runtime.dirty
                and (
                    runtime.last_saved is None
                    or (now - runtime.last_saved).total_seconds() >= CHECKPOINT_SECONDS
                )
            ):
                self.schedule_save(runtime)

    # -- reading --------------------------------------------------------------------------

    def summarize(self, session: ChargingSession, intervals: list[Interval]) -> SessionSummary:
        """A session's summary on its own tariff, the energy fed at the export price."""
        prices = (
            self.events.export_prices(intervals[0].start, intervals[-1].end) if intervals else []
        )
        tariff = self.events.tariff_for(session.pev_id)
        return summarize(session, intervals, tariff, self.default_tariff, prices)

    def live_summary(self, runtime: ChargerRuntime) -> SessionSummary | None:
        """The active session's summary including the interval still open."""
        session = runtime.session
        if session is None:
            return runtime.last_summary
        return self.summarize(session, self.intervals_so_far(runtime))

    def intervals_so_far(self, runtime: ChargerRuntime) -> list[Interval]:
        """The session's intervals with the one still open (cut at the last reading)."""
        return feed.intervals_so_far(runtime)

    def charger_by_device(self, device_id: str) -> ChargerRuntime:
        """The charger a device belongs to."""
        device = dr.async_get(self.premise.hass).async_get(device_id)
        if device is not None:
            for domain, identifier in device.identifiers:
                if domain == DOMAIN and identifier in self.premise.chargers:
                    return self.premise.chargers[identifier]
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_charger",
            translation_placeholders={"device_id": device_id},
        )

    async def async_export(
        self, start: datetime, end: datetime
    ) -> tuple[list[dict[str, Any]], list[tuple[str, Interval]]]:
        """Sessions started in [start, end) with their intervals (and their commands)."""
        store = self.premise.store
        rows = await store.call(lambda s: s.sessions_between(start, end))
        sessions: list[dict[str, Any]] = []
        intervals: list[tuple[str, Interval]] = []
        for row in rows:
            if row.data.get("premise_id") != self.premise.premise_id:
                continue
            found = await store.call(partial(LedgerStore.intervals, session_id=row.session_id))
            commands = await store.call(partial(LedgerStore.commands, session_id=row.session_id))
            sessions.append({**row.data, "summary": row.summary, "commands": commands})
            intervals.extend((row.session_id, i) for i in found)
        return sessions, intervals


def _set_meta(key: str, value: Any, store: LedgerStore) -> None:
    store.set_meta(key, value)


def _save_closed(data: dict[str, Any], store: LedgerStore) -> None:
    """Store a session closed at set-up (its charger was removed)."""
    store.save_session(data, None)
