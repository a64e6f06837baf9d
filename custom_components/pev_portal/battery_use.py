"""Each vehicle's battery use by power feed (issue #18), as metered: the energy it fed back
this month and in all, and the equivalent full cycles that took.

``cycles = fed AC kWh / discharge efficiency / battery capacity`` (the battery energy taken out,
in full batteries): the efficiency is the demo bidirectional car's own, else the core default
:data:`~.core.planner_feed.DEFAULT_DISCHARGE_EFFICIENCY`. Only billable intervals count (a
MISSING interval's energy is unknown). The month is the local calendar month.

The ended sessions' energy is read from the ledger (by the intervals' ``(pev_id, start)``
index) at start and after each session ends (the read queues behind the session's final
write); the running sessions' energy is added live from their intervals. No query runs on
the event loop.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Any

from homeassistant.util import dt as dt_util

from .core.metering import Interval
from .core.planner_feed import DEFAULT_DISCHARGE_EFFICIENCY
from .core.session import ChargingSession
from .core.summary import SessionSummary
from .io.store import LedgerStore
from .ports import Premise, SessionEvents
from .runtime import ChargerRuntime, Vehicle

_LOGGER = logging.getLogger(__name__)


def month_start(now: datetime) -> datetime:
    """The start of ``now``'s local calendar month (aware, local time zone)."""
    return dt_util.start_of_local_day(dt_util.as_local(now).replace(day=1))


def fed_kwh(intervals: list[Interval], since: datetime) -> tuple[float, float]:
    """The energy fed back in billable intervals: in all, and in those starting at ``since``
    or later."""
    fed = [(i.start, i.exported_kwh) for i in intervals if i.billable and i.exported_kwh]
    return sum(kwh for _, kwh in fed), sum(kwh for start, kwh in fed if start >= since)


class BatteryUse(SessionEvents):
    """The vehicles' fed energy and cycles (a session listener: a session's end re-reads)."""

    def __init__(self, premise: Premise, live: Any) -> None:
        self.premise = premise
        self._live = live  # Sessions.intervals_so_far
        # pev_id -> (total kWh, kWh this month, the month's start) of the ended sessions.
        self._stored: dict[str, tuple[float, float, datetime]] = {}

    async def async_load(self) -> None:
        """Read every vehicle's ended sessions from the ledger."""
        for vehicle in list(self.premise.vehicles.values()):
            await self._async_read(vehicle.pev_id)

    async def _async_read(self, pev_id: str) -> None:
        since = month_start(dt_util.utcnow())
        try:
            total, month = await self.premise.store.call(
                partial(LedgerStore.fed_kwh, pev_id=pev_id, since=since)
            )
        except Exception as err:  # the store reports its own failures; the figure waits
            _LOGGER.debug("Battery use of %s not read: %r", pev_id, err)
            return
        self._stored[pev_id] = (total, month, since)
        self.premise.changed()

    def session_ended(
        self,
        runtime: ChargerRuntime,
        session: ChargingSession,
        intervals: list[Interval],
        summary: SessionSummary,
    ) -> None:
        """The session's energy counts at once; the ledger is read again behind its write."""
        pev_id = session.pev_id
        if pev_id is None or pev_id not in {v.pev_id for v in self.premise.vehicles.values()}:
            return
        total, month, since = self._stored.get(pev_id, (0.0, 0.0, month_start(dt_util.utcnow())))
        add_total, add_month = fed_kwh(intervals, since)
        self._stored[pev_id] = (total + add_total, month + add_month, since)
        self.premise.task(self._async_read(pev_id), "pev_portal_battery_use")

    def figures(self, vehicle: Vehicle) -> dict[str, float]:
        """``{"cycles", "fed_kwh_month", "fed_kwh_total"}`` of a vehicle (cycles 0 without a
        battery capacity)."""
        now = dt_util.utcnow()
        since = month_start(now)
        total, month, stored_since = self._stored.get(vehicle.pev_id, (0.0, 0.0, since))
        if stored_since != since:  # a new month began: its figure is read again
            month = 0.0
            self._stored[vehicle.pev_id] = (total, month, since)
            self.premise.task(self._async_read(vehicle.pev_id), "pev_portal_battery_use")
        efficiency = DEFAULT_DISCHARGE_EFFICIENCY
        for runtime in self.premise.chargers.values():
            session = runtime.session
            if session is not None and session.pev_id == vehicle.pev_id:
                live_total, live_month = fed_kwh(self._live(runtime), since)
                total, month = total + live_total, month + live_month
            car = runtime.demo.evse.car if runtime.demo is not None else None
            if car is not None and car.pev_id == vehicle.pev_id and car.bidirectional:
                efficiency = car.discharge_efficiency
        capacity = vehicle.capacity_kwh
        cycles = total / efficiency / capacity if capacity else 0.0
        return {
            "cycles": round(cycles, 4),
            "fed_kwh_month": round(month, 4),
            "fed_kwh_total": round(total, 4),
        }
