"""The sessions reported to the utility: USAGE during the session and at unplug, and the
``OPERATING_STATE`` of each load-control event a session took part in.

A :class:`~.ports.SessionListener` on the sessions, and a listener of the command audit (a
charger that ignores commands is reported as ``ERROR`` at once). The reports themselves wait in
the utility link's crash-safe outbox (:mod:`.utility`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.util import dt as dt_util

from .charging.audit import CommandAudit
from .core.metering import Interval
from .core.session import ChargingSession
from .core.summary import SessionSummary
from .ports import Premise, SessionEvents
from .program_events import CAP_KINDS, ProgramEvents
from .runtime import ChargerRuntime

if TYPE_CHECKING:
    from .utility import UtilityLink


class UtilityReports(SessionEvents):
    """Queues each session's reports in the utility link's outbox."""

    def __init__(
        self,
        premise: Premise,
        link: UtilityLink,
        events: ProgramEvents,
        audit: CommandAudit,
    ) -> None:
        self.premise = premise
        self.link = link
        self.events = events
        self.audit = audit
        audit.on_ignored.append(self._charger_ignored)

    # -- sessions -------------------------------------------------------------------------

    def session_ended(
        self,
        runtime: ChargerRuntime,
        session: ChargingSession,
        intervals: list[Interval],
        summary: SessionSummary,
    ) -> None:
        """Report at unplug: USAGE and the events' OPERATING_STATE."""
        errors = self.audit.error_windows(session, dt_util.utcnow())
        self._queue(session, intervals, final=True, errors=errors)

    def tick(self, now: datetime) -> None:
        """Report the sessions in progress every reporting period."""
        for runtime in self.premise.chargers.values():
            session = runtime.session
            if (
                session is not None
                and runtime.intervals
                and (
                    runtime.last_report is None
                    or now - runtime.last_report >= self.link.report_interval
                )
            ):
                runtime.last_report = now
                self._queue(session, runtime.intervals)

    def _queue(
        self,
        session: ChargingSession,
        intervals: list[Interval],
        *,
        final: bool = False,
        errors: Sequence[tuple[datetime, datetime]] = (),
    ) -> None:
        """Queue the session's USAGE reports (and event participation at the end)."""
        link = self.link
        if not session.pev_id or not intervals:
            return
        pev_id, frozen = session.pev_id, list(intervals)

        async def _queue() -> None:
            await link.async_queue_usage(session.session_id, pev_id, frozen)
            if final:
                await self._async_queue_states(session.session_id, pev_id, frozen, errors)

        self.premise.task(_queue(), "pev_portal_report")

    async def _async_queue_states(
        self,
        session_id: str,
        pev_id: str,
        intervals: list[Interval],
        errors: Sequence[tuple[datetime, datetime]],
    ) -> None:
        for event, states in self.participation(pev_id, intervals, errors):
            await self.link.async_queue_state(session_id, pev_id, event, states)

    # -- a charger that ignores commands --------------------------------------------------

    def _charger_ignored(self, runtime: ChargerRuntime, command: dict[str, Any]) -> None:
        if command.get("first"):
            self.report_charger_error(runtime)

    def report_charger_error(self, runtime: ChargerRuntime) -> None:
        """The charger ignores commands: report OPERATING_STATE ERROR to the utility now.

        For each event in force that asks for state reports, the session's participation so far
        is queued, with the intervals since the charger stopped obeying (the open one included)
        as ``ERROR``. The report at unplug updates the same report.
        """
        session, ledger = runtime.session, runtime.ledger
        if session is None or not session.pev_id:
            return
        now = dt_util.utcnow()
        intervals = list(runtime.intervals)
        if ledger is not None and (pending := ledger.pending()) is not None:
            intervals.append(pending)
        errors = self.audit.error_windows(
            session, now + timedelta(minutes=self.premise.interval_minutes)
        )
        self.premise.task(
            self._async_queue_states(session.session_id, session.pev_id, intervals, errors),
            "pev_portal_report_error",
        )

    def participation(
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
        result = []
        for event in link.state.events.values():
            if not event.wants_state_reports or not link.timeline.applies(event, pev_id):
                continue
            windows = [
                (e.start, e.end)
                for e in link.timeline.entries
                if e.event_id == event.id and e.kind in CAP_KINDS
            ]
            states = []
            for interval in intervals:
                if any(start < interval.end and interval.start < end for start, end in windows):
                    running = interval.kwh > 0
                    opted = event.id in self.events.opted_out
                    state = ("RUNNING" if running else "IDLE") + (
                        "_OPTED_OUT" if opted else "_CURTAILED"
                    )
                    if any(s < interval.end and interval.start < e for s, e in errors):
                        state = "ERROR"
                    states.append((interval.start, interval.end, state))
            if states:
                result.append((event, states))
        return result
