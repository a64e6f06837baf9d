"""The local price and load-control events (a part of :class:`~.ledger.LedgerStore`, whose
transaction and connection it uses).

Each row belongs to a premise (``premise_id``, schema version 7): a premise loads only its
own events, so an event added at one premise never caps another premise's chargers. A row
stored before version 7 is unscoped until its premise claims it (see :mod:`.premises`).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from .schema import iso, parse_iso


class LocalEventRows:
    """Local event rows: a mixin of :class:`~.ledger.LedgerStore`."""

    _db: sqlite3.Connection

    def _transaction(self) -> AbstractContextManager[None]:  # pragma: no cover - LedgerStore's
        raise NotImplementedError

    def add_local_event(
        self,
        event_id: str,
        kind: str,
        start: datetime,
        end: datetime,
        data: dict[str, Any],
        premise_id: str,
    ) -> None:
        """Store a local price or load-control event of a premise."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO local_events"
                " (event_id, kind, start, end, data, created_at, premise_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    event_id,
                    kind,
                    iso(start),
                    iso(end),
                    json.dumps(data),
                    iso(datetime.now(UTC)),
                    premise_id,
                ),
            )

    def local_events(self, ending_after: datetime, premise_id: str) -> list[dict[str, Any]]:
        """A premise's local events that end after the given time, by start.

        A row that cannot be read (its dates or data) comes back with ``unreadable`` set
        (the reason) instead of failing the load; :func:`..validation.valid_local_event`
        names it, and the caller skips it.
        """
        rows = self._db.execute(
            "SELECT * FROM local_events WHERE end > ? AND premise_id = ? ORDER BY start",
            (iso(ending_after), premise_id),
        ).fetchall()
        events: list[dict[str, Any]] = []
        for row in rows:
            try:
                data = json.loads(row["data"])
                if not isinstance(data, dict):
                    raise ValueError("not an object")
                event = {
                    "event_id": row["event_id"],
                    "kind": row["kind"],
                    "start": parse_iso(row["start"]),
                    "end": parse_iso(row["end"]),
                    **data,
                }
            except (ValueError, TypeError) as err:
                event = {"event_id": row["event_id"], "kind": row["kind"], "unreadable": str(err)}
            events.append(event)
        return events

    def flag_local_event(self, event_id: str, reason: str) -> None:
        """Mark a stored local event as skipped (kept for inspection, its values as they were,
        with the reason under ``skipped``)."""
        with self._transaction():
            row = self._db.execute(
                "SELECT data FROM local_events WHERE event_id = ?", (event_id,)
            ).fetchone()
            if row is None:
                return
            try:
                data = json.loads(row["data"])  # NaN and Infinity read and written as they are
                if not isinstance(data, dict):
                    raise ValueError("not an object")
            except ValueError, TypeError:
                data = {"raw": row["data"]}
            data["skipped"] = reason
            self._db.execute(
                "UPDATE local_events SET data = ? WHERE event_id = ?",
                (json.dumps(data), event_id),
            )
