"""Price windows over a fallback: real-time pricing and critical-peak overlays.

Part of :mod:`core.tariff` (see its docstring for the conventions).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from .base import (
    DEFAULT_PRECISION,
    PeriodName,
    Tariff,
    _check_period_name,
    _coerce_price,
    _fmt_price,
    _merge,
    _Seg,
    _to_utc,
)

# --------------------------------------------------------------------------- windows


class _WindowedTariff(Tariff):
    """Non-overlapping price windows on top of a fallback tariff."""

    _windows: list[_Seg]
    _starts: list[datetime]
    _fallback: Tariff

    def _set_windows(self, windows: list[_Seg], fallback: Tariff) -> None:
        self._windows = windows
        self._starts = [w[0] for w in windows]
        self._fallback = fallback

    def _segments_utc(self, start: datetime, end: datetime) -> list[_Seg]:
        windows = self._windows
        out: list[_Seg] = []
        cursor = start
        idx = bisect_right(self._starts, cursor) - 1
        if idx < 0 or windows[idx][1] <= cursor:
            idx += 1  # windows[idx] is now the first window ending after cursor
        while cursor < end:
            if idx < len(windows) and windows[idx][0] <= cursor:
                _, w_end, period, price = windows[idx]
                stop = min(w_end, end)
                out.append((cursor, stop, period, price))
                idx += 1
            else:
                stop = min(windows[idx][0], end) if idx < len(windows) else end
                out.extend(self._fallback._segments_utc(cursor, stop))
            cursor = stop
        return out


class RtpTariff(_WindowedTariff):
    """Real-time prices (period ``rtp``); times not covered use ``fallback``."""

    def __init__(
        self,
        currency: str,
        points: Sequence[tuple[datetime, datetime, Decimal]],
        fallback: Tariff,
        *,
        precision: int = DEFAULT_PRECISION,
    ) -> None:
        super().__init__(currency, precision=precision)
        if not isinstance(fallback, Tariff):
            raise ValueError(f"fallback {fallback!r} is not a Tariff")
        if fallback.currency != self.currency:
            raise ValueError(
                f"fallback currency {fallback.currency} differs from the tariff currency {self.currency}"
            )
        windows: list[_Seg] = []
        for index, point in enumerate(points):
            start, end, price = point
            s = _to_utc(start, f"point {index} start")
            e = _to_utc(end, f"point {index} end")
            if e <= s:
                raise ValueError(f"point {index} ({s.isoformat()}): end must be after start")
            windows.append(
                (s, e, PeriodName.RTP.value, _coerce_price(price, f"point {index} price"))
            )
        windows.sort(key=lambda w: w[0])
        for prev, cur in pairwise(windows):
            if cur[0] < prev[1]:
                raise ValueError(
                    f"price points {prev[0].isoformat()}/{prev[1].isoformat()} and"
                    f" {cur[0].isoformat()}/{cur[1].isoformat()} overlap"
                )
        self.points: tuple[tuple[datetime, datetime, Decimal], ...] = tuple(
            (w[0], w[1], w[3]) for w in windows
        )
        self.fallback = fallback
        self._set_windows(windows, fallback)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "rtp",
            "currency": self.currency,
            "points": [
                {"start": s.isoformat(), "end": e.isoformat(), "price": _fmt_price(p)}
                for s, e, p in self.points
            ],
            "fallback": self.fallback.to_dict(),
        }
        if self.precision != DEFAULT_PRECISION:
            data["precision"] = self.precision
        return data


@dataclass(frozen=True, slots=True)
class CppEvent:
    """A critical-peak (or other) event overriding the price over ``[start, end)``."""

    start: datetime
    end: datetime
    price: Decimal
    name: str = PeriodName.CRITICAL_PEAK.value

    def __post_init__(self) -> None:
        s = _to_utc(self.start, "event start")
        e = _to_utc(self.end, "event end")
        if e <= s:
            raise ValueError(f"event starting {s.isoformat()}: end must be after start")
        object.__setattr__(self, "start", s)
        object.__setattr__(self, "end", e)
        object.__setattr__(self, "price", _coerce_price(self.price, "event price"))
        object.__setattr__(self, "name", _check_period_name(self.name))


class OverlayTariff(_WindowedTariff):
    """A base tariff with event prices laid over it (e.g. critical peak pricing).

    Inside an event window the event price applies with ``period = event.name``.
    Where events overlap, the event that started later wins (ties: the one listed
    later); once it ends, an earlier still-running event applies again. Wrapping an
    ``OverlayTariff`` flattens: the inner events join the outer ones under that rule.
    """

    def __init__(
        self, base: Tariff, overlays: Sequence[CppEvent], *, precision: int | None = None
    ) -> None:
        if not isinstance(base, Tariff):
            raise ValueError(f"base {base!r} is not a Tariff")
        events = list(overlays)
        if isinstance(base, OverlayTariff):
            events = list(base.events) + events
            base = base.base
        super().__init__(
            base.currency, precision=base.precision if precision is None else precision
        )
        for event in events:
            if not isinstance(event, CppEvent):
                raise ValueError(f"{event!r} is not a CppEvent")
        self.base: Tariff = base
        self.events: tuple[CppEvent, ...] = tuple(events)

        ranked = sorted(range(len(events)), key=lambda i: (events[i].start, i))
        bounds = sorted({e.start for e in events} | {e.end for e in events})
        windows: list[_Seg] = []
        for a, b in pairwise(bounds):
            winner: CppEvent | None = None
            for i in ranked:  # increasing priority
                ev = events[i]
                if ev.start <= a and ev.end >= b:
                    winner = ev
            if winner is not None:
                windows.append((a, b, winner.name, winner.price))
        self._set_windows(_merge(windows), base)

    def to_dict(self) -> dict[str, Any]:
        data = self.base.to_dict()
        data["cpp"] = [
            {
                "start": e.start.isoformat(),
                "end": e.end.isoformat(),
                "price": _fmt_price(e.price),
                "name": e.name,
            }
            for e in self.events
        ]
        if self.precision != self.base.precision:
            data["precision"] = self.precision
        return data
