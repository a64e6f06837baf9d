"""Config, options, reconfigure and subentry flows of PEV Portal."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.const import DOMAIN
from tests.components.conftest import OPTIONS, PREMISE, make_entry

# In a utility program (the premise ID typed on the utility step), with a flat price.
USER_INPUT: dict[str, Any] = {"premise_name": "Home", "in_program": True, "tariff_kind": "flat"}
TARIFF_INPUT: dict[str, Any] = {"price": 0.25, "default_price": 0.35}
UTILITY_INPUT: dict[str, Any] = {"premise_id": "SDP-0042", "auth_type": "none"}
BAD_TIME_TOU: dict[str, Any] = {
    "type": "tou",
    "currency": "EUR",
    "timezone": "UTC",
    "default_period": "off_peak",
    "seasons": [
        {
            "name": "all",
            "start": "01-01",
            "end": "12-31",
            "periods": [
                {
                    "period": "off_peak",
                    "days": ["weekday", "weekend", "holiday"],
                    "start": "25:00",
                    "end": "24:00",
                    "price": "0.20",
                }
            ],
        }
    ],
}
# A charger integration's entities, as the states set up by ``charger_states``.
ENTITIES: dict[str, str] = {
    "status_entity": "sensor.wb_status",
    "switch_entity": "switch.wb_charging",
    "current_entity": "number.wb_current",
    "power_entity": "sensor.wb_power",
    "energy_entity": "sensor.wb_energy",
    "vehicle_id_entity": "sensor.wb_vehicle_id",
}
METER = "sensor.house_meter_energy"
METER_CHOICE = {"meter_source": "sensor", "meter_entity": METER}
# The electrical section's defaults with the fixtures' current entity (6-32 A).
ELECTRICAL = {"phases": 1, "voltage": 230.0, "max_current_a": 32.0, "min_current_a": 6.0}


@pytest.fixture
def charger_states(hass: HomeAssistant) -> None:
    """Fake entities of a charger integration and a meter."""
    energy = {"device_class": "energy", "unit_of_measurement": "kWh"}
    hass.states.async_set("sensor.wb_status", "Available")
    hass.states.async_set("sensor.wb_odd_status", "banana")
    hass.states.async_set("switch.wb_charging", "on")
    hass.states.async_set("button.wb_start", "unknown")
    hass.states.async_set("button.wb_stop", "unknown")
    hass.states.async_set("number.wb_current", "16", {"min": 6, "max": 32})
    hass.states.async_set(
        "sensor.wb_power", "0", {"device_class": "power", "unit_of_measurement": "W"}
    )
    hass.states.async_set(
        "sensor.wb_current_draw", "0", {"device_class": "current", "unit_of_measurement": "A"}
    )
    hass.states.async_set("sensor.wb_energy", "100.5", energy)
    hass.states.async_set("sensor.wb_vehicle_id", "unknown")
    hass.states.async_set(METER, "5321.25", energy)


def suggested_values(result: Mapping[str, Any]) -> dict[str, Any]:
    """The suggested value of every field of a form (None where there is none)."""
    schema = result["data_schema"]
    assert schema is not None
    return {
        str(marker): (getattr(marker, "description", None) or {}).get("suggested_value")
        for marker in schema.schema
    }


def defaults(result: Mapping[str, Any]) -> dict[str, Any]:
    """The default of every field of a form that has one."""
    schema = result["data_schema"]
    assert schema is not None
    found: dict[str, Any] = {}
    for marker in schema.schema:
        default = getattr(marker, "default", None)
        if callable(default):
            value = default()
            if value is not None and type(value).__name__ != "Undefined":
                found[str(marker)] = value
    return found


async def start_flow(hass: HomeAssistant) -> str:
    """Start the config flow; return its ID (at the user step)."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result["flow_id"]


async def skip_utility(hass: HomeAssistant, flow_id: str) -> ConfigFlowResult:
    """Pass the utility step without a utility link (the URL left empty)."""
    return await hass.config_entries.flow.async_configure(flow_id, UTILITY_INPUT)


async def skip_reconfigure_utility(hass: HomeAssistant, flow_id: str) -> ConfigFlowResult:
    """Pass the reconfigure_utility step without a utility link."""
    return await hass.config_entries.flow.async_configure(flow_id, {"auth_type": "none"})


async def flow_at_charger(hass: HomeAssistant) -> str:
    """A config flow through the premise, tariff and utility steps, at the charger step."""
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, USER_INPUT)
    assert result["step_id"] == "tariff_flat"
    result = await hass.config_entries.flow.async_configure(flow_id, TARIFF_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "utility"
    result = await skip_utility(hass, result["flow_id"])
    assert result["step_id"] == "charger"
    return flow_id


async def flow_at_entities(hass: HomeAssistant) -> str:
    """A config flow at the charger_entities step (no device chosen)."""
    flow_id = await flow_at_charger(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "Wallbox", "charger_type": "entities"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "charger_entities"
    assert result["description_placeholders"] == {"status": "", "preset": ""}
    return flow_id


# -- the user flow --------------------------------------------------------------------------


async def test_user_flow_demo_charger(hass: HomeAssistant) -> None:
    """In a program: premise, flat price, utility step (premise ID, metering) and the demo
    charger make an entry that sets up."""
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, USER_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tariff_flat"
    assert result["errors"] == {}
    # In a program the guests' rate is asked.
    assert {str(m) for m in result["data_schema"].schema} == {"price", "default_price"}

    result = await hass.config_entries.flow.async_configure(flow_id, TARIFF_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "utility"
    assert section_defaults(result, "advanced") == {
        "allow_http": False,
        "default_binding": "enrolled",
        "default_opt": "optIn",
        "interval_minutes": 15,
        "protocol": "oadr3",
        "validation_window": 60,
    }
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            "premise_id": "  SDP-0042 ",
            "auth_type": "none",
            "advanced": {"interval_minutes": 30.0, "validation_window": 60},
        },
    )
    assert result["step_id"] == "charger"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "Garage", "charger_type": "demo"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Home"
    assert result["data"] == {"premise_name": "Home", "premise_id": "SDP-0042", "in_program": True}
    assert result["options"] == {
        "interval_minutes": 30,
        "validation_window": 60,
        "tariff": {"type": "flat", "currency": "EUR", "price": "0.25"},
        "default_price": 0.35,
    }
    assert type(result["options"]["interval_minutes"]) is int

    entry = result["result"]
    assert entry.unique_id == "SDP-0042"
    assert entry.state is ConfigEntryState.LOADED
    chargers = [s for s in entry.subentries.values() if s.subentry_type == "charger"]
    assert len(chargers) == 1
    assert chargers[0].title == "Garage"
    assert dict(chargers[0].data) == {
        "charger_name": "Garage",
        "charger_type": "demo",
        "meter_source": "demo",
    }
    assert entry.runtime_data.interval_minutes == 30
    assert hass.states.get("sensor.garage_session_state") is not None
    assert hass.states.get("switch.garage_demo_car_plugged_in") is not None


async def test_no_program_flat_price(hass: HomeAssistant) -> None:
    """Without a program: no premise ID to type (one is made from the name), no utility step,
    the guests' rate is the price."""
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"premise_name": "Maison Dupont", "in_program": False, "tariff_kind": "flat"}
    )
    assert result["step_id"] == "tariff_flat"
    assert {str(m) for m in result["data_schema"].schema} == {"price"}
    result = await hass.config_entries.flow.async_configure(flow_id, {"price": 0.2516})
    assert result["step_id"] == "charger"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "Garage", "charger_type": "demo"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    premise_id = entry.data["premise_id"]
    assert re.fullmatch(r"maison-dupont-[0-9a-f]{6}", premise_id), premise_id
    assert entry.unique_id == premise_id
    assert entry.data["in_program"] is False
    assert "utility" not in entry.data
    assert dict(entry.options) == {
        "interval_minutes": 15,
        "validation_window": 60,
        "tariff": {"type": "flat", "currency": "EUR", "price": "0.2516"},
        "default_price": 0.2516,
    }
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.usefixtures("charger_states")
async def test_user_flow_entity_charger(hass: HomeAssistant) -> None:
    """A charger mapped to another integration's entities, metered by a meter sensor: the
    charger form, then one form with the mapping, the meter and the wiring."""
    flow_id = await flow_at_charger(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "Wallbox", "charger_type": "entities"}
    )
    assert result["step_id"] == "charger_entities"
    assert result["errors"] == {}
    # No device picked: no preset note.
    assert result["description_placeholders"] == {"status": "", "preset": ""}
    assert set(suggested_values(result).values()) == {None}
    assert defaults(result)["meter_source"] == "sensor"

    result = await hass.config_entries.flow.async_configure(flow_id, {**ENTITIES, **METER_CHOICE})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    (charger,) = entry.subentries.values()
    assert charger.subentry_type == "charger"
    assert charger.title == "Wallbox"
    assert dict(charger.data) == {
        "charger_name": "Wallbox",
        "charger_type": "entities",
        **ENTITIES,
        **ELECTRICAL,
        "meter_source": "sensor",
        "meter_entity": METER,
    }
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.wallbox_session_state") is not None


# -- errors on every form -------------------------------------------------------------------


async def test_user_step_errors(hass: HomeAssistant) -> None:
    """An empty name shows the form again with the error and what was entered."""
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**USER_INPUT, "premise_name": "  "}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"premise_name": "empty_name"}
    assert defaults(result) == {**USER_INPUT, "premise_name": "  "}

    result = await hass.config_entries.flow.async_configure(flow_id, USER_INPUT)
    assert result["step_id"] == "tariff_flat"


async def flow_at_utility(hass: HomeAssistant) -> str:
    flow_id = await start_flow(hass)
    await hass.config_entries.flow.async_configure(flow_id, USER_INPUT)
    result = await hass.config_entries.flow.async_configure(flow_id, TARIFF_INPUT)
    assert result["step_id"] == "utility"
    return flow_id


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"premise_id": "bad id!"}, {"premise_id": "invalid_id"}),
        ({"premise_id": "-starts-with-dash"}, {"premise_id": "invalid_id"}),
        ({"premise_id": "x" * 65}, {"premise_id": "invalid_id"}),
        ({"advanced": {"interval_minutes": 7.5}}, {"advanced": "invalid_interval"}),
        ({"advanced": {"interval_minutes": 0}}, {"advanced": "invalid_interval"}),
        ({"advanced": {"interval_minutes": 61}}, {"advanced": "invalid_interval"}),
        ({"advanced": {"validation_window": 5}}, {"advanced": "invalid_window"}),
        ({"advanced": {"validation_window": 601}}, {"advanced": "invalid_window"}),
        (
            {"premise_id": "", "advanced": {"interval_minutes": 2.5}},
            {"premise_id": "invalid_id", "advanced": "invalid_interval"},
        ),
    ],
)
async def test_utility_step_premise_errors(
    hass: HomeAssistant, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    """The premise ID and the metering settings are checked by the flow, with its own texts
    (no out-of-range value is refused by Home Assistant's generic number check first)."""
    flow_id = await flow_at_utility(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {**UTILITY_INPUT, **changes})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "utility"
    assert result["errors"] == errors
    # The form keeps what was entered.
    assert defaults(result)["premise_id"] == {**UTILITY_INPUT, **changes}["premise_id"]
    shown = defaults(result)["advanced"]
    for key, value in changes.get("advanced", {}).items():
        assert shown[key] == value

    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {**UTILITY_INPUT, "advanced": {"interval_minutes": 15, "validation_window": 60}},
    )
    assert result["step_id"] == "charger"


async def test_utility_step_bounds_accepted(hass: HomeAssistant) -> None:
    """The limits themselves are valid: 60 minutes, a 600 s window; 1 minute, 10 s."""
    for premise_id, interval, window in (("SDP-1", 60, 600), ("SDP-2", 1, 10)):
        flow_id = await flow_at_utility(hass)
        result = await hass.config_entries.flow.async_configure(
            flow_id,
            {
                **UTILITY_INPUT,
                "premise_id": premise_id,
                "advanced": {"interval_minutes": interval, "validation_window": window},
            },
        )
        assert result["step_id"] == "charger"


async def test_user_step_already_configured(hass: HomeAssistant) -> None:
    """A premise ID that is already set up aborts."""
    make_entry().add_to_hass(hass)
    flow_id = await flow_at_utility(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**UTILITY_INPUT, "premise_id": f" {PREMISE['premise_id']} "}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def flow_at_yaml(hass: HomeAssistant) -> str:
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**USER_INPUT, "tariff_kind": "yaml"}
    )
    assert result["step_id"] == "tariff_yaml"
    assert defaults(result)["tariff_yaml"] == "type: flat\ncurrency: EUR\nprice: '0.30'\n"
    assert result["description_placeholders"] == {"error": ""}
    return flow_id


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("type: flat\ncurrency: EUR\nprice: abc\n", "invalid_tariff", "'abc' is not a price"),
        (
            json.dumps(BAD_TIME_TOU),
            "invalid_tariff",
            "seasons[0].periods[0].start: '25:00' is not a time",
        ),
        ("type: nonsense", "invalid_tariff", "type"),
        ("price: 0.30", "invalid_tariff", "type: this field is required"),
        ("- flat", "invalid_tariff", "the tariff must be a mapping"),
        ("type: flat\n  price: [0.30,", "invalid_yaml", "line 2"),
        ("type: flat\ncurrency: EUR\nprice: '0.30'\n\tbad: tab", "invalid_yaml", "line"),
    ],
)
async def test_tariff_yaml_errors(hass: HomeAssistant, text: str, error: str, message: str) -> None:
    """A YAML syntax error and an invalid tariff are our own errors on the field (the parser's
    message once, in the error); the text entered is kept; a valid tariff proceeds."""
    flow_id = await flow_at_yaml(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"tariff_yaml": text, "default_price": 0.3}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tariff_yaml"
    assert result["errors"] == {"tariff_yaml": error}
    assert message in result["description_placeholders"]["error"]
    assert defaults(result)["tariff_yaml"] == text

    tou = (
        "type: tou\ncurrency: EUR\ntimezone: Europe/Berlin\nholidays: [2026-12-25]\n"
        "default_price: '0.20'\nseasons:\n  - name: all\n    start: '01-01'\n    end: '12-31'\n"
        "    periods:\n      - {period: on_peak, days: [weekday], start: 16:00, end: '21:00', "
        "price: '0.40'}\n"
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"tariff_yaml": tou, "default_price": 0.3}
    )
    assert result["step_id"] == "utility"
    result = await skip_utility(hass, flow_id)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "Garage", "charger_type": "demo"}
    )
    await hass.async_block_till_done()
    tariff = result["result"].options["tariff"]
    # Stored as JSON types: an unquoted date as its text, 16:00 (base 60 in YAML 1.1) as read.
    assert tariff["holidays"] == ["2026-12-25"]
    assert tariff["seasons"][0]["periods"][0]["start"] == 960
    assert result["result"].state is ConfigEntryState.LOADED


async def test_tariff_step_negative_price(hass: HomeAssistant) -> None:
    """A negative price or default rate is our own error on its field; 0 is fine."""
    flow_id = await start_flow(hass)
    await hass.config_entries.flow.async_configure(flow_id, USER_INPUT)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"price": -0.1, "default_price": -0.1}
    )
    assert result["errors"] == {"price": "invalid_price", "default_price": "invalid_price"}
    assert suggested_values(result)["price"] == -0.1

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"price": 0, "default_price": 0}
    )
    assert result["step_id"] == "utility"
    result = await skip_utility(hass, result["flow_id"])
    assert result["step_id"] == "charger"


async def test_charger_step_empty_name(hass: HomeAssistant) -> None:
    """The charger needs a name."""
    flow_id = await flow_at_charger(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": " ", "charger_type": "demo"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "charger"
    assert result["errors"] == {"charger_name": "empty_name"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "Garage", "charger_type": "demo"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("charger_states")
@pytest.mark.parametrize(
    ("changes", "errors", "status"),
    [
        pytest.param(
            {"status_entity": "sensor.no_such_status"},
            {"status_entity": "entity_not_found"},
            "",
            id="status-missing",
        ),
        pytest.param(
            {"status_entity": "sensor.wb_odd_status"},
            {"status_entity": "unknown_status"},
            "banana",
            id="status-unknown-state",
        ),
        pytest.param(
            {"switch_entity": None, "start_button": "button.wb_start"},
            {"base": "buttons_in_pairs"},
            "",
            id="start-without-stop",
        ),
        pytest.param(
            {"switch_entity": None, "stop_button": "button.wb_stop"},
            {"base": "buttons_in_pairs"},
            "",
            id="stop-without-start",
        ),
        pytest.param(
            {"start_button": "button.wb_start", "stop_button": "button.wb_stop"},
            {"base": "switch_or_buttons"},
            "",
            id="switch-and-buttons",
        ),
        pytest.param(
            {"power_entity": "sensor.wb_energy"},
            {"power_entity": "not_power_sensor"},
            "",
            id="power-in-kwh",
        ),
        pytest.param(
            {"power_entity": "sensor.wb_current_draw"},
            {"power_entity": "not_power_sensor"},
            "",
            id="power-in-amperes",
        ),
        pytest.param(
            {"power_entity": "sensor.no_such_power"},
            {"power_entity": "entity_not_found"},
            "",
            id="power-missing",
        ),
        pytest.param(
            {"energy_entity": "sensor.wb_power"},
            {"energy_entity": "not_energy_sensor"},
            "",
            id="energy-not-energy",
        ),
        pytest.param(
            {"switch_entity": "switch.no_such_switch"},
            {"switch_entity": "entity_not_found"},
            "",
            id="switch-missing",
        ),
        pytest.param(
            {"current_entity": "number.no_such_number"},
            {"current_entity": "entity_not_found"},
            "",
            id="current-missing",
        ),
    ],
)
async def test_charger_entities_errors(
    hass: HomeAssistant, changes: dict[str, str | None], errors: dict[str, str], status: str
) -> None:
    """Each mapping mistake is reported on its field; the corrected mapping proceeds."""
    flow_id = await flow_at_entities(hass)
    bad = {k: v for k, v in {**ENTITIES, **changes}.items() if v is not None}
    result = await hass.config_entries.flow.async_configure(flow_id, {**bad, **METER_CHOICE})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "charger_entities"
    assert result["errors"] == errors
    assert result["description_placeholders"] == {"status": status, "preset": ""}
    # The form keeps the mapping that was entered.
    assert {k: v for k, v in suggested_values(result).items() if v} == {
        **bad,
        "meter_entity": METER,
    }

    result = await hass.config_entries.flow.async_configure(flow_id, {**ENTITIES, **METER_CHOICE})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("charger_states")
async def test_charger_entities_schema(hass: HomeAssistant) -> None:
    """The status entity is required by the form; unavailable states are accepted."""
    flow_id = await flow_at_entities(hass)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.flow.async_configure(
            flow_id, {"switch_entity": "switch.wb_charging"}
        )
    assert set(err.value.schema_errors) == {"status_entity"}

    hass.states.async_set("sensor.wb_status", "unavailable")
    hass.states.async_set("sensor.wb_power", "unavailable", {"unit_of_measurement": "kW"})
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            "status_entity": "sensor.wb_status",
            "start_button": "button.wb_start",
            "stop_button": "button.wb_stop",
            "power_entity": "sensor.wb_power",
            **METER_CHOICE,
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


def section_defaults(result: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The defaults of a form section's fields."""
    schema = result["data_schema"]
    assert schema is not None
    (marker,) = [m for m in schema.schema if str(m) == name]
    return defaults({"data_schema": schema.schema[marker].schema})


@pytest.mark.usefixtures("charger_states")
async def test_three_phase_charger(hass: HomeAssistant) -> None:
    """The electrical section: a three-phase 16 A charger is stored as such, and its caps are
    converted to amperes on three phases (a 3.7 kW cap: 5 A, below its 6 A minimum)."""
    hass.config.country = "DE"
    flow_id = await flow_at_charger(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "Wallbox", "charger_type": "entities"}
    )
    # 1 phase, 230 V, 6-32 A: every field filled and valid, in the section's own default (the
    # frontend shows that one, not the fields' defaults).
    assert section_defaults(result, "electrical") == {**ELECTRICAL, "phases": "1"}
    assert defaults(result)["electrical"] == {**ELECTRICAL, "phases": "1"}

    electrical = {"phases": "3", "voltage": 230, "max_current_a": 16, "min_current_a": 6}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**ENTITIES, **METER_CHOICE, "electrical": electrical}
    )
    await hass.async_block_till_done()
    entry = result["result"]
    (charger,) = entry.subentries.values()
    assert {k: charger.data[k] for k in ELECTRICAL} == {
        "phases": 3,
        "voltage": 230.0,
        "max_current_a": 16.0,
        "min_current_a": 6.0,
    }
    adapter = entry.runtime_data.chargers[charger.subentry_id].adapter
    assert adapter.max_power_kw() == pytest.approx(11.04)
    assert adapter.min_power_kw() == pytest.approx(4.14)
    assert adapter.amps_for(3.7) == 5
    assert adapter.amps_for(11.0) == 15

    # Reconfiguring suggests what is stored.
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "charger"),
        context={"source": config_entries.SOURCE_RECONFIGURE, "subentry_id": charger.subentry_id},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"charger_name": "Wallbox", "charger_type": "entities"}
    )
    assert result["step_id"] == "charger_entities"
    assert defaults(result)["electrical"] == {
        "phases": "3",
        "voltage": 230.0,
        "max_current_a": 16.0,
        "min_current_a": 6.0,
    }
    assert section_defaults(result, "electrical") == {
        "phases": "3",
        "voltage": 230.0,
        "max_current_a": 16.0,
        "min_current_a": 6.0,
    }


@pytest.mark.usefixtures("charger_states")
async def test_electrical_defaults_by_country_and_errors(hass: HomeAssistant) -> None:
    """North America: 240 V by default; a minimum above the maximum is refused on the form."""
    hass.config.country = "US"
    flow_id = await flow_at_charger(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "Wallbox", "charger_type": "entities"}
    )
    assert section_defaults(result, "electrical") == {
        "phases": "1",
        "voltage": 240.0,
        "max_current_a": 32.0,
        "min_current_a": 6.0,
    }
    bad = {"phases": "1", "voltage": 240, "max_current_a": 10, "min_current_a": 12}
    for wrong, error in (
        ({"voltage": 50}, "invalid_voltage"),
        ({"voltage": 500}, "invalid_voltage"),
        ({"max_current_a": 0.5}, "invalid_current"),
        ({"min_current_a": 81}, "invalid_current"),
    ):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {**ENTITIES, **METER_CHOICE, "electrical": {**bad, **wrong}}
        )
        # Our own text, on the section where the field is (not Home Assistant's "too small").
        assert result["errors"] == {"electrical": error}, wrong
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**ENTITIES, **METER_CHOICE, "electrical": bad}
    )
    assert result["step_id"] == "charger_entities"
    assert result["errors"] == {"base": "min_above_max_current"}
    # The form keeps what was entered.
    assert section_defaults(result, "electrical") == {
        "phases": "1",
        "voltage": 240.0,
        "max_current_a": 10.0,
        "min_current_a": 12.0,
    }
    good = {**bad, "max_current_a": 40, "min_current_a": 6}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**ENTITIES, **METER_CHOICE, "electrical": good}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("charger_states")
@pytest.mark.parametrize(
    ("entities", "meter", "errors", "fixed"),
    [
        pytest.param(
            {"status_entity": "sensor.wb_status"},
            {"meter_source": "charger"},
            {"meter_source": "no_charger_energy"},
            {"meter_source": "sensor", "meter_entity": METER},
            id="no-charger-energy",
        ),
        pytest.param(
            ENTITIES,
            {"meter_source": "sensor"},
            {"meter_entity": "meter_required"},
            {"meter_source": "charger"},
            id="meter-required",
        ),
        pytest.param(
            ENTITIES,
            {"meter_source": "sensor", "meter_entity": "sensor.wb_power"},
            {"meter_entity": "not_energy_sensor"},
            {"meter_source": "sensor", "meter_entity": METER},
            id="meter-not-energy",
        ),
        pytest.param(
            ENTITIES,
            {"meter_source": "sensor", "meter_entity": "sensor.no_such_meter"},
            {"meter_entity": "not_energy_sensor"},
            {"meter_source": "sensor", "meter_entity": METER},
            id="meter-missing",
        ),
    ],
)
async def test_meter_errors(
    hass: HomeAssistant,
    entities: dict[str, str],
    meter: dict[str, str],
    errors: dict[str, str],
    fixed: dict[str, str],
) -> None:
    """Each meter mistake is reported; the corrected choice creates the entry."""
    flow_id = await flow_at_entities(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {**entities, **meter})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "charger_entities"
    assert result["errors"] == errors

    result = await hass.config_entries.flow.async_configure(flow_id, {**entities, **fixed})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (charger,) = result["result"].subentries.values()
    assert charger.data["meter_source"] == fixed["meter_source"]
    assert charger.data.get("meter_entity") == fixed.get("meter_entity")


@pytest.mark.usefixtures("charger_states")
async def test_meter_charger_source(hass: HomeAssistant) -> None:
    """The charger's own energy sensor as the meter: no meter entity is stored."""
    flow_id = await flow_at_entities(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**ENTITIES, "meter_source": "charger", "meter_entity": METER}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (charger,) = result["result"].subentries.values()
    assert charger.data["meter_source"] == "charger"
    assert "meter_entity" not in charger.data


# -- presets --------------------------------------------------------------------------------


async def test_ocpp_preset(hass: HomeAssistant) -> None:
    """Choosing an OCPP charger's device fills in its entities as suggestions."""
    ocpp_entry = MockConfigEntry(domain="ocpp")
    ocpp_entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=ocpp_entry.entry_id, identifiers={("ocpp", "cp1")}, name="CP1"
    )
    ent_reg = er.async_get(hass)
    states: dict[str, tuple[str, dict[str, Any]]] = {
        "sensor.cp1_status_connector": ("Available", {}),
        "switch.cp1_charge_control": ("off", {}),
        "number.cp1_maximum_current": ("32", {"max": 32}),
        "sensor.cp1_power_active_import": ("0", {"unit_of_measurement": "W"}),
        "sensor.cp1_energy_active_import_register": (
            "1234.5",
            {"device_class": "energy", "unit_of_measurement": "kWh"},
        ),
        "sensor.cp1_id_tag": ("unknown", {}),
        # Not a role of the preset: ignored.
        "sensor.cp1_heartbeat": ("ok", {}),
    }
    for entity_id, (state, attributes) in states.items():
        domain, object_id = entity_id.split(".")
        registered = ent_reg.async_get_or_create(
            domain,
            "ocpp",
            object_id,
            suggested_object_id=object_id,
            config_entry=ocpp_entry,
            device_id=device.id,
        )
        assert registered.entity_id == entity_id
        hass.states.async_set(entity_id, state, attributes)

    flow_id = await flow_at_charger(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "CP1", "charger_type": "entities", "device": device.id}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "charger_entities"
    assert result["description_placeholders"] == {
        "status": "",
        "preset": "Filled in for OCPP chargers: check each field.",
    }
    expected = {
        "status_entity": "sensor.cp1_status_connector",
        "switch_entity": "switch.cp1_charge_control",
        "current_entity": "number.cp1_maximum_current",
        "power_entity": "sensor.cp1_power_active_import",
        "energy_entity": "sensor.cp1_energy_active_import_register",
        "vehicle_id_entity": "sensor.cp1_id_tag",
    }
    assert suggested_values(result) == {
        **expected,
        "start_button": None,
        "stop_button": None,
        # The transaction registers: none on this device (test_config_flow_transaction.py).
        "meter_start_entity": None,
        "session_energy_entity": None,
        "transaction_entity": None,
        # Power feed: a bidirectional charger's discharge number and discharged energy.
        "discharge_entity": None,
        "discharged_energy_entity": None,
        "meter_source": None,  # has a default
        "meter_entity": None,
        "electrical": None,  # a section: its fields have defaults
    }
    # A charger energy sensor was found: it is the suggested meter.
    assert defaults(result)["meter_source"] == "charger"

    # Accept the suggestions; the charger's own register is the meter.
    result = await hass.config_entries.flow.async_configure(flow_id, expected)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (charger,) = result["result"].subentries.values()
    assert dict(charger.data) == {
        "charger_name": "CP1",
        "charger_type": "entities",
        "preset": "ocpp",
        "ocpp_devid": "cp1",  # for the ocpp.set_charge_rate service
        **expected,
        **ELECTRICAL,
        "meter_source": "charger",
    }


@pytest.mark.usefixtures("charger_states")
async def test_device_without_preset(hass: HomeAssistant) -> None:
    """A device of an integration without a preset suggests nothing."""
    other_entry = MockConfigEntry(domain="other_charger")
    other_entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other_entry.entry_id, identifiers={("other_charger", "x")}
    )
    er.async_get(hass).async_get_or_create(
        "sensor", "other_charger", "x_status", config_entry=other_entry, device_id=device.id
    )
    flow_id = await flow_at_charger(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "X", "charger_type": "entities", "device": device.id}
    )
    assert result["step_id"] == "charger_entities"
    assert result["description_placeholders"]["preset"] == ""
    assert set(suggested_values(result).values()) == {None}


# -- options --------------------------------------------------------------------------------


async def test_options_flow(hass: HomeAssistant, loaded_demo: MockConfigEntry) -> None:
    """Errors first (our own texts for ranges), then a new flat price through its own form;
    the entry reloads with the new options."""
    assert loaded_demo.runtime_data.interval_minutes == 15
    result = await hass.config_entries.options.async_init(loaded_demo.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert result["errors"] == {}
    # Planned starts spread by up to 10 minutes; no notify target, every kind of
    # notification; no solar forecast, a 0.5 kW base load. Without a utility link there is no
    # polling interval or reporting period to set.
    assert defaults(result) == {
        "tariff_kind": "keep",
        "default_price": 0.40,
        "interval_minutes": 15,
        "validation_window": 60,
        "start_delay_minutes": 10,
        "solar_base_load_kw": 0.5,
        "notify_kinds": [
            "plugged_not_bound",
            "target_unreachable",
            "event_starting",
            "charger_ignoring",
        ],
    }
    assert "poll_minutes" not in suggested_values(result)
    assert "report_minutes" not in suggested_values(result)
    assert suggested_values(result)["notify_target"] is None
    assert suggested_values(result)["solar_forecast_entry"] is None
    form = {
        **{k: v for k, v in OPTIONS.items() if k != "tariff"},
        "start_delay_minutes": 10,
        "solar_base_load_kw": 0.5,
    }

    for changes, errors in (
        ({"interval_minutes": 7.5}, {"interval_minutes": "invalid_interval"}),
        ({"interval_minutes": 0}, {"interval_minutes": "invalid_interval"}),
        ({"validation_window": 5}, {"validation_window": "invalid_window"}),
        ({"default_price": -1}, {"default_price": "invalid_price"}),
        ({"start_delay_minutes": 61}, {"start_delay_minutes": "invalid_start_delay"}),
        ({"solar_base_load_kw": -0.5}, {"solar_base_load_kw": "invalid_base_load"}),
    ):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**form, **changes}
        )
        assert result["type"] is FlowResultType.FORM, changes
        assert result["errors"] == errors, changes

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **form,
            "tariff_kind": "flat",
            "default_price": 0.5,
            "interval_minutes": 5.0,
            "validation_window": 120,
        },
    )
    assert result["step_id"] == "tariff_flat"
    # The default rate is on the first form: not asked again.
    assert {str(m) for m in result["data_schema"].schema} == {"price"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"price": 0.12})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert dict(loaded_demo.options) == {
        "tariff": {"type": "flat", "currency": "EUR", "price": "0.12"},
        "default_price": 0.5,
        "interval_minutes": 5,
        "validation_window": 120,
        "start_delay_minutes": 10,
        "solar_base_load_kw": 0.5,
        "notify_kinds": [
            "plugged_not_bound",
            "target_unreachable",
            "event_starting",
            "charger_ignoring",
        ],
    }
    assert type(loaded_demo.options["interval_minutes"]) is int
    assert loaded_demo.state is ConfigEntryState.LOADED
    coordinator = loaded_demo.runtime_data
    assert coordinator.interval_minutes == 5
    assert coordinator.validation_window == 120
    assert str(coordinator.default_tariff.to_dict()["price"]) in ("0.5", "0.50")


async def test_options_keep_tariff_and_yaml(
    hass: HomeAssistant, loaded_demo: MockConfigEntry
) -> None:
    """ "Keep" leaves the tariff alone; the YAML form starts from the current tariff and keeps
    the user's text on every error."""
    form = {k: v for k, v in OPTIONS.items() if k != "tariff"}
    result = await hass.config_entries.options.async_init(loaded_demo.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**form, "default_price": 0.45}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_demo.options["tariff"] == OPTIONS["tariff"]
    assert loaded_demo.options["default_price"] == 0.45

    result = await hass.config_entries.options.async_init(loaded_demo.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**form, "tariff_kind": "yaml"}
    )
    assert result["step_id"] == "tariff_yaml"
    assert defaults(result)["tariff_yaml"] == "type: flat\ncurrency: EUR\nprice: '0.20'\n"
    for text in ("type: flat\ncurrency: EUR\nprice: [", "type: flat\ncurrency: EUR\nprice: x"):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"tariff_yaml": text}
        )
        assert result["step_id"] == "tariff_yaml"
        assert defaults(result)["tariff_yaml"] == text
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"tariff_yaml": "type: flat\ncurrency: EUR\nprice: '0.33'"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_demo.options["tariff"] == {"type": "flat", "currency": "EUR", "price": "0.33"}
    assert loaded_demo.options["default_price"] == OPTIONS["default_price"]


async def test_options_circuit_limit(hass: HomeAssistant, loaded_demo: MockConfigEntry) -> None:
    """The optional circuit limit: whole amps from 6; kept as an int; empty removes it."""
    form = {k: v for k, v in OPTIONS.items() if k != "tariff"}
    result = await hass.config_entries.options.async_init(loaded_demo.entry_id)
    assert "circuit_limit_a" not in defaults(result)  # optional, no default
    for bad in (4, 32.5, 2000, -1):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**form, "circuit_limit_a": bad}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"circuit_limit_a": "invalid_circuit_limit"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**form, "circuit_limit_a": 32.0}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_demo.options["circuit_limit_a"] == 32
    assert type(loaded_demo.options["circuit_limit_a"]) is int
    assert loaded_demo.state is ConfigEntryState.LOADED
    # The demo charger is three-phase at 230 V: 32 A per phase is 22.08 kW for all chargers.
    assert loaded_demo.runtime_data.smart.circuit_kw() == pytest.approx(22.08)

    result = await hass.config_entries.options.async_init(loaded_demo.entry_id)
    schema = result["data_schema"]
    assert schema is not None
    marker = next(m for m in schema.schema if str(m) == "circuit_limit_a")
    assert marker.description == {"suggested_value": 32}
    result = await hass.config_entries.options.async_configure(result["flow_id"], form)
    await hass.async_block_till_done()
    assert "circuit_limit_a" not in loaded_demo.options
    assert loaded_demo.runtime_data.smart.circuit_kw() is None


# -- reconfigure the premise ----------------------------------------------------------------


async def test_reconfigure_premise(hass: HomeAssistant, loaded_demo: MockConfigEntry) -> None:
    """The premise's name and ID change; an invalid ID is refused first."""
    result = await loaded_demo.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert defaults(result) == PREMISE

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"premise_name": "", "premise_id": "bad id!"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"premise_name": "empty_name", "premise_id": "invalid_id"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"premise_name": "Cottage", "premise_id": " SDP-9 "}
    )
    assert result["step_id"] == "reconfigure_utility"
    result = await skip_reconfigure_utility(hass, result["flow_id"])
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert loaded_demo.title == "Cottage"
    assert loaded_demo.unique_id == "SDP-9"
    assert dict(loaded_demo.data) == {"premise_name": "Cottage", "premise_id": "SDP-9"}
    assert dict(loaded_demo.options) == OPTIONS
    assert loaded_demo.state is ConfigEntryState.LOADED
    assert loaded_demo.runtime_data.premise_id == "SDP-9"


async def test_reconfigure_keeps_own_id(hass: HomeAssistant) -> None:
    """Renaming only (the same premise ID) is allowed."""
    entry = make_entry()
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"premise_name": "Renamed", "premise_id": PREMISE["premise_id"]}
    )
    result = await skip_reconfigure_utility(hass, result["flow_id"])
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.title == "Renamed"
    assert entry.unique_id == PREMISE["premise_id"]


async def test_reconfigure_to_other_premise_id(hass: HomeAssistant) -> None:
    """Taking another entry's premise ID aborts and changes nothing."""
    entry = make_entry()
    entry.add_to_hass(hass)
    other = MockConfigEntry(
        domain=DOMAIN,
        title="Other",
        unique_id="OTHER-1",
        data={"premise_name": "Other", "premise_id": "OTHER-1"},
        options=OPTIONS,
    )
    other.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"premise_name": "Test home", "premise_id": "OTHER-1"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.unique_id == PREMISE["premise_id"]
    assert dict(entry.data) == PREMISE


# -- vehicles -------------------------------------------------------------------------------

VEHICLE: dict[str, Any] = {
    "pev_id": "PEV-NEW-7",
    "name": "Second car",
    "relation": "home",
    "capacity_kwh": 77,
    "default_target": 80,
    "tags": ["a", "b"],
    "default_vehicle": True,
}


async def test_add_vehicle(hass: HomeAssistant) -> None:
    """Errors first, then the vehicle is added with its tags split."""
    entry = make_entry()
    entry.add_to_hass(hass)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"), context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    flow_id = result["flow_id"]

    for changes, errors in (
        ({"pev_id": "bad id!"}, {"pev_id": "invalid_id"}),
        ({"pev_id": " PEV-DEMO-0001 "}, {"pev_id": "already_registered"}),
        ({"name": "  "}, {"name": "empty_name"}),
        ({"pev_id": "", "name": ""}, {"pev_id": "invalid_id", "name": "empty_name"}),
    ):
        result = await hass.config_entries.subentries.async_configure(
            flow_id, {**VEHICLE, **changes}
        )
        assert result["type"] is FlowResultType.FORM, changes
        assert result["step_id"] == "user"
        assert result["errors"] == errors, changes
        assert defaults(result)["tags"] == ["a", "b"]

    for changes, errors in (
        ({"default_target": 0}, {"default_target": "invalid_target"}),
        ({"default_target": 101}, {"default_target": "invalid_target"}),
        ({"capacity_kwh": 0.5}, {"capacity_kwh": "invalid_capacity"}),
        (
            {"capacity_kwh": None, "default_target": 80},
            {"default_target": "target_percent_needs_capacity"},
        ),
        (
            {"default_target": None, "default_target_kwh": 400},
            {"default_target_kwh": "invalid_target_kwh"},
        ),
    ):
        data = {k: v for k, v in {**VEHICLE, **changes}.items() if v is not None}
        result = await hass.config_entries.subentries.async_configure(flow_id, data)
        assert result["errors"] == errors, changes

    result = await hass.config_entries.subentries.async_configure(
        flow_id, {**VEHICLE, "pev_id": " PEV-NEW-7 "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Second car"
    assert result["unique_id"] == "PEV-NEW-7"
    assert result["data"] == {**VEHICLE, "tags": ["a", "b"]}
    vehicles = [s for s in entry.subentries.values() if s.subentry_type == "vehicle"]
    assert len(vehicles) == 2
    added = next(s for s in vehicles if s.unique_id == "PEV-NEW-7")
    assert added.data["tags"] == ["a", "b"]


async def test_add_minimal_vehicle(hass: HomeAssistant) -> None:
    """Only the ID and name are needed; the rest takes defaults."""
    entry = make_entry(vehicles=[])
    entry.add_to_hass(hass)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"), context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"pev_id": "GUEST-1", "name": "Guest"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        "pev_id": "GUEST-1",
        "name": "Guest",
        "relation": "home",
        "tags": [],
        "default_vehicle": False,
    }


async def test_reconfigure_vehicle(hass: HomeAssistant) -> None:
    """A vehicle keeps its own ID, may not take another's, and its changes are stored."""
    entry = make_entry(
        vehicles=[
            {"pev_id": "PEV-A", "name": "A", "relation": "home", "tags": ["t1", "t2"]},
            {"pev_id": "PEV-B", "name": "B", "relation": "guest", "tags": []},
        ]
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"),
        context={"source": config_entries.SOURCE_RECONFIGURE, "subentry_id": "vehicle1"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert defaults(result)["pev_id"] == "PEV-A"
    assert defaults(result)["tags"] == ["t1", "t2"]
    flow_id = result["flow_id"]

    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"pev_id": "PEV-B", "name": "A", "relation": "home"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"pev_id": "already_registered"}

    result = await hass.config_entries.subentries.async_configure(
        flow_id,
        {"pev_id": "PEV-A", "name": "A renamed", "relation": "guest", "tags": ["t3"]},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    vehicle = entry.subentries["vehicle1"]
    assert vehicle.title == "A renamed"
    assert vehicle.unique_id == "PEV-A"
    assert dict(vehicle.data) == {
        "pev_id": "PEV-A",
        "name": "A renamed",
        "relation": "guest",
        "tags": ["t3"],
        "default_vehicle": False,
    }


async def test_reconfigure_vehicle_new_id(hass: HomeAssistant) -> None:
    """A vehicle's new ID becomes its unique ID, so its old ID can be registered again."""
    entry = make_entry(vehicles=[{"pev_id": "PEV-A", "name": "A", "relation": "home"}])
    entry.add_to_hass(hass)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"),
        context={"source": config_entries.SOURCE_RECONFIGURE, "subentry_id": "vehicle1"},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"pev_id": "PEV-A2", "name": "A", "relation": "home"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries["vehicle1"].unique_id == "PEV-A2"
    assert entry.subentries["vehicle1"].data["pev_id"] == "PEV-A2"

    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "vehicle"), context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"pev_id": "PEV-A", "name": "New A", "relation": "home"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert {s.unique_id for s in entry.subentries.values() if s.subentry_type == "vehicle"} == {
        "PEV-A",
        "PEV-A2",
    }


# -- chargers -------------------------------------------------------------------------------


async def test_add_second_demo_charger(hass: HomeAssistant, loaded_demo: MockConfigEntry) -> None:
    """A second charger is added; the premise reloads with both."""
    result = await hass.config_entries.subentries.async_init(
        (loaded_demo.entry_id, "charger"), context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "charger"
    assert result["errors"] == {}
    flow_id = result["flow_id"]

    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"charger_name": "", "charger_type": "demo"}
    )
    assert result["errors"] == {"charger_name": "empty_name"}

    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"charger_name": "Driveway", "charger_type": "demo"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Driveway"
    assert result["data"] == {
        "charger_name": "Driveway",
        "charger_type": "demo",
        "meter_source": "demo",
    }
    chargers = [s for s in loaded_demo.subentries.values() if s.subentry_type == "charger"]
    assert sorted(s.title for s in chargers) == ["Driveway", "Garage"]
    assert loaded_demo.state is ConfigEntryState.LOADED
    assert len(loaded_demo.runtime_data.chargers) == 2
    assert hass.states.get("sensor.driveway_session_state") is not None
    assert hass.states.get("sensor.garage_session_state") is not None


@pytest.mark.usefixtures("charger_states")
async def test_reconfigure_demo_into_entity_charger(
    hass: HomeAssistant, loaded_demo: MockConfigEntry
) -> None:
    """The demo charger becomes a mapped charger through every step of the charger flow."""
    result = await hass.config_entries.subentries.async_init(
        (loaded_demo.entry_id, "charger"),
        context={"source": config_entries.SOURCE_RECONFIGURE, "subentry_id": "charger1"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "charger"
    assert defaults(result) == {"charger_name": "Garage", "charger_type": "demo"}
    flow_id = result["flow_id"]

    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"charger_name": "Garage wallbox", "charger_type": "entities"}
    )
    assert result["step_id"] == "charger_entities"
    # The demo meter is not a choice here: the form must not default to it.
    assert defaults(result)["meter_source"] == "sensor"
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {**ENTITIES, **METER_CHOICE, "status_entity": "sensor.wb_odd_status"}
    )
    assert result["errors"] == {"status_entity": "unknown_status"}
    assert result["description_placeholders"]["status"] == "banana"
    result = await hass.config_entries.subentries.async_configure(flow_id, ENTITIES)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"meter_entity": "meter_required"}

    result = await hass.config_entries.subentries.async_configure(
        flow_id, {**ENTITIES, **METER_CHOICE}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    charger = loaded_demo.subentries["charger1"]
    assert charger.title == "Garage wallbox"
    assert dict(charger.data) == {
        "charger_name": "Garage wallbox",
        "charger_type": "entities",
        **ENTITIES,
        **ELECTRICAL,
        "meter_source": "sensor",
        "meter_entity": METER,
    }
    assert loaded_demo.state is ConfigEntryState.LOADED
    assert loaded_demo.runtime_data.chargers["charger1"].adapter.describe()


MAPPED_CHARGER: dict[str, Any] = {
    "charger_name": "Wallbox",
    "charger_type": "entities",
    "preset": "wallbox",
    **ENTITIES,
    "meter_source": "sensor",
    "meter_entity": METER,
}


@pytest.mark.usefixtures("charger_states")
async def test_reconfigure_entity_charger_keeps_mapping(hass: HomeAssistant) -> None:
    """Reconfiguring a mapped charger suggests its current mapping and meter."""
    entry = make_entry(charger=MAPPED_CHARGER)
    entry.add_to_hass(hass)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "charger"),
        context={"source": config_entries.SOURCE_RECONFIGURE, "subentry_id": "charger1"},
    )
    assert result["step_id"] == "charger"
    assert defaults(result) == {"charger_name": "Wallbox", "charger_type": "entities"}
    flow_id = result["flow_id"]
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {"charger_name": "Wallbox", "charger_type": "entities"}
    )
    assert result["step_id"] == "charger_entities"
    assert result["description_placeholders"]["preset"] == (
        "Filled in for Wallbox chargers: check each field."
    )
    assert {k: v for k, v in suggested_values(result).items() if v} == {
        **ENTITIES,
        "meter_entity": METER,
    }
    assert defaults(result)["meter_source"] == "sensor"

    # The switch is replaced by start/stop buttons; the mapping drops the switch.
    buttons = {**ENTITIES, "start_button": "button.wb_start", "stop_button": "button.wb_stop"}
    del buttons["switch_entity"]
    result = await hass.config_entries.subentries.async_configure(
        flow_id, {**buttons, "meter_source": "charger"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.subentries["charger1"].data) == {
        "charger_name": "Wallbox",
        "charger_type": "entities",
        "preset": "wallbox",
        **buttons,
        **ELECTRICAL,
        "meter_source": "charger",
    }


async def test_reconfigure_entity_charger_into_demo(hass: HomeAssistant) -> None:
    """A mapped charger turned into the demo charger keeps no stale mapping."""
    entry = make_entry(charger=MAPPED_CHARGER)
    entry.add_to_hass(hass)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "charger"),
        context={"source": config_entries.SOURCE_RECONFIGURE, "subentry_id": "charger1"},
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"charger_name": "Demo", "charger_type": "demo"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries["charger1"].title == "Demo"
    assert dict(entry.subentries["charger1"].data) == {
        "charger_name": "Demo",
        "charger_type": "demo",
        "meter_source": "demo",
    }
