"""Repairs issues: what the homeowner must fix for sessions to be metered."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN

MISSING_ENTITIES = "missing_entities"
METER_STATUS = "meter_status"


def _issue_id(entry_id: str, charger_id: str) -> str:
    return f"{MISSING_ENTITIES}_{entry_id}_{charger_id}"


def async_check_entities(
    hass: HomeAssistant, entry_id: str, charger_id: str, charger_name: str, entity_ids: list[str]
) -> list[str]:
    """Raise (or clear) the issue that a charger's mapped entities do not exist.

    Returns the missing entity IDs.
    """
    missing = [entity_id for entity_id in entity_ids if hass.states.get(entity_id) is None]
    issue_id = _issue_id(entry_id, charger_id)
    if missing:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=MISSING_ENTITIES,
            translation_placeholders={"charger": charger_name, "entities": ", ".join(missing)},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    return missing


def async_clear_stale(hass: HomeAssistant, entry_id: str, charger_ids: set[str]) -> None:
    """Remove the issues of chargers the premise no longer has."""
    registry = ir.async_get(hass)
    for kind in (MISSING_ENTITIES, METER_STATUS):
        prefix = f"{kind}_{entry_id}_"
        for domain, issue_id in list(registry.issues):
            if (
                domain == DOMAIN
                and issue_id.startswith(prefix)
                and issue_id.removeprefix(prefix) not in charger_ids
            ):
                ir.async_delete_issue(hass, DOMAIN, issue_id)


def async_meter_status(
    hass: HomeAssistant, entry_id: str, charger_id: str, charger_name: str, alarms: list[str]
) -> None:
    """Raise (or clear) the issue that a Zigbee meter reports check meter, tamper, power
    failure or service disconnect (its intervals are marked meanwhile)."""
    issue_id = f"{METER_STATUS}_{entry_id}_{charger_id}"
    if alarms:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=METER_STATUS,
            translation_placeholders={"charger": charger_name, "status": ", ".join(alarms)},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
