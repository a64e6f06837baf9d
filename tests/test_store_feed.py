"""The ledger's intervals with the energy fed back (power feed): stored, migrated, kept."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from custom_components.pev_portal.core.metering import Quality
from custom_components.pev_portal.io.store import SCHEMA_VERSION, LedgerStore
from tests.test_store import T0, interval, session
from tests.test_store_durability import Lock, Statuses, open_store


def test_exported_energy_is_stored_and_read_back(tmp_path: Path) -> None:
    """An interval's exported kWh round-trips; the old import-only ones read 0."""
    store = LedgerStore(tmp_path / "ledger.db")
    try:
        fed = replace(interval(1, kwh=0.0), exported_kwh=1.75)
        store.save_session(session(), None, [interval(0), fed])
        assert [i.exported_kwh for i in store.intervals("s1")] == [0.0, 1.75]
    finally:
        store.close()


def test_opening_a_version_5_database_adds_the_column(tmp_path: Path) -> None:
    """A version-5 file with sessions and intervals: nothing lost, exported 0, new writes carry
    export; a second open migrates nothing."""
    path = tmp_path / "ledger.db"
    store = LedgerStore(path)
    store.save_session(session(), None, [interval(n) for n in range(3)])
    store.save_session(session("s2", pev_id="PEV-1"), None, [interval(4, pev_id="PEV-1")])
    store.close()
    old = sqlite3.connect(path)  # back to version 5: the column did not exist
    old.execute("DROP INDEX intervals_pev")
    old.execute("ALTER TABLE intervals DROP COLUMN exported_kwh")
    old.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    old.commit()
    assert "exported_kwh" not in {row[1] for row in old.execute("PRAGMA table_info(intervals)")}
    old.close()

    store = LedgerStore(path)
    try:
        assert store.get_meta("schema_version") == SCHEMA_VERSION == 7
        found = store.intervals("s1")
        assert [(i.start, i.kwh, i.register_end) for i in found] == [
            (interval(n).start, 0.5, interval(n).register_end) for n in range(3)
        ]
        assert [i.exported_kwh for i in found] == [0.0, 0.0, 0.0]
        assert store.interval_count() == 4
        store.save_session(session(), None, [replace(interval(3), exported_kwh=0.25)])
        assert store.intervals("s1")[-1].exported_kwh == 0.25
    finally:
        store.close()
    again = LedgerStore(path)
    try:
        assert again.get_meta("schema_version") == SCHEMA_VERSION
        assert len(again.intervals("s1")) == 4
    finally:
        again.close()


def test_nan_never_reaches_the_store(tmp_path: Path) -> None:
    """A NaN exported energy (a bug upstream) fails the write whole: nothing half-written."""
    store = LedgerStore(tmp_path / "ledger.db")
    try:
        bad = replace(interval(0), exported_kwh=math.nan)
        with pytest.raises(ValueError, match="finite"):
            store.save_session(session(), None, [bad])
        assert store.interval_count() == 0
        assert store.session("s1") is None
    finally:
        store.close()


def test_fed_energy_per_vehicle_of_ended_sessions(tmp_path: Path) -> None:
    """The battery-use query: billable intervals of ended sessions, in all and since a time."""
    store = LedgerStore(tmp_path / "ledger.db")
    try:
        ended = session(ended_at=(T0 + timedelta(hours=3)).isoformat(), pev_id="PEV-1")
        store.save_session(
            ended,
            None,
            [
                replace(interval(0, pev_id="PEV-1"), exported_kwh=1.0),
                replace(interval(8, pev_id="PEV-1"), exported_kwh=2.0),
                replace(interval(9, pev_id="PEV-1"), exported_kwh=4.0, quality=Quality.MISSING),
                replace(interval(10, pev_id="PEV-2"), exported_kwh=8.0),
            ],
        )
        running = session("s2", pev_id="PEV-1")
        store.save_session(running, None, [replace(interval(12, pev_id="PEV-1"), exported_kwh=16)])
        assert store.fed_kwh("PEV-1", T0 + timedelta(hours=1)) == (3.0, 2.0)
        assert store.fed_kwh("PEV-3", T0) == (0.0, 0.0)
        plan = store._db.execute(
            "EXPLAIN QUERY PLAN SELECT exported_kwh FROM intervals WHERE pev_id = ?", ("PEV-1",)
        ).fetchall()
        assert "intervals_pev" in " ".join(str(tuple(row)) for row in plan)
    finally:
        store.close()


async def test_a_failed_write_of_fed_intervals_is_kept_for_the_retry(tmp_path: Path) -> None:
    """While the file is locked the session's intervals with export wait, then land whole."""
    path = tmp_path / "ledger.db"
    statuses = Statuses()
    store = await open_store(path, statuses)
    await store.call(lambda s: s.save_session(session(), None))
    lock = Lock(path)
    fed = [replace(interval(n, kwh=0.0), exported_kwh=0.5 + n) for n in range(3)]
    written = store.submit(lambda s: s.save_session(session(meter_kwh=0.0), None, fed))
    await statuses.wait(1)
    assert "locked" in (statuses.seen[0].error or "")
    assert await store.read(lambda s: s.interval_count()) == 0
    lock.release()
    await written
    stored = await store.read(lambda s: s.intervals("s1"))
    assert [i.exported_kwh for i in stored] == [0.5, 1.5, 2.5]
    await store.close()
