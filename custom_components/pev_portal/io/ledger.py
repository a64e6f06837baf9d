"""The synchronous SQLite ledger (used from the store's one thread).

Part of :mod:`io.store` (see its docstring).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.metering import Anomaly, Interval
from .enrollments import EnrollmentRows
from .local_events import LocalEventRows
from .outbox import OutboxRows
from .premises import PremiseRows
from .schema import (
    _COMMAND_INSERT,
    _SCHEMA,
    MIGRATIONS,
    SCHEMA_VERSION,
    _command_row,
    _row_to_command,
    interval_to_row,
    iso,
    parse_iso,
    row_to_interval,
)
from .settlements import SETTLEMENT_SCHEMA, SettlementRows

FILE_MODE = 0o600  # the ledger holds the push bearer and webhook ID
BUSY_TIMEOUT_S = 1.0  # how long a write waits for another connection's lock before it fails
_HEADER = b"SQLite format 3\x00"
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
# SQLITE_BUSY, LOCKED, NOMEM, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL
_TRANSIENT_CODES = frozenset({5, 6, 7, 8, 10, 13, 14, 15})


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session row: its state, ledger snapshot and summary, as stored."""

    session_id: str
    charger_id: str
    data: dict[str, Any]
    ledger: dict[str, Any] | None
    summary: dict[str, Any] | None


class LedgerStore(SettlementRows, EnrollmentRows, LocalEventRows, OutboxRows, PremiseRows):
    """Synchronous SQLite ledger. Use from one thread only (see AsyncLedgerStore)."""

    def __init__(self, path: Path, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = path
        self._busy_timeout_s = busy_timeout_s
        self.setup_error: sqlite3.OperationalError | None = None
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        """Open the file (created 0600: it holds the push secrets) and bring its schema up."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, FILE_MODE))
        restrict_mode(self.path)
        db = sqlite3.connect(self.path, isolation_level=None, timeout=self._busy_timeout_s)
        db.row_factory = sqlite3.Row
        self._db = db
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(_SCHEMA + SETTLEMENT_SCHEMA)
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (json.dumps(SCHEMA_VERSION),),
            )
            self._migrate()
            self.setup_error = None
        except sqlite3.OperationalError as err:
            # A read-only or locked file whose schema is current still serves reads; its writes
            # fail and are kept by the async store until the file can be written again.
            if not is_transient(err) or not self._schema_current(db):
                db.close()
                raise
            self.setup_error = err
        finally:
            for suffix in ("-wal", "-shm"):
                restrict_mode(self.path.with_name(self.path.name + suffix))
        return db

    def reopen(self) -> None:
        """Open the connection again (a file made writable again is seen); on failure the
        old connection stays."""
        old = self._db
        try:
            self._connect()
        except BaseException:
            self._db = old
            raise
        if old is not self._db:
            with contextlib.suppress(sqlite3.Error):
                old.close()

    def quick_check(self) -> str | None:
        """None when ``PRAGMA quick_check`` finds the file sound, else what it found."""
        rows = [str(row[0]) for row in self._db.execute("PRAGMA quick_check").fetchall()]
        return None if rows == ["ok"] else "; ".join(rows[:3])

    @staticmethod
    def _schema_current(db: sqlite3.Connection) -> bool:
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.Error:
            return False
        return row is not None and json.loads(row[0]) == SCHEMA_VERSION

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
        """Checkpoint the WAL and close (a store that cannot be written closes all the same)."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError as err:
            if not is_transient(err):
                raise
        finally:
            self._db.close()

    def save_session(
        self,
        session: dict[str, Any],
        ledger: dict[str, Any] | None,
        intervals: Sequence[Interval] = (),
        anomalies: Sequence[Anomaly] = (),
        summary: dict[str, Any] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        """Write a session, its ledger snapshot and newly closed intervals atomically.

        ``meta`` values (such as the demo charger's register, ``demo:<charger_id>``) are written
        in the same transaction, so a crash never leaves them out of step with the ledger.
        """
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
                       meter_id, quality, meter_epoch, register_end, exported_kwh)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
            self._db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(key, json.dumps(value)) for key, value in (meta or {}).items()],
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

    def fed_kwh(self, pev_id: str, since: datetime) -> tuple[float, float]:
        """The energy a vehicle fed back in the billable intervals of its ended sessions: in
        all, and in the intervals starting at or after ``since`` (by the ``(pev_id, start)``
        index; the running sessions' energy is the caller's, live)."""
        row = self._db.execute(
            """SELECT COALESCE(SUM(exported_kwh), 0),
                      COALESCE(SUM(CASE WHEN start >= ? THEN exported_kwh END), 0)
               FROM intervals WHERE pev_id = ? AND quality != 'MISSING' AND session_id IN
                   (SELECT session_id FROM sessions WHERE ended_at IS NOT NULL)""",
            (iso(since), pev_id),
        ).fetchone()
        return float(row[0]), float(row[1])

    def interval_count(self, premise_id: str | None = None) -> int:
        """How many intervals are stored in all, or of one premise."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM intervals WHERE ? IS NULL OR premise_id = ?",
            (premise_id, premise_id),
        ).fetchone()
        return int(row[0])

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
                       measured_by = excluded.measured_by, error = excluded.error""",
                [_command_row(session_id, seq, c) for seq, c in enumerate(commands)],
            )

    def commands(self, session_id: str) -> list[dict[str, Any]]:
        """A session's audit trail, in the order the commands were sent."""
        rows = self._db.execute(
            "SELECT * FROM commands WHERE session_id = ? ORDER BY seq", (session_id,)
        ).fetchall()
        return [_row_to_command(row) for row in rows]

    def open_commands(self, premise_id: str) -> dict[str, list[dict[str, Any]]]:
        """The audit trails of a premise's sessions not yet ended, by session ID."""
        rows = self._db.execute(
            """SELECT commands.* FROM commands JOIN sessions USING (session_id)
               WHERE sessions.ended_at IS NULL AND sessions.premise_id = ?
               ORDER BY commands.session_id, commands.seq""",
            (premise_id,),
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

    def _stored(self, row: sqlite3.Row) -> StoredSession:
        return StoredSession(
            session_id=row["session_id"],
            charger_id=row["charger_id"],
            data=json.loads(row["data"]),
            ledger=json.loads(row["ledger"]) if row["ledger"] else None,
            summary=json.loads(row["summary"]) if row["summary"] else None,
        )

    def close_quietly(self) -> None:
        """Close without a checkpoint, ignoring errors (a file about to be moved aside)."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """``BEGIN IMMEDIATE`` .. ``COMMIT``; rolled back on any error, the commit's included."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._rollback()
            return
        try:
            self._db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")


# -- opening: permissions, damage ---------------------------------------------------------


def restrict_mode(path: Path) -> None:
    """Make a ledger file readable by its owner only (it holds the push bearer). A file that
    cannot be changed (a read-only file system, another owner) is left as it is."""
    with contextlib.suppress(OSError):
        if stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
            path.chmod(FILE_MODE)


def is_transient(err: BaseException) -> bool:
    """A write error that may go away: busy, locked, read-only, I/O, full disk, cannot open."""
    if not isinstance(err, sqlite3.OperationalError):
        return False
    code = getattr(err, "sqlite_errorcode", None)
    if code is None:  # raised by the sqlite3 module itself, not by SQLite
        return False
    return code & 0xFF in _TRANSIENT_CODES


def is_damage(err: BaseException) -> bool:
    """The file is not a database or its content is corrupt."""
    code = getattr(err, "sqlite_errorcode", None)
    return (
        isinstance(err, sqlite3.DatabaseError)
        and code is not None
        and code & 0xFF
        in (
            _SQLITE_CORRUPT,
            _SQLITE_NOTADB,
        )
    )
