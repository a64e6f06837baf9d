"""The ledger's schema, its migrations and the conversions between rows and values.

Part of :mod:`io.store` (see its docstring).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from ..core.metering import Interval, Quality
from .premises import adopt_unscoped, session_premises

SCHEMA_VERSION = 7

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
    exported_kwh REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, start)
);
CREATE INDEX IF NOT EXISTS intervals_start ON intervals (start);
CREATE INDEX IF NOT EXISTS intervals_pev ON intervals (pev_id, start);
CREATE TABLE IF NOT EXISTS anomalies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT,
    charger_id TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    report_key TEXT NOT NULL,
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
    dead_letter TEXT,
    premise_id TEXT,
    PRIMARY KEY (premise_id, report_key)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt);
CREATE TABLE IF NOT EXISTS local_events (
    event_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    premise_id TEXT
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
    error TEXT,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS enrollments (
    premise_id TEXT,
    pev_id TEXT NOT NULL,
    program TEXT NOT NULL,
    state TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (premise_id, pev_id, program)
);
"""
# premise_id stays nullable: rows stored before version 7 have none until claimed (.premises).

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
    "error",
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
        _finite(interval.exported_kwh),
    )


def _finite(kwh: float) -> float:
    """An energy for the store: NaN or infinite never reaches it (the ledgers refuse them; a
    value that got through anyway is a bug, refused here with the interval's write)."""
    if not math.isfinite(kwh):
        raise ValueError(f"not a finite energy for the store: {kwh!r}")
    return kwh


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
        exported_kwh=row["exported_kwh"],
    )


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
    """Add ``commands.error`` (a table created by this version has it already)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(commands)")}
    if "error" not in columns:
        db.execute("ALTER TABLE commands ADD COLUMN error TEXT")


def _migrate_4_to_5(db: sqlite3.Connection) -> None:
    """Add ``outbox.dead_letter`` (a table created by this version has it already)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
    if "dead_letter" not in columns:
        db.execute("ALTER TABLE outbox ADD COLUMN dead_letter TEXT")


def _migrate_5_to_6(db: sqlite3.Connection) -> None:
    """Add ``intervals.exported_kwh`` (power feed; a table created by this version has it
    already): the intervals stored before it fed nothing back, 0."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(intervals)")}
    if "exported_kwh" not in columns:
        db.execute("ALTER TABLE intervals ADD COLUMN exported_kwh REAL NOT NULL DEFAULT 0")


# The outbox's columns before version 7 (copied whole by the migration).
OUTBOX_COLUMNS = (
    "report_key",
    "session_id",
    "event_id",
    "program_id",
    "report_name",
    "kind",
    "body",
    "version",
    "sent_version",
    "vtn_report_id",
    "attempts",
    "next_attempt",
    "last_error",
    "acked_at",
    "updated_at",
    "dead_letter",
)


def _table(schema: str, name: str) -> str:
    """The ``CREATE TABLE`` statement of one table of the current schema."""
    start = schema.index(f"CREATE TABLE IF NOT EXISTS {name} (")
    return schema[start : schema.index(");", start) + 2]


def _migrate_6_to_7(db: sqlite3.Connection) -> None:
    """Scope the local events, the outbox and the enrollments by premise (see
    :mod:`.premises`): add ``premise_id`` (the outbox's and the enrollments' tables rebuilt
    with it in their keys: two premises may queue reports, or enroll a vehicle, under the
    same key),
    give outbox rows their session's premise, and every unscoped row to the sessions' premise
    when the stored sessions are all of one premise."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(local_events)")}
    if "premise_id" not in columns:
        db.execute("ALTER TABLE local_events ADD COLUMN premise_id TEXT")
    columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
    if "premise_id" not in columns:  # the key becomes (premise_id, report_key)
        names = ", ".join(OUTBOX_COLUMNS)
        db.execute("DROP INDEX IF EXISTS outbox_due")
        db.execute("ALTER TABLE outbox RENAME TO outbox_6")
        db.execute(_table(_SCHEMA, "outbox"))
        db.execute(f"INSERT INTO outbox ({names}) SELECT {names} FROM outbox_6")
        db.execute("DROP TABLE outbox_6")
        db.execute("CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt)")
    columns = {row[1] for row in db.execute("PRAGMA table_info(enrollments)")}
    if "premise_id" not in columns:
        db.execute("ALTER TABLE enrollments RENAME TO enrollments_6")
        db.execute(_table(_SCHEMA, "enrollments"))
        db.execute(
            """INSERT INTO enrollments (premise_id, pev_id, program, state, data, updated_at)
               SELECT NULL, pev_id, program, state, data, updated_at FROM enrollments_6"""
        )
        db.execute("DROP TABLE enrollments_6")
    db.execute(
        """UPDATE outbox SET premise_id =
               (SELECT premise_id FROM sessions WHERE sessions.session_id = outbox.session_id)
           WHERE premise_id IS NULL"""
    )
    premises = session_premises(db)
    if len(premises) == 1:
        adopt_unscoped(db, premises[0])


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
    3: _migrate_3_to_4,
    4: _migrate_4_to_5,
    5: _migrate_5_to_6,
    6: _migrate_6_to_7,
}


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
            "exported_kwh",
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
                f"{i.exported_kwh:.6f}",
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
