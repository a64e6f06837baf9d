"""Services: bind a vehicle, export sessions, add a local event, resend refused reports, and
smart charging.

Permissions follow Home Assistant's conventions: ``export_sessions`` (every session: personal
data) and ``add_local_event`` (persistent) are admin actions; the others act on the premise's
chargers and vehicles like their entities do, so they need control of the integration's
entities (``verify_domain_control``: a read-only user cannot call them). Every field is
validated by its schema (:mod:`.validation`): finite numbers in range, bounded texts, dates the
calendar can hold; nothing invalid reaches the store or the planner.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import datetime, time
from pathlib import Path
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_register_admin_service, verify_domain_control
from homeassistant.util import dt as dt_util

from .const import CHARGE_MODES, DOMAIN
from .coordinator import ChargerRuntime, PevPortalConfigEntry, PevPortalCoordinator, Vehicle
from .core.metering import Interval
from .core.planner import ChargeMode
from .core.session import VehicleSource
from .io.store import command_csv_rows, csv_rows
from .settlement_view import event_csv_rows
from .validation import (
    EVENT_FUTURE,
    EVENT_PAST,
    LIMIT_KW_RANGE,
    LOCAL_EVENT_KINDS,
    MAX_ID,
    MAX_NAME,
    PRICE_RANGE,
    TARGET_KWH_RANGE,
    aware,
    bounded_text,
    check_event_window,
    check_target,
    export_range,
    finite,
)

SERVICE_BIND_VEHICLE = "bind_vehicle"
SERVICE_EXPORT_SESSIONS = "export_sessions"
SERVICE_ADD_LOCAL_EVENT = "add_local_event"
SERVICE_SET_DEPARTURE_AND_TARGET = "set_departure_and_target"
SERVICE_PLAN_PREVIEW = "plan_preview"
SERVICE_CHARGE_NOW = "charge_now"
SERVICE_OPT_OUT = "opt_out"
SERVICE_RESEND_REPORT = "resend_report"

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_DEVICE_ID = "device_id"
ATTR_PEV_ID = "pev_id"
ATTR_START = "start"
ATTR_END = "end"
ATTR_FORMAT = "format"
ATTR_CONTENT = "content"
ATTR_KIND = "kind"
ATTR_PRICE = "price"
ATTR_LIMIT_KW = "limit_kw"
ATTR_NAME = "name"
ATTR_DEPARTURE = "departure"
ATTR_TARGET = "target"
ATTR_MODE = "mode"
ATTR_CONFIRM = "confirm"
ATTR_EXPORT_LIMIT = "export_limit"
ATTR_REPORT_KEY = "report_key"

# What a CSV export holds: the intervals (the default) or the command audit trail. A JSON
# export always holds both: the sessions, each with its commands, and the intervals.
CONTENT_INTERVALS = "intervals"
CONTENT_COMMANDS = "commands"
CONTENT_EVENTS = "events"  # each event's performance on each session (settlement)
EXPORT_CONTENTS = [CONTENT_INTERVALS, CONTENT_COMMANDS, CONTENT_EVENTS]

_ID = bounded_text(MAX_ID)
BIND_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): _ID, vol.Required(ATTR_PEV_ID): _ID})
EXPORT_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): _ID,
        vol.Required(ATTR_START): cv.datetime,
        vol.Required(ATTR_END): cv.datetime,
        vol.Optional(ATTR_FORMAT, default="csv"): vol.In(["csv", "json"]),
        vol.Optional(ATTR_CONTENT, default=CONTENT_INTERVALS): vol.In(EXPORT_CONTENTS),
    }
)
EVENT_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): _ID,
        vol.Required(ATTR_KIND): vol.In(list(LOCAL_EVENT_KINDS)),
        vol.Required(ATTR_START): cv.datetime,
        vol.Required(ATTR_END): cv.datetime,
        vol.Optional(ATTR_PRICE): finite(*PRICE_RANGE),
        vol.Optional(ATTR_LIMIT_KW): finite(*LIMIT_KW_RANGE),
        vol.Optional(ATTR_NAME): bounded_text(MAX_NAME),
    }
)
SETTINGS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): _ID,
        vol.Optional(ATTR_DEPARTURE): cv.time,
        # % with a battery capacity, else kWh: the handler checks the vehicle's range.
        vol.Optional(ATTR_TARGET): finite(*TARGET_KWH_RANGE),
        vol.Optional(ATTR_MODE): vol.In(CHARGE_MODES),
    }
)
DEVICE_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): _ID})
RESEND_SCHEMA = vol.Schema(
    {vol.Optional(ATTR_CONFIG_ENTRY_ID): _ID, vol.Optional(ATTR_REPORT_KEY): _ID}
)
OPT_OUT_SCHEMA = DEVICE_SCHEMA.extend(
    {
        vol.Optional(ATTR_CONFIRM, default=False): cv.boolean,
        vol.Optional(ATTR_EXPORT_LIMIT, default=False): cv.boolean,
    }
)


def _coordinator(hass: HomeAssistant, entry_id: str | None) -> PevPortalCoordinator:
    entries: list[PevPortalConfigEntry] = [
        e for e in hass.config_entries.async_entries(DOMAIN) if e.state is ConfigEntryState.LOADED
    ]
    if entry_id is not None:
        entries = [e for e in entries if e.entry_id == entry_id]
    if not entries:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_entry")
    if len(entries) > 1:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="choose_entry")
    return entries[0].runtime_data


def _invalid(reason: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="invalid_input",
        translation_placeholders={"reason": reason},
    )


async def _bind_vehicle(call: ServiceCall) -> None:
    device_id = call.data[ATTR_DEVICE_ID]
    for entry in call.hass.config_entries.async_loaded_entries(DOMAIN):
        coordinator: PevPortalCoordinator = entry.runtime_data
        try:
            runtime = coordinator.charger_by_device(device_id)
        except ServiceValidationError:
            continue
        pev_id = call.data[ATTR_PEV_ID]
        if runtime.session is None:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_session")
        vehicle = coordinator.vehicle_by_pev_id(pev_id) or next(
            (v for v in coordinator.vehicles.values() if v.name == pev_id), None
        )
        coordinator.assign_vehicle(
            runtime, vehicle.pev_id if vehicle else pev_id, VehicleSource.USER
        )
        return
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_a_charger",
        translation_placeholders={"device_id": device_id},
    )


def export_filename(
    start: datetime, end: datetime, fmt: str, content: str = CONTENT_INTERVALS
) -> str:
    """The export's file name: what it holds, the UTC range and the format."""
    kind = content if fmt == "csv" and content in (CONTENT_COMMANDS, CONTENT_EVENTS) else "sessions"
    return f"{kind}_{start:%Y%m%dT%H%M%SZ}_{end:%Y%m%dT%H%M%SZ}.{fmt}"


def export_text(
    sessions: list[dict[str, Any]],
    intervals: list[tuple[str, Interval]],
    fmt: str,
    content: str = CONTENT_INTERVALS,
) -> str:
    """The export as CSV (the intervals, or the commands) or JSON (sessions with their
    commands, and the intervals)."""
    if fmt == "csv":
        if content == CONTENT_EVENTS:
            rows = event_csv_rows(p for s in sessions for p in s.get("events") or ())
        elif content == CONTENT_COMMANDS:
            rows = command_csv_rows(
                (s["session_id"], c) for s in sessions for c in s.get("commands") or ()
            )
        else:
            rows = csv_rows(intervals)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        return buffer.getvalue()
    return json.dumps(
        {
            "sessions": sessions,
            "intervals": [
                dict(zip(csv_rows([])[0], row, strict=True)) for row in csv_rows(intervals)[1:]
            ],
        },
        indent=2,
    )


async def _export_sessions(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    edges = export_range(call.data[ATTR_START], call.data[ATTR_END])
    if edges is None:
        raise _invalid("the start or the end is beyond the calendar")
    start, end = edges
    if end <= start:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="event_end_before_start"
        )
    sessions, intervals = await coordinator.async_export(start, end)
    fmt, content = call.data[ATTR_FORMAT], call.data[ATTR_CONTENT]
    folder = Path(call.hass.config.path(DOMAIN, "exports"))
    text = export_text(sessions, intervals, fmt, content)
    path = folder / export_filename(start, end, fmt, content)

    def _write() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)

    await call.hass.async_add_executor_job(_write)
    response: dict[str, Any] = {
        "path": str(path),
        "sessions": len(sessions),
        "intervals": len(intervals),
        "commands": sum(len(s.get("commands") or ()) for s in sessions),
    }
    if fmt == "json":
        response["data"] = json.loads(text)
    return response


async def _add_local_event(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    start, end = aware(call.data[ATTR_START]), aware(call.data[ATTR_END])
    reason = check_event_window(start, end, dt_util.utcnow())
    if reason == "end before start":
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="event_end_before_start"
        )
    if reason is not None:
        raise _invalid(
            f"a local event lies between {EVENT_PAST.days} day ago and "
            f"{EVENT_FUTURE.days} days ahead"
        )
    event_id = await coordinator.async_add_local_event(
        call.data[ATTR_KIND],
        start,
        end,
        price=call.data.get(ATTR_PRICE),
        limit_kw=call.data.get(ATTR_LIMIT_KW),
        name=call.data.get(ATTR_NAME),
    )
    return {"event_id": event_id}


async def _resend_report(call: ServiceCall) -> ServiceResponse:
    """Send reports the utility refused for good (dead letters) again: one, or all."""
    coordinator = _coordinator(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    if coordinator.link is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_utility_link")
    count = await coordinator.link.async_resend_reports(call.data.get(ATTR_REPORT_KEY))
    return {"resent": count}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services (from async_setup, so they exist even before an entry loads)."""
    hass.services.async_register(
        DOMAIN, SERVICE_BIND_VEHICLE, _controlled(_bind_vehicle), schema=BIND_SCHEMA
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_EXPORT_SESSIONS,
        _export_sessions,
        schema=EXPORT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_ADD_LOCAL_EVENT,
        _add_local_event,
        schema=EVENT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_register_admin_service(  # sends the premise's reports again: an admin's decision
        hass,
        DOMAIN,
        SERVICE_RESEND_REPORT,
        _resend_report,
        schema=RESEND_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_setup_smart_charging_services(hass)


_controlled = verify_domain_control(DOMAIN)
"""The caller must be allowed to control the integration's entities (not read-only)."""


def _device(hass: HomeAssistant, device_id: str) -> tuple[PevPortalCoordinator, str]:
    """The premise and the subentry ID (charger or vehicle) a device belongs to."""
    device = dr.async_get(hass).async_get(device_id)
    if device is not None:
        for entry in hass.config_entries.async_loaded_entries(DOMAIN):
            coordinator: PevPortalCoordinator = entry.runtime_data
            for domain, identifier in device.identifiers:
                if domain == DOMAIN and (
                    identifier in coordinator.chargers or identifier in coordinator.vehicles
                ):
                    return coordinator, identifier
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_a_charger",
        translation_placeholders={"device_id": device_id},
    )


def _charger(hass: HomeAssistant, device_id: str) -> tuple[PevPortalCoordinator, ChargerRuntime]:
    coordinator, identifier = _device(hass, device_id)
    if identifier not in coordinator.chargers:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_charger",
            translation_placeholders={"device_id": device_id},
        )
    return coordinator, coordinator.chargers[identifier]


def _vehicle(hass: HomeAssistant, device_id: str) -> tuple[PevPortalCoordinator, Vehicle]:
    """A vehicle's device, or a charger's device with a registered vehicle plugged in."""
    coordinator, identifier = _device(hass, device_id)
    if identifier in coordinator.vehicles:
        return coordinator, coordinator.vehicles[identifier]
    vehicle = coordinator.smart.vehicle_of(coordinator.chargers[identifier])
    if vehicle is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_vehicle")
    return coordinator, vehicle


def _check_target(target: float | None, vehicle: Vehicle | None) -> None:
    if target is not None and (
        reason := check_target(target, vehicle.capacity_kwh if vehicle else None)
    ):
        raise _invalid(reason)


async def _set_departure_and_target(call: ServiceCall) -> None:
    coordinator, vehicle = _vehicle(call.hass, call.data[ATTR_DEVICE_ID])
    _check_target(call.data.get(ATTR_TARGET), vehicle)
    mode = call.data.get(ATTR_MODE)
    coordinator.smart.update_settings(
        vehicle,
        departure=call.data.get(ATTR_DEPARTURE),
        target=call.data.get(ATTR_TARGET),
        mode=ChargeMode(mode) if mode else None,
    )


async def _plan_preview(call: ServiceCall) -> ServiceResponse:
    """The plan the charger's session would get (with the given settings), not applied."""
    coordinator, runtime = _charger(call.hass, call.data[ATTR_DEVICE_ID])
    if runtime.session is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_session")
    smart = coordinator.smart
    _check_target(call.data.get(ATTR_TARGET), smart.vehicle_of(runtime))
    current = smart.settings_of(smart.vehicle_of(runtime))
    departure: time = call.data.get(ATTR_DEPARTURE) or current.departure
    mode = call.data.get(ATTR_MODE)
    settings = replace(  # the vehicle's power-feed settings carry over
        current,
        mode=ChargeMode(mode) if mode else current.mode,
        departure=departure,
        target=call.data.get(ATTR_TARGET, current.target),
    )
    preview = await smart.async_preview(runtime, settings)
    return {"plan": preview}


async def _charge_now(call: ServiceCall) -> None:
    coordinator, runtime = _charger(call.hass, call.data[ATTR_DEVICE_ID])
    await coordinator.async_charge_now(runtime)


async def _opt_out(call: ServiceCall) -> ServiceResponse:
    coordinator, runtime = _charger(call.hass, call.data[ATTR_DEVICE_ID])
    confirm = call.data.get(ATTR_CONFIRM, False)
    consequences: list[Any]
    event_ids: list[Any]
    if call.data.get(ATTR_EXPORT_LIMIT, False):
        # The export limits in force (the premise's), not the charging limits: each on its own.
        pev_id = runtime.session.pev_id if runtime.session is not None else None
        consequences = list(coordinator.events.consequences(pev_id, export=True))
        event_ids = list(coordinator.events.opt_out(pev_id, confirm=confirm, export=True))
    else:
        consequences = list(coordinator.smart.consequences(runtime))
        event_ids = list(coordinator.smart.opt_out(runtime, confirm=confirm))
    return {"event_ids": event_ids, "consequences": consequences}


def async_setup_smart_charging_services(hass: HomeAssistant) -> None:
    """Register the smart-charging services."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_SET_DEPARTURE_AND_TARGET,
        _controlled(_set_departure_and_target),
        schema=SETTINGS_SCHEMA,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_PLAN_PREVIEW,
        _controlled(_plan_preview),
        schema=SETTINGS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_CHARGE_NOW, _controlled(_charge_now), schema=DEVICE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_OPT_OUT,
        _controlled(_opt_out),
        schema=OPT_OUT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
