"""The edge validators (custom_components/pev_portal/validation.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import probatio as vol
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.pev_portal.validation import (
    MAX_NAME,
    bounded_text,
    check_event_window,
    check_target,
    content_disposition,
    export_range,
    finite,
    finite_number,
    safe_filename,
    valid_local_event,
)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, -math.inf, "nan", "inf", "1e308", 1e308, -11, 1001, True, None]
)
def test_finite_refuses(value: Any) -> None:
    with pytest.raises(vol.Invalid):
        finite(-10, 1000)(value)


@pytest.mark.parametrize(("value", "expected"), [(0, 0.0), ("0.25", 0.25), (-10, -10.0)])
def test_finite_accepts(value: Any, expected: float) -> None:
    assert finite(-10, 1000)(value) == expected


@given(st.one_of(st.floats(), st.integers(), st.text(), st.none(), st.booleans()))
def test_finite_number_is_finite_and_in_range_or_none(value: Any) -> None:
    number = finite_number(value, -10, 1000)
    assert number is None or (math.isfinite(number) and -10 <= number <= 1000)


def test_bounded_text() -> None:
    assert bounded_text()("Grid peak") == "Grid peak"
    with pytest.raises(vol.Invalid):
        bounded_text()("x" * (MAX_NAME + 1))
    with pytest.raises(vol.Invalid):
        bounded_text()("a\x00b")
    with pytest.raises(vol.Invalid):
        bounded_text()(["list"])


def test_event_window() -> None:
    hour = timedelta(hours=1)
    assert check_event_window(NOW, NOW + hour, NOW) is None
    assert check_event_window(NOW + hour, NOW, NOW) == "end before start"
    assert check_event_window(NOW - timedelta(days=2), NOW, NOW) == "outside the window"
    assert check_event_window(NOW, datetime(9999, 12, 31, tzinfo=UTC), NOW) == "outside the window"
    late = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5)))
    assert check_event_window(NOW, late, NOW) == "outside the calendar"


def test_export_range_at_the_calendars_edges() -> None:
    early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    late = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5)))
    assert export_range(early, NOW) is None
    assert export_range(NOW, late) is None
    assert export_range(NOW, NOW + timedelta(days=1)) == (NOW, NOW + timedelta(days=1))


def test_target_range_depends_on_the_capacity() -> None:
    assert check_target(80, 60) is None
    assert check_target(120, 60) is not None  # % with a capacity
    assert check_target(120, None) is None  # kWh without
    assert check_target(math.inf, None) is not None


def _event(**changes: Any) -> dict[str, Any]:
    return {
        "event_id": "e1",
        "kind": "price",
        "start": NOW,
        "end": NOW + timedelta(hours=1),
        "name": "x",
        "price": 0.5,
        "limit_kw": None,
        **changes,
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"price": math.nan},
        {"price": math.inf},
        {"price": 1e308},
        {"price": None},
        {"kind": "load_control", "limit_kw": math.inf},
        {"kind": "load_control", "limit_kw": -1},
        {"kind": "export_price", "price": math.nan},
        {"kind": "export_price", "price": None},
        {"kind": "export_limit", "limit_kw": None},
        {"kind": "export_limit", "limit_kw": math.inf},
        {"kind": "other"},
        {"end": NOW},
        {"start": "yesterday"},
        {"name": "n" * 5000},
    ],
)
def test_a_stored_event_that_cannot_be_used_is_named(changes: dict[str, Any]) -> None:
    assert valid_local_event(_event(**changes))


def test_a_sound_stored_event_passes() -> None:
    assert valid_local_event(_event()) is None
    assert valid_local_event(_event(kind="load_control", price=None, limit_kw=0)) is None
    assert valid_local_event(_event(kind="export_price", price=0.25)) is None
    assert valid_local_event(_event(kind="export_limit", price=None, limit_kw=3.0)) is None


@pytest.mark.parametrize(
    "name", ['session_a"b.json', "session_\r\nSet-Cookie: x.csv", "s_é✓.csv", "../../x", ""]
)
def test_content_disposition_cannot_be_broken_out_of(name: str) -> None:
    header = content_disposition(name)
    assert "\r" not in header
    assert "\n" not in header
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback == safe_filename(name)
    assert header.count('"') == 2
    assert header.isascii()


@given(st.text())
def test_safe_filename_is_safe(name: str) -> None:
    safe = safe_filename(name)
    assert safe
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in safe)
    assert not safe.startswith(".")
