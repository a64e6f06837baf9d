"""Metering power feed in Home Assistant: the demo's bidirectional EVSE feeding during a session
(the EVSE driven directly: the controller's discharge command is another part's), and a charger
whose discharged-energy sensor is the received register (going backwards, NaN, jumping)."""

from __future__ import annotations

import math
import sqlite3
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.const import STORE_FILENAME
from custom_components.pev_portal.coordinator import ChargerRuntime, PevPortalCoordinator
from custom_components.pev_portal.core.metering import Quality
from custom_components.pev_portal.core.simulator import bidirectional_car
from custom_components.pev_portal.io.store import LedgerStore
from custom_components.pev_portal.session_feed import ReceivedSensorMeter

from .common import advance, setup, state
from .conftest import HOME_CAR, OPTIONS, make_entry
from .feed_helpers import DEMO_V2G, feed_targets

GARAGE = "garage"
START = "2026-11-22T17:00:00+00:00"
EXPORT_PRICE = 0.15


def garage(coordinator: PevPortalCoordinator) -> ChargerRuntime:
    return next(iter(coordinator.chargers.values()))


def family_car(coordinator: PevPortalCoordinator) -> str:
    return next(v.subentry_id for v in coordinator.vehicles.values() if v.pev_id == "PEV-DEMO-0001")


async def test_demo_car_feeds_then_charges(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bidirectional demo feeds 30 min at 7.36 kW (told through the command owner; the
    planner's target replaced as part A's tests do), then charges: each interval has both
    energies, the summary the energy fed, its credit at the export price (the options' export
    rate, through ProgramEvents.export_prices) and the net cost; the vehicle's battery use
    counts it (live, from the ledger after the session and after a reload)."""
    freezer.move_to(START)
    loaded_demo = make_entry(charger=DEMO_V2G, options={**OPTIONS, "export_rate": EXPORT_PRICE})
    coordinator = await setup(hass, loaded_demo)
    ended: list[Event] = []
    hass.bus.async_listen("pev_portal_session_ended", ended.append)
    runtime = garage(coordinator)
    assert runtime.demo is not None
    evse = runtime.demo.evse
    evse.plug(bidirectional_car("PEV-DEMO-0001", soc=0.8))
    await advance(hass, freezer, 5)  # 17:00:05: the session starts
    assert runtime.session is not None
    assert runtime.received is not None
    feeds = {runtime.charger_id: 7.36}
    feed_targets(monkeypatch, coordinator, feeds)
    await coordinator.smart.async_run_now()
    await advance(hass, freezer, 30 * 60)  # fed until 17:30:05
    feeds.clear()
    await coordinator.smart.async_run_now()
    await advance(hass, freezer, 30 * 60)  # charging until 18:00:05
    fed = evse.discharged_kwh
    assert fed == pytest.approx(7.36 / 2, rel=0.01)
    # live: the open interval counts too
    use = coordinator.battery_use(family_car(coordinator))
    assert use["fed_kwh_total"] == pytest.approx(fed, abs=1e-3)
    assert use["fed_kwh_month"] == use["fed_kwh_total"]
    assert use["cycles"] == pytest.approx(fed / 0.92 / 60, abs=1e-4)
    assert float(state(hass, "sensor.family_car_energy_fed_this_month")) == pytest.approx(
        fed, abs=1e-3
    )
    session_id = runtime.session.session_id

    evse.unplug()
    await advance(hass, freezer, 5)
    assert runtime.session is None
    assert runtime.received is None
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert [i.start.strftime("%H:%M") for i in stored] == [
        "17:00",
        "17:15",
        "17:30",
        "17:45",
        "18:00",
    ]
    assert {i.quality for i in stored} == {Quality.OK}
    # a whole quarter hour feeding (nothing drawn), one charging (nothing fed)
    assert (stored[1].kwh, stored[1].exported_kwh) == (0.0, pytest.approx(7.36 / 4, abs=1e-3))
    assert (stored[3].kwh, stored[3].exported_kwh) == (pytest.approx(7.36 / 4, abs=1e-3), 0.0)
    assert sum(i.exported_kwh for i in stored) == pytest.approx(fed, abs=1e-6)
    summary = ended[0].data
    assert summary["exported_kwh"] == pytest.approx(fed, abs=1e-6)
    credit = Decimal(summary["export_credit"])
    assert credit == Decimal(str(round(fed * EXPORT_PRICE, 4)))
    assert Decimal(summary["net_cost"]) == Decimal(summary["cost"]) - credit
    row = await coordinator.store.call(lambda s: s.session(session_id))
    assert row is not None
    assert row.summary is not None
    assert row.summary["export_credit"] == summary["export_credit"]
    # after the session: from the ledger
    await hass.async_block_till_done()
    use = coordinator.battery_use(family_car(coordinator))
    assert use["fed_kwh_total"] == pytest.approx(fed, abs=1e-4)  # rounded to 0.1 Wh
    assert use["cycles"] == pytest.approx(fed / 0.92 / 60, abs=1e-4)
    assert float(state(hass, "sensor.family_car_power_feed_cycles")) == pytest.approx(
        use["cycles"], abs=1e-4
    )
    # read from the ledger at the next start
    assert await hass.config_entries.async_reload(loaded_demo.entry_id)
    await hass.async_block_till_done()
    coordinator = loaded_demo.runtime_data
    again = coordinator.battery_use(family_car(coordinator))
    assert again["fed_kwh_total"] == again["fed_kwh_month"] == pytest.approx(fed, abs=1e-4)


async def test_demo_car_that_cannot_feed_meters_no_export(
    hass: HomeAssistant, loaded_demo: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A unidirectional demo EVSE has no received register: exported 0, quality untouched."""
    freezer.move_to(START)
    coordinator: PevPortalCoordinator = loaded_demo.runtime_data
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"}, blocking=True
    )
    await advance(hass, freezer, 20 * 60)
    runtime = garage(coordinator)
    assert runtime.received is None
    assert [(i.exported_kwh, i.quality) for i in runtime.intervals] == [(0.0, Quality.OK)]
    assert coordinator.battery_use(family_car(coordinator))["cycles"] == 0.0


# -- a charger whose discharged-energy sensor is the received register -------------------

METER = "sensor.meter_energy"
FED = "sensor.cp_discharged"
ENERGY = {"unit_of_measurement": "kWh", "device_class": "energy"}
CHARGER = {
    "charger_name": "Driveway",
    "charger_type": "entities",
    "status_entity": "sensor.cp_status",
    "meter_source": "sensor",
    "meter_entity": METER,
    "discharged_energy_entity": FED,
}


async def at(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: str, **values: Any) -> None:
    """At HH:MM:SS: set the sensors given (meter=, fed=), then let the ticks run."""
    freezer.move_to(f"2026-11-22T{when}+00:00")
    if "meter" in values:
        hass.states.async_set(METER, str(values["meter"]), ENERGY)
    if "fed" in values:
        hass.states.async_set(FED, str(values["fed"]), ENERGY)
    await hass.async_block_till_done()
    await advance(hass, freezer, 5)


@pytest.fixture
async def driveway(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> PevPortalCoordinator:
    freezer.move_to("2026-11-22T10:00:00+00:00")
    hass.states.async_set("sensor.cp_status", "Available")
    hass.states.async_set(METER, "100.0", ENERGY)
    hass.states.async_set(FED, "20.0", ENERGY)
    coordinator = await setup(hass, make_entry(CHARGER, vehicles=[HOME_CAR]))
    assert isinstance(next(iter(coordinator.chargers.values())).meter, ReceivedSensorMeter)
    hass.states.async_set("sensor.cp_status", "Charging")
    await hass.async_block_till_done()
    return coordinator


async def test_sensor_received_register_while_the_import_register_is_flat(
    hass: HomeAssistant, driveway: PevPortalCoordinator, freezer: FrozenDateTimeFactory
) -> None:
    """Only the discharged-energy sensor changes (the car feeds): both are sampled at the tick,
    the intervals close at their boundaries with the energy fed, OK."""
    for minute, fed in ((4, 20.5), (8, 21.0), (12, 21.5), (16, 22.0), (20, 22.5), (24, 23.0)):
        await at(hass, freezer, f"10:{minute:02d}:00", fed=fed)
    await at(hass, freezer, "10:31:00", meter=100.5)
    intervals = garage(driveway).intervals
    assert [(i.start.strftime("%H:%M"), i.quality) for i in intervals] == [
        ("10:00", Quality.OK),
        ("10:15", Quality.OK),
    ]
    assert sum(i.exported_kwh for i in intervals) == pytest.approx(3.0, abs=0.01)
    assert intervals[0].kwh == 0.0


@pytest.mark.parametrize(
    ("bad", "kind"),
    [("15.0", "backwards"), ("900.0", "jump"), ("nan", "invalid"), ("unavailable", "invalid")],
)
async def test_a_doubtful_discharged_energy_sensor_is_flagged(
    hass: HomeAssistant,
    driveway: PevPortalCoordinator,
    freezer: FrozenDateTimeFactory,
    bad: str,
    kind: str,
) -> None:
    """The discharged-energy sensor goes backwards, jumps, reads NaN or goes unavailable: the
    interval it touches is ESTIMATED (never OK with 0 fed), the anomaly is stored, NaN never
    reaches the store."""
    await at(hass, freezer, "10:03:00", meter=100.2, fed=20.5)
    await at(hass, freezer, "10:06:00", fed=bad)
    recovered = 21.0 if kind == "invalid" else float(bad) + 0.5
    await at(hass, freezer, "10:09:00", fed=recovered)
    await at(hass, freezer, "10:16:00", meter=100.4)
    runtime = garage(driveway)
    first = runtime.intervals[0]
    assert first.quality is Quality.ESTIMATED
    assert not math.isnan(first.exported_kwh)
    # 0.5 before; after a spell without a value the 0.5 fed meanwhile is kept (estimated),
    # after a fall or a jump the span is unknown and only the 0.5 after it counts
    assert first.exported_kwh == pytest.approx(1.0)
    # the import: 0.2 by 10:03, then 0.2 from the 10:09:05 sample to 10:16, 355 s of 415 in it
    assert first.kwh == pytest.approx(0.2 + 0.2 * 355 / 415)
    session_id = runtime.session.session_id  # type: ignore[union-attr]
    await hass.async_block_till_done()
    anomalies = await driveway.store.call(lambda s: s.anomalies(session_id))
    assert [a["kind"] for a in anomalies] == [kind]
    assert anomalies[0]["message"].startswith("received register: ")
    stored = await driveway.store.call(lambda s: s.intervals(session_id))
    assert [i.exported_kwh for i in stored] == [pytest.approx(1.0)]


async def test_a_restart_while_feeding_keeps_the_received_register(
    hass: HomeAssistant,
    driveway: PevPortalCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant restarts mid-feed: the session resumes with its received register from
    the checkpoint; nothing fed before or after is lost, the interval stays OK."""
    await at(hass, freezer, "10:03:00", fed=20.5)
    await at(hass, freezer, "10:06:00", fed=21.0)
    await advance(hass, freezer, 30)  # a checkpoint is written
    entry = driveway.config_entry
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: PevPortalCoordinator = entry.runtime_data
    runtime = garage(coordinator)
    assert runtime.received is not None
    assert runtime.received.total_kwh == pytest.approx(1.0)
    await at(hass, freezer, "10:09:00", fed=21.5)
    await at(hass, freezer, "10:16:00", meter=100.1)
    (first,) = runtime.intervals
    assert (first.quality, first.exported_kwh) == (Quality.OK, pytest.approx(1.5))


async def test_an_unreadable_received_checkpoint_starts_the_register_again(
    hass: HomeAssistant,
    driveway: PevPortalCoordinator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A damaged received-register checkpoint: logged, a fresh register from the next sample,
    the interval flagged (its received energy before the restart is unknown)."""
    await at(hass, freezer, "10:03:00", fed=20.5)
    await advance(hass, freezer, 30)
    entry = driveway.config_entry
    session_id = garage(driveway).session.session_id  # type: ignore[union-attr]
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    path = Path(hass.config.path(STORE_FILENAME))

    def damage() -> None:
        store = LedgerStore(path)
        store._db.execute(
            "UPDATE sessions SET ledger = json_set(ledger, '$.received.doubtful', 'yes') "
            "WHERE session_id = ?",
            (session_id,),
        )
        store.close()

    await hass.async_add_executor_job(damage)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: PevPortalCoordinator = entry.runtime_data
    assert "received register's snapshot is unreadable" in caplog.text
    runtime = garage(coordinator)
    assert runtime.received is not None
    await at(hass, freezer, "10:09:00", fed=21.0)
    await at(hass, freezer, "10:16:00", meter=100.1)
    (first,) = runtime.intervals
    assert first.quality is Quality.ESTIMATED
    assert coordinator.chargers[runtime.charger_id].meter.meter_details() == {
        "type": "sensor",
        "received_entity": FED,
    }


async def test_a_received_register_that_appears_mid_session(
    hass: HomeAssistant,
    loaded_demo: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The EVSE reads a received register only from the middle of the session on: metered from
    then (no register before: exported 0, quality as the import's)."""
    freezer.move_to(START)
    coordinator: PevPortalCoordinator = loaded_demo.runtime_data
    runtime = garage(coordinator)
    assert runtime.demo is not None
    evse = runtime.demo.evse
    evse.plug(bidirectional_car("PEV-DEMO-0001", soc=0.8))
    await advance(hass, freezer, 16 * 60)
    assert runtime.received is None
    evse.bidirectional = True  # the demo EVSE's received register from now on
    feed_targets(monkeypatch, coordinator, {runtime.charger_id: 7.0})
    await coordinator.smart.async_run_now()
    await advance(hass, freezer, 15 * 60)
    assert runtime.received is not None
    first, second = runtime.intervals
    assert (first.exported_kwh, first.quality) == (0.0, Quality.OK)
    assert second.quality is Quality.OK
    assert second.exported_kwh > 1.0
    # all it fed since the register appeared is counted (closed and open intervals)
    assert runtime.received.total_kwh == pytest.approx(evse.discharged_kwh, abs=1e-6)


async def test_battery_use_when_the_ledger_cannot_be_read(
    hass: HomeAssistant,
    loaded_demo: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ledger read fails at start: the figures wait (zeros), nothing else fails."""

    def broken(self: LedgerStore, pev_id: str, since: datetime) -> tuple[float, float]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(LedgerStore, "fed_kwh", broken)
    assert await hass.config_entries.async_reload(loaded_demo.entry_id)
    await hass.async_block_till_done()
    coordinator: PevPortalCoordinator = loaded_demo.runtime_data
    assert coordinator.battery_use(family_car(coordinator)) == {
        "cycles": 0.0,
        "fed_kwh_month": 0.0,
        "fed_kwh_total": 0.0,
    }


async def test_charging_right_after_feeding_is_no_jump(
    hass: HomeAssistant, driveway: PevPortalCoordinator, freezer: FrozenDateTimeFactory
) -> None:
    """The tick sampled the flat import register while the car fed; the meter's next step comes
    seconds later: judged over the time since the meter's own previous reading, no JUMP, the
    import energy billed."""
    await at(hass, freezer, "10:04:00", fed=20.5)  # sampled at the 10:04:05 tick
    await at(hass, freezer, "10:04:07", meter=100.3)  # 0.3 kWh two seconds after that sample
    await at(hass, freezer, "10:16:00", meter=101.0)
    runtime = garage(driveway)
    (first,) = runtime.intervals
    assert first.quality is Quality.OK
    assert first.kwh + 0.0 == pytest.approx(0.3 + 0.7 * (15 * 60 - 247) / (16 * 60 - 247))
    session_id = runtime.session.session_id  # type: ignore[union-attr]
    assert await driveway.store.call(lambda s: s.anomalies(session_id)) == []
