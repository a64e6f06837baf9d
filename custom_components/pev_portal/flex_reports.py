"""Flexibility offered ahead of time: ``USAGE_FORECAST``, ``LOAD_SHED_DELTA_AVAILABLE``,
``STORAGE_CHARGE_LEVEL`` and ``STORAGE_USABLE_CAPACITY`` reports (profile 'Flexibility offered
ahead of time'; the computations are :mod:`.core.flexibility`, the bodies
:mod:`.openadr.reports_flex`).

For each vehicle plugged in (a session with a PEV ID and a plan) and each utility event that
applies to it and whose ``reportDescriptors`` ask for one of these payloads:

* ``flex-<PEV ID>``: the current plan's energy per clock-aligned metering interval from now to
  the end of the plan or the departure (``USAGE_FORECAST``) and, when asked, minus the power
  that could be shed in each interval without missing the departure target
  (``LOAD_SHED_DELTA_AVAILABLE``, computed off the event loop: one plan per interval with
  planned load, see :func:`~.core.flexibility.shed_available`);
* ``storage-<PEV ID>``: when asked and the car's state of charge and capacity are known, the
  battery level (0-1) and capacity; when asked, the charger's maximum power each way
  (``STORAGE_MAX_CHARGE_POWER``, ``STORAGE_MAX_DISCHARGE_POWER``: 0 when it cannot
  discharge);
* in ``flex-<PEV ID>``, when asked, ``STORAGE_DISPATCH_FORECAST``: the energy into the
  battery minus the energy fed back per interval, from the power-feed plan
  (``feed_dispatch``), else the charging forecast (a session that does not feed).

Refreshed when the vehicle's plan changes, at most every 5 minutes and at least every hour
(:func:`~.core.flexibility.refresh_due`); at unplug the forecast from then on is sent as 0 (the
vehicle left). Each report is one row of the link's crash-safe outbox, updated in place under
its one name, so an outage only delays the newest version and nothing is sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .charging.settings import state_of_charge
from .coalesce import Coalesced
from .const import PLAN_HORIZON_HOURS
from .core.flexibility import (
    ShedInterval,
    StorageStatus,
    forecast_grid,
    refresh_due,
    shed_available,
    storage_status,
    usage_forecast,
)
from .core.metering import Interval
from .core.planner import Plan, PlanInputs
from .core.session import ChargingSession
from .core.settlement import EnergyInterval, PlanningInputs
from .core.summary import SessionSummary
from .io.store import LedgerStore
from .openadr.models import Event
from .openadr.reports_flex import (
    FLEX_PAYLOADS,
    flexibility_report,
    requested_payloads,
    storage_report,
)
from .ports import Premise, SessionEvents
from .runtime import ChargerRuntime

if TYPE_CHECKING:
    from .charging.planning import SmartCharging
    from .utility import UtilityLink

_LOGGER = logging.getLogger(__name__)

CHECK_EVERY: Final = timedelta(seconds=30)
"""How often the refresh rule is looked at (a change waiting for the rate limit, the hour)."""
MIN_INTERVAL: Final = timedelta(minutes=5)
MAX_INTERVAL: Final = timedelta(hours=1)
SHED: Final = "LOAD_SHED_DELTA_AVAILABLE"
BATTERY: Final = frozenset({"STORAGE_CHARGE_LEVEL", "STORAGE_USABLE_CAPACITY"})
MAX_POWER: Final = frozenset({"STORAGE_MAX_CHARGE_POWER", "STORAGE_MAX_DISCHARGE_POWER"})
STORAGE: Final = BATTERY | MAX_POWER
"""The payloads of the ``storage-`` report (one reading)."""
DISPATCH: Final = "STORAGE_DISPATCH_FORECAST"


class FlexReports(SessionEvents):
    """Queues each plugged-in vehicle's flexibility reports (see the module docstring)."""

    def __init__(self, premise: Premise, link: UtilityLink, smart: SmartCharging) -> None:
        """Hears the plans of ``smart``; :meth:`start` and :meth:`stop` the periodic check."""
        self.premise = premise
        self.hass = premise.hass
        self.link = link
        self.smart = smart
        self.sent: dict[tuple[str, str], datetime] = {}
        """(PEV ID, event ID) -> when its reports were last queued."""
        self.queued = 0
        """Report bodies queued since start."""
        self._plan_changed: dict[str, datetime] = {}
        self._slots: dict[str, Any] = {}
        self._until: dict[tuple[str, str], tuple[datetime, bool, bool]] = {}
        self._runner = Coalesced(
            self.hass, premise.entry, self._async_pass, "pev_portal_flex_reports"
        )
        self._unsub: CALLBACK_TYPE | None = None
        smart.on_planned.append(self._planned)

    def start(self) -> None:
        """Look at the refresh rule periodically (the hour, a change the limit held back)."""
        self._unsub = async_track_time_interval(self.hass, self._tick, CHECK_EVERY)

    def stop(self) -> None:
        """At unload: nothing more is queued."""
        self._runner.stop()
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    # -- what starts a refresh --------------------------------------------------------------

    def _planned(self, runtime: ChargerRuntime, plan: dict[str, Any] | None) -> None:
        """A replan: the vehicle's reports are due when its own plan changed."""
        session = runtime.session
        if session is None or not session.pev_id:
            return
        slots = (plan or {}).get("slots")
        if self._slots.get(runtime.charger_id) == slots and session.pev_id in self._plan_changed:
            return
        self._slots[runtime.charger_id] = slots
        self._plan_changed[session.pev_id] = dt_util.utcnow()
        self.schedule()

    @callback
    def _tick(self, _now: datetime) -> None:
        self.schedule()

    @property
    def _stopped(self) -> bool:
        return self._runner.stopped

    @callback
    def schedule(self) -> None:
        """Queue what is due, soon (one run at a time)."""
        self._runner.schedule()

    async def _async_pass(self) -> bool:
        try:
            await self.async_refresh()
        except RuntimeError as err:  # the store closed under us (unload)
            _LOGGER.debug("Flexibility reports not queued: %s", err)
            return False
        return True

    # -- what is due ----------------------------------------------------------------------

    def requesting(self, pev_id: str) -> list[tuple[Event, frozenset[str]]]:
        """The events that apply to the vehicle and ask for flexibility payloads (which)."""
        found = []
        for event in self.link.state.events.values():
            asked = requested_payloads(event.report_descriptors) & FLEX_PAYLOADS
            if asked and self.link.timeline.applies(event, pev_id):
                found.append((event, asked))
        return found

    async def async_refresh(self, now: datetime | None = None) -> int:
        """Queue the reports the refresh rule says are due; returns how many bodies."""
        now = now or dt_util.utcnow()
        plan = self.smart.plan
        queued = 0
        for runtime in list(self.premise.chargers.values()):
            session = runtime.session
            if session is None or not session.pev_id or plan is None:
                continue
            if runtime.charger_id not in plan.vehicles:
                continue
            pev_id = session.pev_id
            due = [
                (event, asked)
                for event, asked in self.requesting(pev_id)
                if refresh_due(
                    self.sent.get((pev_id, event.id)),
                    now,
                    changed=self._changed(pev_id, event.id),
                    min_interval=MIN_INTERVAL,
                    max_interval=MAX_INTERVAL,
                )
            ]
            if not due:
                continue
            try:
                queued += await self._async_queue(runtime, session, plan, due, now)
            except ValueError as err:  # a body the 3.1.0 rules refuse: logged, tried later
                _LOGGER.warning("Flexibility report of %s not queued: %s", pev_id, err)
                for event, _asked in due:
                    self.sent[(pev_id, event.id)] = now
        return queued

    def _changed(self, pev_id: str, event_id: str) -> bool:
        changed = self._plan_changed.get(pev_id)
        sent = self.sent.get((pev_id, event_id))
        return changed is not None and (sent is None or changed > sent)

    # -- the bodies -------------------------------------------------------------------------

    async def _async_queue(
        self,
        runtime: ChargerRuntime,
        session: ChargingSession,
        plan: Plan,
        due: Sequence[tuple[Event, frozenset[str]]],
        now: datetime,
    ) -> int:
        pev_id = session.pev_id
        assert pev_id is not None
        vp = plan.vehicles[runtime.charger_id]
        end = max(
            [now + timedelta(minutes=self.premise.interval_minutes)]
            + [s.end for s in vp.slots[-1:]]
            + [d for d in [self.smart.departures.get(runtime.charger_id)] if d is not None]
        )
        end = min(end, now + timedelta(hours=PLAN_HORIZON_HOURS))
        grid = forecast_grid(now, end, self.premise.interval_minutes)
        forecast = usage_forecast(vp, grid)
        shed: list[ShedInterval] | None = None
        if any(SHED in asked for _, asked in due):
            found = await self._async_shed(runtime, plan, grid, now)
            if found is not None:
                shed = [_aligned(s, a, b) for s, (a, b) in zip(found, grid, strict=True)]
        dispatch: list[EnergyInterval] | None = None
        if any(DISPATCH in asked for _, asked in due):
            segments = self.smart.feed_dispatch(runtime.charger_id)
            dispatch = _dispatch(segments, grid) if segments else list(forecast)
        storage = None
        if any(asked & BATTERY for _, asked in due):
            vehicle = self.premise.vehicle_by_pev_id(pev_id)
            soc = state_of_charge(self.hass, runtime, vehicle)
            capacity = vehicle.capacity_kwh if vehicle is not None else None
            if not capacity and runtime.demo is not None and runtime.demo.evse.car is not None:
                capacity = runtime.demo.evse.car.capacity_kwh
            storage = storage_status(soc * 100 if soc is not None else None, capacity)
        count = 0
        for event, asked in due:
            bodies: list[tuple[str, str, dict[str, Any]]] = []
            if asked - STORAGE:  # the forecast (and the shed when asked)
                bodies.append(
                    (
                        "flex",
                        f"flex-{pev_id}",
                        self._flex_body(event, pev_id, forecast, shed, asked, dispatch),
                    )
                )
                self._until[(pev_id, event.id)] = (grid[-1][1], SHED in asked, DISPATCH in asked)
            if body := self._storage_body(event, runtime, pev_id, storage, asked, now):
                bodies.append(("storage", f"storage-{pev_id}", body))
            for kind, name, body in bodies:
                await self._async_put(session.session_id, event, kind, name, pev_id, body, now)
            self.sent[(pev_id, event.id)] = now
            count += len(bodies)
        if count:
            await self._async_pump()
        return count

    def _flex_body(
        self,
        event: Event,
        pev_id: str,
        forecast: Sequence[EnergyInterval],
        shed: Sequence[ShedInterval] | None,
        asked: frozenset[str],
        dispatch: Sequence[EnergyInterval] | None,
    ) -> dict[str, Any]:
        return flexibility_report(
            program_id=event.program_id,
            event_id=event.id,
            client_name=self.link.ven_name,
            report_name=f"flex-{pev_id}",
            pev_id=pev_id,
            forecast=forecast,
            shed=(shed if shed is not None else []) if SHED in asked else None,
            dispatch=dispatch if DISPATCH in asked else None,
        )

    def _storage_body(
        self,
        event: Event,
        runtime: ChargerRuntime,
        pev_id: str,
        storage: StorageStatus | None,
        asked: frozenset[str],
        now: datetime,
    ) -> dict[str, Any] | None:
        """The ``storage-`` report with what is asked and known (None: nothing)."""
        adapter = runtime.adapter
        status = storage if asked & BATTERY else None
        charge = adapter.max_power_kw() if "STORAGE_MAX_CHARGE_POWER" in asked else None
        discharge = None
        if "STORAGE_MAX_DISCHARGE_POWER" in asked:
            discharge = adapter.max_discharge_kw() if adapter.can_discharge() else 0.0
        if status is None and charge is None and discharge is None:
            return None
        return storage_report(
            program_id=event.program_id,
            event_id=event.id,
            client_name=self.link.ven_name,
            report_name=f"storage-{pev_id}",
            pev_id=pev_id,
            at=now,
            storage=status,
            max_charge_kw=charge,
            max_discharge_kw=discharge,
        )

    async def _async_shed(
        self,
        runtime: ChargerRuntime,
        plan: Plan,
        grid: Sequence[tuple[datetime, datetime]],
        now: datetime,
    ) -> list[ShedInterval] | None:
        """The sheddable load per interval (off the event loop: several plans); None when it
        cannot be computed (logged: the forecast is still sent, with no shed offered)."""
        inputs, _departures = self.smart.build_inputs(now)
        if {r.vehicle_id for r in inputs.requests} != set(plan.vehicles):
            return None  # a vehicle came or left since the plan: the next plan tells
        probe = _planning_inputs(inputs, now)
        try:
            return await self.hass.async_add_executor_job(
                partial(shed_available, probe, runtime.charger_id, grid, current=plan)
            )
        except Exception:  # a planner failure must not stop the forecast
            _LOGGER.exception("The sheddable load could not be computed; please report")
            return None

    async def _async_put(
        self,
        session_id: str,
        event: Event,
        kind: str,
        name: str,
        pev_id: str,
        body: dict[str, Any],
        now: datetime,
    ) -> None:
        await self.premise.store.call(
            partial(
                LedgerStore.outbox_put,
                report_key=f"{kind}:{pev_id}:{event.id}",
                session_id=session_id,
                event_id=event.id,
                program_id=event.program_id,
                report_name=name,
                kind=kind,
                body=body,
                now=now,
                premise_id=self.premise.premise_id,
            )
        )
        self.queued += 1

    async def _async_pump(self) -> None:
        await self.link._refresh_backlog()
        self.hass.async_create_task(self.link._async_pump(), eager_start=False)

    # -- unplug -----------------------------------------------------------------------------

    def session_ended(
        self,
        runtime: ChargerRuntime,
        session: ChargingSession,
        intervals: list[Interval],
        summary: SessionSummary,
    ) -> None:
        """The vehicle left: its forecast from now on is 0 (nothing to shed either)."""
        self._slots.pop(runtime.charger_id, None)
        pev_id = session.pev_id
        if not pev_id or self._stopped:
            return
        self._plan_changed.pop(pev_id, None)
        now = dt_util.utcnow()
        left = {k: v for k, v in self._until.items() if k[0] == pev_id and v[0] > now}
        for key in left:
            del self._until[key]
            self.sent.pop(key, None)
        events = {e.id: e for e in self.link.state.events.values()}
        jobs = [
            (events[k[1]], until, with_shed, with_dispatch)
            for k, (until, with_shed, with_dispatch) in left.items()
            if k[1] in events
        ]
        if jobs:
            self.premise.task(
                self._async_left(session.session_id, pev_id, jobs, now), "pev_portal_flex_left"
            )

    async def _async_left(
        self,
        session_id: str,
        pev_id: str,
        jobs: Sequence[tuple[Event, datetime, bool, bool]],
        now: datetime,
    ) -> None:
        for event, until, with_shed, with_dispatch in jobs:
            grid = forecast_grid(now, until, self.premise.interval_minutes)
            zero = [(a, b, 0.0) for a, b in grid]
            body = flexibility_report(
                program_id=event.program_id,
                event_id=event.id,
                client_name=self.link.ven_name,
                report_name=f"flex-{pev_id}",
                pev_id=pev_id,
                forecast=zero,
                shed=[] if with_shed else None,
                dispatch=zero if with_dispatch else None,
            )
            await self._async_put(session_id, event, "flex", f"flex-{pev_id}", pev_id, body, now)
        await self._async_pump()


def _planning_inputs(inputs: PlanInputs, now: datetime) -> PlanningInputs:
    """The smart charging's planner inputs as one :func:`~.core.planner.plan` call takes them."""
    return PlanningInputs(
        requests=inputs.requests,
        now=now,
        tariff=inputs.tariff,
        caps=inputs.caps,
        circuit_kw=inputs.circuit_kw,
        solar=inputs.solar,
        horizon=timedelta(hours=PLAN_HORIZON_HOURS),
    )


def _dispatch(
    segments: Sequence[tuple[datetime, datetime, float]],
    grid: Sequence[tuple[datetime, datetime]],
) -> list[EnergyInterval]:
    """The feed plan's net power (kW, below 0: fed back) as energy per grid interval."""
    out: list[EnergyInterval] = []
    for a, b in grid:
        kwh = sum(
            kw * (min(b, e) - max(a, s)).total_seconds() / 3600
            for s, e, kw in segments
            if s < b and a < e
        )
        out.append((a, b, kwh))
    return out


def _aligned(shed: ShedInterval, start: datetime, end: datetime) -> ShedInterval:
    """The first interval is clipped to now by :func:`~.core.flexibility.shed_available`: its
    powers are averaged over the whole aligned interval, as the forecast's energy is."""
    whole = (end - start).total_seconds()
    share = (shed.end - shed.start).total_seconds() / whole if whole > 0 else 0.0
    return ShedInterval(start, end, shed.planned_kw * share, shed.shed_kw * share)
