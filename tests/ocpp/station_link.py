"""The websocket side both simulated stations share (OCPP 1.6J ``charge_point.py`` and 2.0.1
``charge_point_v201.py``): connect (boot the first time, announce the connectors, send what
was queued while offline), read until closed, disconnect, queue transaction messages while
offline, and wait for the follow-up work of a request.

Each protocol gives its subprotocol, its boot, its status announcement and which messages
are transaction messages (kept while offline, as a station's transaction queue does).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import websockets


class StationLink:
    """A mixin before ``ocpp.ChargePoint`` (which gives ``id``, ``call`` and ``start``)."""

    subprotocol: str
    url: str
    id: str
    connected: bool
    sent: list[str]
    _booted: bool
    _reader: asyncio.Task[None] | None
    _pending: set[asyncio.Task[Any]]
    _queue: list[Any]
    _connection: Any

    if TYPE_CHECKING:  # ocpp.ChargePoint's (after this mixin in the station's bases)

        async def call(self, message: Any) -> Any: ...

        async def start(self) -> None: ...

    async def _boot(self) -> None:
        """Send the protocol's BootNotification."""
        raise NotImplementedError

    async def _announce(self) -> None:
        """Send the connectors' status after connecting."""
        raise NotImplementedError

    def _queues(self, message: Any) -> bool:
        """Whether a message is kept while offline (a transaction message)."""
        raise NotImplementedError

    def _flushed(self, message: Any) -> None:
        """A queued message is about to be sent after a reconnection (mark it if the
        protocol says so)."""

    async def connect(self) -> None:
        """Open the websocket; boot (first time), report status, flush queued messages."""
        connection = await websockets.connect(
            f"{self.url}/{self.id}",
            subprotocols=[self.subprotocol],  # type: ignore[list-item]
            ping_interval=None,
            close_timeout=1,
        )
        self._connection = connection
        self.connected = True
        self._reader = asyncio.create_task(self._read(), name=f"{self.id} reader")
        if not self._booted:
            await self._boot()
            self._booted = True
        await self._announce()
        queued, self._queue = self._queue, []
        for message in queued:
            self._flushed(message)
            await self._deliver(message)

    async def _read(self) -> None:
        try:
            await self.start()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.connected = False

    async def wait_closed(self) -> None:
        """Until the central system's end of the connection is seen."""
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def disconnect(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        await self.wait_closed()
        self.connected = False

    async def settle(self) -> bool:
        """Wait for what the station started after answering a request; True if any."""
        did = False
        while True:
            self._pending = {task for task in self._pending if not task.done()}
            if not self._pending:
                return did
            did = True
            await asyncio.wait(list(self._pending))

    def _spawn(self, work: Callable[[], Awaitable[Any]]) -> None:
        """Run follow-up work of a request (called after its response went out)."""
        self._pending.add(asyncio.create_task(work()))

    async def _deliver(self, message: Any) -> Any:
        """Send a message now, or queue a transaction message while offline."""
        if not self.connected:
            if self._queues(message):
                self._queue.append(message)
            return None
        self.sent.append(type(message).__name__)
        return await self.call(message)
