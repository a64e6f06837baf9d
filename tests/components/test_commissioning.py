"""Commissioning end to end: Home Assistant, the demo charger and the local test VTN.

A utility test event (flagged ``TEST_EVENT``) or a local test (the vehicle's button, when the
program's ``COMMISSIONING_TEST`` is ``LOCAL``) is verified on the charger's measured power;
the enrollment moves (pending, test requested, verified, active, or back), the sensor shows the
measured response, and the reports reach the VTN, valid against the 3.1.0 contract. The clock
is frozen and moved by the test (``ticking``: it also runs at real speed for the HTTP
exchanges with the VTN).
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.pev_portal.commissioning import Commissioning
from custom_components.pev_portal.const import STORE_FILENAME
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.diagnostics import async_get_config_entry_diagnostics
from custom_components.pev_portal.io.store import LedgerStore
from tests.openadr.test_reports_flex import check
from tests.vtn.server import TestVtn, iso_duration, now_utc, ts

from .common import attrs, state
from .conftest import PREMISE, PROGRAM
from .test_entity_charger import CP, DRIVEWAY, ChargePoint, record_switch_calls
from .test_utility import GARAGE, linked_entry, plug, ticking, wait_for

__all__ = ["ticking"]  # the fixture, used by name

PEV = "PEV-DEMO-0001"
SENSOR = "sensor.family_car_commissioning"
BUTTON = "button.family_car_start_commissioning_test"


def program_attributes(vtn: TestVtn, *attributes: dict[str, Any]) -> None:
    """Declare the program's commissioning attributes (before the link reads it)."""
    (program,) = vtn.programs.values()
    program["attributes"] = list(attributes)


def flagged_test(vtn: TestVtn, start: datetime, *, cap_kw: float = 7.0) -> dict[str, Any]:
    """BL: a five-minute load-control test event flagged with the TEST_EVENT payload."""
    return vtn.create_event(
        program=PROGRAM,
        name="commissioning test",
        interval_period={"start": ts(start), "duration": iso_duration(timedelta(minutes=5))},
        payload_descriptors=[
            {
                "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                "payloadType": "IMPORT_CAPACITY_LIMIT",
                "units": "KW",
            }
        ],
        intervals=[
            {
                "id": 0,
                "payloads": [
                    {"type": "IMPORT_CAPACITY_LIMIT", "values": [cap_kw]},
                    {"type": "TEST_EVENT", "values": [True]},
                ],
            }
        ],
    )


async def step(hass: HomeAssistant, clock: Any, seconds: float) -> None:
    """Move the clock in 5-second ticks (the coordinator samples at each one)."""
    remaining = seconds
    while remaining > 0:
        clock.tick(timedelta(seconds=min(5.0, remaining)))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        remaining -= 5.0


async def linked(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> tuple[MockConfigEntry, PevPortalCoordinator]:
    entry = linked_entry(vtn, callback_base)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: PevPortalCoordinator = entry.runtime_data
    return entry, coordinator


def commissioning_of(coordinator: PevPortalCoordinator) -> Commissioning:
    assert coordinator.commissioning is not None
    return coordinator.commissioning


async def charging(hass: HomeAssistant, coordinator: PevPortalCoordinator, clock: Any) -> None:
    """Plug the demo car in at home and let it charge at full power."""
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    await step(hass, clock, 10)
    demo = coordinator.chargers["charger1"].demo
    assert demo is not None
    assert demo.evse.power_kw > 10


def reports_of(vtn: TestVtn, event_id: str) -> dict[str, dict[str, Any]]:
    """The VEN's reports to an event, by the payload types they carry."""
    found = {}
    for report in vtn.reports.values():
        if report["eventID"] == event_id:
            kinds = {d["payloadType"] for d in report["payloadDescriptors"]}
            found[" ".join(sorted(kinds))] = report
    return found


def payloads(report: dict[str, Any], kind: str) -> list[Any]:
    return [
        payload["values"][0]
        for resource in report["resources"]
        for interval in resource["intervals"]
        for payload in interval["payloads"]
        if payload["type"] == kind
    ]


async def test_a_utility_test_passed_is_verified_reported_then_active_then_suspended(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """The charger drops to the test's limit at once: verified, with the response measured;
    OPERATING_STATE and BASELINE/DELTA_USAGE reach the VTN; the next program event activates;
    a failed re-test suspends."""
    vtn.approve(PEV)
    program_attributes(vtn, {"type": "RESPONSE_TIME", "values": ["PT1M"]})
    _, coordinator = await linked(hass, vtn, callback_base)
    assert state(hass, SENSOR) == "pending"
    assert attrs(hass, SENSOR)["program"] == PROGRAM
    await charging(hass, coordinator, ticking)

    event = flagged_test(vtn, now_utc() + timedelta(seconds=20))
    await wait_for(hass, lambda: state(hass, SENSOR) == "test_requested")
    await step(hass, ticking, 5 * 60 + 30)
    await wait_for(hass, lambda: state(hass, SENSOR) == "verified")
    shown = attrs(hass, SENSOR)
    assert shown["test_passed"] is True
    assert shown["test_source"] == "utility"
    assert shown["test_limit_kw"] == 7.0
    assert shown["test_power_before_kw"] > 10
    assert 0 <= shown["test_response_s"] <= 10, "the cap applies at the event's start"
    assert shown["test_power_after_kw"] <= 7.35

    await wait_for(hass, lambda: len(reports_of(vtn, event["id"])) == 2)
    reports = reports_of(vtn, event["id"])
    states, delta = reports["OPERATING_STATE"], reports["BASELINE DELTA_USAGE"]
    for report in (states, delta):
        check(report)
        assert report["resources"][0]["resourceName"] == PEV
    assert payloads(states, "OPERATING_STATE")[-1] == "RUNNING_CURTAILED"
    deltas = payloads(delta, "DELTA_USAGE")
    assert sum(deltas) < -0.3, "about 4 kW less for most of 5 minutes"
    await wait_for(
        hass, lambda: coordinator.link is not None and coordinator.link.state.backlog == 0
    )

    vtn.create_price_event([0.3], now_utc(), timedelta(hours=1), program=PROGRAM)
    await wait_for(hass, lambda: state(hass, SENSOR) == "active")
    assert commissioning_of(coordinator).takes_part(PEV, PROGRAM)

    # A re-test the charger fails: the active vehicle is suspended.
    demo = coordinator.chargers["charger1"].demo
    assert demo is not None
    demo.evse.ignore_commands = True
    flagged_test(vtn, now_utc() + timedelta(seconds=20))
    await wait_for(hass, lambda: state(hass, SENSOR) == "test_requested")
    await step(hass, ticking, 5 * 60 + 30)
    await wait_for(hass, lambda: state(hass, SENSOR) == "suspended")
    assert not commissioning_of(coordinator).takes_part(PEV, PROGRAM)


async def test_a_charger_ignoring_the_limit_fails_the_test(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """The demo charger ignores its commands: the power stays up, the test fails, the vehicle
    is back to pending and the utility gets ERROR with the load unchanged."""
    vtn.approve(PEV)
    _, coordinator = await linked(hass, vtn, callback_base)
    await charging(hass, coordinator, ticking)
    demo = coordinator.chargers["charger1"].demo
    assert demo is not None
    demo.evse.ignore_commands = True

    event = flagged_test(vtn, now_utc() + timedelta(seconds=20))
    await wait_for(hass, lambda: state(hass, SENSOR) == "test_requested")
    await step(hass, ticking, 5 * 60 + 30)
    await wait_for(hass, lambda: attrs(hass, SENSOR).get("test_passed") is False)
    assert state(hass, SENSOR) == "pending"
    shown = attrs(hass, SENSOR)
    assert shown["test_power_after_kw"] > 10
    assert "stayed above" in shown["test_reason"]

    await wait_for(hass, lambda: len(reports_of(vtn, event["id"])) == 2)
    reports = reports_of(vtn, event["id"])
    check(reports["OPERATING_STATE"])
    check(reports["BASELINE DELTA_USAGE"])
    assert payloads(reports["OPERATING_STATE"], "OPERATING_STATE") == ["RUNNING_NORMAL", "ERROR"]
    assert payloads(reports["BASELINE DELTA_USAGE"], "DELTA_USAGE") == [0.0, 0.0]


async def test_restart_mid_test_resumes_with_the_samples_taken(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """Home Assistant restarts in the middle of a test: the test goes on after the restart and
    is verified on the samples from before it too (the response measured before it)."""
    vtn.approve(PEV)
    entry, coordinator = await linked(hass, vtn, callback_base)
    await charging(hass, coordinator, ticking)
    event = flagged_test(vtn, now_utc() + timedelta(seconds=20))
    await wait_for(hass, lambda: state(hass, SENSOR) == "test_requested")
    await step(hass, ticking, 90)
    record = commissioning_of(coordinator).records[(PEV, PROGRAM)]
    assert record.test is not None
    taken = len(record.test.samples)
    assert taken >= 10

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await step(hass, ticking, 20)  # down for a while
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    assert state(hass, SENSOR) == "test_requested"
    again = commissioning_of(coordinator).records[(PEV, PROGRAM)].test
    assert again is not None
    assert len(again.samples) == taken, "the samples from before the restart are kept"

    await step(hass, ticking, 4 * 60)
    await wait_for(hass, lambda: state(hass, SENSOR) == "verified")
    assert attrs(hass, SENSOR)["test_response_s"] <= 10
    await wait_for(hass, lambda: len(reports_of(vtn, event["id"])) == 2)


async def test_a_local_test_from_the_button(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """A program asking for a local test: the button caps this vehicle's charger at its
    minimum power, the test passes, and the program's reporting event gets the reports."""
    vtn.approve(PEV)
    program_attributes(
        vtn,
        {"type": "COMMISSIONING_TEST", "values": ["LOCAL"]},
        {"type": "RESPONSE_TIME", "values": ["PT30S"]},
    )
    reporting = vtn.create_event(
        program=PROGRAM,
        name="reporting",
        interval_period={"start": ts(now_utc()), "duration": "PT24H"},
        report_descriptors=[{"payloadType": "OPERATING_STATE"}, {"payloadType": "DELTA_USAGE"}],
        intervals=[{"id": 0, "payloads": [{"type": "PRICE", "values": [0.2]}]}],
    )
    _, coordinator = await linked(hass, vtn, callback_base)
    with pytest.raises(ServiceValidationError) as unplugged:
        await coordinator.async_start_commissioning_test(coordinator.vehicles["vehicle1"])
    assert unplugged.value.translation_key == "no_session"

    await charging(hass, coordinator, ticking)
    await hass.services.async_call("button", "press", {"entity_id": BUTTON}, blocking=True)
    assert len(coordinator.events.local) == 1
    runtime = coordinator.chargers["charger1"]
    assert runtime.cap_kw == pytest.approx(4.14), "6 A on three phases"
    assert state(hass, SENSOR) == "test_requested"
    with pytest.raises(ServiceValidationError) as twice:
        await hass.services.async_call("button", "press", {"entity_id": BUTTON}, blocking=True)
    assert twice.value.translation_key == "commissioning_test_running"
    await step(hass, ticking, 6 * 60)
    await wait_for(hass, lambda: state(hass, SENSOR) == "verified")

    # Started twice at once (the button and an automation): one test, the other is refused.
    await wait_for(hass, lambda: runtime.cap_kw is None)
    await step(hass, ticking, 10)
    vehicle = coordinator.vehicles["vehicle1"]
    first, second = await asyncio.gather(
        coordinator.async_start_commissioning_test(vehicle),
        coordinator.async_start_commissioning_test(vehicle),
        return_exceptions=True,
    )
    assert first is None
    assert isinstance(second, ServiceValidationError)
    assert second.translation_key == "commissioning_test_running"
    assert len(coordinator.events.local) == 2
    await step(hass, ticking, 6 * 60)
    await wait_for(hass, lambda: state(hass, SENSOR) == "verified")
    assert attrs(hass, SENSOR)["test_source"] == "local"
    await wait_for(hass, lambda: runtime.cap_kw is None)
    await wait_for(hass, lambda: len(reports_of(vtn, reporting["id"])) == 2)
    for report in reports_of(vtn, reporting["id"]).values():
        check(report)

    await coordinator.async_set_charging_enabled(runtime, False)  # paused: nothing to show
    await step(hass, ticking, 10)
    with pytest.raises(ServiceValidationError) as idle:
        await hass.services.async_call("button", "press", {"entity_id": BUTTON}, blocking=True)
    assert idle.value.translation_key == "commissioning_not_charging"


async def test_no_local_test_when_the_utility_starts_it(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    vtn.approve(PEV)
    _, coordinator = await linked(hass, vtn, callback_base)
    await charging(hass, coordinator, ticking)
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call("button", "press", {"entity_id": BUTTON}, blocking=True)
    assert refused.value.translation_key == "commissioning_not_local"
    assert state(hass, SENSOR) == "pending"


async def test_a_result_written_while_the_store_fails_is_kept(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """The ledger is locked when the test ends: the result is kept, written once the lock
    goes, and read back after a restart; the diagnostics show it without the PEV ID."""
    vtn.approve(PEV)
    entry, coordinator = await linked(hass, vtn, callback_base)
    await charging(hass, coordinator, ticking)
    flagged_test(vtn, now_utc() + timedelta(seconds=20))
    await wait_for(hass, lambda: state(hass, SENSOR) == "test_requested")
    await step(hass, ticking, 4 * 60)

    path = Path(hass.config.path(STORE_FILENAME))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        await step(hass, ticking, 90)
        await wait_for(hass, lambda: state(hass, SENSOR) == "verified")
        await wait_for(hass, lambda: coordinator.store.status.failing_since is not None)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await wait_for(hass, lambda: coordinator.store.status.failing_since is None)

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    (shown,) = diagnostics["commissioning"]
    assert shown["state"] == "verified"
    assert shown["pev_id"] == "**REDACTED**"
    assert PEV not in str(diagnostics)

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, SENSOR) == "verified"
    assert attrs(hass, SENSOR)["test_passed"] is True


async def test_cancelled_or_unusable_test_events(
    hass: HomeAssistant,
    vtn: TestVtn,
    callback_base: str,
    ticking: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A test event cancelled before it starts leaves the test requested (a later one runs);
    a test event without a load-control payload is logged and is no test."""
    vtn.approve(PEV)
    _, coordinator = await linked(hass, vtn, callback_base)
    await charging(hass, coordinator, ticking)
    priced = vtn.create_event(
        program=PROGRAM,
        interval_period={"start": ts(now_utc()), "duration": "PT5M"},
        intervals=[
            {
                "id": 0,
                "payloads": [
                    {"type": "PRICE", "values": [0.5]},
                    {"type": "TEST_EVENT", "values": [True]},
                ],
            }
        ],
    )
    await wait_for(hass, lambda: f"Test event {priced['id']}" in caplog.text)
    assert state(hass, SENSOR) == "pending"

    first = flagged_test(vtn, now_utc() + timedelta(minutes=10))
    await wait_for(hass, lambda: state(hass, SENSOR) == "test_requested")
    vtn.cancel_event(first["id"])
    await wait_for(hass, lambda: attrs(hass, SENSOR)["reason"] == "test event cancelled")
    await step(hass, ticking, 5)
    assert state(hass, SENSOR) == "test_requested"
    assert "test_start" not in attrs(hass, SENSOR)

    second = flagged_test(vtn, now_utc() + timedelta(seconds=20))
    await wait_for(hass, lambda: attrs(hass, SENSOR).get("reason") == f"test event {second['id']}")
    await step(hass, ticking, 5 * 60 + 30)
    await wait_for(hass, lambda: state(hass, SENSOR) == "verified")
    assert reports_of(vtn, first["id"]) == {}


async def test_a_crash_before_the_reports_were_queued(
    hass: HomeAssistant,
    vtn: TestVtn,
    callback_base: str,
    ticking: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Home Assistant stops after the result was stored but before its reports were put in
    the outbox: they are queued at the next start. An unreadable stored row is skipped."""
    vtn.approve(PEV)
    entry, coordinator = await linked(hass, vtn, callback_base)
    await charging(hass, coordinator, ticking)
    event = flagged_test(vtn, now_utc() + timedelta(seconds=20))
    await wait_for(hass, lambda: state(hass, SENSOR) == "test_requested")
    with monkeypatch.context() as patched:
        patched.setattr(Commissioning, "_report", lambda *_: None)  # stops before queueing
        await step(hass, ticking, 5 * 60 + 30)
        await wait_for(hass, lambda: state(hass, SENSOR) == "verified")
        await hass.async_block_till_done(wait_background_tasks=True)
        assert reports_of(vtn, event["id"]) == {}
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    store = LedgerStore(Path(hass.config.path(STORE_FILENAME)))
    store.save_enrollment(
        "PEV-OTHER", PROGRAM, "verified", {"enrollment": "not an object"}, PREMISE["premise_id"]
    )
    store.close()
    raw = sqlite3.connect(hass.config.path(STORE_FILENAME))
    with raw:  # a row whose data is not JSON at all
        raw.execute(
            "INSERT INTO enrollments VALUES (?, 'PEV-THIRD', ?, 'active', '{not json', 'x')",
            (PREMISE["premise_id"], PROGRAM),
        )
    raw.close()

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(hass, lambda: len(reports_of(vtn, event["id"])) == 2)
    coordinator = entry.runtime_data
    assert list(commissioning_of(coordinator).records) == [(PEV, PROGRAM)]
    record = commissioning_of(coordinator).records[(PEV, PROGRAM)]
    await wait_for(hass, lambda: record.test is not None and record.test.reported)


async def test_a_vehicle_away_during_the_test_fails_it(
    hass: HomeAssistant,
    vtn: TestVtn,
    callback_base: str,
    ticking: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing measured (the vehicle was not plugged in): the test fails, still pending. A
    report body that cannot be built is logged and not queued."""
    vtn.approve(PEV)
    _, coordinator = await linked(hass, vtn, callback_base)
    event = flagged_test(vtn, now_utc() + timedelta(seconds=20))
    await wait_for(hass, lambda: state(hass, SENSOR) == "test_requested")
    await step(hass, ticking, 5 * 60 + 30)
    await wait_for(hass, lambda: attrs(hass, SENSOR).get("test_passed") is False)
    assert state(hass, SENSOR) == "pending"
    assert attrs(hass, SENSOR)["test_reason"] == "no measurement during the test"
    await wait_for(hass, lambda: len(reports_of(vtn, event["id"])) == 2)
    states = reports_of(vtn, event["id"])["OPERATING_STATE"]
    assert payloads(states, "OPERATING_STATE") == ["RUNNING_NORMAL", "ERROR"]

    record = commissioning_of(coordinator).records[(PEV, PROGRAM)]
    assert record.test is not None
    backlog = await coordinator.store.read(lambda s: s.outbox_stats(coordinator.premise_id))
    await commissioning_of(coordinator)._async_queue("P" * 200, record.test)  # too long an ID
    assert "not reported: report_name is longer than 128 characters" in caplog.text
    assert await coordinator.store.read(lambda s: s.outbox_stats(coordinator.premise_id)) == backlog


async def test_a_mapped_charger_whose_limit_does_nothing_fails_on_the_meter(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """A charge point mapped from entities, without a power sensor, whose current-limit number
    does nothing: the local test is measured on its end-use meter and fails; the other
    vehicles' sessions are not limited by it."""
    vtn.approve(PEV)
    program_attributes(vtn, {"type": "COMMISSIONING_TEST", "values": ["LOCAL"]})
    point = ChargePoint(hass, "cp", "sensor.meter_energy")
    point.install()
    plain = linked_entry(vtn, callback_base)
    charger = {k: v for k, v in CP.items() if k != "power_entity"}  # only the meter measures
    entry = MockConfigEntry(
        domain=plain.domain,
        title=plain.title,
        unique_id=plain.unique_id,
        data=plain.data,
        options=plain.options,
        subentries_data=[
            {
                "subentry_type": s.subentry_type,
                "title": s.title,
                "data": charger if s.subentry_type == "charger" else dict(s.data),
                "subentry_id": s.subentry_id,
                "unique_id": s.unique_id,
            }
            for s in plain.subentries.values()
        ],
        entry_id=plain.entry_id,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: PevPortalCoordinator = entry.runtime_data
    record_switch_calls(hass)
    numbers = async_mock_service(hass, "number", "set_value")  # accepted, and nothing changes

    async def deliver(seconds: float) -> None:
        remaining = seconds
        while remaining > 0:
            ticking.tick(timedelta(seconds=5))
            point.deliver(5, 1.0)
            async_fire_time_changed(hass)
            await hass.async_block_till_done()
            remaining -= 5

    await point.id_tag(PEV)
    await point.status("Preparing")
    await wait_for(hass, lambda: state(hass, f"sensor.{DRIVEWAY}_binding") == "home")
    point.set_power(7000)
    await point.status("Charging")
    await deliver(60)

    await hass.services.async_call("button", "press", {"entity_id": BUTTON}, blocking=True)
    limit = coordinator.chargers["charger1"].cap_kw
    assert limit == pytest.approx(1.38), "6 A on one phase"
    assert numbers, "the limit was sent to the charge point's number"
    now = now_utc()
    assert coordinator.events.limit_now(PEV, now, 7.36, 1.38) is not None
    assert coordinator.events.limit_now("PEV-GUEST-1", now, 7.36, 1.38) is None

    await deliver(7 * 60)
    await wait_for(hass, lambda: attrs(hass, SENSOR).get("test_passed") is False)
    shown = attrs(hass, SENSOR)
    assert state(hass, SENSOR) == "pending"
    assert shown["test_source"] == "local"
    assert shown["test_power_after_kw"] == pytest.approx(7.0, abs=0.2), "the meter's slope"


async def test_a_test_cancelled_while_it_runs_is_verified_on_what_was_measured(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    vtn.approve(PEV)
    _, coordinator = await linked(hass, vtn, callback_base)
    await charging(hass, coordinator, ticking)
    event = flagged_test(vtn, now_utc() + timedelta(seconds=10))
    await wait_for(hass, lambda: state(hass, SENSOR) == "test_requested")
    await step(hass, ticking, 90)
    vtn.cancel_event(event["id"])
    await wait_for(hass, lambda: state(hass, SENSOR) == "verified")
    shown = attrs(hass, SENSOR)
    planned_end = datetime.fromisoformat(event["intervalPeriod"]["start"]) + timedelta(minutes=5)
    assert datetime.fromisoformat(shown["test_end"]) < planned_end
    assert shown["test_passed"] is True
