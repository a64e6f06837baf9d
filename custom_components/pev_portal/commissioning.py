"""Commissioning in Home Assistant: each vehicle's enrollment in each program, its test events
verified on the meter, and their reports (profile 'Commissioning').

A part of the premise (built by the coordinator when there is a utility link) that hears of the
program's events and of the coordinator's tick:

* every registered vehicle has an enrollment in every program the VEN sees (``pending`` at
  first), kept in the store's ``enrollments`` table with its running or last test, so a restart
  in the middle of a test resumes it with the samples taken so far;
* a utility event flagged as a test (:func:`~.openadr.program_rules.is_test_event`) that
  applies to the vehicle requests a test (``test_requested``); a program whose
  ``COMMISSIONING_TEST`` is ``LOCAL`` lets the customer start one (the vehicle's *Start
  commissioning test* button): a local load-control event on that vehicle only, at the
  charger's minimum charging power, for the response time plus :data:`LOCAL_HOLD`;
* while the test runs, the charger's power (its power sensor, else its meter) is sampled at
  every tick; when it ends, :func:`~.core.enrollment.verify_test` decides: ``verified``, or
  back to ``pending`` (``suspended`` after a failed re-test);
* the result is reported as ``OPERATING_STATE`` and ``BASELINE``/``DELTA_USAGE`` through the
  crash-safe outbox: a utility test to its own event, a local test to the program's events that
  ask for those payloads. A test whose reports were not queued yet (a crash in between) is
  queued again at the next start;
* a verified vehicle becomes ``active`` with the first event of the program (not a test) that
  the utility sends it after the test.

The enrollment is shown and reported; it does not change what the chargers are told: every
event is applied as before, whatever the vehicle's enrollment.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from .charging.audit import meter_power_kw
from .const import DOMAIN
from .core.commissioning import (
    SOURCE_LOCAL,
    SOURCE_UTILITY,
    CommissioningTest,
    enrollment_from_dict,
    enrollment_to_dict,
)
from .core.enrollment import Enrollment, EnrollmentState, tolerance_kw
from .openadr.models import Event, Program
from .openadr.program_rules import commissioning_test, is_test_event, response_time
from .openadr.reports import operating_state_report
from .openadr.reports_flex import performance_report, requested_payloads
from .ports import Premise
from .program_events import CAP_KINDS, KIND_LOAD_CONTROL, ProgramEvents
from .runtime import ChargerRuntime, Vehicle
from .texts import async_texts, text

if TYPE_CHECKING:
    from .io.store import LedgerStore
    from .utility import UtilityLink

_LOGGER = logging.getLogger(__name__)

LOCAL_HOLD: Final = timedelta(minutes=5)
"""A local test lasts the response time plus this (the power must stay at the limit)."""
MAX_TEST: Final = timedelta(hours=1)
"""A longer test event is verified over its first hour."""
METER_WINDOW: Final = timedelta(seconds=30)
"""Without a power sensor, the meter's slope over this long is the power."""
TESTED_KEPT: Final = 20


@dataclass(slots=True)
class Record:
    """A vehicle's enrollment in a program, with its running or last test."""

    enrollment: Enrollment
    program_id: str = ""
    test: CommissioningTest | None = None
    tested: list[str] = field(default_factory=list)

    @property
    def running(self) -> CommissioningTest | None:
        """The test not yet verified, if any."""
        return self.test if self.test is not None and not self.test.finished else None

    def as_dict(self) -> dict[str, Any]:
        """The stored data."""
        return {
            "enrollment": enrollment_to_dict(self.enrollment),
            "program_id": self.program_id,
            "test": self.test.as_dict() if self.test is not None else None,
            "tested": self.tested[-TESTED_KEPT:],
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Record:
        """From the store's row; raises ValueError when it cannot be used."""
        data = row.get("data")
        if not isinstance(data, dict):
            raise ValueError("unreadable data")
        enrollment = enrollment_from_dict(row["pev_id"], row["program"], data.get("enrollment"))
        test = data.get("test")
        return cls(
            enrollment=enrollment,
            program_id=str(data.get("program_id") or ""),
            test=CommissioningTest.from_dict(test) if test is not None else None,
            tested=[str(t) for t in data.get("tested") or ()],
        )


def _save(
    premise_id: str,
    pev_id: str,
    program: str,
    state: str,
    data: dict[str, Any],
    store: LedgerStore,
) -> None:
    store.save_enrollment(pev_id, program, state, data, premise_id)


def _requested(enrollment: Enrollment, at: datetime, reason: str) -> Enrollment:
    """A test requested (already so after a test event was cancelled: the reason changes)."""
    if enrollment.state is EnrollmentState.TEST_REQUESTED:
        return replace(enrollment, reason=reason)
    return enrollment.request_test(at, reason)


def power_now(runtime: ChargerRuntime, now: datetime) -> float | None:
    """The charger's power: its power sensor, else the slope of its meter."""
    adapter = runtime.adapter
    kw = adapter.power_kw() if adapter.power_available() else None
    if kw is None:
        kw = meter_power_kw(runtime, now - METER_WINDOW, now)
    return kw


class Commissioning:
    """Every vehicle's enrollment in every program (see the module docstring)."""

    def __init__(self, premise: Premise, events: ProgramEvents, link: UtilityLink) -> None:
        self.premise = premise
        self.events = events
        self.link = link
        self.records: dict[tuple[str, str], Record] = {}
        self._starting = asyncio.Lock()  # one local test started at a time

    # -- life cycle -----------------------------------------------------------------------

    async def async_load(self) -> None:
        """The stored enrollments; an unreadable row is logged and skipped (kept as it is)."""
        premise_id = self.premise.premise_id
        for row in await self.premise.store.read(lambda s: s.enrollments(premise_id)):
            try:
                record = Record.from_row(row)
            except ValueError as err:
                _LOGGER.warning(
                    "Skipping a stored commissioning record of program %s: %s",
                    row.get("program"),
                    err,
                )
                continue
            self.records[(row["pev_id"], row["program"])] = record

    @callback
    def start(self) -> CALLBACK_TYPE:
        """Hear of the events; queue the reports a crash left unqueued. Returns the stop."""
        for key, record in self.records.items():
            if record.test is not None and record.test.finished and not record.test.reported:
                self._report(key, record)
        return self.events.add_listener(self._on_events)

    @callback
    def _on_events(self, _reason: str) -> None:
        self.sync(dt_util.utcnow())

    # -- programs, vehicles and test events -----------------------------------------------

    def _programs(self) -> dict[str, Program]:
        return {p.name: p for p in self.link.state.programs}

    def sync(self, now: datetime) -> None:
        """Enrollments for new vehicles and programs; test events; activations."""
        changed = False
        for program in self._programs().values():
            for vehicle in self.premise.vehicles.values():
                key = (vehicle.pev_id, program.name)
                record = self.records.get(key)
                if record is None:
                    record = Record(Enrollment(vehicle.pev_id, program.name, since=now))
                    self.records[key] = record
                    self._save(key)
                    changed = True
                if record.program_id != program.id:
                    record.program_id = program.id
                    self._save(key)
                changed |= self._utility_tests(key, record, program, now)
                changed |= self._activate(key, record, program)
        if changed:
            self.premise.changed()

    def _program_events(self, program: Program, pev_id: str) -> list[Event]:
        return [
            e
            for e in self.link.state.events.values()
            if e.program_id == program.id and self.link.timeline.applies(e, pev_id)
        ]

    def _window(self, event: Event, pev_id: str) -> tuple[datetime, datetime] | None:
        entries = [
            e
            for e in self.link.timeline.entries
            if e.event_id == event.id and e.kind in CAP_KINDS and e.applies_to_pev(pev_id)
        ]
        if not entries:
            return None
        start = min(e.start for e in entries)
        return start, min(max(e.end for e in entries), start + MAX_TEST)

    def _utility_tests(
        self, key: tuple[str, str], record: Record, program: Program, now: datetime
    ) -> bool:
        pev_id = key[0]
        running = record.running
        if running is not None and running.source == SOURCE_UTILITY:
            heard = self.link.state.last_contact is not None
            if not heard or running.test_id in self.link.state.events:
                return False
            if now < running.start:  # cancelled before it began: still waiting for a test
                record.test = None
                record.enrollment = replace(record.enrollment, reason="test event cancelled")
            else:  # cancelled while it ran: verified on what was measured until now
                running.end = min(running.end, now)
            self._save(key)
            return True
        if running is not None:
            return False
        for event in self._program_events(program, pev_id):
            if not is_test_event(event) or event.id in record.tested:
                continue
            window = self._window(event, pev_id)
            if window is None:
                _LOGGER.warning(
                    "Test event %s of program %s has no load-control payload: not a test",
                    event.id,
                    program.name,
                )
                record.tested.append(event.id)
                continue
            start, end = window
            if end <= now:
                continue
            enrollment = _requested(record.enrollment, now, f"test event {event.id}")
            test = CommissioningTest(
                test_id=event.id,
                source=SOURCE_UTILITY,
                program_id=program.id,
                start=start,
                end=end,
                response_time=response_time(program),
            )
            if (runtime := self._charger_of(pev_id)) is not None:
                kw = power_now(runtime, now)
                if kw is not None:
                    test.before_kw = kw
            record.enrollment, record.test = enrollment, test
            record.tested.append(event.id)
            _LOGGER.info(
                "Commissioning test %s of program %s requested for %s (%s to %s)",
                event.id,
                program.name,
                pev_id,
                start.isoformat(),
                end.isoformat(),
            )
            self._save(key)
            return True
        return False

    def _activate(self, key: tuple[str, str], record: Record, program: Program) -> bool:
        """A verified vehicle is active from the first program event sent to it after."""
        enrollment = record.enrollment
        if enrollment.state is not EnrollmentState.VERIFIED or enrollment.since is None:
            return False
        for event in self._program_events(program, key[0]):
            sent = event.created or event.modified
            if not is_test_event(event) and sent is not None and sent > enrollment.since:
                record.enrollment = enrollment.activate(
                    dt_util.utcnow(), f"program event {event.id}"
                )
                self._save(key)
                return True
        return False

    # -- measuring ------------------------------------------------------------------------

    def _charger_of(self, pev_id: str) -> ChargerRuntime | None:
        return next(
            (
                r
                for r in self.premise.chargers.values()
                if r.session is not None and r.session.pev_id == pev_id
            ),
            None,
        )

    def _limit(self, test: CommissioningTest, pev_id: str, runtime: ChargerRuntime) -> float | None:
        """The test event's own limit on the charger (the other events left out)."""
        timeline = self.link.timeline
        others = [event_id for event_id in timeline.events if event_id != test.test_id]
        adapter = runtime.adapter
        caps = timeline.caps(
            pev_id, test.start, test.end, adapter.max_power_kw(), adapter.min_power_kw(), others
        )
        return min(cap for _, _, cap, _ in caps) if caps else None

    def tick(self, now: datetime) -> None:
        """Sample the tests that run; verify those that ended."""
        self.sync(now)
        for key, record in list(self.records.items()):
            test = record.running
            if test is None:
                continue
            runtime = self._charger_of(key[0])
            if runtime is not None and now <= test.end:
                kw = power_now(runtime, now)
                if kw is not None and test.add_sample(now, kw):
                    test.charger_id = runtime.charger_id
                    if test.limit_kw is None:
                        test.limit_kw = self._limit(test, key[0], runtime)
                    self._save(key)
            if now >= test.end:
                self._finish(key, record, now)

    def _finish(self, key: tuple[str, str], record: Record, now: datetime) -> None:
        test = record.test
        assert test is not None
        result = test.verify(now)
        record.enrollment = record.enrollment.record_test(now, result)
        test.report_to = self._report_to(key, record, test)
        _LOGGER.log(
            logging.INFO if result.passed else logging.WARNING,
            "Commissioning test %s of %s in %s: %s (%s)",
            test.test_id,
            key[0],
            key[1],
            "passed" if result.passed else "failed",
            result.reason,
        )
        self._save(key)
        self.premise.changed()
        self._report(key, record)

    # -- reports ----------------------------------------------------------------------------

    def _report_to(
        self, key: tuple[str, str], record: Record, test: CommissioningTest
    ) -> list[tuple[str, str, bool, bool]]:
        """A utility test: its event. A local test: the program's events asking for it."""
        if test.source == SOURCE_UTILITY:
            return [(test.test_id, test.program_id, True, True)]
        program = self._programs().get(key[1])
        found = []
        for event in self._program_events(program, key[0]) if program is not None else ():
            wanted = requested_payloads(event.report_descriptors)
            state, delta = "OPERATING_STATE" in wanted, "DELTA_USAGE" in wanted
            if (state or delta) and not is_test_event(event):
                found.append((event.id, event.program_id, state, delta))
        return found

    def _report(self, key: tuple[str, str], record: Record) -> None:
        self.premise.task(self._async_report(key, record), "pev_portal_commissioning_report")

    async def _async_report(self, key: tuple[str, str], record: Record) -> None:
        test = record.test
        if test is None:
            return
        try:
            await self._async_queue(key[0], test)
        except RuntimeError:  # the store closed (unload): queued again at the next start
            _LOGGER.debug("Commissioning test %s: reports left for the next start", test.test_id)
            return
        test.reported = True
        self._save(key)

    async def _async_queue(self, pev_id: str, test: CommissioningTest) -> None:
        """Put the test's reports in the outbox (each under its own key, updated in place)."""
        name = f"test-{pev_id}-{test.start.strftime('%Y%m%dT%H%M%SZ')}"
        baseline, measured = test.energy()
        for event_id, program_id, state, delta in test.report_to:
            common = {
                "program_id": program_id,
                "event_id": event_id,
                "client_name": self.link.ven_name,
                "pev_id": pev_id,
            }
            bodies: list[tuple[str, str, dict[str, Any]]] = []
            try:
                if state:
                    states = test.operating_states()
                    body = operating_state_report(
                        **common, report_name=f"{name}:state", states=states
                    )
                    bodies.append(("commissioning_state", f"{name}:state", body))
                if delta:
                    body = performance_report(
                        **common, report_name=name, baseline=baseline, measured=measured
                    )
                    bodies.append(("commissioning_delta", name, body))
            except ValueError as err:
                _LOGGER.error("Commissioning test %s not reported: %s", test.test_id, err)
                continue
            for kind, report_name, body in bodies:
                await self.link.async_queue_report(
                    report_key=f"{kind}:{pev_id}:{event_id}:{test.test_id}",
                    event_id=event_id,
                    program_id=program_id,
                    report_name=report_name,
                    kind=kind,
                    body=body,
                )

    # -- the local test -------------------------------------------------------------------

    def local_programs(self, pev_id: str) -> list[Program]:
        """The programs that let this vehicle's customer start the test."""
        return [
            p
            for p in self._programs().values()
            if commissioning_test(p) == "LOCAL" and (pev_id, p.name) in self.records
        ]

    async def async_start_local_test(self, vehicle: Vehicle) -> str:
        """Start a local test of the vehicle in the programs that ask for one (see the module
        docstring); returns the local event's ID."""
        async with self._starting:  # a second press waits, then finds the test running
            return await self._async_start_local_test(vehicle)

    async def _async_start_local_test(self, vehicle: Vehicle) -> str:
        now = dt_util.utcnow().replace(microsecond=0)
        self.sync(now)
        programs = self.local_programs(vehicle.pev_id)
        placeholders = {"vehicle": vehicle.name}
        if not programs:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="commissioning_not_local",
                translation_placeholders=placeholders,
            )
        keys = [(vehicle.pev_id, p.name) for p in programs]
        for key in keys:
            if (running := self.records[key].running) is not None:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="commissioning_test_running",
                    translation_placeholders={**placeholders, "end": running.end.isoformat()},
                )
        runtime = self._charger_of(vehicle.pev_id)
        if runtime is None:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_session")
        limit = round(runtime.adapter.min_power_kw(), 3)
        kw = power_now(runtime, now)
        if kw is None or kw <= limit + tolerance_kw(limit):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="commissioning_not_charging",
                translation_placeholders={**placeholders, "limit": f"{limit:.2f}"},
            )
        allowed = max(response_time(p) for p in programs)
        end = now + allowed + LOCAL_HOLD
        name = text(
            await async_texts(self.premise.hass),
            "commissioning_test_event_name",
            default="Commissioning test",
        )
        event_id = await self.events.async_add_local(
            KIND_LOAD_CONTROL, now, end, limit_kw=limit, name=name, pev_id=vehicle.pev_id
        )
        for program, key in zip(programs, keys, strict=True):
            record = self.records[key]
            record.enrollment = _requested(record.enrollment, now, "local test started")
            record.test = CommissioningTest(
                test_id=event_id,
                source=SOURCE_LOCAL,
                program_id=program.id,
                start=now,
                end=end,
                response_time=response_time(program),
                limit_kw=limit,
                charger_id=runtime.charger_id,
                before_kw=kw,
                samples=[(now, kw)],
            )
            record.tested.append(event_id)
            self._save(key)
        self.premise.changed()
        return event_id

    # -- what the entities and diagnostics read ---------------------------------------------

    def vehicle_records(self, pev_id: str) -> list[tuple[str, Record]]:
        """The vehicle's enrollments by program name, in the link's program order."""
        names = [*self.link.program_names, *self._programs()]
        ordered = list(dict.fromkeys(n for n in names if (pev_id, n) in self.records))
        ordered += sorted(n for p, n in self.records if p == pev_id and n not in ordered)
        return [(n, self.records[(pev_id, n)]) for n in ordered]

    def takes_part(self, pev_id: str, program: str) -> bool:
        """Whether the program's events count for the vehicle (active or under test)."""
        record = self.records.get((pev_id, program))
        return record is not None and record.enrollment.takes_part

    def diagnostics(self) -> list[dict[str, Any]]:
        """Each enrollment and its last test (identifiers redacted by the caller)."""
        out = []
        for (pev_id, program), record in sorted(self.records.items()):
            test = record.test
            out.append(
                {
                    "pev_id": pev_id,
                    "program": program,
                    **enrollment_to_dict(record.enrollment),
                    "test": {**test.as_dict(), "samples": len(test.samples)} if test else None,
                }
            )
        return out

    # -- the store ------------------------------------------------------------------------

    def _save(self, key: tuple[str, str]) -> None:
        """Hand the record to the store (kept and retried in order while it cannot write)."""
        record = self.records[key]
        self.premise.submit(
            partial(
                _save,
                self.premise.premise_id,
                key[0],
                key[1],
                record.enrollment.state.value,
                record.as_dict(),
            ),
            "commissioning record",
        )
