"""The options' "power feed" section (issue #18): export rate, export limit, feed-in price
sensor and home consumption sensor; their checks; what the premise makes of them."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.components.conftest import OPTIONS

FORM = {k: v for k, v in OPTIONS.items() if k != "tariff"}
FEED_IN = "sensor.feed_in_price"
HOME = "sensor.home_power"


@pytest.fixture
def feed_states(hass: HomeAssistant) -> None:
    """A price integration's feed-in price sensor and the home's consumption sensor."""
    hass.states.async_set(FEED_IN, "0.09", {"unit_of_measurement": "EUR/kWh"})
    hass.states.async_set(HOME, "850", {"device_class": "power", "unit_of_measurement": "W"})
    hass.states.async_set("sensor.home_energy", "12", {"unit_of_measurement": "kWh"})


def section_of(result: Any) -> Any:
    schema = result["data_schema"]
    marker = next(m for m in schema.schema if str(m) == "power_feed")
    return marker, schema.schema[marker]


async def configure(hass: HomeAssistant, entry: MockConfigEntry, feed: dict[str, Any] | None):
    result = await hass.config_entries.options.async_init(entry.entry_id)
    form = dict(FORM) if feed is None else {**FORM, "power_feed": feed}
    return await hass.config_entries.options.async_configure(result["flow_id"], form)


@pytest.mark.usefixtures("feed_states")
async def test_power_feed_options_are_kept_and_used(
    hass: HomeAssistant, loaded_demo: MockConfigEntry
) -> None:
    """The section is collapsed and empty at first; its values are stored as top-level
    options, shown again, and the premise prices and limits export by them."""
    result = await hass.config_entries.options.async_init(loaded_demo.entry_id)
    _marker, feed_section = section_of(result)
    assert feed_section.options["collapsed"] is True
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **FORM,
            "power_feed": {
                "export_rate": 0.05,
                "export_limit_kw": 3.68,
                "feed_in_price_entity": FEED_IN,
                "home_load_entity": HOME,
            },
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_demo.options["export_rate"] == 0.05
    assert loaded_demo.options["export_limit_kw"] == 3.68
    assert loaded_demo.options["feed_in_price_entity"] == FEED_IN
    assert loaded_demo.options["home_load_entity"] == HOME
    assert "power_feed" not in loaded_demo.options

    events = loaded_demo.runtime_data.events
    now = dt_util.utcnow()
    end = now + timedelta(hours=6)
    prices = events.export_prices(now, end)
    # The sensor's price (no forecast: held where the rate does not apply, i.e. this hour),
    # the flat rate after it.
    assert prices[0][2] == pytest.approx(0.09)
    assert prices[-1][2] == pytest.approx(0.05)
    assert prices[0][0] == now
    assert prices[-1][1] == end
    assert events.export_limits(now, end) == [(now, end, 3.68)]

    # Shown again, expanded; a form sent without the section keeps them.
    result = await hass.config_entries.options.async_init(loaded_demo.entry_id)
    _marker, feed_section = section_of(result)
    assert feed_section.options["collapsed"] is False
    fields = {str(m): m.description["suggested_value"] for m in feed_section.schema.schema}
    assert fields["export_limit_kw"] == 3.68
    assert fields["feed_in_price_entity"] == FEED_IN
    result = await hass.config_entries.options.async_configure(result["flow_id"], FORM)
    await hass.async_block_till_done()
    assert loaded_demo.options["export_limit_kw"] == 3.68

    # Emptied: gone.
    result = await configure(hass, loaded_demo, {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "export_limit_kw" not in loaded_demo.options
    assert "feed_in_price_entity" not in loaded_demo.options
    events = loaded_demo.runtime_data.events
    assert events.export_prices(now, end) == []
    assert events.export_limits(now, end) == []


@pytest.mark.usefixtures("feed_states")
@pytest.mark.parametrize(
    ("feed", "error"),
    [
        ({"export_rate": -0.01}, "invalid_export_rate"),
        ({"export_rate": math.nan}, "invalid_export_rate"),
        ({"export_rate": math.inf}, "invalid_export_rate"),
        ({"export_limit_kw": -1}, "invalid_export_limit"),
        ({"export_limit_kw": math.nan}, "invalid_export_limit"),
        ({"home_load_entity": "sensor.home_energy"}, "home_load_not_power"),
        ({"home_load_entity": "sensor.gone"}, "home_load_not_found"),
    ],
)
async def test_power_feed_refused_values(
    hass: HomeAssistant, loaded_demo: MockConfigEntry, feed: dict[str, Any], error: str
) -> None:
    """Negative and not-a-number values, a consumption sensor that is no power: the form
    again with the section's message, nothing stored."""
    result = await configure(hass, loaded_demo, feed)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"power_feed": error}
    assert not any(k in loaded_demo.options for k in ("export_rate", "export_limit_kw"))


async def test_feed_in_sensor_checked(hass: HomeAssistant, loaded_demo: MockConfigEntry) -> None:
    """Without any price sensor the picker offers every sensor: one that is not a price, or
    one that is gone, is refused on the section; 0 (no export, V2H only) is a valid limit."""
    hass.states.async_set("sensor.watts", "5", {"unit_of_measurement": "W"})
    result = await configure(hass, loaded_demo, {"feed_in_price_entity": "sensor.watts"})
    assert result["errors"] == {"power_feed": "feed_in_not_price"}
    result = await configure(hass, loaded_demo, {"feed_in_price_entity": "sensor.nothing"})
    assert result["errors"] == {"power_feed": "feed_in_not_found"}
    result = await configure(hass, loaded_demo, {"export_limit_kw": 0})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_demo.options["export_limit_kw"] == 0.0
    now = dt_util.utcnow()
    events = loaded_demo.runtime_data.events
    assert events.export_limits(now, now + timedelta(hours=1)) == [
        (now, now + timedelta(hours=1), 0.0)
    ]
