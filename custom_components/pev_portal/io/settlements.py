"""The ledger's settlement rows: each event's frozen counterfactual and its performance on a
session (a mixin of :class:`~.ledger.LedgerStore`, used from the store's one thread).

One row per session and event (table ``settlements``, created with ``CREATE TABLE IF NOT
EXISTS``: no schema version change). The counterfactual is written once, when the event first
touched the session (``INSERT ... DO NOTHING``: a second freeze never moves it); the
performance is written when the event or the session ends and updated at unplug.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from .schema import iso, parse_iso

SETTLEMENT_SCHEMA = """
CREATE TABLE IF NOT EXISTS settlements (
    session_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    charger_id TEXT NOT NULL,
    premise_id TEXT NOT NULL,
    pev_id TEXT,
    program_id TEXT NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    start TEXT NOT NULL,
    end TEXT NOT NULL,
    frozen_at TEXT NOT NULL,
    event TEXT NOT NULL,
    counterfactual TEXT NOT NULL,
    state TEXT NOT NULL,
    performance TEXT,
    settled_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (session_id, event_id)
);
CREATE INDEX IF NOT EXISTS settlements_pev ON settlements (pev_id, start);
CREATE INDEX IF NOT EXISTS settlements_settled ON settlements (settled_at);
"""

STATE_FROZEN = "frozen"
STATE_PROVISIONAL = "provisional"
STATE_FINAL = "final"

# How many of a vehicle's past sessions are read for its meter baseline (newest first).
HISTORY_SESSIONS = 60

type PastRow = tuple[str, datetime, datetime, list[tuple[datetime, datetime, float]], bool]
"""``(session_id, plug-in, unplug, [(start, end, kWh)], touched by an event)``."""


def _dumps(value: Any) -> str:
    """JSON without NaN or infinities (they become null): a stored row always reads back."""
    return json.dumps(_finite(value), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class SettlementRows:
    """The settlement rows (see the module docstring)."""

    _db: sqlite3.Connection

    def _transaction(self) -> Any:
        raise NotImplementedError

    def settlement_freeze(self, row: dict[str, Any]) -> bool:
        """Keep an event's counterfactual for a session, once. Returns whether it was new."""
        now = iso(datetime.now(UTC))
        with self._transaction():
            cursor = self._db.execute(
                """INSERT INTO settlements (session_id, event_id, charger_id, premise_id, pev_id,
                       program_id, source, kind, name, start, end, frozen_at, event,
                       counterfactual, state, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (session_id, event_id) DO NOTHING""",
                (
                    row["session_id"],
                    row["event_id"],
                    row["charger_id"],
                    row["premise_id"],
                    row["pev_id"],
                    row["program_id"],
                    row["source"],
                    row["kind"],
                    row["name"],
                    iso(row["start"]),
                    iso(row["end"]),
                    iso(row["frozen_at"]),
                    _dumps(row["event"]),
                    _dumps(row["counterfactual"]),
                    STATE_FROZEN,
                    now,
                ),
            )
        return cursor.rowcount > 0

    def settlement_save(
        self,
        session_id: str,
        event_id: str,
        *,
        state: str,
        performance: dict[str, Any],
        start: datetime,
        end: datetime,
        event: dict[str, Any],
        settled_at: datetime,
    ) -> None:
        """Store (or update) the performance of a frozen event on a session."""
        with self._transaction():
            self._db.execute(
                """UPDATE settlements SET state = ?, performance = ?, start = ?, end = ?,
                       event = ?, settled_at = ?, updated_at = ?
                   WHERE session_id = ? AND event_id = ?""",
                (
                    state,
                    _dumps(performance),
                    iso(start),
                    iso(end),
                    _dumps(event),
                    iso(settled_at),
                    iso(datetime.now(UTC)),
                    session_id,
                    event_id,
                ),
            )

    def settlement_drop(self, session_id: str, event_id: str) -> None:
        """Forget an event that never touched the session (cancelled before it began, or
        after the vehicle left)."""
        with self._transaction():
            self._db.execute(
                "DELETE FROM settlements WHERE session_id = ? AND event_id = ?",
                (session_id, event_id),
            )

    def settlements_unsettled(self, premise_id: str) -> list[dict[str, Any]]:
        """The premise's rows not final yet (to resume after a restart)."""
        rows = self._db.execute(
            "SELECT * FROM settlements WHERE premise_id = ? AND state != ? ORDER BY start",
            (premise_id, STATE_FINAL),
        ).fetchall()
        return [_row(r) for r in rows]

    def settlements_recent(self, premise_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The premise's settled rows, the most recent event first."""
        rows = self._db.execute(
            """SELECT * FROM settlements WHERE premise_id = ? AND performance IS NOT NULL
               ORDER BY end DESC, start DESC, session_id LIMIT ?""",
            (premise_id, limit),
        ).fetchall()
        return [_row(r) for r in rows]

    def settlements_of(self, session_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The settled rows of these sessions (for the export), by start."""
        found: list[dict[str, Any]] = []
        ids = list(session_ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = self._db.execute(
                f"""SELECT * FROM settlements WHERE performance IS NOT NULL
                    AND session_id IN ({", ".join("?" * len(chunk))}) ORDER BY start""",
                chunk,
            ).fetchall()
            found.extend(_row(r) for r in rows)
        return found

    def past_sessions(
        self, premise_id: str, pev_id: str, before: datetime, limit: int = HISTORY_SESSIONS
    ) -> list[PastRow]:
        """A vehicle's ended sessions that started before ``before`` (newest first), with
        their intervals and whether an event touched them (for the meter baseline)."""
        rows = self._db.execute(
            """SELECT session_id, started_at, ended_at,
                      EXISTS (SELECT 1 FROM settlements s
                              WHERE s.session_id = sessions.session_id) AS touched
               FROM sessions WHERE premise_id = ? AND pev_id = ? AND ended_at IS NOT NULL
                   AND started_at < ?
               ORDER BY started_at DESC LIMIT ?""",
            (premise_id, pev_id, iso(before), limit),
        ).fetchall()
        found: list[PastRow] = []
        for row in rows:
            intervals = [
                (parse_iso(i["start"]), parse_iso(i["end"]), float(i["kwh"]))
                for i in self._db.execute(
                    "SELECT start, end, kwh FROM intervals WHERE session_id = ? ORDER BY start",
                    (row["session_id"],),
                )
                if i["kwh"] is not None and math.isfinite(i["kwh"]) and i["kwh"] >= 0
            ]
            found.append(
                (
                    row["session_id"],
                    parse_iso(row["started_at"]),
                    parse_iso(row["ended_at"]),
                    intervals,
                    bool(row["touched"]),
                )
            )
        return found


def _row(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    for name in ("start", "end", "frozen_at", "settled_at", "updated_at"):
        if out.get(name):
            out[name] = parse_iso(out[name])
    for name in ("event", "counterfactual", "performance"):
        out[name] = json.loads(out[name]) if out.get(name) else None
    return out
