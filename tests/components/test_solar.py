"""The solar forecast source: an energy platform's forecast read into the planner's surplus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    mock_integration,
    mock_platform,
)

from custom_components.pev_portal.solar import (
    SolarSource,
    async_forecast_entries,
    forecast_from_wh_hours,
)

from .common import advance, setup
from .conftest import make_entry
from .test_smart_charging import TOU_OPTIONS

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


def test_surplus_per_period() -> None:
    """Wh per hour become kW of surplus above the base load; past and empty periods go."""
    wh_hours = {
        "2026-06-01T08:00:00+00:00": 2000,  # over before now
        "2026-06-01T09:00:00+00:00": 1500,  # 1.5 kW - 0.5 kW base load
        "2026-06-01T10:00:00+02:00": 9999,  # 08:00 UTC: over
        "2026-06-01T10:00:00+00:00": 4000,
        "2026-06-01T11:00:00+00:00": 300,  # below the base load: no surplus
        "not a time": 1,
    }
    forecast = forecast_from_wh_hours(wh_hours, 0.5, NOW)
    assert forecast is not None
    h = timedelta(hours=1)
    start = datetime(2026, 6, 1, 9, tzinfo=UTC)
    assert forecast.points == ((start, start + h, 1.0), (start + h, start + 2 * h, 3.5))
    assert forecast_from_wh_hours({}, 0.5, NOW) is None


def test_periods_shorter_than_an_hour() -> None:
    """15-minute periods: Wh in the period over its length."""
    start = datetime(2026, 6, 1, 10, tzinfo=UTC)
    wh = {(start + timedelta(minutes=15 * i)).isoformat(): 500 for i in range(3)}
    forecast = forecast_from_wh_hours(wh, 0.0, NOW)
    assert forecast is not None
    assert [p[2] for p in forecast.points] == [2.0, 2.0, 0.5]  # the last one: an hour


@pytest.fixture
def forecast_integration(hass: HomeAssistant) -> dict[str, Any]:
    """A forecast integration with an energy platform (as Forecast.Solar has)."""
    answer: dict[str, Any] = {
        "wh_hours": {
            (NOW.replace(minute=0) + timedelta(hours=i)).isoformat(): 3000 for i in range(3)
        }
    }

    async def async_get_solar_forecast(hass: HomeAssistant, entry_id: str) -> Any:
        if answer.get("fail"):
            raise RuntimeError("service down")
        return {"wh_hours": answer["wh_hours"]}

    mock_integration(hass, MockModule("sunny"))
    mock_platform(
        hass, "sunny.energy", SimpleNamespace(async_get_solar_forecast=async_get_solar_forecast)
    )
    return answer


async def test_source_reads_the_forecast(
    hass: HomeAssistant, forecast_integration: dict[str, Any], freezer: Any
) -> None:
    """The source reads the loaded entry's forecast; a failure gives none, once warned."""
    freezer.move_to(NOW)
    entry = MockConfigEntry(domain="sunny", title="Roof")
    entry.add_to_hass(hass)
    source = SolarSource(hass, entry.entry_id, 0.5)
    assert await source.async_update() is False  # not loaded yet: no forecast
    assert source.last_error == "the forecast integration is not loaded"

    entry.mock_state(hass, ConfigEntryState.LOADED)
    assert await source.async_update() is True
    assert source.forecast is not None
    assert [p[2] for p in source.forecast.points] == [2.5, 2.5, 2.5]
    assert source.last_error is None
    assert await source.async_update() is False  # unchanged

    forecast_integration["fail"] = True
    assert await source.async_update() is True
    assert source.forecast is None
    assert source.last_error == "RuntimeError: service down"
    assert source.diagnostics()["periods"] == 0


async def test_forecast_entries(hass: HomeAssistant, forecast_integration: dict[str, Any]) -> None:
    """Only loaded entries of integrations with an energy platform are offered."""
    roof = MockConfigEntry(domain="sunny", title="Roof")
    roof.add_to_hass(hass)
    roof.mock_state(hass, ConfigEntryState.LOADED)
    mock_integration(hass, MockModule("plain"))
    plain = MockConfigEntry(domain="plain", title="Plain")
    plain.add_to_hass(hass)
    plain.mock_state(hass, ConfigEntryState.LOADED)
    assert await async_forecast_entries(hass) == {roof.entry_id: "Roof (sunny)"}


async def test_solar_mode_plans_on_the_forecast(
    hass: HomeAssistant, forecast_integration: dict[str, Any], freezer: Any
) -> None:
    """Solar mode with a forecast: the charging is planned in the sunny hours (free), not in
    the cheap night; the options offer the forecast integration."""
    evening = datetime(2026, 11, 23, 20, 50, tzinfo=UTC)
    freezer.move_to(evening)
    await hass.config.async_set_time_zone("UTC")
    sunny_from = datetime(2026, 11, 24, 10, tzinfo=UTC)
    forecast_integration["wh_hours"] = {
        (sunny_from + timedelta(hours=i)).isoformat(): 11500 for i in range(4)
    }
    roof = MockConfigEntry(domain="sunny", title="Roof")
    roof.add_to_hass(hass)
    roof.mock_state(hass, ConfigEntryState.LOADED)
    options = {
        **TOU_OPTIONS,
        "solar_forecast_entry": roof.entry_id,
        "solar_base_load_kw": 0.5,
    }
    coordinator = await setup(hass, make_entry(options=options))
    await hass.async_block_till_done()
    assert coordinator.smart.solar_forecast is not None
    for domain, service, entity, data in (
        ("select", "select_option", "select.family_car_charge_mode", {"option": "solar"}),
        ("number", "set_value", "number.family_car_charge_target", {"value": 80}),
        ("time", "set_value", "time.family_car_departure", {"time": "17:00:00"}),
    ):
        await hass.services.async_call(
            domain, service, {"entity_id": entity, **data}, blocking=True
        )
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.garage_demo_car_plugged_in"}, blocking=True
    )
    await advance(hass, freezer, 5)
    plan = coordinator.plan_for(coordinator.chargers["charger1"])
    assert plan is not None
    assert plan["mode"] == "solar"
    # 30 kWh; 11 kW of surplus (11.5 - 0.5) from 10:00 to 14:00: under 3 hours of it, all
    # in the sun (ties go late), nothing bought.
    assert datetime.fromisoformat(plan["start"]) >= sunny_from
    assert datetime.fromisoformat(plan["end"]) <= sunny_from + timedelta(hours=4)
    assert plan["cost"] == 0
    assert plan["reachable"] is True

    # Without the forecast (the integration fails), solar is planned like cheapest: at night.
    forecast_integration["fail"] = True
    await coordinator.smart._async_update_solar()
    await advance(hass, freezer, 5)
    plan = coordinator.plan_for(coordinator.chargers["charger1"])
    assert plan is not None
    assert datetime.fromisoformat(plan["start"]) == datetime(2026, 11, 23, 21, tzinfo=UTC)

    result = await hass.config_entries.options.async_init(coordinator.config_entry.entry_id)
    field = next(k for k in result["data_schema"].schema if k == "solar_forecast_entry")
    choices = result["data_schema"].schema[field].config["options"]
    assert choices == [{"value": roof.entry_id, "label": "Roof (sunny)"}]
