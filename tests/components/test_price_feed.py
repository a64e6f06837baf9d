"""Live prices from a price entity (price_feed.py) through Home Assistant.

A Nord Pool-like sensor (HACS nordpool: ``raw_today`` / ``raw_tomorrow``) whose update changes
the session's price and the plan; an update that changes no price changes nothing; a unit that
is not a price keeps the last prices and raises a repair issue naming the entity, cleared when
it is read again; Tibber, EnergyZero and core Nord Pool answer through their actions (registered
here with each integration's documented response shape).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    mock_integration,
)

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.coordinator import PevPortalCoordinator

from .common import advance, attrs, setup, state
from .conftest import OPTIONS, make_entry

GARAGE = "garage"
CAR = "family_car"
PRICE = "sensor.nordpool_kwh_se3_eur"
NOW = datetime.fromisoformat("2026-11-23T20:50:00+00:00")
TODAY = datetime.fromisoformat("2026-11-23T00:00:00+00:00")
FALLBACK = {"type": "flat", "currency": "EUR", "price": "0.20"}
FEED_OPTIONS = {**OPTIONS, "tariff": FALLBACK, "price_entity": PRICE, "start_delay_minutes": 0}
ISSUE = "price_source_failing_premise1"


def raw(day: datetime, cheap: dict[int, float], price: float = 0.30) -> list[dict[str, Any]]:
    """A day of hourly prices as HACS Nord Pool publishes them (cheap: hour -> price)."""
    return [
        {
            "start": day + timedelta(hours=hour),
            "end": day + timedelta(hours=hour + 1),
            "value": cheap.get(hour, price),
        }
        for hour in range(24)
    ]


def publish(
    hass: HomeAssistant,
    today: dict[int, float],
    tomorrow: dict[int, float],
    *,
    unit: str = "EUR/kWh",
    **extra: Any,
) -> None:
    hass.states.async_set(
        PRICE,
        str(today.get(NOW.hour, 0.30)),
        {
            "unit_of_measurement": unit,
            "raw_today": raw(TODAY, today),
            "raw_tomorrow": raw(TODAY + timedelta(days=1), tomorrow),
            **extra,
        },
    )


async def _call(
    hass: HomeAssistant, domain: str, service: str, entity_id: str, **data: Any
) -> None:
    await hass.services.async_call(domain, service, {"entity_id": entity_id, **data}, blocking=True)
    await hass.async_block_till_done()


async def _plug_cheapest(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    await _call(hass, "select", "select_option", f"select.{CAR}_charge_mode", option="cheapest")
    await _call(hass, "number", "set_value", f"number.{CAR}_charge_target", value=80)
    await _call(hass, "time", "set_value", f"time.{CAR}_departure", time="07:00:00")
    await _call(hass, "switch", "turn_on", f"switch.{GARAGE}_demo_car_plugged_in")
    await advance(hass, freezer, 10)


def _plan_start(hass: HomeAssistant) -> datetime:
    return datetime.fromisoformat(state(hass, f"sensor.{GARAGE}_charging_plan"))


async def test_price_entity_drives_the_session_price_and_the_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The sensor's forecast prices the session and the plan; a new forecast replans."""
    freezer.move_to(NOW)
    night = {hour: 0.05 for hour in range(1, 5)}  # tomorrow 01:00-05:00
    publish(hass, {}, night)
    coordinator = await setup(hass, make_entry(options=FEED_OPTIONS))
    await _plug_cheapest(hass, freezer)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    assert float(state(hass, f"sensor.{GARAGE}_current_price")) == pytest.approx(0.30)
    assert _plan_start(hass) == TODAY + timedelta(days=1, hours=1)
    plan = attrs(hass, f"sensor.{GARAGE}_charging_plan")
    assert {s["price"] for s in plan["slots"]} == {0.05}
    version = coordinator.events.version

    # The utility's day-ahead prices change: cheap from 22:00 today, and 20:00 is cheaper now.
    publish(hass, {20: 0.12, 22: 0.04, 23: 0.04}, {0: 0.04, 1: 0.04})
    await hass.async_block_till_done()
    assert coordinator.events.version == version + 1
    assert float(state(hass, f"sensor.{GARAGE}_current_price")) == pytest.approx(0.12)
    await advance(hass, freezer, 5)
    assert _plan_start(hass) == TODAY + timedelta(hours=22)
    plan = attrs(hass, f"sensor.{GARAGE}_charging_plan")
    assert {s["price"] for s in plan["slots"]} == {0.04}


async def test_same_prices_change_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A state change that publishes the same points (an attribute of its own changed) is
    not a change: the version stays, so nothing is replanned."""
    freezer.move_to(NOW)
    publish(hass, {}, {3: 0.05})
    coordinator = await setup(hass, make_entry(options=FEED_OPTIONS))
    tariff = coordinator.events.base_tariff
    version = coordinator.events.version
    publish(hass, {}, {3: 0.05}, last_update="2026-11-23T20:51:00+00:00")
    await hass.async_block_till_done()
    assert coordinator.events.version == version
    assert coordinator.events.base_tariff is tariff


async def test_unreadable_prices_keep_the_last_and_raise_a_repair(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A unit that is not a price per energy: the last prices stay, a repair issue names the
    entity; once readable again the issue is cleared and the new prices apply."""
    freezer.move_to(NOW)
    publish(hass, {20: 0.15}, {})
    coordinator = await setup(hass, make_entry(options=FEED_OPTIONS))
    assert float(state(hass, f"sensor.{GARAGE}_current_price")) == pytest.approx(0.15)
    tariff = coordinator.events.base_tariff

    publish(hass, {20: 0.99}, {}, unit="kW")
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.translation_key == "price_source_failing"
    assert (issue.translation_placeholders or {})["entity"] == PRICE
    assert coordinator.events.base_tariff is tariff
    assert float(state(hass, f"sensor.{GARAGE}_current_price")) == pytest.approx(0.15)

    publish(hass, {20: 0.17}, {})
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None
    assert float(state(hass, f"sensor.{GARAGE}_current_price")) == pytest.approx(0.17)


async def test_unreadable_at_start_uses_the_flat_fallback(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Unreadable from the start: the flat price kept at set-up prices everything."""
    freezer.move_to(NOW)
    publish(hass, {20: 0.15}, {}, unit="EUR")
    coordinator = await setup(hass, make_entry(options=FEED_OPTIONS))
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is not None
    assert coordinator.events.base_tariff.to_dict() == FALLBACK | {"type": "flat"}
    assert float(state(hass, f"sensor.{GARAGE}_current_price")) == pytest.approx(0.20)


async def test_unavailable_entity_keeps_the_last_prices(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The price integration restarts: its entity is unavailable a while; nothing changes."""
    freezer.move_to(NOW)
    publish(hass, {20: 0.15}, {})
    coordinator = await setup(hass, make_entry(options=FEED_OPTIONS))
    version = coordinator.events.version
    hass.states.async_set(PRICE, STATE_UNAVAILABLE)
    await hass.async_block_till_done()
    assert coordinator.events.version == version
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None


async def test_forecast_entity(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """The forecast on a separate entity (Amber's forecast sensor) is followed too."""
    freezer.move_to(NOW)
    hass.states.async_set("sensor.amber_price", "0.31", {"unit_of_measurement": "AUD/kWh"})
    forecast = "sensor.amber_forecast"
    interval = {
        "start_time": (TODAY + timedelta(hours=20)).isoformat(),
        "end_time": (TODAY + timedelta(hours=21)).isoformat(),
        "per_kwh": 0.25,
    }
    hass.states.async_set(forecast, "0.31", {"forecasts": [interval]})
    options = {
        **FEED_OPTIONS,
        "tariff": {**FALLBACK, "currency": "AUD"},
        "price_entity": "sensor.amber_price",
        "price_forecast_entity": forecast,
    }
    coordinator = await setup(hass, make_entry(options=options))
    assert float(coordinator.program_tariff.price_at(NOW).price) == pytest.approx(0.25)
    hass.states.async_set(forecast, "0.31", {"forecasts": [{**interval, "per_kwh": 0.08}]})
    await hass.async_block_till_done()
    assert float(coordinator.program_tariff.price_at(NOW).price) == pytest.approx(0.08)


# -- integrations that answer through an action ---------------------------------------------


def _register(hass: HomeAssistant, platform: str, entity_id: str, unique_id: str) -> str:
    """The price entity as its integration registers it; returns the config entry ID."""
    mock_integration(hass, MockModule(platform))  # its library is not installed here
    source = MockConfigEntry(domain=platform, title=platform)
    source.add_to_hass(hass)
    source.mock_state(hass, ConfigEntryState.LOADED)
    er.async_get(hass).async_get_or_create(
        "sensor",
        platform,
        unique_id,
        suggested_object_id=entity_id.split(".")[1],
        config_entry=source,
    )
    return source.entry_id


def _action(
    hass: HomeAssistant, domain: str, name: str, answer: Any, calls: list[dict[str, Any]]
) -> None:
    async def handler(call: ServiceCall) -> ServiceResponse:
        calls.append(dict(call.data))
        return answer(call) if callable(answer) else answer

    hass.services.async_register(domain, name, handler, supports_response=SupportsResponse.ONLY)


async def _set_up_with(hass: HomeAssistant, entity_id: str) -> PevPortalCoordinator:
    options = {**FEED_OPTIONS, "price_entity": entity_id}
    return await setup(hass, make_entry(options=options))


async def test_tibber_get_prices(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Tibber's price sensor has no forecast: tibber.get_prices answers it."""
    freezer.move_to(NOW)
    entity_id = "sensor.electricity_price_home"
    _register(hass, "tibber", entity_id, "home-id-price")
    hass.states.async_set(entity_id, "0.31", {"unit_of_measurement": "EUR/kWh"})
    prices = [
        {"start_time": (TODAY + timedelta(hours=h)).isoformat(), "price": p, "level": "NORMAL"}
        for h, p in ((20, 0.21), (21, 0.11), (22, 0.09))
    ]
    calls: list[dict[str, Any]] = []
    _action(hass, "tibber", "get_prices", {"prices": {"Home": prices}}, calls)
    coordinator = await _set_up_with(hass, entity_id)
    assert len(calls) == 1
    assert set(calls[0]) == {"start", "end"}
    tariff = coordinator.program_tariff
    assert float(tariff.price_at(NOW).price) == pytest.approx(0.21)
    assert float(tariff.price_at(NOW + timedelta(hours=1)).price) == pytest.approx(0.11)
    assert float(tariff.price_at(NOW + timedelta(hours=2)).price) == pytest.approx(0.09)


async def test_energyzero_get_energy_prices(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """EnergyZero: energyzero.get_energy_prices with its config entry, VAT included."""
    freezer.move_to(NOW)
    entity_id = "sensor.energyzero_today_energy_current_hour_price"
    source_id = _register(hass, "energyzero", entity_id, "ez-today_energy-current_hour_price")
    hass.states.async_set(entity_id, "0.27", {"unit_of_measurement": "EUR/kWh"})
    answer = {
        "prices": [
            {"timestamp": "2026-11-23 20:00:00+00:00", "price": 0.24},
            {"timestamp": "2026-11-23 21:00:00+00:00", "price": 0.14},
        ]
    }
    calls: list[dict[str, Any]] = []
    _action(hass, "energyzero", "get_energy_prices", answer, calls)
    coordinator = await _set_up_with(hass, entity_id)
    assert calls[0]["config_entry"] == source_id
    assert calls[0]["incl_vat"] is True
    assert float(coordinator.program_tariff.price_at(NOW).price) == pytest.approx(0.24)
    later = NOW + timedelta(hours=1)
    assert float(coordinator.program_tariff.price_at(later).price) == pytest.approx(0.14)


async def test_core_nordpool_get_prices_for_date(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Core Nord Pool answers per MWh, one date per call, for the sensor's area; tomorrow's
    prices not published yet is no error."""
    freezer.move_to(NOW)
    entity_id = "sensor.nord_pool_se3_current_price"
    source_id = _register(hass, "nordpool", entity_id, "SE3-current_price")
    hass.states.async_set(entity_id, "0.31", {"unit_of_measurement": "SEK/kWh"})

    def answer(call: ServiceCall) -> ServiceResponse:
        if call.data["date"] != "2026-11-23":
            raise ServiceValidationError("No prices for that date yet")
        start = TODAY + timedelta(hours=20)
        return {
            "SE3": [
                {
                    "start": start.isoformat(),
                    "end": (start + timedelta(hours=1)).isoformat(),
                    "price": 123.0,
                }
            ]
        }

    calls: list[dict[str, Any]] = []
    _action(hass, "nordpool", "get_prices_for_date", answer, calls)
    coordinator = await _set_up_with(hass, entity_id)
    assert [c["date"] for c in calls] == ["2026-11-23", "2026-11-24"]
    assert all(c["config_entry"] == source_id and c["areas"] == ["SE3"] for c in calls)
    tariff = coordinator.program_tariff
    assert tariff.currency == "SEK"
    assert float(tariff.price_at(NOW).price) == pytest.approx(0.123)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None


async def test_failing_action_keeps_the_fallback_and_raises_a_repair(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Tibber's action fails: the fallback stays, the repair names the entity; a later
    state change that reads again clears it."""
    freezer.move_to(NOW)
    entity_id = "sensor.electricity_price_home"
    _register(hass, "tibber", entity_id, "home-id-price")
    hass.states.async_set(entity_id, "0.31", {"unit_of_measurement": "EUR/kWh"})
    failing = [True]

    def answer(_call: ServiceCall) -> ServiceResponse:
        if failing[0]:
            raise ServiceValidationError("Tibber did not answer")
        return {"prices": {"Home": [{"start_time": NOW.isoformat(), "price": 0.19}]}}

    _action(hass, "tibber", "get_prices", answer, [])
    coordinator = await _set_up_with(hass, entity_id)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert (issue.translation_placeholders or {})["entity"] == entity_id
    assert coordinator.events.base_tariff.to_dict() == FALLBACK

    failing[0] = False
    hass.states.async_set(entity_id, "0.19", {"unit_of_measurement": "EUR/kWh"})
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None
    assert float(coordinator.program_tariff.price_at(NOW).price) == pytest.approx(0.19)


async def test_unload_stops_following(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """After unload a price change reaches nothing (no task, no error)."""
    freezer.move_to(NOW)
    publish(hass, {20: 0.15}, {})
    entry = make_entry(options=FEED_OPTIONS)
    coordinator = await setup(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    version = coordinator.events.version
    publish(hass, {20: 0.55}, {})
    await hass.async_block_till_done()
    assert coordinator.events.version == version


async def test_action_that_never_answers_counts_as_failing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An action that never answers does not hold set-up: after the action timeout (here at
    once) the fallback stays and the repair issue names the entity."""
    import asyncio

    from custom_components.pev_portal import price_feed

    monkeypatch.setattr(price_feed, "ACTION_TIMEOUT", 0)
    freezer.move_to(NOW)
    entity_id = "sensor.electricity_price_home"
    _register(hass, "tibber", entity_id, "home-id-price")
    hass.states.async_set(entity_id, "0.31", {"unit_of_measurement": "EUR/kWh"})
    never = asyncio.Event()

    async def hang(_call: ServiceCall) -> ServiceResponse:
        await never.wait()
        return {}

    hass.services.async_register(
        "tibber", "get_prices", hang, supports_response=SupportsResponse.ONLY
    )
    coordinator = await _set_up_with(hass, entity_id)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert (issue.translation_placeholders or {})["error"] == "TimeoutError"
    assert coordinator.events.base_tariff.to_dict() == FALLBACK


async def test_issue_cleared_when_the_price_entity_is_no_longer_used(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The options switch to a flat price: after the reload the price issue is gone."""
    freezer.move_to(NOW)
    publish(hass, {20: 0.15}, {}, unit="kW")
    entry = make_entry(options=FEED_OPTIONS)
    await setup(hass, entry)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is not None
    hass.config_entries.async_update_entry(entry, options=OPTIONS)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.price_feed is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None
