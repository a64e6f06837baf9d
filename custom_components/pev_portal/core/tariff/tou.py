"""Time-of-use tariffs: period rules, seasons and :class:`TouTariff`.

Part of :mod:`core.tariff` (see its docstring for the conventions).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .base import (
    _DAY_CACHE_MAX,
    _DAY_US,
    _LEAP_YEAR,
    _ONE_DAY,
    _ZONE_ERRORS,
    DEFAULT_PRECISION,
    DayType,
    PeriodName,
    Tariff,
    _check_period_name,
    _coerce_price,
    _fmt_md,
    _fmt_price,
    _fmt_time,
    _fmt_us,
    _md_valid,
    _Seg,
    _time_us,
)

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
