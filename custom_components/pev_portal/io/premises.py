"""What belongs to a premise in the one store all config entries share (a part of
:class:`~.ledger.LedgerStore`, whose transaction and connection it uses).

Every config entry (premise) opens the same ledger file. Sessions, intervals, commands,
anomalies and settlements carry their premise (the session's). Since schema version 7 so do
the local events, the report outbox and the enrollments (a ``premise_id`` column), and the
meta values of a premise are keyed ``<name>:<premise ID>`` (:data:`PREMISE_META`; the demo
chargers' ``demo:<charger ID>`` are keyed by their subentry's ID, unique to the entry).

Rows stored before version 7 have no premise. The migration gives outbox rows their
session's premise, and every other unscoped row (and the unscoped meta values ``failsafe``
and ``utility_push``) to the premise of the stored sessions when they are all of one premise
(:func:`adopt_unscoped`). What is left (no sessions yet, or several premises) is claimed by
a premise when it is the only config entry of the integration (:meth:`PremiseRows.claim_premise`):
with one entry the rows can only be its own. With several entries nobody reads them: they
are kept, not guessed.

A premise whose ID is changed (reconfigure) takes its rows along: the store remembers each
entry's premise ID (``premise_of:<entry ID>``). A deleted premise's local events, enrollments
and settings are deleted (:meth:`PremiseRows.forget_premise`); its sessions, intervals,
commands, settlements and outbox rows (measured, billing records) are kept under its premise
ID, found again when the same premise ID is added back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any, Final

# The tables whose rows carry a premise_id since version 7.
SCOPED_TABLES: Final = ("local_events", "outbox", "enrollments")
# The meta values of a premise, keyed "<name>:<premise ID>".
PREMISE_META: Final = ("smart_charging", "failsafe", "utility_push")
# The meta values stored unscoped before version 7 (adopted as "<name>:<premise ID>").
LEGACY_META: Final = ("failsafe", "utility_push")
_ENTRY_PREFIX: Final = "premise_of:"


def meta_key(name: str, premise_id: str) -> str:
    """The meta key of a premise's value ``name``."""
    return f"{name}:{premise_id}"


def unscoped_count(db: sqlite3.Connection) -> int:
    """How many rows (and legacy meta values) have no premise."""
    count = sum(
        int(db.execute(f"SELECT COUNT(*) FROM {t} WHERE premise_id IS NULL").fetchone()[0])
        for t in SCOPED_TABLES
    )
    marks = ", ".join("?" * len(LEGACY_META))
    row = db.execute(f"SELECT COUNT(*) FROM meta WHERE key IN ({marks})", LEGACY_META)
    return count + int(row.fetchone()[0])


def adopt_unscoped(db: sqlite3.Connection, premise_id: str) -> int:
    """Give every row without a premise (and the legacy meta values) to ``premise_id``;
    returns how many. A row or legacy value whose key the premise already has stays as it
    was (kept, not overwritten)."""
    count = 0
    for table in SCOPED_TABLES:
        cursor = db.execute(
            f"UPDATE OR IGNORE {table} SET premise_id = ? WHERE premise_id IS NULL",
            (premise_id,),
        )
        count += cursor.rowcount
    for name in LEGACY_META:
        count += _rename_meta(db, name, meta_key(name, premise_id))
    return count


def _rename_meta(db: sqlite3.Connection, old: str, new: str) -> int:
    if db.execute("SELECT 1 FROM meta WHERE key = ?", (new,)).fetchone() is not None:
        return 0
    return db.execute("UPDATE meta SET key = ? WHERE key = ?", (new, old)).rowcount


def session_premises(db: sqlite3.Connection) -> list[str]:
    """The premises of the stored sessions."""
    rows = db.execute("SELECT DISTINCT premise_id FROM sessions ORDER BY premise_id")
    return [row[0] for row in rows.fetchall()]


class PremiseRows:
    """Claiming, moving and forgetting a premise's rows: a mixin of
    :class:`~.ledger.LedgerStore`."""

    _db: sqlite3.Connection

    def _transaction(self) -> AbstractContextManager[None]:  # pragma: no cover - LedgerStore's
        raise NotImplementedError

    def claim_premise(self, entry_id: str, premise_id: str, *, sole: bool) -> dict[str, Any]:
        """At an entry's start: move its rows along when its premise ID changed, claim the
        unscoped rows when it is the only entry (``sole``), and remember its premise ID.

        Returns ``renamed_from`` (the entry's former premise ID, or None), ``claimed`` (rows
        and values claimed) and ``unscoped`` (rows left without a premise).
        """
        key = _ENTRY_PREFIX + entry_id
        with self._transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            former = json.loads(row[0]) if row is not None else None
            renamed_from = None
            if isinstance(former, str) and former != premise_id:
                renamed_from = former
                for table in SCOPED_TABLES:
                    self._db.execute(
                        f"UPDATE OR IGNORE {table} SET premise_id = ? WHERE premise_id = ?",
                        (premise_id, former),
                    )
                for name in PREMISE_META:
                    _rename_meta(self._db, meta_key(name, former), meta_key(name, premise_id))
            claimed = adopt_unscoped(self._db, premise_id) if sole else 0
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (key, json.dumps(premise_id)),
            )
            left = unscoped_count(self._db)
        return {"renamed_from": renamed_from, "claimed": claimed, "unscoped": left}

    def forget_premise(
        self, entry_id: str, premise_id: str, charger_ids: Iterable[str]
    ) -> dict[str, int]:
        """A deleted premise: delete its local events, enrollments and settings (its meta
        values, its demo chargers' state); keep its sessions, intervals, commands,
        settlements and outbox rows. Returns how many rows each kind lost."""
        removed: dict[str, int] = {}
        keys = [meta_key(name, premise_id) for name in PREMISE_META]
        keys += [f"demo:{charger_id}" for charger_id in charger_ids]
        keys.append(_ENTRY_PREFIX + entry_id)
        with self._transaction():
            for table in ("local_events", "enrollments"):
                cursor = self._db.execute(
                    f"DELETE FROM {table} WHERE premise_id = ?", (premise_id,)
                )
                removed[table] = cursor.rowcount
            marks = ", ".join("?" * len(keys))
            cursor = self._db.execute(f"DELETE FROM meta WHERE key IN ({marks})", keys)
            removed["meta"] = cursor.rowcount
        return removed
