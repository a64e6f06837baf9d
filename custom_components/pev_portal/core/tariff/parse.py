"""The dict form of a tariff: :func:`tariff_from_dict` and the UI's example.

Part of :mod:`core.tariff` (see its docstring for the conventions).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from .base import (
    _ZONE_ERRORS,
    DEFAULT_PRECISION,
    DayType,
    FlatTariff,
    PeriodName,
    Tariff,
    TariffError,
    _check_currency,
    _check_period_name,
    _check_precision,
    _coerce_price,
    _md_valid,
)
from .tou import (
    PeriodRule,
    Season,
    TouTariff,
)
from .windowed import (
    CppEvent,
    OverlayTariff,
    RtpTariff,
)

# --------------------------------------------------------------------------- parsing

_TIME_RE: Final = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?")
_MD_RE: Final = re.compile(r"(\d{1,2})-(\d{1,2})")
_TYPES: Final = ("flat", "tou", "rtp")

MAX_DEPTH: Final = 20
"""How deeply a tariff document may nest (an RTP fallback of an RTP fallback ... counts)."""
MAX_DOCUMENT_BYTES: Final = 1024 * 1024
"""How large a tariff document may be, as JSON (a year of hourly RTP prices fits)."""
MAX_RTP_POINTS: Final = 10_000
"""How many price points one RTP tariff may list."""
_MAX_NODES: Final = 200_000  # values walked before the size check (a bound on the walk)


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
    items = _list(data["points"], points_path)
    if len(items) > MAX_RTP_POINTS:
        raise _fail(points_path, f"more than {MAX_RTP_POINTS} price points")
    for index, item in enumerate(items):
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
    _check_bounds(data)
    return _parse_tariff(data, "")


def _check_bounds(data: object) -> None:
    """Refuse a document nested deeper than :data:`MAX_DEPTH` or larger than
    :data:`MAX_DOCUMENT_BYTES`, before anything recursive (parsing, JSON, Home Assistant's
    storage of the entry) sees it. Iterative, so any depth is refused cleanly."""
    stack: list[tuple[object, int]] = [(data, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            raise TariffError(f"the tariff is nested deeper than {MAX_DEPTH} levels")
        if nodes > _MAX_NODES:
            raise TariffError(f"the tariff is larger than {MAX_DOCUMENT_BYTES // 1024} KiB")
        if isinstance(value, Mapping):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend((item, depth + 1) for item in value)
    try:
        size = len(json.dumps(data, default=str).encode())
    except (TypeError, ValueError) as err:
        raise TariffError(f"the tariff is not a JSON document ({err})") from None
    if size > MAX_DOCUMENT_BYTES:
        raise TariffError(f"the tariff is larger than {MAX_DOCUMENT_BYTES // 1024} KiB")


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
