"""The utility link's pushes: the subscription, the notification endpoint served by Home
Assistant's HTTP server, the notifications applied, and the coalesced refreshes they ask for (a
part of :class:`~.utility.UtilityLink`)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web
from homeassistant.components.http import HomeAssistantView
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .openadr.client import VenClient
from .openadr.errors import OpenADRError, VtnNotFound, VtnProtocolError
from .openadr.models import parse_event, parse_notification, parse_resource, target_values
from .push_url import callback_base
from .utility_state import LinkHealth

# The link's log lines keep the logger of the module they came from.
_LOGGER = logging.getLogger(f"{__package__}.utility")

NOTIFY_PATH = "/api/pev_portal/notify"
REFRESH_DEBOUNCE_S = 0.5
"""A push that cannot be used asks for a refresh this long later (pushes in between join it)."""
REFRESH_MIN_GAP_S = 5.0
"""At most one push-triggered refresh per this many seconds, and never two at once."""


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


class PushHandling(LinkHealth):
    """Pushes and refreshes: a mixin of :class:`~.utility.UtilityLink`, which sets these."""

    ven_name: str
    webhook_id: str
    bearer: str
    subscription_id: str | None
    client: VenClient | None
    refreshes: int
    _stopped: bool
    _resource_waiters: dict[str, asyncio.Event]
    _ven_targets: list[str]
    _resource_targets: dict[str, list[str]]
    _refresh_scope: set[str]
    _refresh_handle: asyncio.TimerHandle | None
    _refresh_running: bool
    _last_refresh: float

    if TYPE_CHECKING:

        async def async_connect(self) -> None: ...

        async def _async_refresh(self, scope: set[str]) -> None: ...

        async def _async_heal(self, reason: str) -> None: ...

        def _rebuild_timeline(self) -> None: ...

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


class NotifyView(HomeAssistantView):
    """The subscription callback: POST notifications, and the GET echo probe."""

    url = NOTIFY_PATH + "/{webhook_id}"
    extra_urls = [NOTIFY_PATH + "/{webhook_id}/echo"]
    name = "api:pev_portal:notify"
    requires_auth = False

    def _link(self, request: web.Request, webhook_id: str) -> PushHandling | None:
        hass: HomeAssistant = request.app["hass"]
        link: PushHandling | None = hass.data.get(DOMAIN, {}).get("links", {}).get(webhook_id)
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
