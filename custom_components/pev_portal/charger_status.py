"""Status strings of charger integrations, mapped to the core's four states (docs/chargers.md
lists the strings known not to be mapped yet). Re-exported by :mod:`.adapters`."""

from __future__ import annotations

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN

from .core.session import ChargerStatus

# Status strings of common charger integrations, lower-cased, mapped to the core's four states.
# OCPP 1.6 (lbbrhzn/ocpp), Wallbox, Easee, Zaptec, go-e, plus plain binary sensors.
STATUS_MAP: dict[str, ChargerStatus] = {
    # binary sensors (plug / cable connected)
    "on": ChargerStatus.PLUGGED,
    "off": ChargerStatus.UNPLUGGED,
    # OCPP 1.6 ChargePointStatus
    "available": ChargerStatus.UNPLUGGED,
    "preparing": ChargerStatus.PLUGGED,
    "charging": ChargerStatus.CHARGING,
    "suspendedev": ChargerStatus.PLUGGED,
    "suspendedevse": ChargerStatus.PLUGGED,
    "finishing": ChargerStatus.PLUGGED,
    "reserved": ChargerStatus.UNPLUGGED,
    "faulted": ChargerStatus.FAULT,
    # Wallbox
    "ready": ChargerStatus.UNPLUGGED,
    "disconnected": ChargerStatus.UNPLUGGED,
    "connected: waiting for car demand": ChargerStatus.PLUGGED,
    "waiting for car demand": ChargerStatus.PLUGGED,
    "paused by user": ChargerStatus.PLUGGED,
    "paused": ChargerStatus.PLUGGED,  # the core integration's status 178/182 (its pause switch)
    "scheduled": ChargerStatus.PLUGGED,
    "waiting": ChargerStatus.PLUGGED,
    "locked, car connected": ChargerStatus.PLUGGED,
    # A bidirectional Quasar feeding back (the core wallbox integration's status 196): energy
    # flows, the session is active (power feed).
    "discharging": ChargerStatus.CHARGING,
    "error": ChargerStatus.FAULT,
    # Easee
    "awaiting_start": ChargerStatus.PLUGGED,
    "ready_to_charge": ChargerStatus.PLUGGED,
    "completed": ChargerStatus.PLUGGED,
    # Zaptec
    "connected_requesting": ChargerStatus.PLUGGED,
    "connected_charging": ChargerStatus.CHARGING,
    "connected_finished": ChargerStatus.PLUGGED,
    # go-e (car state)
    "idle": ChargerStatus.UNPLUGGED,
    "waitcar": ChargerStatus.PLUGGED,
    "complete": ChargerStatus.PLUGGED,
    # generic
    "plugged": ChargerStatus.PLUGGED,
    "connected": ChargerStatus.PLUGGED,
    "unplugged": ChargerStatus.UNPLUGGED,
    "fault": ChargerStatus.FAULT,
}


def map_status(state: str | None) -> ChargerStatus | None:
    """Map a charger integration's status string to the core's status (None when unknown)."""
    if state is None or state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    return STATUS_MAP.get(state.strip().lower())
