"""Building a :class:`~.timeline.Timeline`: its entries from the events' intervals (timing,
looping, multi-valued payloads, units and currency as the timeline module describes)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from .models import (
    END_OF_TIME,
    Event,
    EventInterval,
    add_duration,
    is_infinite,
    is_now_start,
)

# The timeline's log lines keep the logger of the module they came from.
_LOGGER = logging.getLogger(f"{__package__}.timeline")

NO_PRIORITY: Final = 2**31
"""Rank of an event without ``priority`` (below every numbered priority)."""

_SCALAR_TYPES: Final = frozenset(
    {
        "PRICE",
        "SIMPLE",
        "IMPORT_CAPACITY_LIMIT",
        "IMPORT_CAPACITY_AVAILABLE",
        "IMPORT_CAPACITY_AVAILABLE_PRICE",
        "X_LOAD_CONTROL_CAPACITY",
        "EXPORT_PRICE",
        "EXPORT_CAPACITY_LIMIT",
    }
)
_POWER_SCALE: Final = {"KW": 1.0, "W": 0.001, "MW": 1000.0}
_PRICE_SCALE: Final = {"KWH": Decimal(1), "WH": Decimal("0.001"), "MWH": Decimal(1000)}
"""Price per unit / this = price per kWh."""
_MAX_LOOPS: Final = 10_000


@dataclass(frozen=True)
class TimelineEntry:
    """One thing in force over ``[start, end)`` (UTC).

    ``kind``: ``price`` (``price`` per kWh), ``cap`` (``cap_kw``), ``level`` (SIMPLE
    ``level``), ``alert`` (``level`` it is treated as, or None; ``text``), ``available``
    (IMPORT_CAPACITY_AVAILABLE ``cap_kw`` with its ``price``), ``export_price``
    (EXPORT_PRICE ``export_price`` per kWh) and ``export_cap`` (EXPORT_CAPACITY_LIMIT
    ``export_kw``): the power feed's signals, kept out of ``price`` and ``cap_kw`` so nothing
    that prices or caps charging ever reads them. ``applies_to`` is the PEV IDs it applies
    to, None for all.
    """

    start: datetime
    end: datetime
    event_id: str
    program_id: str
    kind: str
    price: Decimal | None
    cap_kw: float | None
    level: int | None
    priority: int
    name: str | None
    randomize_start: timedelta | None
    applies_to: frozenset[str] | None
    payload_type: str | None = None
    text: str | None = None
    interval_id: int | None = None
    modified: datetime | None = None
    fraction: float | None = None
    """A ``level`` entry's cap as a fraction of the maximum power (2.0b
    ``x-loadControlCapacity``, payload ``X_LOAD_CONTROL_CAPACITY``)."""
    export_price: Decimal | None = None
    """An ``export_price`` entry's price per kWh fed to the grid (EXPORT_PRICE)."""
    export_kw: float | None = None
    """An ``export_cap`` entry's export limit in kW (EXPORT_CAPACITY_LIMIT)."""

    def applies_to_pev(self, pev_id: str | None) -> bool:
        """Whether it applies to a PEV (None: only entries applying to all)."""
        return self.applies_to is None or (pev_id is not None and pev_id in self.applies_to)

    @property
    def label(self) -> str:
        """The event name, else ``event <id>``."""
        return self.name or f"event {self.event_id}"


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _float(value: Any) -> float | None:
    number = _decimal(value)
    if number is None:
        return None
    result = float(number)
    return result if result == result and abs(result) != float("inf") else None


def _level(value: Any) -> int | None:
    number = _decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    level = int(number)
    return level if 0 <= level <= 3 else None


class TimelineBuilder:
    """The entries of the events: a mixin of :class:`~.timeline.Timeline`, which sets these."""

    now: datetime
    horizon: timedelta
    currency: str | None
    alert_levels: dict[str, int | None]

    def _now_start(self, event: Event) -> datetime:
        return event.created or event.modified or self.now

    def _interval_spans(
        self, event: Event
    ) -> list[tuple[EventInterval, datetime, datetime, timedelta | None]]:
        default = event.period
        spans: list[tuple[EventInterval, datetime, datetime, timedelta | None]] = []
        previous_end: datetime | None = None
        for index, interval in enumerate(event.intervals):
            own = interval.period
            start: datetime | None = own.start if own is not None else None
            if start is None or is_now_start(start):
                if index == 0 or previous_end is None:
                    start = default.start if default is not None else None
                    if start is None or is_now_start(start):
                        start = self._now_start(event)
                else:
                    start = previous_end
            duration = own.duration if own is not None and own.duration is not None else None
            if duration is None and default is not None:
                duration = default.duration
            randomize = own.randomize_start if own is not None else None
            if randomize is None and default is not None:
                randomize = default.randomize_start
            if duration is not None and duration < timedelta(0):
                _LOGGER.warning("event %s interval %s: negative duration", event.id, interval.id)
                continue
            end = END_OF_TIME if duration is None else add_duration(start, duration)
            spans.append((interval, start, end, randomize))
            previous_end = end
        return spans

    def _looped(
        self, event: Event
    ) -> Iterable[tuple[EventInterval, datetime, datetime, timedelta | None]]:
        spans = self._interval_spans(event)
        if not spans:
            return []
        if event.duration is None or event.duration <= timedelta(0):
            return spans
        first = min(s[1] for s in spans)
        last = max(s[2] for s in spans)
        span_end = add_duration(first, event.duration)
        cycle = last - first
        if span_end <= last or last >= END_OF_TIME or cycle <= timedelta(0):
            return [(i, s, min(e, span_end), r) for i, s, e, r in spans if s < span_end]
        limit = (
            min(span_end, self.now + self.horizon)
            if not is_infinite(event.duration)
            else (self.now + self.horizon)
        )
        out = list(spans)
        offset = cycle
        loops = 0
        while first + offset < min(limit, span_end) and loops < _MAX_LOOPS:
            for interval, start, end, randomize in spans:
                s, e = start + offset, min(end + offset, span_end)
                if s < span_end:
                    out.append((interval, s, e, randomize))
            offset += cycle
            loops += 1
        return out

    def _event_entries(
        self, event: Event, applies_to: frozenset[str] | None
    ) -> list[TimelineEntry]:
        priority = event.priority if event.priority is not None else NO_PRIORITY
        price_ok = True
        if self.currency and event.price_currency and event.price_currency != self.currency:
            _LOGGER.warning(
                "event %s: PRICE in %s ignored (tariff currency %s)",
                event.id,
                event.price_currency,
                self.currency,
            )
            price_ok = False
        price_scale = _PRICE_SCALE.get(event.price_units or "KWH", Decimal(1))
        cap_scale = _POWER_SCALE.get(event.units_of("IMPORT_CAPACITY_LIMIT") or "KW", 1.0)
        avail_scale = _POWER_SCALE.get(event.units_of("IMPORT_CAPACITY_AVAILABLE") or "KW", 1.0)
        export_scales = self._export_scales(event)
        out: list[TimelineEntry] = []

        def entry(
            kind: str,
            start: datetime,
            end: datetime,
            interval: EventInterval,
            randomize: timedelta | None,
            *,
            price: Decimal | None = None,
            cap_kw: float | None = None,
            level: int | None = None,
            payload_type: str | None = None,
            text: str | None = None,
            fraction: float | None = None,
            export_price: Decimal | None = None,
            export_kw: float | None = None,
        ) -> None:
            if end <= start:
                return
            out.append(
                TimelineEntry(
                    start=start,
                    end=end,
                    event_id=event.id,
                    program_id=event.program_id,
                    kind=kind,
                    price=price,
                    cap_kw=cap_kw,
                    level=level,
                    priority=priority,
                    name=event.name,
                    randomize_start=randomize,
                    applies_to=applies_to,
                    payload_type=payload_type,
                    text=text,
                    interval_id=interval.id,
                    modified=event.modified,
                    fraction=fraction,
                    export_price=export_price,
                    export_kw=export_kw,
                )
            )

        for interval, start, end, randomize in self._looped(event):
            payloads = interval.payloads
            for sub_start, sub_end, values in self._split(start, end, payloads):
                available = _float(values.get("IMPORT_CAPACITY_AVAILABLE"))
                price = _decimal(values.get("PRICE"))
                if price is not None:
                    price = price / price_scale
                if available is not None:
                    avail_price = price
                    if avail_price is None:
                        avail_price = _decimal(values.get("IMPORT_CAPACITY_AVAILABLE_PRICE"))
                    entry(
                        "available",
                        sub_start,
                        sub_end,
                        interval,
                        randomize,
                        price=avail_price if price_ok else None,
                        cap_kw=available * avail_scale,
                        payload_type="IMPORT_CAPACITY_AVAILABLE",
                    )
                elif price is not None and price_ok:
                    entry(
                        "price",
                        sub_start,
                        sub_end,
                        interval,
                        randomize,
                        price=price,
                        payload_type="PRICE",
                    )
                cap = _float(values.get("IMPORT_CAPACITY_LIMIT"))
                if cap is not None:
                    entry(
                        "cap",
                        sub_start,
                        sub_end,
                        interval,
                        randomize,
                        cap_kw=max(0.0, cap * cap_scale),
                        payload_type="IMPORT_CAPACITY_LIMIT",
                    )
                fraction = _float(values.get("X_LOAD_CONTROL_CAPACITY"))
                if fraction is not None and 0.0 <= fraction <= 1.0:
                    entry(
                        "level",
                        sub_start,
                        sub_end,
                        interval,
                        randomize,
                        payload_type="X_LOAD_CONTROL_CAPACITY",
                        fraction=fraction,
                    )
                for kind, payload, value in self._export_values(event, values, export_scales):
                    entry(
                        kind,
                        sub_start,
                        sub_end,
                        interval,
                        randomize,
                        payload_type=payload,
                        export_price=value if isinstance(value, Decimal) else None,
                        export_kw=value if isinstance(value, float) else None,
                    )
                if "SIMPLE" in values:
                    level = _level(values["SIMPLE"])
                    if level is None:
                        _LOGGER.warning("event %s: ignoring SIMPLE %r", event.id, values["SIMPLE"])
                    else:
                        entry(
                            "level",
                            sub_start,
                            sub_end,
                            interval,
                            randomize,
                            level=level,
                            payload_type="SIMPLE",
                        )
            for kind, raw_values in payloads.items():
                if not kind.startswith("ALERT_"):
                    continue
                text = "; ".join(str(v) for v in raw_values if isinstance(v, (str, int, float)))
                entry(
                    "alert",
                    start,
                    end,
                    interval,
                    randomize,
                    level=self.alert_levels.get(kind),
                    payload_type=kind,
                    text=text or None,
                )
        return out

    def _export_scales(self, event: Event) -> tuple[Decimal | None, float | None]:
        """The EXPORT_PRICE unit's scale to per kWh (None: its currency is not the tariff's,
        or its unit is not energy) and the EXPORT_CAPACITY_LIMIT unit's scale to kW (None: not
        a power unit). A refused one is logged once per event build."""
        price_scale: Decimal | None = None
        if any("EXPORT_PRICE" in i.payloads for i in event.intervals):
            desc = event.payload_descriptor("EXPORT_PRICE") or {}
            currency = desc.get("currency")
            units = desc.get("units")
            units = units.strip().upper() if isinstance(units, str) else "KWH"
            currency = currency.strip().upper() if isinstance(currency, str) else None
            if self.currency and currency and currency != self.currency:
                _LOGGER.warning(
                    "event %s: EXPORT_PRICE in %s ignored (tariff currency %s)",
                    event.id,
                    currency,
                    self.currency,
                )
            elif units not in _PRICE_SCALE:
                _LOGGER.warning("event %s: EXPORT_PRICE per %s ignored", event.id, units)
            else:
                price_scale = _PRICE_SCALE[units]
        cap_units = event.units_of("EXPORT_CAPACITY_LIMIT") or "KW"
        cap_scale = _POWER_SCALE.get(cap_units)
        if cap_scale is None and any(
            "EXPORT_CAPACITY_LIMIT" in i.payloads for i in event.intervals
        ):
            _LOGGER.warning("event %s: EXPORT_CAPACITY_LIMIT in %s ignored", event.id, cap_units)
        return price_scale, cap_scale

    @staticmethod
    def _export_values(
        event: Event, values: Mapping[str, Any], scales: tuple[Decimal | None, float | None]
    ) -> list[tuple[str, str, Decimal | float]]:
        """The power feed's entries of one (sub-)interval: ``(kind, payload, value)``; a value
        that is not a number, or a negative limit, is logged and skipped."""
        out: list[tuple[str, str, Decimal | float]] = []
        price_scale, cap_scale = scales
        if "EXPORT_PRICE" in values and price_scale is not None:
            price = _decimal(values["EXPORT_PRICE"])
            if price is None:
                _LOGGER.warning(
                    "event %s: ignoring EXPORT_PRICE %r", event.id, values["EXPORT_PRICE"]
                )
            else:
                out.append(("export_price", "EXPORT_PRICE", price / price_scale))
        if "EXPORT_CAPACITY_LIMIT" in values and cap_scale is not None:
            limit = _float(values["EXPORT_CAPACITY_LIMIT"])
            if limit is None or limit < 0:
                _LOGGER.warning(
                    "event %s: ignoring EXPORT_CAPACITY_LIMIT %r",
                    event.id,
                    values["EXPORT_CAPACITY_LIMIT"],
                )
            else:
                out.append(("export_cap", "EXPORT_CAPACITY_LIMIT", limit * cap_scale))
        return out

    @staticmethod
    def _split(
        start: datetime, end: datetime, payloads: Mapping[str, list[Any]]
    ) -> list[tuple[datetime, datetime, dict[str, Any]]]:
        """Sub-intervals of a multi-valued scalar payload, with one value per type each."""
        scalar = {k: v for k, v in payloads.items() if k in _SCALAR_TYPES and v}
        if not scalar:
            return []
        count = max(len(v) for v in scalar.values())
        if count == 1 or end >= END_OF_TIME:
            return [(start, end, {k: v[0] for k, v in scalar.items()})]
        step = (end - start) / count
        out: list[tuple[datetime, datetime, dict[str, Any]]] = []
        for i in range(count):
            sub_start = start + step * i
            sub_end = end if i == count - 1 else start + step * (i + 1)
            values = {
                k: (v[i] if len(v) == count else v[min(i, len(v) - 1)]) for k, v in scalar.items()
            }
            out.append((sub_start, sub_end, values))
        return out
