"""The utility's power-feed signals end to end (issue #18): Home Assistant, the demo charger
and the test VTN on 127.0.0.1. EXPORT_CAPACITY_LIMIT and EXPORT_PRICE events reach
``ProgramEvents.export_limits``/``export_prices`` with their windows, over the options' limit
and rate; malformed ones are logged and skipped; opting out leaves an export limit out; the
feed-in price sensor unavailable or not a number gives no price and never breaks anything."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.program_events import ProgramEvents
from tests.vtn.server import TestVtn, now_utc, ts

from .common import setup, state
from .conftest import OPTIONS, make_entry
from .test_utility import GARAGE, linked_entry, plug, wait_for

H = timedelta(hours=1)
FEED_IN = "sensor.feed_in_price"


def export_event(
    vtn: TestVtn,
    payload: str,
    values: list[Any],
    start: datetime,
    duration: timedelta,
    *,
    units: str | None = None,
    name: str = "export",
) -> dict[str, Any]:
    descriptor: dict[str, Any] = {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": payload}
    if units:
        descriptor["units"] = units
    if payload == "EXPORT_PRICE":
        descriptor["currency"] = "EUR"
    return vtn.create_event(
        name=name,
        interval_period={"start": ts(start), "duration": f"PT{int(duration.total_seconds())}S"},
        payload_descriptors=[descriptor],
        intervals=[{"id": 0, "payloads": [{"type": payload, "values": values}]}],
    )


def hour() -> datetime:
    return now_utc().replace(minute=0, second=0, microsecond=0)


async def test_export_events_reach_the_premise(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A configured 5 kW limit and 0.05 rate; the utility's 3 kW EXPORT_CAPACITY_LIMIT for two
    hours and a 0.31 EXPORT_PRICE for one: the smaller limit and the event's price in their
    windows, the options' elsewhere; the version moves (the feed planner replans); nothing of
    them caps or prices charging; malformed ones are logged and skipped."""
    options = {**OPTIONS, "export_rate": 0.05, "export_limit_kw": 5.0}
    coordinator = await setup(hass, linked_entry(vtn, callback_base, options=options))
    events = coordinator.events
    start, end = hour() + H, hour() + 5 * H
    assert events.export_limits(start, end) == [(start, end, 5.0)]
    assert events.export_prices(start, end) == [(start, end, 0.05)]
    version = events.version

    export_event(vtn, "EXPORT_CAPACITY_LIMIT", [3000], start + H, 2 * H, units="W")
    export_event(vtn, "EXPORT_PRICE", [310], start + 2 * H, H, units="MWH")
    await wait_for(hass, lambda: len(events.export_prices(start, end)) == 3)
    assert events.version > version
    assert events.export_limits(start, end) == [
        (start, start + H, 5.0),
        (start + H, start + 3 * H, 3.0),
        (start + 3 * H, end, 5.0),
    ]
    assert events.export_prices(start, end) == [
        (start, start + 2 * H, 0.05),
        (start + 2 * H, start + 3 * H, pytest.approx(0.31)),
        (start + 3 * H, end, 0.05),
    ]
    # An export price in force now is shown as what it is (never as an import price), and
    # the next event is the export limit, as an export limit (never a charging cap).
    export_event(vtn, "EXPORT_PRICE", [0.5], hour(), H, name="price now")
    await wait_for(hass, lambda: len(coordinator.link.timeline.active(now_utc())) == 1)  # type: ignore[union-attr]
    active = events.active()
    assert active is not None
    assert (active.kind, active.export_price) == ("export_price", 0.5)
    assert (active.price, active.limit_kw, active.export_limit_kw) == (None, None, None)
    assert active.opt_out_allowed is False, "a price is not opted out of"
    upcoming = events.next()
    assert upcoming is not None
    assert upcoming.start == start + H
    assert (upcoming.kind, upcoming.export_limit_kw) == ("export_limit", 3.0)
    assert (upcoming.price, upcoming.limit_kw, upcoming.export_price) == (None, None, None)
    tariff = events.program_tariff
    assert float(tariff.price_at(start + 2 * H).price) == 0.20, "the import price is the tariff's"
    assert events.caps(None, "charger1", 11.0, 1.4) == []

    with caplog.at_level(logging.WARNING):
        bad = export_event(vtn, "EXPORT_CAPACITY_LIMIT", ["lots"], start, H, name="bad")
        export_event(vtn, "EXPORT_PRICE", ["half"], start, H, name="bad price")
        await wait_for(hass, lambda: bad["id"] in coordinator.link.state.events)  # type: ignore[union-attr]
        await hass.async_block_till_done()
    assert "ignoring EXPORT_CAPACITY_LIMIT" in caplog.text
    assert "ignoring EXPORT_PRICE" in caplog.text
    assert events.export_limits(start, end)[0] == (start, start + H, 5.0)
    assert events.export_prices(start, end)[0] == (start, start + 2 * H, 0.05)


async def test_opting_out_leaves_an_export_limit_out(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """An EXPORT_CAPACITY_LIMIT in force is an event the customer may opt out of (the program
    does not make it mandatory), with the opt-out action's ``export_limit``: then it is left
    out of the export limits. Without it the action opts out of charging's limits only, and
    there are none."""
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    events = coordinator.events
    begin = now_utc().replace(microsecond=0) - timedelta(seconds=1)
    event = export_event(vtn, "EXPORT_CAPACITY_LIMIT", [0.0], begin, H)
    start, end = begin, begin + H
    await wait_for(hass, lambda: events.export_limits(start, end) == [(start, end, 0.0)])
    active = coordinator.active_event()
    assert active is not None
    assert active["opt_out_allowed"] is True
    assert (active["kind"], active["export_limit_kw"], active["limit_kw"]) == (
        "export_limit",
        0.0,
        None,
    )
    version = events.version

    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "charger1"), "premise1")
    assert device is not None
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN, "opt_out", {"device_id": device.id}, blocking=True, return_response=True
        )
    assert refused.value.translation_key == "no_active_event"
    assert events.export_limits(start, end) == [(start, end, 0.0)]
    response = await hass.services.async_call(
        DOMAIN,
        "opt_out",
        {"device_id": device.id, "export_limit": True},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["event_ids"] == [event["id"]]
    assert events.export_limits(start, end) == []
    assert events.version > version


def nordpool_like(start: datetime, prices: list[float]) -> dict[str, Any]:
    """A Nord Pool-shaped forecast (``raw_today``) in EUR/kWh."""
    return {
        "unit_of_measurement": "EUR/kWh",
        "raw_today": [
            {"start": start + i * H, "end": start + (i + 1) * H, "value": p}
            for i, p in enumerate(prices)
        ],
    }


async def test_feed_in_sensor_forecast_unavailable_and_nan(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """The feed-in sensor's forecast prices export where it has intervals (the flat rate
    after them); unavailable, then not a number: no price from it, said once, nothing
    breaks; read again: its prices are back. Every change moves the events' version."""
    start = hour()
    hass.states.async_set(FEED_IN, "0.11", nordpool_like(start, [0.11, 0.07, 0.15]))
    entry = make_entry(options={**OPTIONS, "export_rate": 0.04, "feed_in_price_entity": FEED_IN})
    coordinator = await setup(hass, entry)
    events: ProgramEvents = coordinator.events
    end = start + 5 * H
    forecast = [
        (start, start + H, 0.11),
        (start + H, start + 2 * H, 0.07),
        (start + 2 * H, start + 3 * H, 0.15),
        (start + 3 * H, end, 0.04),
    ]
    assert events.export_prices(start, end) == forecast

    version = events.version
    with caplog.at_level(logging.INFO):
        hass.states.async_set(FEED_IN, "unavailable")
        await hass.async_block_till_done()
        assert events.export_prices(start, end) == [(start, end, 0.04)]
        hass.states.async_set(FEED_IN, "nan", {"unit_of_measurement": "EUR/kWh"})
        await hass.async_block_till_done()
        hass.states.async_set(FEED_IN, "NaN", {"unit_of_measurement": "EUR/kWh"})
        await hass.async_block_till_done()
        assert events.export_prices(start, end) == [(start, end, 0.04)]
        assert events.version > version
        assert caplog.text.count("cannot be read (unavailable)") == 1
        assert caplog.text.count("cannot be read (not a price)") == 1, "once while it lasts"

        version = events.version
        hass.states.async_set(FEED_IN, "0.11", nordpool_like(start, [0.11, 0.07, 0.15]))
        await hass.async_block_till_done()
    assert "is read again" in caplog.text
    assert events.export_prices(start, end) == forecast
    assert events.version > version
    # An equal state again is no change: no replan.
    version = events.version
    hass.states.async_set(FEED_IN, "0.11", {**nordpool_like(start, [0.11, 0.07, 0.15]), "x": 1})
    await hass.async_block_till_done()
    assert events.version == version


async def test_feed_in_sensor_alone_holds_its_price(hass: HomeAssistant) -> None:
    """No rate, a sensor without a forecast: its price is held over the window (its last
    known price); a sensor whose unit is not a price gives none."""
    hass.states.async_set(FEED_IN, "0.09", {"unit_of_measurement": "c/kWh"})
    entry = make_entry(options={**OPTIONS, "feed_in_price_entity": FEED_IN})
    coordinator = await setup(hass, entry)
    start = hour()
    end = start + 3 * H
    assert coordinator.events.export_prices(start, end) == [(start, end, pytest.approx(0.0009))]
    hass.states.async_set(FEED_IN, "5", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    assert coordinator.events.export_prices(start, end) == []
    assert coordinator.events.export_limits(start, end) == []
    assert coordinator.events.export_prices(end, start) == []
