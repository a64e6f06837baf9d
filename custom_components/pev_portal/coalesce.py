"""One pass at a time: a request during a pass runs one more pass after it (coalesced).

The premise's parts that recompute something when told that anything changed (the smart
charging plan, the flexibility reports, the settlement's frozen counterfactuals) run a *pass*
through :class:`Coalesced`: :meth:`Coalesced.schedule` starts a pass as one of the entry's
tasks, or, while one runs, asks for exactly one more after it (however many requests came).
A pass returns False to end the run at once (its part is closing); it handles its own errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

type Pass = Callable[[], Awaitable[bool | None]]


class Coalesced:
    """Runs ``run_pass`` one at a time, once more after a pass that was asked for again.

    ``background``: an entry background task (not awaited by Home Assistant's start-up or
    shutdown) or a plain entry task; ``eager_start``: whether the task starts at once (inside
    the caller's call) or once the caller's change is complete.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        run_pass: Pass,
        name: str,
        *,
        background: bool = True,
        eager_start: bool = False,
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.run_pass = run_pass
        self.name = name
        self.background = background
        self.eager_start = eager_start
        self.task: asyncio.Task[None] | None = None
        self.again = False
        self.stopped = False
        self.passes = 0

    @property
    def running(self) -> bool:
        """Whether a run is in progress."""
        return self.task is not None and not self.task.done()

    @callback
    def schedule(self) -> None:
        """Run a pass soon (one more after the one in progress, if any)."""
        if self.stopped:
            return
        if self.running:
            self.again = True
            return
        if self.background:
            self.task = self.entry.async_create_background_task(
                self.hass, self._async_run(), self.name, eager_start=self.eager_start
            )
        else:
            self.task = self.entry.async_create_task(
                self.hass, self._async_run(), self.name, eager_start=self.eager_start
            )

    async def async_wait(self) -> None:
        """Wait until no run is in progress (one started meanwhile included)."""
        while self.task is not None and not self.task.done():
            await asyncio.shield(self.task)

    @callback
    def stop(self) -> None:
        """Start no pass after this one."""
        self.stopped = True

    async def async_cancel(self) -> None:
        """Stop, and cancel the run in progress (unless it is the caller)."""
        self.stopped = True
        task = self.task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _async_run(self) -> None:
        while not self.stopped:
            self.again = False
            self.passes += 1
            if await self.run_pass() is False or not self.again:
                return
