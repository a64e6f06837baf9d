"""Durable, crash-safe ledger of sessions, intervals, commands and local events.

SQLite in WAL mode with ``synchronous=FULL``: a committed transaction survives a crash or a
power cut. A session's row, its ledger snapshot and the intervals the ledger closed are written
in one transaction, so after a restart the ledger resumes exactly where the stored intervals end:
no interval is lost or counted twice.

The schema's version is kept in the meta table (``schema_version``); opening an older database
migrates it step by step (:data:`MIGRATIONS`), each step in one transaction with the version it
reaches. Version 2 added the ``commands`` table (the smart-charging command audit trail, one row
per command of a session) and moved the trails kept before in meta rows ``audit:<session_id>``
into it. Version 3 added ``commands.measured_by`` (what measured a command's result: the
charger's power sensor or the meter; "none" when nothing could).

All SQLite work runs on one dedicated thread (the connection belongs to it); the async facade
:class:`AsyncLedgerStore` hands calls to that thread so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.metering import Anomaly, Interval, Quality

SCHEMA_VERSION = 4

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    charger_id TEXT NOT NULL,
    premise_id TEXT NOT NULL,
    pev_id TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    state TEXT NOT NULL,
    outcome TEXT NOT NULL,
    billing_party TEXT NOT NULL,
    energy_kwh REAL NOT NULL DEFAULT 0,
    cost TEXT,
    currency TEXT,
    data TEXT NOT NULL,
    ledger TEXT,
    summary TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_open ON sessions (charger_id, ended_at);
CREATE INDEX IF NOT EXISTS sessions_started ON sessions (started_at);
CREATE TABLE IF NOT EXISTS intervals (
    session_id TEXT NOT NULL REFERENCES sessions (session_id),
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    kwh REAL NOT NULL,
    pev_id TEXT,
    premise_id TEXT NOT NULL,
    meter_id TEXT NOT NULL,
    quality TEXT NOT NULL,
    meter_epoch INTEGER NOT NULL,
    register_end REAL,
    upload_state TEXT NOT NULL DEFAULT 'pending',
    PRIMARY KEY (session_id, start)
);
CREATE INDEX IF NOT EXISTS intervals_start ON intervals (start);
CREATE TABLE IF NOT EXISTS anomalies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT,
    charger_id TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    report_key TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    program_id TEXT NOT NULL,
    report_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    sent_version INTEGER NOT NULL DEFAULT 0,
    vtn_report_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT NOT NULL,
    last_error TEXT,
    acked_at TEXT,
    updated_at TEXT NOT NULL,
    dead_letter TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt);
CREATE TABLE IF NOT EXISTS local_events (
    event_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS commands (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    source TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    current_a NUMERIC NOT NULL,
    target_kw REAL NOT NULL,
    measured_kw REAL,
    obeyed INTEGER,
    response_s REAL,
    via TEXT,
    escalated_to TEXT,
    measured_by TEXT,
    PRIMARY KEY (session_id, seq)
);
"""

# The columns of a command, in the audit trail's order (see charging.SmartCharging.record).
COMMAND_FIELDS = (
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
)
_COMMAND_INSERT = (
    f"INSERT INTO commands (session_id, seq, {', '.join(COMMAND_FIELDS)}) "
    f"VALUES ({', '.join('?' * (len(COMMAND_FIELDS) + 2))})"
)
_AUDIT_PREFIX = "audit:"


def iso(when: datetime) -> str:
    """UTC ISO 8601 at one-second resolution with a ``Z`` (NF.1); sorts as text."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Inverse of :func:`iso` (also accepts offsets)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def interval_to_row(session_id: str, interval: Interval) -> tuple[Any, ...]:
    """The intervals-table row of an interval."""
    return (
        session_id,
        iso(interval.start),
        iso(interval.end),
        interval.kwh,
        interval.pev_id,
        interval.premise_id,
        interval.meter_id,
        interval.quality.value,
        interval.meter_epoch,
        interval.register_end,
    )


def row_to_interval(row: sqlite3.Row) -> Interval:
    """Inverse of :func:`interval_to_row`."""
    return Interval(
        start=parse_iso(row["start"]),
        end=parse_iso(row["end"]),
        kwh=row["kwh"],
        pev_id=row["pev_id"],
        premise_id=row["premise_id"],
        meter_id=row["meter_id"],
        quality=Quality(row["quality"]),
        meter_epoch=row["meter_epoch"],
        register_end=row["register_end"],
    )


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session row: its state, ledger snapshot and summary, as stored."""

    session_id: str
    charger_id: str
    data: dict[str, Any]
    ledger: dict[str, Any] | None
    summary: dict[str, Any] | None


class LedgerStore:
    """Synchronous SQLite ledger. Use from one thread only (see AsyncLedgerStore)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (json.dumps(SCHEMA_VERSION),),
        )
        self._migrate()

    def _migrate(self) -> None:
        """Bring an older database up to :data:`SCHEMA_VERSION`, one step at a time."""
        version = int(self.get_meta("schema_version") or 1)
        while version < SCHEMA_VERSION:
            step = MIGRATIONS[version]
            with self._transaction():
                step(self._db)
                version += 1
                self._db.execute(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version'",
                    (json.dumps(version),),
                )

    def close(self) -> None:
        """Checkpoint the WAL and close."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()

    def save_session(
        self,
        session: dict[str, Any],
        ledger: dict[str, Any] | None,
        intervals: Sequence[Interval] = (),
        anomalies: Sequence[Anomaly] = (),
        summary: dict[str, Any] | None = None,
    ) -> None:
        """Write a session, its ledger snapshot and newly closed intervals atomically."""
        now = iso(datetime.now(UTC))
        decision = session["decision"]
        with self._transaction():
            self._db.execute(
                """INSERT INTO sessions (session_id, charger_id, premise_id, pev_id, started_at,
                       ended_at, state, outcome, billing_party, energy_kwh, cost, currency, data,
                       ledger, summary, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (session_id) DO UPDATE SET
                       pev_id = excluded.pev_id, ended_at = excluded.ended_at,
                       state = excluded.state, outcome = excluded.outcome,
                       billing_party = excluded.billing_party, energy_kwh = excluded.energy_kwh,
                       cost = COALESCE(excluded.cost, sessions.cost),
                       currency = COALESCE(excluded.currency, sessions.currency),
                       data = excluded.data, ledger = excluded.ledger,
                       summary = COALESCE(excluded.summary, sessions.summary),
                       updated_at = excluded.updated_at""",
                (
                    session["session_id"],
                    session["charger_id"],
                    session["premise_id"],
                    session["pev_id"],
                    iso(parse_iso(session["started_at"])),
                    iso(parse_iso(session["ended_at"])) if session["ended_at"] else None,
                    session["state"],
                    decision["outcome"],
                    decision["billing_party"],
                    session["meter_kwh"],
                    summary["cost"] if summary else None,
                    summary["currency"] if summary else None,
                    json.dumps(session),
                    json.dumps(ledger) if ledger is not None else None,
                    json.dumps(summary) if summary is not None else None,
                    now,
                ),
            )
            self._db.executemany(
                """INSERT INTO intervals (session_id, start, end, kwh, pev_id, premise_id,
                       meter_id, quality, meter_epoch, register_end)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (session_id, start) DO NOTHING""",
                [interval_to_row(session["session_id"], i) for i in intervals],
            )
            self._db.executemany(
                "INSERT INTO anomalies (session_id, charger_id, at, kind, message) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        session["session_id"],
                        session["charger_id"],
                        iso(a.at),
                        a.kind.value,
                        a.message,
                    )
                    for a in anomalies
                ],
            )

    def get_meta(self, key: str) -> Any:
        """A stored JSON value (None when absent)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row["value"]) if row else None

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value))
            )

    def assign_pev(self, session_id: str, pev_id: str | None) -> None:
        """Attribute a session's stored intervals to a vehicle identified afterwards."""
        with self._transaction():
            self._db.execute(
                "UPDATE intervals SET pev_id = ? WHERE session_id = ?", (pev_id, session_id)
            )
            self._db.execute(
                "UPDATE sessions SET pev_id = ? WHERE session_id = ?", (pev_id, session_id)
            )

    def open_sessions(self) -> list[StoredSession]:
        """Sessions not yet ended (to resume after a restart)."""
        rows = self._db.execute(
            "SELECT * FROM sessions WHERE ended_at IS NULL ORDER BY started_at"
        ).fetchall()
        return [self._stored(row) for row in rows]

    def session(self, session_id: str) -> StoredSession | None:
        """One session by ID."""
        row = self._db.execute(
            "SELECT * FROM sessions WHERE session_id = ?", (session_id,)
        ).fetchone()
        return self._stored(row) if row else None

    def recent_sessions(
        self, limit: int = 10, charger_id: str | None = None
    ) -> list[StoredSession]:
        """The most recent sessions, newest first."""
        if charger_id is None:
            rows = self._db.execute(
                "SELECT * FROM sessions ORDER BY started_at DESC LIMIT ?", (limit,)
            ).fetchall()
        else:
            rows = self._db.execute(
                "SELECT * FROM sessions WHERE charger_id = ? ORDER BY started_at DESC LIMIT ?",
                (charger_id, limit),
            ).fetchall()
        return [self._stored(row) for row in rows]

    def sessions_between(self, start: datetime, end: datetime) -> list[StoredSession]:
        """Sessions that started in [start, end), oldest first."""
        rows = self._db.execute(
            "SELECT * FROM sessions WHERE started_at >= ? AND started_at < ? ORDER BY started_at",
            (iso(start), iso(end)),
        ).fetchall()
        return [self._stored(row) for row in rows]

    def intervals(self, session_id: str) -> list[Interval]:
        """A session's intervals in time order."""
        rows = self._db.execute(
            "SELECT * FROM intervals WHERE session_id = ? ORDER BY start", (session_id,)
        ).fetchall()
        return [row_to_interval(row) for row in rows]

    def interval_count(self) -> int:
        """How many intervals are stored in all."""
        return int(self._db.execute("SELECT COUNT(*) FROM intervals").fetchone()[0])

    def anomalies(self, session_id: str) -> list[dict[str, Any]]:
        """The anomalies recorded for a session."""
        rows = self._db.execute(
            "SELECT at, kind, message FROM anomalies WHERE session_id = ? ORDER BY id",
            (session_id,),
        ).fetchall()
        return [dict(row) for row in rows]

    # -- command audit trail: every smart-charging command of a session ----------------

    def save_commands(self, session_id: str, commands: Sequence[dict[str, Any]]) -> None:
        """Store a session's audit trail (the whole trail; a command is updated in place)."""
        with self._transaction():
            self._db.executemany(
                _COMMAND_INSERT
                + """ ON CONFLICT (session_id, seq) DO UPDATE SET
                       measured_kw = excluded.measured_kw, obeyed = excluded.obeyed,
                       response_s = excluded.response_s, escalated_to = excluded.escalated_to,
                       measured_by = excluded.measured_by""",
                [_command_row(session_id, seq, c) for seq, c in enumerate(commands)],
            )

    def commands(self, session_id: str) -> list[dict[str, Any]]:
        """A session's audit trail, in the order the commands were sent."""
        rows = self._db.execute(
            "SELECT * FROM commands WHERE session_id = ? ORDER BY seq", (session_id,)
        ).fetchall()
        return [_row_to_command(row) for row in rows]

    def open_commands(self) -> dict[str, list[dict[str, Any]]]:
        """The audit trails of the sessions not yet ended, by session ID."""
        rows = self._db.execute(
            """SELECT commands.* FROM commands JOIN sessions USING (session_id)
               WHERE sessions.ended_at IS NULL ORDER BY commands.session_id, commands.seq"""
        ).fetchall()
        found: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            found.setdefault(row["session_id"], []).append(_row_to_command(row))
        return found

    def recent_commands(self, charger_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """A charger's last commands (of any of its sessions), oldest first, with the session."""
        rows = self._db.execute(
            """SELECT commands.* FROM commands JOIN sessions USING (session_id)
               WHERE sessions.charger_id = ?
               ORDER BY sessions.started_at DESC, commands.seq DESC LIMIT ?""",
            (charger_id, limit),
        ).fetchall()
        return [{"session_id": row["session_id"], **_row_to_command(row)} for row in reversed(rows)]

    def add_local_event(
        self, event_id: str, kind: str, start: datetime, end: datetime, data: dict[str, Any]
    ) -> None:
        """Store a local price or load-control event."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO local_events (event_id, kind, start, end, data, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (event_id, kind, iso(start), iso(end), json.dumps(data), iso(datetime.now(UTC))),
            )

    def local_events(self, ending_after: datetime) -> list[dict[str, Any]]:
        """Local events that end after the given time, by start."""
        rows = self._db.execute(
            "SELECT * FROM local_events WHERE end > ? ORDER BY start", (iso(ending_after),)
        ).fetchall()
        return [
            {
                "event_id": row["event_id"],
                "kind": row["kind"],
                "start": parse_iso(row["start"]),
                "end": parse_iso(row["end"]),
                **json.loads(row["data"]),
            }
            for row in rows
        ]

    # -- report outbox: every report waits here until the VTN acknowledges it ------------

    def outbox_put(
        self,
        *,
        report_key: str,
        session_id: str,
        event_id: str,
        program_id: str,
        report_name: str,
        kind: str,
        body: dict[str, Any],
        now: datetime,
    ) -> int:
        """Store the newest body of a report (one row per session and reporting event).

        Returns the body's version. A report updated in place keeps its row, its VTN report
        ID and its name, so no interval is ever sent under two report names.
        """
        with self._transaction():
            self._db.execute(
                """INSERT INTO outbox (report_key, session_id, event_id, program_id, report_name,
                       kind, body, version, sent_version, next_attempt, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, 1, 0, ?, ?)
                   ON CONFLICT (report_key) DO UPDATE SET
                       body = excluded.body, version = outbox.version + 1,
                       attempts = 0, next_attempt = excluded.next_attempt,
                       updated_at = excluded.updated_at""",
                (
                    report_key,
                    session_id,
                    event_id,
                    program_id,
                    report_name,
                    kind,
                    json.dumps(body),
                    iso(now),
                    iso(now),
                ),
            )
            row = self._db.execute(
                "SELECT version FROM outbox WHERE report_key = ?", (report_key,)
            ).fetchone()
        return int(row["version"])

    def outbox_due(self, now: datetime, limit: int = 20) -> list[dict[str, Any]]:
        """Reports with an unacknowledged version whose next attempt is due, oldest first."""
        rows = self._db.execute(
            """SELECT * FROM outbox WHERE sent_version < version AND next_attempt <= ?
                   AND dead_letter IS NULL
               ORDER BY next_attempt, updated_at LIMIT ?""",
            (iso(now), limit),
        ).fetchall()
        return [{**dict(row), "body": json.loads(row["body"])} for row in rows]

    def outbox_ack(
        self, report_key: str, version: int, vtn_report_id: str | None, now: datetime
    ) -> None:
        """The VTN acknowledged this version of the report."""
        with self._transaction():
            self._db.execute(
                """UPDATE outbox SET sent_version = MAX(sent_version, ?),
                       vtn_report_id = COALESCE(?, vtn_report_id), attempts = 0,
                       last_error = NULL, acked_at = ? WHERE report_key = ?""",
                (version, vtn_report_id, iso(now), report_key),
            )

    def outbox_fail(self, report_key: str, error: str, next_attempt: datetime) -> None:
        """Record a failed attempt and when to try again."""
        with self._transaction():
            self._db.execute(
                """UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt = ?
                   WHERE report_key = ?""",
                (error[:500], iso(next_attempt), report_key),
            )

    def outbox_dead_letter(self, report_key: str, reason: str) -> None:
        """The VTN refuses this report for good (400/422, or its event is gone): keep it, stop
        sending it, until :meth:`outbox_resend`."""
        with self._transaction():
            self._db.execute(
                """UPDATE outbox SET dead_letter = ?, attempts = attempts + 1, last_error = ?
                   WHERE report_key = ?""",
                (reason[:500], reason[:500], report_key),
            )

    def outbox_dead_letters(self) -> list[dict[str, Any]]:
        """Dead-lettered reports (with their bodies), oldest first."""
        rows = self._db.execute(
            "SELECT * FROM outbox WHERE dead_letter IS NOT NULL ORDER BY updated_at"
        ).fetchall()
        return [{**dict(row), "body": json.loads(row["body"])} for row in rows]

    def outbox_resend(self, report_key: str | None, now: datetime) -> int:
        """Send dead-lettered reports again (one, or all with None); returns how many."""
        with self._transaction():
            cursor = self._db.execute(
                """UPDATE outbox SET dead_letter = NULL, attempts = 0, next_attempt = ?
                   WHERE dead_letter IS NOT NULL AND (? IS NULL OR report_key = ?)""",
                (iso(now), report_key, report_key),
            )
        return int(cursor.rowcount)

    def outbox_stats(self) -> dict[str, Any]:
        """Backlog (reports not yet acknowledged, dead letters apart), next attempt, last
        acknowledgement and dead letters."""
        row = self._db.execute(
            """SELECT SUM(sent_version < version AND dead_letter IS NULL) AS backlog,
                      MIN(CASE WHEN sent_version < version AND dead_letter IS NULL
                          THEN next_attempt END) AS next_attempt,
                      MAX(acked_at) AS last_ack,
                      SUM(dead_letter IS NOT NULL) AS dead,
                      COUNT(*) AS total
               FROM outbox"""
        ).fetchone()
        return {
            "backlog": int(row["backlog"] or 0),
            "dead": int(row["dead"] or 0),
            "next_attempt": parse_iso(row["next_attempt"]) if row["next_attempt"] else None,
            "last_ack": parse_iso(row["last_ack"]) if row["last_ack"] else None,
            "total": int(row["total"] or 0),
        }

    def outbox_report(self, report_key: str) -> dict[str, Any] | None:
        """One outbox row (for tests and diagnostics)."""
        row = self._db.execute(
            "SELECT * FROM outbox WHERE report_key = ?", (report_key,)
        ).fetchone()
        return {**dict(row), "body": json.loads(row["body"])} if row else None

    def _stored(self, row: sqlite3.Row) -> StoredSession:
        return StoredSession(
            session_id=row["session_id"],
            charger_id=row["charger_id"],
            data=json.loads(row["data"]),
            ledger=json.loads(row["ledger"]) if row["ledger"] else None,
            summary=json.loads(row["summary"]) if row["summary"] else None,
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


def _command_row(session_id: str, seq: int, command: dict[str, Any]) -> tuple[Any, ...]:
    return (session_id, seq, *(command.get(name) for name in COMMAND_FIELDS))


def _row_to_command(row: sqlite3.Row) -> dict[str, Any]:
    command = {name: row[name] for name in COMMAND_FIELDS}
    command["enabled"] = bool(command["enabled"])
    if command["obeyed"] is not None:
        command["obeyed"] = bool(command["obeyed"])
    return command


def _migrate_1_to_2(db: sqlite3.Connection) -> None:
    """Move the audit trails from meta rows ``audit:<session_id>`` to the commands table."""
    rows = db.execute(
        "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?",
        (len(_AUDIT_PREFIX), _AUDIT_PREFIX),
    ).fetchall()
    for row in rows:
        session_id = row["key"][len(_AUDIT_PREFIX) :]
        trail = json.loads(row["value"]) or []
        db.executemany(
            _COMMAND_INSERT.replace("INSERT", "INSERT OR REPLACE", 1),
            [_command_row(session_id, seq, c) for seq, c in enumerate(trail)],
        )
    db.execute("DELETE FROM meta WHERE substr(key, 1, ?) = ?", (len(_AUDIT_PREFIX), _AUDIT_PREFIX))


# Schema migrations: from version N (the key) to N + 1.
def _migrate_2_to_3(db: sqlite3.Connection) -> None:
    """Add ``commands.measured_by`` (a table created by this version has it already)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(commands)")}
    if "measured_by" not in columns:
        db.execute("ALTER TABLE commands ADD COLUMN measured_by TEXT")


def _migrate_3_to_4(db: sqlite3.Connection) -> None:
    """Add ``outbox.dead_letter`` (a table created by this version has it already)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
    if "dead_letter" not in columns:
        db.execute("ALTER TABLE outbox ADD COLUMN dead_letter TEXT")


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
    3: _migrate_3_to_4,
}


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


class AsyncLedgerStore:
    """The ledger on its own thread, awaited from the event loop.

    Work is handed to the thread the moment it is submitted, so writes happen in the order
    they were submitted, and closing waits for everything submitted before it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pev_portal_store")
        self._store: LedgerStore | None = None

    async def open(self) -> None:
        """Open (and create) the database."""
        self._store = await self._submit(lambda: LedgerStore(self.path))

    async def close(self) -> None:
        """Close the database after all submitted work, and stop its thread."""
        try:
            if self._store is not None:
                store = self._store
                self._store = None
                await self._submit(store.close)
        except BaseException:
            # Even when cancelled mid-close: the queued close still runs, then the thread ends.
            self._executor.shutdown(wait=False)
            raise
        # All work is done: the thread only has to see the shutdown and end (microseconds).
        # Joining it here means an unloaded entry leaves no thread behind.
        self._executor.shutdown(wait=True)

    def submit[T](self, func: Callable[[LedgerStore], T]) -> asyncio.Future[T]:
        """Hand ``func(store)`` to the store's thread now; await the result when needed."""
        store = self._store
        if store is None:
            raise RuntimeError("store is closed")
        return self._submit(lambda: func(store))

    async def call[T](self, func: Callable[[LedgerStore], T]) -> T:
        """Run ``func(store)`` on the store's thread and return its result."""
        return await self.submit(func)

    def _submit[T](self, func: Callable[[], T]) -> asyncio.Future[T]:
        return asyncio.get_running_loop().run_in_executor(self._executor, func)


def csv_rows(intervals: Iterable[tuple[str, Interval]]) -> list[list[str]]:
    """Interval export rows (header first) for CSV."""
    rows = [
        [
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
        ]
    ]
    for session_id, i in intervals:
        rows.append(
            [
                session_id,
                iso(i.start),
                iso(i.end),
                f"{i.kwh:.6f}",
                i.pev_id or "",
                i.premise_id,
                i.meter_id,
                i.quality.value,
                str(i.meter_epoch),
                "" if i.register_end is None else f"{i.register_end:.6f}",
            ]
        )
    return rows


def command_csv_rows(commands: Iterable[tuple[str, dict[str, Any]]]) -> list[list[str]]:
    """Command audit trail export rows (header first) for CSV: one row per command."""
    rows = [["session_id", *COMMAND_FIELDS]]
    for session_id, command in commands:
        rows.append(
            [
                session_id,
                *(
                    "" if command.get(name) is None else str(command[name])
                    for name in COMMAND_FIELDS
                ),
            ]
        )
    return rows
