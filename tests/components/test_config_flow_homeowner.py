"""The homeowner's set-up (issue 15): TOU builder, price entities, vehicles without a program,
Home Assistant's tags, pickers without PEV Portal's own devices and entities."""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import probatio
import pytest
from homeassistant import config_entries
from homeassistant.components.tag import TAG_DATA, async_scan_tag
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.config_flow.helpers import ID_PATTERN, Range, generated_id
from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.core.tariff import tariff_from_dict

from .conftest import OPTIONS, PREMISE, make_entry

COMPONENT = Path(__file__).parents[2] / "custom_components" / "pev_portal"

BERLIN = ZoneInfo("Europe/Berlin")


async def start(hass: HomeAssistant, kind: str, in_program: bool = False) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"premise_name": "Home", "in_program": in_program, "tariff_kind": kind},
    )
    assert result["type"] is FlowResultType.FORM
    return dict(result)


async def finish(hass: HomeAssistant, flow_id: str) -> Any:
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "Garage", "charger_type": "demo"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    return result["result"]


TOU = {
    "off_peak_price": 0.21,
    "peak_price": 0.39,
    "peak_start": "16:00:00",
    "peak_end": "21:00:00",
    "peak_days": ["weekday"],
}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"peak_days": []}, {"peak_days": "peak_days_required"}),
        ({"peak_end": "16:00:00"}, {"peak_end": "peak_empty"}),
        ({"off_peak_price": -0.01}, {"off_peak_price": "invalid_price"}),
        (
            {"season": {"season_start": "13-01", "season_end": "09-30", "season_peak_price": 1}},
            {"season": "invalid_season"},
        ),
        (
            {"season": {"season_start": "01-01", "season_end": "12-31", "season_peak_price": 1}},
            {"season": "invalid_season"},
        ),
        (
            {"season": {"season_start": "06-01", "season_end": "09-30", "season_peak_price": -1}},
            {"season": "invalid_price"},
        ),
    ],
)
async def test_tou_builder_errors(
    hass: HomeAssistant, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await start(hass, "tou")
    assert result["step_id"] == "tariff_tou"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**TOU, **changes})
    assert result["step_id"] == "tariff_tou"
    assert result["errors"] == errors


async def test_tou_builder_with_a_season(hass: HomeAssistant) -> None:
    """The builder makes the tariff the YAML would: off-peak by default, the peak on weekdays,
    summer's own peak price; the guests' rate without a program is the highest price."""
    hass.config.time_zone = "Europe/Berlin"
    result = await start(hass, "tou")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            **TOU,
            "peak_end": "00:00:00",  # until midnight
            "season": {"season_start": "06-01", "season_end": "09-30", "season_peak_price": 0.5},
        },
    )
    assert result["step_id"] == "charger"
    entry = await finish(hass, result["flow_id"])
    tariff = entry.options["tariff"]
    assert tariff == {
        "type": "tou",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "default_period": "off_peak",
        "default_price": "0.21",
        "seasons": [
            {
                "name": "season",
                "start": "06-01",
                "end": "09-30",
                "periods": [
                    {
                        "period": "on_peak",
                        "days": ["weekday"],
                        "start": "16:00",
                        "end": "24:00",
                        "price": "0.5",
                    }
                ],
            },
            {
                "name": "rest_of_year",
                "start": "10-01",
                "end": "05-31",
                "periods": [
                    {
                        "period": "on_peak",
                        "days": ["weekday"],
                        "start": "16:00",
                        "end": "24:00",
                        "price": "0.39",
                    }
                ],
            },
        ],
    }
    built = tariff_from_dict(tariff)
    summer_weekday = datetime(2026, 7, 1, 17, tzinfo=BERLIN)
    winter_weekday = datetime(2026, 1, 7, 23, tzinfo=BERLIN)
    weekend = datetime(2026, 7, 4, 17, tzinfo=BERLIN)
    night = datetime(2026, 7, 1, 3, tzinfo=BERLIN)
    assert built.price_at(summer_weekday).price == Decimal("0.5")
    assert built.price_at(winter_weekday).price == Decimal("0.39")
    assert built.price_at(weekend).price == Decimal("0.21")
    assert built.price_at(night).price == Decimal("0.21")
    assert entry.options["default_price"] == 0.5


@pytest.mark.parametrize(
    ("states", "answers", "errors"),
    [
        ({}, {"price_entity": "sensor.gone"}, {"price_entity": "entity_not_found"}),
        (
            {"sensor.energy": ("12.5", {"unit_of_measurement": "kWh"})},
            {"price_entity": "sensor.energy"},
            {"price_entity": "not_price_entity"},
        ),
        (
            {"sensor.price": ("unknown", {"unit_of_measurement": "EUR/kWh"})},
            {"price_entity": "sensor.price"},
            {"price_entity": "no_price_yet"},
        ),
        (
            {"sensor.price": ("0.2", {"unit_of_measurement": "EUR/kWh"})},
            {"price_entity": "sensor.price", "price_forecast_entity": "sensor.gone"},
            {"price_forecast_entity": "entity_not_found"},
        ),
    ],
)
async def test_price_entity_errors(
    hass: HomeAssistant,
    states: dict[str, tuple[str, dict[str, Any]]],
    answers: dict[str, str],
    errors: dict[str, str],
) -> None:
    for entity_id, (value, attributes) in states.items():
        hass.states.async_set(entity_id, value, attributes)
    result = await start(hass, "price_entity")
    assert result["step_id"] == "tariff_entity"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], answers)
    assert result["step_id"] == "tariff_entity"
    assert result["errors"] == errors


async def test_price_picker_offers_price_entities_only(hass: HomeAssistant) -> None:
    """The current-price picker lists the sensors priced in money per energy, not every sensor
    (a backup's timestamps, a temperature); with no such sensor it lists every sensor."""
    result = await start(hass, "price_entity")
    picker = next(v for m, v in result["data_schema"].schema.items() if str(m) == "price_entity")
    assert "include_entities" not in picker.config  # nothing priced yet: every sensor
    hass.states.async_set("sensor.nordpool_kwh_fi_eur", "0.18", {"unit_of_measurement": "EUR/kWh"})
    hass.states.async_set("sensor.amber_general_price", "31", {"unit_of_measurement": "c/kWh"})
    hass.states.async_set("input_number.my_price", "0.3", {"unit_of_measurement": "EUR/MWh"})
    hass.states.async_set("sensor.backup_last_attempt", "2026-03-01T00:00:00+00:00", {})
    hass.states.async_set("sensor.outdoor", "7", {"unit_of_measurement": "°C"})
    hass.states.async_set("sensor.grid_energy", "7", {"unit_of_measurement": "kWh"})
    result = await start(hass, "price_entity")
    picker = next(v for m, v in result["data_schema"].schema.items() if str(m) == "price_entity")
    assert picker.config["include_entities"] == [
        "input_number.my_price",
        "sensor.amber_general_price",
        "sensor.nordpool_kwh_fi_eur",
    ]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"price_entity": "sensor.nordpool_kwh_fi_eur"}
    )
    assert result["step_id"] == "charger"


async def test_price_entity_in_cents_with_a_forecast_entity(hass: HomeAssistant) -> None:
    """Amber-like: the price in c/kWh on one sensor, the forecast on another; in a program the
    guests' rate is asked."""
    hass.states.async_set("sensor.general_price", "unknown", {"unit_of_measurement": "c/kWh"})
    hass.states.async_set(
        "sensor.general_forecast",
        "31",
        {
            "unit_of_measurement": "c/kWh",
            "forecasts": [
                {
                    "start_time": "2026-03-02T10:00:01+10:00",
                    "end_time": "2026-03-02T10:30:00+10:00",
                    "per_kwh": 31,
                }
            ],
        },
    )
    result = await start(hass, "price_entity", in_program=True)
    assert {str(m) for m in result["data_schema"].schema} == {
        "price_entity",
        "price_forecast_entity",
        "default_price",
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "price_entity": "sensor.general_price",
            "price_forecast_entity": "sensor.general_forecast",
            "default_price": 0.4,
        },
    )
    assert result["step_id"] == "utility"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"premise_id": "NMI-1", "auth_type": "none"}
    )
    entry = await finish(hass, result["flow_id"])
    assert entry.options["tariff"] == {"type": "flat", "currency": "EUR", "price": "0.31"}
    assert entry.options["price_forecast_entity"] == "sensor.general_forecast"
    assert entry.options["default_price"] == 0.4


async def test_options_switch_price_entity_to_flat(hass: HomeAssistant) -> None:
    """A price entity left for a flat price: the entity keys go."""
    options = {**OPTIONS, "price_entity": "sensor.price", "price_forecast_entity": "sensor.f"}
    entry = make_entry(options=options)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    form = {k: v for k, v in OPTIONS.items() if k != "tariff"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**form, "tariff_kind": "flat"}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"price": 0.3})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "price_entity" not in entry.options
    assert "price_forecast_entity" not in entry.options
    assert entry.options["tariff"]["price"] == "0.3"


async def test_options_link_timing_only_with_a_link(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="P-1",
        data={**PREMISE, "utility": {"vtn_url": "https://vtn.example", "auth_type": "none"}},
        options=OPTIONS,
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    fields = {str(m) for m in result["data_schema"].schema}
    assert {"poll_minutes", "report_minutes"} <= fields
    form = {k: v for k, v in OPTIONS.items() if k != "tariff"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**form, "poll_minutes": 0, "report_minutes": 2.5}
    )
    assert result["errors"] == {
        "poll_minutes": "invalid_minutes",
        "report_minutes": "invalid_minutes",
    }


# -- vehicles without a program -------------------------------------------------------------


def no_program_entry() -> MockConfigEntry:
    entry = make_entry(vehicles=[])
    return MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id="home-abc123",
        data={"premise_name": "Home", "premise_id": "home-abc123", "in_program": False},
        options=OPTIONS,
        subentries_data=[],
    )


async def add_vehicle(hass: HomeAssistant, entry: MockConfigEntry, data: dict[str, Any]) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"), context={"source": config_entries.SOURCE_USER}
    )
    assert "pev_id" not in {str(m) for m in result["data_schema"].schema}
    return await hass.config_entries.subentries.async_configure(result["flow_id"], data)


async def test_vehicle_ids_from_the_name_and_targets(hass: HomeAssistant) -> None:
    """No ID to type: one is made from the name (unique), kept when the car is renamed; the
    target is in % only with a capacity, else in kWh (converted to % once a capacity is set)."""
    entry = no_program_entry()
    entry.add_to_hass(hass)
    result = await add_vehicle(hass, entry, {"name": "Zoé", "default_target_kwh": 20})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["pev_id"] == "zoe"
    assert result["data"]["default_target"] == 20  # kWh: no capacity
    result = await add_vehicle(
        hass, entry, {"name": "Zoe", "capacity_kwh": 50, "default_target_kwh": 20}
    )
    assert result["data"]["pev_id"] == "zoe-2"
    assert result["data"]["default_target"] == 40.0  # 20 kWh of 50 kWh
    result = await add_vehicle(hass, entry, {"name": "Van", "default_target": 80})
    assert result["errors"] == {"default_target": "target_percent_needs_capacity"}

    first = next(s for s in entry.subentries.values() if s.data["pev_id"] == "zoe")
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"),
        context={"source": config_entries.SOURCE_RECONFIGURE, "subentry_id": first.subentry_id},
    )
    # Without a capacity the stored target is shown as kWh.
    marker = next(m for m in result["data_schema"].schema if str(m) == "default_target_kwh")
    assert marker.description == {"suggested_value": 20}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Renault Zoé", "default_target_kwh": 25}
    )
    assert result["type"] is FlowResultType.ABORT
    assert entry.subentries[first.subentry_id].data["pev_id"] == "zoe"
    assert entry.subentries[first.subentry_id].data["name"] == "Renault Zoé"


async def test_vehicle_target_in_percent_or_kwh_not_both(hass: HomeAssistant) -> None:
    """A % target and kWh to add together are refused with our own text (one target is
    stored, so one would be dropped unsaid); the same form then takes either one."""
    entry = no_program_entry()
    entry.add_to_hass(hass)
    both = {"name": "Van", "capacity_kwh": 60, "default_target": 80, "default_target_kwh": 20}
    result = await add_vehicle(hass, entry, both)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"default_target_kwh": "target_one_of_two"}
    shown = {str(m): m.description for m in result["data_schema"].schema}
    assert shown["default_target"] == {"suggested_value": 80}  # what was typed stays
    assert shown["default_target_kwh"] == {"suggested_value": 20}
    assert not [s for s in entry.subentries.values() if s.subentry_type == "vehicle"]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {k: v for k, v in both.items() if k != "default_target_kwh"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["default_target"] == 80
    strings = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))
    vehicle = strings["config_subentries"]["vehicle"]
    assert "not both" in vehicle["error"]["target_one_of_two"]
    assert "battery capacity" in vehicle["step"]["user"]["data_description"]["default_target"]


async def test_demo_charger_ignores_the_device_picker(hass: HomeAssistant) -> None:
    """The charger form is one form (Home Assistant shows no field depending on another), so
    the device picker stays on it; with the demo charger a picked device is not used: no
    preset, no entities form, nothing of the device stored."""
    entry = no_program_entry()
    entry.add_to_hass(hass)
    other = MockConfigEntry(domain="ocpp", title="OCPP")
    other.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("ocpp", "CP1")}, name="CP1"
    )
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "charger"), context={"source": config_entries.SOURCE_USER}
    )
    assert result["step_id"] == "charger"
    assert "device" in {str(m) for m in result["data_schema"].schema}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"charger_name": "Garage", "charger_type": "demo", "device": device.id},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        "charger_name": "Garage",
        "charger_type": "demo",
        "meter_source": "demo",
    }


async def test_vehicle_tags_from_home_assistant(hass: HomeAssistant) -> None:
    """NFC tags are picked from Home Assistant's tags (by the name on their tag entity, as core
    shows them), or typed."""
    assert await async_setup_component(hass, "tag", {})
    tags = hass.data[TAG_DATA]
    await tags.async_create_item({"tag_id": "04A1B2C3", "name": "Blue key fob"})
    await tags.async_create_item({"tag_id": "unnamed-tag"})
    entry = no_program_entry()
    entry.add_to_hass(hass)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"), context={"source": config_entries.SOURCE_USER}
    )
    field = next(v for m, v in result["data_schema"].schema.items() if str(m) == "tags")
    assert field.config["multiple"] is True
    assert field.config["custom_value"] is True
    assert {o["value"]: o["label"] for o in field.config["options"]} == {
        "04A1B2C3": "Blue key fob",
        "unnamed-tag": "Tag unnamed-tag",  # core's default name for a tag without one
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Car", "tags": ["04A1B2C3", " typed-id "]}
    )
    assert result["data"]["tags"] == ["04A1B2C3", "typed-id"]


async def test_vehicle_tag_scanned_while_the_form_is_open(hass: HomeAssistant) -> None:
    """A tag scanned through Home Assistant's tag integration while the vehicle form is open
    is added to the vehicle (no ID typed); a scan after the flow ended is not listened to."""
    assert await async_setup_component(hass, "tag", {})
    entry = no_program_entry()
    entry.add_to_hass(hass)
    before = hass.bus.async_listeners().get("tag_scanned", 0)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"), context={"source": config_entries.SOURCE_USER}
    )
    await async_scan_tag(hass, "04-SCANNED-77", None)
    await async_scan_tag(hass, "04-SCANNED-77", None)  # twice: listed once
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Car", "tags": ["typed-id"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["tags"] == ["typed-id", "04-SCANNED-77"]
    # The tag integration registered it too (Settings > Tags shows it).
    assert "04-SCANNED-77" in {item["id"] for item in hass.data[TAG_DATA].async_items()}
    assert hass.bus.async_listeners().get("tag_scanned", 0) == before

    # A form closed without submitting stops listening too.
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"), context={"source": config_entries.SOURCE_USER}
    )
    assert hass.bus.async_listeners().get("tag_scanned", 0) == before + 1
    hass.config_entries.subentries.async_abort(result["flow_id"])
    assert hass.bus.async_listeners().get("tag_scanned", 0) == before


def state_attr(hass: HomeAssistant, entity_id: str, name: str) -> Any:
    state = hass.states.get(entity_id)
    return state.attributes.get(name) if state else None


# -- pickers leave PEV Portal out -----------------------------------------------------------


async def test_pickers_leave_out_our_devices_and_entities(
    hass: HomeAssistant, loaded_demo: MockConfigEntry
) -> None:
    other = MockConfigEntry(domain="wallbox")
    other.add_to_hass(hass)
    ours = sorted(
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), loaded_demo.entry_id)
    )
    assert "sensor.garage_session_energy" in ours
    result = await hass.config_entries.subentries.async_init(
        (loaded_demo.entry_id, "charger"), context={"source": config_entries.SOURCE_USER}
    )
    device = next(v for m, v in result["data_schema"].schema.items() if str(m) == "device")
    integrations = {f["integration"] for f in device.config["filter"]}
    assert "wallbox" in integrations
    assert DOMAIN not in integrations
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"charger_name": "Second", "charger_type": "entities"}
    )
    assert result["step_id"] == "charger_entities"
    for marker, field in result["data_schema"].schema.items():
        if str(marker) in ("meter_entity", "energy_entity", "status_entity"):
            assert set(ours) <= set(field.config["exclude_entities"]), marker

    # Our own price sensors (in EUR/kWh) are not offered as the homeowner's price source.
    priced = [e for e in ours if "/kWh" in str(state_attr(hass, e, "unit_of_measurement"))]
    assert priced
    hass.states.async_set("sensor.nordpool_kwh_fi_eur", "0.18", {"unit_of_measurement": "EUR/kWh"})
    result = await start(hass, "price_entity")
    picker = next(v for m, v in result["data_schema"].schema.items() if str(m) == "price_entity")
    assert picker.config["include_entities"] == ["sensor.nordpool_kwh_fi_eur"]


@pytest.mark.usefixtures("loaded_demo")
async def test_electrical_section_default_reaches_the_frontend(hass: HomeAssistant) -> None:
    """The frontend fills a section from the section's own default (as serialized for it):
    it holds the real values, so no field of the section is shown empty and required."""
    hass.states.async_set("sensor.wb_status", "Available")
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "charger"), context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"charger_name": "Second", "charger_type": "entities"}
    )
    fields = probatio.to_field_list(result["data_schema"], custom_serializer=cv.custom_serializer)
    (electrical,) = [f for f in fields if f["name"] == "electrical"]
    assert electrical["type"] == "expandable"
    assert electrical["expanded"] is True
    assert electrical["default"] == {
        "phases": "1",
        "voltage": 230.0,
        "max_current_a": 32.0,
        "min_current_a": 6.0,
    }
    # No min or max in any number box: out-of-range values reach the flow's own checks.
    for field in [*fields, *electrical["schema"]]:
        number = field.get("selector", {}).get("number")
        if number is not None:
            assert "min" not in number, field["name"]
            assert "max" not in number, field["name"]


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), float("-inf"), True, "5", None, 0.5, 61, 7.5]
)
def test_range_refuses(value: Any) -> None:
    """NaN, infinities, booleans, text, and numbers outside the range or not whole."""
    assert not Range(1, 60, "invalid_minutes", whole=True).accepts(value)


def test_generated_ids() -> None:
    assert re.fullmatch(r"maison-dupont-[0-9a-f]{6}", generated_id("Maison Dupont"))
    assert re.fullmatch(r"unknown-[0-9a-f]{6}", generated_id("!!!"))
    assert generated_id("Zoé", {"zoe", "zoe-2"}, suffix=False) == "zoe-3"
    assert generated_id("", set(), suffix=False) == "unknown"
    for name in ("Home", "Zoé", "!!!", "A" * 90, "-x-"):
        assert ID_PATTERN.match(generated_id(name)), name


async def test_tou_form_sections_filled(hass: HomeAssistant) -> None:
    """The season section reaches the frontend with its dates in its own default; after an
    error the season entered is shown again, open."""
    result = await start(hass, "tou")
    fields = probatio.to_field_list(result["data_schema"], custom_serializer=cv.custom_serializer)
    (season,) = [f for f in fields if f["name"] == "season"]
    assert season["default"] == {"season_start": "06-01", "season_end": "09-30"}
    assert season["expanded"] is False
    entered = {"season_start": "07-01", "season_end": "08-31", "season_peak_price": 0.6}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**TOU, "peak_days": [], "season": entered}
    )
    fields = probatio.to_field_list(result["data_schema"], custom_serializer=cv.custom_serializer)
    (season,) = [f for f in fields if f["name"] == "season"]
    assert season["default"] == entered
    assert season["expanded"] is True
