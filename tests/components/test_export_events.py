"""Export events first-class where a user meets them (issue #18, part F): the utility's
EXPORT_PRICE and EXPORT_CAPACITY_LIMIT events and the premise's own export events, through
Home Assistant (and the test VTN on 127.0.0.1), said as what they are in the utility link's
sensors, the calendars, the card's data and the notifications; never an import price or a
charging cap; opting out of an export limit and out of a charging limit each on its own."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_mock_service
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from tests.vtn.server import TestVtn, now_utc, ts

from .common import advance, attrs, setup, state
from .conftest import OPTIONS, make_entry
from .test_smart_charging import EVENING, GARAGE, TOU_OPTIONS
from .test_utility import linked_entry, plug, wait_for
from .test_utility_export import export_event
from .test_websocket import dashboard

H = timedelta(hours=1)
UTILITY = "test_home_utility_link"
PROGRAM_CALENDAR = f"calendar.{UTILITY}_program_events"
PLAN_CALENDAR = "calendar.test_home_charging_plan"


def unnamed(
    vtn: TestVtn, payload: str, value: float, start: datetime, units: str
) -> dict[str, Any]:
    """An event of the test VTN without a name, one value over an hour."""
    descriptor = {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": payload, "units": units}
    if payload == "EXPORT_PRICE":
        descriptor["currency"] = "EUR"
    return vtn.create_event(
        interval_period={"start": ts(start), "duration": "PT3600S"},
        payload_descriptors=[descriptor],
        intervals=[{"id": 0, "payloads": [{"type": payload, "values": [value]}]}],
    )


async def calendar_events(hass: HomeAssistant, entity_id: str, start: datetime) -> list[Any]:
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": entity_id,
            "start_date_time": start - H,
            "end_date_time": start + 3 * H,
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    found: list[Any] = response[entity_id]["events"]  # type: ignore[index,assignment]
    return found


@pytest.fixture
async def websocket(hass: HomeAssistant) -> None:
    """The websocket API (before the test VTN's callback server freezes the router)."""
    assert await async_setup_component(hass, "websocket_api", {})


async def test_utility_export_events_shown_as_what_they_are(
    hass: HomeAssistant,
    websocket: None,
    vtn: TestVtn,
    callback_base: str,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """An unnamed 0.25 EUR/kWh EXPORT_PRICE in force and a 3 kW EXPORT_CAPACITY_LIMIT next:
    the Active/Next event sensors, the program calendar and the card's event and next event
    say what they are; no import price, cap or level is shown for them; the charger's import
    price sensor does not name the export price as its event; an export price above the
    options' rate is announced, one at or below it is not."""
    coordinator = await setup(
        hass, linked_entry(vtn, callback_base, options={**OPTIONS, "export_rate": 0.05})
    )
    begin = now_utc().replace(microsecond=0) - timedelta(seconds=1)
    price = unnamed(vtn, "EXPORT_PRICE", 0.25, begin, "KWH")
    limit = unnamed(vtn, "EXPORT_CAPACITY_LIMIT", 3.0, begin + H, "KW")
    link = coordinator.link
    assert link is not None
    await wait_for(hass, lambda: len(link.timeline.entries) == 2)
    coordinator.async_update_listeners()
    await hass.async_block_till_done()

    active = f"sensor.{UTILITY}_active_event"
    assert state(hass, active) == "Export price 0.25 EUR/kWh"
    shown = attrs(hass, active)
    assert shown["event_id"] == price["id"]
    assert (shown["kind"], shown["export_price"], shown["export_limit_kw"]) == (
        "export_price",
        0.25,
        None,
    )
    assert (shown["price"], shown["cap_kw"], shown["level"]) == (None, None, None)
    upcoming = attrs(hass, f"sensor.{UTILITY}_next_event")
    assert upcoming["event_id"] == limit["id"]
    assert (upcoming["kind"], upcoming["export_limit_kw"]) == ("export_cap", 3.0)
    assert upcoming["description"] == "Export limit 3.0 kW"
    assert upcoming["cap_kw"] is None
    assert state(hass, f"sensor.{UTILITY}_utility_price") == "unknown", "no import price"
    assert attrs(hass, f"sensor.{GARAGE}_current_price")["active_event"] is None

    events = await calendar_events(hass, PROGRAM_CALENDAR, begin)
    assert [(e["summary"], e["description"]) for e in events] == [
        ("Export price 0.25 EUR/kWh", "Export price 0.25 EUR/kWh"),
        ("Export limit 3 kW", "Export limit 3 kW"),
    ]

    card = (await dashboard(hass_ws_client, hass))["chargers"][0]
    assert card["event"]["kind"] == "export_price"
    assert card["event"]["export_price"] == 0.25
    assert (card["event"]["price"], card["event"]["limit_kw"]) == (None, None)
    assert card["event"]["opt_out_allowed"] is False
    assert card["next_event"]["kind"] == "export_limit"
    assert card["next_event"]["export_limit_kw"] == 3.0
    assert (card["next_event"]["price"], card["next_event"]["limit_kw"]) == (None, None)
    assert card["next_event"]["opt_out_allowed"] is True
    assert card["cap_kw"] is None, "an export limit never caps charging"

    (announced,) = coordinator.events.announced(dt_util.utcnow())
    assert (announced.kind, announced.export_price, announced.price) == (
        "export_price",
        0.25,
        None,
    )
    coordinator.events.export.rate = 0.25  # the usual export price: no news
    assert coordinator.events.announced(dt_util.utcnow()) == []


@pytest.mark.parametrize("first", ["export_limit", "charging"])
async def test_opting_out_of_one_limit_keeps_the_other(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, first: str
) -> None:
    """A 2 kW charging cap and a 1 kW export limit in force together: opting out of either
    (the opt-out action with or without ``export_limit``) leaves the other in force; the
    charging opt-out switch follows the charging limits only."""
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    events = coordinator.events
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    pev = runtime.session.pev_id
    begin = now_utc().replace(microsecond=0) - timedelta(seconds=1)
    cap = vtn.create_dlc_event(2.0, begin, H, name="grid peak")
    export = export_event(vtn, "EXPORT_CAPACITY_LIMIT", [1.0], begin, H, units="KW")
    window = [(begin, begin + H, 1.0)]

    def charging_cap() -> float | None:
        found = events.limit_now(pev, dt_util.utcnow(), 11.0, 1.4)
        return found[0] if found is not None else None

    await wait_for(hass, lambda: events.export_limits(begin, begin + H) == window)
    await wait_for(hass, lambda: charging_cap() == 2.0)
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "charger1"), "premise1")
    assert device is not None

    async def opt_out(export_limit: bool) -> list[str]:
        response = await hass.services.async_call(
            DOMAIN,
            "opt_out",
            {"device_id": device.id, "export_limit": export_limit},
            blocking=True,
            return_response=True,
        )
        await hass.async_block_till_done()
        assert response is not None
        ids: list[str] = response["event_ids"]  # type: ignore[assignment]
        return ids

    announced = {e.event_id: e for e in events.announced(dt_util.utcnow())}
    assert (announced[cap["id"]].kind, announced[cap["id"]].limit_kw) == ("load_control", 2.0)
    feed = announced[export["id"]]
    assert (feed.kind, feed.export_limit_kw, feed.limit_kw) == ("export_limit", 1.0, None)
    switch = f"switch.{GARAGE}_opt_out_of_event"
    if first == "export_limit":
        assert await opt_out(True) == [export["id"]]
        assert events.export_limits(begin, begin + H) == []
        assert charging_cap() == 2.0, "the charging cap stays in force"
        assert events.opted_out_now(pev) is False
        assert state(hass, switch) == "off"
        assert await opt_out(False) == [cap["id"]]
        assert charging_cap() is None
    else:
        assert await opt_out(False) == [cap["id"]]
        assert charging_cap() is None
        assert events.export_limits(begin, begin + H) == window, "the export limit stays"
        assert events.opted_out_now(pev, export=True) is False
        assert state(hass, switch) == "on"
        assert await opt_out(True) == [export["id"]]
        assert events.export_limits(begin, begin + H) == []
    assert events.opted_out_now(pev) is True
    assert events.opted_out_now(pev, export=True) is True


async def test_local_export_events(hass: HomeAssistant) -> None:
    """The add_local_event action takes an export price and an export limit: they feed the
    export prices and limits (never the import tariff or a charging cap), the charging-plan
    calendar shows them as what they are, they survive a restart; each needs its value; an
    export limit is opted out of on its own."""
    entry = make_entry(options={**OPTIONS, "export_rate": 0.05})
    coordinator = await setup(hass, entry)
    now = dt_util.utcnow().replace(microsecond=0)
    start, end = now - timedelta(minutes=1), now + H

    async def add(**data: Any) -> str:
        window = {"start": start.isoformat(), "end": end.isoformat()}
        response = await hass.services.async_call(
            DOMAIN, "add_local_event", {**window, **data}, blocking=True, return_response=True
        )
        assert response is not None
        event_id: str = response["event_id"]  # type: ignore[assignment]
        return event_id

    for kind, key in (("export_price", "event_needs_price"), ("export_limit", "event_needs_limit")):
        with pytest.raises(ServiceValidationError) as refused:
            await add(kind=kind)
        assert refused.value.translation_key == key
    await add(kind="export_price", price=0.25)
    limit_id = await add(kind="export_limit", limit_kw=3.0)
    events = coordinator.events
    assert events.export_prices(start, end + H) == [(start, end, 0.25), (end, end + H, 0.05)]
    assert events.export_limits(start, end + H) == [(start, end, 3.0)]
    assert float(events.program_tariff.price_at(now).price) == 0.20, "the import price stays"
    assert events.caps(None, "charger1", 11.0, 1.4) == []
    assert events.limit_now(None, now, 11.0, 1.4) is None
    assert events.load_control_in_force(None, now) == []
    active = coordinator.active_event()
    assert active is not None
    assert active["kind"] in ("export_price", "export_limit")
    assert (active["price"], active["limit_kw"]) == (None, None)

    shown = await calendar_events(hass, PLAN_CALENDAR, now)
    assert sorted((e["summary"], e["description"]) for e in shown) == [
        ("Export limit 3 kW", "Local power feed event"),
        ("Export price 0.25 EUR/kWh", "Local power feed event"),
    ]

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    events = entry.runtime_data.events
    assert events.export_limits(start, end) == [(start, end, 3.0)], "kept over a restart"

    assert events.opt_out(None, export=True) == [limit_id]
    assert events.export_limits(start, end) == []
    assert events.export_prices(start, end) == [(start, end, 0.25)], "a price is kept"


@pytest.mark.parametrize("bidirectional", [True, False])
async def test_local_export_events_announced_to_a_charger_that_can_feed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, bidirectional: bool
) -> None:
    """A local export limit and export price begin while the car is plugged in: a charger
    that can feed back hears of each as what it is; one that cannot hears nothing."""
    await hass.config.async_set_time_zone("UTC")
    calls = async_mock_service(hass, "notify", "mobile_app_phone")
    freezer.move_to(EVENING)
    options = {**TOU_OPTIONS, "notify_target": "notify.mobile_app_phone"}
    coordinator: PevPortalCoordinator = await setup(hass, make_entry(options=options))
    demo = coordinator.chargers["charger1"].demo
    assert demo is not None
    demo.evse.bidirectional = bidirectional
    start = datetime.fromisoformat("2026-11-23T20:51:00+00:00")
    end = start + timedelta(minutes=30)
    await coordinator.async_add_local_event("export_limit", start, end, limit_kw=3.0, name="Cap")
    await coordinator.async_add_local_event("export_price", start, end, price=0.3, name="Bonus")
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"}, blocking=True
    )
    await advance(hass, freezer, 30)
    assert calls == []
    await advance(hass, freezer, 60)
    if not bidirectional:
        assert calls == []
        return
    assert sorted(c.data["message"] for c in calls) == [
        "Bonus runs from 20:51 to 21:21: power fed back from Garage earns 0.3 EUR per kWh.",
        "Cap runs from 20:51 to 21:21: the premise may export at most 3 kW, so power fed back"
        " from Garage stays below it.",
    ]
