"""The utility link: PEV Portal as an OpenADR 3.1 VEN, glued to Home Assistant.

The protocol lives in ``openadr/`` (no Home Assistant imports); this module owns what needs
Home Assistant: the aiohttp session, the push endpoint served by Home Assistant's HTTP server,
timers, repairs, reauthentication, and the durable report outbox in the premise's store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web
from homeassistant.components.http import HomeAssistantView
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util import dt as dt_util

from .const import (
    AUTH_CLIENT_CREDENTIALS,
    AUTH_TOKEN,
    CONF_AUTH_TYPE,
    CONF_CA_BUNDLE,
    CONF_CALLBACK_URL,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_POLL_MINUTES,
    CONF_PROGRAMS,
    CONF_REPORT_MINUTES,
    CONF_TOKEN,
    CONF_UTILITY_ID,
    CONF_VEN_NAME,
    CONF_VTN_URL,
    DEFAULT_POLL_MINUTES,
    DEFAULT_REPORT_MINUTES,
    DOMAIN,
    LINK_DOWN_REPAIR_AFTER,
)
from .core.binding import ValidationAnswer
from .core.metering import Interval
from .io.store import LedgerStore
from .openadr.client import (
    Auth,
    BearerToken,
    ClientCredentials,
    NoAuth,
    VenClient,
    pev_resource_attributes,
)
from .openadr.errors import OpenADRError, VtnAuthError
from .openadr.models import (
    Event,
    Program,
    parse_event,
    parse_notification,
    parse_resource,
    validation_answer,
)
from .openadr.reports import operating_state_report, usage_report
from .openadr.timeline import Timeline

if TYPE_CHECKING:
    from .ports import Premise

_LOGGER = logging.getLogger(__name__)

PUMP_SECONDS = 15
RESOURCE_POLL_SECONDS = 2.0
BACKOFF_BASE_S = 10.0
BACKOFF_MAX_S = 3600.0
NOTIFY_PATH = "/api/pev_portal/notify"


def build_auth(config: dict[str, Any]) -> Auth:
    """The VTN credentials of a utility link's configuration."""
    kind = config.get(CONF_AUTH_TYPE)
    if kind == AUTH_CLIENT_CREDENTIALS:
        return ClientCredentials(config[CONF_CLIENT_ID], config[CONF_CLIENT_SECRET])
    if kind == AUTH_TOKEN:
        return BearerToken(config[CONF_TOKEN])
    return NoAuth()


def ssl_context(config: dict[str, Any]) -> ssl.SSLContext | bool:
    """Verified TLS by default; a user CA bundle when given (blocking: run in the executor)."""
    if bundle := config.get(CONF_CA_BUNDLE):
        return ssl.create_default_context(cafile=bundle)
    return True


async def async_make_client(hass: HomeAssistant, config: dict[str, Any]) -> VenClient:
    """A VEN client on Home Assistant's shared aiohttp session."""
    context = await hass.async_add_executor_job(ssl_context, config)
    return VenClient(
        async_get_clientsession(hass),
        config[CONF_VTN_URL].rstrip("/"),
        build_auth(config),
        ssl=context,
    )


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential backoff with jitter: 10 s doubling to at most an hour, +-50 %."""
    base = min(BACKOFF_MAX_S, BACKOFF_BASE_S * (2 ** min(attempts, 20)))
    return timedelta(seconds=base * rng.uniform(0.5, 1.5))


@dataclass
class LinkState:
    """What the entities show of the link."""

    connected: bool = False
    last_error: str | None = None
    last_contact: datetime | None = None
    down_since: datetime | None = None
    ven_id: str | None = None
    programs: list[Program] = field(default_factory=list)
    events: dict[str, Event] = field(default_factory=dict)
    backlog: int = 0
    last_ack: datetime | None = None
    push_active: bool = False


class UtilityLink:
    """One premise's link to its utility's VTN."""

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
        self.hass = hass
        self.premise = premise
        self.currency = currency
        self._on_timeline = on_timeline
        self.config = config
        self.ven_name: str = config.get(CONF_VEN_NAME) or premise.premise_id
        self.program_names: list[str] = list(config.get(CONF_PROGRAMS) or [])
        self.utility_id: str | None = config.get(CONF_UTILITY_ID) or None
        self.poll_interval = timedelta(
            minutes=float(options.get(CONF_POLL_MINUTES, DEFAULT_POLL_MINUTES))
        )
        self.report_interval = timedelta(
            minutes=float(options.get(CONF_REPORT_MINUTES, DEFAULT_REPORT_MINUTES))
        )
        self.state = LinkState()
        self.timeline = Timeline([], ven_name=self.ven_name, resource_names=[])
        self.client: VenClient | None = None
        self.webhook_id: str = ""
        self.bearer: str = ""
        self.subscription_id: str | None = None
        self._rng = random.Random()
        self._unsubs: list[CALLBACK_TYPE] = []
        self._resource_waiters: dict[str, asyncio.Event] = {}
        self._pumping = False
        self._stopped = False
        self._auth_failed = False
        self._ven_targets: list[str] = []
        self._resource_targets: dict[str, list[str]] = {}

    # -- life cycle ---------------------------------------------------------------------

    async def async_start(self) -> None:
        """Connect (without failing setup when the VTN is down), subscribe, start timers."""
        self.client = await async_make_client(self.hass, self.config)
        secrets_stored = await self.premise.store.call(lambda s: s.get_meta("utility_push"))
        if secrets_stored:
            self.webhook_id, self.bearer = secrets_stored["webhook_id"], secrets_stored["bearer"]
        else:
            self.webhook_id, self.bearer = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            push = {"webhook_id": self.webhook_id, "bearer": self.bearer}
            await self.premise.store.call(lambda s: s.set_meta("utility_push", push))
        links: dict[str, UtilityLink] = self.hass.data.setdefault(DOMAIN, {}).setdefault(
            "links", {}
        )
        links[self.webhook_id] = self
        self._unsubs.append(
            async_track_time_interval(self.hass, self._async_poll, self.poll_interval)
        )
        self._unsubs.append(
            async_track_time_interval(
                self.hass, self._async_pump_timer, timedelta(seconds=PUMP_SECONDS)
            )
        )
        await self._refresh_backlog()
        await self.async_connect()

    async def async_stop(self) -> None:
        """Stop timers and stop answering pushes (the subscription is left for the restart)."""
        self._stopped = True
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self.hass.data.get(DOMAIN, {}).get("links", {}).pop(self.webhook_id, None)
        for waiter in self._resource_waiters.values():
            waiter.set()

    async def async_connect(self) -> None:
        """Register the VEN, read programs and events, and subscribe for pushes."""
        assert self.client is not None
        try:
            ven = await self.client.async_ensure_ven(self.ven_name)
            self.state.ven_id = str(ven["id"])
            self._ven_targets = [str(t) for t in ven.get("targets") or []]
            await self._async_refresh_events()
            await self._async_subscribe()
        except OpenADRError as err:
            self._failed(err)
            return
        self._succeeded()
        self.hass.async_create_task(self._async_pump(), eager_start=False)

    async def _async_subscribe(self) -> None:
        assert self.client is not None
        url = self.callback_url()
        if url is None:
            self.state.push_active = False
            _LOGGER.info("No URL for pushes from the VTN is known; polling only")
            return
        program_ids = [p.id for p in self.state.programs]
        subscription = await self.client.async_subscribe(
            self.ven_name, program_ids, url, self.bearer
        )
        self.subscription_id = str(subscription.get("id")) if subscription.get("id") else None
        self.state.push_active = True

    def callback_url(self) -> str | None:
        """The unguessable URL the VTN pushes to (Home Assistant's own HTTP server)."""
        base = self.config.get(CONF_CALLBACK_URL)
        if not base:
            try:
                base = get_url(self.hass, allow_internal=True, prefer_external=True)
            except NoURLAvailableError, KeyError:  # no URL known (or no network component)
                return None
        return f"{base.rstrip('/')}{NOTIFY_PATH}/{self.webhook_id}"

    # -- events -------------------------------------------------------------------------

    async def _async_refresh_events(self) -> None:
        assert self.client is not None
        programs = await self.client.async_programs(self.program_names or None)
        events = await self.client.async_events([p.id for p in programs])
        self.state.programs = programs
        self.state.events = {e.id: e for e in events}
        self._rebuild_timeline()

    def _rebuild_timeline(self) -> None:
        resources = [v.pev_id for v in self.premise.vehicles.values()]
        for runtime in self.premise.chargers.values():
            if runtime.session is not None and runtime.session.pev_id:
                resources.append(runtime.session.pev_id)
        self.timeline = Timeline(
            list(self.state.events.values()),
            ven_name=self.ven_name,
            resource_names=resources,
            currency=self.currency,
            ven_targets=self._ven_targets,
            resource_targets=self._resource_targets,
        )
        self._on_timeline()

    async def _async_poll(self, _now: datetime | None = None) -> None:
        if self._stopped or self.client is None:
            return
        if self.state.ven_id is None:
            await self.async_connect()
            return
        try:
            await self._async_refresh_events()
        except OpenADRError as err:
            self._failed(err)
            return
        self._succeeded()
        await self._async_pump()

    @callback
    def async_poll_soon(self) -> None:
        """Poll at once (after a push that could not be processed)."""
        self.hass.async_create_task(self._async_poll(), eager_start=False)

    async def async_handle_notification(self, body: bytes) -> None:
        """A push from the VTN: apply the changed object at once."""
        try:
            note = parse_notification(body)
        except ValueError as err:
            _LOGGER.warning("Unusable notification from the VTN (%s); polling instead", err)
            self.async_poll_soon()
            return
        kind, operation = note.object_type.upper(), note.operation.upper()
        self._succeeded()
        if kind == "EVENT":
            try:
                event = parse_event(note.object)
            except ValueError as err:
                _LOGGER.warning("Malformed event in a notification (%s); polling instead", err)
                self.async_poll_soon()
                return
            if operation == "DELETE":
                self.state.events.pop(event.id, None)
            else:
                self.state.events[event.id] = event
            self._rebuild_timeline()
        elif kind == "RESOURCE":
            try:
                resource = parse_resource(note.object)
            except ValueError:
                self.async_poll_soon()
                return
            if waiter := self._resource_waiters.get(resource.name):
                waiter.set()
        elif kind == "PROGRAM":
            self.async_poll_soon()

    # -- binding (UC133 steps 2-3) ------------------------------------------------------

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
        """Create or update the PEV's resource and wait for the utility's BINDING answer.

        Returns the answer (None when none came within the window) and a failure text.
        """
        if self.client is not None and self.state.ven_id is None:
            await self.async_connect()  # not registered yet: try once more now
        if self.client is None or self.state.ven_id is None:
            return None, f"utility not reachable: {self.state.last_error}"
        ven_id = self.state.ven_id
        deadline = self.hass.loop.time() + window
        attributes = pev_resource_attributes(
            pev_id=pev_id,
            premise_id=self.premise.premise_id,
            max_power_kw=max_power_kw,
            connection=connection,
            energy_request_kwh=energy_request_kwh,
            departure=departure,
        )
        waiter = self._resource_waiters.setdefault(pev_id, asyncio.Event())
        try:
            try:
                resource = await asyncio.wait_for(
                    self.client.async_upsert_resource(ven_id, pev_id, attributes), window
                )
            except TimeoutError:
                return None, "the utility did not answer within the validation window"
            except OpenADRError as err:
                self._failed(err)
                return None, str(err)
            self._succeeded()
            while True:
                answer = validation_answer(resource)
                if answer is not None:
                    self._resource_targets[pev_id] = [
                        str(t) for t in resource.raw.get("targets") or []
                    ]
                    self._rebuild_timeline()
                    return answer, None
                remaining = deadline - self.hass.loop.time()
                if remaining <= 0 or self._stopped:
                    return None, "no answer from the utility within the validation window"
                waiter.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.wait(), min(remaining, RESOURCE_POLL_SECONDS))
                try:
                    resource = await self.client.async_get_resource(ven_id, resource.id)
                except OpenADRError as err:
                    self._failed(err)
                    return None, str(err)
        finally:
            self._resource_waiters.pop(pev_id, None)

    async def async_update_request(
        self,
        *,
        pev_id: str,
        max_power_kw: float,
        connection: str,
        energy_request_kwh: float | None,
        departure: datetime | None,
    ) -> None:
        """The customer changed the energy request or the departure: update the PEV's resource
        (the utility's answer on it is kept). A failure is logged; the next plug-in sends it."""
        if self.client is None or self.state.ven_id is None:
            return
        attributes = pev_resource_attributes(
            pev_id=pev_id,
            premise_id=self.premise.premise_id,
            max_power_kw=max_power_kw,
            connection=connection,
            energy_request_kwh=energy_request_kwh,
            departure=departure,
        )
        try:
            await self.client.async_upsert_resource(
                self.state.ven_id, pev_id, attributes, keep_answer=True
            )
        except OpenADRError as err:
            _LOGGER.warning("Could not update the energy request of %s: %s", pev_id, err)
            self._failed(err)
            return
        self._succeeded()

    # -- reports (UC133 steps 8-11) -----------------------------------------------------

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
        # Our reports already at the VTN, by (event, report name): listed once per event and
        # pump run (not once per report), so a long backlog is sent in linear time.
        known: dict[str, dict[str, str]] = {}
        try:
            while not self._stopped:
                due = await self.premise.store.call(
                    partial(LedgerStore.outbox_due, now=dt_util.utcnow(), limit=20)
                )
                if not due:
                    break
                for row in due:
                    if not await self._async_send(row, known):
                        return
        finally:
            self._pumping = False
            await self._refresh_backlog()
            self.premise.changed()

    async def _async_send(self, row: dict[str, Any], known: dict[str, dict[str, str]]) -> bool:
        """Create or update one report; a report never gets a second name or a twin."""
        assert self.client is not None
        key, version, body = row["report_key"], row["version"], row["body"]
        event_id = row["event_id"]
        try:
            report_id = row["vtn_report_id"]
            if report_id is None:
                # Created before a crash or a lost answer? Then it is updated, not duplicated.
                if event_id not in known:
                    known[event_id] = await self._async_our_reports(event_id)
                report_id = known[event_id].get(row["report_name"])
            if report_id is None:
                created = await self.client.async_create_report(body)
                report_id = str(created.get("id") or "") or None
                if report_id:
                    known.setdefault(event_id, {})[row["report_name"]] = report_id
            else:
                await self.client.async_update_report(report_id, body)
        except OpenADRError as err:
            retry = dt_util.utcnow() + backoff(row["attempts"], self._rng)
            await self.premise.store.call(
                partial(LedgerStore.outbox_fail, report_key=key, error=str(err), next_attempt=retry)
            )
            self._failed(err)
            return False
        now = dt_util.utcnow()
        await self.premise.store.call(lambda s: s.outbox_ack(key, version, report_id, now))
        self._succeeded()
        return True

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
        stats = await self.premise.store.call(lambda s: s.outbox_stats())
        self.state.backlog = stats["backlog"]
        self.state.last_ack = stats["last_ack"]

    # -- health ---------------------------------------------------------------------------

    def _succeeded(self) -> None:
        first = not self.state.connected
        self.state.connected = True
        self.state.last_error = None
        self.state.last_contact = dt_util.utcnow()
        self.state.down_since = None
        if first:
            _LOGGER.info("Connected to the utility's VTN at %s", self.config[CONF_VTN_URL])
        ir.async_delete_issue(self.hass, DOMAIN, self._issue("utility_down"))
        if first or self._auth_failed:
            # Accepted credentials (also after a reauthentication and its reload).
            self._auth_failed = False
            ir.async_delete_issue(self.hass, DOMAIN, self._issue("utility_auth"))
        self.premise.changed()

    def _failed(self, err: OpenADRError) -> None:
        now = dt_util.utcnow()
        if self.state.connected or self.state.down_since is None:
            _LOGGER.warning("The utility's VTN is not available: %s", err)
            self.state.down_since = self.state.down_since or now
        self.state.connected = False
        self.state.last_error = str(err)
        if isinstance(err, VtnAuthError) and not self._auth_failed:
            self._auth_failed = True
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self._issue("utility_auth"),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="utility_auth",
                translation_placeholders={"url": self.config[CONF_VTN_URL]},
            )
            self.premise.entry.async_start_reauth(self.hass)
        if now - self.state.down_since >= LINK_DOWN_REPAIR_AFTER:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self._issue("utility_down"),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="utility_down",
                translation_placeholders={
                    "url": self.config[CONF_VTN_URL],
                    "since": self.state.down_since.isoformat(timespec="minutes"),
                    "error": str(err),
                },
            )
        self.premise.changed()

    def _issue(self, kind: str) -> str:
        return f"{kind}_{self.premise.entry.entry_id}"

    def diagnostics(self) -> dict[str, Any]:
        """State and the last exchanges (the client never records secrets)."""
        client = self.client
        return {
            "vtn_url": self.config[CONF_VTN_URL],
            "ven_name": self.ven_name,
            "programs": [p.name for p in self.state.programs],
            "events": len(self.state.events),
            "connected": self.state.connected,
            "last_error": self.state.last_error,
            "push_active": self.state.push_active,
            "backlog": self.state.backlog,
            "exchanges": [
                {
                    "at": x.at.isoformat(),
                    "method": x.method,
                    "url": x.url,
                    "status": x.status,
                    "request": x.request,
                    "response": x.response,
                    "error": x.error,
                }
                for x in (client.exchanges if client is not None else [])
            ],
        }


class NotifyView(HomeAssistantView):
    """The subscription callback: POST notifications, and the GET echo probe."""

    url = NOTIFY_PATH + "/{webhook_id}"
    extra_urls = [NOTIFY_PATH + "/{webhook_id}/echo"]
    name = "api:pev_portal:notify"
    requires_auth = False

    def _link(self, request: web.Request, webhook_id: str) -> UtilityLink | None:
        hass: HomeAssistant = request.app["hass"]
        link: UtilityLink | None = hass.data.get(DOMAIN, {}).get("links", {}).get(webhook_id)
        return link

    async def get(self, request: web.Request, webhook_id: str) -> web.Response:
        """The echo probe: GET {callback}/echo?echo=X answers X."""
        if self._link(request, webhook_id) is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return web.Response(text=request.query.get("echo", ""), content_type="text/plain")

    async def post(self, request: web.Request, webhook_id: str) -> web.Response:
        """A notification; the subscription's bearer token is checked on every call."""
        link = self._link(request, webhook_id)
        if link is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        if not secrets.compare_digest(
            request.headers.get("Authorization", ""), f"Bearer {link.bearer}"
        ):
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        body = await request.read()
        await link.async_handle_notification(body)
        return web.Response(status=HTTPStatus.OK)


def async_register_view(hass: HomeAssistant) -> None:
    """Serve the notification endpoint (once)."""
    data = hass.data.setdefault(DOMAIN, {})
    if not data.get("view_registered") and "http" in hass.config.components:
        hass.http.register_view(NotifyView())
        data["view_registered"] = True
