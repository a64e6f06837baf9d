"""Services: bind a vehicle, export sessions and intervals, add a local event."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import PevPortalConfigEntry, PevPortalCoordinator
from .core.metering import Interval
from .core.session import VehicleSource
from .io.store import csv_rows

SERVICE_BIND_VEHICLE = "bind_vehicle"
SERVICE_EXPORT_SESSIONS = "export_sessions"
SERVICE_ADD_LOCAL_EVENT = "add_local_event"

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_DEVICE_ID = "device_id"
ATTR_PEV_ID = "pev_id"
ATTR_START = "start"
ATTR_END = "end"
ATTR_FORMAT = "format"
ATTR_KIND = "kind"
ATTR_PRICE = "price"
ATTR_LIMIT_KW = "limit_kw"
ATTR_NAME = "name"

BIND_SCHEMA = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): cv.string, vol.Required(ATTR_PEV_ID): cv.string}
)
EXPORT_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_START): cv.datetime,
        vol.Required(ATTR_END): cv.datetime,
        vol.Optional(ATTR_FORMAT, default="csv"): vol.In(["csv", "json"]),
    }
)
EVENT_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_KIND): vol.In(["price", "load_control"]),
        vol.Required(ATTR_START): cv.datetime,
        vol.Required(ATTR_END): cv.datetime,
        vol.Optional(ATTR_PRICE): vol.Coerce(float),
        vol.Optional(ATTR_LIMIT_KW): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional(ATTR_NAME): cv.string,
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


def _local(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt_util.get_default_time_zone())


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


def export_filename(start: datetime, end: datetime, fmt: str) -> str:
    """The export's file name: the UTC range and the format."""
    return f"sessions_{start:%Y%m%dT%H%M%SZ}_{end:%Y%m%dT%H%M%SZ}.{fmt}"


def export_text(
    sessions: list[dict[str, Any]], intervals: list[tuple[str, Interval]], fmt: str
) -> str:
    """The export as CSV (the intervals) or JSON (sessions and intervals)."""
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(csv_rows(intervals))
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
    start = dt_util.as_utc(_local(call.data[ATTR_START]))
    end = dt_util.as_utc(_local(call.data[ATTR_END]))
    if end <= start:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="event_end_before_start"
        )
    sessions, intervals = await coordinator.async_export(start, end)
    fmt = call.data[ATTR_FORMAT]
    folder = Path(call.hass.config.path(DOMAIN, "exports"))
    text = export_text(sessions, intervals, fmt)
    path = folder / export_filename(start, end, fmt)

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
    }
    if fmt == "json":
        response["data"] = json.loads(text)
    return response


async def _add_local_event(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass, call.data.get(ATTR_CONFIG_ENTRY_ID))
    event_id = await coordinator.async_add_local_event(
        call.data[ATTR_KIND],
        _local(call.data[ATTR_START]),
        _local(call.data[ATTR_END]),
        price=call.data.get(ATTR_PRICE),
        limit_kw=call.data.get(ATTR_LIMIT_KW),
        name=call.data.get(ATTR_NAME),
    )
    return {"event_id": event_id}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services (from async_setup, so they exist even before an entry loads)."""
    hass.services.async_register(DOMAIN, SERVICE_BIND_VEHICLE, _bind_vehicle, schema=BIND_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXPORT_SESSIONS,
        _export_sessions,
        schema=EXPORT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_ADD_LOCAL_EVENT,
        _add_local_event,
        schema=EVENT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
