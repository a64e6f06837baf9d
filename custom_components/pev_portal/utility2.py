"""The utility link in OpenADR 2.0b: PEV Portal as a 2.0b VEN (pull model), glued to Home
Assistant.

The same link as the 3.1 one (:class:`~.utility.UtilityLink`: its state, health, repairs,
timeline and outbox), speaking 2.0b through ``openadr2/``: it registers the VEN
(``oadrCreatePartyRegistration``), offers each vehicle as a resource of its
``METADATA_TELEMETRY_USAGE`` report, polls (``oadrPoll``) at the VTN's requested frequency,
turns the events it gets into the one timeline (``openadr2.events``), answers them
(``oadrCreatedEvent``, ``openadr2.opt``) and sends each session's usage as
``TELEMETRY_USAGE`` from the crash-safe outbox. Every exchange runs on Home Assistant's
aiohttp session, the XML work (signing, schema validation, parsing) in the executor.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .const import (
    CONF_CA_BUNDLE,
    CONF_DEFAULT_BINDING,
    CONF_DEFAULT_OPT,
    CONF_MANDATORY_PROGRAMS,
    CONF_VEN_CERT,
    CONF_VEN_KEY,
    CONF_VTN_FINGERPRINT,
    CONF_VTN_URL,
    DOMAIN,
)
from .core.binding import ValidationAnswer
from .core.metering import Interval
from .io.store import LedgerStore
from .openadr.models import Event, Program
from .openadr.timeline import Timeline
from .openadr2.binding import ENROLLED, NOT_ENROLLED, binding_answer
from .openadr2.events import EventBook, EventContext
from .openadr2.opt import OPT_IN, OPT_OUT, OptBook
from .openadr2.reports import metadata_reports, usage_report, usage_requests
from .openadr2.status import STATUS_SPECIFIER, ResourceStatus, metadata_status_report
from .openadr2.transport import (
    SERVICE_REGISTER,
    IdentityRefused,
    Oadr2Error,
    Ven2Client,
    VtnRefused,
    VtnUnreachable,
)
from .utility import PUMP_SECONDS, UtilityLink
from .utility2_status import (
    KIND_STATUS2,
    NO_REQUEST_WAIT,
    queue_statuses,
    resource_status,
    send_status,
)
from .utility_outbox import backoff

if TYPE_CHECKING:
    from .ports import Premise
    from .program_events import ProgramEvents

_LOGGER = logging.getLogger(__name__)

KIND_USAGE2: Final = "usage2"
MAX_MESSAGES_PER_POLL: Final = 10
"""A poll drains the VTN's queue (2.0b: poll again until oadrResponse), at most this many."""


def _tls(config: dict[str, Any]) -> ssl.SSLContext | bool:
    """The TLS context (the CA bundle, the VEN's certificate for mutual TLS); blocking."""
    if not str(config[CONF_VTN_URL]).startswith("https"):
        return True
    context = ssl.create_default_context(cafile=config.get(CONF_CA_BUNDLE) or None)
    if config.get(CONF_VEN_CERT) and config.get(CONF_VEN_KEY):
        context.load_cert_chain(config[CONF_VEN_CERT], config[CONF_VEN_KEY])
    return context


def _read_keys(config: dict[str, Any]) -> tuple[bytes | None, bytes | None]:
    """The VEN's certificate and key for signing messages (None: plain); blocking."""
    cert, key = config.get(CONF_VEN_CERT), config.get(CONF_VEN_KEY)
    if not cert or not key:
        return None, None
    cert_pem, key_pem = Path(cert).read_bytes(), Path(key).read_bytes()
    # Checked here: openleadr fails on a bad key with an UnboundLocalError when it signs.
    x509.load_pem_x509_certificate(cert_pem)
    serialization.load_pem_private_key(key_pem, None)
    return cert_pem, key_pem


async def async_make_client2(
    hass: HomeAssistant, config: dict[str, Any], ven_name: str
) -> Ven2Client:
    """A 2.0b VEN client on Home Assistant's aiohttp session, XML work in the executor."""
    context = await hass.async_add_executor_job(_tls, config)
    cert, key = await hass.async_add_executor_job(_read_keys, config)
    return Ven2Client(
        async_get_clientsession(hass),
        config[CONF_VTN_URL],
        ven_name,
        ssl=context,
        cert_pem=cert,
        key_pem=key,
        vtn_fingerprint=config.get(CONF_VTN_FINGERPRINT) or None,
        run_blocking=hass.async_add_executor_job,
    )


class Oadr2Link(UtilityLink):
    """One premise's link to its utility's OpenADR 2.0b VTN."""

    protocol = "OpenADR 2.0b"

    def __init__(
        self,
        hass: HomeAssistant,
        premise: Premise,
        config: dict[str, Any],
        options: dict[str, Any],
        *,
        currency: str,
        on_timeline: Callable[[], None],
    ) -> None:
        super().__init__(hass, premise, config, options, currency=currency, on_timeline=on_timeline)
        self.client2: Ven2Client | None = None
        self.book = EventBook()
        self.opts = OptBook()
        self.default_opt = OPT_OUT if config.get(CONF_DEFAULT_OPT) == OPT_OUT else OPT_IN
        self.mandatory_programs = frozenset(config.get(CONF_MANDATORY_PROGRAMS) or [])
        self.default_binding = (
            NOT_ENROLLED if config.get(CONF_DEFAULT_BINDING) == "not_enrolled" else ENROLLED
        )
        self.usage_requests: dict[str, str] = {}
        self.status_requests: dict[str, str] = {}
        self._statuses: dict[str, ResourceStatus] = {}  # the last one queued per vehicle
        self.offered: tuple[str, ...] = ()
        self.events_view: ProgramEvents | None = None
        self.polls = 0
        self._poll_unsub: CALLBACK_TYPE | None = None
        self._poll_lock = asyncio.Lock()
        self._answering = False

    # -- life cycle ---------------------------------------------------------------------

    def attach(self, events: ProgramEvents) -> None:
        """The premise's events view: the user's opt-outs and the base tariff."""
        self.events_view = events
        events.add_listener(self._on_events)

    @callback
    def _on_events(self, reason: str) -> None:
        if reason == "changed" and self.client2 is not None and not self._stopped:
            self.hass.async_create_task(self._async_answer(None), eager_start=False)

    async def async_start(self) -> None:
        """Make the client, start the timers and register (without failing the set-up)."""
        try:
            self.client2 = await async_make_client2(self.hass, self.config, self.ven_name)
        except (OSError, ValueError, ssl.SSLError) as err:  # the VEN's files: shown, retried
            self._failed(Oadr2Error(f"the VEN certificate or key cannot be used: {err}"))
        self._arm_poll(self.poll_interval)
        self._unsubs.append(
            async_track_time_interval(
                self.hass, self._async_pump_timer, timedelta(seconds=PUMP_SECONDS)
            )
        )
        await self._refresh_backlog()
        await self.async_connect()

    async def async_stop(self) -> None:
        """Stop polling; a report in flight finishes first (as for 3.1)."""
        if self._poll_unsub is not None:
            self._poll_unsub()
            self._poll_unsub = None
        await super().async_stop()

    def _arm_poll(self, every: timedelta) -> None:
        if self._poll_unsub is not None:
            self._poll_unsub()
        self.poll_interval = every
        self._poll_unsub = async_track_time_interval(self.hass, self._async_poll, every)

    async def async_connect(self) -> None:
        """Register, offer the vehicles' reports and read the events."""
        client = self.client2
        if client is None:
            return
        try:
            registration = await client.register()
            self.state.ven_id = registration.ven_id
            ir.async_delete_issue(self.hass, DOMAIN, self._cancelled_issue())
            if registration.poll_interval and registration.poll_interval != self.poll_interval:
                self._arm_poll(max(registration.poll_interval, timedelta(seconds=1)))
            await self._async_offer_reports()
            events = await client.request_events()
            await self._async_apply(events, None)
        except Oadr2Error as err:
            self._failed(err)
            return
        self._succeeded()
        self.hass.async_create_task(self._async_pump(), eager_start=False)

    # -- polling ------------------------------------------------------------------------

    async def _async_poll(self, _now: datetime | None = None, *, pump: bool = True) -> None:
        """Poll until the VTN has nothing more (then send due reports unless ``pump`` is
        False: a plug-in's poll does not wait for a backlog)."""
        if self._stopped:
            return
        if self.client2 is None:  # its files were unusable at start: try them again
            try:
                self.client2 = await async_make_client2(self.hass, self.config, self.ven_name)
            except (OSError, ValueError, ssl.SSLError) as err:
                self._failed(Oadr2Error(f"the VEN certificate or key cannot be used: {err}"))
                return
        if self.state.ven_id is None:
            await self.async_connect()
            return
        async with self._poll_lock:
            self.refreshes += 1
            try:
                for _ in range(MAX_MESSAGES_PER_POLL):
                    self.polls += 1
                    kind, payload = await self.client2.poll()
                    if kind in (None, "oadrResponse"):
                        break
                    await self._async_handle(kind, payload)
            except Oadr2Error as err:
                self._failed(err)
                return
        self._succeeded()
        if pump:
            await self._async_pump()
        else:
            self.hass.async_create_task(self._async_pump(), eager_start=False)

    async def _async_handle(self, kind: str, payload: dict[str, Any]) -> None:
        assert self.client2 is not None
        request_id = payload.get("request_id")
        request_id = str(request_id) if isinstance(request_id, str) else None
        if kind == "oadrDistributeEvent":
            events = payload.get("events")
            await self._async_apply(events if isinstance(events, list) else [], request_id)
        elif kind == "oadrRequestReregistration":
            _LOGGER.warning("The 2.0b VTN asks VEN %s to register again", self.ven_name)
            await self.client2.acknowledge(SERVICE_REGISTER, request_id)
            self.client2.registration_id = None
            registration = await self.client2.register()
            self.state.ven_id = registration.ven_id
            self.offered = ()
            await self._async_offer_reports()
            await self._async_apply(await self.client2.request_events(), None)
        elif kind == "oadrCancelPartyRegistration":
            await self._async_cancelled(request_id)
        elif kind == "oadrCreateReport":
            await self._async_take_requests(payload.get("report_requests") or [], request_id)
        else:
            _LOGGER.info("The 2.0b VTN sent %s, which this VEN does not act on", kind)

    def _cancelled_issue(self) -> str:
        return f"utility_registration_cancelled_{self.premise.entry.entry_id}"

    async def _async_cancelled(self, request_id: str | None) -> None:
        """The VTN cancelled the VEN's registration: acknowledge, register again; a refusal
        leaves the link down with a repair issue (the next polls try again)."""
        assert self.client2 is not None
        _LOGGER.warning("The 2.0b VTN cancelled the registration of VEN %s", self.ven_name)
        await self.client2.canceled_registration(request_id)
        issue = self._cancelled_issue()
        try:
            registration = await self.client2.register()
        except VtnRefused as err:
            self.state.ven_id = None  # the next poll registers again
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="utility_registration_cancelled",
                translation_placeholders={"url": self.config[CONF_VTN_URL], "error": str(err)},
            )
            raise
        ir.async_delete_issue(self.hass, DOMAIN, issue)
        self.state.ven_id = registration.ven_id
        self.offered = ()
        await self._async_offer_reports()
        await self._async_apply(await self.client2.request_events(), None)

    # -- events -------------------------------------------------------------------------

    def _base_price(self, at: datetime) -> Decimal | None:
        if self.events_view is None:
            return None
        return self.events_view.base_tariff.price_at(at).price

    def _pev_ids(self) -> list[str]:
        found = [v.pev_id for v in self.premise.vehicles.values()]
        found.extend(self._plugged_pev_ids())
        return list(dict.fromkeys(p for p in found if p))

    def _ctx(self) -> EventContext:
        return EventContext(
            ven_name=self.ven_name,
            premise_id=self.premise.premise_id,
            pev_ids=tuple(self._pev_ids()),
            ven_id=self.state.ven_id,
            mandatory_programs=self.mandatory_programs,
            base_price=self._base_price,
        )

    async def _async_apply(self, raw_events: Sequence[Any], request_id: str | None) -> None:
        """A distribution: the book, the user's default answer, the timeline, the answers."""
        changed, gone = self.book.distribute(raw_events, self._ctx())
        view = self.events_view
        if self.default_opt == OPT_OUT and view is not None:
            view.opted_out.update(e.event_id for e in changed if not e.mandatory and not e.over)
        self._rebuild_timeline()
        await self._async_answer(request_id, extra=[e for e in changed if e.over])
        self.opts.forget(gone)

    def _rebuild_timeline(self) -> None:
        self.book.rebuild(self._ctx())
        self.state.events = {k: e.event for k, e in self.book.events.items() if e.event}
        contexts = sorted({e.market_context for e in self.book.events.values()})
        self.state.programs = [
            Program(
                id=context,
                name=context,
                raw={},
                attributes={"MANDATORY": [True]} if context in self.mandatory_programs else {},
            )
            for context in contexts
        ]
        self.timeline = Timeline(
            list(self.state.events.values()),
            ven_name=self.ven_name,
            resource_names=self._pev_ids(),
            currency=self.currency,
        )
        self._on_timeline()

    async def _async_answer(self, request_id: str | None, extra: Sequence[Any] = ()) -> None:
        """Send the answers not sent yet (new events, a changed choice); kept for the next
        poll when the VTN does not take them."""
        if self.client2 is None or self._answering:
            return
        opted_out = self.events_view.opted_out if self.events_view is not None else set()
        due = self.opts.due(
            [*self.book.events.values(), *extra], default=self.default_opt, opted_out=opted_out
        )
        if not due:
            return
        self._answering = True
        try:
            await self.client2.created_event(
                request_id, [(a.event_id, a.modification_number, a.opt_type) for a in due]
            )
        except Oadr2Error as err:
            _LOGGER.warning("Could not answer the 2.0b VTN's events: %s", err)
            self._failed(err)
            return
        finally:
            self._answering = False
        self.opts.acknowledged(due)

    # -- reports and binding ------------------------------------------------------------

    async def _async_offer_reports(self) -> None:
        """Offer every vehicle as a resource of the usage report (again when they changed)."""
        assert self.client2 is not None
        pev_ids = tuple(sorted(self._pev_ids()))
        if pev_ids == self.offered:
            return
        interval = timedelta(minutes=self.premise.interval_minutes)
        offered = metadata_reports(pev_ids, interval)
        if (status := metadata_status_report(pev_ids, interval)) is not None:
            offered.append(status)
        requests = await self.client2.register_reports(offered)
        self.offered = pev_ids
        await self._async_take_requests(requests, None)

    async def _async_take_requests(self, requests: Sequence[Any], request_id: str | None) -> None:
        assert self.client2 is not None
        usage = usage_requests(requests)
        for request in usage:
            for pev_id in request.pev_ids:
                self.usage_requests[pev_id] = request.report_request_id
        status = usage_requests(requests, STATUS_SPECIFIER)
        for request in status:
            for pev_id in request.pev_ids:
                self.status_requests[pev_id] = request.report_request_id
        if usage or status:
            await self.client2.created_report(
                request_id, [r.report_request_id for r in (*usage, *status)]
            )
        if status:  # the VTN asked: its current value now, then on change
            asked = {p for r in status for p in r.pev_ids}
            if await self._async_queue_statuses(force=asked):
                self.hass.async_create_task(self._async_pump(), eager_start=False)

    def resource_status(self, pev_id: str) -> ResourceStatus:
        """The vehicle's status as the charger shows it (``utility2_status``)."""
        return resource_status(self, pev_id)

    async def _async_queue_statuses(self, force: set[str] | frozenset[str] = frozenset()) -> bool:
        return await queue_statuses(self, force)

    async def async_validate(
        self,
        *,
        pev_id: str,
        max_power_kw: float,
        connection: str,
        energy_request_kwh: float | None,
        departure: datetime | None,
        window: float,
    ) -> tuple[ValidationAnswer | None, str | None]:
        """Offer the vehicle's resource, poll once, and let the events decide (2.0b has no
        binding answer: ``openadr2/binding.py``). No VTN: no communications."""
        if self.client2 is not None and self.state.ven_id is None:
            await self.async_connect()
        if self.client2 is None or self.state.ven_id is None:
            return None, f"utility not reachable: {self.state.last_error}"
        try:
            async with asyncio.timeout(window):
                await self._async_offer_reports()
                await self._async_poll(pump=False)
        except TimeoutError:
            return None, "the utility did not answer within the validation window"
        except Oadr2Error as err:
            self._failed(err)
            return None, str(err)
        if not self.state.connected:
            return None, f"utility not reachable: {self.state.last_error}"
        answer, why = binding_answer(
            pev_id, self.book.events.values(), default=self.default_binding
        )
        _LOGGER.debug("2.0b binding of %s: %s (%s)", pev_id, answer.binding, why)
        return answer, None

    async def async_update_request(self, **_kwargs: Any) -> None:
        """2.0b has no energy request: nothing to send."""

    async def async_queue_state(
        self,
        session_id: str,
        pev_id: str,
        event: Event,
        states: Sequence[tuple[datetime, datetime, str]],
    ) -> None:
        """The 3.1 event-state report: the 2.0b link sends its TELEMETRY_STATUS instead
        (queued on change by the pump, :meth:`_async_queue_statuses`)."""

    async def async_queue_usage(
        self, session_id: str, pev_id: str | None, intervals: Sequence[Interval]
    ) -> int:
        """Keep the session's intervals in the outbox (the newest body of one row per
        session); the pump sends those the VTN has not taken yet."""
        if not pev_id or not intervals:
            return 0
        body = {
            "pev_id": pev_id,
            "intervals": [[i.start.isoformat(), i.end.isoformat(), i.kwh] for i in intervals],
        }
        now = dt_util.utcnow()
        await self.premise.store.call(
            partial(
                LedgerStore.outbox_put,
                report_key=f"{KIND_USAGE2}:{session_id}",
                session_id=session_id,
                event_id="",
                program_id="",
                report_name=session_id,
                kind=KIND_USAGE2,
                body=body,
                now=now,
                premise_id=self.premise.premise_id,
            )
        )
        await self._refresh_backlog()
        self.hass.async_create_task(self._async_pump(), eager_start=False)
        return 1

    async def _async_pump(self) -> None:
        """Send due usage reports until none is due or the VTN fails."""
        if self._pumping or self._stopped or self.client2 is None or self.state.ven_id is None:
            return
        self._pumping = True
        self._pump_task = asyncio.current_task()
        try:
            await self._async_queue_statuses()  # a status change since the last run
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
                    if not await self._async_send2(row):
                        return
        finally:
            self._pumping = False
            self._pump_task = None
            if not self._stopped:
                await self._refresh_backlog()
                self.premise.changed()

    async def _async_send2(self, row: dict[str, Any]) -> bool:
        """Send the intervals after the last one the VTN took (kept in ``vtn_report_id``).

        2.0b has no report to update in place: an interval is sent once, unless the process
        dies between the VTN's answer and the acknowledgement's write (then it is sent again,
        the same rID, start and value). Returns False to stop the pump run."""
        assert self.client2 is not None
        key, version, body = row["report_key"], row["version"], row["body"]
        if row["kind"] == KIND_STATUS2:
            return await self._async_send_status(row)
        if row["kind"] != KIND_USAGE2:  # a 3.1 row left from before a protocol change
            await self._async_dead_letter(row, "a report of the OpenADR 3.1 link")
            return True
        pev_id = str(body.get("pev_id"))
        sent_until = row["vtn_report_id"]
        fresh = [
            (datetime.fromisoformat(s), datetime.fromisoformat(e), float(k))
            for s, e, k in body.get("intervals") or []
            if sent_until is None or e > sent_until
        ]
        request_id = self.usage_requests.get(pev_id)
        if fresh and request_id is None:  # waiting for the VTN, not a failure of the link
            retry = dt_util.utcnow() + NO_REQUEST_WAIT
            reason = f"the VTN has not asked for {pev_id}'s usage yet"
            await self.premise.store.call(
                partial(
                    LedgerStore.outbox_fail,
                    report_key=key,
                    error=reason,
                    next_attempt=retry,
                    premise_id=self.premise.premise_id,
                )
            )
            return True
        if fresh:
            assert request_id is not None
            try:
                await self.client2.update_report(usage_report(request_id, pev_id, fresh))
            except (VtnUnreachable, IdentityRefused) as err:  # the VEN refused: kept
                await self._async_retry_later(key, err, backoff(row["attempts"], self._rng))
                return False
            except VtnRefused as err:
                await self._async_dead_letter(row, str(err))
                return True
            except Oadr2Error as err:
                await self._async_retry_later(key, err, backoff(row["attempts"], self._rng))
                return False
            sent_until = fresh[-1][1].isoformat()
        now = dt_util.utcnow()
        premise_id = self.premise.premise_id
        await self.premise.store.call(
            lambda s: s.outbox_ack(key, version, sent_until, now, premise_id)
        )
        self._succeeded()
        return True

    async def _async_send_status(self, row: dict[str, Any]) -> bool:
        return await send_status(self, row)

    def diagnostics(self) -> dict[str, Any]:
        """The 2.0b link's state and last exchanges (no keys, no XML)."""
        client = self.client2
        return {
            **self.link_diagnostics(),
            "protocol": self.protocol,
            "ven_id": self.state.ven_id,
            "vtn_id": client.vtn_id if client is not None else None,
            "signed": bool(client is not None and client.cert_pem),
            "poll_seconds": self.poll_interval.total_seconds(),
            "polls": self.polls,
            "events": {
                e.event_id: {
                    "modification": e.modification_number,
                    "status": e.status,
                    "program": e.market_context,
                    "mandatory": e.mandatory,
                    "skipped": list(e.skipped),
                }
                for e in self.book.events.values()
            },
            "answers": {k: list(v) for k, v in self.opts.sent.items()},
            "usage_requests": dict(self.usage_requests),
            "status_requests": dict(self.status_requests),
            "exchanges": [
                {
                    "at": x.at.isoformat(),
                    "service": x.service,
                    "sent": x.message_type,
                    "answer": x.answer_type,
                    "error": x.error,
                }
                for x in (client.exchanges if client is not None else [])
            ],
        }
