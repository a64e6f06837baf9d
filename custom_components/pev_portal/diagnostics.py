"""Diagnostics with PEV IDs, premise ID, tags and secrets redacted.

Each charger's entry carries its last :data:`RECENT_COMMANDS` smart-charging commands (from the
store, over its sessions, oldest first) with their measured result.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_NOTIFY_TARGET, CONF_PEV_ID, CONF_PREMISE_ID, CONF_TAGS
from .coordinator import PevPortalConfigEntry
from .io.store import LedgerStore

RECENT_COMMANDS = 10

TO_REDACT = {
    CONF_PREMISE_ID,
    CONF_PEV_ID,
    CONF_TAGS,
    CONF_NOTIFY_TARGET,  # often names a person's phone
    "premise_id",
    "pev_id",
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
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PevPortalConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a premise."""
    coordinator = entry.runtime_data
    chargers: dict[str, Any] = {}
    for runtime in coordinator.chargers.values():
        summary = coordinator.live_summary(runtime)
        commands = await coordinator.store.call(
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
    interval_count = await coordinator.store.call(lambda s: s.interval_count())
    return async_redact_data(
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
        },
        TO_REDACT,
    )
