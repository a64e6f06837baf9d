"""Repairs: a charger whose mapped entities are missing."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.pev_portal.const import DOMAIN

from .conftest import make_entry
from .test_entity_charger import CP

ISSUE = "missing_entities_premise1_charger1"


async def test_missing_entities_raise_and_clear(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Missing status and meter entities raise an issue naming them; it clears when they return."""
    hass.states.async_set("switch.cp_charge", "on")
    entry = make_entry(charger=CP)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    issue = ir.async_get(hass).async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.translation_key == "missing_entities"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["charger"] == "Driveway"
    missing = issue.translation_placeholders["entities"].split(", ")
    assert "sensor.cp_status" in missing
    assert "sensor.meter_energy" in missing
    assert "switch.cp_charge" not in missing

    for entity_id in missing:
        hass.states.async_set(entity_id, "0")
    freezer.tick(timedelta(seconds=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None


async def test_demo_charger_raises_nothing(hass: HomeAssistant) -> None:
    """The demo charger depends on no entity; a stale issue of a removed charger is cleared."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        "missing_entities_premise1_gone",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="missing_entities",
        translation_placeholders={"charger": "Gone", "entities": "sensor.x"},
    )
    entry = make_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    registry = ir.async_get(hass)
    assert registry.async_get_issue(DOMAIN, ISSUE) is None
    assert registry.async_get_issue(DOMAIN, "missing_entities_premise1_gone") is None
