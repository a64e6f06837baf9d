"""The card's data for power feed (issue #18, part E): each vehicle's power-feed settings, its
battery's state of health and use, the session's energy fed and credit, the plan's feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.pev_portal.coordinator import ChargerRuntime, PevPortalCoordinator
from custom_components.pev_portal.core.summary import SessionSummary
from custom_components.pev_portal.websocket_api import _feed_summary

from .common import setup
from .conftest import HOME_CAR, make_entry
from .test_websocket import START, dashboard, plug

SOH = "sensor.family_car_state_of_health"


@pytest.fixture
async def coordinator(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> PevPortalCoordinator:
    """The demo premise at 10:00 UTC, its car with a state-of-health sensor."""
    freezer.move_to(START)
    assert await async_setup_component(hass, "websocket_api", {})
    return await setup(hass, make_entry(vehicles=[{**HOME_CAR, "soh_entity": SOH}]))


async def _vehicle(hass: HomeAssistant, ws: WebSocketGenerator) -> dict[str, Any]:
    vehicle: dict[str, Any] = (await dashboard(ws, hass))["chargers"][0]["vehicles"][0]
    return vehicle


async def test_vehicle_settings_and_state_of_health(
    hass: HomeAssistant, coordinator: PevPortalCoordinator, hass_ws_client: WebSocketGenerator
) -> None:
    """The settings as set; the SoH sensor's % when it reads a percentage, else none."""
    car = "family_car"
    for service, entity, data in (
        ("switch", "turn_on", {"entity_id": f"switch.{car}_power_feed"}),
        ("number", "set_value", {"entity_id": f"number.{car}_power_feed_floor", "value": 60}),
        ("number", "set_value", {"entity_id": f"number.{car}_battery_wear_cost", "value": 0.1}),
    ):
        await hass.services.async_call(service, entity, data, blocking=True)
    vehicle = await _vehicle(hass, hass_ws_client)
    assert vehicle["power_feed"] == {
        "enabled": True,
        "floor": 60.0,
        "wear_cost": 0.1,
        "cycles_per_day": 1.0,
    }
    assert vehicle["state_of_health"] is None  # the sensor does not exist
    # the coordinator's metered battery use (nothing fed yet)
    assert vehicle["battery_use"] == {"cycles": 0.0, "fed_kwh_month": 0.0, "fed_kwh_total": 0.0}
    for reading, shown in (
        ("96.5", 96.5),
        ("unavailable", None),
        ("unknown", None),
        ("nan", None),
        ("120", None),
        ("-3", None),
        ("100", 100.0),
    ):
        hass.states.async_set(SOH, reading, {"unit_of_measurement": "%"})
        assert (await _vehicle(hass, hass_ws_client))["state_of_health"] == shown, reading


async def test_battery_use_when_the_coordinator_has_it(
    hass: HomeAssistant,
    coordinator: PevPortalCoordinator,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """battery_use(subentry_id) is passed on as it comes; a failing one is left out, logged."""
    asked: list[str] = []

    def battery_use(subentry_id: str) -> dict[str, float]:
        asked.append(subentry_id)
        return {"cycles": 3.25, "fed_kwh_month": 41.5, "fed_kwh_total": 195.0}

    monkeypatch.setattr(coordinator, "battery_use", battery_use, raising=False)
    vehicle = await _vehicle(hass, hass_ws_client)
    assert vehicle["battery_use"] == {"cycles": 3.25, "fed_kwh_month": 41.5, "fed_kwh_total": 195.0}
    assert asked == ["vehicle1"]

    def broken(subentry_id: str) -> None:
        raise RuntimeError("ledger gone")

    monkeypatch.setattr(coordinator, "battery_use", broken, raising=False)
    vehicle = await _vehicle(hass, hass_ws_client)
    assert "battery_use" not in vehicle
    assert vehicle["power_feed"]["enabled"] is False  # the rest is shown
    assert "battery_use(Family car) failed" in caplog.text


async def test_the_session_shows_energy_fed_credit_and_net_cost(
    hass: HomeAssistant,
    coordinator: PevPortalCoordinator,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The live summary's exported_kwh, export_credit and net_cost (money as text) come as
    numbers (nothing fed yet: 0 fed, no credit, the net cost is the cost)."""
    await plug(hass, True)
    session = (await dashboard(hass_ws_client, hass))["chargers"][0]["session"]
    assert session is not None
    assert (session["exported_kwh"], session["export_credit"]) == (0.0, 0.0)
    assert session["net_cost"] == session["cost"]

    plain = SessionSummary.to_dict

    def with_feed(self: SessionSummary) -> dict[str, Any]:
        return {**plain(self), "exported_kwh": 6.5, "export_credit": "1.95", "net_cost": "-0.45"}

    monkeypatch.setattr(SessionSummary, "to_dict", with_feed)
    session = (await dashboard(hass_ws_client, hass))["chargers"][0]["session"]
    assert session["exported_kwh"] == 6.5
    assert session["export_credit"] == 1.95
    assert session["net_cost"] == -0.45


def test_a_damaged_feed_summary_shows_no_figure() -> None:
    """Stored summaries: numbers from text, nothing invented, no NaN, no error."""
    assert _feed_summary({"cost": "1.00"}) == {}
    assert _feed_summary({"exported_kwh": "x", "export_credit": None, "net_cost": "nan"}) == {
        "exported_kwh": None,
        "export_credit": None,
        "net_cost": None,
    }
    assert _feed_summary({"exported_kwh": [1], "net_cost": "-2.5"}) == {
        "exported_kwh": None,
        "net_cost": -2.5,
    }


async def test_the_plans_feed_passes_through(
    hass: HomeAssistant,
    coordinator: PevPortalCoordinator,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plan with feed slots and a feed object (part B's shape) reaches the card as it is."""
    at = datetime(2026, 11, 22, 17, tzinfo=UTC)
    feed = {
        "energy_kwh": 14.8,
        "home_kwh": 6.0,
        "export_kwh": 8.8,
        "credit": 3.1,
        "wear": 0.59,
        "cycles": 0.27,
        "floor": 40.0,
        "gap": 0.0,
    }

    def plan_for(runtime: ChargerRuntime) -> dict[str, Any]:
        return {
            "slots": [
                {"start": at, "end": at + timedelta(hours=1), "power_kw": 0.0, "feed_kw": 7.4},
                {
                    "start": at + timedelta(hours=8),
                    "end": at + timedelta(hours=9),
                    "power_kw": 7.4,
                    "feed_kw": 0.0,
                },
            ],
            "feed": feed,
        }

    monkeypatch.setattr(coordinator, "plan_for", plan_for, raising=False)
    plan = (await dashboard(hass_ws_client, hass))["chargers"][0]["plan"]
    assert [s["feed_kw"] for s in plan["slots"]] == [7.4, 0.0]
    assert plan["feed"] == feed


async def test_the_card_gets_the_power_feed_controls_of_the_plugged_in_car(
    hass: HomeAssistant, coordinator: PevPortalCoordinator, hass_ws_client: WebSocketGenerator
) -> None:
    """As the charge mode and target: the switch and the floor of the car on the charger."""
    entities = (await dashboard(hass_ws_client, hass))["chargers"][0]["entities"]
    assert "power_feed" not in entities  # no car on the charger
    await plug(hass, True)
    entities = (await dashboard(hass_ws_client, hass))["chargers"][0]["entities"]
    assert entities["power_feed"] == "switch.family_car_power_feed"
    assert entities["power_feed_floor"] == "number.family_car_power_feed_floor"
