"""Settlement through Home Assistant: a local load-control event during a demo session.

The demo car (60 kWh at 30 %, takes 11.0 kW) charges at once on the demo charger (16 A x 3 x
230 V = 11.04 kW). At 20:50 a local event limits it to 6.9 kW (10 A) from 21:00 to 22:00.
By hand, over the window 21:00-22:00:

* counterfactual (frozen at 20:50: charge at once at the charger's 11.04 kW): 11.04 kWh;
* measured: 6.9 kW for an hour = 6.9 kWh;
* delivered reduction 11.04 - 6.9 = 4.14 kWh (4.14 kW average); asked: the baseline above the
  limit, (11.04 - 6.9) x 1 h = 4.14 kWh; compliance 1.0;
* meter baseline (two earlier weekday sessions plugged in at 20:45 that drew 8 kW for two
  hours, written in the store before): 8 kWh over the window, so 8 - 6.9 = 1.1 kWh delivered.
"""

from __future__ import annotations

import csv
import json
import math
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.calendar import DATA_COMPONENT as CALENDARS
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.pev_portal.const import STORE_FILENAME
from custom_components.pev_portal.core.binding import BindingOutcome
from custom_components.pev_portal.core.metering import Interval, Quality
from custom_components.pev_portal.core.session import (
    ChargerStatus,
    ChargingSession,
    VehicleSource,
)
from custom_components.pev_portal.io.store import LedgerStore
from custom_components.pev_portal.websocket_api import DashboardBuilder

from .common import advance, attrs, setup, state
from .conftest import OPTIONS, make_entry

GARAGE = "garage"
PEV = "PEV-DEMO-0001"
PLUG_IN = datetime.fromisoformat("2026-11-23T20:45:00+00:00")  # a Monday
EVENT_START = datetime.fromisoformat("2026-11-23T21:00:00+00:00")
EVENT_END = datetime.fromisoformat("2026-11-23T22:00:00+00:00")
SENSOR = "sensor.test_home_last_event_performance"


@pytest.fixture(autouse=True)
async def utc(hass: HomeAssistant) -> None:
    """Local time is UTC (the meter baseline reads weekdays and times of day locally)."""
    await hass.config.async_set_time_zone("UTC")


def _past_session(store: LedgerStore, plug_in: datetime, kw: float, hours: float) -> None:
    """A finished session of the demo car: ``kw`` for ``hours`` from ``plug_in``."""
    session = ChargingSession(charger_id="charger1", premise_id="PREMISE-1", started_at=plug_in)
    session.identify(PEV, VehicleSource.DEFAULT)
    end = plug_in + timedelta(hours=hours)
    session.update_charger(ChargerStatus.UNPLUGGED, 0.0, end)
    data = session.to_dict()
    data["ended_at"] = end.isoformat()
    steps = int(hours * 4)
    intervals = [
        Interval(
            plug_in + timedelta(minutes=15 * i),
            plug_in + timedelta(minutes=15 * (i + 1)),
            kw / 4,
            PEV,
            "PREMISE-1",
            "M",
            Quality.OK,
            0,
            None,
        )
        for i in range(steps)
    ]
    store.save_session(data, None, intervals)


async def _history(hass: HomeAssistant) -> None:
    def _write() -> None:
        store = LedgerStore(Path(hass.config.path(STORE_FILENAME)))
        for days in (3, 4):  # Friday and Thursday, 20:45
            _past_session(store, PLUG_IN - timedelta(days=days), 8.0, 2.0)
        store.close()

    await hass.async_add_executor_job(_write)


async def _plug(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done()


async def _unplug(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)


async def _until(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    now = datetime.now(tz=when.tzinfo)
    await advance(hass, freezer, (when - now).total_seconds())


def _close(value: Any, expected: float, tol: float = 0.02) -> bool:
    return isinstance(value, (int, float)) and math.isclose(value, expected, abs_tol=tol)


async def test_local_event_during_a_demo_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The hand-computed case of the module docstring, through Home Assistant."""
    freezer.move_to(PLUG_IN)
    await _history(hass)
    coordinator = await setup(hass, make_entry())
    await _plug(hass)
    assert state(hass, f"sensor.{GARAGE}_binding") == BindingOutcome.HOME.value
    await advance(hass, freezer, 5 * 60)
    event_id = await coordinator.async_add_local_event(
        "load_control", EVENT_START, EVENT_END, limit_kw=6.9, name="Evening peak"
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    session_id = coordinator.chargers["charger1"].session.session_id  # type: ignore[union-attr]
    frozen = coordinator.settlement.unsettled[(session_id, event_id)]
    planned = sum(k for _, _, k in frozen["counterfactual"])
    assert planned > 11.04  # at once, to the target, from 20:50
    stored = await coordinator.store.read(lambda s: s.settlements_unsettled("PREMISE-1"))
    assert [r["event_id"] for r in stored] == [event_id]

    await _until(hass, freezer, EVENT_END + timedelta(minutes=15, seconds=10))
    await hass.async_block_till_done(wait_background_tasks=True)
    perf = coordinator.settlement.performances()[0]
    assert perf["final"] is False
    assert _close(perf["counterfactual_kwh"], 11.04)
    assert _close(perf["measured_kwh"], 6.9)
    assert _close(perf["delivered_kwh"], 4.14)
    assert _close(perf["delivered_kw"], 4.14)
    assert _close(perf["asked_kwh"], 4.14)
    assert _close(perf["compliance"], 1.0)
    assert perf["method"] == "COUNTERFACTUAL"
    assert _close(perf["meter_kwh"], 8.0)
    assert perf["meter_sessions"] == 2
    assert _close(perf["delivered_by_method"]["METER"], 1.1)
    assert perf["shifted_kwh"] is None  # known at unplug
    assert perf["incentive"] is None  # a local event has no program rules
    assert float(state(hass, SENSOR)) == pytest.approx(4.14, abs=0.02)
    assert attrs(hass, SENSOR)["event_name"] == "Evening peak"

    await advance(hass, freezer, 30 * 60)
    await _unplug(hass)
    final = coordinator.settlement.performances()[0]
    assert final["final"] is True
    assert _close(final["delivered_kwh"], 4.14)
    # Unplugged at 22:45, before the energy held back was drawn: after the window the car took
    # 11.0 kW x 0.75 h = 8.25 kWh, the counterfactual 11.04 x 0.75 = 8.28: nothing shifted yet,
    # and the target (to full) was not met.
    assert final["shifted_kwh"] == 0.0
    assert final["target_met"] is False
    rows = await coordinator.store.read(lambda s: s.settlements_recent("PREMISE-1"))
    assert rows[0]["state"] == "final"
    assert rows[0]["performance"]["delivered_kwh"] == final["delivered_kwh"]
    assert (await coordinator.store.read(lambda s: s.settlements_unsettled("PREMISE-1"))) == []

    # The calendar entry of the event says what it achieved.
    calendar = hass.data[CALENDARS].get_entity("calendar.test_home_charging_plan")
    assert calendar is not None
    events = await calendar.async_get_events(hass, EVENT_START, EVENT_END)
    [entry] = [e for e in events if e.description and "Result:" in e.description]
    assert entry.start == EVENT_START
    assert entry.description is not None
    assert entry.description.endswith("Result: 0.0 kWh shifted, target missed")

    # The card's event history.
    data = await DashboardBuilder(hass).async_build()  # pev_portal/dashboard's answer
    [history] = data["chargers"][0]["event_history"]
    assert history["name"] == "Evening peak"
    assert history["delivered_kwh"] == pytest.approx(4.14, abs=0.02)
    assert history["target_met"] is False
    assert history["final"] is True

    # The session export: the event's line (CSV) and the session's events (JSON).
    when = {"start": "2026-11-23T00:00:00+00:00", "end": "2026-11-24T00:00:00+00:00"}
    response = await hass.services.async_call(
        "pev_portal",
        "export_sessions",
        {**when, "content": "events"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    text = await hass.async_add_executor_job(Path(str(response["path"])).read_text, "utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert [(r["session_id"], r["event_id"], r["final"]) for r in rows] == [
        (session_id, event_id, "true")
    ]
    assert float(rows[0]["delivered_kwh"]) == pytest.approx(4.14, abs=0.02)
    assert Path(str(response["path"])).name.startswith("events_")
    response = await hass.services.async_call(
        "pev_portal",
        "export_sessions",
        {**when, "format": "json"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    sessions = response["data"]["sessions"]  # type: ignore[index,call-overload]
    [exported] = [s for s in sessions if s["session_id"] == session_id]
    assert [e["event_id"] for e in exported["events"]] == [event_id]


async def _session_with_event(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: Any = None
) -> tuple[Any, str, str]:
    """The demo premise at 20:45, the car plugged in, the 21:00-22:00 event added at 20:50."""
    freezer.move_to(PLUG_IN)
    coordinator = await setup(hass, entry or make_entry())
    await _plug(hass)
    await advance(hass, freezer, 5 * 60)
    event_id = await coordinator.async_add_local_event(
        "load_control", EVENT_START, EVENT_END, limit_kw=6.9, name="Evening peak"
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    return coordinator, runtime.session.session_id, event_id


async def test_restart_mid_event_keeps_the_frozen_counterfactual(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Home Assistant restarts at 21:30 and the user lowers the target meanwhile: the
    counterfactual frozen at 20:50 is the one that settles (never recomputed)."""
    entry = make_entry()
    coordinator, session_id, event_id = await _session_with_event(hass, freezer, entry)
    before = dict(coordinator.settlement.unsettled[(session_id, event_id)])
    await _until(hass, freezer, EVENT_START + timedelta(minutes=30))
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=30))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    coordinator = entry.runtime_data
    # A lower target now would give a smaller counterfactual: it must not be used.
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.family_car_charge_target", "value": 40},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    after = coordinator.settlement.unsettled[(session_id, event_id)]
    assert after["counterfactual"] == before["counterfactual"]
    assert after["frozen_at"] == before["frozen_at"]
    await _until(hass, freezer, EVENT_END + timedelta(minutes=15, seconds=10))
    await hass.async_block_till_done(wait_background_tasks=True)
    perf = coordinator.settlement.performances()[0]
    assert _close(perf["counterfactual_kwh"], 11.04)
    # The demo car did not charge while Home Assistant was down (30 s): 6.9 kW x 3570 s
    # measured, 11.04 - 6.8425 = 4.1975 kWh delivered.
    assert _close(perf["measured_kwh"], 6.8425, tol=0.01)
    assert _close(perf["delivered_kwh"], 4.1975, tol=0.01)


async def test_failed_store_writes_lose_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The freeze and the performance's write each fail once (a locked file): they are kept
    and retried in order; the rows are in the store in the end, the figures as computed."""
    failures = {"settlement_freeze": 1, "settlement_save": 1}

    def failing(name: str) -> Any:
        original = getattr(LedgerStore, name)

        def _write(self: LedgerStore, *args: Any, **kwargs: Any) -> Any:
            if failures[name] > 0:
                failures[name] -= 1
                err = sqlite3.OperationalError("database is locked")
                err.sqlite_errorcode = 5  # type: ignore[attr-defined]  # SQLITE_BUSY
                raise err
            return original(self, *args, **kwargs)

        return _write

    for name in failures:
        monkeypatch.setattr(LedgerStore, name, failing(name))
    freezer.move_to(PLUG_IN)
    entry = make_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    coordinator.store._retry_first_s = coordinator.store._retry_max_s = 0.01
    await _plug(hass)
    await advance(hass, freezer, 5 * 60)
    event_id = await coordinator.async_add_local_event(
        "load_control", EVENT_START, EVENT_END, limit_kw=6.9
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    await _wait_written(hass, coordinator, lambda: failures["settlement_freeze"] == 0)
    rows = await coordinator.store.read(lambda s: s.settlements_unsettled("PREMISE-1"))
    assert [r["event_id"] for r in rows] == [event_id]
    await _until(hass, freezer, EVENT_END + timedelta(minutes=15, seconds=10))
    await hass.async_block_till_done(wait_background_tasks=True)
    await _wait_written(hass, coordinator, lambda: failures["settlement_save"] == 0)
    rows = await coordinator.store.read(lambda s: s.settlements_recent("PREMISE-1"))
    assert rows[0]["performance"]["delivered_kwh"] == pytest.approx(4.14, abs=0.02)
    assert rows[0]["state"] == "provisional"


async def _wait_written(hass: HomeAssistant, coordinator: Any, done: Any) -> None:
    """Until the failed write was tried again and the store writes again (real time)."""
    for _ in range(500):
        if (
            done()
            and coordinator.store.pending_writes == 0
            and coordinator.store.status.failing_since is None
        ):
            return
        await hass.async_add_executor_job(time.sleep, 0.01)
    raise AssertionError("the kept writes were never written")


METER = "sensor.garage_meter_energy"


async def test_nan_meter_readings_do_not_make_a_nan_performance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The demo charger metered by an energy sensor that reads 'nan' in the middle of the
    event: the readings are rejected, the performance is finite (the gap is flagged or
    simply has no energy), nothing stored holds a NaN."""
    freezer.move_to(PLUG_IN)
    hass.states.async_set(METER, "100.0", {"unit_of_measurement": "kWh", "device_class": "energy"})
    charger = {
        "charger_name": "Garage",
        "charger_type": "demo",
        "meter_source": "sensor",
        "meter_entity": METER,
    }
    coordinator = await setup(hass, make_entry(charger=charger))
    await _plug(hass)
    await advance(hass, freezer, 5 * 60)
    await coordinator.async_add_local_event("load_control", EVENT_START, EVENT_END, limit_kw=6.9)
    await hass.async_block_till_done(wait_background_tasks=True)
    register = 100.0
    now = PLUG_IN + timedelta(minutes=5)
    while now < EVENT_END + timedelta(minutes=20):
        now += timedelta(minutes=5)
        freezer.move_to(now)
        register += 0.5
        value = (
            "nan"
            if EVENT_START + timedelta(minutes=20) <= now < EVENT_START + timedelta(minutes=40)
            else f"{register:.3f}"
        )
        hass.states.async_set(
            METER, value, {"unit_of_measurement": "kWh", "device_class": "energy"}
        )
        async_fire_time_changed(hass, now)
        await hass.async_block_till_done(wait_background_tasks=True)
    perf = coordinator.settlement.performances()[0]
    for key in ("delivered_kwh", "measured_kwh", "counterfactual_kwh", "asked_kwh"):
        assert isinstance(perf[key], float), (key, perf[key])
        assert math.isfinite(perf[key]), (key, perf[key])
    assert _close(perf["measured_kwh"], 6.0)  # 0.5 kWh every 5 minutes, the NaN gap included
    rows = await coordinator.store.read(lambda s: s.settlements_recent("PREMISE-1"))
    assert "NaN" not in json.dumps(rows[0]["performance"])


async def test_session_ending_before_the_event_settles_its_part(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Unplugged at 21:30, half-way through the event: settled at once (final) over 21:00-21:30:
    counterfactual 11.04 x 0.5 = 5.52 kWh, measured 6.9 x 0.5 = 3.45, delivered 2.07 kWh."""
    coordinator, session_id, event_id = await _session_with_event(hass, freezer)
    await _until(hass, freezer, EVENT_START + timedelta(minutes=30))
    await _unplug(hass)
    perf = coordinator.settlement.performances()[0]
    assert (perf["session_id"], perf["event_id"]) == (session_id, event_id)
    assert perf["final"] is True
    assert perf["end"] == "2026-11-23T21:30:00Z"
    assert _close(perf["counterfactual_kwh"], 5.52)
    assert _close(perf["measured_kwh"], 3.45)
    assert _close(perf["delivered_kwh"], 2.07)
    assert coordinator.settlement.unsettled == {}
    assert coordinator.settlement.diagnostics() == {
        "unsettled": {},
        "recent": 1,
        "last_flags": perf["flags"],
    }


async def test_failures_of_the_planner_and_of_a_settlement(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counterfactual plan fails: the event is frozen without it (the reason kept) and
    settles on the meter baseline, here absent: no baseline, no figures, nothing invented. A
    settlement that fails is logged and kept frozen; the unplug settles it."""
    from custom_components.pev_portal import settlement_figures, settlement_tracker

    def broken(*_args: Any) -> Any:
        raise RuntimeError("planner broke")

    monkeypatch.setattr(settlement_tracker, "counterfactual_plan", broken)
    coordinator, session_id, event_id = await _session_with_event(hass, freezer)
    row = coordinator.settlement.unsettled[(session_id, event_id)]
    assert row["counterfactual"] is None
    assert row["event"]["counterfactual_reason"] == "not computed: planner broke"

    calls = {"settle": 0}
    real_settle = settlement_figures.settle

    def settle_once_broken(*args: Any, **kwargs: Any) -> Any:
        calls["settle"] += 1
        if calls["settle"] == 1:
            raise ValueError("bad input")
        return real_settle(*args, **kwargs)

    monkeypatch.setattr(settlement_figures, "settle", settle_once_broken)
    await _until(hass, freezer, EVENT_END + timedelta(minutes=15, seconds=10))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert calls["settle"] == 1
    assert coordinator.settlement.performances() == []
    assert (session_id, event_id) in coordinator.settlement.unsettled
    await _unplug(hass)
    perf = coordinator.settlement.performances()[0]
    assert perf["final"] is True
    assert perf["method"] is None
    assert perf["delivered_kwh"] is None
    assert "no_baseline" in perf["flags"]
    assert perf["counterfactual_reason"] == "not computed: planner broke"
    assert state(hass, SENSOR) == "unknown"


async def test_an_unreadable_settlement_table_never_stops_the_setup(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the stored performances fails at start: logged, the premise works without."""

    def broken(self: LedgerStore, *_args: Any, **_kwargs: Any) -> Any:
        raise sqlite3.DatabaseError("no such table: settlements")

    monkeypatch.setattr(LedgerStore, "settlements_unsettled", broken)
    freezer.move_to(PLUG_IN)
    coordinator = await setup(hass, make_entry())
    assert coordinator.settlement.unsettled == {}
    assert state(hass, SENSOR) == "unknown"


async def test_local_price_event_on_a_cheapest_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A local price event (1.00 EUR/kWh from 21:00 to 22:00 on a flat 0.20) and a session
    charging the cheapest way to 80 % by 07:00: the plan waits for the event's end. By hand:
    without the event the planner charges at once (equal prices: the earliest slots), 11.04 kWh
    in the window; with it nothing is drawn then: 11.04 kWh reduced, nothing asked (a price
    event has no limit: no compliance, flagged)."""
    freezer.move_to(PLUG_IN)
    coordinator = await setup(hass, make_entry(options={**OPTIONS, "start_delay_minutes": 0}))
    for domain, service, entity, data in (
        ("select", "select_option", "select.family_car_charge_mode", {"option": "cheapest"}),
        ("number", "set_value", "number.family_car_charge_target", {"value": 80}),
        ("time", "set_value", "time.family_car_departure", {"time": "07:00:00"}),
    ):
        await hass.services.async_call(
            domain, service, {"entity_id": entity, **data}, blocking=True
        )
    await _plug(hass)
    await advance(hass, freezer, 5 * 60)
    await coordinator.async_add_local_event(
        "price", EVENT_START, EVENT_END, price=1.0, name="Critical peak"
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    await _until(hass, freezer, EVENT_END + timedelta(minutes=15, seconds=10))
    await hass.async_block_till_done(wait_background_tasks=True)
    perf = coordinator.settlement.performances()[0]
    assert perf["kind"] == "price"
    assert _close(perf["counterfactual_kwh"], 11.04)
    assert _close(perf["measured_kwh"], 0.0)
    assert _close(perf["delivered_kwh"], 11.04)
    assert perf["asked_kwh"] is None
    assert perf["compliance"] is None
    assert "price_event" in perf["flags"]


async def test_a_session_that_ended_while_down_is_settled_from_the_ledger(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A session that ended without its settlement (a crash between the session's last write
    and the settlement's, simulated by making the stored row frozen again): at the next start
    the event is settled (final) from the stored session and intervals. A frozen row whose
    session the ledger lacks is dropped."""
    entry = make_entry()
    coordinator, session_id, event_id = await _session_with_event(hass, freezer, entry)
    await _until(hass, freezer, EVENT_START + timedelta(minutes=30))
    await _unplug(hass)  # settled (final) at once...
    await hass.async_block_till_done(wait_background_tasks=True)

    def _reopen() -> None:  # ...then made unsettled again, as if the unplug was not heard
        store = LedgerStore(Path(hass.config.path(STORE_FILENAME)))
        store._db.execute("UPDATE settlements SET state = 'frozen', performance = NULL")
        frozen = {
            **store.settlements_unsettled("PREMISE-1")[0],
            "session_id": "gone",
            "frozen_at": PLUG_IN,
            "start": EVENT_START,
            "end": EVENT_END,
        }
        store.settlement_freeze(frozen)
        store.close()

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await hass.async_add_executor_job(_reopen)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    coordinator = entry.runtime_data
    await advance(hass, freezer, 10)
    await hass.async_block_till_done(wait_background_tasks=True)
    perf = coordinator.settlement.performances()[0]
    assert (perf["session_id"], perf["final"]) == (session_id, True)
    assert _close(perf["delivered_kwh"], 2.07)
    assert coordinator.settlement.unsettled == {}
    rows = await coordinator.store.read(lambda s: s.settlements_unsettled("PREMISE-1"))
    assert rows == []
    assert event_id == perf["event_id"]
