"""Settlement in Home Assistant: what each event achieved on each session it touched.

A :class:`~.ports.SessionListener` and a listener of the program's events
(:class:`~.program_events.ProgramEvents`):

1. **Freeze.** When an event that touches an open session is first seen (it arrives, the
   session is bound, or at start for the sessions that resumed), the planner runs once more on
   the inputs of that moment without the event (:func:`~.core.settlement.counterfactual_plan`,
   inputs from :mod:`.settlement_inputs`), and the vehicle's planned slots are kept in the
   store with the session (table ``settlements``, written once: a replan, a new target or a
   restart never moves them). The energy the session asked for (metered so far + still
   wanted) is kept with them, for "target met".
2. **Settle.** One metering interval after the event ends (the intervals of the window are
   closed then), or when the session ends first, the performance is computed with both
   baselines (the frozen counterfactual and the vehicle's meter baseline from its previous
   comparable sessions, :func:`~.core.settlement.meter_baseline`) and stored
   (``provisional``). At unplug it is computed again and stored ``final``: the energy shifted
   and whether the target was met are known then. The window is the event's, cut to the
   session (plug-in to unplug).
3. **Report.** A utility event's performance is queued in the link's outbox as ``BASELINE``
   and ``DELTA_USAGE`` when an event of its program asks for them (``reportDescriptors``).

An event that disappears before it began (cancelled) is forgotten; one cancelled while in force
ends then. Store writes go through the store's ordered, retried queue (a failing write is kept
and retried; the state here is kept meanwhile). A metered interval whose energy is not a finite
number is left out and flagged (``meter_gap``): a performance never holds a NaN.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.util import dt as dt_util

from .coalesce import Coalesced
from .core.metering import Interval
from .core.session import ChargingSession
from .core.settlement import (
    BaselineMethod,
    IncentiveRules,
    Performance,
    counterfactual_plan,
    plan_intervals,
)
from .core.summary import SessionSummary
from .io.settlements import STATE_FINAL, STATE_FROZEN, STATE_PROVISIONAL
from .io.store import LedgerStore, iso, parse_iso
from .openadr.program_rules import incentive_rules
from .ports import Premise, SessionEvents
from .program_events import ProgramEvents
from .runtime import ChargerRuntime
from .settlement_figures import (
    as_dict,
    compute,
    interval_list,
    json_intervals,
    measured_energy,
    num,
)
from .settlement_inputs import (
    Touch,
    counterfactual_inputs,
    event_limits,
    event_window,
    touching,
)

if TYPE_CHECKING:
    from .charging import SmartCharging
    from .utility import UtilityLink

_LOGGER = logging.getLogger(__name__)

RECENT = 20  # settled rows kept for the entities and the card
type Key = tuple[str, str]  # (session ID, event ID)


class SettlementTracker(SessionEvents):
    """Freezes, settles, stores and reports each event's performance (module docstring)."""

    def __init__(
        self,
        premise: Premise,
        events: ProgramEvents,
        smart: SmartCharging,
        intervals_so_far: Callable[[ChargerRuntime], list[Interval]],
    ) -> None:
        self.premise = premise
        self.events = events
        self.smart = smart
        self.intervals_so_far = intervals_so_far
        self.link: UtilityLink | None = None
        self.unsettled: dict[Key, dict[str, Any]] = {}
        self.recent: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()
        self._freezing = Coalesced(
            premise.hass,
            premise.entry,
            self._async_freeze_safely,
            "pev_portal_settlement_freeze",
            eager_start=True,
        )
        self._settling: set[Key] = set()

    # -- life cycle -----------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the frozen events not yet settled and the recent performances."""
        premise_id = self.premise.premise_id
        try:
            rows = await self.premise.store.read(
                partial(LedgerStore.settlements_unsettled, premise_id=premise_id)
            )
            recent = await self.premise.store.read(
                partial(LedgerStore.settlements_recent, premise_id=premise_id, limit=RECENT)
            )
        except Exception:
            _LOGGER.exception("The stored event performances could not be read")
            return
        self.unsettled = {(r["session_id"], r["event_id"]): r for r in rows}
        self.recent = recent

    @callback
    def start(self) -> CALLBACK_TYPE:
        """Listen to the events and look for events touching the resumed sessions."""
        remove = self.events.add_listener(self._on_events)
        self.schedule()
        return remove

    @callback
    def stop(self) -> None:
        """At unload: start nothing more."""
        self._freezing.stop()

    @property
    def _stopped(self) -> bool:
        return self._freezing.stopped

    @callback
    def _on_events(self, _reason: str) -> None:
        self._forget_cancelled(dt_util.utcnow())
        self.schedule()

    def session_bound(self, runtime: ChargerRuntime, session: ChargingSession) -> None:
        """The vehicle is known: the events touching its session are frozen now."""
        self.schedule()

    def session_ended(
        self,
        runtime: ChargerRuntime,
        session: ChargingSession,
        intervals: list[Interval],
        summary: SessionSummary,
    ) -> None:
        """Settle the session's events (final)."""
        end = session.ended_at or dt_util.utcnow()
        for key, row in list(self.unsettled.items()):
            if key[0] == session.session_id:
                self._start_settle(key, row, session, list(intervals), end, final=True)

    @callback
    def tick(self, now: datetime) -> None:
        """Settle the events that ended one metering interval ago (provisional), and the
        sessions that ended without this part hearing of it (a restart, a removed charger)."""
        grace = timedelta(minutes=self.premise.interval_minutes)
        open_sessions = {
            r.session.session_id: r for r in self.premise.chargers.values() if r.session
        }
        for key, row in list(self.unsettled.items()):
            if key in self._settling:
                continue
            runtime = open_sessions.get(key[0])
            if runtime is None or runtime.session is None:
                self._settling.add(key)
                self.premise.task(self._async_settle_stored(key, row), "pev_portal_settle")
            elif (
                row["state"] == STATE_FROZEN and not row.get("failed") and now >= row["end"] + grace
            ):
                intervals = self.intervals_so_far(runtime)
                self._start_settle(key, row, runtime.session, intervals, None, final=False)

    # -- freezing -------------------------------------------------------------------------

    @callback
    def schedule(self) -> None:
        """Look for events to freeze, soon (coalesced: one pass at a time)."""
        self._freezing.schedule()

    async def _async_freeze_safely(self) -> None:
        try:
            await self._async_freeze_pass()
        except Exception:
            _LOGGER.exception("Freezing an event's counterfactual failed; please report")

    async def _async_freeze_pass(self) -> None:
        now = dt_util.utcnow()
        wanted: dict[str, tuple[Touch, list[ChargerRuntime]]] = {}
        for runtime in self.premise.chargers.values():
            session = runtime.session
            if session is None or not session.pev_id or not session.bound:
                continue
            program_rate = bool(session.decision.program_rate)
            for touch in touching(self.events, session.pev_id, program_rate, now):
                if (session.session_id, touch.event_id) in self.unsettled:
                    continue
                if any(
                    r["session_id"] == session.session_id and r["event_id"] == touch.event_id
                    for r in self.recent
                ):
                    continue  # settled already (the session outlived a restart)
                wanted.setdefault(touch.event_id, (touch, []))[1].append(runtime)
        for touch, runtimes in wanted.values():
            await self._async_freeze(touch, runtimes, now)

    async def _async_freeze(
        self, touch: Touch, runtimes: list[ChargerRuntime], now: datetime
    ) -> None:
        sessions = [(r, r.session) for r in runtimes if r.session is not None]
        if not sessions:
            return
        first, first_session = sessions[0]
        inputs = counterfactual_inputs(self.smart, self.events, touch, now)
        limits = event_limits(self.events, touch, first, first_session.pev_id)
        window = event_window(touch, touch.start, touch.end, limits)
        reason: str | None = None
        try:
            plan = await self.premise.hass.async_add_executor_job(
                counterfactual_plan, inputs, window
            )
        except Exception as err:
            _LOGGER.warning("The counterfactual plan of event %s failed: %s", touch.name, err)
            plan, reason = None, f"not computed: {err}"
        for runtime, session in sessions:
            if runtime.session is not session or self._stopped:
                continue  # unplugged meanwhile
            planned: list[list[Any]] | None = None
            if plan is not None:
                vehicle_plan = plan.vehicles.get(runtime.charger_id)
                planned = json_intervals(plan_intervals(vehicle_plan) if vehicle_plan else ())
            vehicle = self.smart.vehicle_of(runtime)
            wanted = self.smart.energy_wanted(runtime, vehicle)
            target = session.meter_kwh + wanted if math.isfinite(wanted) else None
            own = event_limits(self.events, touch, runtime, session.pev_id)
            row = {
                "session_id": session.session_id,
                "event_id": touch.event_id,
                "charger_id": runtime.charger_id,
                "premise_id": self.premise.premise_id,
                "pev_id": session.pev_id,
                "program_id": touch.program_id,
                "source": touch.source,
                "kind": touch.kind,
                "name": touch.name,
                "start": touch.start,
                "end": touch.end,
                "frozen_at": now,
                "event": {
                    **touch.as_dict(),
                    "limits": json_intervals(own),
                    "target_kwh": num(target),
                    "plug_in": iso(session.started_at),
                    "counterfactual_reason": reason,
                },
                "counterfactual": planned,
                "state": STATE_FROZEN,
                "performance": None,
            }
            self.unsettled[(session.session_id, touch.event_id)] = row
            self.premise.submit(partial(_freeze, row), "event performance")
            _LOGGER.debug(
                "Event %s touches session %s: counterfactual frozen (%s kWh)",
                touch.name,
                session.session_id,
                sum(k for _, _, k in interval_list(planned)) if planned else None,
            )

    @callback
    def _forget_cancelled(self, now: datetime) -> None:
        """An event gone before it began never touched the session; one gone while in force
        ended when it went."""
        known = {e.event_id for e in self.events.local}
        if self.link is not None:
            known |= {e.event_id for e in self.link.timeline.entries}
            known |= set(self.link.state.events)
        for key, row in list(self.unsettled.items()):
            if key[1] in known or row["state"] != STATE_FROZEN or key in self._settling:
                continue
            if now < row["start"]:
                del self.unsettled[key]
                self.premise.submit(partial(_drop, key), "event performance")
            elif now < row["end"]:
                row["end"] = now.replace(microsecond=0)

    # -- settling -------------------------------------------------------------------------

    def _start_settle(
        self,
        key: Key,
        row: dict[str, Any],
        session: ChargingSession,
        intervals: list[Interval],
        unplug: datetime | None,
        *,
        final: bool,
    ) -> None:
        self._settling.add(key)
        self.premise.task(
            self._async_settle(key, row, session.started_at, intervals, unplug, final),
            "pev_portal_settle",
        )

    async def _async_settle_stored(self, key: Key, row: dict[str, Any]) -> None:
        """Settle from the store (a session that ended while this part did not hear of it)."""
        try:
            stored = await self.premise.store.read(lambda s: s.session(key[0]))
            intervals = await self.premise.store.read(
                partial(LedgerStore.intervals, session_id=key[0])
            )
        except Exception:
            _LOGGER.exception("Session %s could not be read to settle event %s", *key)
            self._settling.discard(key)
            return
        if stored is None:  # a session the ledger does not have: nothing to settle on
            _LOGGER.warning("Event %s: session %s is not in the ledger; not settled", *key[::-1])
            self.unsettled.pop(key, None)
            self.premise.submit(partial(_drop, key), "event performance")
            self._settling.discard(key)
            return
        if not stored.data.get("ended_at"):
            self._settling.discard(key)  # not ended (resuming): settled later
            return
        plug_in = parse_iso(stored.data["started_at"])
        unplug = parse_iso(stored.data["ended_at"])
        await self._async_settle(key, row, plug_in, intervals, unplug, True)

    async def _async_settle(
        self,
        key: Key,
        row: dict[str, Any],
        plug_in: datetime,
        intervals: list[Interval],
        unplug: datetime | None,
        final: bool,
    ) -> None:
        try:
            await self._async_settle_now(key, row, plug_in, intervals, unplug, final)
        except Exception:  # kept frozen: settled again at unplug (or at the next start)
            _LOGGER.exception("The performance of event %s could not be computed", row["name"])
            row["failed"] = True  # not again at every tick
        finally:
            self._settling.discard(key)

    async def _async_settle_now(
        self,
        key: Key,
        row: dict[str, Any],
        plug_in: datetime,
        intervals: list[Interval],
        unplug: datetime | None,
        final: bool,
    ) -> None:
        start = max(row["start"], plug_in)
        end = min(row["end"], unplug) if unplug is not None else row["end"]
        if end <= start:  # the vehicle left before the event began: it never touched it
            self.unsettled.pop(key, None)
            self.premise.submit(partial(_drop, key), "event performance")
            return
        minutes = self.premise.interval_minutes
        measured, flags = measured_energy(intervals, start, end, plug_in)
        pev_id = row["pev_id"] or ""
        runtime = self.premise.chargers.get(row["charger_id"])
        touch = Touch(
            row["event_id"],
            row["program_id"],
            row["source"],
            row["kind"],
            row["name"],
            row["start"],
            row["end"],
            row["event"].get("limit_kw"),
            row["event"].get("price"),
        )
        limits = event_limits(self.events, touch, runtime, pev_id) or tuple(
            interval_list(row["event"].get("limits"))
        )
        window = event_window(touch, start, end, limits)
        past = await self.premise.store.read(
            partial(
                LedgerStore.past_sessions,
                premise_id=self.premise.premise_id,
                pev_id=pev_id,
                before=plug_in,
            )
        )
        target = row["event"].get("target_kwh")
        if not isinstance(target, (int, float)):
            target = None
        # Off the event loop: a week of one-minute intervals takes milliseconds.
        performance = await self.premise.hass.async_add_executor_job(
            partial(
                compute,
                row,
                window,
                plug_in=plug_in,
                unplug=unplug,
                minutes=minutes,
                measured=measured,
                past=past,
                tz=dt_util.get_default_time_zone(),
                target=target,
                rules=self._rules(row["program_id"]),
            )
        )
        result = as_dict(performance, row, final, target, flags)
        state = STATE_FINAL if final else STATE_PROVISIONAL
        now = dt_util.utcnow()
        row.update(state=state, performance=result, settled_at=now, start=start, end=end)
        if final:
            self.unsettled.pop(key, None)
        self.recent = [r for r in self.recent if (r["session_id"], r["event_id"]) != key]
        self.recent.insert(0, dict(row))
        self.recent.sort(key=lambda r: (r["end"], r["start"]), reverse=True)
        del self.recent[RECENT:]
        self.premise.submit(
            partial(
                _save,
                key,
                state=state,
                performance=result,
                start=start,
                end=end,
                event=row["event"],
                settled_at=now,
            ),
            "event performance",
        )
        self.premise.changed()
        await self._async_report(row, performance)

    def _rules(self, program_id: str) -> IncentiveRules | None:
        link = self.link
        if link is None:
            return None
        program = next((p for p in link.state.programs if p.id == program_id), None)
        return incentive_rules(program) if program is not None else None

    async def _async_report(self, row: dict[str, Any], performance: Performance) -> None:
        link = self.link
        if link is None or row["source"] != "utility" or performance.method is None:
            return
        chosen = (
            performance.counterfactual
            if performance.method is BaselineMethod.COUNTERFACTUAL
            else performance.meter
        )
        if chosen.intervals is None or not row["pev_id"]:
            return
        await link.async_queue_performance(
            row["session_id"],
            row["pev_id"],
            row["event_id"],
            chosen.intervals,
            performance.measured,
        )

    # -- reading ----------------------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Counts and states only (no identifiers)."""
        states: dict[str, int] = {}
        for row in self.unsettled.values():
            states[row["state"]] = states.get(row["state"], 0) + 1
        return {
            "unsettled": states,
            "recent": len(self.recent),
            "last_flags": (self.recent[0].get("performance") or {}).get("flags")
            if self.recent
            else None,
        }

    def performances(self) -> list[dict[str, Any]]:
        """The recent performances (newest event first), as stored."""
        return [r["performance"] for r in self.recent if r.get("performance")]

    async def async_of_sessions(self, session_ids: list[str]) -> list[dict[str, Any]]:
        """The stored performances of these sessions (the export)."""
        rows = await self.premise.store.read(lambda s: s.settlements_of(session_ids))
        return [r["performance"] for r in rows if r.get("performance")]


def _freeze(row: dict[str, Any], store: LedgerStore) -> None:
    store.settlement_freeze(row)


def _drop(key: Key, store: LedgerStore) -> None:
    store.settlement_drop(*key)


def _save(key: Key, store: LedgerStore, **values: Any) -> None:
    store.settlement_save(key[0], key[1], **values)
