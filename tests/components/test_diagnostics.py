"""Diagnostics: a snapshot mid-session, with identifiers redacted."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.pev_portal.diagnostics import async_get_config_entry_diagnostics, scrub
from tests.vtn.server import TestVtn

from .common import setup, state
from .conftest import GUEST_CAR, HOME_CAR, PREMISE, make_entry
from .test_utility import linked_entry, plug, wait_for

REDACTED = "**REDACTED**"


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's snapshot format, stored in tests/components/snapshots/."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


async def _mid_session(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Any:
    freezer.move_to("2026-11-22T10:00:00+00:00")
    entry = make_entry(vehicles=[HOME_CAR, GUEST_CAR])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.garage_demo_car_plugged_in"}, blocking=True
    )
    # A command for the audit trail (charge now: the demo charger's full 16 A).
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.garage_charge_now"}, blocking=True
    )
    for _ in range(20 * 12):
        freezer.tick(timedelta(seconds=5))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    await entry.runtime_data.store.call(lambda s: None)
    return entry


async def test_diagnostics_snapshot(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, snapshot: SnapshotAssertion
) -> None:
    """The diagnostics of a premise 20 minutes into a demo session.

    Called directly: the HTTP client's access token would expire when time is moved to 2026.
    """
    entry = await _mid_session(hass, freezer)
    assert await async_get_config_entry_diagnostics(hass, entry) == snapshot


async def test_diagnostics_over_http(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, loaded_demo: MockConfigEntry
) -> None:
    """The diagnostics download works and is JSON-serializable."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, loaded_demo)
    assert diagnostics["entry"]["data"]["premise_id"] == REDACTED
    assert diagnostics["chargers"]["Garage"]["session"] is None
    assert diagnostics["chargers"]["Garage"]["status"] == "unplugged"
    assert diagnostics["tariff"]["type"] == "flat"


async def test_diagnostics_redacted(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Premise ID, PEV IDs, tags, meter IDs and session IDs never leave redacted."""
    entry = await _mid_session(hass, freezer)
    data = await async_get_config_entry_diagnostics(hass, entry)

    assert data["entry"]["data"]["premise_id"] == REDACTED
    for subentry in data["entry"]["subentries"]:
        if subentry["type"] == "vehicle":
            assert subentry["data"]["pev_id"] == REDACTED
            assert subentry["data"]["tags"] == REDACTED
    garage = data["chargers"]["Garage"]
    assert garage["meter_id"] == REDACTED
    session = garage["session"]
    assert session["session_id"] == REDACTED
    assert session["pev_id"] == REDACTED
    assert session["premise_id"] == REDACTED
    assert garage["summary"]["session_id"] == REDACTED
    assert garage["summary"]["pev_id"] == REDACTED
    assert [c["source"] for c in garage["commands"]] == ["user"]
    assert garage["commands"][0]["session_id"] == REDACTED
    assert garage["closed_intervals"] == 1
    assert data["stored_intervals"] == 1

    text = repr(data)
    for secret in ("PREMISE-1", "PEV-DEMO-0001", "PEV-GUEST-1", "tag-family", "tag-visitor"):
        assert secret not in text
    runtime = entry.runtime_data.chargers["charger1"]
    assert runtime.session.session_id not in text
    assert runtime.meter.meter_id not in text


async def test_no_identifier_leaves_with_the_utility_link(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """With the VTN's exchanges (VEN, resources, reports) in the diagnostics, the premise ID,
    the PEV ID, the session ID and the IDs the VTN gave the VEN occur nowhere: not in the
    VEN name (the premise ID by default), client names, URLs or bodies."""
    vtn.approve("PEV-DEMO-0001", billing_party="PREMISE_CUSTOMER")
    entry = linked_entry(vtn, callback_base, vehicles=[HOME_CAR])
    coordinator = await setup(hass, entry)
    await plug(hass)
    await wait_for(hass, lambda: state(hass, "sensor.garage_binding") == "home")
    session = coordinator.chargers["charger1"].session
    assert session is not None
    link = coordinator.link
    assert link is not None
    assert link.state.ven_id is not None

    text = json.dumps(await async_get_config_entry_diagnostics(hass, entry), default=str)
    assert "/programs" in text  # the exchanges are there
    for identifier in (
        PREMISE["premise_id"],
        HOME_CAR["pev_id"],
        session.session_id,
        link.state.ven_id,
        "ven-client",
        "tag-family",
    ):
        assert text.count(identifier) == 0, identifier
    assert REDACTED in text


def test_scrub_replaces_identifiers_in_strings_keys_and_url_queries() -> None:
    data = {
        "url": "https://vtn.example/vens/VEN-7/resources?resourceName=PEV-1&x=1",
        "PEV-1": {"note": "session S-123 of PEV-1"},
        "list": ["PREMISE-9", 3, None],
    }
    assert scrub(data, {"PEV-1", "VEN-7", "S-123", "PREMISE-9"}) == {
        "url": f"https://vtn.example/vens/{REDACTED}/resources?{REDACTED}",
        REDACTED: {"note": f"session {REDACTED} of {REDACTED}"},
        "list": [REDACTED, 3, None],
    }
