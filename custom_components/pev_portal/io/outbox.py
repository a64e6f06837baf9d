"""The report outbox: every report waits here until the VTN acknowledges it (a part of
:class:`~.ledger.LedgerStore`, whose transaction and connection it uses).

Each row belongs to a premise (``premise_id``, schema version 7): a premise sends, counts and
resends only its own reports, so two premises in one Home Assistant never send each other's
reports to their utilities. A row stored before version 7 has its session's premise (or stays
unscoped until claimed, see :mod:`.premises`).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from .schema import iso, parse_iso


class OutboxRows:
    """Outbox rows: a mixin of :class:`~.ledger.LedgerStore`."""

    _db: sqlite3.Connection

    def _transaction(self) -> AbstractContextManager[None]:  # pragma: no cover - LedgerStore's
        raise NotImplementedError

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
        premise_id: str,
    ) -> int:
        """Store the newest body of a report (one row per session and reporting event).

        Returns the body's version. A report updated in place keeps its row, its VTN report
        ID and its name, so no interval is ever sent under two report names. A newer body of a
        report the VTN refused is a new request: it leaves the dead letters and is sent (the
        refused body alone would stay there until resent, and every later interval with it).
        """
        with self._transaction():
            self._db.execute(
                """INSERT INTO outbox (report_key, session_id, event_id, program_id, report_name,
                       kind, body, version, sent_version, next_attempt, updated_at, premise_id)
                   VALUES (?, ?, ?, ?, ?, ?, ?, 1, 0, ?, ?, ?)
                   ON CONFLICT (premise_id, report_key) DO UPDATE SET
                       body = excluded.body, version = outbox.version + 1,
                       attempts = 0, next_attempt = excluded.next_attempt,
                       dead_letter = NULL, updated_at = excluded.updated_at""",
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
                    premise_id,
                ),
            )
            row = self._db.execute(
                "SELECT version FROM outbox WHERE premise_id = ? AND report_key = ?",
                (premise_id, report_key),
            ).fetchone()
        return int(row["version"])

    def outbox_due(self, now: datetime, premise_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """A premise's reports with an unacknowledged version whose next attempt is due,
        oldest first."""
        rows = self._db.execute(
            """SELECT * FROM outbox WHERE sent_version < version AND next_attempt <= ?
                   AND dead_letter IS NULL AND premise_id = ?
               ORDER BY next_attempt, updated_at LIMIT ?""",
            (iso(now), premise_id, limit),
        ).fetchall()
        return [{**dict(row), "body": json.loads(row["body"])} for row in rows]

    def outbox_ack(
        self,
        report_key: str,
        version: int,
        vtn_report_id: str | None,
        now: datetime,
        premise_id: str,
    ) -> None:
        """The VTN acknowledged this version of the premise's report."""
        with self._transaction():
            self._db.execute(
                """UPDATE outbox SET sent_version = MAX(sent_version, ?),
                       vtn_report_id = COALESCE(?, vtn_report_id), attempts = 0,
                       last_error = NULL, acked_at = ? WHERE report_key = ? AND premise_id = ?""",
                (version, vtn_report_id, iso(now), report_key, premise_id),
            )

    def outbox_fail(
        self, report_key: str, error: str, next_attempt: datetime, premise_id: str
    ) -> None:
        """Record a failed attempt and when to try again."""
        with self._transaction():
            self._db.execute(
                """UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt = ?
                   WHERE report_key = ? AND premise_id = ?""",
                (error[:500], iso(next_attempt), report_key, premise_id),
            )

    def outbox_dead_letter(self, report_key: str, reason: str, premise_id: str) -> None:
        """The VTN refuses this report for good (400/422, or its event is gone): keep it, stop
        sending it, until :meth:`outbox_resend`."""
        with self._transaction():
            self._db.execute(
                """UPDATE outbox SET dead_letter = ?, attempts = attempts + 1, last_error = ?
                   WHERE report_key = ? AND premise_id = ?""",
                (reason[:500], reason[:500], report_key, premise_id),
            )

    def outbox_dead_letters(self, premise_id: str) -> list[dict[str, Any]]:
        """A premise's dead-lettered reports (with their bodies), oldest first."""
        rows = self._db.execute(
            "SELECT * FROM outbox WHERE dead_letter IS NOT NULL AND premise_id = ?"
            " ORDER BY updated_at",
            (premise_id,),
        ).fetchall()
        return [{**dict(row), "body": json.loads(row["body"])} for row in rows]

    def outbox_resend(self, report_key: str | None, now: datetime, premise_id: str) -> int:
        """Send a premise's dead-lettered reports again (one, or all with None); returns how
        many."""
        with self._transaction():
            cursor = self._db.execute(
                """UPDATE outbox SET dead_letter = NULL, attempts = 0, next_attempt = ?
                   WHERE dead_letter IS NOT NULL AND premise_id = ?
                       AND (? IS NULL OR report_key = ?)""",
                (iso(now), premise_id, report_key, report_key),
            )
        return int(cursor.rowcount)

    def outbox_stats(self, premise_id: str) -> dict[str, Any]:
        """A premise's backlog (reports not yet acknowledged, dead letters apart), next attempt, last
        acknowledgement and dead letters."""
        row = self._db.execute(
            """SELECT SUM(sent_version < version AND dead_letter IS NULL) AS backlog,
                      MIN(CASE WHEN sent_version < version AND dead_letter IS NULL
                          THEN next_attempt END) AS next_attempt,
                      MAX(acked_at) AS last_ack,
                      SUM(dead_letter IS NOT NULL) AS dead,
                      COUNT(*) AS total
               FROM outbox WHERE premise_id = ?""",
            (premise_id,),
        ).fetchone()
        return {
            "backlog": int(row["backlog"] or 0),
            "dead": int(row["dead"] or 0),
            "next_attempt": parse_iso(row["next_attempt"]) if row["next_attempt"] else None,
            "last_ack": parse_iso(row["last_ack"]) if row["last_ack"] else None,
            "total": int(row["total"] or 0),
        }

    def outbox_report(self, report_key: str, premise_id: str) -> dict[str, Any] | None:
        """One outbox row of a premise (for tests and diagnostics)."""
        row = self._db.execute(
            "SELECT * FROM outbox WHERE report_key = ? AND premise_id = ?",
            (report_key, premise_id),
        ).fetchone()
        return {**dict(row), "body": json.loads(row["body"])} if row else None
