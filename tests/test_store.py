"""Unit tests of the durable ledger store (SQLite, no Home Assistant)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.pev_portal.core.metering import Anomaly, AnomalyKind, Interval, Quality
from custom_components.pev_portal.io.store import (
    SCHEMA_VERSION,
    AsyncLedgerStore,
    LedgerStore,
    command_csv_rows,
    csv_rows,
    iso,
    parse_iso,
)

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
P = "PREMISE-1"


def session(session_id: str = "s1", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "session_id": session_id,
        "charger_id": "charger1",
        "premise_id": "PREMISE-1",
        "started_at": T0.isoformat(),
        "ended_at": None,
        "state": "charging",
        "pev_id": None,
        "meter_kwh": 1.5,
        "decision": {"outcome": "home", "billing_party": "premise_customer"},
    }
    data.update(changes)
    return data


def interval(index: int, kwh: float = 0.5, pev_id: str | None = None) -> Interval:
    start = T0 + timedelta(minutes=15 * index)
    return Interval(
        start=start,
        end=start + timedelta(minutes=15),
        kwh=kwh,
        pev_id=pev_id,
        premise_id="PREMISE-1",
        meter_id="METER-1",
        quality=Quality.OK,
        meter_epoch=0,
        register_end=100.0 + kwh * (index + 1),
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LedgerStore]:
    opened = LedgerStore(tmp_path / "sub" / "ledger.db")
    yield opened
    opened.close()


def test_wal_mode_and_schema(store: LedgerStore) -> None:
    """The database is in WAL mode with full sync, and knows its schema version."""
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store._db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.get_meta("schema_version") == SCHEMA_VERSION == 7
    assert store.path.parent.name == "sub"


def test_save_session_twice_does_not_duplicate(store: LedgerStore) -> None:
    """Writing the same intervals again (a retried save) changes nothing."""
    intervals = [interval(0), interval(1)]
    store.save_session(session(), {"snap": 1}, intervals)
    store.save_session(session(meter_kwh=2.0), {"snap": 2}, intervals)
    store.save_session(session(), None, [interval(0, kwh=9.9)])
    assert store.interval_count() == 2
    stored = store.intervals("s1")
    assert stored == intervals
    assert stored[0].kwh == 0.5
    row = store.session("s1")
    assert row is not None
    assert row.ledger is None  # the last save had no snapshot (ended session)
    assert row.data["meter_kwh"] == 1.5


def test_save_session_atomic(store: LedgerStore) -> None:
    """A failing save leaves nothing of it behind."""
    store.save_session(session(), {"snap": 1}, [interval(0)])
    with pytest.raises(KeyError):
        store.save_session({**session(meter_kwh=5.0), "decision": {}}, {"snap": 2}, [interval(1)])
    assert store.interval_count() == 1
    row = store.session("s1")
    assert row is not None
    assert row.ledger == {"snap": 1}
    # An interval the database refuses rolls back the session row written with it.
    broken = Interval(T0, T0, 1.0, None, None, "M", Quality.OK, 0, None)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        store.save_session(session(meter_kwh=7.0), {"snap": 3}, [interval(2), broken])
    assert store.interval_count() == 1
    row = store.session("s1")
    assert row is not None
    assert row.ledger == {"snap": 1}
    assert row.data["meter_kwh"] == 1.5


def test_summary_and_cost_kept(store: LedgerStore) -> None:
    """A later save without summary keeps the stored summary and cost."""
    summary = {"cost": "0.30", "currency": "EUR", "energy_kwh": 1.5}
    store.save_session(session(ended_at=T0.isoformat(), state="completed"), None, (), (), summary)
    store.save_session(session(ended_at=T0.isoformat(), state="completed"), None)
    row = store.session("s1")
    assert row is not None
    assert row.summary == summary
    cost = store._db.execute("SELECT cost, currency FROM sessions").fetchone()
    assert tuple(cost) == ("0.30", "EUR")


def test_open_sessions(store: LedgerStore) -> None:
    """Sessions without an end are open, oldest first."""
    later = (T0 + timedelta(hours=1)).isoformat()
    store.save_session(session("b", started_at=later), {"ledger": "b"})
    store.save_session(session("a"), {"ledger": "a"})
    store.save_session(
        session("c", ended_at=(T0 + timedelta(hours=2)).isoformat(), state="completed"), None
    )
    opened = store.open_sessions()
    assert [s.session_id for s in opened] == ["a", "b"]
    assert opened[0].ledger == {"ledger": "a"}
    assert opened[0].charger_id == "charger1"
    assert opened[0].data["state"] == "charging"
    store.save_session(session("a", ended_at=later, state="completed"), None)
    assert [s.session_id for s in store.open_sessions()] == ["b"]


def test_recent_and_between(store: LedgerStore) -> None:
    """Recent sessions (per charger) newest first; a date range is [start, end)."""
    for n in range(3):
        store.save_session(session(f"s{n}", started_at=(T0 + timedelta(days=n)).isoformat()), None)
    store.save_session(
        session("other", charger_id="charger2", started_at=(T0 + timedelta(hours=1)).isoformat()),
        None,
    )
    assert next(s.session_id for s in store.recent_sessions(2)) == "s2"
    assert [s.session_id for s in store.recent_sessions(5, "charger1")] == ["s2", "s1", "s0"]
    assert [s.session_id for s in store.recent_sessions(5, "charger2")] == ["other"]
    between = store.sessions_between(T0, T0 + timedelta(days=2))
    assert [s.session_id for s in between] == ["s0", "other", "s1"]
    later = store.sessions_between(T0 + timedelta(days=2), T0 + timedelta(days=3))
    assert [s.session_id for s in later] == ["s2"]
    assert store.session("missing") is None


def test_assign_pev(store: LedgerStore) -> None:
    """A vehicle identified afterwards is written to the session and all its intervals."""
    store.save_session(session(), {"x": 1}, [interval(0), interval(1)])
    store.save_session(session("s2"), None, [interval(0)])
    store.assign_pev("s1", "PEV-1")
    assert [i.pev_id for i in store.intervals("s1")] == ["PEV-1", "PEV-1"]
    assert [i.pev_id for i in store.intervals("s2")] == [None]
    row = store._db.execute("SELECT pev_id FROM sessions WHERE session_id = 's1'").fetchone()
    assert row[0] == "PEV-1"


def test_anomalies(store: LedgerStore) -> None:
    """Anomalies are stored with the session they belong to."""
    found = Anomaly(AnomalyKind.BACKWARDS, T0, 10.0, 5.0, "register went backwards")
    store.save_session(session(), None, (), [found])
    assert store.anomalies("s1") == [
        {"at": "2026-11-22T10:00:00Z", "kind": "backwards", "message": "register went backwards"}
    ]
    assert store.anomalies("s2") == []


def test_local_events(store: LedgerStore) -> None:
    """Local events are kept by ID; only those not yet over are read back, by start."""
    store.add_local_event(
        "e2",
        "price",
        T0 + timedelta(hours=2),
        T0 + timedelta(hours=3),
        {"name": "late", "price": 0.5},
        P,
    )
    store.add_local_event("e1", "load_control", T0, T0 + timedelta(hours=1), {"limit_kw": 3.7}, P)
    events = store.local_events(T0, P)
    assert [e["event_id"] for e in events] == ["e1", "e2"]
    assert events[0] == {
        "event_id": "e1",
        "kind": "load_control",
        "start": T0,
        "end": T0 + timedelta(hours=1),
        "limit_kw": 3.7,
    }
    assert [e["event_id"] for e in store.local_events(T0 + timedelta(hours=1), P)] == ["e2"]
    store.add_local_event("e2", "price", T0, T0 + timedelta(hours=4), {"price": 0.6}, P)
    assert [e["price"] for e in store.local_events(T0 + timedelta(hours=3), P)] == [0.6]


def test_meta(store: LedgerStore) -> None:
    """Any JSON value is kept under a key and can be replaced."""
    assert store.get_meta("demo:x") is None
    store.set_meta("demo:x", {"register_kwh": 1.25, "car": None})
    assert store.get_meta("demo:x") == {"register_kwh": 1.25, "car": None}
    store.set_meta("demo:x", [1, 2])
    assert store.get_meta("demo:x") == [1, 2]


def test_survives_reopen(tmp_path: Path) -> None:
    """Committed writes are there after the connection is gone (even without close)."""
    path = tmp_path / "ledger.db"
    first = LedgerStore(path)
    first.save_session(session(), {"snap": 1}, [interval(0)])
    first._db.close()  # no checkpoint: the data is in the WAL
    second = LedgerStore(path)
    assert second.intervals("s1") == [interval(0)]
    assert [s.session_id for s in second.open_sessions()] == ["s1"]
    second.close()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


def test_csv_rows() -> None:
    """Header first; energy and register with six decimals; empty for unknowns."""
    rows = csv_rows([("s1", interval(0, pev_id="PEV-1")), ("s1", interval(1))])
    assert rows[0] == [
        "session_id",
        "start_utc",
        "end_utc",
        "kwh",
        "pev_id",
        "premise_id",
        "meter_id",
        "quality",
        "meter_epoch",
        "register_end_kwh",
        "exported_kwh",
    ]
    assert rows[1] == [
        "s1",
        "2026-11-22T10:00:00Z",
        "2026-11-22T10:15:00Z",
        "0.500000",
        "PEV-1",
        "PREMISE-1",
        "METER-1",
        "OK",
        "0",
        "100.500000",
        "0.000000",
    ]
    assert rows[2][4] == ""
    unknown = Interval(T0, T0, 0.0, None, "P", "M", Quality.MISSING, 2, None, exported_kwh=1.25)
    assert csv_rows([("s", unknown)])[1][-4:] == ["MISSING", "2", "", "1.250000"]
    assert csv_rows([]) == [rows[0]]


def test_iso_round_trip() -> None:
    """Times are stored as UTC with a Z at second resolution."""
    local = datetime(2026, 11, 22, 11, 0, 30, 999, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    assert iso(local) == "2026-11-22T11:00:30Z"
    assert parse_iso("2026-11-22T11:00:30Z") == datetime(2026, 11, 22, 11, 0, 30, tzinfo=UTC)


async def test_async_store_in_order(tmp_path: Path) -> None:
    """Submitted writes run in order on the store's thread; close waits for them."""
    store = AsyncLedgerStore(tmp_path / "ledger.db")
    await store.open()
    futures = [store.submit(lambda s, n=n: s.set_meta("n", n)) for n in range(50)]
    assert await store.call(lambda s: s.get_meta("n")) == 49
    assert all(f.done() for f in futures)
    store.submit(lambda s: s.set_meta("last", True))
    await store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.submit(lambda s: None)
    reopened = LedgerStore(tmp_path / "ledger.db")
    assert reopened.get_meta("last") is True
    reopened.close()


def command(at: datetime, source: str = "plan", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "at": at.isoformat(),
        "source": source,
        "enabled": False,
        "current_a": 0,
        "target_kw": 0.0,
        "measured_kw": None,
        "obeyed": None,
        "response_s": None,
        "via": None,
        "escalated_to": None,
        "measured_by": None,
        "error": None,
    }
    data.update(changes)
    return data


def test_commands_round_trip(store: LedgerStore) -> None:
    """A session's audit trail is stored in order; verifying a command updates it in place."""
    store.save_session(session(), None)
    trail = [command(T0), command(T0 + timedelta(hours=1), "event", enabled=True, current_a=16)]
    store.save_commands("s1", trail)
    assert store.commands("s1") == trail
    trail[0].update(measured_kw=0.0, obeyed=True, response_s=2.5)
    trail.append(command(T0 + timedelta(hours=2), "user", enabled=True, current_a=32.0))
    store.save_commands("s1", trail)
    assert store.commands("s1") == trail
    assert store.commands("s1")[0]["obeyed"] is True
    assert store.commands("s2") == []
    assert store.open_commands(P) == {"s1": trail}
    store.save_session(session(ended_at=T0.isoformat(), state="completed"), None)
    assert store.open_commands(P) == {}
    assert store.commands("s1") == trail  # kept with the closed session


def test_recent_commands(store: LedgerStore) -> None:
    """A charger's last commands over its sessions, oldest first, with their session."""
    store.save_session(session("a"), None)
    store.save_session(session("b", started_at=(T0 + timedelta(days=1)).isoformat()), None)
    store.save_session(session("c", charger_id="charger2"), None)
    store.save_commands("a", [command(T0 + timedelta(minutes=n)) for n in range(3)])
    store.save_commands("b", [command(T0 + timedelta(days=1, minutes=n)) for n in range(2)])
    store.save_commands("c", [command(T0)])
    recent = store.recent_commands("charger1", 3)
    assert [(c["session_id"], c["at"]) for c in recent] == [
        ("a", (T0 + timedelta(minutes=2)).isoformat()),
        ("b", (T0 + timedelta(days=1)).isoformat()),
        ("b", (T0 + timedelta(days=1, minutes=1)).isoformat()),
    ]
    assert [c["session_id"] for c in store.recent_commands("charger2")] == ["c"]
    assert store.recent_commands("charger3") == []


def test_migration_from_version_1(tmp_path: Path) -> None:
    """A version-1 database (audit trails in meta rows) opens as version 3 with its commands."""
    path = tmp_path / "ledger.db"
    old = sqlite3.connect(path)
    # The version-1 schema: every table but commands (its CREATE statements are unchanged).
    old.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE sessions (
            session_id TEXT PRIMARY KEY, charger_id TEXT NOT NULL, premise_id TEXT NOT NULL,
            pev_id TEXT, started_at TEXT NOT NULL, ended_at TEXT, state TEXT NOT NULL,
            outcome TEXT NOT NULL, billing_party TEXT NOT NULL,
            energy_kwh REAL NOT NULL DEFAULT 0, cost TEXT, currency TEXT, data TEXT NOT NULL,
            ledger TEXT, summary TEXT, updated_at TEXT NOT NULL
        );
        """
    )
    trail = [
        command(T0, enabled=False, measured_kw=0.2, obeyed=True, response_s=3.0),
        command(T0 + timedelta(hours=1), "user", enabled=True, current_a=32),
    ]
    old.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [
            ("schema_version", "1"),
            ("audit:s1", json.dumps(trail)),
            ("smart_charging:PREMISE-1", json.dumps({"vehicle1": {"mode": "cheapest"}})),
        ],
    )
    old.execute(
        "INSERT INTO sessions (session_id, charger_id, premise_id, started_at, state, outcome,"
        " billing_party, data, updated_at) VALUES ('s1', 'charger1', 'P', ?, 'completed',"
        " 'home', 'premise_customer', ?, ?)",
        (iso(T0), json.dumps(session()), iso(T0)),
    )
    old.commit()
    old.close()

    store = LedgerStore(path)
    try:
        assert store.get_meta("schema_version") == SCHEMA_VERSION
        assert store.commands("s1") == trail
        assert store.get_meta("audit:s1") is None  # moved, not copied
        assert store.get_meta("smart_charging:PREMISE-1") == {"vehicle1": {"mode": "cheapest"}}
        assert store.session("s1") is not None
        store.save_session(session("s2"), None, [interval(0)])  # the other tables work
        assert store.interval_count() == 1
    finally:
        store.close()
    reopened = LedgerStore(path)  # a second open migrates nothing
    assert reopened.get_meta("schema_version") == SCHEMA_VERSION
    assert reopened.commands("s1") == trail
    reopened.close()


def test_migration_from_version_2(tmp_path: Path) -> None:
    """A version-2 database gets commands.measured_by; its commands keep their values."""
    path = tmp_path / "ledger.db"
    store = LedgerStore(path)
    store.save_session(session(), None)
    store.save_commands("s1", [command(T0, enabled=True, current_a=16, obeyed=True)])
    store.close()
    old = sqlite3.connect(path)  # back to version 2: the column did not exist
    old.execute("ALTER TABLE commands DROP COLUMN measured_by")
    old.execute("ALTER TABLE commands DROP COLUMN error")
    old.execute("ALTER TABLE outbox DROP COLUMN dead_letter")
    old.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    old.commit()
    old.close()

    store = LedgerStore(path)
    try:
        assert store.get_meta("schema_version") == SCHEMA_VERSION
        (found,) = store.commands("s1")
        assert found["obeyed"] is True
        assert found["measured_by"] is None
        store.save_commands("s1", [{**found, "measured_by": "meter"}])
        assert store.commands("s1")[0]["measured_by"] == "meter"
    finally:
        store.close()


def _put(store: LedgerStore, key: str, now: datetime) -> None:
    store.outbox_put(
        report_key=key,
        session_id="s1",
        event_id="e1",
        program_id="p1",
        report_name="s1",
        kind="usage",
        body={"n": key},
        now=now,
        premise_id=P,
    )


def test_outbox_dead_letter_kept_and_resent(store: LedgerStore) -> None:
    """A dead-lettered report is kept with its body, leaves the backlog and is not due until
    it is resent (one or all)."""
    _put(store, "a", T0)
    _put(store, "b", T0)
    store.outbox_dead_letter("a", "HTTP 422 (bad report)", P)
    assert [r["report_key"] for r in store.outbox_due(T0, P)] == ["b"]
    stats = store.outbox_stats(P)
    assert (stats["backlog"], stats["dead"]) == (1, 1)
    [dead] = store.outbox_dead_letters(P)
    assert (dead["report_key"], dead["dead_letter"], dead["body"]) == (
        "a",
        "HTTP 422 (bad report)",
        {"n": "a"},
    )
    assert store.outbox_resend("zzz", T0, P) == 0
    assert store.outbox_resend(None, T0, P) == 1
    assert sorted(r["report_key"] for r in store.outbox_due(T0, P)) == ["a", "b"]
    assert store.outbox_stats(P)["dead"] == 0


def test_outbox_newer_body_of_a_dead_letter_is_due(store: LedgerStore) -> None:
    """The refused body stays refused; the report's next body is a new request, due again."""
    _put(store, "a", T0)
    store.outbox_dead_letter("a", "HTTP 422 (bad report)", P)
    assert store.outbox_due(T0, P) == []
    _put(store, "a", T0)
    [due] = store.outbox_due(T0, P)
    assert (due["report_key"], due["dead_letter"], due["attempts"]) == ("a", None, 0)
    assert store.outbox_stats(P)["dead"] == 0


def test_migration_from_version_4(tmp_path: Path) -> None:
    """A version-4 database gets outbox.dead_letter; its reports stay due."""
    path = tmp_path / "ledger.db"
    store = LedgerStore(path)
    _put(store, "a", T0)
    store.close()
    old = sqlite3.connect(path)
    old.execute("ALTER TABLE outbox DROP COLUMN dead_letter")
    old.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    old.commit()
    old.close()
    store = LedgerStore(path)
    try:
        assert store.get_meta("schema_version") == SCHEMA_VERSION
        assert [r["report_key"] for r in store.outbox_due(T0, P)] == ["a"]
        assert store.outbox_due(T0, P)[0]["dead_letter"] is None
    finally:
        store.close()


def test_command_csv_rows() -> None:
    """Header first, one row per command; empty for unknowns."""
    rows = command_csv_rows([("s1", command(T0, enabled=True, current_a=16, target_kw=11.04))])
    assert rows[0] == [
        "session_id",
        "at",
        "source",
        "enabled",
        "current_a",
        "target_kw",
        "measured_kw",
        "obeyed",
        "response_s",
        "via",
        "escalated_to",
        "measured_by",
        "error",
    ]
    assert rows[1] == [
        "s1",
        T0.isoformat(),
        "plan",
        "True",
        "16",
        "11.04",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]


def test_migration_from_version_3(tmp_path: Path) -> None:
    """A version-3 database gets commands.error; a failed command keeps its error."""
    path = tmp_path / "ledger.db"
    store = LedgerStore(path)
    store.save_session(session(), None)
    store.save_commands("s1", [command(T0, enabled=True, current_a=16, obeyed=True)])
    store.close()
    old = sqlite3.connect(path)  # back to version 3: the column did not exist
    old.execute("ALTER TABLE commands DROP COLUMN error")
    old.execute("ALTER TABLE outbox DROP COLUMN dead_letter")
    old.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    old.commit()
    old.close()

    store = LedgerStore(path)
    try:
        assert store.get_meta("schema_version") == SCHEMA_VERSION
        (found,) = store.commands("s1")
        assert found["error"] is None
        failed = {**found, "obeyed": False, "measured_by": "failed", "error": "timeout"}
        store.save_commands("s1", [failed])
        assert store.commands("s1")[0]["error"] == "timeout"
    finally:
        store.close()
