"""German and French: Home Assistant loads translations/de.json and fr.json for PEV Portal."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations

from custom_components.pev_portal.const import DOMAIN

from .common import attrs, setup
from .conftest import make_entry

PREFIX = f"component.{DOMAIN}"


@pytest.mark.parametrize(
    ("language", "session_state", "charging", "charge_mode", "cheapest", "notify_title"),
    [
        (
            "de",
            "Status des Ladevorgangs",
            "Lädt",
            "Lademodus",
            "Am günstigsten bis zur Abfahrt",
            "{charger}: Fahrzeug nicht zugeordnet",
        ),
        (
            "fr",
            "État de la session",
            "En charge",
            "Mode de charge",
            "Le moins cher avant le départ",
            "{charger} : véhicule non associé",
        ),
    ],
)
async def test_translations_load(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    language: str,
    session_state: str,
    charging: str,
    charge_mode: str,
    cheapest: str,
    notify_title: str,
) -> None:
    hass.config.language = language
    entry = make_entry()
    await setup(hass, entry)

    entity = await async_get_translations(hass, language, "entity", [DOMAIN])
    assert entity[f"{PREFIX}.entity.sensor.session_state.name"] == session_state
    assert entity[f"{PREFIX}.entity.sensor.session_state.state.charging"] == charging
    assert entity[f"{PREFIX}.entity.select.charge_mode.name"] == charge_mode
    assert entity[f"{PREFIX}.entity.select.charge_mode.state.cheapest"] == cheapest
    # The notification texts are read from the same files, in the system language.
    exceptions = await async_get_translations(hass, language, "exceptions", [DOMAIN])
    assert exceptions[f"{PREFIX}.exceptions.notify_plugged_not_bound_title.message"] == (
        notify_title
    )

    # The entities themselves are named in the language.
    session_sensor = next(
        item
        for item in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
        if item.translation_key == "session_state"
    )
    assert attrs(hass, session_sensor.entity_id)["friendly_name"] == f"Garage {session_state}"
