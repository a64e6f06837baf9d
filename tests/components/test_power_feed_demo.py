"""Power feed through the single command owner, on the demo charger (issue #18, the charger
part): a bidirectional demo charger told a discharge target feeds its car's battery back and the
command is audited; a charger that cannot discharge is never asked; one that ignores the
command is found out; the order of commands across chargers; the demo's bidirectional mode
from the charger form and across a restart.

The planner's own discharge targets are another part of the issue: here the planner's target
is replaced by a discharge (``feed_helpers.feed_targets``), the seam that part fills.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.core.session import PauseReason
from custom_components.pev_portal.io.store import command_csv_rows

from .common import advance, setup
from .conftest import DEMO_CHARGER, OPTIONS, make_entry
from .feed_helpers import DEMO_V2G, feed_targets, record_evse

START = "2026-11-22T10:00:00+00:00"
ISSUE = "charger_ignores_commands_premise1_charger1"


def _after_last_feed(trail: list[dict[str, Any]]) -> dict[str, Any]:
    """The command that followed the trail's last feed (the commands after a restart follow)."""
    last = max(i for i, c in enumerate(trail) if c["current_a"] < 0)
    return trail[last + 1]


async def _plug(hass: HomeAssistant, name: str = "garage") -> None:
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": f"switch.{name}_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done()


async def test_bidirectional_demo_feeds_and_is_audited(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Told to feed 7.36 kW, the bidirectional demo charger feeds its car's battery back (its
    power below zero, its received register growing, the car's charge falling); the command is
    in the trail, the store and the export with a negative current and power, and obeyed.
    Back to charging, the feed is stopped (and the charger paused) before it may charge."""
    freezer.move_to(START)
    coordinator = await setup(hass, make_entry(charger=DEMO_V2G))
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    assert runtime.adapter.can_discharge()
    assert runtime.adapter.max_discharge_kw() == pytest.approx(7.36)
    assert runtime.adapter.describe()["discharge_range_kw"] == pytest.approx(7.36)
    await _plug(hass)
    evse = runtime.demo.evse
    car = evse.car
    assert car is not None
    assert car.bidirectional
    await advance(hass, freezer, 30)
    assert evse.power_kw == pytest.approx(7.36)  # charging at once (immediate)

    feeds = {"charger1": 7.36}
    feed_targets(monkeypatch, coordinator, feeds)
    seen: list[tuple[str, str, float]] = []
    evse = record_evse(runtime, seen)
    soc = evse.car.soc if evse.car else 0.0
    await coordinator.smart.async_run_now()
    assert seen == [("charger1", "discharge", 32.0), ("charger1", "enabled", 1.0)]
    await advance(hass, freezer, 60)
    assert evse.power_kw == pytest.approx(-7.36)
    fed = evse.discharged_kwh
    assert fed > 0.1
    assert evse.car is not None
    assert evse.car.soc < soc
    await advance(hass, freezer, 60)
    assert evse.discharged_kwh > fed  # the received register grows

    session = runtime.session
    assert session is not None
    assert session.pause_reason is None  # feeding is not a pause
    last = coordinator.smart.audit_for(runtime)[-1]
    assert last["current_a"] == -32
    assert last["target_kw"] == pytest.approx(-7.36)
    assert last["obeyed"] is True
    assert last["measured_by"] == "charger"
    assert last["measured_kw"] == pytest.approx(-7.36)
    stored = await coordinator.store.call(lambda s: s.commands(session.session_id))
    assert stored[-1]["current_a"] == -32
    assert stored[-1]["target_kw"] == pytest.approx(-7.36)
    header, *rows = command_csv_rows((session.session_id, c) for c in stored)
    exported = dict(zip(header, rows[-1], strict=True))
    assert (exported["current_a"], exported["target_kw"]) == ("-32", "-7.36")

    # Back to charging: the feed stopped (paused) first, then the current, then allowed.
    seen.clear()
    feeds.clear()
    await coordinator.smart.async_run_now()
    assert seen == [
        ("charger1", "discharge", 0.0),
        ("charger1", "enabled", 0.0),
        ("charger1", "current", 32.0),
        ("charger1", "enabled", 1.0),
    ]
    await advance(hass, freezer, 30)
    assert evse.power_kw == pytest.approx(7.36)
    assert coordinator.smart.audit_for(runtime)[-1]["current_a"] == 32


async def test_a_charger_that_cannot_discharge_is_never_asked(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A discharge target on a one-way charger is taken as 0 kW: paused, never a discharge
    command, logged once however often the planner asks."""
    freezer.move_to(START)
    coordinator = await setup(hass, make_entry(charger=DEMO_CHARGER))
    runtime = coordinator.chargers["charger1"]
    assert not runtime.adapter.can_discharge()
    await _plug(hass)
    await advance(hass, freezer, 30)
    seen: list[tuple[str, str, float]] = []
    evse = record_evse(runtime, seen)
    feed_targets(monkeypatch, coordinator, {"charger1": 5.0})
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        await coordinator.smart.async_run_now()
        await advance(hass, freezer, 15)
    assert [c for c in seen if c[1] == "discharge"] == []
    assert seen == [("charger1", "enabled", 0.0)]  # paused, once
    assert evse.power_kw == 0.0
    assert evse.discharged_kwh == 0.0
    assert runtime.session is not None
    assert runtime.session.pause_reason is PauseReason.PLAN
    refusals = [r for r in caplog.records if "cannot discharge" in r.getMessage()]
    assert len(refusals) == 1
    last = coordinator.smart.audit_for(runtime)[-1]
    assert (last["enabled"], last["current_a"], last["target_kw"]) == (False, 0, 0.0)


async def test_a_discharge_the_demo_ignores_is_found_out(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo EVSE ignoring commands: the discharge is sent, the charger goes on charging,
    and 10 s later the command is recorded as not obeyed with the ignored-discharge repairs
    text and notification; the session and its metering go on. The next command it obeys
    clears the issue."""
    freezer.move_to(START)
    options = {**OPTIONS, "notify_target": "notify.mobile_app_phone"}
    coordinator = await setup(hass, make_entry(charger=DEMO_V2G, options=options))
    notified = async_mock_service(hass, "notify", "mobile_app_phone")
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    await _plug(hass)
    await advance(hass, freezer, 30)
    evse = runtime.demo.evse
    evse.ignore_commands = True
    feeds = {"charger1": 7.36}
    feed_targets(monkeypatch, coordinator, feeds)
    await coordinator.smart.async_run_now()
    registry = ir.async_get(hass)
    assert registry.async_get_issue(DOMAIN, ISSUE) is None
    register = evse.register_kwh
    await advance(hass, freezer, 15)
    last = coordinator.smart.audit_for(runtime)[-1]
    assert last["target_kw"] == pytest.approx(-7.36)
    assert last["obeyed"] is False
    assert last["measured_kw"] == pytest.approx(7.36)
    issue = registry.async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.translation_key == "charger_ignores_discharge"
    assert issue.translation_placeholders == {
        "charger": "Garage",
        "target": "7.36",
        "measured": "7.36",
    }
    await hass.async_block_till_done()
    assert [c.data["message"] for c in notified] == [
        "Garage was told to feed 7.36 kW back from the vehicle, but 7.36 kW was measured. "
        "Check that its discharge power (or, on a Wallbox Quasar, its current limit below "
        "zero) really controls it; the repair in Settings > System > Repairs has the details."
    ]
    # Nothing lost: the session goes on, metered.
    await advance(hass, freezer, 60)
    assert runtime.session is not None
    assert evse.register_kwh > register
    assert runtime.session.meter_kwh > 0
    assert evse.discharged_kwh == 0.0

    # It obeys again: a lower feed goes through and the issue clears.
    evse.ignore_commands = False
    feeds["charger1"] = 3.68
    await coordinator.smart.async_run_now()
    await advance(hass, freezer, 10)
    assert evse.power_kw == pytest.approx(-3.68)
    assert coordinator.smart.audit_for(runtime)[-1]["obeyed"] is True
    assert registry.async_get_issue(DOMAIN, ISSUE) is None


async def test_a_feed_is_a_turn_down_and_stops_before_imports_rise(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two chargers on a 32 A circuit: one goes from charging to feeding while the other turns
    up, and the feed is sent first (it lowers the premise's import); later the feed is lowered,
    then stopped, while the other turns up: the feed's change comes first each time."""
    freezer.move_to(START)
    carport = {**DEMO_CHARGER, "charger_name": "Carport"}
    options = {**OPTIONS, "circuit_limit_a": 32}
    coordinator = await setup(
        hass, make_entry(charger=DEMO_V2G, extra_chargers=[carport], options=options)
    )
    await _plug(hass, "garage")
    await _plug(hass, "carport")
    garage, carport_rt = coordinator.chargers["charger1"], coordinator.chargers["charger2"]
    feeds: dict[str, float] = {}
    limits = {"charger1": 3.68, "charger2": 4.14}  # 16 A one phase; 6 A three phases
    feed_targets(monkeypatch, coordinator, feeds, limits)
    await coordinator.smart.async_run_now()
    await advance(hass, freezer, 15)
    seen: list[tuple[str, str, float]] = []
    record_evse(garage, seen)
    record_evse(carport_rt, seen)

    # The garage feeds 3.68 kW; the carport goes up to 16 A.
    limits.pop("charger1")
    feeds["charger1"] = 3.68
    limits["charger2"] = 11.04
    await coordinator.smart.async_run_now()
    assert seen == [
        ("charger1", "discharge", 16.0),
        ("charger1", "enabled", 1.0),
        ("charger2", "current", 16.0),
    ]

    # The feed is lowered to 8 A (+1.84 kW of import) while the carport goes from 10 to 12 A
    # (+1.38 kW): the feed's change first, though the smaller change is the carport's.
    limits["charger2"] = 6.9
    await coordinator.smart.async_run_now()
    seen.clear()
    feeds["charger1"] = 1.84
    limits["charger2"] = 8.28
    await coordinator.smart.async_run_now()
    assert seen == [
        ("charger1", "discharge", 8.0),
        ("charger1", "enabled", 1.0),
        ("charger2", "current", 12.0),
    ]

    # The feed stops (paused) and the carport turns up again: the stop first.
    seen.clear()
    feeds.clear()
    limits["charger1"] = 0.0
    limits["charger2"] = 11.04
    await coordinator.smart.async_run_now()
    assert seen == [
        ("charger1", "discharge", 0.0),
        ("charger1", "enabled", 0.0),
        ("charger2", "current", 16.0),
    ]


async def test_demo_bidirectional_choice_and_restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The charger form's bidirectional choice makes the demo charger a bidirectional EVSE;
    its car keeps its bidirectional fields and the EVSE its received register across a
    restart."""
    freezer.move_to(START)
    entry = make_entry()
    coordinator = await setup(hass, entry)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "charger"), context={"source": "user"}
    )
    assert "demo_bidirectional" in {str(m) for m in result["data_schema"].schema}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"charger_name": "Driveway", "charger_type": "demo", "demo_bidirectional": True},
    )
    assert result["type"] == "create_entry"
    assert result["data"]["demo_bidirectional"] is True
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    runtime = next(r for r in coordinator.chargers.values() if r.name == "Driveway")
    assert runtime.demo is not None
    assert runtime.demo.evse.bidirectional
    assert not coordinator.chargers["charger1"].adapter.can_discharge()  # off by default
    await _plug(hass, "driveway")
    feed_targets(monkeypatch, coordinator, {runtime.charger_id: 7.36})
    await coordinator.smart.async_run_now()
    await advance(hass, freezer, 60)
    evse = runtime.demo.evse
    fed, car = evse.discharged_kwh, evse.car
    assert fed > 0
    assert car is not None
    soc = car.soc

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    runtime = entry.runtime_data.chargers[runtime.charger_id]
    assert runtime.demo is not None
    evse = runtime.demo.evse
    assert evse.bidirectional
    assert evse.discharged_kwh == pytest.approx(fed)
    assert evse.car is not None
    assert evse.car.bidirectional
    assert evse.car.soc == pytest.approx(soc)
    assert (evse.car.max_discharge_kw, evse.car.min_soc) == (7.4, 0.10)
    assert evse.car.discharge_efficiency == pytest.approx(0.92)


async def test_a_feed_below_the_least_current_pauses(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1 kW is 4 A on the bidirectional demo: below its least current (6 A) nothing can be
    fed, so it is paused (logged once), and a feed it can carry later goes through."""
    freezer.move_to(START)
    coordinator = await setup(hass, make_entry(charger=DEMO_V2G))
    runtime = coordinator.chargers["charger1"]
    await _plug(hass)
    await advance(hass, freezer, 30)
    seen: list[tuple[str, str, float]] = []
    evse = record_evse(runtime, seen)
    feeds = {"charger1": 1.0}
    feed_targets(monkeypatch, coordinator, feeds)
    caplog.set_level(logging.WARNING)
    await coordinator.smart.async_run_now()
    await coordinator.smart.async_run_now()
    assert seen == [("charger1", "enabled", 0.0)]
    assert runtime.session is not None
    assert runtime.session.pause_reason is PauseReason.PLAN
    assert sum("least current" in r.getMessage() for r in caplog.records) == 1
    feeds["charger1"] = 2.0  # 8 A
    await coordinator.smart.async_run_now()
    await advance(hass, freezer, 10)
    assert seen[-2:] == [("charger1", "discharge", 8.0), ("charger1", "enabled", 1.0)]
    assert evse.power_kw == pytest.approx(-1.84)
    assert runtime.session.pause_reason is None


async def test_no_feed_is_left_running_unwatched(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed is stopped when its session ends (the next car must not start feeding) and at
    unload (nothing keeps the car's floor while Home Assistant is down), audited."""
    freezer.move_to(START)
    entry = make_entry(charger=DEMO_V2G)
    coordinator = await setup(hass, entry)
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    await _plug(hass)
    feed_targets(monkeypatch, coordinator, {"charger1": 7.36})
    await coordinator.smart.async_run_now()
    await advance(hass, freezer, 20)
    evse = runtime.demo.evse
    assert evse.discharge_a == 32

    # Unplugged while feeding: the EVSE is told to stop (and paused).
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.garage_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done()
    assert runtime.session is None
    assert (evse.discharge_a, evse.enabled) == (0, False)

    # Plugged in again and feeding; then the entry unloads: the feed stops, audited.
    await _plug(hass)
    await coordinator.smart.async_run_now()
    await advance(hass, freezer, 20)
    assert evse.discharge_a == 32
    session = runtime.session
    assert session is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert (evse.discharge_a, evse.enabled) == (0, False)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    stored = await entry.runtime_data.store.call(lambda s: s.commands(session.session_id))
    stop = _after_last_feed(stored)
    assert (stop["enabled"], stop["current_a"], stop["error"]) == (False, 0, None)


async def test_a_feed_that_cannot_be_stopped_at_unload_is_audited(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The charger refuses to stop its feed at unload: logged, and kept in the trail with its
    error; the unload completes."""
    freezer.move_to(START)
    entry = make_entry(charger=DEMO_V2G)
    coordinator = await setup(hass, entry)
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    await _plug(hass)
    feed_targets(monkeypatch, coordinator, {"charger1": 7.36})
    await coordinator.smart.async_run_now()
    await advance(hass, freezer, 20)
    session = runtime.session
    assert session is not None

    async def refuse(amps: float) -> None:
        raise RuntimeError("charger offline")

    monkeypatch.setattr(runtime.demo, "async_set_discharge", refuse)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert "its feed could not be stopped (charger offline)" in caplog.text
    assert runtime.demo.evse.discharge_a == 32
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    stored = await entry.runtime_data.store.call(lambda s: s.commands(session.session_id))
    stop = _after_last_feed(stored)
    assert (stop["error"], stop["measured_by"]) == ("charger offline", "failed")


async def test_reconfigure_the_demo_charger_as_bidirectional(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Reconfigure shows the choice as it is (off) and turning it on makes the demo charger
    bidirectional (the entry reloads); its car switch then plugs the bidirectional car."""
    freezer.move_to(START)
    entry = make_entry()
    await setup(hass, entry)
    result = await entry.start_subentry_reconfigure_flow(hass, "charger1")
    marker = next(m for m in result["data_schema"].schema if str(m) == "demo_bidirectional")
    assert marker.description == {"suggested_value": False}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"charger_name": "Garage", "charger_type": "demo", "demo_bidirectional": True},
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    runtime = entry.runtime_data.chargers["charger1"]
    assert runtime.adapter.can_discharge()
    await _plug(hass)
    assert runtime.demo is not None
    assert runtime.demo.evse.car is not None
    assert runtime.demo.evse.car.bidirectional
