"""Websocket commands of the dashboard card.

``pev_portal/dashboard`` answers with the dashboard data once; ``pev_portal/subscribe_dashboard``
sends it at once and again whenever a premise's coordinator updates (plug-in, readings, binding,
events, plan), coalesced; ``pev_portal/session_intervals`` answers with one session's intervals.
All three only read (the card acts through entities and actions, which carry their own
permissions), so they stay open to every logged-in user; they read the ledger even while its
writes are failing (``AsyncLedgerStore.read``). Parameters are bounded (a session ID's length).

The dashboard data (every time is an ISO 8601 string in UTC, every amount a number)::

    {
      "chargers": [
        {
          "entry_id": "...",              # the premise's config entry
          "premise": "Demo home",
          "charger_id": "...",            # the charger's subentry ID
          "name": "Demo charger",
          "device_id": "...",             # its device in the device registry (or null)
          "entities": {"session_state": "sensor.demo_charger_session_state", ...},
                                          # entity IDs by translation key; the card shows the
                                          # controls whose entities exist: vehicle (select),
                                          # charge_now (button), charging_enabled (switch),
                                          # charge_mode (select), departure (time/datetime),
                                          # target (number)
          "vehicles": [{"pev_id": "...", "name": "...", "relation": "home",
                        "power_feed": {"enabled": false, "floor": 40.0, "wear_cost": 0.04,
                                       "cycles_per_day": 1.0},  # the vehicle's settings
                                          # (wear_cost: the documented default until set)
                        "state_of_health": null | 96.0,  # % from its SoH sensor, if mapped
                        "battery_use": {"cycles", "fed_kwh_month", "fed_kwh_total"}}],
                                          # battery_use: coordinator.battery_use(subentry_id),
                                          # absent while the coordinator has none
          "session": null | {
            "session_id", "state", "pause_reason", "pev_id", "vehicle", "vehicle_source",
            "started_at", "energy_kwh", "charger_kwh", "power_kw", "cost", "currency",
            "data_quality", FEED...        # FEED: "exported_kwh", "export_credit",
          },                               # "net_cost" (numbers; negative net cost: the
                                           # session earned), when the summary has them
          "state": "charging",            # the session's state, "unplugged" without one
          "charging_enabled": true,
          "binding": null | {"outcome", "billing_party", "program_rate"},
          "utility": null | {"protocol", "connected"},   # the premise's utility link (null:
                                          # none): "OpenADR 3.1" or "OpenADR 2.0b", whether it
                                          # reaches its VTN now
          "price": {"value", "currency", "period", "until"},
          "prices": [{"start", "end", "price", "period"}],    # the next 24 h of the tariff
          "event": null | {...},          # coordinator.active_event(): event_id, kind, name,
          "next_event": null | {...},     # start, end, price, limit_kw, level (when known),
                                          # export_price, export_limit_kw (power feed's kinds
                                          # export_price/export_limit: never price/limit_kw),
                                          # opt_out_allowed (false unless the event says so),
                                          # source ("utility" or "local"), opted_out (bool)
          "plan": null | PLAN,
          "caps": [CAP, ...],
          "cap_kw": null | 3.7,           # the cap in force on the session now
          "sessions": [                   # the last finished sessions, newest first
            {"session_id", "started_at", "ended_at", "pev_id", "vehicle", "energy_kwh",
             "cost", "currency", "data_quality", "outcome", "billing_party", "interval_count",
             FEED...}
          ],
          "event_history": [              # the last events that touched its sessions, newest
            {"event_id", "name", "source", "kind", "start", "end", "final", "method",
             "baseline_kwh", "counterfactual_kwh", "meter_kwh", "measured_kwh",
             "delivered_kwh", "delivered_kw", "asked_kwh", "compliance", "shifted_kwh"
             (null until unplug), "target_met" (null: not known yet), "incentive" (text,
             e.g. "1.86", or null), "currency", "flags", "vehicles"}
          ]
        }
      ]
    }

The plan comes from ``coordinator.plan_for(runtime)`` and the caps from
``coordinator.caps_for(runtime)`` when the coordinator has them (null and [] otherwise). Each
may return a mapping, a dataclass or an object with ``to_dict()``; datetimes become ISO text::

    PLAN = {
        "slots": [{"start", "end", "power_kw", "price", "feed_kw"}],  # planned power per
        # slot (feed_kw: power fed back, with power feed)
        "departure": "..." | null,  # when the vehicle must be ready
        "ready_by": "..." | null,  # when the plan reaches the target
        "target_kwh": 12.0 | null,  # energy the plan delivers (optional)
        "cost": 3.21 | null,  # the plan's cost in the tariff's currency
        "reachable": true,  # false: the target cannot be met by the departure
        "reason": "..." | null,  # why not (or what limits the plan)
        "feed": null | FEED,  # the power feed planned (docs/power-feed.md)
    }
    FEED = {"energy_kwh", "home_kwh", "export_kwh", "credit", "wear", "cycles", "floor", "gap"}
    CAP = {"start", "end", "limit_kw", "name"}  # a load-control cap (event or plan)

``pev_portal/session_intervals`` ``{session_id}`` answers ``{"session_id", "currency",
"intervals": [{"start", "end", "kwh", "quality", "price", "cost"}]}``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import partial
from typing import Any

import probatio as vol
from homeassistant.components import websocket_api
from homeassistant.config_entries import SIGNAL_CONFIG_ENTRY_CHANGED, ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util

from .const import CONF_IN_PROGRAM, CONF_UTILITY, DOMAIN
from .coordinator import ChargerRuntime, PevPortalCoordinator, Vehicle
from .core.planner_feed_types import DEFAULT_WEAR_COST_PER_KWH
from .core.session import ChargingSession, SessionState
from .core.summary import tariff_for
from .io.store import LedgerStore, StoredSession
from .settlement_view import history
from .validation import MAX_ID

_LOGGER = logging.getLogger(__name__)

RECENT_SESSIONS = 5
PRICE_HORIZON = timedelta(hours=24)


@callback
def async_setup_websocket_api(hass: HomeAssistant) -> None:
    """Register the card's websocket commands."""
    websocket_api.async_register_command(hass, ws_dashboard)
    websocket_api.async_register_command(hass, ws_subscribe_dashboard)
    websocket_api.async_register_command(hass, ws_session_intervals)


def _coordinators(hass: HomeAssistant) -> list[PevPortalCoordinator]:
    return [entry.runtime_data for entry in hass.config_entries.async_loaded_entries(DOMAIN)]


def jsonable(value: Any) -> Any:
    """Plain JSON data from what the coordinator returns (dataclasses, datetimes, decimals)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return dt_util.as_utc(value).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Enum):
        return jsonable(value.value)
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return jsonable(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.name.startswith("_")
        }
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def _event(
    coordinator: PevPortalCoordinator, event: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    if event is None:
        return None
    data: dict[str, Any] = jsonable(event)
    data.setdefault("level", None)
    data["opt_out_allowed"] = bool(event.get("opt_out_allowed", False))
    # The card labels the event by its origin and shows an opt-out once done.
    data["source"] = "utility" if event.get("source") == "utility" else "local"
    data["opted_out"] = event.get("event_id") in coordinator.opted_out
    return data


class DashboardBuilder:
    """Builds the dashboard data; remembers each charger's last sessions until one ends."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self._recent: dict[str, tuple[Any, list[dict[str, Any]]]] = {}

    async def async_build(self) -> dict[str, Any]:
        """The data of every charger of every loaded premise."""
        chargers: list[dict[str, Any]] = []
        for coordinator in _coordinators(self.hass):
            for runtime in coordinator.chargers.values():
                sessions = await self._async_recent(coordinator, runtime)
                chargers.append(charger_data(coordinator, runtime, sessions))
        return {"chargers": chargers}

    async def _async_recent(
        self, coordinator: PevPortalCoordinator, runtime: ChargerRuntime
    ) -> list[dict[str, Any]]:
        last = runtime.last_session
        marker = (id(coordinator), last.session_id if last is not None else None)
        cached = self._recent.get(runtime.charger_id)
        if cached is not None and cached[0] == marker:
            return cached[1]
        try:
            rows = await coordinator.store.read(
                partial(
                    LedgerStore.recent_sessions,
                    limit=RECENT_SESSIONS + 1,
                    charger_id=runtime.charger_id,
                )
            )
        except RuntimeError:  # the store closed: the entry is unloading
            return cached[1] if cached is not None else []
        sessions = [
            _session_row(coordinator, row)
            for row in rows
            if row.data.get("ended_at") and row.data.get("premise_id") == coordinator.premise_id
        ][:RECENT_SESSIONS]
        self._recent[runtime.charger_id] = (marker, sessions)
        return sessions


def _session_row(coordinator: PevPortalCoordinator, row: StoredSession) -> dict[str, Any]:
    data, summary = row.data, row.summary or {}
    pev_id = data.get("pev_id")
    vehicle = coordinator.vehicle_by_pev_id(pev_id)
    cost = summary.get("cost")
    return {
        "session_id": row.session_id,
        "started_at": data.get("started_at"),
        "ended_at": data.get("ended_at"),
        "pev_id": pev_id,
        "vehicle": vehicle.name if vehicle is not None else None,
        "energy_kwh": summary.get("energy_kwh", data.get("meter_kwh")),
        "cost": float(cost) if cost is not None else None,
        "currency": summary.get("currency", coordinator.base_tariff.currency),
        "data_quality": summary.get("data_quality"),
        "outcome": summary.get("outcome"),
        "billing_party": summary.get("billing_party"),
        "interval_count": summary.get("interval_count"),
        **_feed_summary(summary),
    }


FEED_SUMMARY = ("exported_kwh", "export_credit", "net_cost")


def _feed_summary(summary: Mapping[str, Any]) -> dict[str, float | None]:
    """A session summary's power feed as numbers (money comes as text), where it has them."""
    found: dict[str, float | None] = {}
    for key in FEED_SUMMARY:
        if key in summary:
            try:
                value = float(summary[key]) if summary[key] is not None else None
            except TypeError, ValueError:
                value = None  # a damaged summary shows no figure, never an error
            found[key] = value if value is None or math.isfinite(value) else None
    return found


def _state_of_health(hass: HomeAssistant, vehicle: Vehicle) -> float | None:
    """The battery's state of health (%) from the vehicle's sensor (None: none or unknown)."""
    state = hass.states.get(vehicle.soh_entity) if vehicle.soh_entity else None
    try:
        value = float(state.state) if state is not None else math.nan
    except ValueError:
        return None
    return value if 0.0 <= value <= 100.0 else None


def _vehicle_data(coordinator: PevPortalCoordinator, vehicle: Vehicle) -> dict[str, Any]:
    """A vehicle as the card shows it: its power-feed settings and its battery's use."""
    settings = coordinator.smart.settings_of(vehicle)
    data: dict[str, Any] = {
        "pev_id": vehicle.pev_id,
        "name": vehicle.name,
        "relation": vehicle.relation.value,
        "power_feed": {
            "enabled": settings.power_feed,
            "floor": settings.floor,
            "wear_cost": (
                DEFAULT_WEAR_COST_PER_KWH if settings.wear_cost is None else settings.wear_cost
            ),
            "cycles_per_day": settings.cycles_per_day,
        },
        "state_of_health": _state_of_health(coordinator.hass, vehicle),
    }
    battery_use: Callable[[str], Any] | None = getattr(coordinator, "battery_use", None)
    if battery_use is not None:
        try:
            data["battery_use"] = jsonable(battery_use(vehicle.subentry_id))
        except Exception:
            _LOGGER.exception("battery_use(%s) failed; the card shows no use", vehicle.name)
    return data


def _entities(coordinator: PevPortalCoordinator, runtime: ChargerRuntime) -> dict[str, str]:
    registry = er.async_get(coordinator.hass)
    prefix = f"{runtime.charger_id}_"
    found: dict[str, str] = {}
    # The vehicle on (or chosen for) this charger brings its own controls: charge mode,
    # departure and target live on the vehicle's device.
    session = runtime.session
    vehicle = coordinator.vehicle_by_pev_id(
        session.pev_id if session is not None else runtime.preselected_pev
    )
    vehicle_prefix = f"{vehicle.subentry_id}_" if vehicle is not None else None
    for entry in er.async_entries_for_config_entry(registry, coordinator.config_entry.entry_id):
        if entry.disabled_by is not None:
            continue
        if entry.unique_id.startswith(prefix):
            found[entry.translation_key or entry.unique_id[len(prefix) :]] = entry.entity_id
        elif vehicle_prefix and entry.unique_id.startswith(vehicle_prefix):
            key = entry.translation_key or entry.unique_id[len(vehicle_prefix) :]
            if key in VEHICLE_CONTROLS:
                found[VEHICLE_CONTROLS[key]] = entry.entity_id
    return found


# Vehicle entities the card shows as controls, by the key the card looks for.
VEHICLE_CONTROLS = {
    "charge_mode": "charge_mode",
    "departure": "departure",
    "charge_target": "target",
    "power_feed": "power_feed",
    "power_feed_floor": "power_feed_floor",
}


def _in_program(coordinator: PevPortalCoordinator) -> bool:
    """Whether the premise is in a utility program (entries from before the choice count so)."""
    data = coordinator.config_entry.data
    return bool(data.get(CONF_IN_PROGRAM, True) or data.get(CONF_UTILITY))


def _utility(coordinator: PevPortalCoordinator) -> dict[str, Any] | None:
    """The premise's utility link as the card shows it (None: the premise has none)."""
    link = getattr(coordinator, "link", None)
    if link is None:
        return None
    return {"protocol": str(link.protocol), "connected": bool(link.state.connected)}


def _optional(coordinator: PevPortalCoordinator, name: str, runtime: ChargerRuntime) -> Any:
    method: Callable[[ChargerRuntime], Any] | None = getattr(coordinator, name, None)
    if method is None:
        return None
    try:
        return jsonable(method(runtime))
    except Exception:
        _LOGGER.exception("%s(%s) failed; the card shows no %s", name, runtime.name, name)
        return None


def charger_data(
    coordinator: PevPortalCoordinator,
    runtime: ChargerRuntime,
    sessions: list[dict[str, Any]],
) -> dict[str, Any]:
    """The dashboard data of one charger (see the module docstring)."""
    now = dt_util.utcnow()
    device = dr.async_get(coordinator.hass).async_get_device_by_identifier(
        (DOMAIN, runtime.charger_id), coordinator.config_entry.entry_id
    )
    tariff = coordinator.tariff_of(runtime)
    segment = tariff.price_at(now)
    session = runtime.session
    session_data: dict[str, Any] | None = None
    binding: dict[str, Any] | None = None
    if session is not None:
        summary = coordinator.live_summary(runtime)
        vehicle = coordinator.vehicle_by_pev_id(session.pev_id)
        power = runtime.adapter.power_kw()
        session_data = {
            "session_id": session.session_id,
            "state": session.state.value,
            "pause_reason": session.pause_reason.value if session.pause_reason else None,
            "pev_id": session.pev_id,
            "vehicle": vehicle.name if vehicle is not None else None,
            "vehicle_source": session.vehicle_source.value,
            "started_at": jsonable(session.started_at),
            "energy_kwh": round(session.meter_kwh, 4),
            "charger_kwh": (
                round(session.charger_kwh, 4) if session.charger_kwh is not None else None
            ),
            "power_kw": round(power, 3) if power is not None else None,
            "cost": float(summary.cost.total) if summary is not None else None,
            "currency": tariff.currency,
            "data_quality": summary.data_quality.value if summary is not None else None,
            **(_feed_summary(summary.to_dict()) if summary is not None else {}),
        }
        binding = {
            "outcome": session.decision.outcome.value,
            "billing_party": session.billing_party.value if session.bound else None,
            # Without a utility program there is no program rate to speak of (a home car
            # is priced at the homeowner's own tariff).
            "program_rate": session.decision.program_rate and _in_program(coordinator),
        }
    caps = _optional(coordinator, "caps_for", runtime)
    return {
        "entry_id": coordinator.config_entry.entry_id,
        "premise": coordinator.config_entry.title,
        "charger_id": runtime.charger_id,
        "name": runtime.name,
        "device_id": device.id if device is not None else None,
        "entities": _entities(coordinator, runtime),
        "vehicles": [_vehicle_data(coordinator, v) for v in coordinator.vehicles.values()],
        "state": session.state.value if session is not None else SessionState.UNPLUGGED.value,
        "charging_enabled": coordinator.charging_enabled(runtime),
        "session": session_data,
        "binding": binding,
        "utility": _utility(coordinator),
        "price": {
            "value": float(segment.price),
            "currency": tariff.currency,
            "period": segment.period,
            "until": jsonable(segment.end),
        },
        "prices": [
            {
                "start": jsonable(s.start),
                "end": jsonable(s.end),
                "price": float(s.price),
                "period": s.period,
            }
            for s in tariff.segments(now, now + PRICE_HORIZON)
        ],
        "event": _event(coordinator, coordinator.active_event(now)),
        "next_event": _event(coordinator, coordinator.next_event(now)),
        "plan": _optional(coordinator, "plan_for", runtime),
        "caps": caps if isinstance(caps, list) else [],
        "cap_kw": runtime.cap_kw,
        "sessions": sessions,
        "event_history": history(
            p
            for p in coordinator.settlement.performances()
            if p.get("charger_id") == runtime.charger_id
        ),
    }


@websocket_api.websocket_command({vol.Required("type"): "pev_portal/dashboard"})
@websocket_api.async_response
async def ws_dashboard(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """The dashboard data, once."""
    connection.send_result(msg["id"], await DashboardBuilder(hass).async_build())


@websocket_api.websocket_command({vol.Required("type"): "pev_portal/subscribe_dashboard"})
@websocket_api.async_response
async def ws_subscribe_dashboard(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """The dashboard data now and after every update of a premise (coalesced)."""
    msg_id = msg["id"]
    builder = DashboardBuilder(hass)
    listeners: dict[int, CALLBACK_TYPE] = {}
    state = {"pending": False, "closed": False}

    async def _send() -> None:
        state["pending"] = False
        if state["closed"]:
            return
        data = await builder.async_build()
        if not state["closed"]:
            connection.send_message(websocket_api.event_message(msg_id, data))

    @callback
    def _schedule() -> None:
        if state["pending"] or state["closed"]:
            return
        state["pending"] = True
        hass.async_create_task(_send(), "pev_portal_dashboard_push")

    @callback
    def _sync_listeners() -> None:
        """Follow the loaded premises (an entry reload makes a new coordinator)."""
        current = {id(c): c for c in _coordinators(hass)}
        for key in list(listeners):
            if key not in current:
                listeners.pop(key)()
        for key, coordinator in current.items():
            if key not in listeners:
                listeners[key] = coordinator.async_add_listener(_schedule)

    @callback
    def _entry_changed(_change: Any, entry: ConfigEntry) -> None:
        if entry.domain == DOMAIN:
            _sync_listeners()
            _schedule()

    unsub_entries = async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, _entry_changed)

    @callback
    def _unsubscribe() -> None:
        state["closed"] = True
        unsub_entries()
        for unsub in listeners.values():
            unsub()
        listeners.clear()

    connection.subscriptions[msg_id] = _unsubscribe
    _sync_listeners()
    connection.send_result(msg_id)
    connection.send_message(websocket_api.event_message(msg_id, await builder.async_build()))


@websocket_api.websocket_command(
    {
        vol.Required("type"): "pev_portal/session_intervals",
        vol.Required("session_id"): vol.All(str, vol.Length(min=1, max=MAX_ID)),
    }
)
@websocket_api.async_response
async def ws_session_intervals(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """One session's intervals with their price and cost."""
    session_id: str = msg["session_id"]
    for coordinator in _coordinators(hass):
        row = await coordinator.store.read(lambda s: s.session(session_id))
        if row is None or row.data.get("premise_id") != coordinator.premise_id:
            continue
        intervals = await coordinator.store.read(
            partial(LedgerStore.intervals, session_id=session_id)
        )
        runtime = coordinator.chargers.get(row.charger_id)
        if (
            runtime is not None
            and runtime.session is not None
            and runtime.session.session_id == session_id
        ):
            intervals = list(runtime.intervals)  # the open session: what is closed so far
        session = ChargingSession.from_dict(row.data)
        tariff = tariff_for(
            session, coordinator.program_tariff_for(session.pev_id), coordinator.default_tariff
        )
        rows = []
        for interval in intervals:
            cost = (
                float(tariff.cost([(interval.start, interval.end, interval.kwh)]).total)
                if interval.billable
                else None
            )
            rows.append(
                {
                    "start": jsonable(interval.start),
                    "end": jsonable(interval.end),
                    "kwh": round(interval.kwh, 6),
                    "quality": interval.quality.value,
                    "price": float(tariff.price_at(interval.start).price),
                    "cost": cost,
                }
            )
        connection.send_result(
            msg["id"], {"session_id": session_id, "currency": tariff.currency, "intervals": rows}
        )
        return
    connection.send_error(msg["id"], websocket_api.ERR_NOT_FOUND, "No such session")
