"""The ledger store keeps every write that fails and retries it; a damaged file is moved aside.

The failures are real SQLite failures: another connection holding the write lock (``database
is locked``, what a backup or a second process causes), a file that is not a database, a
truncated or corrupt one. The store is used through its async facade, as Home Assistant uses it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from custom_components.pev_portal.io.store import (
    FILE_MODE,
    AsyncLedgerStore,
    LedgerStore,
    StoreClosedError,
    StoreStatus,
    open_ledger,
)
from custom_components.pev_portal.validation import valid_local_event
from tests.test_store import interval, session

# Small delays so a test waits milliseconds; behaviour, not timing, is asserted.
FAST = {"retry_first_s": 0.01, "retry_max_s": 0.05, "busy_timeout_s": 0.02}


class Lock:
    """Another connection that holds the ledger's write lock until released."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.db.execute("ROLLBACK")
        self.db.close()


class Statuses:
    """Collects the store's status reports; wait() returns when the next one arrives."""

    def __init__(self) -> None:
        self.seen: list[StoreStatus] = []
        self._event = asyncio.Event()

    def __call__(self, status: StoreStatus) -> None:
        self.seen.append(status)
        self._event.set()

    async def wait(self, count: int) -> None:
        while len(self.seen) < count:
            self._event.clear()
            await self._event.wait()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


async def open_store(path: Path, statuses: Statuses, **options: Any) -> AsyncLedgerStore:
    store = AsyncLedgerStore(path, on_status=statuses, **{**FAST, **options})
    report = await store.open()
    assert not report.damaged
    return store


async def test_locked_writes_are_kept_and_written_in_order(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Writes made while the file is locked are kept, reads go on, and all land in order."""
    statuses = Statuses()
    store = await open_store(path, statuses)
    await store.call(lambda s: s.save_session(session(), None))
    lock = Lock(path)
    futures = [
        store.submit(lambda s, n=n: s.save_session(session(meter_kwh=n), None, [interval(n)]))
        for n in range(12)
    ]
    futures += [store.submit(lambda s, n=n: s.set_meta("n", n)) for n in range(5)]
    await statuses.wait(1)
    failing = statuses.seen[0]
    assert failing.failing_since is not None
    assert "locked" in (failing.error or "")
    # Reads are served from what is stored meanwhile; ordered calls wait behind the writes.
    assert await store.read(lambda s: s.interval_count()) == 0
    ordered = asyncio.ensure_future(store.call(lambda s: s.get_meta("n")))
    assert await store.read(lambda s: s.get_meta("n")) is None
    assert not ordered.done()
    assert not any(f.done() for f in futures)
    lock.release()
    await asyncio.gather(*futures)
    assert await ordered == 4
    await statuses.wait(2)
    assert statuses.seen[1].failing_since is None
    intervals = await store.read(lambda s: s.intervals("s1"))
    assert [i.start for i in intervals] == [interval(n).start for n in range(12)]
    stored = await store.read(lambda s: s.session("s1"))
    assert stored is not None
    assert stored.data["meter_kwh"] == 11
    await store.close()
    # One error when it began failing, one line when it recovered: not a stream.
    records = [r for r in caplog.records if r.name.endswith("io.store")]
    assert [r.levelno for r in records] == [logging.ERROR, logging.WARNING]
    assert len(statuses.seen) == 2


async def test_a_write_that_is_wrong_raises_and_the_queue_goes_on(path: Path) -> None:
    """An error that retrying cannot cure (a bug, bad data) goes to the caller, not in a loop."""
    statuses = Statuses()
    store = await open_store(path, statuses)

    def broken(s: LedgerStore) -> None:
        raise ValueError("bad")

    failed = store.submit(broken)
    after = store.submit(lambda s: s.set_meta("after", True))
    with pytest.raises(ValueError, match="bad"):
        await failed
    await after
    syntax = store.submit(lambda s: s._db.execute("SELEC 1"))
    with pytest.raises(sqlite3.OperationalError):
        await syntax
    assert await store.read(lambda s: s.get_meta("after")) is True
    assert statuses.seen == []
    await store.close()


async def test_cancelling_the_caller_never_cancels_the_write(path: Path) -> None:
    statuses = Statuses()
    store = await open_store(path, statuses)
    lock = Lock(path)
    waiting = asyncio.ensure_future(store.call(lambda s: s.set_meta("kept", 1)))
    await statuses.wait(1)
    waiting.cancel()
    lock.release()
    await statuses.wait(2)
    assert await store.read(lambda s: s.get_meta("kept")) == 1
    await store.close()


async def test_close_gives_up_on_kept_writes_after_its_grace(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Closing while the file stays locked ends (bounded) and names the writes it lost."""
    statuses = Statuses()
    store = await open_store(path, statuses, close_grace_s=0.05)
    lock = Lock(path)
    kept = store.submit(lambda s: s.set_meta("lost", 1))
    await statuses.wait(1)
    await store.close()
    with pytest.raises(StoreClosedError):
        await kept
    assert "could not save" in caplog.text
    lock.release()


async def test_a_store_locked_at_open_opens_and_keeps_its_writes(path: Path) -> None:
    """A file that cannot be written when Home Assistant starts: reads work, writes wait."""
    LedgerStore(path).close()
    lock = Lock(path)
    statuses = Statuses()
    store = AsyncLedgerStore(path, on_status=statuses, **FAST)
    report = await store.open()
    assert report.read_only is not None
    assert not report.damaged
    written = store.submit(lambda s: s.set_meta("x", 1))
    await statuses.wait(1)
    lock.release()
    await written
    assert await store.read(lambda s: s.get_meta("x")) == 1
    await store.close()


def test_session_and_meta_in_one_transaction(path: Path) -> None:
    """The demo register is written with the ledger it feeds, or neither is."""
    store = LedgerStore(path)
    demo = {"register_kwh": 12.5, "enabled": True}
    store.save_session(session(), {"pos": 1}, [interval(0)], meta={"demo:charger1": demo})
    assert store.get_meta("demo:charger1") == demo
    with pytest.raises(TypeError):
        store.save_session(
            session(meter_kwh=9.0), {"pos": 2}, [interval(1)], meta={"demo:charger1": object()}
        )
    stored = store.session("s1")
    assert stored is not None
    assert stored.ledger == {"pos": 1}
    assert len(store.intervals("s1")) == 1
    assert store.get_meta("demo:charger1") == demo
    store.close()


# -- opening: damage and permissions ----------------------------------------------------------


def _history(path: Path) -> None:
    store = LedgerStore(path)
    for n in range(40):
        store.save_session(session(f"s{n}"), {"n": n}, [interval(k) for k in range(8)])
    store.close()


def _kept(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.damaged-*"))


@pytest.mark.parametrize(
    ("damage", "expect_history"),
    [
        ("garbage", False),
        ("header only", False),
        ("truncated", False),
        ("corrupt pages", False),
        ("empty", True),
    ],
)
def test_a_damaged_ledger_is_moved_aside(path: Path, damage: str, expect_history: bool) -> None:
    _history(path)
    if damage == "garbage":
        path.write_bytes(os.urandom(5000))
    elif damage == "header only":
        path.write_bytes(path.read_bytes()[:60])
    elif damage == "truncated":
        os.truncate(path, path.stat().st_size // 3)
    elif damage == "corrupt pages":
        with path.open("r+b") as file:
            file.seek(4096 * 3)
            file.write(b"\xa5" * 4096 * 4)
    else:
        path.write_bytes(b"")
    before = path.read_bytes()
    store, report = open_ledger(path, expect_history=expect_history)
    assert report.damaged, damage
    assert report.reason
    assert report.moved_aside == _kept(path)[0]
    assert report.moved_aside.read_bytes() == before  # kept as it was, for inspection
    assert store.recent_sessions() == []  # a fresh ledger
    store.save_session(session(), None)
    store.close()
    assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE


def test_an_empty_or_missing_file_is_fine_for_a_new_entry(path: Path) -> None:
    store, report = open_ledger(path)
    assert not report.damaged
    store.close()
    path.unlink()
    path.write_bytes(b"")
    store, report = open_ledger(path)
    assert not report.damaged
    store.close()
    assert _kept(path) == []


def test_a_missing_file_where_history_was_expected_is_reported(path: Path) -> None:
    store, report = open_ledger(path, expect_history=True)
    assert report.damaged
    assert report.moved_aside is None
    assert "missing" in (report.reason or "")
    store.close()


def test_a_sound_ledger_with_history_opens_as_it_is(path: Path) -> None:
    _history(path)
    store, report = open_ledger(path, expect_history=True)
    assert not report.damaged
    assert len(store.recent_sessions(100)) == 40
    store.close()


def _garbage(path: Path) -> None:
    path.write_bytes(b"not a database at all" * 100)


async def test_async_open_reports_a_damaged_file(path: Path) -> None:
    _garbage(path)
    store = AsyncLedgerStore(path)
    report = await store.open()
    assert report.damaged
    assert report.moved_aside is not None
    assert report.moved_aside.exists()
    await store.call(lambda s: s.set_meta("fresh", True))
    await store.close()


def test_files_are_private(path: Path) -> None:
    """The ledger holds the push bearer: 0600, its -wal and -shm too; 0644 is corrected."""
    store = LedgerStore(path)
    store.set_meta("secret", "x")
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        assert stat.S_IMODE(name.stat().st_mode) == FILE_MODE, name
    store.close()
    path.chmod(0o644)
    LedgerStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE


# -- stored local events that cannot be used ---------------------------------------------------


def test_a_bad_stored_local_event_is_read_flagged_and_kept(path: Path) -> None:
    """A NaN price or unreadable data never fails the load; the row is flagged, not deleted."""
    store = LedgerStore(path)
    start = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    end = start + timedelta(hours=1)
    store.add_local_event("nan", "price", start, end, {"name": "n", "price": math.nan}, "P1")
    store.add_local_event("ok", "price", start, end, {"name": "o", "price": 0.2}, "P1")
    store.add_local_event("broken", "price", start, end, {}, "P1")
    store._db.execute("UPDATE local_events SET data = '{not json' WHERE event_id = 'broken'")
    events = {e["event_id"]: e for e in store.local_events(start, "P1")}
    assert math.isnan(events["nan"]["price"])
    assert "unreadable" in events["broken"]
    reasons = {k: valid_local_event(e) for k, e in events.items()}
    assert reasons["ok"] is None
    assert reasons["nan"]
    assert reasons["broken"]
    store.flag_local_event("nan", reasons["nan"])
    store.flag_local_event("broken", reasons["broken"])
    store.flag_local_event("gone", "x")
    events = {e["event_id"]: e for e in store.local_events(start, "P1")}
    assert events["nan"]["skipped"] == reasons["nan"]
    assert math.isnan(events["nan"]["price"])  # kept as it was, for inspection
    assert events["broken"]["raw"] == "{not json"
    store.close()


async def test_a_failed_open_leaves_no_thread(tmp_path: Path) -> None:
    _block_folder(tmp_path)
    store = AsyncLedgerStore(tmp_path / "not-a-folder" / "ledger.db")
    with pytest.raises(NotADirectoryError):
        await store.open()
    assert not [t for t in threading.enumerate() if t.name == "pev_portal_store"]


def _block_folder(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("a file where the ledger's folder should be")


async def test_writes_stay_kept_when_reopening_fails(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever stops the connection from reopening while failing, no write is dropped."""
    statuses = Statuses()
    store = await open_store(path, statuses)
    lock = Lock(path)
    ledger: LedgerStore = store._store  # type: ignore[assignment]

    def broken_reopen() -> None:
        raise sqlite3.DatabaseError("file is not a database")

    monkeypatch.setattr(ledger, "reopen", broken_reopen)
    written = store.submit(lambda s: s.set_meta("kept", True))
    await statuses.wait(1)
    # A few retries fail in reopen; the write is still pending, not failed.
    await asyncio.sleep(0.1)
    assert not written.done()
    monkeypatch.undo()
    lock.release()
    await written
    assert await store.read(lambda s: s.get_meta("kept")) is True
    await store.close()


def test_a_mode_that_cannot_be_changed_does_not_stop_the_open(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a read-only file system chmod fails: the ledger still opens (for reads at least)."""
    LedgerStore(path).close()
    path.chmod(0o644)

    def refuse(self: Path, mode: int) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(Path, "chmod", refuse)
    store = LedgerStore(path)
    assert store.get_meta("schema_version") is not None
    store.close()


@pytest.mark.parametrize(
    ("pragma", "error"),
    [
        # The file cannot grow: SQLITE_FULL, what a full disk gives.
        ("PRAGMA max_page_count = {pages}", "full"),
        # The connection may not write: SQLITE_READONLY, what a read-only file gives.
        ("PRAGMA query_only = ON", "readonly"),
    ],
)
async def test_a_full_or_read_only_store_keeps_the_write(
    path: Path, pragma: str, error: str
) -> None:
    """SQLite's own full-disk and read-only errors are kept and retried (the retry opens the
    connection again, which is what finds the space freed or the file writable)."""
    statuses = Statuses()
    store = await open_store(path, statuses)

    def restrict(s: LedgerStore) -> None:
        pages = s._db.execute("PRAGMA page_count").fetchone()[0]
        s._db.execute(pragma.format(pages=pages))

    await store.read(restrict)
    big = "x" * 100_000
    written = store.submit(lambda s: s.set_meta("big", big))
    await statuses.wait(2)
    assert error in (statuses.seen[0].error or "")
    assert statuses.seen[1].failing_since is None
    await written
    assert await store.read(lambda s: s.get_meta("big")) == big
    await store.close()
