"""The small interfaces the parts of the premise depend on, instead of on the coordinator.

* :class:`Premise`: what every part may read of the premise (its Home Assistant, config entry,
  identifiers, chargers and vehicles) plus the two things every part may do: write to the
  durable store (:meth:`Premise.submit`) and tell the entities that something changed
  (:meth:`Premise.changed`).
* :class:`SessionListener`: what a part implements to hear of sessions (started, bound,
  ended) from :mod:`.sessions`, which calls them in order and never by name.
* :class:`ChargingPort`: what the sessions need of smart charging.

The coordinator builds one :class:`Premise` and hands it (and the parts each one needs) to the
parts; only the platforms, the services, the websocket API, the HTTP views and diagnostics see
the coordinator itself (``tests/test_architecture.py`` reads the imports).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .core.binding import Relation
from .core.metering import Interval
from .core.session import ChargingSession
from .core.summary import SessionSummary
from .runtime import ChargerRuntime, Vehicle

if TYPE_CHECKING:
    from .io.store import AsyncLedgerStore, LedgerStore

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class Premise:
    """The premise as every part sees it (plain state and two actions)."""

    hass: HomeAssistant
    entry: ConfigEntry[Any]
    premise_id: str
    interval_minutes: int
    validation_window: float
    store: AsyncLedgerStore
    updated: Callable[[], None]
    chargers: dict[str, ChargerRuntime] = field(default_factory=dict)
    vehicles: dict[str, Vehicle] = field(default_factory=dict)

    @property
    def entry_id(self) -> str:
        """The config entry's ID."""
        return self.entry.entry_id

    def changed(self) -> None:
        """Tell the entities (and the card) that something they show changed."""
        self.updated()

    def submit(self, job: Callable[[LedgerStore], None], what: str = "session store") -> None:
        """Hand a write to the store now (in order); log if it fails."""
        try:
            future = self.store.submit(job)
        except RuntimeError:
            _LOGGER.debug("Not written to the %s: the store is closed", what)
            return

        def _done(fut: asyncio.Future[None]) -> None:
            if not fut.cancelled() and (err := fut.exception()) is not None:
                _LOGGER.error("Writing to the %s failed: %s", what, err)

        future.add_done_callback(_done)

    def task(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run a coroutine as one of the entry's background tasks (cancelled at unload)."""
        self.entry.async_create_background_task(self.hass, coro, name)

    def vehicle_by_pev_id(self, pev_id: str | None) -> Vehicle | None:
        """The registered vehicle with this PEV ID."""
        if pev_id is None:
            return None
        return next((v for v in self.vehicles.values() if v.pev_id == pev_id), None)

    def default_vehicle(self) -> Vehicle | None:
        """The vehicle marked default, else the only home vehicle."""
        marked = [v for v in self.vehicles.values() if v.default]
        if marked:
            return marked[0]
        home = [v for v in self.vehicles.values() if v.relation is Relation.HOME]
        return home[0] if len(home) == 1 else None


class SessionListener(Protocol):
    """Hears of the premise's sessions (see :class:`.sessions.Sessions`)."""

    def session_started(self, runtime: ChargerRuntime, session: ChargingSession) -> None:
        """A vehicle plugged in (its session is ``runtime.session``)."""

    def session_bound(self, runtime: ChargerRuntime, session: ChargingSession) -> None:
        """The session's binding was decided."""

    def session_ended(
        self,
        runtime: ChargerRuntime,
        session: ChargingSession,
        intervals: list[Interval],
        summary: SessionSummary,
    ) -> None:
        """The vehicle was unplugged; its last interval and summary are written."""


class SessionEvents:
    """A :class:`SessionListener` that ignores everything: listeners override what they need."""

    def session_started(self, runtime: ChargerRuntime, session: ChargingSession) -> None:
        """A vehicle plugged in."""

    def session_bound(self, runtime: ChargerRuntime, session: ChargingSession) -> None:
        """The session's binding was decided."""

    def session_ended(
        self,
        runtime: ChargerRuntime,
        session: ChargingSession,
        intervals: list[Interval],
        summary: SessionSummary,
    ) -> None:
        """The vehicle was unplugged."""


class ChargingPort(Protocol):
    """What the sessions need of smart charging."""

    def energy_request(self, runtime: ChargerRuntime) -> tuple[float | None, datetime | None]:
        """The session's energy request and departure for the utility."""
        ...
