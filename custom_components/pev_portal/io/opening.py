"""Opening the ledger: a damaged, truncated or emptied file is moved aside and reported.

Part of :mod:`io.store` (see its docstring).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .ledger import _HEADER, BUSY_TIMEOUT_S, LedgerStore, is_damage


@dataclass(frozen=True, slots=True)
class OpenReport:
    """What opening the ledger found: a damaged file moved aside, or nothing (all well)."""

    reason: str | None = None  # why a fresh ledger was started (None: all well)
    moved_aside: Path | None = None  # the damaged file, kept for inspection
    read_only: str | None = None  # the file opened but cannot be written (the error)

    @property
    def damaged(self) -> bool:
        """A fresh ledger was started in place of a damaged, empty or missing one."""
        return self.reason is not None


def open_ledger(
    path: Path,
    *,
    expect_history: bool = False,
    now: datetime | None = None,
    busy_timeout_s: float = BUSY_TIMEOUT_S,
) -> tuple[LedgerStore, OpenReport]:
    """Open the ledger; a damaged file is moved aside and a fresh ledger started.

    Damaged means: not a SQLite database (garbage, a truncated header), corrupt content
    (``PRAGMA quick_check``), or an empty file while ``expect_history`` says the entry has
    written to it before. The damaged file (and its ``-wal``) keeps its name with a
    ``.damaged-<UTC time>`` suffix.
    """
    reason = _precheck(path, expect_history=expect_history)
    if reason is None:
        try:
            store = LedgerStore(path, busy_timeout_s=busy_timeout_s)
        except sqlite3.DatabaseError as err:
            if not is_damage(err):
                raise
            reason = f"not a valid ledger ({err})"
        else:
            try:
                found = store.quick_check()
            except sqlite3.DatabaseError as err:
                if not is_damage(err):
                    store.close_quietly()
                    raise
                found = str(err)
            if found is None:
                error = store.setup_error
                return store, OpenReport(read_only=str(error) if error else None)
            reason = f"integrity check failed ({found})"
            store.close_quietly()
    kept = move_aside(path, now or datetime.now(UTC))
    return LedgerStore(path, busy_timeout_s=busy_timeout_s), OpenReport(reason, kept)


def _precheck(path: Path, *, expect_history: bool) -> str | None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "missing while the entry has history" if expect_history else None
    if size == 0:
        wal = path.with_name(path.name + "-wal")
        if expect_history and (not wal.exists() or wal.stat().st_size == 0):
            return "empty while the entry has history"
        return None
    with path.open("rb") as file:
        header = file.read(len(_HEADER))
    return None if header == _HEADER else "not a SQLite database"


def move_aside(path: Path, now: datetime) -> Path | None:
    """Rename the ledger (and its -wal/-shm) with a timestamp suffix; returns the new path
    (None when there was no file)."""
    if not path.exists():
        return None
    kept = path.with_name(f"{path.name}.damaged-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}")
    n = 1
    while kept.exists():
        n += 1
        kept = kept.with_name(f"{path.name}.damaged-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{n}")
    path.rename(kept)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(kept.with_name(kept.name + suffix))
    return kept
