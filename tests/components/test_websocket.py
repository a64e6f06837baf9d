"""The card's websocket API: dashboard data, its subscription, and a session's intervals."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.coordinator import ChargerRuntime, PevPortalCoordinator
from custom_components.pev_portal.websocket_api import jsonable
from tests.vtn.server import TestVtn

from .common import advance, setup
from .conftest import make_entry
from .test_utility import linked_entry

START = "2026-11-22T10:00:00+00:00"
GARAGE = "garage"


async def plug(hass: HomeAssistant, on: bool) -> None:
    await hass.services.async_call(
        "switch",
        "turn_on" if on else "turn_off",
        {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"},
        blocking=True,
    )
    await hass.async_block_till_done()


@pytest.fixture
async def coordinator(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> PevPortalCoordinator:
    """The demo premise at 10:00 UTC, with the websocket API loaded."""
    freezer.move_to(START)
    assert await async_setup_component(hass, "websocket_api", {})
    return await setup(hass, make_entry())


async def drain(hass: HomeAssistant, client: Any) -> dict[str, Any] | None:
    """The first charger of the last push so far (None: nothing was pushed).

    Time is frozen, so a receive cannot time out: a ping's pong marks the end of the pushes.
    """
    await hass.async_block_till_done()
    await client.send_json_auto_id({"type": "ping"})
    latest = None
    while (message := await client.receive_json())["type"] != "pong":
        chargers = message["event"]["chargers"]
        latest = chargers[0] if chargers else {}  # {}: while the entry reloads
    return latest


async def dashboard(hass_ws_client: WebSocketGenerator, hass: HomeAssistant) -> dict[str, Any]:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "pev_portal/dashboard"})
    result = await client.receive_json()
    assert result["success"], result
    data: dict[str, Any] = result["result"]
    return data


async def test_dashboard_idle(
    hass: HomeAssistant, coordinator: PevPortalCoordinator, hass_ws_client: WebSocketGenerator
) -> None:
    """Without a vehicle: the charger, its entities, the price and the next 24 h of prices."""
    data = await dashboard(hass_ws_client, hass)
    [charger] = data["chargers"]
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "charger1"), "premise1")
    assert device is not None
    assert charger["charger_id"] == "charger1"
    assert charger["entry_id"] == "premise1"
    assert charger["premise"] == "Test home"
    assert charger["name"] == "Garage"
    assert charger["device_id"] == device.id
    assert charger["state"] == "unplugged"
    assert charger["session"] is None
    assert charger["binding"] is None
    assert charger["utility"] is None  # no utility link
    assert charger["charging_enabled"] is True
    entities = charger["entities"]
    assert entities["session_state"] == "sensor.garage_session_state"
    assert entities["vehicle"] == "select.garage_vehicle"
    assert entities["charge_now"] == "button.garage_charge_now"
    assert entities["charging_enabled"] == "switch.garage_charging_enabled"
    assert entities["demo_plug"] == "switch.garage_demo_car_plugged_in"
    assert charger["vehicles"] == [
        {
            "pev_id": "PEV-DEMO-0001",
            "name": "Family car",
            "relation": "home",
            "power_feed": {
                "enabled": False,
                "floor": 40.0,
                "wear_cost": 0.04,
                "cycles_per_day": 1.0,
            },
            "state_of_health": None,
            "battery_use": {"cycles": 0.0, "fed_kwh_month": 0.0, "fed_kwh_total": 0.0},
        }
    ]
    price = charger["price"]
    assert price["value"] == 0.2
    assert price["currency"] == "EUR"
    assert isinstance(price["period"], str)
    assert datetime.fromisoformat(price["until"]) > datetime.fromisoformat(START)
    assert charger["prices"][0]["start"] == "2026-11-22T10:00:00+00:00"
    assert charger["prices"][-1]["end"] == "2026-11-23T10:00:00+00:00"
    assert charger["event"] is None
    assert charger["next_event"] is None
    assert charger["plan"] is None
    assert charger["caps"] == []
    assert charger["cap_kw"] is None
    assert charger["sessions"] == []
    assert charger["event_history"] == []


async def test_subscription_follows_a_session(
    hass: HomeAssistant,
    coordinator: PevPortalCoordinator,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A plug-in is pushed at once; the finished session lands in the last sessions."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "pev_portal/subscribe_dashboard"})
    assert (await client.receive_json())["success"]
    first = await client.receive_json()
    assert first["type"] == "event"
    assert first["event"]["chargers"][0]["state"] == "unplugged"

    await plug(hass, True)
    pushed = (await client.receive_json())["event"]["chargers"][0]
    assert pushed["state"] in ("waiting", "charging")  # the plug-in is pushed at once
    await advance(hass, freezer, 5)  # the demo car starts drawing power at the next tick
    pushed = await drain(hass, client)
    assert pushed is not None
    assert pushed["state"] == "charging"
    session = pushed["session"]
    assert session["vehicle"] == "Family car"
    assert session["pev_id"] == "PEV-DEMO-0001"
    assert session["vehicle_source"] == "charger"  # the demo charger reports the PEV ID
    assert session["started_at"] == "2026-11-22T10:00:00+00:00"
    assert session["power_kw"] > 0
    assert session["currency"] == "EUR"
    assert pushed["binding"] == {
        "outcome": "home",
        "billing_party": "premise_customer",
        "program_rate": True,
    }

    await client.close()  # 20 frozen minutes would time its heartbeat out
    await advance(hass, freezer, 20 * 60)
    await plug(hass, False)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "pev_portal/subscribe_dashboard"})
    assert (await client.receive_json())["success"]
    latest = (await client.receive_json())["event"]["chargers"][0]
    assert latest["state"] == "unplugged"
    [row] = latest["sessions"]
    assert row["vehicle"] == "Family car"
    assert row["energy_kwh"] == pytest.approx(session["energy_kwh"] + 3.6, abs=0.5)
    assert row["cost"] == pytest.approx(row["energy_kwh"] * 0.2, abs=0.01)
    assert row["currency"] == "EUR"
    assert row["data_quality"] == "OK"
    assert row["outcome"] == "home"
    assert row["interval_count"] == 2

    await client.send_json_auto_id(
        {"type": "pev_portal/session_intervals", "session_id": row["session_id"]}
    )
    result = await client.receive_json()
    assert result["success"], result
    intervals = result["result"]["intervals"]
    assert result["result"]["currency"] == "EUR"
    assert [i["start"] for i in intervals] == [
        "2026-11-22T10:00:00+00:00",
        "2026-11-22T10:15:00+00:00",
    ]
    assert sum(i["kwh"] for i in intervals) == pytest.approx(row["energy_kwh"], abs=1e-4)
    assert all(i["price"] == 0.2 and i["quality"] == "OK" for i in intervals)
    assert sum(i["cost"] for i in intervals) == pytest.approx(row["cost"], abs=0.02)


async def test_open_session_intervals_and_unknown_session(
    hass: HomeAssistant,
    coordinator: PevPortalCoordinator,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The open session's closed intervals; an unknown session is not found."""
    await plug(hass, True)
    await advance(hass, freezer, 16 * 60)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "pev_portal/session_intervals", "session_id": runtime.session.session_id}
    )
    result = await client.receive_json()
    assert [i["start"] for i in result["result"]["intervals"]] == ["2026-11-22T10:00:00+00:00"]

    await client.send_json_auto_id({"type": "pev_portal/session_intervals", "session_id": "nope"})
    result = await client.receive_json()
    assert not result["success"]
    assert result["error"]["code"] == "not_found"


async def test_events_are_pushed(
    hass: HomeAssistant, coordinator: PevPortalCoordinator, hass_ws_client: WebSocketGenerator
) -> None:
    """A local event shows as active or next, never with an opt-out for now."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "pev_portal/subscribe_dashboard"})
    await client.receive_json()
    await client.receive_json()
    await hass.services.async_call(
        DOMAIN,
        "add_local_event",
        {
            "kind": "load_control",
            "start": "2026-11-22T09:00:00+00:00",
            "end": "2026-11-22T12:00:00+00:00",
            "limit_kw": 3.7,
            "name": "Grid peak",
        },
        blocking=True,
    )
    await hass.services.async_call(
        DOMAIN,
        "add_local_event",
        {
            "kind": "price",
            "start": "2026-11-22T17:00:00+00:00",
            "end": "2026-11-22T19:00:00+00:00",
            "price": 0.9,
        },
        blocking=True,
    )
    await hass.async_block_till_done()
    latest = await drain(hass, client)
    assert latest is not None
    event = latest["event"]
    assert event["name"] == "Grid peak"
    assert event["kind"] == "load_control"
    assert event["limit_kw"] == 3.7
    assert event["start"] == "2026-11-22T09:00:00+00:00"
    assert event["end"] == "2026-11-22T12:00:00+00:00"
    assert event["level"] is None
    assert event["opt_out_allowed"] is True  # the premise's own load-control event
    assert event["source"] == "local"
    assert event["opted_out"] is False
    upcoming = latest["next_event"]
    assert upcoming["kind"] == "price"
    assert upcoming["price"] == 0.9
    assert upcoming["source"] == "local"
    assert any(p["price"] == 0.9 for p in latest["prices"])

    # Opted out (with a car plugged in): the card is told, so it offers no second opt-out.
    await plug(hass, True)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, latest["charger_id"]), latest["entry_id"]
    )
    assert device is not None
    await hass.services.async_call(
        DOMAIN, "opt_out", {"device_id": device.id}, blocking=True, return_response=True
    )
    latest = await drain(hass, client)
    assert latest is not None
    assert latest["event"]["event_id"] == event["event_id"]
    assert latest["event"]["opted_out"] is True
    assert latest["next_event"]["opted_out"] is False


@dataclasses.dataclass
class _Slot:
    start: datetime
    end: datetime
    power_kw: float
    price: Decimal


async def test_plan_and_caps_when_the_coordinator_has_them(
    hass: HomeAssistant,
    coordinator: PevPortalCoordinator,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """plan_for and caps_for are shown as they come, made JSON; a failing one is left out."""
    at = datetime(2026, 11, 22, 11, tzinfo=UTC)

    def plan_for(runtime: ChargerRuntime) -> dict[str, Any]:
        return {
            "slots": [_Slot(at, at + timedelta(hours=1), 11.0, Decimal("0.2"))],
            "departure": at + timedelta(hours=8),
            "ready_by": at + timedelta(hours=1),
            "cost": Decimal("2.20"),
            "reachable": True,
            "reason": None,
        }

    def caps_for(runtime: ChargerRuntime) -> list[dict[str, Any]]:
        return [{"start": at, "end": at + timedelta(hours=2), "limit_kw": 3.7, "name": "peak"}]

    monkeypatch.setattr(coordinator, "plan_for", plan_for, raising=False)
    monkeypatch.setattr(coordinator, "caps_for", caps_for, raising=False)
    charger = (await dashboard(hass_ws_client, hass))["chargers"][0]
    assert charger["plan"] == {
        "slots": [
            {
                "start": "2026-11-22T11:00:00+00:00",
                "end": "2026-11-22T12:00:00+00:00",
                "power_kw": 11.0,
                "price": 0.2,
            }
        ],
        "departure": "2026-11-22T19:00:00+00:00",
        "ready_by": "2026-11-22T12:00:00+00:00",
        "cost": 2.2,
        "reachable": True,
        "reason": None,
    }
    assert charger["caps"] == [
        {
            "start": "2026-11-22T11:00:00+00:00",
            "end": "2026-11-22T13:00:00+00:00",
            "limit_kw": 3.7,
            "name": "peak",
        }
    ]

    def broken(runtime: ChargerRuntime) -> None:
        raise RuntimeError("planner bug")

    monkeypatch.setattr(coordinator, "plan_for", broken, raising=False)
    charger = (await dashboard(hass_ws_client, hass))["chargers"][0]
    assert charger["plan"] is None
    assert "plan_for(Garage) failed" in caplog.text


async def test_subscription_survives_a_reload(
    hass: HomeAssistant, coordinator: PevPortalCoordinator, hass_ws_client: WebSocketGenerator
) -> None:
    """After a reload (a new coordinator) the subscription still pushes; unsubscribing stops it."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "pev_portal/subscribe_dashboard"})
    subscription = (await client.receive_json())["id"]
    await client.receive_json()
    entry = coordinator.config_entry
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await drain(hass, client)
    await plug(hass, True)
    pushed = await drain(hass, client)
    assert pushed is not None
    assert pushed["state"] == "waiting"

    await client.send_json_auto_id({"type": "unsubscribe_events", "subscription": subscription})
    assert (await client.receive_json())["success"]
    await plug(hass, False)
    assert await drain(hass, client) is None


class _Color(Enum):
    RED = "red"


def test_jsonable() -> None:
    """Whatever the planner returns becomes plain JSON data."""

    class WithToDict:
        def to_dict(self) -> dict[str, Any]:
            return {"at": datetime(2026, 1, 1, 12, tzinfo=UTC)}

    @dataclasses.dataclass
    class Hidden:
        shown: int
        _hidden: int

    assert jsonable(None) is None
    assert jsonable(Decimal("0.25")) == 0.25
    assert jsonable(_Color.RED) == "red"
    assert jsonable(date(2026, 1, 2)) == "2026-01-02"
    assert jsonable(datetime(2026, 1, 2, 3, 4)) == "2026-01-02T03:04:00"
    assert jsonable(WithToDict()) == {"at": "2026-01-01T12:00:00+00:00"}
    assert jsonable(Hidden(1, 2)) == {"shown": 1}
    assert jsonable((1, "a")) == [1, "a"]
    assert jsonable({1: {2.5}}) == {"1": [2.5]}
    assert jsonable(object).startswith("<class")


async def test_dashboard_lists_the_vehicles_controls(
    hass: HomeAssistant, hass_ws_client: Any, loaded_demo: MockConfigEntry
) -> None:
    """With the demo car plugged in, its charge mode, departure and target are in the data."""
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.garage_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done()
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "pev_portal/dashboard"})
    msg = await client.receive_json()
    assert msg["success"], msg
    entities = msg["result"]["chargers"][0]["entities"]
    assert entities["charge_mode"] == "select.family_car_charge_mode"
    assert entities["departure"] == "time.family_car_departure"
    assert entities["target"] == "number.family_car_charge_target"


@pytest.fixture
async def no_program(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> PevPortalCoordinator:
    """The demo premise (its home car) set up without a utility program, at 10:00 UTC."""
    freezer.move_to(START)
    assert await async_setup_component(hass, "websocket_api", {})
    entry = make_entry()
    return await setup(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            title="Home",
            unique_id="home-abc123",
            data={"premise_name": "Home", "premise_id": "home-abc123", "in_program": False},
            options=dict(entry.options),
            subentries_data=[
                {
                    "subentry_type": s.subentry_type,
                    "title": s.title,
                    "data": dict(s.data),
                    "subentry_id": s.subentry_id,
                    "unique_id": s.unique_id,
                }
                for s in entry.subentries.values()
            ],
        ),
    )


async def test_no_program_rate_without_a_utility_program(
    hass: HomeAssistant,
    no_program: PevPortalCoordinator,
    hass_ws_client: WebSocketGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A homeowner without a utility program: the home car's session is not said to be on a
    "program rate" (the card showed one under the homeowner's own flat price)."""
    client = await hass_ws_client(hass)
    await plug(hass, True)
    await advance(hass, freezer, 5)
    await client.send_json_auto_id({"type": "pev_portal/dashboard"})
    charger = (await client.receive_json())["result"]["chargers"][0]
    assert charger["binding"] == {
        "outcome": "home",
        "billing_party": "premise_customer",
        "program_rate": False,
    }
    await client.close()


async def test_dashboard_names_the_utility_links_protocol(
    hass: HomeAssistant, vtn: TestVtn, hass_ws_client: WebSocketGenerator
) -> None:
    """The card shows the utility link's protocol (the 2.0b link: tests/components/
    test_utility2.py) and whether it reaches its VTN."""
    assert await async_setup_component(hass, "websocket_api", {})
    await setup(hass, linked_entry(vtn, None))  # polls its VTN
    [charger] = (await dashboard(hass_ws_client, hass))["chargers"]
    assert charger["utility"] == {"protocol": "OpenADR 3.1", "connected": True}
