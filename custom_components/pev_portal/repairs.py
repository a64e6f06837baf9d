"""Repairs issues: what the homeowner must fix for sessions to be metered."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN


def async_check_entities(
    hass: HomeAssistant, charger_id: str, charger_name: str, entity_ids: list[str]
) -> list[str]:
    """Raise (or clear) the issue that a charger's mapped entities no longer exist.

    Returns the missing entity IDs.
    """
    missing = [entity_id for entity_id in entity_ids if hass.states.get(entity_id) is None]
    issue_id = f"missing_entities_{charger_id}"
    if missing:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="missing_entities",
            translation_placeholders={"charger": charger_name, "entities": ", ".join(missing)},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    return missing


def async_clear(hass: HomeAssistant, charger_id: str) -> None:
    """Remove a charger's issues (the charger was removed)."""
    ir.async_delete_issue(hass, DOMAIN, f"missing_entities_{charger_id}")
