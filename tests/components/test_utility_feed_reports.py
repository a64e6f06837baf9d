"""The power feed's reports through Home Assistant and the test VTN (issue #18): a reporting
event asking for STORAGE_MAX_CHARGE_POWER, STORAGE_MAX_DISCHARGE_POWER and
STORAGE_DISPATCH_FORECAST gets them for the plugged-in demo car; a session's USAGE report
carries EXPORT_USAGE once its intervals have energy fed back (intervals built here: the
metering of the received register is another part's)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant

from custom_components.pev_portal.core.metering import Interval, Quality
from tests.openadr.test_reports_flex import check
from tests.vtn.server import TestVtn, now_utc

from .common import setup, state
from .test_utility import GARAGE, link_of, linked_entry, plug, wait_for
from .test_utility_flex import PEV, named, outbox_body, plugged, reporting_event, values

FEED = ["STORAGE_MAX_CHARGE_POWER", "STORAGE_MAX_DISCHARGE_POWER", "STORAGE_DISPATCH_FORECAST"]


@pytest.mark.parametrize("bidirectional", [True, False])
async def test_reporting_event_gets_the_storage_powers_and_dispatch(
    hass: HomeAssistant,
    vtn: TestVtn,
    callback_base: str,
    monkeypatch: pytest.MonkeyPatch,
    bidirectional: bool,
) -> None:
    """The charger's maximum power each way (0 to discharge when it cannot) and the feed
    plan's net energy per interval (fed back: negative); at unplug the dispatch ahead is 0."""
    event = reporting_event(vtn, FEED)
    vtn.approve(PEV)
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    runtime.demo.evse.bidirectional = bidirectional
    start = now_utc().replace(second=0, microsecond=0) + timedelta(hours=1)
    start = start.replace(minute=0)
    feed: list[tuple[datetime, datetime, float]] = [(start, start + timedelta(hours=1), -7.4)]
    monkeypatch.setattr(coordinator.smart, "feed_dispatch", lambda _cid: feed)
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    await wait_for(hass, lambda: named(vtn, f"flex-{PEV}") and named(vtn, f"storage-{PEV}"))
    storage = named(vtn, f"storage-{PEV}")
    flex = named(vtn, f"flex-{PEV}")
    assert storage is not None
    assert flex is not None
    assert storage["eventID"] == flex["eventID"] == event["id"]
    for key in (f"flex:{PEV}:{event['id']}", f"storage:{PEV}:{event['id']}"):
        body = await outbox_body(coordinator, key)
        assert body is not None
        check(body)
    full = runtime.adapter.max_power_kw()
    assert values(storage, "STORAGE_MAX_CHARGE_POWER") == [pytest.approx(full)]
    assert values(storage, "STORAGE_MAX_DISCHARGE_POWER") == [
        pytest.approx(full if bidirectional else 0.0)
    ]
    assert values(storage, "STORAGE_CHARGE_LEVEL") == [], "not asked"
    dispatch = values(flex, "STORAGE_DISPATCH_FORECAST")
    assert len(dispatch) == len(values(flex, "USAGE_FORECAST"))
    assert sum(dispatch) == pytest.approx(-7.4, abs=1e-6)
    assert dispatch.count(pytest.approx(-7.4 / 4)) == 4

    await wait_for(hass, lambda: link_of(coordinator).state.backlog == 0)
    before = len(vtn.report_versions[flex["id"]])
    await plug(hass, on=False)
    await wait_for(hass, lambda: len(vtn.report_versions[flex["id"]]) > before)
    left = values(vtn.reports[flex["id"]], "STORAGE_DISPATCH_FORECAST")
    assert left
    assert set(left) == {0.0}


async def test_dispatch_is_the_charging_forecast_without_a_feed_plan(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A session that does not feed (feed_dispatch empty): the dispatch is what it charges."""
    reporting_event(vtn, ["STORAGE_DISPATCH_FORECAST"])
    await plugged(hass, vtn, callback_base)
    await wait_for(hass, lambda: named(vtn, f"flex-{PEV}") is not None)
    flex = named(vtn, f"flex-{PEV}")
    assert flex is not None
    assert values(flex, "STORAGE_DISPATCH_FORECAST") == values(flex, "USAGE_FORECAST")
    assert max(values(flex, "USAGE_FORECAST")) > 0
    assert named(vtn, f"storage-{PEV}") is None, "no storage payload asked"


def fed_intervals(session_id: str, pev_id: str, start: datetime) -> list[Interval]:
    """Two 15-minute intervals: one charging, one feeding back (as part C will meter them)."""
    q = timedelta(minutes=15)
    base: dict[str, Any] = {
        "pev_id": pev_id,
        "premise_id": "PREMISE-1",
        "meter_id": "demo",
        "quality": Quality.OK,
        "meter_epoch": 0,
    }
    return [
        Interval(start, start + q, 2.75, register_end=12.75, **base),
        Interval(start + q, start + 2 * q, 0.0, register_end=12.75, exported_kwh=1.85, **base),
    ]


async def test_usage_report_with_export(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A session that fed back: its USAGE report carries EXPORT_USAGE per interval, USAGE
    unchanged; the VTN validates and keeps it."""
    vtn.create_price_event(
        [0.2] * 48, now_utc() - timedelta(hours=1), timedelta(hours=1), report_usage=True
    )
    coordinator = await plugged(hass, vtn, callback_base)
    session = coordinator.chargers["charger1"].session
    assert session is not None
    start = now_utc().replace(minute=0, second=0, microsecond=0)
    link = link_of(coordinator)
    queued = await link.async_queue_usage(
        session.session_id, PEV, fed_intervals(session.session_id, PEV, start)
    )
    assert queued == 1
    await wait_for(hass, lambda: named(vtn, session.session_id) is not None)
    await wait_for(hass, lambda: link.state.backlog == 0)
    report = named(vtn, session.session_id)
    assert report is not None
    assert values(report, "USAGE") == [2.75, 0.0]
    assert values(report, "EXPORT_USAGE") == [0.0, 1.85]
    assert "EXPORT_USAGE" in {d["payloadType"] for d in report["payloadDescriptors"]}
