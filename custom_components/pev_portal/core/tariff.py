"""Electricity tariffs: flat, time-of-use, real-time pricing and critical-peak overlays.

Pure Python (standard library only), no Home Assistant imports.

Conventions
-----------
* Money is :class:`decimal.Decimal` in the tariff's currency (ISO 4217 code), prices
  are per kWh. Energy is ``float`` kWh.
* Every public method takes timezone-aware datetimes (naive ones raise
  ``ValueError``); everything returned is in UTC.
* Time-of-use rules are written in the tariff's local wall-clock time and converted
  to UTC instants at the edges.

DST handling of :class:`TouTariff` (the choices made)
-----------------------------------------------------
* A rule boundary is the UTC instant at which the local wall clock shows that time.
* Spring forward (gap): a boundary whose wall time does not exist that day (e.g.
  02:30 in New York on the spring-forward Sunday) takes effect at the instant of the
  clock jump. A period lying entirely inside the gap therefore disappears that day.
* Fall back (fold): a boundary whose wall time happens twice takes effect at its
  *first* occurrence. The time between two consecutive boundaries belongs to the
  earlier boundary's period, so the repeated hour is charged at whatever period was
  in force when it began and that period is one hour longer that day.

Day types and wrapping
----------------------
* Each local calendar day has exactly one day type: ``holiday`` if listed in the
  holidays, else ``weekend`` on Saturday/Sunday, else ``weekday``.
* A rule with ``start > end`` (e.g. 21:00-07:00) is read per calendar day: it covers
  ``[start, 24:00)`` and ``[00:00, end)`` of every day of its day types. Likewise a
  season only decides which rules apply to a given local calendar day.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from functools import cached_property
from itertools import pairwise
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_PRECISION",
    "CostBreakdown",
    "CppEvent",
    "DayType",
    "FlatTariff",
    "OverlayTariff",
    "PeriodCost",
    "PeriodName",
    "PeriodRule",
    "PriceSegment",
    "RtpTariff",
    "Season",
    "Tariff",
    "TariffError",
    "TouTariff",
    "default_tou_example",
    "tariff_from_dict",
]

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


# --------------------------------------------------------------------------- TOU


@dataclass(frozen=True, slots=True)
class PeriodRule:
    """A TOU period on some day types between two local wall-clock times.

    ``end == time(0)`` means midnight at the end of the day; ``start > end`` wraps past
    midnight (covering ``[start, 24:00)`` and ``[00:00, end)`` of each such day).
    ``start == end == time(0)`` is the whole day.
    """

    period: str
    day_types: frozenset[DayType]
    start: time
    end: time
    price: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "period", _check_period_name(self.period))
        given: object = self.day_types
        raw_days: Iterable[object] = [given] if isinstance(given, str) else self.day_types
        days: set[DayType] = set()
        for day in raw_days:
            try:
                days.add(DayType(str(day)))
            except ValueError:
                raise ValueError(
                    f"{day!r} is not a day type (use weekday, weekend or holiday)"
                ) from None
        if not days:
            raise ValueError(f"period '{self.period}' applies to no day type")
        object.__setattr__(self, "day_types", frozenset(days))
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"period '{self.period}': {name} must be a naive datetime.time")
        if self.start == self.end and self.start != time(0):
            raise ValueError(
                f"period '{self.period}': start and end are both {_fmt_time(self.start)}"
                " (use 00:00-24:00 for a whole day)"
            )
        object.__setattr__(
            self, "price", _coerce_price(self.price, f"period '{self.period}' price")
        )

    def label(self) -> str:
        """Human label such as ``'on_peak' 16:00-21:00``."""
        return f"'{self.period}' {_fmt_time(self.start)}-{_fmt_time(self.end, end=True)}"


@dataclass(frozen=True, slots=True)
class Season:
    """Rules in force from ``start`` to ``end`` (both ``(month, day)``, inclusive).

    ``end`` before ``start`` wraps the year end (e.g. Nov 1 - Apr 30).
    """

    name: str
    start: tuple[int, int]
    end: tuple[int, int]
    rules: tuple[PeriodRule, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"{self.name!r} is not a season name")
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, list):
                value = tuple(value)
                object.__setattr__(self, name, value)
            if not _md_valid(value):
                raise ValueError(
                    f"season '{self.name}': {name} {value!r} is not a (month, day) date"
                )
        object.__setattr__(self, "rules", tuple(self.rules))
        for rule in self.rules:
            if not isinstance(rule, PeriodRule):
                raise ValueError(f"season '{self.name}': {rule!r} is not a PeriodRule")

    def contains(self, month: int, day: int) -> bool:
        """Whether the season covers the given month/day of any year."""
        key = (month, day)
        if self.start <= self.end:
            return self.start <= key <= self.end
        return key >= self.start or key <= self.end


_Profile = tuple[tuple[int, str, Decimal], ...]  # (microseconds since midnight, period, price)


def _build_profile(
    season: Season, day_type: DayType, default_period: str, default_price: Decimal | None
) -> _Profile:
    pieces: list[tuple[int, int, PeriodRule]] = []
    for rule in season.rules:
        if day_type not in rule.day_types:
            continue
        s = _time_us(rule.start)
        e = _time_us(rule.end) or _DAY_US
        if s < e:
            pieces.append((s, e, rule))
        else:
            pieces.append((s, _DAY_US, rule))
            pieces.append((0, e, rule))
    pieces.sort(key=lambda x: (x[0], x[1]))

    raw: list[tuple[int, str, Decimal]] = []
    cursor = 0
    previous: tuple[int, int, PeriodRule] | None = None
    for s, e, rule in pieces:
        if s < cursor:
            assert previous is not None
            raise ValueError(
                f"season '{season.name}': periods {previous[2].label()} and {rule.label()}"
                f" overlap on {day_type.value}s {_fmt_us(s)}-{_fmt_us(min(cursor, e))}"
            )
        if s > cursor:
            if default_price is None:
                raise ValueError(
                    f"season '{season.name}': no period covers {day_type.value}s"
                    f" {_fmt_us(cursor)}-{_fmt_us(s)} (add a period or set a default price)"
                )
            raw.append((cursor, default_period, default_price))
        raw.append((s, rule.period, rule.price))
        cursor = e
        previous = (s, e, rule)
    if cursor < _DAY_US:
        if default_price is None:
            raise ValueError(
                f"season '{season.name}': no period covers {day_type.value}s"
                f" {_fmt_us(cursor)}-24:00 (add a period or set a default price)"
            )
        raw.append((cursor, default_period, default_price))

    merged: list[tuple[int, str, Decimal]] = []
    for item in raw:
        if merged and merged[-1][1] == item[1] and merged[-1][2] == item[2]:
            continue
        merged.append(item)
    return tuple(merged)


def _wall_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """UTC instant of a naive local wall time (see module docstring for DST rules)."""
    aware = wall.replace(tzinfo=tz)  # fold=0: first occurrence of an ambiguous time
    utc = aware.astimezone(UTC)
    back = utc.astimezone(tz)
    if back.replace(tzinfo=None) == wall:
        return utc
    # Inside a gap: fold=0 used the offset before the jump, landing after the jump.
    before = aware.utcoffset()
    after = back.utcoffset()
    assert before is not None
    assert after is not None
    jump = after - before
    if jump <= timedelta(0):  # pragma: no cover - not a gap, be defensive
        return utc
    lo = math.floor((utc - jump).timestamp())  # still before the transition
    hi = math.ceil(utc.timestamp())  # already after it
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


class TouTariff(Tariff):
    """Time-of-use tariff defined by seasons of wall-clock period rules."""

    def __init__(
        self,
        currency: str,
        tz: ZoneInfo | str,
        seasons: Sequence[Season],
        holidays: frozenset[date] = frozenset(),
        default_period: str = PeriodName.OFF_PEAK.value,
        default_price: Decimal | None = None,
        *,
        precision: int = DEFAULT_PRECISION,
    ) -> None:
        super().__init__(currency, precision=precision)
        if isinstance(tz, str):
            try:
                tz = ZoneInfo(tz)
            except _ZONE_ERRORS:
                raise ValueError(
                    f"{tz!r} is not a known time zone (e.g. 'America/New_York')"
                ) from None
        if not isinstance(tz, ZoneInfo):
            raise ValueError(f"{tz!r} is not a zoneinfo.ZoneInfo time zone")
        self.tz: ZoneInfo = tz
        self.seasons: tuple[Season, ...] = tuple(seasons)
        days: set[date] = set()
        for day in holidays:
            if not isinstance(day, date):
                raise ValueError(f"holiday {day!r} is not a date")
            days.add(day.date() if isinstance(day, datetime) else day)
        self.holidays: frozenset[date] = frozenset(days)
        self.default_period: str = _check_period_name(default_period)
        self.default_price: Decimal | None = (
            None if default_price is None else _coerce_price(default_price, "default price")
        )

        if not self.seasons:
            raise ValueError("no seasons defined (add at least one season, e.g. 01-01 to 12-31)")
        names: set[str] = set()
        for season in self.seasons:
            if not isinstance(season, Season):
                raise ValueError(f"{season!r} is not a Season")
            if season.name in names:
                raise ValueError(f"two seasons are named '{season.name}'")
            names.add(season.name)

        self._season_index: dict[tuple[int, int], int] = {}
        day = date(_LEAP_YEAR, 1, 1)
        while day.year == _LEAP_YEAR:
            covering = [i for i, s in enumerate(self.seasons) if s.contains(day.month, day.day)]
            key = (day.month, day.day)
            if not covering:
                raise ValueError(f"no season covers {_fmt_md(key)}")
            if len(covering) > 1:
                first, second = (self.seasons[i].name for i in covering[:2])
                raise ValueError(f"seasons '{first}' and '{second}' overlap on {_fmt_md(key)}")
            self._season_index[key] = covering[0]
            day += _ONE_DAY

        self._profiles: tuple[dict[DayType, _Profile], ...] = tuple(
            {dt: _build_profile(s, dt, self.default_period, self.default_price) for dt in DayType}
            for s in self.seasons
        )
        self._day_cache: dict[date, tuple[tuple[datetime, str, Decimal], ...]] = {}

    # -- calendar

    def day_type(self, day: date) -> DayType:
        """Day type of a local calendar day."""
        if day in self.holidays:
            return DayType.HOLIDAY
        return DayType.WEEKEND if day.weekday() >= 5 else DayType.WEEKDAY

    def season_for(self, day: date) -> Season:
        """Season in force on a local calendar day."""
        return self.seasons[self._season_index[(day.month, day.day)]]

    def _day_points(self, day: date) -> tuple[tuple[datetime, str, Decimal], ...]:
        points = self._day_cache.get(day)
        if points is None:
            profile = self._profiles[self._season_index[(day.month, day.day)]][self.day_type(day)]
            midnight = datetime(day.year, day.month, day.day)
            points = tuple(
                (_wall_to_utc(midnight + timedelta(microseconds=us), self.tz), period, price)
                for us, period, price in profile
            )
            if len(self._day_cache) >= _DAY_CACHE_MAX:
                self._day_cache.clear()
            self._day_cache[day] = points
        return points

    def _segments_utc(self, start: datetime, end: datetime) -> list[_Seg]:
        tz = self.tz
        day = start.astimezone(tz).date() - _ONE_DAY
        last = end.astimezone(tz).date() + _ONE_DAY
        points: list[tuple[datetime, str, Decimal]] = []
        while day <= last:
            points.extend(self._day_points(day))
            day += _ONE_DAY
        out: list[_Seg] = []
        for i in range(len(points) - 1):
            t0, period, price = points[i]
            t1 = points[i + 1][0]
            if t1 <= start:
                continue
            if t0 >= end:
                break
            a = t0 if t0 > start else start
            b = t1 if t1 < end else end
            if a < b:
                out.append((a, b, period, price))
        return out

    def to_dict(self) -> dict[str, Any]:
        key = self.tz.key
        if not key:
            raise ValueError("this time zone has no IANA name and cannot be saved")
        data: dict[str, Any] = {
            "type": "tou",
            "currency": self.currency,
            "timezone": key,
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "default_period": self.default_period,
        }
        if self.default_price is not None:
            data["default_price"] = _fmt_price(self.default_price)
        data["seasons"] = [
            {
                "name": season.name,
                "start": _fmt_md(season.start),
                "end": _fmt_md(season.end),
                "periods": [
                    {
                        "period": rule.period,
                        "days": [dt.value for dt in DayType if dt in rule.day_types],
                        "start": _fmt_time(rule.start),
                        "end": _fmt_time(rule.end, end=True),
                        "price": _fmt_price(rule.price),
                    }
                    for rule in season.rules
                ],
            }
            for season in self.seasons
        ]
        if self.precision != DEFAULT_PRECISION:
            data["precision"] = self.precision
        return data


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


# --------------------------------------------------------------------------- parsing

_TIME_RE: Final = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?")
_MD_RE: Final = re.compile(r"(\d{1,2})-(\d{1,2})")
_TYPES: Final = ("flat", "tou", "rtp")


def _fail(path: str, message: str) -> TariffError:
    return TariffError(f"{path}: {message}" if path else message, path)


def _join(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _mapping(value: object, path: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(path, f"expected {what} (a set of key: value fields), got {_describe(value)}")
    return value


def _describe(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    if value is None:
        return "nothing"
    return f"{value!r}"


def _check_keys(
    data: Mapping[str, Any], path: str, required: Sequence[str], optional: Sequence[str]
) -> None:
    allowed = (*required, *optional)
    for key in data:
        if key not in allowed:
            raise _fail(
                _join(path, str(key)), f"unknown field (expected one of: {', '.join(allowed)})"
            )
    for key in required:
        if key not in data or data[key] is None:
            raise _fail(_join(path, key), "this field is required")


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise _fail(path, f"expected a list, got {_describe(value)}")
    return list(value)


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"expected a non-empty text, got {_describe(value)}")
    return value.strip()


def _price(value: object, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise _fail(path, f"{_describe(value)} is not a price (expected a number such as '0.30')")
    try:
        return _coerce_price(value, "x")
    except ValueError:
        if isinstance(value, float) or (isinstance(value, Decimal) and not value.is_finite()):
            raise _fail(path, f"{value!r} is not a price (must be a finite number)") from None
        text = str(value).strip().lower()
        if text in {"nan", "inf", "+inf", "-inf", "infinity", "-infinity", "+infinity", "snan"}:
            raise _fail(path, f"{value!r} is not a price (must be a finite number)") from None
        raise _fail(path, f"{value!r} is not a price (expected a number such as '0.30')") from None


def _currency(value: object, path: str) -> str:
    try:
        return _check_currency(value)
    except ValueError as err:
        raise _fail(path, str(err)) from None


def _precision(value: object, path: str) -> int:
    try:
        return _check_precision(value)
    except ValueError as err:
        raise _fail(path, str(err)) from None


def _time(value: object, path: str, *, is_end: bool) -> time:
    """Parse 'HH:MM[:SS[.ffffff]]' (also a time, or YAML 1.1's base-60 ints like 16:00 -> 960)."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise _fail(path, f"{value!r} must not carry a time zone")
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 60 <= value <= 1440:
        # Unquoted 16:00 in YAML 1.1 (PyYAML, Home Assistant) arrives as 16*60 = 960.
        hour, minute = divmod(value, 60)
        value = f"{hour:02d}:{minute:02d}"
    if not isinstance(value, str):
        raise _fail(path, f"{_describe(value)} is not a time (HH:MM)")
    match = _TIME_RE.fullmatch(value.strip())
    if match is None:
        raise _fail(path, f"{value!r} is not a time (HH:MM)")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    micro = int((match[4] or "0").ljust(6, "0"))
    if hour == 24 and minute == 0 and second == 0 and micro == 0:
        if not is_end:
            raise _fail(path, "24:00 can only be an end time (use 00:00 to start at midnight)")
        return time(0)
    if hour > 23 or minute > 59 or second > 59:
        raise _fail(path, f"{value!r} is not a time (HH:MM)")
    return time(hour, minute, second, micro)


def _month_day(value: object, path: str) -> tuple[int, int]:
    if isinstance(value, str):
        match = _MD_RE.fullmatch(value.strip())
        if match is not None:
            md = (int(match[1]), int(match[2]))
            if _md_valid(md):
                return md
    raise _fail(path, f"{_describe(value)} is not a month-day date (MM-DD, e.g. '06-01')")


def _date(value: object, path: str) -> date:
    if isinstance(value, datetime):
        raise _fail(path, f"{value!r} is a date and time; give only the date (YYYY-MM-DD)")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _fail(path, f"{_describe(value)} is not a date (YYYY-MM-DD)")


def _datetime(value: object, path: str) -> datetime:
    result: datetime | None = None
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value.strip())
        except ValueError:
            result = None
    if result is None:
        raise _fail(
            path, f"{_describe(value)} is not a date and time (e.g. '2026-07-01T17:00:00-07:00')"
        )
    if result.tzinfo is None or result.utcoffset() is None:
        raise _fail(
            path,
            f"{_describe(value)} has no time zone (add an offset such as -07:00, or Z for UTC)",
        )
    return result.astimezone(UTC)


def _days(value: object, path: str) -> frozenset[DayType]:
    items: list[Any] = [value] if isinstance(value, str) else _list(value, path)
    days: set[DayType] = set()
    for index, item in enumerate(items):
        if item == "all":
            days.update(DayType)
            continue
        try:
            days.add(DayType(item))
        except ValueError:
            where = path if isinstance(value, str) else _join(path, index)
            raise _fail(
                where, f"{_describe(item)} is not a day type (use weekday, weekend, holiday or all)"
            ) from None
    if not days:
        raise _fail(path, "list at least one day type (weekday, weekend, holiday)")
    return frozenset(days)


def _period_name(value: object, path: str) -> str:
    try:
        return _check_period_name(value)
    except ValueError as err:
        raise _fail(path, str(err)) from None


def _parse_rule(data: object, path: str) -> PeriodRule:
    fields = _mapping(data, path, "a period")
    _check_keys(fields, path, ("period", "days", "start", "end", "price"), ())
    period = _period_name(fields["period"], _join(path, "period"))
    days = _days(fields["days"], _join(path, "days"))
    start = _time(fields["start"], _join(path, "start"), is_end=False)
    end = _time(fields["end"], _join(path, "end"), is_end=True)
    price = _price(fields["price"], _join(path, "price"))
    try:
        return PeriodRule(period, days, start, end, price)
    except ValueError as err:
        raise _fail(path, str(err)) from None


def _parse_season(data: object, path: str) -> Season:
    fields = _mapping(data, path, "a season")
    _check_keys(fields, path, ("name", "start", "end", "periods"), ())
    name = _text(fields["name"], _join(path, "name"))
    start = _month_day(fields["start"], _join(path, "start"))
    end = _month_day(fields["end"], _join(path, "end"))
    periods_path = _join(path, "periods")
    rules = tuple(
        _parse_rule(item, _join(periods_path, i))
        for i, item in enumerate(_list(fields["periods"], periods_path))
    )
    return Season(name, start, end, rules)


def _parse_tou(data: Mapping[str, Any], path: str, precision: int) -> TouTariff:
    currency = _currency(data["currency"], _join(path, "currency"))
    tz_name = _text(data["timezone"], _join(path, "timezone"))
    try:
        tz = ZoneInfo(tz_name)
    except _ZONE_ERRORS:
        raise _fail(
            _join(path, "timezone"),
            f"{tz_name!r} is not a known time zone (e.g. 'America/New_York')",
        ) from None
    holidays_path = _join(path, "holidays")
    holidays = frozenset(
        _date(item, _join(holidays_path, i))
        for i, item in enumerate(_list(data.get("holidays") or [], holidays_path))
    )
    default_period = PeriodName.OFF_PEAK.value
    if data.get("default_period") is not None:
        default_period = _period_name(data["default_period"], _join(path, "default_period"))
    default_price = None
    if data.get("default_price") is not None:
        default_price = _price(data["default_price"], _join(path, "default_price"))
    seasons_path = _join(path, "seasons")
    seasons_raw = _list(data["seasons"], seasons_path)
    if not seasons_raw:
        raise _fail(seasons_path, "add at least one season (e.g. 01-01 to 12-31)")
    seasons = [_parse_season(item, _join(seasons_path, i)) for i, item in enumerate(seasons_raw)]
    try:
        return TouTariff(
            currency, tz, seasons, holidays, default_period, default_price, precision=precision
        )
    except ValueError as err:
        raise _fail(seasons_path, str(err)) from None


def _parse_rtp(data: Mapping[str, Any], path: str, precision: int) -> RtpTariff:
    currency = _currency(data["currency"], _join(path, "currency"))
    points_path = _join(path, "points")
    points: list[tuple[datetime, datetime, Decimal]] = []
    for index, item in enumerate(_list(data["points"], points_path)):
        item_path = _join(points_path, index)
        fields = _mapping(item, item_path, "a price point")
        _check_keys(fields, item_path, ("start", "end", "price"), ())
        start = _datetime(fields["start"], _join(item_path, "start"))
        end = _datetime(fields["end"], _join(item_path, "end"))
        if end <= start:
            raise _fail(_join(item_path, "end"), "must be after start")
        points.append((start, end, _price(fields["price"], _join(item_path, "price"))))
    fallback_path = _join(path, "fallback")
    fallback = _parse_tariff(data["fallback"], fallback_path)
    if fallback.currency != currency:
        raise _fail(
            _join(fallback_path, "currency"),
            f"{fallback.currency} differs from the tariff currency {currency}",
        )
    try:
        return RtpTariff(currency, points, fallback, precision=precision)
    except ValueError as err:
        raise _fail(points_path, str(err)) from None


def _parse_cpp(value: object, path: str) -> list[CppEvent]:
    events: list[CppEvent] = []
    for index, item in enumerate(_list(value, path)):
        item_path = _join(path, index)
        fields = _mapping(item, item_path, "an event")
        _check_keys(fields, item_path, ("start", "end", "price"), ("name",))
        start = _datetime(fields["start"], _join(item_path, "start"))
        end = _datetime(fields["end"], _join(item_path, "end"))
        if end <= start:
            raise _fail(_join(item_path, "end"), "must be after start")
        price = _price(fields["price"], _join(item_path, "price"))
        name = PeriodName.CRITICAL_PEAK.value
        if fields.get("name") is not None:
            name = _period_name(fields["name"], _join(item_path, "name"))
        events.append(CppEvent(start, end, price, name))
    return events


_FIELDS: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "flat": (("type", "currency", "price"), ()),
    "tou": (
        ("type", "currency", "timezone", "seasons"),
        ("holidays", "default_period", "default_price"),
    ),
    "rtp": (("type", "currency", "points", "fallback"), ()),
}


def _parse_tariff(value: object, path: str) -> Tariff:
    data = _mapping(value, path, "a tariff")
    kind = data.get("type")
    if kind is None:
        raise _fail(_join(path, "type"), "this field is required (flat, tou or rtp)")
    if kind not in _TYPES:
        raise _fail(
            _join(path, "type"), f"{_describe(kind)} is not a tariff type (use flat, tou or rtp)"
        )
    required, optional = _FIELDS[kind]
    _check_keys(data, path, required, (*optional, "cpp", "precision"))
    precision = DEFAULT_PRECISION
    if data.get("precision") is not None:
        precision = _precision(data["precision"], _join(path, "precision"))

    tariff: Tariff
    if kind == "flat":
        tariff = FlatTariff(
            _currency(data["currency"], _join(path, "currency")),
            _price(data["price"], _join(path, "price")),
            precision=precision,
        )
    elif kind == "tou":
        tariff = _parse_tou(data, path, precision)
    else:
        tariff = _parse_rtp(data, path, precision)

    if data.get("cpp") is not None:
        events = _parse_cpp(data["cpp"], _join(path, "cpp"))
        if events:
            tariff = OverlayTariff(tariff, events)
    return tariff


def tariff_from_dict(data: Mapping[str, Any]) -> Tariff:
    """Build a tariff from its dict form (the inverse of :meth:`Tariff.to_dict`).

    Raises :class:`TariffError` with a message naming the field, such as
    ``seasons[0].periods[1].start: '25:00' is not a time (HH:MM)``.
    """
    return _parse_tariff(data, "")


def default_tou_example() -> dict[str, Any]:
    """A realistic residential EV time-of-use tariff, used as a template in the UI.

    Loosely modeled on California residential EV TOU rates (peak 4-9 pm, summer
    June-September). Prices are illustrative; replace them with your utility's.
    """
    every_day = ["weekday", "weekend", "holiday"]
    return {
        "type": "tou",
        "currency": "USD",
        "timezone": "America/Los_Angeles",
        "holidays": [],
        "default_period": "off_peak",
        "seasons": [
            {
                "name": "summer",
                "start": "06-01",
                "end": "09-30",
                "periods": [
                    {
                        "period": "off_peak",
                        "days": ["weekday"],
                        "start": "00:00",
                        "end": "15:00",
                        "price": "0.31",
                    },
                    {
                        "period": "mid_peak",
                        "days": ["weekday"],
                        "start": "15:00",
                        "end": "16:00",
                        "price": "0.51",
                    },
                    {
                        "period": "on_peak",
                        "days": ["weekday"],
                        "start": "16:00",
                        "end": "21:00",
                        "price": "0.62",
                    },
                    {
                        "period": "off_peak",
                        "days": ["weekday"],
                        "start": "21:00",
                        "end": "24:00",
                        "price": "0.31",
                    },
                    {
                        "period": "off_peak",
                        "days": ["weekend", "holiday"],
                        "start": "21:00",
                        "end": "16:00",
                        "price": "0.31",
                    },
                    {
                        "period": "mid_peak",
                        "days": ["weekend", "holiday"],
                        "start": "16:00",
                        "end": "21:00",
                        "price": "0.51",
                    },
                ],
            },
            {
                "name": "winter",
                "start": "10-01",
                "end": "05-31",
                "periods": [
                    {
                        "period": "off_peak",
                        "days": every_day,
                        "start": "21:00",
                        "end": "16:00",
                        "price": "0.30",
                    },
                    {
                        "period": "on_peak",
                        "days": ["weekday"],
                        "start": "16:00",
                        "end": "21:00",
                        "price": "0.48",
                    },
                    {
                        "period": "mid_peak",
                        "days": ["weekend", "holiday"],
                        "start": "16:00",
                        "end": "21:00",
                        "price": "0.45",
                    },
                ],
            },
        ],
    }
