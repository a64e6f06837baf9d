"""The homeowner's set-up, walked form by form from "Add integration" to a priced session.

Counts the forms and the fields typed (a text or number box whose value is not the one the
form shows already) as a homeowner fills them, prints the figures and holds them to issue 15's
target: at most 4 forms and 8 typed fields. Picked values (lists, entity and device pickers,
toggles) and accepted defaults or suggestions are counted apart, as picks.

Run ``pytest -s tests/components/test_config_flow_setup_walk.py`` to see the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import selector
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.const import DOMAIN

from .common import advance, state

MAX_FORMS = 4
MAX_TYPED = 8


@dataclass
class Walk:
    """What a homeowner filled in: forms, fields typed and fields picked or accepted."""

    name: str
    forms: list[str] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)
    picked: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.name}: {len(self.forms)} forms ({', '.join(self.forms)}), "
            f"{len(self.typed)} typed fields ({', '.join(self.typed) or '-'}), "
            f"{len(self.picked)} picked"
        )


def _typed_kind(validator: Any) -> bool:
    """A field the user types into: a text or a number box."""
    return validator is str or isinstance(
        validator, selector.TextSelector | selector.NumberSelector
    )


def _shown(marker: Any) -> Any:
    """What the form shows in a field before the user touches it (default or suggestion)."""
    default = getattr(marker, "default", None)
    if callable(default):
        value = default()
        if type(value).__name__ != "Undefined":
            return value
    return (getattr(marker, "description", None) or {}).get("suggested_value")


async def fill(hass: HomeAssistant, walk: Walk, result: Any, answers: dict[str, Any]) -> Any:
    """Answer one form as the homeowner does; count what was typed and what was picked."""
    assert result["type"] is FlowResultType.FORM, result
    walk.forms.append(result["step_id"])
    schema = result["data_schema"].schema
    for marker, validator in schema.items():
        key = str(marker)
        if key not in answers:
            continue
        if answers[key] == _shown(marker):
            walk.picked.append(f"{key} (as shown)")
        elif _typed_kind(validator):
            walk.typed.append(key)
        else:
            walk.picked.append(key)
    flow = (
        hass.config_entries.flow
        if result.get("handler") == DOMAIN
        else hass.config_entries.subentries
    )
    return await flow.async_configure(result["flow_id"], answers)


async def start(hass: HomeAssistant) -> Any:
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )


def report(walk: Walk) -> None:
    print(f"\nSET-UP FIGURES {walk.line()}")
    assert len(walk.forms) <= MAX_FORMS, walk.line()
    assert len(walk.typed) <= MAX_TYPED, walk.line()


async def priced_demo_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, price: float
) -> None:
    """Plug the demo car in, charge half an hour: the session is priced at ``price``."""
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.garage_demo_car_plugged_in"}, blocking=True
    )
    await advance(hass, freezer, 30 * 60)
    energy = float(state(hass, "sensor.garage_session_energy"))
    cost = float(state(hass, "sensor.garage_session_cost"))
    assert energy > 5
    assert cost == pytest.approx(energy * price, abs=0.01)


async def test_walk_no_program_flat_price(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """No utility program, one flat price, the demo charger, then a priced session (an
    unidentified car pays the default rate, which is the price)."""
    walk = Walk("no program, flat price, demo charger")
    result = await start(hass)
    result = await fill(
        hass, walk, result, {"premise_name": "Home", "in_program": False, "tariff_kind": "flat"}
    )
    result = await fill(hass, walk, result, {"price": 0.27})
    result = await fill(hass, walk, result, {"charger_name": "Garage", "charger_type": "demo"})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].state is ConfigEntryState.LOADED
    await priced_demo_session(hass, freezer, 0.27)
    report(walk)
    assert walk.typed == ["price", "charger_name"]


@pytest.fixture
def nord_pool(hass: HomeAssistant) -> str:
    """A Nord Pool (HACS) price sensor in EUR/kWh with today's prices in raw_today."""
    entity_id = "sensor.nordpool_kwh_fi_eur_3_10_024"
    hass.states.async_set(
        entity_id,
        "0.183",
        {
            "unit_of_measurement": "EUR/kWh",
            "current_price": 0.183,
            "raw_today": [
                {
                    "start": "2026-03-02T00:00:00+02:00",
                    "end": "2026-03-02T01:00:00+02:00",
                    "value": 0.1,
                }
            ],
            "raw_tomorrow": [],
        },
    )
    return entity_id


async def test_walk_no_program_price_entity(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, nord_pool: str
) -> None:
    """No utility program, the price from a Nord Pool sensor, the demo charger: no field typed."""
    walk = Walk("no program, price entity, demo charger")
    result = await start(hass)
    result = await fill(
        hass,
        walk,
        result,
        {"premise_name": "Home", "in_program": False, "tariff_kind": "price_entity"},
    )
    result = await fill(hass, walk, result, {"price_entity": nord_pool})
    result = await fill(hass, walk, result, {"charger_name": "Garage", "charger_type": "demo"})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.options["price_entity"] == nord_pool
    assert entry.options["tariff"] == {"type": "flat", "currency": "EUR", "price": "0.183"}
    # Until the coordinator follows the entity, sessions are priced at its price at set-up.
    await priced_demo_session(hass, freezer, 0.183)
    report(walk)
    assert walk.typed == ["charger_name"]


async def test_walk_real_charger_with_preset(hass: HomeAssistant) -> None:
    """No program, flat price, an OCPP charger picked by its device (the preset fills the
    mapping and the meter), then the vehicle: 4 forms to the entry, one more for the car."""
    ocpp = MockConfigEntry(domain="ocpp")
    ocpp.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=ocpp.entry_id, identifiers={("ocpp", "cp1")}, name="CP1"
    )
    registry = er.async_get(hass)
    for entity_id, value, attributes in (
        ("sensor.cp1_status_connector", "Available", {}),
        ("switch.cp1_charge_control", "off", {}),
        ("number.cp1_maximum_current", "16", {"min": 6, "max": 16}),
        ("sensor.cp1_power_active_import", "0", {"unit_of_measurement": "W"}),
        (
            "sensor.cp1_energy_active_import_register",
            "10.5",
            {"device_class": "energy", "unit_of_measurement": "kWh"},
        ),
    ):
        domain, object_id = entity_id.split(".")
        registry.async_get_or_create(
            domain,
            "ocpp",
            object_id,
            suggested_object_id=object_id,
            config_entry=ocpp,
            device_id=device.id,
        )
        hass.states.async_set(entity_id, value, attributes)

    walk = Walk("no program, flat price, OCPP charger by its device")
    result = await start(hass)
    result = await fill(
        hass, walk, result, {"premise_name": "Home", "in_program": False, "tariff_kind": "flat"}
    )
    result = await fill(hass, walk, result, {"price": 0.27})
    result = await fill(
        hass,
        walk,
        result,
        {"charger_name": "Charger", "charger_type": "entities", "device": device.id},
    )
    assert result["step_id"] == "charger_entities"
    # The homeowner submits what the preset filled in (suggested values and defaults).
    answers = {
        str(marker): _shown(marker)
        for marker in result["data_schema"].schema
        if _shown(marker) is not None
    }
    result = await fill(hass, walk, result, answers)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    (charger,) = entry.subentries.values()
    assert charger.data["meter_source"] == "charger"
    assert charger.data["max_current_a"] == 16.0
    report(walk)

    car = Walk("+ the vehicle")
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"), context={"source": config_entries.SOURCE_USER}
    )
    assert "pev_id" not in {str(m) for m in result["data_schema"].schema}
    result = await fill(hass, car, result, {"name": "Family car", "capacity_kwh": 64})
    await hass.async_block_till_done()  # the entry reloads with its new vehicle
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.state is ConfigEntryState.LOADED
    assert result["data"]["pev_id"] == "family-car"
    print(f"SET-UP FIGURES {car.line()}")
    assert car.typed == ["name", "capacity_kwh"]
