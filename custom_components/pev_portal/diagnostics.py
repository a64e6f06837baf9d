"""Diagnostics with every identifier of the premise and its vehicles, and every secret, redacted.

Each charger's entry carries its last :data:`RECENT_COMMANDS` smart-charging commands (from the
store, over its sessions, oldest first) with their measured result.

Redacted twice: by key (:data:`TO_REDACT`: premise, PEV, session, meter, client and VEN names
and IDs, tags, secrets), then by value: the identifiers the entry knows (premise ID, PEV IDs,
tags, meter IDs, session IDs, the VEN's name and ID, its client ID, the IDs the VTN gave the VEN
and its resources) are replaced wherever they occur in any string or key, such as a VTN
exchange's URL or body; every URL loses its query. A diagnostics file holds none of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import (
    CONF_CLIENT_ID,
    CONF_NOTIFY_TARGET,
    CONF_PEV_ID,
    CONF_PREMISE_ID,
    CONF_TAGS,
    CONF_UTILITY,
    CONF_VEN_NAME,
)
from .coordinator import PevPortalConfigEntry, PevPortalCoordinator
from .io.store import LedgerStore

RECENT_COMMANDS = 10
REDACTED = "**REDACTED**"
_MIN_IDENTIFIER = 3  # shorter values are not searched for (they would hit ordinary text)

TO_REDACT = {
    CONF_PREMISE_ID,
    CONF_PEV_ID,
    CONF_TAGS,
    CONF_NOTIFY_TARGET,  # often names a person's phone
    "premise_id",
    "pev_id",
    "charger_vehicle_id",  # a card's tag (a visitor's too)
    "from_pev_id",
    "to_pev_id",
    "meter_id",
    "session_id",
    "client_secret",
    "access_token",
    "token",
    "password",
    "client_id",
    "bearer",
    "bearerToken",
    "webhook_id",
    "Authorization",
    "callback_url",
    "callbackUrl",
    # Client, VEN and resource names and IDs (the VEN name defaults to the premise ID).
    CONF_VEN_NAME,
    "venName",
    "venID",
    "ven_id",
    "clientName",
    "client_name",
    "clientID",
    "resourceName",
    "resource_name",
    "resourceID",
    "resource_id",
    "reportName",
    "report_name",
    "report_key",
}
# The keys of an OpenADR object whose "id" is the premise's own (the VEN, a resource, a report).
_OWN_OBJECT_KEYS = ("venName", "resourceName", "clientName")
_URL_QUERY = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?#\"']*)\?[^\s#\"']*", re.IGNORECASE)


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PevPortalConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a premise."""
    coordinator = entry.runtime_data
    chargers: dict[str, Any] = {}
    for runtime in coordinator.chargers.values():
        summary = coordinator.live_summary(runtime)
        commands = await coordinator.store.read(
            partial(
                LedgerStore.recent_commands, charger_id=runtime.charger_id, limit=RECENT_COMMANDS
            )
        )
        chargers[runtime.name] = {
            "adapter": runtime.adapter.describe(),
            "status": runtime.adapter.status(),
            "meter_id": runtime.meter.meter_id,
            **({"meter": details} if (details := runtime.meter.meter_details()) else {}),
            "session": runtime.session.to_dict() if runtime.session else None,
            "closed_intervals": len(runtime.intervals),
            "summary": summary.to_dict() if summary else None,
            "commands": commands,
        }
    premise_id = coordinator.premise_id
    interval_count = await coordinator.store.read(lambda s: s.interval_count(premise_id))
    data = async_redact_data(
        {
            "entry": {
                "data": dict(entry.data),
                "options": dict(entry.options),
                "subentries": [
                    {"type": s.subentry_type, "title": s.title, "data": dict(s.data)}
                    for s in entry.subentries.values()
                ],
            },
            "tariff": coordinator.program_tariff.to_dict(),
            "interval_minutes": coordinator.interval_minutes,
            "validation_window": coordinator.validation_window,
            "chargers": chargers,
            "local_events": len(coordinator.local_events),
            "stored_intervals": interval_count,
            "utility": coordinator.link.diagnostics() if coordinator.link is not None else None,
            "smart_charging": coordinator.smart.diagnostics(),
            "settlement": coordinator.settlement.diagnostics(),
            "commissioning": (
                coordinator.commissioning.diagnostics()
                if coordinator.commissioning is not None
                else None
            ),
        },
        TO_REDACT,
    )
    identifiers = _identifiers(entry, coordinator, chargers.values(), data)
    scrubbed: dict[str, Any] = scrub(data, identifiers)
    return scrubbed


def _identifiers(
    entry: PevPortalConfigEntry,
    coordinator: PevPortalCoordinator,
    chargers: Iterable[Mapping[str, Any]],
    data: Any,
) -> set[str]:
    """Every identifier of this premise that must not leave in any string."""
    found: set[str] = {coordinator.premise_id, str(entry.data.get(CONF_PREMISE_ID) or "")}
    utility = entry.data.get(CONF_UTILITY) or {}
    found.update(str(utility.get(key) or "") for key in (CONF_VEN_NAME, CONF_CLIENT_ID))
    for subentry in entry.subentries.values():
        found.add(str(subentry.data.get(CONF_PEV_ID) or ""))
        tags = subentry.data.get(CONF_TAGS) or ()
        found.update(t.strip() for t in (tags.split(",") if isinstance(tags, str) else tags))
    for vehicle in coordinator.vehicles.values():
        found.add(vehicle.pev_id)
    for runtime in coordinator.chargers.values():
        found.add(runtime.meter.meter_id)
        for session in (runtime.session, runtime.last_session):
            if session is not None:
                found.update((session.session_id, session.pev_id or ""))
    for charger in chargers:
        found.update(str(c.get("session_id") or "") for c in charger.get("commands") or ())
    link = coordinator.link
    if link is not None:
        found.update((link.ven_name, link.state.ven_id or ""))
    found.update(_own_object_ids(data))
    return {i for i in found if len(i) >= _MIN_IDENTIFIER and i != REDACTED}


def _own_object_ids(data: Any) -> set[str]:
    """The "id" of every VEN, resource or report object in the data (the VTN's exchanges)."""
    found: set[str] = set()
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            if any(key in value for key in _OWN_OBJECT_KEYS) and isinstance(value.get("id"), str):
                found.add(value["id"])
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
    return found


def scrub(value: Any, identifiers: Iterable[str]) -> Any:
    """``value`` with every identifier in any string (and key) replaced, and URLs' queries
    dropped."""
    ordered = sorted(set(identifiers), key=len, reverse=True)  # the longest first
    pattern = re.compile("|".join(re.escape(i) for i in ordered)) if ordered else None

    def text(string: str) -> str:
        new = _URL_QUERY.sub(rf"\1?{REDACTED}", string)
        new = pattern.sub(REDACTED, new) if pattern is not None else new
        return string if new == string else new  # an enum member stays one

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return text(item)
        if isinstance(item, Mapping):
            return {text(k) if isinstance(k, str) else k: walk(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(v) for v in item]
        return item

    return walk(value)
