"""The ledger's commissioning rows: one per vehicle and program (a part of
:class:`~.ledger.LedgerStore`, whose transaction and connection it uses).

Table ``enrollments``: ``premise_id`` (the premise the vehicle is enrolled at; schema version 7,
whose migration rebuilt the table with it in the key), ``pev_id``, ``program`` (the program's name), ``state`` (the enrollment's state, for reading
by eye), ``data`` (JSON: the enrollment and its running or last test, see
:mod:`..core.commissioning`), ``updated_at``.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from .schema import iso


class EnrollmentRows:
    """Commissioning rows: a mixin of :class:`~.ledger.LedgerStore`."""

    _db: sqlite3.Connection

    def _transaction(self) -> AbstractContextManager[None]:  # pragma: no cover - LedgerStore's
        raise NotImplementedError

    def save_enrollment(
        self, pev_id: str, program: str, state: str, data: dict[str, Any], premise_id: str
    ) -> None:
        """Store a vehicle's enrollment in a program at a premise (replacing the row it had)."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO enrollments"
                " (premise_id, pev_id, program, state, data, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (premise_id, pev_id, program, state, json.dumps(data), iso(datetime.now(UTC))),
            )

    def enrollments(self, premise_id: str) -> list[dict[str, Any]]:
        """A premise's stored enrollments: ``pev_id``, ``program``, ``data`` (None when
        unreadable)."""
        rows = self._db.execute(
            "SELECT pev_id, program, data FROM enrollments WHERE premise_id = ?"
            " ORDER BY pev_id, program",
            (premise_id,),
        ).fetchall()
        found: list[dict[str, Any]] = []
        for row in rows:
            try:
                data = json.loads(row["data"])
            except ValueError:
                data = None
            found.append({"pev_id": row["pev_id"], "program": row["program"], "data": data})
        return found
