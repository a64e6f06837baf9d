"""The utility link: PEV Portal as an OpenADR 3.1 VEN, glued to Home Assistant.

The protocol lives in ``openadr/`` (no Home Assistant imports); this module owns what needs
Home Assistant: the aiohttp session, the push endpoint served by Home Assistant's HTTP server,
timers, repairs, reauthentication, and the durable report outbox in the premise's store.
Its parts: ``utility_state`` (the state shown and the link's health), ``utility_outbox`` (the
report outbox) and ``utility_push`` (the subscription, the notification endpoint, refreshes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import ssl
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant
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
)
from .core.binding import ValidationAnswer
from .io.premises import meta_key
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
    VtnNotFound,
)
from .openadr.models import (
    Program,
    validation_answer,
)
from .openadr.timeline import Timeline
from .utility_failsafe import LinkFailsafe
from .utility_outbox import BACKOFF_BASE_S as BACKOFF_BASE_S
from .utility_outbox import BACKOFF_MAX_S as BACKOFF_MAX_S
from .utility_outbox import DEAD_STATUSES as DEAD_STATUSES
from .utility_outbox import ReportOutbox
from .utility_outbox import backoff as backoff
from .utility_push import NOTIFY_PATH as NOTIFY_PATH
from .utility_push import REFRESH_DEBOUNCE_S as REFRESH_DEBOUNCE_S
from .utility_push import REFRESH_MIN_GAP_S as REFRESH_MIN_GAP_S
from .utility_push import NotifyView as NotifyView
from .utility_push import PushHandling, _labels
from .utility_push import async_register_view as async_register_view
from .utility_push import bearer_matches as bearer_matches
from .utility_state import ENROLLMENT_ACTIVE, ENROLLMENT_PENDING, LinkState
from .utility_state import LinkHealth as LinkHealth

if TYPE_CHECKING:
    from .ports import Premise

_LOGGER = logging.getLogger(__name__)
# How long an unload waits for a report in flight.
STOP_TIMEOUT_S = 10.0

PUMP_SECONDS = 15
RESOURCE_POLL_SECONDS = 2.0


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


class UtilityLink(PushHandling, ReportOutbox):
    """One premise's link to its utility's VTN."""

    protocol: str = "OpenADR 3.1"
    """The protocol the link speaks, as the card and diagnostics name it."""

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
        self.failsafe = LinkFailsafe(hass, premise)
        self.failsafe.request_events = self.async_poll_soon

    # -- life cycle ---------------------------------------------------------------------

    async def async_start(self) -> None:
        """Connect (without failing setup when the VTN is down), subscribe, start timers."""
        self.client = await async_make_client(self.hass, self.config)
        push_key = meta_key("utility_push", self.premise.premise_id)
        secrets_stored = await self.premise.store.read(lambda s: s.get_meta(push_key))
        if secrets_stored:
            self.webhook_id, self.bearer = secrets_stored["webhook_id"], secrets_stored["bearer"]
        else:
            self.webhook_id, self.bearer = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            push = {"webhook_id": self.webhook_id, "bearer": self.bearer}
            await self.premise.store.call(lambda s: s.set_meta(push_key, push))
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
        await self.failsafe.async_load()
        await self.async_connect()

    async def async_stop(self) -> None:
        """Stop timers and stop answering pushes (the subscription is left for the restart)."""
        self._stopped = True
        self.failsafe.stop()
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

    # -- events -------------------------------------------------------------------------

    async def _async_refresh_events(self) -> None:
        assert self.client is not None
        programs = await self.client.async_programs(self.program_names or None)
        events = await self.client.async_events([p.id for p in programs])
        self.state.programs = programs
        self.state.events = {e.id: e for e in events}
        self._enrollment(programs)
        self.failsafe.programs_read(programs)  # the events are known again
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

    def link_diagnostics(self) -> dict[str, Any]:
        """What every protocol's link shows in diagnostics: its VTN, its state, the outbox and
        the event decisions (each protocol adds its own and its exchanges)."""
        return {
            "vtn_url": self.config[CONF_VTN_URL],
            "ven_name": self.ven_name,
            "connected": self.state.connected,
            "last_error": self.state.last_error,
            "backlog": self.state.backlog,
            "dead_letters": self.state.dead_letters,
            "event_decisions": self.timeline.explain_all(),
        }

    def diagnostics(self) -> dict[str, Any]:
        """State and the last exchanges (the client never records secrets)."""
        client = self.client
        return {
            **self.link_diagnostics(),
            "programs": [p.name for p in self.state.programs],
            "events": len(self.state.events),
            "push_active": self.state.push_active,
            "push_source": self.state.push_source,
            "polling_because": self.state.polling_because,
            "echo_probe_at": (
                self.state.echo_probe_at.isoformat() if self.state.echo_probe_at else None
            ),
            "enrollment": self.state.enrollment,
            "missing_programs": self.state.missing_programs,
            "refreshes": self.refreshes,
            "last_rebuild": (
                self.state.last_rebuild.isoformat() if self.state.last_rebuild else None
            ),
            "rebuilt": self.state.rebuilt,
            "ven_targets": self._ven_targets,
            "resource_targets": self._resource_targets,
            "failsafe": self.failsafe.attributes(),
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
