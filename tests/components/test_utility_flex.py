"""Flexibility offered ahead of time, end to end (issue 16): Home Assistant, the demo charger and
the test VTN on 127.0.0.1 (every request validated against the 3.1.0 contract).

A *reporting event* of the program asks for ``USAGE_FORECAST``, ``LOAD_SHED_DELTA_AVAILABLE``,
``STORAGE_CHARGE_LEVEL`` and ``STORAGE_USABLE_CAPACITY`` in its ``reportDescriptors``; the
demo car (60 kWh, 30 %) plugs in at the 11 kW demo charger.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.flexibility import forecast_grid
from tests.openadr.test_reports_flex import check
from tests.vtn.server import TestVtn, now_utc, ts

from .common import setup, state
from .test_utility import GARAGE, link_of, linked_entry, plug, ticking, wait_for

__all__ = ["ticking"]  # the fixture, used by name

PEV = "PEV-DEMO-0001"
ALL = [
    "USAGE_FORECAST",
    "LOAD_SHED_DELTA_AVAILABLE",
    "STORAGE_CHARGE_LEVEL",
    "STORAGE_USABLE_CAPACITY",
]


def reporting_event(vtn: TestVtn, payloads: list[str]) -> dict[str, Any]:
    """A day-long event whose only purpose is to ask for reports (its GHG payload changes
    nothing here)."""
    return vtn.create_event(
        name="flexibility",
        interval_period={"start": ts(now_utc() - timedelta(hours=1)), "duration": "P1D"},
        intervals=[{"id": 0, "payloads": [{"type": "GHG", "values": [300]}]}],
        report_descriptors=[{"payloadType": p} for p in payloads],
    )


def named(vtn: TestVtn, name: str) -> dict[str, Any] | None:
    return next((r for r in vtn.reports.values() if r["reportName"] == name), None)


def values(report: dict[str, Any], payload: str) -> list[float]:
    return [
        p["values"][0]
        for resource in report["resources"]
        for interval in resource["intervals"]
        for p in interval["payloads"]
        if p["type"] == payload
    ]


async def steps(hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: int) -> None:
    """Move the clock minute by minute, letting the link, the plan and the reports run."""
    for _ in range(minutes):
        freezer.tick(timedelta(seconds=60))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


async def plugged(hass: HomeAssistant, vtn: TestVtn, callback: str) -> PevPortalCoordinator:
    vtn.approve(PEV)
    coordinator = await setup(hass, linked_entry(vtn, callback))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    return coordinator


async def outbox_body(coordinator: PevPortalCoordinator, key: str) -> dict[str, Any] | None:
    row = await coordinator.store.read(lambda s: s.outbox_report(key, coordinator.premise_id))
    return row["body"] if row else None


def versions(vtn: TestVtn, report: dict[str, Any]) -> int:
    return len(vtn.report_versions[report["id"]])


async def test_reporting_event_gets_the_flexibility_reports(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """Asked for all four: the plan's forecast and sheddable load per 15-minute interval, and
    the battery, each a valid 3.1.0 report named after the PEV."""
    event = reporting_event(vtn, ALL)
    coordinator = await plugged(hass, vtn, callback_base)
    await wait_for(hass, lambda: named(vtn, f"flex-{PEV}") and named(vtn, f"storage-{PEV}"))
    flex = named(vtn, f"flex-{PEV}")
    storage = named(vtn, f"storage-{PEV}")
    assert flex is not None
    assert storage is not None
    assert flex["eventID"] == storage["eventID"] == event["id"]
    assert flex["clientName"] == "PREMISE-1"
    for key in (f"flex:{PEV}:{event['id']}", f"storage:{PEV}:{event['id']}"):
        body = await outbox_body(coordinator, key)
        assert body is not None
        check(body)  # the 3.1.0 reportRequest and the payload enumerations

    forecast = values(flex, "USAGE_FORECAST")
    shed = values(flex, "LOAD_SHED_DELTA_AVAILABLE")
    assert len(forecast) == len(shed) >= 2
    plan = coordinator.smart.plan
    assert plan is not None
    planned = plan.vehicles["charger1"].energy_kwh
    # 30 % to full of 60 kWh at 11 kW: about 3.8 h, every 15 minutes of it in the forecast.
    assert sum(forecast) == pytest.approx(planned, rel=0.02, abs=0.05)
    assert forecast[1] == pytest.approx(11.04 / 4, abs=0.01)
    for kwh, kw in zip(forecast, shed, strict=True):
        assert kw <= 0, "a decrease"
        assert -kw <= kwh * 4 + 1e-5, "never more than the planned power"
    # Charging at once with no departure: all of it could wait.
    assert -shed[1] == pytest.approx(11.04, abs=0.01)
    assert values(storage, "STORAGE_CHARGE_LEVEL") == [pytest.approx(0.30, abs=0.01)]
    assert values(storage, "STORAGE_USABLE_CAPACITY") == [60.0]
    await wait_for(hass, lambda: link_of(coordinator).state.backlog == 0)


async def test_event_not_asking_gets_none(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """An event asking only for USAGE gets the session's USAGE report and no flexibility."""
    vtn.create_price_event(
        [0.2] * 48, now_utc() - timedelta(hours=1), timedelta(hours=1), report_usage=True
    )
    coordinator = await plugged(hass, vtn, callback_base)
    await steps(hass, ticking, 20)
    await wait_for(hass, lambda: len(vtn.reports) == 1)
    (report,) = vtn.reports.values()
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert report["reportName"] == session.session_id
    names = {r["reportName"] for r in vtn.reports.values()}
    assert not any(n.startswith(("flex-", "storage-")) for n in names)
    assert coordinator.flex is not None
    assert coordinator.flex.queued == 0


async def test_storage_only_when_the_soc_is_known(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A state of charge that is not a number (NaN): the forecast goes, the battery does not."""
    monkeypatch.setattr(
        "custom_components.pev_portal.flex_reports.state_of_charge", lambda *_args: math.nan
    )
    reporting_event(vtn, ALL)
    coordinator = await plugged(hass, vtn, callback_base)
    await wait_for(hass, lambda: named(vtn, f"flex-{PEV}") is not None)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert named(vtn, f"storage-{PEV}") is None
    assert coordinator.flex is not None
    assert coordinator.flex.queued == 1, "the forecast alone"


async def test_plan_change_refreshes_rate_limited(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """A load-control event changes the plan: the forecast follows, but not sooner than five
    minutes after the last one; the unplug sends the forecast from then on as 0."""
    reporting_event(vtn, ["USAGE_FORECAST"])
    coordinator = await plugged(hass, vtn, callback_base)
    await wait_for(hass, lambda: named(vtn, f"flex-{PEV}") is not None)
    flex = named(vtn, f"flex-{PEV}")
    assert flex is not None
    assert values(flex, "LOAD_SHED_DELTA_AVAILABLE") == [], "not asked for"
    await wait_for(hass, lambda: link_of(coordinator).state.backlog == 0)
    first = versions(vtn, flex)
    assert max(values(vtn.reports[flex["id"]], "USAGE_FORECAST")) > 2.7

    vtn.create_dlc_event(7.0, now_utc() - timedelta(seconds=1), timedelta(hours=6))
    await wait_for(hass, lambda: coordinator.chargers["charger1"].cap_kw == 7.0)
    await steps(hass, ticking, 3)
    assert versions(vtn, flex) == first, "rate-limited: not within five minutes"
    await steps(hass, ticking, 4)
    await wait_for(hass, lambda: versions(vtn, flex) > first)
    capped = values(vtn.reports[flex["id"]], "USAGE_FORECAST")
    # Every interval inside the event's six hours (the first began before it) is held to it.
    assert max(capped[1:-2]) <= 7.0 / 4 + 1e-6, capped
    times = [
        datetime.fromisoformat(v["modificationDateTime"])
        for v in vtn.report_versions[flex["id"]][1:]
    ]
    assert all(b - a >= timedelta(minutes=4, seconds=30) for a, b in itertools.pairwise(times))

    before = versions(vtn, flex)
    await plug(hass, on=False)
    await wait_for(hass, lambda: versions(vtn, flex) > before)
    left = values(vtn.reports[flex["id"]], "USAGE_FORECAST")
    assert left, "the intervals still ahead"
    assert set(left) == {0.0}, "the vehicle left: nothing planned any more"


async def test_outage_then_delivery_nothing_twice(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """Forecasts made while the VTN is down wait in the outbox under their one name; once it is
    back the newest arrives, once, as an update of the same report."""
    event = reporting_event(vtn, ["USAGE_FORECAST", "LOAD_SHED_DELTA_AVAILABLE"])
    coordinator = await plugged(hass, vtn, callback_base)
    link = link_of(coordinator)
    await wait_for(hass, lambda: named(vtn, f"flex-{PEV}") is not None)
    await wait_for(hass, lambda: link.state.backlog == 0)
    flex = named(vtn, f"flex-{PEV}")
    assert flex is not None
    delivered = versions(vtn, flex)
    assert coordinator.flex is not None
    queued = coordinator.flex.queued

    await vtn.go_down()
    for mode in ("cheapest", "immediate", "cheapest"):  # three plans while it is down
        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": "select.family_car_charge_mode", "option": mode},
            blocking=True,
        )
        await steps(hass, ticking, 6)
    assert coordinator.flex.queued >= queued + 2, "refreshed while down"
    assert versions(vtn, flex) == delivered
    assert link.state.backlog == 1, "one report waiting: its newest version"

    newest = await outbox_body(coordinator, f"flex:{PEV}:{event['id']}")
    assert newest is not None
    await vtn.come_back()
    for _ in range(30):
        await steps(hass, ticking, 1)
        if versions(vtn, flex) > delivered:
            break
    sent = vtn.report_versions[flex["id"]]
    assert len(sent) > delivered
    # The first version after the outage is the newest made during it: the others never went.
    assert sent[delivered]["resources"] == newest["resources"]
    assert sent[delivered - 1]["resources"] != newest["resources"]
    assert [r["reportName"] for r in vtn.reports.values()].count(f"flex-{PEV}") == 1
    await wait_for(hass, lambda: link.state.backlog == 0)


async def test_shed_failure_still_sends_the_forecast(
    hass: HomeAssistant,
    vtn: TestVtn,
    callback_base: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sheddable load cannot be computed (a planner failure): logged, the forecast is sent
    all the same and no shed is offered."""

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ArithmeticError("planner failure")

    monkeypatch.setattr("custom_components.pev_portal.flex_reports.shed_available", broken)
    reporting_event(vtn, ["USAGE_FORECAST", "LOAD_SHED_DELTA_AVAILABLE"])
    await plugged(hass, vtn, callback_base)
    await wait_for(hass, lambda: named(vtn, f"flex-{PEV}") is not None)
    flex = named(vtn, f"flex-{PEV}")
    assert flex is not None
    assert sum(values(flex, "USAGE_FORECAST")) > 0
    assert set(values(flex, "LOAD_SHED_DELTA_AVAILABLE")) == {0.0}
    assert "The sheddable load could not be computed" in caplog.text


async def test_refused_body_is_logged_and_tried_later(
    hass: HomeAssistant,
    vtn: TestVtn,
    callback_base: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A body the report rules refuse (a value that is not a number) is logged, nothing is
    queued for it, and the link goes on."""

    def refused(**_kwargs: Any) -> Any:
        raise ValueError("forecast must be a finite number, got nan")

    monkeypatch.setattr("custom_components.pev_portal.flex_reports.flexibility_report", refused)
    reporting_event(vtn, ["USAGE_FORECAST"])
    coordinator = await plugged(hass, vtn, callback_base)
    await wait_for(hass, lambda: "Flexibility report of PEV-DEMO-0001 not queued" in caplog.text)
    assert coordinator.flex is not None
    assert coordinator.flex.queued == 0
    assert named(vtn, f"flex-{PEV}") is None
    assert link_of(coordinator).state.connected


async def test_refreshed_at_least_hourly(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """Without a change of the plan the reports are not sent again within the hour, and are
    sent again once the hour is over (the forecast moves with the clock)."""
    reporting_event(vtn, ["USAGE_FORECAST", "STORAGE_CHARGE_LEVEL"])
    coordinator = await plugged(hass, vtn, callback_base)
    await wait_for(hass, lambda: named(vtn, f"storage-{PEV}") is not None)
    flex = coordinator.flex
    assert flex is not None
    await hass.async_block_till_done(wait_background_tasks=True)
    (sent,) = set(flex.sent.values())
    flex._plan_changed[PEV] = sent - timedelta(seconds=1)  # no change of the plan since
    assert await flex.async_refresh(sent + timedelta(minutes=59)) == 0
    assert await flex.async_refresh(sent + timedelta(minutes=61)) == 2


async def test_no_shed_from_a_plan_of_other_vehicles(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A vehicle came or left since the plan was made: no shed is computed from it (the next
    plan, a moment later, gives it)."""
    reporting_event(vtn, ["USAGE_FORECAST"])
    coordinator = await plugged(hass, vtn, callback_base)
    plan = coordinator.smart.plan
    flex = coordinator.flex
    assert plan is not None
    assert flex is not None
    runtime = coordinator.chargers["charger1"]
    stale = replace(plan, vehicles={**plan.vehicles, "gone": plan.vehicles["charger1"]})
    now = dt_util.utcnow()
    grid = forecast_grid(now, now + timedelta(hours=1), 15)
    assert await flex._async_shed(runtime, stale, grid, now) is None
    assert await flex._async_shed(runtime, plan, grid, now) is not None
