"""The tariff basics: errors, names and result types, shared helpers, the
:class:`Tariff` base class and :class:`FlatTariff`.

Part of :mod:`core.tariff` (see its docstring for the conventions).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from functools import cached_property
from typing import Any, Final
from zoneinfo import ZoneInfoNotFoundError

DEFAULT_PRECISION: Final = 4
"""Default number of decimals costs are rounded to (round half even)."""

_MAX_PRECISION: Final = 12
_DECIMAL_PREC: Final = 60  # working precision for unrounded cost arithmetic
_ONE_DAY: Final = timedelta(days=1)
_DAY_US: Final = 86_400_000_000
_PRICE_AT_WINDOWS: Final = (timedelta(days=1), timedelta(days=7))
_DAY_CACHE_MAX: Final = 4096
_GLOBAL_SEGMENTS_MAX_SPAN: Final = timedelta(days=400)
_LEAP_YEAR: Final = 2024
# Exception tuples are named so the py314 formatter does not drop the parentheses
# (PEP 758 syntax), which would break Python < 3.14.
_UNPACK_ERRORS: Final = (TypeError, ValueError)
_ZONE_ERRORS: Final = (ZoneInfoNotFoundError, ValueError)


class TariffError(ValueError):
    """A tariff definition is invalid; the message names the offending field."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class PeriodName(StrEnum):
    """Well-known period names (TOU periods may use any other string too)."""

    OFF_PEAK = "off_peak"
    MID_PEAK = "mid_peak"
    ON_PEAK = "on_peak"
    FLAT = "flat"
    RTP = "rtp"
    CRITICAL_PEAK = "critical_peak"


class DayType(StrEnum):
    """Kind of local calendar day a TOU rule applies to."""

    WEEKDAY = "weekday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


@dataclass(frozen=True, slots=True)
class PriceSegment:
    """A constant price over ``[start, end)`` (UTC); ``price`` is per kWh."""

    start: datetime
    end: datetime
    price: Decimal
    period: str


@dataclass(frozen=True, slots=True)
class PeriodCost:
    """Energy and cost attributed to one period."""

    period: str
    kwh: float
    cost: Decimal


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Result of :meth:`Tariff.cost`; ``by_period`` is in order of first appearance."""

    currency: str
    total: Decimal
    kwh: float
    by_period: tuple[PeriodCost, ...]


# --------------------------------------------------------------------------- helpers

_Seg = tuple[datetime, datetime, str, Decimal]  # (start, end, period, price), UTC


def _to_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _coerce_price(value: object, name: str) -> Decimal:
    """Turn a Decimal/int/float/str into a finite Decimal or raise ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"{name}: {value!r} is not a price (expected a number such as '0.30')")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, float)):
        result = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip()
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(
                f"{name}: {value!r} is not a price (expected a number such as '0.30')"
            ) from None
    else:
        raise ValueError(f"{name}: {value!r} is not a price (expected a number such as '0.30')")
    if not result.is_finite():
        raise ValueError(f"{name}: {value!r} is not a price (must be a finite number)")
    return result


def _check_currency(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        raise ValueError(
            f"{value!r} is not a currency code (use a 3-letter ISO 4217 code like 'USD')"
        )
    return value.strip().upper()


def _check_precision(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_PRECISION:
        raise ValueError(f"{value!r} is not a valid precision (whole number 0-{_MAX_PRECISION})")
    return value


def _check_period_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a period name (expected text such as 'on_peak')")
    return str(value.strip())


def _time_us(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def _fmt_us(us: int) -> str:
    """Format microseconds since midnight as HH:MM[:SS[.ffffff]] (24:00 allowed)."""
    seconds, micro = divmod(us, 1_000_000)
    minutes, sec = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    text = f"{hour:02d}:{minute:02d}"
    if sec or micro:
        text += f":{sec:02d}"
    if micro:
        text += f".{micro:06d}"
    return text


def _fmt_time(value: time, *, end: bool = False) -> str:
    us = _time_us(value)
    return _fmt_us(_DAY_US if end and us == 0 else us)


def _fmt_md(month_day: tuple[int, int]) -> str:
    return f"{month_day[0]:02d}-{month_day[1]:02d}"


def _fmt_price(value: Decimal) -> str:
    return format(value, "f")


def _md_valid(month_day: object) -> bool:
    if not (isinstance(month_day, tuple) and len(month_day) == 2):
        return False
    month, day = month_day
    if not isinstance(month, int) or not isinstance(day, int):
        return False
    try:
        date(_LEAP_YEAR, month, day)
    except ValueError:
        return False
    return True


def _merge(segs: Iterable[_Seg]) -> list[_Seg]:
    """Merge touching segments with the same period and price."""
    out: list[_Seg] = []
    for seg in segs:
        if seg[0] >= seg[1]:
            continue
        if out:
            last = out[-1]
            if last[1] == seg[0] and last[2] == seg[2] and last[3] == seg[3]:
                out[-1] = (last[0], seg[1], last[2], last[3])
                continue
        out.append(seg)
    return out


# --------------------------------------------------------------------------- base


class Tariff(ABC):
    """Abstract tariff: a price per kWh (and a period name) for every instant."""

    currency: str
    precision: int

    def __init__(self, currency: str, *, precision: int = DEFAULT_PRECISION) -> None:
        self.currency = _check_currency(currency)
        self.precision = _check_precision(precision)

    # -- to implement

    @abstractmethod
    def _segments_utc(self, start: datetime, end: datetime) -> list[_Seg]:
        """Contiguous segments covering exactly ``[start, end)`` (UTC, start < end).

        They may be unmerged; :meth:`segments` merges them.
        """

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form, the inverse of :func:`tariff_from_dict`."""

    # -- public API

    def segments(self, start: datetime, end: datetime) -> list[PriceSegment]:
        """Price segments covering ``[start, end)`` exactly, in UTC.

        Segments are contiguous, split at every price or period change (and nowhere
        else) and clipped to ``start``/``end``. An empty range gives ``[]``.
        """
        s = _to_utc(start, "start")
        e = _to_utc(end, "end")
        if e < s:
            raise ValueError(f"end ({e.isoformat()}) is before start ({s.isoformat()})")
        if e == s:
            return []
        return [
            PriceSegment(a, b, price, period)
            for a, b, period, price in _merge(self._segments_utc(s, e))
        ]

    def price_at(self, when: datetime) -> PriceSegment:
        """The segment containing ``when``.

        Its bounds are the nearest price/period changes, but at most 7 days away.
        """
        w = _to_utc(when, "when")
        seg: PriceSegment | None = None
        for reach in _PRICE_AT_WINDOWS:
            try:
                lo, hi = w - reach, w + reach
            except OverflowError:
                raise ValueError(f"{w.isoformat()} is out of the supported range") from None
            segs = self.segments(lo, hi)
            idx = bisect_right([x.start for x in segs], w) - 1
            seg = segs[idx]
            if seg.start != lo and seg.end != hi:
                break
        assert seg is not None
        return seg

    def cost(self, intervals: Iterable[tuple[datetime, datetime, float]]) -> CostBreakdown:
        """Cost of energy used over the given ``(start, end, kwh)`` intervals.

        Each interval's kWh is spread over its segments in proportion to time (a zero
        length interval is charged at the price at its start). Costs are accumulated
        unrounded and each period's cost is rounded (half even) to ``precision``
        decimals only at the end; ``total`` is the exact sum of those rounded costs.
        """
        order, kwh_total = self._accumulate(intervals)
        quantum = Decimal(1).scaleb(-self.precision)
        by_period: list[PeriodCost] = []
        total = Decimal(0).quantize(quantum)
        with localcontext() as ctx:
            ctx.prec = _DECIMAL_PREC
            for period, (parts, raw) in order.items():
                rounded = raw.quantize(quantum, rounding=ROUND_HALF_EVEN)
                if rounded.is_zero():
                    rounded = abs(rounded)  # no "-0.0000"
                by_period.append(PeriodCost(period, math.fsum(parts), rounded))
                total += rounded
        return CostBreakdown(self.currency, total, kwh_total, tuple(by_period))

    def unrounded_cost(
        self, intervals: Iterable[tuple[datetime, datetime, float]]
    ) -> CostBreakdown:
        """Like :meth:`cost` but without any rounding (60 significant digits)."""
        order, kwh_total = self._accumulate(intervals)
        by_period = tuple(PeriodCost(p, math.fsum(parts), raw) for p, (parts, raw) in order.items())
        with localcontext() as ctx:
            ctx.prec = _DECIMAL_PREC
            total = sum((x.cost for x in by_period), Decimal(0))
        return CostBreakdown(self.currency, total, kwh_total, by_period)

    # -- internals

    def _accumulate(
        self, intervals: Iterable[tuple[datetime, datetime, float]]
    ) -> tuple[dict[str, tuple[list[float], Decimal]], float]:
        checked: list[tuple[datetime, datetime, float]] = []
        for index, item in enumerate(intervals):
            try:
                start, end, kwh = item
            except _UNPACK_ERRORS:
                raise ValueError(
                    f"interval {index}: expected (start, end, kwh), got {item!r}"
                ) from None
            s = _to_utc(start, f"interval {index} start")
            e = _to_utc(end, f"interval {index} end")
            if e < s:
                raise ValueError(f"interval {index}: end is before start")
            if isinstance(kwh, bool) or not isinstance(kwh, (int, float)) or not math.isfinite(kwh):
                raise ValueError(f"interval {index}: kwh must be a finite number, got {kwh!r}")
            checked.append((s, e, float(kwh)))

        order: dict[str, tuple[list[float], Decimal]] = {}
        kwh_total = math.fsum(x[2] for x in checked)
        if not checked:
            return order, kwh_total

        lo = min(x[0] for x in checked)
        hi = max(x[1] for x in checked)
        shared: list[_Seg] | None = None
        shared_starts: list[datetime] = []
        if lo < hi and hi - lo <= _GLOBAL_SEGMENTS_MAX_SPAN:
            shared = _merge(self._segments_utc(lo, hi))
            shared_starts = [x[0] for x in shared]

        with localcontext() as ctx:
            ctx.prec = _DECIMAL_PREC
            for s, e, kwh in checked:
                if s == e:
                    point = self.price_at(s)
                    self._add(order, point.period, kwh, Decimal(kwh) * point.price)
                    continue
                if shared is not None:
                    idx = bisect_right(shared_starts, s) - 1
                    segs: Iterable[_Seg] = _iter_clipped(shared, idx, s, e)
                else:
                    segs = _merge(self._segments_utc(s, e))
                total_us = (e - s) // timedelta(microseconds=1)
                kd = Decimal(kwh)
                for a, b, period, price in segs:
                    us = (b - a) // timedelta(microseconds=1)
                    self._add(order, period, kwh * us / total_us, kd * price * us / total_us)
        return order, kwh_total

    @staticmethod
    def _add(
        order: dict[str, tuple[list[float], Decimal]], period: str, kwh: float, cost: Decimal
    ) -> None:
        entry = order.get(period)
        if entry is None:
            order[period] = ([kwh], cost)
        else:
            entry[0].append(kwh)
            order[period] = (entry[0], entry[1] + cost)

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True  # the same object: no need to serialise both (replan checks every tick)
        if not isinstance(other, Tariff) or type(other) is not type(self):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    @cached_property
    def fingerprint(self) -> str:
        """A digest of :meth:`to_dict`, computed once per tariff object (tariffs are not
        changed after construction): equal fingerprints, equal tariffs. For cheap change
        checks (the planner's replan decision) instead of ``==``, which serialises both."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_dict()!r})"


def _iter_clipped(segs: list[_Seg], idx: int, start: datetime, end: datetime) -> Iterable[_Seg]:
    n = len(segs)
    while idx < n:
        a, b, period, price = segs[idx]
        if a >= end:
            break
        yield (max(a, start), min(b, end), period, price)
        idx += 1


# --------------------------------------------------------------------------- flat


class FlatTariff(Tariff):
    """One price at all times (period ``flat``)."""

    def __init__(
        self, currency: str, price: Decimal, *, precision: int = DEFAULT_PRECISION
    ) -> None:
        super().__init__(currency, precision=precision)
        self.price = _coerce_price(price, "price")

    def _segments_utc(self, start: datetime, end: datetime) -> list[_Seg]:
        return [(start, end, PeriodName.FLAT.value, self.price)]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "flat",
            "currency": self.currency,
            "price": _fmt_price(self.price),
        }
        if self.precision != DEFAULT_PRECISION:
            data["precision"] = self.precision
        return data
