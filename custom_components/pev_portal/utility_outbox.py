"""The utility link's durable report outbox: USAGE and OPERATING_STATE reports queued in the
premise's store, the pump that sends them, dead letters and resending (a part of
:class:`~.utility.UtilityLink`)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .core.metering import Interval
from .core.settlement import EnergyInterval
from .io.store import LedgerStore
from .openadr.client import VenClient
from .openadr.errors import OpenADRError, VtnNotFound, VtnProtocolError, VtnUnreachable
from .openadr.models import Event
from .openadr.reports import EXPORT_USAGE, operating_state_report, usage_report
from .openadr.reports_flex import (
    PERFORMANCE_PAYLOADS,
    only_payloads,
    performance_report,
    requested_payloads,
)
from .openadr.timeline import Timeline
from .utility_state import LinkHealth

# The link's log lines keep the logger of the module they came from.
_LOGGER = logging.getLogger(f"{__package__}.utility")

BACKOFF_BASE_S = 10.0
BACKOFF_MAX_S = 3600.0
DEAD_STATUSES = frozenset({400, 409, 413, 422})
"""A report answered with one of these is refused for good: dead-lettered, never retried."""


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential backoff with jitter: 10 s doubling to at most an hour, +-50 %."""
    base = min(BACKOFF_MAX_S, BACKOFF_BASE_S * (2 ** min(attempts, 20)))
    return timedelta(seconds=base * rng.uniform(0.5, 1.5))


class ReportOutbox(LinkHealth):
    """The report outbox: a mixin of :class:`~.utility.UtilityLink`, which sets these."""

    ven_name: str
    timeline: Timeline
    client: VenClient | None
    _rng: random.Random
    _pumping: bool
    _pump_task: asyncio.Task[Any] | None
    _stopped: bool

    def reporting_events(self, pev_id: str | None) -> list[Event]:
        """Events that ask for USAGE reports and apply to this vehicle."""
        return [
            e
            for e in self.state.events.values()
            if e.wants_usage_reports and self.timeline.applies(e, pev_id)
        ]

    async def async_queue_usage(
        self, session_id: str, pev_id: str | None, intervals: Sequence[Interval]
    ) -> int:
        """Put the session's USAGE report for each reporting event in the outbox."""
        if not pev_id or not intervals:
            return 0
        now = dt_util.utcnow()
        queued = 0
        for event in self.reporting_events(pev_id):
            body = usage_report(
                program_id=event.program_id,
                event_id=event.id,
                client_name=self.ven_name,
                report_name=session_id,
                pev_id=pev_id,
                interval_minutes=self.premise.interval_minutes,
                intervals=intervals,
                export=EXPORT_USAGE in requested_payloads(event.report_descriptors),
            )
            await self.premise.store.call(
                partial(
                    LedgerStore.outbox_put,
                    report_key=f"usage:{session_id}:{event.id}",
                    session_id=session_id,
                    event_id=event.id,
                    program_id=event.program_id,
                    report_name=session_id,
                    kind="usage",
                    body=body,
                    now=now,
                    premise_id=self.premise.premise_id,
                )
            )
            queued += 1
        if queued:
            await self._refresh_backlog()
            self.hass.async_create_task(self._async_pump(), eager_start=False)
        return queued

    async def async_queue_state(
        self,
        session_id: str,
        pev_id: str,
        event: Event,
        states: Sequence[tuple[datetime, datetime, str]],
    ) -> None:
        """Report participation in an event (OPERATING_STATE)."""
        body = operating_state_report(
            program_id=event.program_id,
            event_id=event.id,
            client_name=self.ven_name,
            report_name=f"{session_id}:state",
            pev_id=pev_id,
            states=states,
        )
        now = dt_util.utcnow()
        await self.premise.store.call(
            lambda s: s.outbox_put(
                report_key=f"state:{session_id}:{event.id}",
                session_id=session_id,
                event_id=event.id,
                program_id=event.program_id,
                report_name=f"{session_id}:state",
                kind="state",
                body=body,
                now=now,
                premise_id=self.premise.premise_id,
            )
        )
        await self._refresh_backlog()
        self.hass.async_create_task(self._async_pump(), eager_start=False)

    async def async_queue_performance(
        self,
        session_id: str,
        pev_id: str,
        settled_event_id: str,
        baseline: Sequence[EnergyInterval],
        measured: Sequence[EnergyInterval],
    ) -> int:
        """Queue an event's performance on a session (BASELINE, DELTA_USAGE) to each event of
        its program whose reportDescriptors ask for them; returns how many reports.

        ``reportName`` is the session ID, a hyphen and the settled event's ID; a report holds
        only the payloads its event asks for. Updated in place when settled again (unplug).
        """
        settled = self.state.events.get(settled_event_id)
        if settled is None:
            return 0
        report_name = f"{session_id}-{settled_event_id}"
        queued = 0
        for event in self.state.events.values():
            asked = requested_payloads(event.report_descriptors) & PERFORMANCE_PAYLOADS
            if (
                not asked
                or event.program_id != settled.program_id
                or not self.timeline.applies(event, pev_id)
            ):
                continue
            body = only_payloads(
                performance_report(
                    program_id=event.program_id,
                    event_id=event.id,
                    client_name=self.ven_name,
                    report_name=report_name,
                    pev_id=pev_id,
                    baseline=baseline,
                    measured=measured,
                ),
                asked,
            )
            await self.async_queue_report(
                report_key=f"performance:{session_id}:{settled_event_id}:{event.id}",
                event_id=event.id,
                program_id=event.program_id,
                report_name=report_name,
                kind="performance",
                body=body,
                session_id=session_id,
            )
            queued += 1
        return queued

    async def async_queue_report(
        self,
        *,
        report_key: str,
        event_id: str,
        program_id: str,
        report_name: str,
        kind: str,
        body: dict[str, Any],
        session_id: str = "",
    ) -> None:
        """Put any report body in the outbox under its key (updated in place when queued
        again), then send it (a commissioning test's reports)."""
        now = dt_util.utcnow()
        await self.premise.store.call(
            partial(
                LedgerStore.outbox_put,
                report_key=report_key,
                session_id=session_id,
                event_id=event_id,
                program_id=program_id,
                report_name=report_name,
                kind=kind,
                body=body,
                now=now,
                premise_id=self.premise.premise_id,
            )
        )
        await self._refresh_backlog()
        self.hass.async_create_task(self._async_pump(), eager_start=False)

    async def _async_pump_timer(self, _now: datetime) -> None:
        await self._async_pump()

    async def _async_pump(self) -> None:
        """Send due reports until none is due or the VTN fails."""
        if self._pumping or self._stopped or self.client is None:
            return
        self._pumping = True
        self._pump_task = asyncio.current_task()
        # Our reports already at the VTN, by (event, report name): listed once per event and
        # pump run (not once per report), so a long backlog is sent in linear time.
        known: dict[str, dict[str, str]] = {}
        try:
            while not self._stopped:
                due = await self.premise.store.read(
                    partial(
                        LedgerStore.outbox_due,
                        now=dt_util.utcnow(),
                        premise_id=self.premise.premise_id,
                        limit=20,
                    )
                )
                if not due:
                    break
                for row in due:
                    if not await self._async_send(row, known):
                        return
        finally:
            self._pumping = False
            self._pump_task = None
            if not self._stopped:  # at unload the store closes next: nothing more to read
                await self._refresh_backlog()
                self.premise.changed()

    async def _async_send(self, row: dict[str, Any], known: dict[str, dict[str, str]]) -> bool:
        """Create or update one report; a report never gets a second name or a twin.

        404/410 on the update (the BL deleted it, or the VTN lost it): looked up by its stable
        reportName, created once if absent. 400/409/413/422, or an event the VTN no longer
        knows: dead-lettered (kept, a repair issue, ``pev_portal.resend_report``). 429/503:
        retried after the VTN's Retry-After (at least the backoff). Returns False to stop the
        pump run (the VTN is failing), True to go on.
        """
        key, version = row["report_key"], row["version"]
        try:
            report_id = await self._async_deliver(row, known)
        except VtnUnreachable as err:  # 429 and 503 too (VtnRateLimited is one)
            wait = backoff(row["attempts"], self._rng)
            if err.retry_after is not None:
                wait = max(wait, timedelta(seconds=err.retry_after))
            await self._async_retry_later(key, err, wait)
            return False
        except VtnNotFound as err:
            await self._async_dead_letter(row, f"the VTN does not know its event: {err}")
            return True
        except VtnProtocolError as err:
            if err.status in DEAD_STATUSES:
                await self._async_dead_letter(row, str(err))
                return True
            await self._async_retry_later(key, err, backoff(row["attempts"], self._rng))
            return False
        except OpenADRError as err:
            await self._async_retry_later(key, err, backoff(row["attempts"], self._rng))
            return False
        now = dt_util.utcnow()
        premise_id = self.premise.premise_id
        await self.premise.store.call(
            lambda s: s.outbox_ack(key, version, report_id, now, premise_id)
        )
        self._succeeded()
        return True

    async def _async_deliver(
        self, row: dict[str, Any], known: dict[str, dict[str, str]]
    ) -> str | None:
        """PUT the report where the VTN has it, else POST it once; returns its VTN ID."""
        assert self.client is not None
        body, event_id, name = row["body"], row["event_id"], row["report_name"]
        report_id: str | None = row["vtn_report_id"]
        if report_id is None:
            # Created before a crash or a lost answer? Then it is updated, not duplicated.
            if event_id not in known:
                known[event_id] = await self._async_our_reports(event_id)
            report_id = known[event_id].get(name)
        if report_id is not None:
            try:
                await self.client.async_update_report(report_id, body)
            except VtnNotFound:
                # Deleted by the BL, or lost by the VTN: look it up by its name once.
                known[event_id] = await self._async_our_reports(event_id)
                found = known[event_id].get(name)
                if found is not None:  # there after all (maybe under another ID)
                    await self.client.async_update_report(found, body)
                    return found
            else:
                return report_id
        created = await self.client.async_create_report(body)
        report_id = str(created.get("id") or "") or None
        if report_id:
            known.setdefault(event_id, {})[name] = report_id
        return report_id

    async def _async_retry_later(self, key: str, err: OpenADRError, wait: timedelta) -> None:
        retry = dt_util.utcnow() + wait
        await self.premise.store.call(
            partial(
                LedgerStore.outbox_fail,
                report_key=key,
                error=str(err),
                next_attempt=retry,
                premise_id=self.premise.premise_id,
            )
        )
        self._failed(err)

    async def _async_dead_letter(self, row: dict[str, Any], reason: str) -> None:
        """Keep a report the VTN refuses for good, stop sending it, raise a repair issue."""
        key, name = row["report_key"], row["report_name"]
        await self.premise.store.call(
            partial(
                LedgerStore.outbox_dead_letter,
                report_key=key,
                reason=reason,
                premise_id=self.premise.premise_id,
            )
        )
        _LOGGER.error(
            "The utility's VTN refuses report %s (%s) for good: this body is kept in the "
            "outbox and not sent again until resent with pev_portal.resend_report (the "
            "report's next body is sent)",
            name,
            reason,
        )
        stats = await self.premise.store.read(
            partial(LedgerStore.outbox_stats, premise_id=self.premise.premise_id)
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue("report_dead_letter"),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="report_dead_letter",
            translation_placeholders={
                "report": name,
                "key": key,
                "reason": reason[:200],
                "count": str(stats["dead"]),
            },
        )

    async def async_dead_letters(self) -> list[dict[str, Any]]:
        """Reports the VTN refused for good, with their bodies (export, diagnostics)."""
        rows = await self.premise.store.read(
            partial(LedgerStore.outbox_dead_letters, premise_id=self.premise.premise_id)
        )
        return [
            {
                "report_key": r["report_key"],
                "report_name": r["report_name"],
                "event_id": r["event_id"],
                "reason": r["dead_letter"],
                "body": r["body"],
            }
            for r in rows
        ]

    async def async_resend_reports(self, report_key: str | None = None) -> int:
        """Send dead-lettered reports again (one by its key, or all); returns how many."""
        now = dt_util.utcnow()
        count: int = await self.premise.store.call(
            partial(
                LedgerStore.outbox_resend,
                report_key=report_key,
                now=now,
                premise_id=self.premise.premise_id,
            )
        )
        await self._refresh_backlog()
        if count:
            self.hass.async_create_task(self._async_pump(), eager_start=False)
        return count

    async def _async_our_reports(self, event_id: str) -> dict[str, str]:
        """Report name -> ID of this VEN's reports to an event (the newest of each name)."""
        assert self.client is not None
        found: dict[str, tuple[str, str]] = {}
        for report in await self.client.async_list(
            "/reports", {"clientName": self.ven_name, "eventID": event_id}
        ):
            if not isinstance(report, dict) or report.get("clientName") != self.ven_name:
                continue
            name, rid = report.get("reportName"), report.get("id")
            if not name or not rid:
                continue
            modified = str(report.get("modificationDateTime") or "")
            if name not in found or modified > found[name][1]:
                found[str(name)] = (str(rid), modified)
        return {name: rid for name, (rid, _) in found.items()}

    async def _refresh_backlog(self) -> None:
        stats = await self.premise.store.read(
            partial(LedgerStore.outbox_stats, premise_id=self.premise.premise_id)
        )
        self.state.backlog = stats["backlog"]
        self.state.last_ack = stats["last_ack"]
        self.state.dead_letters = stats["dead"]
        if not stats["dead"]:
            ir.async_delete_issue(self.hass, DOMAIN, self._issue("report_dead_letter"))
