"""Restarts: clean stop, a crash mid-session, and the car unplugged while Home Assistant was down.

A crash is simulated by copying the SQLite database (and its write-ahead log) at a moment
mid-session, after the last write was handed to the store, letting the first instance run on
(the writes it makes afterwards are what a crash loses), stopping it, putting the copies back
and setting the entry up again.
"""

from __future__ import annotations

import itertools
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.const import STORE_FILENAME
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.metering import Interval
from custom_components.pev_portal.io.store import LedgerStore

from .common import advance, state
from .conftest import make_entry

START = "2026-11-22T10:00:00+00:00"
GARAGE = "garage"
DB_SUFFIXES = ("", "-wal", "-shm")


def coordinator_of(entry: MockConfigEntry) -> PevPortalCoordinator:
    coordinator: PevPortalCoordinator = entry.runtime_data
    return coordinator


async def start(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> MockConfigEntry:
    """Set the demo premise up at 10:00 and plug the demo car in."""
    freezer.move_to(START)
    entry = make_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done()
    assert state(hass, f"sensor.{GARAGE}_binding") == "home"
    return entry


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> PevPortalCoordinator:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return coordinator_of(entry)


async def stop(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


def db_path(hass: HomeAssistant) -> Path:
    return Path(hass.config.path(STORE_FILENAME))


def copy_db(hass: HomeAssistant) -> Path:
    """Copy the database and its write-ahead log aside, as a crash would leave them."""
    crashed = db_path(hass).parent / "crashed"
    crashed.mkdir()
    for suffix in DB_SUFFIXES[:2]:
        source = Path(f"{db_path(hass)}{suffix}")
        assert source.exists(), source
        shutil.copy2(source, crashed / source.name)
    return crashed


def restore_db(hass: HomeAssistant, crashed: Path) -> None:
    """Replace the database files by the copies."""
    for suffix in DB_SUFFIXES:
        Path(f"{db_path(hass)}{suffix}").unlink(missing_ok=True)
    for copy in crashed.iterdir():
        shutil.copy2(copy, db_path(hass).parent / copy.name)


def metered_kwh(coordinator: PevPortalCoordinator, stored: list[Interval]) -> float:
    """Energy in the stored intervals plus the interval still open."""
    ledger = coordinator.chargers["charger1"].ledger
    assert ledger is not None
    pending = ledger.pending()
    return sum(i.kwh for i in stored) + (pending.kwh if pending else 0.0)


def assert_contiguous(stored: list[Interval]) -> None:
    """No interval twice, none missing: each starts where the previous one ended."""
    starts = [i.start for i in stored]
    assert len(set(starts)) == len(starts)
    for before, after in itertools.pairwise(stored):
        assert before.end == after.start


async def test_clean_restart_resumes_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Unload and set up again: the same session continues, nothing lost or doubled."""
    entry = await start(hass, freezer)
    coordinator = coordinator_of(entry)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    assert runtime.demo is not None
    session_id = runtime.session.session_id
    plugged_register = runtime.demo.evse.register_kwh

    await advance(hass, freezer, 20 * 60)
    energy = float(state(hass, f"sensor.{GARAGE}_session_energy"))
    assert energy > 3.5
    await stop(hass, entry)
    assert coordinator.store._store is None

    freezer.tick(timedelta(minutes=2))
    coordinator = await restart(hass, entry)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    assert runtime.demo is not None
    assert runtime.session.session_id == session_id
    assert state(hass, f"sensor.{GARAGE}_binding") == "home"
    assert state(hass, f"binary_sensor.{GARAGE}_plugged_in") == "on"
    assert float(state(hass, f"sensor.{GARAGE}_session_energy")) == pytest.approx(energy, abs=1e-3)
    assert len(runtime.intervals) == 1

    await advance(hass, freezer, 15 * 60)
    assert state(hass, f"sensor.{GARAGE}_session_state") == "charging"
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert len(stored) == 2
    assert_contiguous(stored)
    delta = runtime.demo.evse.register_kwh - plugged_register
    assert metered_kwh(coordinator, stored) == pytest.approx(delta, abs=1e-6)
    assert runtime.session.meter_kwh == pytest.approx(delta, abs=1e-6)
    assert await coordinator.store.call(lambda s: s.anomalies(session_id)) == []


@pytest.mark.parametrize(
    "crash_after",
    [15 * 60, 15 * 60 + 10, 20 * 60],
    ids=["as_interval_closes", "between_checkpoints", "after_checkpoint"],
)
async def test_crash_mid_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, crash_after: int
) -> None:
    """Killed mid-session: the session resumes from the last committed write, exactly."""
    entry = await start(hass, freezer)
    coordinator = coordinator_of(entry)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    assert runtime.demo is not None
    session_id = runtime.session.session_id
    plugged_register = runtime.demo.evse.register_kwh

    # At or after 10:15, when the first interval closed and was written.
    await advance(hass, freezer, crash_after)
    await coordinator.store.call(lambda s: None)
    crashed = await hass.async_add_executor_job(copy_db, hass)

    # The first instance runs on a little: whatever it writes now is lost in the crash.
    await advance(hass, freezer, 2 * 60)
    await stop(hass, entry)
    await hass.async_add_executor_job(restore_db, hass, crashed)

    freezer.tick(timedelta(minutes=1))
    coordinator = await restart(hass, entry)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    assert runtime.demo is not None
    assert runtime.session.session_id == session_id
    assert runtime.session.pev_id == "PEV-DEMO-0001"
    assert state(hass, f"sensor.{GARAGE}_binding") == "home"
    assert state(hass, f"binary_sensor.{GARAGE}_plugged_in") == "on"

    await advance(hass, freezer, 45 * 60 - crash_after)  # until 10:48
    assert state(hass, f"sensor.{GARAGE}_session_state") == "charging"
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert [i.start.strftime("%H:%M") for i in stored] == ["10:00", "10:15", "10:30"]
    assert_contiguous(stored)
    # The demo register is restored together with the ledger: the energy since plug-in is
    # exactly what the ledger holds.
    delta = runtime.demo.evse.register_kwh - plugged_register
    assert metered_kwh(coordinator, stored) == pytest.approx(delta, abs=1e-6)
    assert await coordinator.store.call(lambda s: s.anomalies(session_id)) == []


async def crash_and_restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> PevPortalCoordinator:
    """Copy the database now, stop, put the copy back and set up again."""
    await coordinator_of(entry).store.call(lambda s: None)
    crashed = await hass.async_add_executor_job(copy_db, hass)
    await stop(hass, entry)
    await hass.async_add_executor_job(restore_db, hass, crashed)
    freezer.tick(timedelta(minutes=1))
    return await restart(hass, entry)


async def test_crash_after_unplug(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Killed right after the car was unplugged: no new session appears at restart."""
    entry = await start(hass, freezer)
    await advance(hass, freezer, 10 * 60 + 10)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done()
    last = coordinator_of(entry).chargers["charger1"].last_session
    assert last is not None

    coordinator = await crash_and_restart(hass, freezer, entry)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is None
    assert runtime.last_session is not None
    assert runtime.last_session.session_id == last.session_id
    assert state(hass, f"sensor.{GARAGE}_session_state") == "unplugged"
    assert state(hass, f"switch.{GARAGE}_demo_car_plugged_in") == "off"
    assert await coordinator.store.call(lambda s: s.open_sessions()) == []


async def test_unplugged_while_down(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """The car left while Home Assistant was down: the session is completed at restart."""
    entry = await start(hass, freezer)
    coordinator = coordinator_of(entry)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    session_id = runtime.session.session_id
    await advance(hass, freezer, 20 * 60)
    energy = runtime.session.meter_kwh
    await stop(hass, entry)

    def _unplug() -> None:
        store = LedgerStore(db_path(hass))
        saved = store.get_meta("demo:charger1")
        assert saved["car"] is not None
        store.set_meta("demo:charger1", {**saved, "car": None})
        assert [s.session_id for s in store.open_sessions()] == [session_id]
        store.close()

    await hass.async_add_executor_job(_unplug)

    ended: list[str] = []
    hass.bus.async_listen("pev_portal_session_ended", lambda e: ended.append(e.data["session_id"]))
    freezer.tick(timedelta(minutes=30))
    coordinator = await restart(hass, entry)
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is None
    assert runtime.last_session is not None
    assert runtime.last_session.session_id == session_id
    assert ended == [session_id]
    assert state(hass, f"sensor.{GARAGE}_session_state") == "unplugged"
    assert state(hass, f"binary_sensor.{GARAGE}_plugged_in") == "off"
    assert float(state(hass, f"sensor.{GARAGE}_session_energy")) == pytest.approx(energy, abs=1e-3)

    assert await coordinator.store.call(lambda s: s.open_sessions()) == []
    row = await coordinator.store.call(lambda s: s.session(session_id))
    assert row is not None
    assert row.data["state"] == "completed"
    assert row.data["ended_at"] is not None
    assert row.summary is not None
    assert row.summary["energy_kwh"] == pytest.approx(energy, abs=1e-6)
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert_contiguous(stored)
    assert sum(i.kwh for i in stored) == pytest.approx(energy, abs=1e-6)


async def test_restart_without_session_shows_last(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """After a restart the last completed session is shown again."""
    entry = await start(hass, freezer)
    await advance(hass, freezer, 10 * 60)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done()
    energy = float(state(hass, f"sensor.{GARAGE}_session_energy"))
    cost = float(state(hass, f"sensor.{GARAGE}_session_cost"))
    await stop(hass, entry)
    coordinator = await restart(hass, entry)
    assert coordinator.chargers["charger1"].session is None
    assert state(hass, f"sensor.{GARAGE}_session_state") == "unplugged"
    assert float(state(hass, f"sensor.{GARAGE}_session_energy")) == energy
    assert float(state(hass, f"sensor.{GARAGE}_session_cost")) == pytest.approx(cost)
    assert state(hass, f"sensor.{GARAGE}_binding") == "home"
