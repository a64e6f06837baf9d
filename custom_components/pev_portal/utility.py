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
from homeassistant.util import dt as dt_util

from .const import (
    AUTH_CLIENT_CREDENTIALS,
    AUTH_TOKEN,
    CONF_AUTH_TYPE,
    CONF_CA_BUNDLE,
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
from .openadr.enrollment import program_status
from .openadr.errors import (
    OpenADRError,
    VtnAuthError,
    VtnNotFound,
    VtnProtocolError,
    VtnUnreachable,
)
from .openadr.models import (
    Event,
    Program,
    parse_event,
    parse_notification,
    parse_resource,
    target_values,
    validation_answer,
)
from .openadr.reports import operating_state_report, usage_report
from .openadr.timeline import Timeline
from .push_url import callback_base

if TYPE_CHECKING:
    from .ports import Premise

_LOGGER = logging.getLogger(__name__)
# How long an unload waits for a report in flight.
STOP_TIMEOUT_S = 10.0

PUMP_SECONDS = 15
RESOURCE_POLL_SECONDS = 2.0
BACKOFF_BASE_S = 10.0
BACKOFF_MAX_S = 3600.0
NOTIFY_PATH = "/api/pev_portal/notify"
REFRESH_DEBOUNCE_S = 0.5
"""A push that cannot be used asks for a refresh this long later (pushes in between join it)."""
REFRESH_MIN_GAP_S = 5.0
"""At most one push-triggered refresh per this many seconds, and never two at once."""
DEAD_STATUSES = frozenset({400, 409, 413, 422})
"""A report answered with one of these is refused for good: dead-lettered, never retried."""
ENROLLMENT_ACTIVE = "active"
ENROLLMENT_PENDING = "pending"


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
    enrollment: str = ENROLLMENT_ACTIVE
    """``pending`` while a configured program is not visible to the VEN yet (the utility has
    not granted it), then ``active``."""
    missing_programs: list[str] = field(default_factory=list)
    dead_letters: int = 0
    push_source: str | None = None
    """Where the push URL came from: ``typed`` (the link's setting), ``internal``,
    ``external`` (Home Assistant's URL settings) or ``detected`` (its local IP or cloud URL)."""
    polling_because: str | None = None
    """Why the link only polls (no URL for pushes, or the VTN refused the subscription)."""
    echo_probe_at: datetime | None = None
    """When the VTN last checked the callback URL with its echo challenge."""
    last_rebuild: datetime | None = None
    rebuilt: list[str] = field(default_factory=list)


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
        self._pump_task: asyncio.Task[Any] | None = None
        self._stopped = False
        self._auth_failed = False
        self._ven_targets: list[str] = []
        self._resource_targets: dict[str, list[str]] = {}
        # Coalesced refreshes: what to re-read, the pending timer, one in flight at most.
        self._refresh_scope: set[str] = set()
        self._refresh_handle: asyncio.TimerHandle | None = None
        self._refresh_running = False
        self._last_refresh = float("-inf")
        self._refresh_lock = asyncio.Lock()
        self.refreshes = 0
        """Refreshes run (polls and push-triggered ones), for diagnostics and the benchmark."""
        # The last resource request per PEV ID (re-created when the VTN lost it).
        self._resource_requests: dict[str, list[dict[str, Any]]] = {}

    # -- life cycle ---------------------------------------------------------------------

    async def async_start(self) -> None:
        """Connect (without failing setup when the VTN is down), subscribe, start timers."""
        self.client = await async_make_client(self.hass, self.config)
        secrets_stored = await self.premise.store.read(lambda s: s.get_meta("utility_push"))
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
        if self._refresh_handle is not None:
            self._refresh_handle.cancel()
            self._refresh_handle = None
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self.hass.data.get(DOMAIN, {}).get("links", {}).pop(self.webhook_id, None)
        for waiter in self._resource_waiters.values():
            waiter.set()
        # A report being sent finishes (its acknowledgement written) before the store closes;
        # one the VTN does not answer within the timeout is cancelled and stays in the outbox.
        pump = self._pump_task
        if pump is not None and not pump.done() and pump is not asyncio.current_task():
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await asyncio.shield(pump)
            except TimeoutError:
                pump.cancel()
                await asyncio.gather(pump, return_exceptions=True)
            except Exception:  # its own failure is logged by it
                pass

    async def async_connect(self) -> None:
        """Register the VEN, read programs and events, and subscribe for pushes."""
        assert self.client is not None
        try:
            ven = await self.client.async_ensure_ven(self.ven_name)
            self.state.ven_id = str(ven["id"])
            self._ven_targets = _labels(ven)
            await self._async_read_grants()
            await self._async_refresh_events()
            await self._async_subscribe()
        except OpenADRError as err:
            self._failed(err)
            return
        self._succeeded()
        self.hass.async_create_task(self._async_pump(), eager_start=False)

    async def _async_subscribe(self) -> None:
        """Subscribe with the callback URL; without one, or when the VTN refuses it (its echo
        challenge did not reach Home Assistant there), the link polls and says why."""
        assert self.client is not None
        base, source = callback_base(self.hass, self.config)
        if base is None:
            self._polling(source)
            return
        url = f"{base}{NOTIFY_PATH}/{self.webhook_id}"
        program_ids = [p.id for p in self.state.programs]
        try:
            subscription = await self.client.async_subscribe(
                self.ven_name, program_ids, url, self.bearer
            )
        except VtnProtocolError as err:
            # The VTN's problem text may quote the URL: its unguessable part stays out.
            detail = str(err).replace(self.webhook_id, "<webhook id>")
            self._polling(
                f"the VTN refused the subscription to Home Assistant's {source} URL ({detail}); "
                "it may not reach Home Assistant there"
            )
            return
        self.subscription_id = str(subscription.get("id")) if subscription.get("id") else None
        if not self.state.push_active:
            _LOGGER.info("Pushes from the VTN go to Home Assistant's %s URL", source)
        self.state.push_active = True
        self.state.push_source = source
        self.state.polling_because = None

    def _polling(self, why: str) -> None:
        if self.state.polling_because != why:
            _LOGGER.warning("No pushes from the utility's VTN, polling only: %s", why)
        self.state.push_active = False
        self.state.push_source = None
        self.state.polling_because = why
        self.subscription_id = None

    def callback_url(self) -> str | None:
        """The unguessable URL the VTN pushes to (Home Assistant's own HTTP server)."""
        base, _source = callback_base(self.hass, self.config)
        return f"{base}{NOTIFY_PATH}/{self.webhook_id}" if base is not None else None

    # -- events -------------------------------------------------------------------------

    async def _async_refresh_events(self) -> None:
        assert self.client is not None
        programs = await self.client.async_programs(self.program_names or None)
        events = await self.client.async_events([p.id for p in programs])
        self.state.programs = programs
        self.state.events = {e.id: e for e in events}
        self._enrollment(programs)
        self._rebuild_timeline()

    def _enrollment(self, programs: Sequence[Program]) -> None:
        """Pending while a configured program is not visible (not granted yet), then active."""
        status = program_status(programs, self.program_names, self.state.ven_id)
        was = self.state.enrollment
        self.state.missing_programs = status.missing
        self.state.enrollment = ENROLLMENT_PENDING if status.pending else ENROLLMENT_ACTIVE
        issue = self._issue("utility_enrollment")
        if status.pending:
            if was != ENROLLMENT_PENDING:
                _LOGGER.warning(
                    "Waiting for the utility: VEN %s does not see program(s) %s yet; the "
                    "utility must enroll it (grant it the program's targets)",
                    self.ven_name,
                    ", ".join(status.missing),
                )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="utility_enrollment",
                translation_placeholders={
                    "programs": ", ".join(status.missing),
                    "ven_name": self.ven_name,
                    "url": self.config[CONF_VTN_URL],
                },
            )
        elif was == ENROLLMENT_PENDING:
            _LOGGER.info("The utility enrolled VEN %s: every program is visible", self.ven_name)
            ir.async_delete_issue(self.hass, DOMAIN, issue)

    # -- targets and self-healing -------------------------------------------------------

    async def _async_read_grants(self) -> bool:
        """Re-read the targets granted to the VEN and its resources; False when the VTN no
        longer has this VEN (or has another one by its name: state lost)."""
        assert self.client is not None
        grants = await self.client.async_grants(self.ven_name)
        if grants.ven_id is None or grants.ven_id != self.state.ven_id:
            return False
        self._ven_targets = sorted(grants.ven)
        self._resource_targets = {name: sorted(labels) for name, labels in grants.resources.items()}
        return True

    def _plugged_pev_ids(self) -> list[str]:
        return [
            runtime.session.pev_id
            for runtime in self.premise.chargers.values()
            if runtime.session is not None and runtime.session.pev_id
        ]

    async def _async_heal(self, reason: str) -> None:
        """The VTN lost our state: register the VEN again, re-create the resources of the
        plugged-in vehicles and the subscription, and read programs and events."""
        assert self.client is not None
        old = self.state.ven_id
        ven = await self.client.async_ensure_ven(self.ven_name)
        self.state.ven_id = str(ven["id"])
        rebuilt = [f"VEN {self.ven_name} ({old} -> {self.state.ven_id})"]
        self._resource_targets = {}
        for pev_id in self._plugged_pev_ids():
            attributes = self._resource_requests.get(pev_id)
            if attributes is None:
                continue
            await self.client.async_upsert_resource(
                self.state.ven_id, pev_id, attributes, keep_answer=True
            )
            rebuilt.append(f"resource {pev_id}")
        await self._async_read_grants()
        await self._async_refresh_events()
        await self._async_subscribe()  # polls (and says why) without a usable URL
        if self.state.push_active:
            rebuilt.append("subscription")
        self.state.last_rebuild = dt_util.utcnow()
        self.state.rebuilt = rebuilt
        _LOGGER.warning(
            "The utility's VTN lost this link's state (%s); rebuilt: %s", reason, ", ".join(rebuilt)
        )

    async def _async_refresh(self, scope: set[str]) -> None:
        """Re-read what ``scope`` names: ``link`` (the VEN and the subscription still exist),
        ``grants`` (targets of the VEN and its resources), ``events`` (programs and events).
        Heals the link when the VTN lost its state."""
        assert self.client is not None
        async with self._refresh_lock:
            if self.state.ven_id is None:
                return
            if scope & {"link", "grants"} and not await self._async_read_grants():
                await self._async_heal("the VEN is gone")
                return
            if "link" in scope and not self.state.push_active:
                await self._async_subscribe()  # a URL set meanwhile, or the VTN fixed
            elif (
                "link" in scope
                and self.state.push_active
                and self.subscription_id is not None
                and not await self.client.async_subscription_alive(
                    self.ven_name, self.subscription_id
                )
            ):
                await self._async_subscribe()
                self.state.rebuilt = ["subscription"]
                self.state.last_rebuild = dt_util.utcnow()
                _LOGGER.warning("The utility's VTN lost the subscription; rebuilt: subscription")
            if "events" in scope:
                await self._async_refresh_events()
            else:
                self._rebuild_timeline()

    @callback
    def _request_refresh(self, scope: set[str], why: str, *, soon: bool = False) -> None:
        """Ask for a coalesced refresh: debounced, at most one in flight, at most one per
        :data:`REFRESH_MIN_GAP_S`; requests meanwhile join the next one. ``soon`` (a grant
        the VTN pushed: rare, and what it unlocks should apply at once) skips the debounce and
        the gap, still one refresh at a time."""
        if self._stopped or self.client is None:
            return
        self._refresh_scope |= scope
        if self._refresh_running:
            return
        if self._refresh_handle is not None:
            if not soon:
                return
            self._refresh_handle.cancel()
        _LOGGER.debug("Refreshing %s from the VTN: %s", sorted(self._refresh_scope), why)
        delay = (
            0.0
            if soon
            else max(
                REFRESH_DEBOUNCE_S,
                self._last_refresh + REFRESH_MIN_GAP_S - self.hass.loop.time(),
            )
        )
        self._refresh_handle = self.hass.loop.call_later(delay, self._start_refresh)

    @callback
    def _start_refresh(self) -> None:
        self._refresh_handle = None
        if self._stopped:
            return
        self._refresh_running = True
        self.hass.async_create_task(self._async_run_refresh(), eager_start=False)

    async def _async_run_refresh(self) -> None:
        scope, self._refresh_scope = self._refresh_scope, set()
        self._last_refresh = self.hass.loop.time()
        self.refreshes += 1
        try:
            if self.state.ven_id is None:
                await self.async_connect()
            else:
                await self._async_refresh(scope)
                self._succeeded()
        except VtnNotFound as err:
            try:
                await self._async_heal(str(err))
            except OpenADRError as again:
                self._failed(again)
        except OpenADRError as err:
            self._failed(err)
        finally:
            self._refresh_running = False
            if self._refresh_scope:
                self._request_refresh(set(), "asked meanwhile")

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
        self.refreshes += 1
        try:
            await self._async_refresh({"link", "grants", "events"})
        except VtnNotFound as err:
            try:
                await self._async_heal(str(err))
            except OpenADRError as again:
                self._failed(again)
                return
        except OpenADRError as err:
            self._failed(err)
            return
        self._succeeded()
        await self._async_pump()

    @callback
    def async_poll_soon(self) -> None:
        """Refresh programs and events soon (coalesced: see :meth:`_request_refresh`)."""
        self._request_refresh({"events"}, "asked")

    async def async_handle_notification(self, body: bytes) -> None:
        """A push from the VTN: apply the changed object at once; one that cannot be used asks
        for a coalesced refresh of what it was about (never one poll per push)."""
        try:
            note = parse_notification(body)
        except ValueError as err:
            _LOGGER.debug("Unusable notification from the VTN (%s); refreshing", err)
            self._request_refresh({"events"}, f"unusable push: {err}")
            return
        kind, operation = note.object_type, note.operation
        self._succeeded()
        if kind == "EVENT":
            try:
                event = parse_event(note.object)
            except ValueError as err:
                self._request_refresh({"events"}, f"malformed event pushed: {err}")
                return
            if operation == "DELETE":
                self.state.events.pop(event.id, None)
            else:
                self.state.events[event.id] = event
            self._rebuild_timeline()
        elif kind == "RESOURCE":
            try:
                resource = parse_resource(note.object)
            except ValueError as err:
                self._request_refresh({"grants"}, f"malformed resource pushed: {err}")
                return
            if resource.ven_id not in ("", self.state.ven_id):
                return
            if operation == "DELETE":
                self._request_refresh({"link", "grants"}, f"resource {resource.name} deleted")
            elif self._granted(resource.name, sorted(resource.target_labels)):
                self._request_refresh({"events"}, f"grants of {resource.name} changed", soon=True)
            if waiter := self._resource_waiters.get(resource.name):
                waiter.set()
        elif kind == "VEN":
            name, ven_id = note.object.get("venName"), note.object.get("id")
            if name != self.ven_name and (ven_id is None or str(ven_id) != self.state.ven_id):
                return
            if operation == "DELETE":
                self._request_refresh({"link", "grants"}, "VEN deleted")
            elif self._granted(None, _labels(note.object)):
                self._request_refresh({"events"}, "grants of the VEN changed", soon=True)
        elif kind == "PROGRAM":
            self._request_refresh({"events"}, "program changed")

    def _granted(self, pev_id: str | None, labels: list[str]) -> bool:
        """New grants pushed for the VEN (None) or a resource: applied at once; True when they
        changed (programs and events then have to be read again with them)."""
        old = self._ven_targets if pev_id is None else self._resource_targets.get(pev_id, [])
        if sorted(old) == sorted(labels):
            return False
        if pev_id is None:
            self._ven_targets = sorted(labels)
        else:
            self._resource_targets[pev_id] = sorted(labels)
        if self.client is not None:
            self.client.granted_targets = set(self._ven_targets).union(
                *self._resource_targets.values()
            )
        self._rebuild_timeline()
        return True

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
        self._resource_requests[pev_id] = attributes
        waiter = self._resource_waiters.setdefault(pev_id, asyncio.Event())
        try:
            try:
                resource = await asyncio.wait_for(
                    self._async_upsert(pev_id, attributes, keep_answer=False), window
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
                except VtnNotFound:
                    # The VTN lost the resource (or the VEN): rebuild, then ask again.
                    try:
                        resource = await self._async_upsert(pev_id, attributes, keep_answer=False)
                    except OpenADRError as err:
                        self._failed(err)
                        return None, str(err)
                    assert self.state.ven_id is not None
                    ven_id = self.state.ven_id
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
        self._resource_requests[pev_id] = attributes
        try:
            await self._async_upsert(pev_id, attributes, keep_answer=True)
        except OpenADRError as err:
            _LOGGER.warning("Could not update the energy request of %s: %s", pev_id, err)
            self._failed(err)
            return
        self._succeeded()

    async def _async_upsert(
        self, pev_id: str, attributes: list[dict[str, Any]], *, keep_answer: bool
    ) -> Any:
        """Create or update the PEV's resource; a 404 (the VTN lost the VEN or the resource)
        heals the link and tries once more."""
        assert self.client is not None
        assert self.state.ven_id is not None
        try:
            return await self.client.async_upsert_resource(
                self.state.ven_id, pev_id, attributes, keep_answer=keep_answer
            )
        except VtnNotFound as err:
            await self._async_heal(f"{pev_id}'s resource: {err}")
            assert self.state.ven_id is not None
            return await self.client.async_upsert_resource(
                self.state.ven_id, pev_id, attributes, keep_answer=keep_answer
            )

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
        self._pump_task = asyncio.current_task()
        # Our reports already at the VTN, by (event, report name): listed once per event and
        # pump run (not once per report), so a long backlog is sent in linear time.
        known: dict[str, dict[str, str]] = {}
        try:
            while not self._stopped:
                due = await self.premise.store.read(
                    partial(LedgerStore.outbox_due, now=dt_util.utcnow(), limit=20)
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
        await self.premise.store.call(lambda s: s.outbox_ack(key, version, report_id, now))
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
            partial(LedgerStore.outbox_fail, report_key=key, error=str(err), next_attempt=retry)
        )
        self._failed(err)

    async def _async_dead_letter(self, row: dict[str, Any], reason: str) -> None:
        """Keep a report the VTN refuses for good, stop sending it, raise a repair issue."""
        key, name = row["report_key"], row["report_name"]
        await self.premise.store.call(
            partial(LedgerStore.outbox_dead_letter, report_key=key, reason=reason)
        )
        _LOGGER.error(
            "The utility's VTN refuses report %s (%s) for good: kept in the outbox, not sent "
            "again until resent with pev_portal.resend_report",
            name,
            reason,
        )
        stats = await self.premise.store.read(lambda s: s.outbox_stats())
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
        rows = await self.premise.store.read(lambda s: s.outbox_dead_letters())
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
        count: int = await self.premise.store.call(lambda s: s.outbox_resend(report_key, now))
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
        stats = await self.premise.store.read(lambda s: s.outbox_stats())
        self.state.backlog = stats["backlog"]
        self.state.last_ack = stats["last_ack"]
        self.state.dead_letters = stats["dead"]
        if not stats["dead"]:
            ir.async_delete_issue(self.hass, DOMAIN, self._issue("report_dead_letter"))

    # -- health ---------------------------------------------------------------------------

    def _succeeded(self) -> None:
        first = not self.state.connected
        changed = first or self.state.last_error is not None or self._auth_failed
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
        if changed:
            # Only when something shown changed: a 30-day backlog acknowledges hundreds of
            # reports, and every update rebuilds each entity (the calendars' events too).
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
            "push_source": self.state.push_source,
            "polling_because": self.state.polling_because,
            "echo_probe_at": (
                self.state.echo_probe_at.isoformat() if self.state.echo_probe_at else None
            ),
            "backlog": self.state.backlog,
            "dead_letters": self.state.dead_letters,
            "enrollment": self.state.enrollment,
            "missing_programs": self.state.missing_programs,
            "refreshes": self.refreshes,
            "last_rebuild": (
                self.state.last_rebuild.isoformat() if self.state.last_rebuild else None
            ),
            "rebuilt": self.state.rebuilt,
            "ven_targets": self._ven_targets,
            "resource_targets": self._resource_targets,
            "event_decisions": self.timeline.explain_all(),
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


def bearer_matches(header: str, token: str) -> bool:
    """``Authorization: Bearer <token>``, the scheme compared case-insensitively (RFC 7235
    section 2.1), the token in constant time."""
    scheme, _, value = header.strip().partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(
        value.strip().encode(), token.encode()
    )


def _labels(obj: dict[str, Any]) -> list[str]:
    """The target labels of a VEN or resource object (3.0 object targets' values too)."""
    targets = obj.get("targets")
    if not isinstance(targets, list):
        return []
    return sorted(
        {v for t in targets if isinstance(t, (str, dict)) and t for v in target_values(t)[1]}
    )


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
        """The echo probe: GET {callback}?echo=X (Definition.md, Webhooks: the VTN's check
        before it accepts the subscription) or {callback}/echo?echo=X answers X."""
        link = self._link(request, webhook_id)
        if link is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        if "echo" in request.query:
            link.state.echo_probe_at = dt_util.utcnow()
        return web.Response(text=request.query.get("echo", ""), content_type="text/plain")

    async def post(self, request: web.Request, webhook_id: str) -> web.Response:
        """A notification; the subscription's bearer token is checked on every call."""
        link = self._link(request, webhook_id)
        if link is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        if not bearer_matches(request.headers.get("Authorization", ""), link.bearer):
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
