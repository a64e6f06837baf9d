"""What energy fed back to the grid is worth, and how much of it the premise may export
(power feed, issue #18): the answers behind :meth:`.program_events.ProgramEvents.export_prices`
and :meth:`~.program_events.ProgramEvents.export_limits`.

**Prices** per kWh exported, piecewise over the asked window, from three sources:

1. the utility's ``EXPORT_PRICE`` events (OpenADR 3.1), where they have intervals: they win;
2. else the feed-in price sensor of a price integration (option ``feed_in_price_entity``):
   its forecast intervals where it publishes them (the attribute shapes
   :mod:`.core.price_source` reads for the tariff's price entity), and its current price for
   the current hour when no forecast interval covers now;
3. else the tariff's flat export rate (option ``export_rate``); without one, the sensor's
   current price is held over the rest of the window (its last known price, as the tariff's
   price entity falls back to the price it had).

A time none of them covers has no export price (export is worth nothing then). A sensor that
is unavailable or not a number gives no price (said once in the log, and again when it is
read again); its forecast is kept only while it is readable.

**Limits** (kW): the configured export limit (option ``export_limit_kw``, 0 = no export) and
the utility's ``EXPORT_CAPACITY_LIMIT`` events, the smaller where both; events the user opted
out of (where the program allows it) are left out, as for the charging caps. A time neither
covers has no limit.

The events' :attr:`~.program_events.ProgramEvents.version` moves when the utility's events
change (any of them) and when the feed-in sensor's prices change, so the feed planner replans.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util

from .const import CONF_EXPORT_LIMIT, CONF_EXPORT_RATE, CONF_FEED_IN_ENTITY
from .core.price_source import PricePoint, PriceSourceError, current_price, parse_prices, unit_scale
from .event_types import (
    EXPORT_CAP,
    EXPORT_PRICE,
    KIND_EXPORT_LIMIT,
    KIND_EXPORT_PRICE,
    SOURCE_UTILITY,
    ProgramEvent,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .openadr.timeline import Timeline

_LOGGER = logging.getLogger(__name__)

type Piece = tuple[datetime, datetime, float]


def _option(options: Mapping[str, Any], key: str) -> float | None:
    """A number option, None when absent or not a finite number >= 0 (never NaN here)."""
    value = options.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


class ExportSignals:
    """The export prices and limits of the premise (see the module docstring)."""

    def __init__(
        self, hass: HomeAssistant, options: Mapping[str, Any], changed: Callable[[], None]
    ) -> None:
        """``changed`` is called when the feed-in sensor's prices change."""
        self.hass = hass
        self.rate = _option(options, CONF_EXPORT_RATE)
        self.limit_kw = _option(options, CONF_EXPORT_LIMIT)
        feed_in = options.get(CONF_FEED_IN_ENTITY)
        self.entity_id: str | None = feed_in if isinstance(feed_in, str) and feed_in else None
        self.points: tuple[PricePoint, ...] = ()
        self.current: Decimal | None = None
        self.problem: str | None = None
        self._changed = changed
        self._unsub: CALLBACK_TYPE | None = None

    # -- the feed-in sensor -----------------------------------------------------------------

    @callback
    def start(self) -> None:
        """Read the feed-in sensor now and follow its changes."""
        if self.entity_id is None or self._unsub is not None:
            return
        self._read(notify=False)
        self._unsub = async_track_state_change_event(self.hass, self.entity_id, self._on_change)

    @callback
    def stop(self) -> None:
        """Stop following the sensor (at unload)."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    @callback
    def _on_change(self, _event: Event[EventStateChangedData]) -> None:
        self._read(notify=True)

    def _read(self, *, notify: bool) -> None:
        """The sensor's current price and forecast; a change tells the events' listeners."""
        assert self.entity_id is not None
        before = (self.points, self.current)
        state = self.hass.states.get(self.entity_id)
        points: tuple[PricePoint, ...] = ()
        price: Decimal | None = None
        problem: str | None = None
        if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            problem = "unavailable"
        else:
            try:
                scale, _currency = unit_scale(state.attributes.get("unit_of_measurement"))
            except PriceSourceError as err:
                problem = str(err)
            else:
                price = current_price(state.state, scale)
                points = tuple(parse_prices(state.attributes, scale=scale))
                if price is None and not points:
                    problem = "not a price"
        self.points, self.current = points, price
        if problem != self.problem:
            if problem is not None:
                _LOGGER.warning(
                    "Feed-in price from %s cannot be read (%s): no export price from it",
                    self.entity_id,
                    problem,
                )
            elif self.problem is not None:
                _LOGGER.info("Feed-in price from %s is read again", self.entity_id)
            self.problem = problem
        if notify and (self.points, self.current) != before:
            self._changed()

    # -- prices -----------------------------------------------------------------------------

    def base_prices(self, start: datetime, end: datetime, now: datetime) -> list[Piece]:
        """The sensor's and the flat rate's prices over ``[start, end)`` (no events)."""
        known: list[tuple[datetime, datetime, Decimal]] = [
            (p.start, p.end, p.price) for p in self.points
        ]
        if self.current is not None and not any(a <= now < b for a, b, _ in known):
            hour = now.replace(minute=0, second=0, microsecond=0)
            if not any(a < hour + timedelta(hours=1) and hour < b for a, b, _ in known):
                known.append((hour, hour + timedelta(hours=1), self.current))
        fallback: Decimal | None = None
        if self.rate is not None:
            fallback = Decimal(str(self.rate))
        elif self.current is not None:
            fallback = self.current
        return _layer(known, start, end, fallback)

    def prices(
        self,
        start: datetime,
        end: datetime,
        timeline: Timeline | None,
        local: Sequence[Piece] = (),
    ) -> list[Piece]:
        """Export prices over ``[start, end)``: the premise's own export-price events
        (``local``, the later start wins) over the utility's events over the sensor's and the
        rate's."""
        if end <= start:
            return []
        base = self.base_prices(start, end, dt_util.utcnow())
        events = timeline.export_prices(start, end) if timeline is not None else []
        prices = _over(base, [(a, b, float(p)) for a, b, p in events], start, end)
        for piece in sorted(local):
            prices = _over(prices, [piece], start, end)
        return prices

    # -- limits -----------------------------------------------------------------------------

    def limits(
        self,
        start: datetime,
        end: datetime,
        timeline: Timeline | None,
        exclude: Collection[str] = (),
        local: Sequence[Piece] = (),
    ) -> list[Piece]:
        """Export limits over ``[start, end)``: the smallest of the configured one, the
        utility's events (those in ``exclude`` left out) and the premise's own export-limit
        events (``local``)."""
        if end <= start:
            return []
        limits = list(timeline.export_limits(start, end, exclude) if timeline is not None else [])
        if self.limit_kw is not None:
            limits = _merge([(start, end, self.limit_kw)], limits, start, end, min)
        for piece in local:
            limits = _merge(limits, [piece], start, end, min)
        return limits

    # -- announcements ----------------------------------------------------------------------

    def announced(self, timeline: Timeline, now: datetime) -> list[ProgramEvent]:
        """The utility's export events in force now that a feeding vehicle hears of: every
        export limit, and an export price above what export earns without it (the sensor's or
        the rate's price at its start; none: any price above 0)."""
        found: list[ProgramEvent] = []
        active = [e for e in timeline.active(now) if e.kind in (EXPORT_CAP, EXPORT_PRICE)]
        for event_id in sorted({e.event_id for e in active}):
            entries = [e for e in active if e.event_id == event_id]
            limits = [e.export_kw for e in entries if e.export_kw is not None]
            prices = [e.export_price for e in entries if e.export_price is not None]
            start = min(e.start for e in entries)
            price = float(prices[0]) if prices and not limits else None
            if not limits:
                base = self.base_prices(start, start + timedelta(seconds=1), now)
                if price is None or price <= (base[0][2] if base else 0.0):
                    continue
            found.append(
                ProgramEvent(
                    event_id=event_id,
                    kind=KIND_EXPORT_LIMIT if limits else KIND_EXPORT_PRICE,
                    name=entries[0].label,
                    start=start,
                    end=max(e.end for e in entries),
                    source=SOURCE_UTILITY,
                    export_price=price,
                    export_limit_kw=min(limits) if limits else None,
                )
            )
        return found


def _layer(
    known: Sequence[tuple[datetime, datetime, Decimal]],
    start: datetime,
    end: datetime,
    fallback: Decimal | None,
) -> list[Piece]:
    """The known pieces over ``[start, end)``, the fallback where none is known."""
    pieces = [(max(a, start), min(b, end), float(p)) for a, b, p in known if a < end and start < b]
    if fallback is None:
        return _merged(sorted(pieces))
    return _over([(start, end, float(fallback))], pieces, start, end)


def _over(
    base: Sequence[Piece], top: Sequence[Piece], start: datetime, end: datetime
) -> list[Piece]:
    """``top`` where it has a value, else ``base``."""
    return _merge(base, top, start, end, lambda _low, high: high)


def _merge(
    first: Sequence[Piece],
    second: Sequence[Piece],
    start: datetime,
    end: datetime,
    both: Callable[[float, float], float],
) -> list[Piece]:
    """Two piecewise series over ``[start, end)``: where both have a value ``both`` chooses,
    else the one that has one; times neither covers are left out."""
    bounds = sorted(
        {start, end} | {t for a, b, _ in (*first, *second) for t in (a, b) if start < t < end}
    )
    out: list[Piece] = []
    for a, b in pairwise(bounds):
        x = next((v for s, e, v in first if s <= a and b <= e), None)
        y = next((v for s, e, v in second if s <= a and b <= e), None)
        value = both(x, y) if x is not None and y is not None else (y if x is None else x)
        if value is not None:
            out.append((a, b, value))
    return _merged(out)


def _merged(pieces: Sequence[Piece]) -> list[Piece]:
    """Touching pieces with the same value as one."""
    out: list[Piece] = []
    for a, b, v in pieces:
        if b <= a:
            continue
        if out and out[-1][1] == a and out[-1][2] == v:
            out[-1] = (out[-1][0], b, v)
        else:
            out.append((a, b, v))
    return out
