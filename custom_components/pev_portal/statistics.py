"""Long-term statistics of EV charging: energy and cost per charger, hour by hour.

When a session ends, its intervals are added as external statistics
``pev_portal:<charger>_energy`` (kWh) and ``pev_portal:<charger>_cost`` (the tariff's currency),
so the Energy dashboard (as an individual device) and statistics cards show EV charging by day,
week and month. A sensor cannot carry the cost this way: a session's cost is only final at its
end, priced interval by interval. Without the recorder this does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util
from homeassistant.util import slugify
from homeassistant.util.unit_conversion import EnergyConverter

from .const import DOMAIN
from .core.metering import Interval
from .core.session import ChargingSession
from .core.summary import tariff_for
from .core.tariff import Tariff
from .ports import SessionEvents

if TYPE_CHECKING:
    from .core.summary import SessionSummary
    from .program_events import ProgramEvents
    from .runtime import ChargerRuntime

_LOGGER = logging.getLogger(__name__)

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Series:
    """One external statistic and the values to add to it, by hour (UTC)."""

    statistic_id: str
    name: str
    unit: str
    unit_class: str | None
    by_hour: dict[datetime, float]


def statistic_id(charger_id: str, kind: str) -> str:
    """``pev_portal:<charger>_<kind>`` (a valid external statistic ID)."""
    return f"{DOMAIN}:{slugify(charger_id)}_{kind}"


def _hour(when: datetime) -> datetime:
    return dt_util.as_utc(when).replace(minute=0, second=0, microsecond=0)


def hourly(
    intervals: Iterable[Interval], tariff: Tariff
) -> tuple[dict[datetime, float], dict[datetime, float]]:
    """Energy (kWh) and cost per clock hour of the billable intervals.

    An interval that spans an hour boundary is split in proportion to time.
    """
    parts: dict[datetime, list[tuple[datetime, datetime, float]]] = {}
    for interval in intervals:
        if not interval.billable:
            continue
        start, end = dt_util.as_utc(interval.start), dt_util.as_utc(interval.end)
        length = (end - start).total_seconds()
        if length <= 0:
            parts.setdefault(_hour(start), []).append((start, end, interval.kwh))
            continue
        at = start
        while at < end:
            stop = min(_hour(at) + HOUR, end)
            share = interval.kwh * (stop - at).total_seconds() / length
            parts.setdefault(_hour(at), []).append((at, stop, share))
            at = stop
    energy = {hour: sum(p[2] for p in found) for hour, found in parts.items()}
    cost = {hour: float(tariff.cost(found).total) for hour, found in parts.items()}
    return energy, cost


class SessionStatistics(SessionEvents):
    """A session listener: each ended session into the charger's long-term statistics."""

    def __init__(self, hass: HomeAssistant, events: ProgramEvents) -> None:
        self.hass = hass
        self.events = events

    def session_ended(
        self,
        runtime: ChargerRuntime,
        session: ChargingSession,
        intervals: list[Interval],
        summary: SessionSummary,
    ) -> None:
        """Record the session (in the background)."""
        tariff = tariff_for(
            session, self.events.tariff_for(session.pev_id), self.events.default_tariff
        )
        async_record_session(self.hass, runtime, intervals, tariff)


@callback
def async_record_session(
    hass: HomeAssistant,
    runtime: ChargerRuntime,
    intervals: list[Interval],
    tariff: Tariff,
) -> None:
    """Add an ended session's energy and cost to the charger's statistics (in the background)."""
    if "recorder" not in hass.config.components or not intervals:
        return
    energy, cost = hourly(intervals, tariff)
    if not energy:
        return
    series = [
        Series(
            statistic_id(runtime.charger_id, "energy"),
            f"{runtime.name} EV charging energy",
            UnitOfEnergy.KILO_WATT_HOUR,
            EnergyConverter.UNIT_CLASS,
            energy,
        ),
        Series(
            statistic_id(runtime.charger_id, "cost"),
            f"{runtime.name} EV charging cost",
            tariff.currency,
            None,
            cost,
        ),
    ]
    hass.async_create_task(_async_add(hass, series), "pev_portal_statistics", eager_start=False)


async def _async_add(hass: HomeAssistant, series: list[Series]) -> None:
    from homeassistant.components.recorder import get_instance
    from homeassistant.components.recorder.models import StatisticData, StatisticMeanType
    from homeassistant.components.recorder.statistics import (
        async_add_external_statistics,
        get_last_statistics,
        statistics_during_period,
    )

    instance = get_instance(hass)
    for item in series:
        sid, values = item.statistic_id, dict(item.by_hour)
        first = min(values)
        base = 0.0
        try:
            last = await instance.async_add_executor_job(
                get_last_statistics, hass, 1, sid, False, {"sum"}
            )
            rows: list[Any] = list(last.get(sid, []))
            if rows and dt_util.utc_from_timestamp(rows[0]["start"]) < first:
                base = float(rows[0].get("sum") or 0.0)
            elif rows:
                # An earlier session ended in an hour this one covers: merge with its values.
                found = await instance.async_add_executor_job(
                    statistics_during_period,
                    hass,
                    first,
                    None,
                    {sid},
                    "hour",
                    None,
                    {"sum", "state"},
                )
                existing = found.get(sid, [])
                if existing:
                    base = float(existing[0].get("sum") or 0.0) - float(
                        existing[0].get("state") or 0.0
                    )
                for row in existing:
                    hour = dt_util.utc_from_timestamp(row["start"])
                    values[hour] = values.get(hour, 0.0) + float(row.get("state") or 0.0)
        except Exception:
            _LOGGER.exception("Reading the statistics %s failed; not adding to them", sid)
            continue
        total = base
        data: list[StatisticData] = []
        for hour in sorted(values):
            total += values[hour]
            data.append(StatisticData(start=hour, state=round(values[hour], 6), sum=total))
        async_add_external_statistics(
            hass,
            {
                "source": DOMAIN,
                "statistic_id": sid,
                "name": item.name,
                "unit_of_measurement": item.unit,
                "unit_class": item.unit_class,
                "has_sum": True,
                "mean_type": StatisticMeanType.NONE,
            },
            data,
        )
