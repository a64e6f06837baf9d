"""Validation at the integration's edges: actions, websocket commands, HTTP parameters, stored
items read back. Nothing reaches the store, the planner or a header unless it passed here.

* Numbers are finite and in a sane range (:func:`finite`): NaN, infinities and 1e308 are
  refused, not stored (a NaN price once made the entry fail to load for good).
* Texts are bounded (:func:`bounded_text`); a name is at most :data:`MAX_NAME` characters.
* Local events lie in a window around now (:func:`check_event_window`); an export's range is
  any range the calendar can hold, its edges (year 1, 9999 with an offset) answered as invalid,
  not a crash (:func:`export_range`).
* A file name in ``Content-Disposition`` is sanitized (:func:`content_disposition`, RFC 6266
  and RFC 8187 ``filename*``).
* A stored local event with a value no validator would let in now is named by
  :func:`valid_local_event` (the reason), so loading skips it instead of failing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import quote

import probatio as vol
from homeassistant.util import dt as dt_util

MAX_NAME: Final = 100  # characters of a name (local event, vehicle label)
MAX_ID: Final = 200  # characters of an identifier (session, entry, device)
PRICE_RANGE: Final = (-10.0, 1000.0)  # per kWh, in the tariff's currency
LIMIT_KW_RANGE: Final = (0.0, 1000.0)
TARGET_KWH_RANGE: Final = (0.0, 1000.0)  # a target in kWh (a vehicle without a capacity)
TARGET_PERCENT_RANGE: Final = (0.0, 100.0)  # a target in % (a vehicle with a capacity)
EVENT_PAST: Final = timedelta(days=1)  # a local event may have started this long ago
EVENT_FUTURE: Final = timedelta(days=366)  # and may end at most this far ahead
LOCAL_EVENT_KINDS: Final = ("price", "load_control", "export_price", "export_limit")


def finite_number(value: object, low: float, high: float) -> float | None:
    """``value`` as a finite float in ``[low, high]``, or None (not a number, NaN, out of
    range). Booleans are not numbers."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except TypeError, ValueError, OverflowError:
        return None
    if not math.isfinite(number) or not low <= number <= high:
        return None
    return number


def finite(low: float, high: float) -> Callable[[Any], float]:
    """A schema validator: a finite number in ``[low, high]`` (NaN and infinities refused)."""

    def validate(value: Any) -> float:
        number = finite_number(value, low, high)
        if number is None:
            raise vol.Invalid(f"expected a finite number from {low:g} to {high:g}")
        return number

    return validate


def bounded_text(max_length: int = MAX_NAME) -> Callable[[Any], str]:
    """A schema validator: a string (numbers are turned into one) of at most ``max_length``
    characters, without control characters."""

    def validate(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise vol.Invalid("expected a text")
        text = str(value)
        if len(text) > max_length:
            raise vol.Invalid(f"at most {max_length} characters")
        if _CONTROL.search(text):
            raise vol.Invalid("control characters are not allowed")
        return text

    return validate


_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def aware(value: datetime) -> datetime:
    """A naive date and time read in Home Assistant's time zone."""
    return value if value.tzinfo else value.replace(tzinfo=dt_util.get_default_time_zone())


def to_utc(value: datetime) -> datetime | None:
    """``value`` (naive: local) in UTC, or None where the calendar ends (year 1 or 9999 with
    an offset would overflow)."""
    try:
        return dt_util.as_utc(aware(value))
    except OverflowError, ValueError:
        return None


def check_event_window(start: datetime, end: datetime, now: datetime) -> str | None:
    """Why a local event's start and end are not acceptable (None: they are).

    Both must convert to UTC, the end must be after the start, the start at most
    :data:`EVENT_PAST` ago and the end at most :data:`EVENT_FUTURE` ahead.
    """
    start_utc, end_utc = to_utc(start), to_utc(end)
    if start_utc is None or end_utc is None:
        return "outside the calendar"
    if end_utc <= start_utc:
        return "end before start"
    if start_utc < now - EVENT_PAST or end_utc > now + EVENT_FUTURE:
        return "outside the window"
    return None


def export_range(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """An export's range in UTC, or None when an edge is beyond the calendar."""
    start_utc, end_utc = to_utc(start), to_utc(end)
    if start_utc is None or end_utc is None:
        return None
    return start_utc, end_utc


def valid_local_event(row: Mapping[str, Any]) -> str | None:
    """Why a stored local event cannot be used (None: it can).

    The coordinator skips such an event when it loads them (the row stays in the store for
    inspection) and names it in a repair issue; setup never fails because of one.
    """
    if unreadable := row.get("unreadable"):
        return f"unreadable ({str(unreadable)[:60]})"
    if row.get("kind") not in LOCAL_EVENT_KINDS:
        return f"unknown kind {str(row.get('kind'))[:40]!r}"
    start, end = row.get("start"), row.get("end")
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return "start or end is not a date and time"
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        return "end before start"
    price, limit = row.get("price"), row.get("limit_kw")
    if row["kind"] in ("price", "export_price") and finite_number(price, *PRICE_RANGE) is None:
        return f"price {str(price)[:40]!r} is not a finite price"
    if (
        row["kind"] in ("load_control", "export_limit")
        and finite_number(limit, *LIMIT_KW_RANGE) is None
    ):
        return f"limit {str(limit)[:40]!r} is not a finite power"
    if price is not None and finite_number(price, *PRICE_RANGE) is None:
        return f"price {str(price)[:40]!r} is not a finite price"
    if limit is not None and finite_number(limit, *LIMIT_KW_RANGE) is None:
        return f"limit {str(limit)[:40]!r} is not a finite power"
    name = row.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
        return "name too long"
    return None


def check_target(target: float, capacity_kwh: float | None) -> str | None:
    """Why a charging target is out of range (a % with a capacity, else kWh), or None."""
    low, high = TARGET_PERCENT_RANGE if capacity_kwh else TARGET_KWH_RANGE
    if finite_number(target, low, high) is None:
        unit = "%" if capacity_kwh else "kWh"
        return f"the target must be from {low:g} to {high:g} {unit}"
    return None


_UNSAFE_FILENAME: Final = re.compile(r"[^A-Za-z0-9._-]")


def safe_filename(name: str, max_length: int = 120) -> str:
    """A file name of letters, digits, ``.``, ``_`` and ``-`` only (others become ``_``)."""
    cleaned = _UNSAFE_FILENAME.sub("_", name)[:max_length].lstrip(".")
    return cleaned or "export"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII-safe ``filename`` and the exact name as ``filename*``
    (RFC 6266, RFC 8187); nothing from the name can end the header or the parameter."""
    fallback = safe_filename(filename)
    exact = quote(filename[:200], safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"
