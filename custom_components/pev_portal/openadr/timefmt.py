"""Time as OpenADR writes it: RFC 3339 timestamps and ISO 8601 durations, parsed tolerantly."""

from __future__ import annotations

import logging
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Final

__all__ = [
    "BEGINNING_OF_TIME",
    "END_OF_TIME",
    "INFINITE",
    "add_duration",
    "format_datetime",
    "format_duration",
    "is_infinite",
    "is_now_start",
    "parse_datetime",
    "parse_duration",
]

_LOGGER = logging.getLogger(__name__)

INFINITE: Final = timedelta.max
"""Sentinel for an infinite duration (``P9999Y`` or anything at least 9999 years long)."""

BEGINNING_OF_TIME: Final = datetime(1, 1, 1, tzinfo=UTC)
"""``0001-01-01``: as an ``intervalPeriod.start`` it means 'now' (User Guide, 'do it now')."""

END_OF_TIME: Final = datetime(9999, 12, 31, tzinfo=UTC)
"""Where an infinite duration ends (:func:`add_duration` clamps to it)."""

_INFINITE_YEARS: Final = 9999
_DAYS_PER_YEAR: Final = 365
_DAYS_PER_MONTH: Final = 30

_DURATION_RE: Final = re.compile(
    r"^(?P<sign>[-+]?)P"
    r"(?:(?P<y>\d+(?:[.,]\d+)?)Y)?"
    r"(?:(?P<mo>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<w>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<d>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:[.,]\d+)?)H)?(?:(?P<mi>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?$"
)
_BARE_SECONDS_RE: Final = re.compile(r"^(?P<sign>[-+]?)P(?P<s>\d+(?:[.,]\d+)?)S$")  # "P0S"
_FRACTION_RE: Final = re.compile(r"(\.\d{6})\d+")


# --------------------------------------------------------------------------- time


def parse_datetime(value: str) -> datetime:
    """Parse an RFC 3339 timestamp tolerantly; always returns an aware UTC datetime.

    Accepted beyond RFC 3339: no zone (read as UTC), a space (or lower-case ``t``) instead of
    ``T``, a lower-case ``z``, a bare date (midnight UTC) and more than 6 fractional digits
    (truncated). Anything else raises :class:`ValueError`.
    """
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a timestamp (expected RFC 3339 text)")
    text = value.strip()
    if not text or len(text) > 64:
        raise ValueError(f"{value!r} is not a timestamp (expected RFC 3339 text)")
    if len(text) > 10 and text[10] in " t":
        text = text[:10] + "T" + text[11:]
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    text = _FRACTION_RE.sub(r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value!r} is out of the supported range") from None


def format_datetime(value: datetime) -> str:
    """RFC 3339 UTC with a ``Z`` and whole seconds (NF.1: UTC at 1 second resolution)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()}")
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_duration(value: str) -> timedelta:
    """Parse an ISO 8601 duration as OpenADR uses it (``PT15M``, ``P1D``, ``PT0S``, ``P9999Y``).

    A year counts 365 days and a month 30 days (the User Guide advises against both). ``P0S``
    (seconds without ``T``, used by the User Guide) is accepted. A duration of 9999 years or
    more, or one too large for :class:`~datetime.timedelta`, is infinite and returns the
    sentinel :data:`INFINITE` (``timedelta.max``); test with :func:`is_infinite` and add it
    with :func:`add_duration`. Negative durations (``-PT5M``) are allowed. Anything else raises
    :class:`ValueError`.
    """
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ISO 8601 duration")
    text = value.strip().upper()
    match = _DURATION_RE.match(text) or _BARE_SECONDS_RE.match(text)
    if match is None or text.endswith("T") or text in {"P", "-P", "+P"}:
        raise ValueError(f"{value!r} is not an ISO 8601 duration (e.g. PT15M)")
    parts = match.groupdict()
    if not any(parts.get(k) for k in ("y", "mo", "w", "d", "h", "mi", "s")):
        raise ValueError(f"{value!r} is not an ISO 8601 duration (e.g. PT15M)")

    def num(key: str) -> float:
        raw = parts.get(key)
        return float(raw.replace(",", ".")) if raw else 0.0

    years = num("y")
    if years >= _INFINITE_YEARS:
        return INFINITE
    days = years * _DAYS_PER_YEAR + num("mo") * _DAYS_PER_MONTH + num("w") * 7 + num("d")
    seconds = num("h") * 3600 + num("mi") * 60 + num("s")
    try:
        result = timedelta(days=days, seconds=seconds)
    except OverflowError:
        return INFINITE
    if not math.isfinite(days + seconds):
        return INFINITE
    return -result if parts.get("sign") == "-" else result


def format_duration(value: timedelta) -> str:
    """ISO 8601 duration of whole seconds (``PT15M``); :data:`INFINITE` is ``P9999Y``."""
    if is_infinite(value):
        return "P9999Y"
    total = int(value.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = f"{sign}P"
    if days:
        out += f"{days}D"
    if hours or minutes or seconds or not days:
        out += "T"
        if hours:
            out += f"{hours}H"
        if minutes:
            out += f"{minutes}M"
        if seconds or not (hours or minutes):
            out += f"{seconds}S"
    return out


def is_infinite(value: timedelta | None) -> bool:
    """Whether a duration is the infinite sentinel (or at least 9999 years)."""
    return value is not None and value >= timedelta(days=_INFINITE_YEARS * _DAYS_PER_YEAR)


def is_now_start(value: datetime | None) -> bool:
    """Whether an ``intervalPeriod.start`` is the 'beginning of time' (means 'now')."""
    return value is not None and value.year == 1


def add_duration(start: datetime, duration: timedelta) -> datetime:
    """``start + duration`` clamped to [:data:`BEGINNING_OF_TIME`, :data:`END_OF_TIME`]."""
    if is_infinite(duration):
        return END_OF_TIME
    try:
        result = start + duration
    except OverflowError:
        return END_OF_TIME if duration > timedelta(0) else BEGINNING_OF_TIME
    return min(result, END_OF_TIME)
