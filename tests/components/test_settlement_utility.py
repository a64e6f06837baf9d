"""Settlement end to end with the utility: a load-control event from the test VTN whose
reportDescriptors ask for BASELINE and DELTA_USAGE, a program declaring its incentive, the demo
charger and a real Home Assistant. The VTN validates every body against the 3.1.0 contract
(``vtn.violations`` is checked by the fixture).

By hand: the demo car charges at once at 11.04 kW (counterfactual); the 7 kW cap holds it at
10 A x 3 x 230 V = 6.9 kW, so each 15-minute interval of the hour has a BASELINE of 2.76 kWh
and a DELTA_USAGE of 1.725 - 2.76 = -1.035 kWh; 4.14 kWh delivered, paid 0.30 USD per kWh:
an estimated credit of 1.24 USD.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.components.calendar import DATA_COMPONENT as CALENDARS
from homeassistant.core import HomeAssistant

from tests.vtn.server import TestVtn, now_utc

from .common import attrs, setup, state
from .test_commissioning import flagged_test
from .test_utility import GARAGE, advance, link_of, linked_entry, plug, ticking, wait_for

__all__ = ["ticking"]

SENSOR = "sensor.test_home_last_event_performance"
ATTRIBUTES = [
    {"type": "INCENTIVE_PER_KWH", "values": [0.30]},
    {"type": "BASELINE_METHOD", "values": ["COUNTERFACTUAL"]},
]
DESCRIPTORS = [
    {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "PRICE", "units": "KWH"},
    {
        "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
        "payloadType": "INCENTIVE_PER_KWH",
        "currency": "USD",
    },
]


def _payloads(report: dict[str, Any], kind: str) -> list[float]:
    return [
        p["values"][0]
        for r in report["resources"]
        for i in r["intervals"]
        for p in i["payloads"]
        if p["type"] == kind
    ]


async def test_utility_event_reported_and_credited(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """BASELINE and DELTA_USAGE per interval reach the VTN after the event (and are updated
    in place at unplug); the program's incentive gives the estimated credit."""
    program = next(iter(vtn.programs.values()))
    program["attributes"] = ATTRIBUTES
    program["payloadDescriptors"] = DESCRIPTORS
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    runtime = coordinator.chargers["charger1"]
    session = runtime.session
    assert session is not None
    # The event starts on the metering grid (as utilities' events do): move the clock to
    # 3 s before the next 15-minute boundary, in steps the link follows.
    now = now_utc()
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    start += timedelta(minutes=15)
    await advance(hass, ticking, (start - now).total_seconds() - 3)
    event = vtn.create_event(
        name="peak shave",
        priority=1,
        interval_period={"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "duration": "PT1H"},
        payload_descriptors=[
            {
                "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                "payloadType": "IMPORT_CAPACITY_LIMIT",
                "units": "KW",
            }
        ],
        report_descriptors=[{"payloadType": "BASELINE"}, {"payloadType": "DELTA_USAGE"}],
        intervals=[{"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [7.0]}]}],
    )
    await wait_for(
        hass, lambda: (session.session_id, event["id"]) in coordinator.settlement.unsettled
    )
    await wait_for(hass, lambda: runtime.cap_kw == 7.0)  # in force (real time) before jumps
    await advance(hass, ticking, 75 * 60 + 10)
    name = f"{session.session_id}-{event['id']}"
    await wait_for(hass, lambda: any(r["reportName"] == name for r in vtn.reports.values()))
    (report,) = [r for r in vtn.reports.values() if r["reportName"] == name]
    assert report["eventID"] == event["id"]
    assert report["resources"][0]["resourceName"] == "PEV-DEMO-0001"
    baseline, delta = _payloads(report, "BASELINE"), _payloads(report, "DELTA_USAGE")
    assert len(baseline) == len(delta) == 4
    assert baseline == pytest.approx([2.76] * 4, abs=0.02)
    assert delta == pytest.approx([-1.035] * 4, abs=0.02)
    assert float(state(hass, SENSOR)) == pytest.approx(4.14, abs=0.05)
    shown = attrs(hass, SENSOR)
    assert shown["event_name"] == "peak shave"
    assert shown["incentive"] == "1.24"
    assert shown["currency"] == "USD"
    assert shown["compliance"] == pytest.approx(1.0, abs=0.02)
    # The event, over, stays on the charging-plan calendar with its result.
    calendar = hass.data[CALENDARS].get_entity("calendar.test_home_charging_plan")
    assert calendar is not None
    found = await calendar.async_get_events(hass, start, start + timedelta(hours=1))
    [result] = [e for e in found if e.uid == f"result-{event['id']}"]
    assert result.summary == "peak shave · result"
    assert result.description is not None
    assert result.description.startswith("Result: 4.1 kWh reduced")
    assert result.description.endswith("estimated credit 1.24 USD")

    await plug(hass, on=False)
    await wait_for(hass, lambda: len(vtn.report_versions[report["id"]]) >= 2)
    await wait_for(hass, lambda: link_of(coordinator).state.backlog == 0)
    assert [r["reportName"] for r in vtn.reports.values()].count(name) == 1, "in place"
    assert coordinator.settlement.performances()[0]["final"] is True


async def test_no_performance_report_unless_asked(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """An event without BASELINE or DELTA_USAGE descriptors is settled and shown, but nothing
    is sent to the utility for it."""
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    vtn.create_dlc_event(7.0, now_utc() - timedelta(seconds=1), timedelta(minutes=30))
    await wait_for(hass, lambda: bool(coordinator.settlement.unsettled))
    await advance(hass, ticking, 45 * 60 + 10)
    await wait_for(hass, lambda: bool(coordinator.settlement.performances()))
    assert coordinator.settlement.performances()[0]["incentive"] is None
    assert not vtn.reports
    stats = await coordinator.store.read(lambda s: s.outbox_stats(coordinator.premise_id))
    assert stats["total"] == 0


async def test_an_event_cancelled_before_it_began_is_forgotten(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """The utility cancels an event before its start: it never touched the session, so its
    frozen counterfactual is dropped (from the store too) and nothing is settled."""
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    event = vtn.create_dlc_event(7.0, now_utc() + timedelta(hours=1), timedelta(hours=1))
    await wait_for(hass, lambda: bool(coordinator.settlement.unsettled))
    await hass.async_block_till_done(wait_background_tasks=True)
    rows = await coordinator.store.read(lambda s: s.settlements_unsettled("PREMISE-1"))
    assert [r["event_id"] for r in rows] == [event["id"]]
    vtn.cancel_event(event["id"])
    await wait_for(hass, lambda: not coordinator.settlement.unsettled)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await coordinator.store.read(lambda s: s.settlements_unsettled("PREMISE-1")) == []
    assert coordinator.settlement.performances() == []


async def test_a_critical_peak_price_event_is_settled(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """A utility critical-peak PRICE event (above the base tariff) touching a session on the
    program rate is settled as a price event: nothing asked, no compliance, flagged. The demo
    car charges at once whatever the price, so the reduction is about nothing (the
    counterfactual without the price is the same plan)."""
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    event = vtn.create_cpp_event(
        1.0, now_utc() - timedelta(seconds=1), timedelta(minutes=10), currency="EUR"
    )
    await wait_for(hass, lambda: bool(coordinator.settlement.unsettled))
    await advance(hass, ticking, 25 * 60 + 10)
    await wait_for(hass, lambda: bool(coordinator.settlement.performances()))
    perf = coordinator.settlement.performances()[0]
    assert (perf["event_id"], perf["kind"], perf["source"]) == (event["id"], "price", "utility")
    assert perf["asked_kwh"] is None
    assert perf["compliance"] is None
    assert "price_event" in perf["flags"]
    assert perf["delivered_kwh"] == pytest.approx(0.0, abs=0.1)


async def test_a_commissioning_test_event_is_not_settled(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A utility test event (flagged TEST_EVENT) caps the session but is the enrollment's to
    verify and report: no counterfactual is frozen for it, nothing settled or sent twice."""
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    runtime = coordinator.chargers["charger1"]
    flagged_test(vtn, now_utc() - timedelta(seconds=1))
    await wait_for(hass, lambda: runtime.cap_kw == 7.0)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert coordinator.settlement.unsettled == {}
    assert await coordinator.store.read(lambda s: s.settlements_unsettled("PREMISE-1")) == []
