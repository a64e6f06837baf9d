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
charger's power sensor or the meter; "none" when nothing could). Version 4 added
``commands.error`` (why a command could not be sent; its ``measured_by`` is "failed");
version 5 ``outbox.dead_letter`` (a report the VTN refuses for good, kept until resent);
version 6 ``intervals.exported_kwh`` (the energy fed back); version 7 a ``premise_id`` on local
events, outbox rows and enrollments, and premise-keyed meta values (:mod:`.premises`: every
config entry shares this file, each premise reads only its own rows).

All SQLite work runs on one dedicated thread (the connection belongs to it); the async facade
:class:`AsyncLedgerStore` hands calls to that thread so the event loop never blocks.

Durable by construction: a write that fails for a reason that may go away (the file locked,
read-only, a full disk, an I/O error) is kept, with every write after it, and retried in order
(backoff from 1 s to 30 s, the connection opened again each time) until it succeeds. The store
reports "writes failing since T" and "recovered" once each (``on_status``), so the Home
Assistant side raises and clears a repair issue. Reads (:meth:`AsyncLedgerStore.read`) are
served meanwhile from what is stored. Opening checks the file: a damaged ledger is moved aside
and a fresh one started (:func:`open_ledger`, :class:`OpenReport`). The files are 0600.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .ledger import BUSY_TIMEOUT_S, FILE_MODE, LedgerStore, StoredSession, is_transient
from .opening import OpenReport, open_ledger
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
    "FILE_MODE",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AsyncLedgerStore",
    "LedgerStore",
    "OpenReport",
    "StoreClosedError",
    "StoreStatus",
    "StoredSession",
    "command_csv_rows",
    "csv_rows",
    "interval_to_row",
    "iso",
    "open_ledger",
    "parse_iso",
    "row_to_interval",
]

_LOGGER = logging.getLogger(__name__)

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
CLOSE_GRACE_S = 10.0  # how long closing keeps retrying kept writes before giving up


class StoreClosedError(RuntimeError):
    """The store closed while writes were still kept (it could not write them)."""


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """Whether the ledger can be written: ``failing_since`` is None when it can."""

    failing_since: datetime | None
    error: str | None
    pending: int  # writes kept, waiting to be written


class _Job:
    __slots__ = ("func", "future", "write")

    def __init__(self, func: Callable[[], Any], future: asyncio.Future[Any], write: bool) -> None:
        self.func = func
        self.future = future
        self.write = write


_STOP: Any = object()


class AsyncLedgerStore:
    """The ledger on its own thread, awaited from the event loop.

    Work is handed to the thread the moment it is submitted, so writes happen in the order
    they were submitted, and closing waits for everything submitted before it. A write that
    fails transiently is kept and retried (see the module's docstring); its future resolves
    when it is written. Cancelling the awaiting task never cancels a write.
    """

    def __init__(
        self,
        path: Path,
        on_status: Callable[[StoreStatus], None] | None = None,
        *,
        retry_first_s: float = RETRY_FIRST_S,
        retry_max_s: float = RETRY_MAX_S,
        close_grace_s: float = CLOSE_GRACE_S,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> None:
        self.path = path
        self.on_status = on_status
        self.status = StoreStatus(None, None, 0)
        self._retry_first_s = retry_first_s
        self._retry_max_s = retry_max_s
        self._close_grace_s = close_grace_s
        self._busy_timeout_s = busy_timeout_s
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._store: LedgerStore | None = None
        # Owned by the store's thread:
        self._backlog: deque[_Job] = deque()
        self._failing_since: datetime | None = None
        self._error: BaseException | None = None
        self._retry_at = 0.0
        self._delay = retry_first_s

    async def open(self, *, expect_history: bool = False) -> OpenReport:
        """Open (and create) the database; a damaged one is moved aside (see the report).

        ``expect_history``: the entry has written to this ledger before, so an empty or
        missing file means its history was lost (reported like a damaged file).
        """
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name="pev_portal_store", daemon=True)
        self._thread.start()
        path, timeout = self.path, self._busy_timeout_s
        try:
            store, report = await self._enqueue(
                lambda: open_ledger(path, expect_history=expect_history, busy_timeout_s=timeout),
                write=False,
            )
        except BaseException:
            await self.close()  # no thread is left behind by a failed open
            raise
        self._store = store
        if report.damaged:
            _LOGGER.error(
                "The ledger %s was %s; it is kept as %s and a fresh ledger is started",
                path,
                report.reason,
                report.moved_aside,
            )
        return report

    async def close(self) -> None:
        """Close the database after all submitted work, and stop its thread.

        Writes still kept because the file cannot be written are retried for a grace time,
        then given up with an error naming how many were lost.
        """
        thread = self._thread
        if thread is None:
            return
        self._thread = None
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put(_Job(_STOP, done, write=False))
        await asyncio.shield(done)
        # The thread only has to return now; joining it means no thread is left behind.
        thread.join()

    def submit[T](self, func: Callable[[LedgerStore], T]) -> asyncio.Future[T]:
        """Hand the write ``func(store)`` to the store's thread now, in order.

        Await the result when needed: it resolves once written (kept and retried meanwhile
        when the file cannot be written); a non-transient error is raised.
        """
        store = self._store
        if store is None:
            raise RuntimeError("store is closed")
        return self._enqueue(lambda: func(store), write=True)

    async def call[T](self, func: Callable[[LedgerStore], T]) -> T:
        """Run ``func(store)`` in order with the writes (waits behind kept writes)."""
        return await self.submit(func)

    async def read[T](self, func: Callable[[LedgerStore], T]) -> T:
        """Run the read ``func(store)`` now, even while writes are kept (sees what is stored)."""
        store = self._store
        if store is None:
            raise RuntimeError("store is closed")
        return await self._enqueue(lambda: func(store), write=False)

    @property
    def pending_writes(self) -> int:
        """How many writes are kept, waiting for the file to be writable (approximate)."""
        return len(self._backlog)

    # -- the store's thread ----------------------------------------------------------------

    def _enqueue[T](self, func: Callable[[], T], *, write: bool) -> asyncio.Future[T]:
        if self._thread is None:
            raise RuntimeError("store is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put(_Job(func, future, write))
        return future

    def _run(self) -> None:
        while True:
            timeout = None
            if self._backlog:
                timeout = max(0.0, self._retry_at - time.monotonic())
            try:
                job = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._drain()
                continue
            if job.func is _STOP:
                self._finish(job)
                return
            if job.write:
                self._backlog.append(job)
                self._drain()
            else:
                self._execute(job)

    def _execute(self, job: _Job) -> None:
        try:
            result = job.func()
        except BaseException as err:  # handed to the awaiting side
            self._resolve(job.future, None, err)
        else:
            self._resolve(job.future, result, None)

    def _drain(self) -> None:
        """Write the kept writes in order, stopping at the first transient failure."""
        while self._backlog:
            if self._failing_since is not None and time.monotonic() < self._retry_at:
                return
            job = self._backlog[0]
            if self._failing_since is not None and self._store is not None:
                try:
                    self._store.reopen()
                except Exception as err:  # whatever stops the reopen, the writes stay kept
                    self._failed(err)
                    return
            try:
                result = job.func()
            except BaseException as err:  # kept, or handed to the caller
                if is_transient(err):
                    self._failed(err)
                    return
                self._backlog.popleft()
                self._resolve(job.future, None, err)
                continue
            self._backlog.popleft()
            self._resolve(job.future, result, None)
            if self._failing_since is not None:
                self._recovered()

    def _failed(self, err: BaseException) -> None:
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = datetime.now(UTC)
            self._delay = self._retry_first_s
            _LOGGER.error(
                "Writing the ledger %s fails (%s); %d write(s) are kept and retried in order",
                self.path,
                err,
                len(self._backlog),
            )
            self._error = err
            self._report(StoreStatus(self._failing_since, str(err), len(self._backlog)))
        else:
            self._delay = min(self._delay * 2, self._retry_max_s)
        self._retry_at = now + self._delay

    def _recovered(self) -> None:
        since = self._failing_since
        assert since is not None
        self._failing_since, self._error = None, None
        _LOGGER.warning(
            "Writing the ledger %s works again (failing since %s); the kept writes are saved",
            self.path,
            since.isoformat(timespec="seconds"),
        )
        self._report(StoreStatus(None, None, len(self._backlog)))

    def _finish(self, stop: _Job) -> None:
        deadline = time.monotonic() + self._close_grace_s
        while self._backlog and time.monotonic() < deadline:
            time.sleep(max(0.0, min(self._retry_at, deadline) - time.monotonic()))
            self._retry_at = 0.0
            self._drain()
        if self._backlog:
            _LOGGER.error(
                "The ledger %s closed with %d write(s) it could not save (%s)",
                self.path,
                len(self._backlog),
                self._error,
            )
            while self._backlog:
                job = self._backlog.popleft()
                self._resolve(job.future, None, StoreClosedError(str(self._error)))
        store, self._store = self._store, None
        error: BaseException | None = None
        if store is not None:
            try:
                store.close()
            except BaseException as err:  # handed to the closing side
                error = err
        self._resolve(stop.future, None, error)

    def _report(self, status: StoreStatus) -> None:
        def deliver() -> None:
            self.status = status
            if self.on_status is not None:
                self.on_status(status)

        self._call_soon(deliver)

    def _resolve(
        self, future: asyncio.Future[Any], result: Any, error: BaseException | None
    ) -> None:
        def settle() -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        self._call_soon(settle)

    def _call_soon(self, func: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(func)
