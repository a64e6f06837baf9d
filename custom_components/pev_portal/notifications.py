"""Notifications through a notify target the user picks in the premise's options.

Four kinds, each switched on or off in the options (all on by default):

* ``plugged_not_bound``: a vehicle is plugged in but not bound: no vehicle ID is known when the
  validation window ends, or the utility answered NOT_ENROLLED or not at all;
* ``target_unreachable``: the charging plan cannot reach the vehicle's target (with the
  planner's explanation);
* ``event_starting``: a load-control event (the utility's cap, level or alert, or a local
  ``load_control`` event) or a critical-peak price event begins while a vehicle is plugged in,
  or a vehicle plugs in while one is in progress ("… in progress"); the power feed's export
  limits and export prices above the usual one (utility or local) the same way, to the
  vehicles on chargers that can feed back only, said as what they are;
* ``charger_ignoring``: the charger ignored a command (the same moment the repairs issue is
  raised).

The target is a notify entity (``notify.send_message`` with its ``entity_id``) or a legacy notify
service (``notify.<name>``); an entity wins when both have the same name. Each notification is
sent at most once per session and kind (per event for ``event_starting``; ``target_unreachable``
again only when the explanation changes). Delivery runs in its own task: a missing target or a
failing notify platform is logged once (then at debug level until a delivery works again) and
never reaches the charging code.

Texts live in strings.json under ``exceptions`` (``notify_<kind>...`` keys, each with just a
``message``): the section Home Assistant already loads for an integration's own messages, and
one whose values hassfest checks for placeholders. They are read with :mod:`.texts` in the
system language; Home Assistant fills missing keys in from English, and a key missing even there
is sent as its name.

The sessions (as a listener), smart charging and the command audit only call this module; what is sent, when and
to whom is decided here.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.selector import SelectOptionDict
from homeassistant.util import dt as dt_util

from .const import (
    CONF_NOTIFY_KINDS,
    CONF_NOTIFY_TARGET,
    NOTIFY_CHARGER_IGNORING,
    NOTIFY_EVENT_STARTING,
    NOTIFY_KINDS,
    NOTIFY_PLUGGED_NOT_BOUND,
    NOTIFY_TARGET_UNREACHABLE,
    RANDOM_START_CAP,
)
from .core.binding import BindingOutcome
from .ports import SessionEvents
from .program_events import KIND_LOAD_CONTROL
from .texts import async_texts, text

if TYPE_CHECKING:
    from .core.session import ChargingSession
    from .ports import Premise
    from .program_events import ProgramEvents
    from .runtime import ChargerRuntime

_LOGGER = logging.getLogger(__name__)

NOTIFY_DOMAIN = "notify"
SEND_MESSAGE = "send_message"
DELIVERY_TIMEOUT_S = 30
NOT_BOUND_OUTCOMES = frozenset({BindingOutcome.NOT_ENROLLED, BindingOutcome.NO_COMMUNICATIONS})
_FIGURES = re.compile(r"\d+(?:[.:]\d+)*")
# The binding outcomes whose reason is written in the user's language (notify_reason_<outcome>).
_TRANSLATED_OUTCOMES = frozenset({"not_enrolled", "no_communications"})
# The planner's constraints with a text of their own (notify_reason_<constraint>).
_REASONS = frozenset({"cap", "circuit", "combined", "departure", "horizon", "charger", "mode"})


# -- the target ----------------------------------------------------------------------------


def normalize_target(value: str | None) -> str | None:
    """``notify.<name>`` for what the user typed or picked (a bare name gets the domain)."""
    value = (value or "").strip()
    if not value:
        return None
    return value if "." in value else f"{NOTIFY_DOMAIN}.{value}"


def resolve_target(hass: HomeAssistant, target: str) -> tuple[str, dict[str, Any]] | None:
    """The notify service to call for a target and its extra data; None if it does not exist."""
    domain, _, name = target.partition(".")
    if domain != NOTIFY_DOMAIN or not name:
        return None
    if hass.states.get(target) is not None:
        return SEND_MESSAGE, {"entity_id": target}
    if name != SEND_MESSAGE and hass.services.has_service(NOTIFY_DOMAIN, name):
        return name, {}
    return None


def target_options(hass: HomeAssistant, current: str | None) -> list[SelectOptionDict]:
    """The notify entities and legacy notify services, for the options form's list."""
    options: dict[str, str] = {}
    for state in hass.states.async_all(NOTIFY_DOMAIN):
        options[state.entity_id] = f"{state.name} ({state.entity_id})"
    for name in sorted(hass.services.async_services_for_domain(NOTIFY_DOMAIN)):
        if name != SEND_MESSAGE:
            options.setdefault(f"{NOTIFY_DOMAIN}.{name}", f"{NOTIFY_DOMAIN}.{name}")
    if current and current not in options:
        options[current] = current  # configured once, gone now: still shown, refused on save
    return [SelectOptionDict(value=v, label=label) for v, label in sorted(options.items())]


# -- what is happening -----------------------------------------------------------------------


def not_bound(session: ChargingSession) -> bool:
    """True when the session's vehicle is unknown, not enrolled or not answered for."""
    return session.pev_id is None or session.decision.outcome in NOT_BOUND_OUTCOMES


# -- the notifier ----------------------------------------------------------------------------


class Notifier(SessionEvents):
    """Sends the premise's notifications to the target of its options, each once."""

    def __init__(self, premise: Premise, events: ProgramEvents, options: dict[str, Any]) -> None:
        self.premise = premise
        self.events = events
        self.hass: HomeAssistant = premise.hass
        self.target: str | None = normalize_target(options.get(CONF_NOTIFY_TARGET))
        self.kinds: frozenset[str] = frozenset(options.get(CONF_NOTIFY_KINDS, NOTIFY_KINDS))
        self._since = dt_util.utcnow()  # events already running at start-up are not news
        self._sent: dict[str, dict[str, Any]] = {}  # session ID -> dedup key -> value
        self._seen_events: set[str] = set()
        self._timers: dict[str, CALLBACK_TYPE] = {}
        self._failing = False
        premise.entry.async_on_unload(self.stop)

    @property
    def enabled(self) -> bool:
        """True when a target is configured."""
        return self.target is not None

    @callback
    def stop(self) -> None:
        """Cancel the pending checks (at unload)."""
        for unsub in self._timers.values():
            unsub()
        self._timers.clear()

    # -- as a listener of the sessions and of the command audit ----------------------------

    def session_bound(self, runtime: ChargerRuntime, session: ChargingSession) -> None:
        """A session was bound (see :meth:`binding_decided`)."""
        self.binding_decided(runtime)

    def command_ignored(self, runtime: ChargerRuntime, command: dict[str, Any]) -> None:
        """The command audit found a command ignored (see :meth:`charger_ignoring`); an
        ignored discharge (power feed: a negative target) with its own text."""
        if command["target_kw"] < 0:
            self.charger_ignoring(
                runtime,
                -command["target_kw"],
                command["measured_kw"],
                message_key="notify_charger_ignoring_discharge",
            )
            return
        self.charger_ignoring(runtime, command["target_kw"], command["measured_kw"])

    # -- the four notifications ---------------------------------------------------------

    @callback
    def binding_decided(self, runtime: ChargerRuntime) -> None:
        """A session was bound: tell the user if its vehicle is not (after the window)."""
        session = runtime.session
        if session is None or not self._wanted(NOTIFY_PLUGGED_NOT_BOUND) or not not_bound(session):
            return
        if session.pev_id is not None:
            self.plugged_not_bound(runtime)
            return
        # No vehicle ID (yet): a charger may still report it, or the user bind it, in the window.
        window_end = session.started_at + timedelta(seconds=self.premise.validation_window)
        delay = (window_end - dt_util.utcnow()).total_seconds()
        if delay <= 0:
            self.plugged_not_bound(runtime)
            return
        if session.session_id in self._timers:
            return

        @callback
        def _window_ended(_now: datetime) -> None:
            self._timers.pop(session.session_id, None)
            if runtime.session is session and not_bound(session):
                self.plugged_not_bound(runtime)

        self._timers[session.session_id] = async_call_later(self.hass, delay, _window_ended)

    @callback
    def plugged_not_bound(self, runtime: ChargerRuntime) -> None:
        """The session's vehicle is not bound: how to bind it."""
        session = runtime.session
        if session is None:
            return
        placeholders: dict[str, Any] = {"charger": runtime.name, "reason": session.decision.reason}
        outcome = session.decision.outcome.value
        if outcome in _TRANSLATED_OUTCOMES:  # the binding's reason in the user's language
            placeholders["reason"] = [(f"notify_reason_{outcome}", {})]
        message = "notify_plugged_not_bound"
        if session.pev_id is None:
            message = "notify_plugged_not_bound_unknown"
        self._send(
            runtime, NOTIFY_PLUGGED_NOT_BOUND, NOTIFY_PLUGGED_NOT_BOUND, True, message, placeholders
        )

    @callback
    def plan_computed(self, runtime: ChargerRuntime, plan: dict[str, Any] | None) -> None:
        """A new plan (the dashboard's PLAN shape): notify if its target is out of reach."""
        if plan is not None and not plan["reachable"]:
            self.target_unreachable(runtime, plan.get("reason"), plan.get("explanations"))

    @callback
    def target_unreachable(
        self,
        runtime: ChargerRuntime,
        reason: str | None,
        explanations: list[dict[str, Any]] | None = None,
    ) -> None:
        """The plan cannot reach the session's target (again only when the reason changes).

        The reason's figures (kWh short, times) change with every replan while the vehicle
        charges; only a change in its words (another constraint) counts as a new reason. With
        the planner's ``explanations`` (the plan's structured reasons) the reason is written in
        the user's language; the planner's English ``reason`` is the fallback.
        """
        message = "notify_target_unreachable" if reason else "notify_target_unreachable_no_reason"
        said: str | list[tuple[str, dict[str, str]]] = reason or ""
        same: Any = _FIGURES.sub("#", reason) if reason else None
        if explanations:
            said = [part for e in explanations for part in self._reason_parts(e)]
            same = tuple((e["constraint"], _FIGURES.sub("#", e["name"])) for e in explanations)
        self._send(
            runtime,
            NOTIFY_TARGET_UNREACHABLE,
            NOTIFY_TARGET_UNREACHABLE,
            same,
            message,
            {"charger": runtime.name, "reason": said},
        )

    def _reason_parts(self, e: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
        """One explanation of the planner as translated parts: what, then when ready."""
        constraint = e["constraint"]
        if constraint not in _REASONS:
            return [("notify_reason_other", {"name": e["name"], "kwh": f"{e['kwh']:.1f}"})]
        ph = {"name": e["name"], "kwh": f"{e['kwh']:.1f}", "start": "", "end": ""}
        key = f"notify_reason_{constraint}"
        if constraint == "cap" and e["name"] == RANDOM_START_CAP:
            key = "notify_reason_random_start"
        elif constraint == "cap" and e.get("start") and e.get("end"):
            key = "notify_reason_cap_window"
        for field in ("start", "end"):
            if e.get(field):
                ph[field] = self._time(datetime.fromisoformat(e[field]))
        if constraint == "circuit" and e.get("circuit_kw") is not None:
            ph["name"] = f"{e['circuit_kw']:g}"
        parts = [(key, ph)]
        if constraint == "mode":
            return parts
        ready = e.get("ready_by")
        without = e.get("ready_without")
        if ready and without and constraint in ("cap", "circuit", "combined"):
            parts.append(
                (
                    "notify_reason_ready_instead",
                    {
                        "ready": self._time(datetime.fromisoformat(ready)),
                        "without": self._time(datetime.fromisoformat(without)),
                    },
                )
            )
        elif ready:
            parts.append(
                ("notify_reason_ready", {"ready": self._time(datetime.fromisoformat(ready))})
            )
        return parts

    @callback
    def check_events(self, now: datetime | None = None) -> None:
        """Announce the events in force to the plugged-in vehicles: an event that began since
        the last check to every session, one in progress to a session that began during it.

        Events and sessions that were already there when Home Assistant started are not news
        (they were announced before, or began while it was down). Each session hears of an
        event once (:meth:`_send`).
        """
        now = now or dt_util.utcnow()
        self._forget_ended_sessions()
        if not self._wanted(NOTIFY_EVENT_STARTING):
            return
        found = self.events.announced(now)
        for event in found:
            began = event.event_id not in self._seen_events and event.start >= self._since
            self._seen_events.add(event.event_id)
            for runtime in self.premise.chargers.values():
                session = runtime.session
                if session is None or not event.applies(session.pev_id):
                    continue
                if event.is_export and not runtime.adapter.can_discharge():
                    continue  # it cannot feed back: an export event does not concern it
                if not began and session.started_at < max(event.start, self._since):
                    continue  # it was there before the event, and was told (or not: restart)
                limit = event.limit_kw
                if limit is None and event.kind == KIND_LOAD_CONTROL:
                    limit = runtime.cap_kw  # a level or an alert: the cap it maps to
                self.event_starting(
                    runtime,
                    event.event_id,
                    event.name,
                    event.start,
                    event.end,
                    limit,
                    event.price,
                    in_progress=not began,
                    export_price=event.export_price,
                    export_limit_kw=event.export_limit_kw,
                )
        self._seen_events &= {e.event_id for e in found}

    @callback
    def event_starting(
        self,
        runtime: ChargerRuntime | None,
        event_id: str,
        name: str,
        start: datetime,
        end: datetime,
        limit_kw: float | None = None,
        price: float | None = None,
        *,
        in_progress: bool = False,
        export_price: float | None = None,
        export_limit_kw: float | None = None,
    ) -> None:
        """An event began while the charger's session runs (None: the premise's), or the
        session began while the event runs (``in_progress``); an export event says its export
        limit or price (never as a charging limit or an import price)."""
        placeholders = {
            "event": name,
            "charger": runtime.name if runtime is not None else "",
            "start": self._time(start),
            "end": self._time(end),
            "limit": f"{limit_kw:g}" if limit_kw is not None else "",
            "price": f"{price:g}" if price is not None else "",
            "currency": self.events.base_tariff.currency,
        }
        if export_limit_kw is not None:
            placeholders["limit"] = f"{export_limit_kw:g}"
            message = "notify_event_starting_export_limit"
        elif export_price is not None:
            placeholders["price"] = f"{export_price:g}"
            message = "notify_event_starting_export_price"
        elif limit_kw is not None and runtime is not None:
            message = "notify_event_starting_limit"
        elif price is not None:
            message = "notify_event_starting_price"
        else:
            message = "notify_event_starting"
        self._send(
            runtime,
            NOTIFY_EVENT_STARTING,
            f"event:{event_id}",
            True,
            message,
            placeholders,
            title_key="notify_event_in_progress_title" if in_progress else None,
        )

    @callback
    def charger_ignoring(
        self,
        runtime: ChargerRuntime,
        target_kw: float,
        measured_kw: float | None,
        *,
        message_key: str = "notify_charger_ignoring",
    ) -> None:
        """The charger ignored a command (once per session)."""
        self._send(
            runtime,
            NOTIFY_CHARGER_IGNORING,
            NOTIFY_CHARGER_IGNORING,
            True,
            message_key,
            {
                "charger": runtime.name,
                "target": f"{target_kw:.2f}",
                "measured": f"{measured_kw or 0:.2f}",
            },
        )

    # -- delivery -----------------------------------------------------------------------

    def _wanted(self, kind: str) -> bool:
        return self.target is not None and kind in self.kinds

    def _forget_ended_sessions(self) -> None:
        active = {r.session.session_id for r in self.premise.chargers.values() if r.session}
        for session_id in self._sent.keys() - active - {""}:
            del self._sent[session_id]

    def _send(
        self,
        runtime: ChargerRuntime | None,
        kind: str,
        key: str,
        value: Any,
        message_key: str,
        placeholders: dict[str, Any],
        *,
        title_key: str | None = None,
    ) -> None:
        """Deliver unless this key was already sent with this value in the session."""
        if not self._wanted(kind):
            return
        session = runtime.session if runtime is not None else None
        sent = self._sent.setdefault(session.session_id if session is not None else "", {})
        if key in sent and sent[key] == value:
            return
        sent[key] = value
        self.premise.entry.async_create_task(
            self.hass,
            self._async_deliver(title_key or f"notify_{kind}_title", message_key, placeholders),
            "pev_portal_notify",
        )

    async def _async_deliver(
        self, title_key: str, message_key: str, placeholders: dict[str, Any]
    ) -> None:
        target = self.target
        assert target is not None
        try:
            strings = await async_texts(self.hass)
            placeholders = _resolve(strings, placeholders)
            title = text(strings, title_key, placeholders)
            message = text(strings, message_key, placeholders)
            resolved = resolve_target(self.hass, target)
            if resolved is None:
                raise LookupError("no such notify entity or service")
            service, data = resolved
            async with asyncio.timeout(DELIVERY_TIMEOUT_S):
                await self.hass.services.async_call(
                    NOTIFY_DOMAIN,
                    service,
                    {**data, "message": message, "title": title},
                    blocking=True,
                )
        except Exception as err:  # any notify platform error: charging goes on
            if self._failing:
                _LOGGER.debug("Notification to %s failed again: %s", target, err)
            else:
                self._failing = True
                _LOGGER.warning(
                    "Notification to %s failed (%s: %s); charging is not affected. Further "
                    "failures are logged at debug level until a notification goes through",
                    target,
                    type(err).__name__,
                    err,
                )
            return
        if self._failing:
            self._failing = False
            _LOGGER.info("Notifications to %s work again", target)

    def _time(self, when: datetime) -> str:
        local, today = dt_util.as_local(when), dt_util.as_local(dt_util.utcnow()).date()
        return local.strftime("%H:%M" if local.date() == today else "%Y-%m-%d %H:%M")


def _resolve(strings: dict[str, str], placeholders: dict[str, Any]) -> dict[str, str]:
    """Placeholders whose values are translated parts (``[(key, placeholders), ...]``) become
    those texts, joined with "; "."""
    return {
        name: "; ".join(text(strings, key, ph) for key, ph in value)
        if isinstance(value, list)
        else str(value)
        for name, value in placeholders.items()
    }
