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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .ledger import LedgerStore, StoredSession
from .schema import (
    COMMAND_FIELDS,
    MIGRATIONS,
    SCHEMA_VERSION,
    command_csv_rows,
    csv_rows,
    interval_to_row,
    iso,
    parse_iso,
    row_to_interval,
)

__all__ = [
    "COMMAND_FIELDS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AsyncLedgerStore",
    "LedgerStore",
    "StoredSession",
    "command_csv_rows",
    "csv_rows",
    "interval_to_row",
    "iso",
    "parse_iso",
    "row_to_interval",
]


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
