"""test-before-setup: the premise waits (ConfigEntryNotReady) for what set-up needs.

It waits only while the needed entity is not there yet *and* its integration's config entry is
still coming up (not loaded, setting up, retrying); an entity missing from the registry goes
the missing-entities repair path, an integration that failed for good is not waited for.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.const import DOMAIN

from .common import setup
from .conftest import DEMO_CHARGER, OPTIONS, PREMISE, make_entry

MAPPED = {
    "charger_name": "Driveway",
    "charger_type": "entities",
    "status_entity": "sensor.cp_status",
    "switch_entity": "switch.cp_charge",
    "current_entity": "number.cp_current",
    "meter_source": "sensor",
    "meter_entity": "sensor.meter_energy",
}
ENERGY = {"unit_of_measurement": "kWh", "device_class": "energy"}
PRICE_OPTIONS = {**OPTIONS, "price_entity": "sensor.spot_price"}


def _register(
    hass: HomeAssistant,
    domain: str,
    entity_id: str,
    state: ConfigEntryState,
    disabled_by: ConfigEntryDisabler | None = None,
) -> MockConfigEntry:
    """The entity in the registry, owned by a config entry of ``domain`` in ``state``."""
    source = MockConfigEntry(domain=domain, title=domain.title(), disabled_by=disabled_by)
    source.add_to_hass(hass)
    source.mock_state(hass, state)
    platform, object_id = entity_id.split(".")
    er.async_get(hass).async_get_or_create(
        platform,
        domain,
        object_id,
        suggested_object_id=object_id,
        config_entry=source,
    )
    return source


def _mapped_states(hass: HomeAssistant, *, skip: str) -> None:
    """Every mapped entity has a state but ``skip``."""
    for entity_id, value, attributes in (
        ("sensor.cp_status", "Available", {}),
        ("switch.cp_charge", "off", {}),
        ("number.cp_current", "16", {}),
        ("sensor.meter_energy", "100.0", ENERGY),
        ("sensor.spot_price", "0.25", {"unit_of_measurement": "EUR/kWh"}),
    ):
        if entity_id != skip:
            hass.states.async_set(entity_id, value, attributes)


async def _set_up(hass: HomeAssistant, entry: MockConfigEntry) -> ConfigEntryState:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry.state


@pytest.mark.parametrize(
    ("entity_id", "options"),
    [
        ("sensor.cp_status", OPTIONS),
        ("sensor.meter_energy", OPTIONS),
        ("sensor.spot_price", PRICE_OPTIONS),
    ],
)
@pytest.mark.parametrize(
    "source_state",
    [
        ConfigEntryState.NOT_LOADED,
        ConfigEntryState.SETUP_IN_PROGRESS,
        ConfigEntryState.SETUP_RETRY,
    ],
)
async def test_waits_for_an_entity_whose_integration_is_coming_up(
    hass: HomeAssistant,
    entity_id: str,
    options: dict[str, Any],
    source_state: ConfigEntryState,
) -> None:
    """The status, meter or price entity has no state yet and its integration is still coming
    up: set-up is retried (translated reason), and succeeds once the entity is there."""
    _register(hass, "ocpp", entity_id, source_state)
    _mapped_states(hass, skip=entity_id)
    entry = make_entry(charger=MAPPED, options=options)
    assert await _set_up(hass, entry) is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert entity_id in entry.reason
    assert "Ocpp" in entry.reason
    assert "is not available yet" in entry.reason

    await hass.config_entries.async_unload(entry.entry_id)
    _mapped_states(hass, skip="")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_waits_for_a_restored_unavailable_entity(hass: HomeAssistant) -> None:
    """At start-up Home Assistant shows a registered entity as unavailable until its
    integration loads: that is "not there yet" too."""
    _register(hass, "ocpp", "sensor.cp_status", ConfigEntryState.SETUP_IN_PROGRESS)
    _mapped_states(hass, skip="sensor.cp_status")
    hass.states.async_set("sensor.cp_status", STATE_UNAVAILABLE, {"restored": True})
    assert await _set_up(hass, make_entry(charger=MAPPED)) is ConfigEntryState.SETUP_RETRY


@pytest.mark.parametrize("source_state", [ConfigEntryState.LOADED, ConfigEntryState.SETUP_ERROR])
async def test_no_wait_when_the_integration_is_loaded_or_failed(
    hass: HomeAssistant, source_state: ConfigEntryState
) -> None:
    """Loaded (the entity is merely unavailable) or failed for good (nothing to wait for):
    the premise is set up and the charger shows unavailable."""
    _register(hass, "ocpp", "sensor.cp_status", source_state)
    _mapped_states(hass, skip="sensor.cp_status")
    assert await _set_up(hass, make_entry(charger=MAPPED)) is ConfigEntryState.LOADED


async def test_no_wait_for_a_disabled_integration(hass: HomeAssistant) -> None:
    """The user disabled the charger's integration: it will not come up, nothing to wait for."""
    user = ConfigEntryDisabler.USER
    _register(hass, "ocpp", "sensor.cp_status", ConfigEntryState.NOT_LOADED, disabled_by=user)
    _mapped_states(hass, skip="sensor.cp_status")
    assert await _set_up(hass, make_entry(charger=MAPPED)) is ConfigEntryState.LOADED


async def test_no_wait_for_an_entity_missing_from_the_registry(hass: HomeAssistant) -> None:
    """An entity that does not exist at all is not waited for: the premise loads and, once
    Home Assistant runs, the missing-entities repair issue names it."""
    _mapped_states(hass, skip="sensor.cp_status")
    entry = make_entry(charger=MAPPED)
    coordinator = await setup(hass, entry)
    await coordinator._async_check_entities(hass)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"missing_entities_{entry.entry_id}_charger1"
    )
    assert issue is not None
    assert "sensor.cp_status" in (issue.translation_placeholders or {})["entities"]


async def test_no_wait_for_an_unreachable_vtn(hass: HomeAssistant, socket_enabled: None) -> None:
    """A utility link whose VTN refuses connections does not hold set-up (the link retries)."""
    utility = {
        "vtn_url": "http://127.0.0.1:9/openadr3",  # nothing listens there: refused
        "auth_type": "none",
        "ven_name": PREMISE["premise_id"],
        "programs": ["PEV-TOU"],
        "allow_http": True,
    }
    demo = make_entry()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=demo.title,
        unique_id=demo.unique_id,
        data={**PREMISE, "utility": utility},
        options=OPTIONS,
        subentries_data=[
            {
                "subentry_type": s.subentry_type,
                "title": s.title,
                "data": dict(s.data),
                "subentry_id": s.subentry_id,
                "unique_id": s.unique_id,
            }
            for s in demo.subentries.values()
        ],
    )
    assert await _set_up(hass, entry) is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("zha_state", "expected"),
    [
        (ConfigEntryState.SETUP_IN_PROGRESS, ConfigEntryState.SETUP_RETRY),
        (ConfigEntryState.SETUP_RETRY, ConfigEntryState.SETUP_RETRY),
        (ConfigEntryState.NOT_LOADED, ConfigEntryState.SETUP_RETRY),
        (ConfigEntryState.LOADED, ConfigEntryState.LOADED),
        (ConfigEntryState.SETUP_ERROR, ConfigEntryState.LOADED),
    ],
)
async def test_zha_meter_waits_for_zha(
    hass: HomeAssistant, zha_state: ConfigEntryState, expected: ConfigEntryState
) -> None:
    """A charger metered through ZHA waits while ZHA's entry is still coming up."""
    zha = MockConfigEntry(domain="zha", title="ZHA")
    zha.add_to_hass(hass)
    zha.mock_state(hass, zha_state)
    charger = {**DEMO_CHARGER, "meter_source": "zha", "zha_ieee": "00:11:22:33:44:55:66:77"}
    entry = make_entry(charger=charger)
    assert await _set_up(hass, entry) is expected
    if expected is ConfigEntryState.SETUP_RETRY:
        assert entry.reason is not None
        assert "ZHA is still being set up" in entry.reason


async def test_zha_meter_without_zha_is_set_up(hass: HomeAssistant) -> None:
    """No ZHA at all: nothing will come up by itself, the meter says why (unmetered)."""
    charger = {**DEMO_CHARGER, "meter_source": "zha", "zha_ieee": "00:11:22:33:44:55:66:77"}
    assert await _set_up(hass, make_entry(charger=charger)) is ConfigEntryState.LOADED
