"""Tests of the tariff model (custom_components/pev_portal/core/tariff/)."""

from __future__ import annotations

import copy
import json
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, localcontext
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.pev_portal.core.tariff import (
    CostBreakdown,
    CppEvent,
    DayType,
    FlatTariff,
    OverlayTariff,
    PeriodCost,
    PeriodName,
    PeriodRule,
    PriceSegment,
    RtpTariff,
    Season,
    Tariff,
    TariffError,
    TouTariff,
    default_tou_example,
    tariff_from_dict,
)

D = Decimal
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
LA = ZoneInfo("America/Los_Angeles")
ALL_DAYS = frozenset(DayType)
WEEKDAY = frozenset({DayType.WEEKDAY})
WEEKEND_HOLIDAY = frozenset({DayType.WEEKEND, DayType.HOLIDAY})


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(
    tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def make_tou(tz: ZoneInfo = NY, holidays: frozenset[date] = frozenset()) -> TouTariff:
    """Summer May-Oct, winter Nov-Apr (wraps the new year), with a wrap-past-midnight rule."""
    summer = Season(
        "summer",
        (5, 1),
        (10, 31),
        (
            PeriodRule("off_peak", ALL_DAYS, time(21), time(7), D("0.10")),
            PeriodRule("mid_peak", WEEKDAY, time(7), time(14), D("0.20")),
            PeriodRule("on_peak", WEEKDAY, time(14), time(21), D("0.40")),
            PeriodRule("mid_peak", WEEKEND_HOLIDAY, time(7), time(21), D("0.15")),
        ),
    )
    winter = Season(
        "winter",
        (11, 1),
        (4, 30),
        (
            PeriodRule("off_peak", ALL_DAYS, time(0), time(6), D("0.08")),
            PeriodRule("on_peak", WEEKDAY, time(17), time(20), D("0.30")),
        ),
    )
    return TouTariff(
        "USD",
        tz,
        [summer, winter],
        holidays=holidays,
        default_period="shoulder",
        default_price=D("0.12"),
    )


def make_dst_tou(tz: ZoneInfo) -> TouTariff:
    """Boundaries at 01:30 and 02:30 local, i.e. inside the DST gap/fold of NY and Berlin."""
    rules = (
        PeriodRule("a", ALL_DAYS, time(0), time(1, 30), D("1")),
        PeriodRule("b", ALL_DAYS, time(1, 30), time(2, 30), D("2")),
        PeriodRule("c", ALL_DAYS, time(2, 30), time(0), D("3")),
    )
    return TouTariff("EUR", tz, [Season("year", (1, 1), (12, 31), rules)])


def summary(segs: list[PriceSegment]) -> list[tuple[datetime, datetime, str, Decimal]]:
    return [(s.start, s.end, s.period, s.price) for s in segs]


def local_summary(segs: list[PriceSegment], tz: ZoneInfo) -> list[tuple[str, str, str, Decimal]]:
    return [
        (
            s.start.astimezone(tz).strftime("%m-%d %H:%M"),
            s.end.astimezone(tz).strftime("%m-%d %H:%M"),
            s.period,
            s.price,
        )
        for s in segs
    ]


# --------------------------------------------------------------------------- flat


def test_flat_tariff_prices_and_cost() -> None:
    tariff = FlatTariff("usd", D("0.30"))
    assert tariff.currency == "USD"
    start, end = utc(2026, 1, 1), utc(2026, 1, 2)
    assert summary(tariff.segments(start, end)) == [(start, end, "flat", D("0.30"))]
    seg = tariff.price_at(utc(2026, 1, 1, 12))
    assert seg.price == D("0.30")
    assert seg.period == PeriodName.FLAT
    assert seg.start == utc(2025, 12, 25, 12)  # bounded to 7 days each side
    assert seg.end == utc(2026, 1, 8, 12)
    result = tariff.cost([(start, end, 10.0)])
    assert result == CostBreakdown(
        "USD", D("3.0000"), 10.0, (PeriodCost("flat", 10.0, D("3.0000")),)
    )
    assert tariff.to_dict() == {"type": "flat", "currency": "USD", "price": "0.30"}


def test_segments_empty_range_and_other_time_zones() -> None:
    tariff = FlatTariff("EUR", D("0.2"))
    assert tariff.segments(utc(2026, 1, 1), utc(2026, 1, 1)) == []
    segs = tariff.segments(local(BERLIN, 2026, 1, 1, 1), local(BERLIN, 2026, 1, 1, 2))
    assert segs[0].start == utc(2026, 1, 1, 0)
    assert segs[0].start.tzinfo is UTC


def test_naive_datetimes_rejected() -> None:
    tariff = FlatTariff("USD", D("0.30"))
    naive = datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        tariff.price_at(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        tariff.segments(naive, utc(2026, 1, 2))
    with pytest.raises(ValueError, match="timezone-aware"):
        tariff.segments(utc(2026, 1, 1), naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        tariff.cost([(naive, utc(2026, 1, 2), 1.0)])
    with pytest.raises(ValueError, match="timezone-aware"):
        CppEvent(naive, utc(2026, 1, 2), D("1"))
    with pytest.raises(ValueError, match="timezone-aware"):
        RtpTariff("USD", [(naive, utc(2026, 1, 2), D("1"))], tariff)


def test_bad_ranges_and_intervals_rejected() -> None:
    tariff = FlatTariff("USD", D("0.30"))
    with pytest.raises(ValueError, match="before start"):
        tariff.segments(utc(2026, 1, 2), utc(2026, 1, 1))
    with pytest.raises(ValueError, match="end is before start"):
        tariff.cost([(utc(2026, 1, 2), utc(2026, 1, 1), 1.0)])
    with pytest.raises(ValueError, match="finite"):
        tariff.cost([(utc(2026, 1, 1), utc(2026, 1, 2), float("nan"))])
    with pytest.raises(ValueError, match=r"expected \(start, end, kwh\)"):
        tariff.cost([(utc(2026, 1, 1), utc(2026, 1, 2))])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="currency"):
        FlatTariff("dollars", D("1"))
    with pytest.raises(ValueError, match="finite"):
        FlatTariff("USD", D("NaN"))


# --------------------------------------------------------------------------- TOU


def test_tou_weekday_with_wrap_past_midnight_and_merging() -> None:
    tariff = make_tou()
    # Wednesday 2026-07-15 and Thursday 07-16 (summer weekdays), EDT.
    segs = tariff.segments(local(NY, 2026, 7, 15), local(NY, 2026, 7, 17))
    assert local_summary(segs, NY) == [
        ("07-15 00:00", "07-15 07:00", "off_peak", D("0.10")),
        ("07-15 07:00", "07-15 14:00", "mid_peak", D("0.20")),
        ("07-15 14:00", "07-15 21:00", "on_peak", D("0.40")),
        # 21:00-07:00 wraps midnight and merges into one segment
        ("07-15 21:00", "07-16 07:00", "off_peak", D("0.10")),
        ("07-16 07:00", "07-16 14:00", "mid_peak", D("0.20")),
        ("07-16 14:00", "07-16 21:00", "on_peak", D("0.40")),
        ("07-16 21:00", "07-17 00:00", "off_peak", D("0.10")),
    ]
    assert segs[0].start == utc(2026, 7, 15, 4)


def test_tou_weekend_and_holiday() -> None:
    # Friday 2026-07-03 is a holiday (observed Independence Day).
    tariff = make_tou(holidays=frozenset({date(2026, 7, 3)}))
    assert tariff.day_type(date(2026, 7, 2)) is DayType.WEEKDAY
    assert tariff.day_type(date(2026, 7, 3)) is DayType.HOLIDAY
    assert tariff.day_type(date(2026, 7, 4)) is DayType.WEEKEND
    holiday = tariff.price_at(local(NY, 2026, 7, 3, 15))
    assert (holiday.period, holiday.price) == ("mid_peak", D("0.15"))
    weekend = tariff.segments(local(NY, 2026, 7, 4), local(NY, 2026, 7, 5))
    assert local_summary(weekend, NY) == [
        ("07-04 00:00", "07-04 07:00", "off_peak", D("0.10")),
        ("07-04 07:00", "07-04 21:00", "mid_peak", D("0.15")),
        ("07-04 21:00", "07-05 00:00", "off_peak", D("0.10")),
    ]
    # The same Friday without the holiday is a normal weekday.
    plain = make_tou().price_at(local(NY, 2026, 7, 3, 15))
    assert (plain.period, plain.price) == ("on_peak", D("0.40"))


def test_tou_seasons_wrapping_the_new_year() -> None:
    tariff = make_tou()
    assert tariff.season_for(date(2026, 12, 31)).name == "winter"
    assert tariff.season_for(date(2027, 1, 1)).name == "winter"
    assert tariff.season_for(date(2026, 4, 30)).name == "winter"
    assert tariff.season_for(date(2026, 5, 1)).name == "summer"
    assert tariff.season_for(date(2026, 10, 31)).name == "summer"
    assert tariff.season_for(date(2028, 2, 29)).name == "winter"
    # New Year's Eve (Thursday) into New Year's Day (Friday), winter weekdays.
    segs = tariff.segments(local(NY, 2026, 12, 31, 16), local(NY, 2027, 1, 1, 18))
    assert local_summary(segs, NY) == [
        ("12-31 16:00", "12-31 17:00", "shoulder", D("0.12")),  # default period/price
        ("12-31 17:00", "12-31 20:00", "on_peak", D("0.30")),
        ("12-31 20:00", "01-01 00:00", "shoulder", D("0.12")),
        ("01-01 00:00", "01-01 06:00", "off_peak", D("0.08")),
        ("01-01 06:00", "01-01 17:00", "shoulder", D("0.12")),
        ("01-01 17:00", "01-01 18:00", "on_peak", D("0.30")),
    ]
    # Season change at midnight between 10-31 (summer) and 11-01 (winter).
    change = tariff.segments(local(NY, 2026, 10, 30, 20), local(NY, 2026, 11, 2, 7))
    assert local_summary(change, NY)[:3] == [
        ("10-30 20:00", "10-30 21:00", "on_peak", D("0.40")),
        ("10-30 21:00", "10-31 07:00", "off_peak", D("0.10")),
        ("10-31 07:00", "10-31 21:00", "mid_peak", D("0.15")),
    ]
    assert local_summary(change, NY)[3:] == [
        ("10-31 21:00", "11-01 00:00", "off_peak", D("0.10")),
        ("11-01 00:00", "11-01 06:00", "off_peak", D("0.08")),  # same name, new price
        ("11-01 06:00", "11-02 00:00", "shoulder", D("0.12")),
        ("11-02 00:00", "11-02 06:00", "off_peak", D("0.08")),
        ("11-02 06:00", "11-02 07:00", "shoulder", D("0.12")),
    ]


def test_tou_price_at_bounds_are_nearest_changes() -> None:
    tariff = make_tou()
    seg = tariff.price_at(local(NY, 2026, 7, 15, 23, 59))
    assert seg.start == local(NY, 2026, 7, 15, 21)
    assert seg.end == local(NY, 2026, 7, 16, 7)
    at_boundary = tariff.price_at(local(NY, 2026, 7, 15, 14))
    assert at_boundary.period == "on_peak"
    assert at_boundary.start == local(NY, 2026, 7, 15, 14)


def test_tou_price_at_widens_for_long_segments() -> None:
    # Only one period all day: price_at reaches out to the 7 day bound.
    rule = PeriodRule(PeriodName.OFF_PEAK, ALL_DAYS, time(0), time(0), D("0.2"))
    tariff = TouTariff("USD", NY, [Season("year", (1, 1), (12, 31), (rule,))])
    when = utc(2026, 6, 1, 12)
    seg = tariff.price_at(when)
    assert (seg.start, seg.end) == (when - timedelta(days=7), when + timedelta(days=7))
    assert seg.period == "off_peak"
    assert type(seg.period) is str


@pytest.mark.parametrize(
    ("tz", "day", "expected", "hours"),
    [
        pytest.param(
            NY,
            date(2026, 3, 8),
            [
                (utc(2026, 3, 8, 5), utc(2026, 3, 8, 6, 30), "a"),
                # 02:30 does not exist: "b" ends at the jump (02:00 EST = 07:00 UTC)
                (utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7), "b"),
                (utc(2026, 3, 8, 7), utc(2026, 3, 9, 4), "c"),
            ],
            23,
            id="new-york-spring-forward",
        ),
        pytest.param(
            NY,
            date(2026, 11, 1),
            [
                (utc(2026, 11, 1, 4), utc(2026, 11, 1, 5, 30), "a"),
                # 01:30 happens twice: boundary at the first one (EDT); "b" runs until
                # 02:30 EST and so covers the repeated hour.
                (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 7, 30), "b"),
                (utc(2026, 11, 1, 7, 30), utc(2026, 11, 2, 5), "c"),
            ],
            25,
            id="new-york-fall-back",
        ),
        pytest.param(
            BERLIN,
            date(2026, 3, 29),
            [
                (utc(2026, 3, 28, 23), utc(2026, 3, 29, 0, 30), "a"),
                (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1), "b"),
                (utc(2026, 3, 29, 1), utc(2026, 3, 29, 22), "c"),
            ],
            23,
            id="berlin-spring-forward",
        ),
        pytest.param(
            BERLIN,
            date(2026, 10, 25),
            [
                (utc(2026, 10, 24, 22), utc(2026, 10, 24, 23, 30), "a"),
                # 02:30 happens twice (CEST, then CET): boundary at the first one.
                (utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 0, 30), "b"),
                (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 23), "c"),
            ],
            25,
            id="berlin-fall-back",
        ),
    ],
)
def test_tou_dst_days(
    tz: ZoneInfo, day: date, expected: list[tuple[datetime, datetime, str]], hours: int
) -> None:
    tariff = make_dst_tou(tz)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    segs = tariff.segments(start, end)
    assert [(s.start, s.end, s.period) for s in segs] == expected
    assert segs[-1].end - segs[0].start == timedelta(hours=hours)
    # price_at agrees with segments, also inside the repeated / skipped hour
    for seg in segs:
        assert tariff.price_at(seg.start + (seg.end - seg.start) / 2).period == seg.period


def test_tou_dst_boundary_in_gap_swallows_period() -> None:
    # A period lying entirely inside the spring-forward gap disappears that day.
    rules = (
        PeriodRule("night", ALL_DAYS, time(0), time(2, 15), D("0.1")),
        PeriodRule("ghost", ALL_DAYS, time(2, 15), time(2, 45), D("9")),
        PeriodRule("day", ALL_DAYS, time(2, 45), time(0), D("0.3")),
    )
    tariff = TouTariff("USD", NY, [Season("year", (1, 1), (12, 31), rules)])
    segs = tariff.segments(local(NY, 2026, 3, 8), local(NY, 2026, 3, 9))
    assert [s.period for s in segs] == ["night", "day"]
    assert segs[0].end == utc(2026, 3, 8, 7)  # the jump
    normal = tariff.segments(local(NY, 2026, 3, 9), local(NY, 2026, 3, 10))
    assert [s.period for s in normal] == ["night", "ghost", "day"]


def test_tou_segments_seven_days_is_fast() -> None:
    tariff = tariff_from_dict(default_tou_example())
    start = local(LA, 2026, 7, 1)
    began = clock.perf_counter()
    segs = tariff.segments(start, start + timedelta(days=7))  # cold cache
    for _ in range(20):
        tariff.segments(start, start + timedelta(days=7))
    elapsed = clock.perf_counter() - began
    assert len(segs) > 14
    assert elapsed < 0.5  # ~25 ms budget per call, typically well under 1 ms


# --------------------------------------------------------------------------- RTP / CPP


def test_rtp_with_fallback() -> None:
    fallback = FlatTariff("USD", D("0.25"))
    points = [
        (utc(2026, 1, 1, 13), utc(2026, 1, 1, 14), D("-0.02")),  # unsorted input is fine
        (utc(2026, 1, 1, 12), utc(2026, 1, 1, 13), D("0.05")),
        (utc(2026, 1, 1, 16), utc(2026, 1, 1, 17), D("0.30")),
        (utc(2026, 1, 1, 17), utc(2026, 1, 1, 18), D("0.30")),  # same price: merged
    ]
    tariff = RtpTariff("USD", points, fallback)
    segs = tariff.segments(utc(2026, 1, 1, 11), utc(2026, 1, 1, 19))
    assert summary(segs) == [
        (utc(2026, 1, 1, 11), utc(2026, 1, 1, 12), "flat", D("0.25")),
        (utc(2026, 1, 1, 12), utc(2026, 1, 1, 13), "rtp", D("0.05")),
        (utc(2026, 1, 1, 13), utc(2026, 1, 1, 14), "rtp", D("-0.02")),
        (utc(2026, 1, 1, 14), utc(2026, 1, 1, 16), "flat", D("0.25")),
        (utc(2026, 1, 1, 16), utc(2026, 1, 1, 18), "rtp", D("0.30")),
        (utc(2026, 1, 1, 18), utc(2026, 1, 1, 19), "flat", D("0.25")),
    ]
    inside = tariff.segments(utc(2026, 1, 1, 12, 15), utc(2026, 1, 1, 12, 45))
    assert summary(inside) == [(utc(2026, 1, 1, 12, 15), utc(2026, 1, 1, 12, 45), "rtp", D("0.05"))]
    assert tariff.price_at(utc(2026, 1, 1, 13, 30)).price == D("-0.02")
    # negative prices give negative costs
    result = tariff.cost([(utc(2026, 1, 1, 13), utc(2026, 1, 1, 14), 2.0)])
    assert result.total == D("-0.0400")


def test_rtp_over_tou_fallback() -> None:
    tariff = RtpTariff(
        "USD",
        [(local(NY, 2026, 7, 15, 13), local(NY, 2026, 7, 15, 15), D("0.07"))],
        make_tou(),
    )
    segs = tariff.segments(local(NY, 2026, 7, 15, 12), local(NY, 2026, 7, 15, 16))
    assert local_summary(segs, NY) == [
        ("07-15 12:00", "07-15 13:00", "mid_peak", D("0.20")),
        ("07-15 13:00", "07-15 15:00", "rtp", D("0.07")),
        ("07-15 15:00", "07-15 16:00", "on_peak", D("0.40")),
    ]


def test_rtp_rejects_overlaps_and_currency_mismatch() -> None:
    fallback = FlatTariff("USD", D("0.25"))
    with pytest.raises(ValueError, match="overlap"):
        RtpTariff(
            "USD",
            [
                (utc(2026, 1, 1, 12), utc(2026, 1, 1, 14), D("0.1")),
                (utc(2026, 1, 1, 13), utc(2026, 1, 1, 15), D("0.2")),
            ],
            fallback,
        )
    with pytest.raises(ValueError, match="end must be after start"):
        RtpTariff("USD", [(utc(2026, 1, 1, 12), utc(2026, 1, 1, 12), D("0.1"))], fallback)
    with pytest.raises(ValueError, match="differs"):
        RtpTariff("EUR", [], fallback)


def test_cpp_overlay_on_tou() -> None:
    events = [
        CppEvent(local(NY, 2026, 7, 15, 16), local(NY, 2026, 7, 15, 19), D("1.00")),
        # overlaps the first one and starts later: it wins from 18:00
        CppEvent(local(NY, 2026, 7, 15, 18), local(NY, 2026, 7, 15, 22), D("0.75"), "flex_alert"),
    ]
    tariff = OverlayTariff(make_tou(), events)
    assert tariff.currency == "USD"
    segs = tariff.segments(local(NY, 2026, 7, 15, 12), local(NY, 2026, 7, 15, 23))
    assert local_summary(segs, NY) == [
        ("07-15 12:00", "07-15 14:00", "mid_peak", D("0.20")),
        ("07-15 14:00", "07-15 16:00", "on_peak", D("0.40")),
        ("07-15 16:00", "07-15 18:00", "critical_peak", D("1.00")),
        ("07-15 18:00", "07-15 22:00", "flex_alert", D("0.75")),
        ("07-15 22:00", "07-15 23:00", "off_peak", D("0.10")),
    ]
    assert tariff.price_at(local(NY, 2026, 7, 15, 17)).period == PeriodName.CRITICAL_PEAK


def test_cpp_later_start_wins_and_earlier_event_resumes() -> None:
    base = FlatTariff("USD", D("0.20"))
    long_event = CppEvent(utc(2026, 8, 1, 14), utc(2026, 8, 1, 22), D("0.90"), "long")
    short_event = CppEvent(utc(2026, 8, 1, 16), utc(2026, 8, 1, 18), D("2.00"), "short")
    # List order does not matter, start time does.
    tariff = OverlayTariff(base, [short_event, long_event])
    segs = tariff.segments(utc(2026, 8, 1, 13), utc(2026, 8, 1, 23))
    assert [(s.start.hour, s.end.hour, s.period) for s in segs] == [
        (13, 14, "flat"),
        (14, 16, "long"),
        (16, 18, "short"),
        (18, 22, "long"),
        (22, 23, "flat"),
    ]
    # Nested overlays flatten into one.
    nested = OverlayTariff(OverlayTariff(base, [long_event]), [short_event])
    assert nested.base is base
    assert nested.segments(utc(2026, 8, 1, 13), utc(2026, 8, 1, 23)) == segs


def test_cpp_event_validation() -> None:
    with pytest.raises(ValueError, match="end must be after start"):
        CppEvent(utc(2026, 1, 1, 2), utc(2026, 1, 1, 1), D("1"))
    with pytest.raises(ValueError, match="finite"):
        CppEvent(utc(2026, 1, 1, 1), utc(2026, 1, 1, 2), D("Infinity"))
    with pytest.raises(ValueError, match="period name"):
        CppEvent(utc(2026, 1, 1, 1), utc(2026, 1, 1, 2), D("1"), " ")


# --------------------------------------------------------------------------- cost


def test_cost_split_across_boundary_in_proportion_to_time() -> None:
    tariff = make_tou()
    # 13:30-15:00 on a summer weekday: 30 min mid_peak (0.20), 60 min on_peak (0.40).
    result = tariff.cost([(local(NY, 2026, 7, 15, 13, 30), local(NY, 2026, 7, 15, 15), 3.0)])
    assert result.by_period == (
        PeriodCost("mid_peak", pytest.approx(1.0), D("0.2000")),  # type: ignore[arg-type]
        PeriodCost("on_peak", pytest.approx(2.0), D("0.8000")),  # type: ignore[arg-type]
    )
    assert result.total == D("1.0000")
    assert result.kwh == 3.0


def test_cost_by_period_sums_to_total_and_order_of_first_appearance() -> None:
    tariff = make_tou()
    intervals = [
        (local(NY, 2026, 7, 15, 20), local(NY, 2026, 7, 15, 22), 7.3),  # on_peak, off_peak
        (local(NY, 2026, 7, 15, 9), local(NY, 2026, 7, 15, 10), 1.1),  # mid_peak
        (local(NY, 2026, 7, 15, 20, 30), local(NY, 2026, 7, 15, 21, 30), 0.7),
    ]
    result = tariff.cost(intervals)
    assert [p.period for p in result.by_period] == ["on_peak", "off_peak", "mid_peak"]
    assert result.total == sum((p.cost for p in result.by_period), D(0))
    assert result.kwh == pytest.approx(9.1)
    assert sum(p.kwh for p in result.by_period) == pytest.approx(9.1)
    assert all(p.cost.as_tuple().exponent == -4 for p in result.by_period)
    assert result.currency == "USD"


def test_cost_rounds_half_even_at_the_end_only() -> None:
    tariff = FlatTariff("USD", D("0.00005"))
    one_hour = (utc(2026, 1, 1, 0), utc(2026, 1, 1, 1))
    assert tariff.cost([(*one_hour, 1.0)]).total == D("0.0000")  # 0.00005 -> even 0.0000
    assert tariff.cost([(*one_hour, 3.0)]).total == D("0.0002")  # 0.00015 -> even 0.0002
    # Ten tiny slices add up before rounding (0.0005), instead of 10 x 0.0000.
    six = timedelta(minutes=6)
    slices = [(one_hour[0] + i * six, one_hour[0] + (i + 1) * six, 1.0) for i in range(10)]
    assert tariff.cost(slices).total == D("0.0005")
    assert tariff.unrounded_cost(slices).total == D("0.00050")
    coarse = FlatTariff("USD", D("0.125"), precision=2)
    assert coarse.cost([(*one_hour, 1.0)]).total == D("0.12")


def test_cost_zero_length_interval_and_empty() -> None:
    tariff = make_tou()
    empty = tariff.cost([])
    assert empty == CostBreakdown("USD", D("0.0000"), 0.0, ())
    instant = tariff.cost([(local(NY, 2026, 7, 15, 15), local(NY, 2026, 7, 15, 15), 2.0)])
    assert instant.by_period == (PeriodCost("on_peak", 2.0, D("0.8000")),)


def test_cost_far_apart_intervals() -> None:
    tariff = make_tou()
    intervals = [
        (local(NY, 2026, 7, 15, 15), local(NY, 2026, 7, 15, 16), 1.0),
        (local(NY, 2028, 1, 5, 18), local(NY, 2028, 1, 5, 19), 1.0),
    ]
    result = tariff.cost(intervals)
    assert result.by_period == (PeriodCost("on_peak", 2.0, D("0.7000")),)


# --------------------------------------------------------------------------- dict form


def test_default_example_round_trip() -> None:
    example = default_tou_example()
    tariff = tariff_from_dict(example)
    assert isinstance(tariff, TouTariff)
    assert tariff.to_dict() == example
    # Peak 16-21 on summer weekdays, in Los Angeles time.
    seg = tariff.price_at(local(LA, 2026, 7, 15, 17))
    assert (seg.period, seg.start, seg.end) == (
        "on_peak",
        local(LA, 2026, 7, 15, 16),
        local(LA, 2026, 7, 15, 21),
    )
    json.dumps(example)
    assert default_tou_example() is not example  # a fresh copy every time


@pytest.mark.parametrize(
    "tariff",
    [
        FlatTariff("USD", D("0.30")),
        FlatTariff("EUR", D("-1.5"), precision=2),
        make_tou(holidays=frozenset({date(2026, 7, 3), date(2026, 12, 25)})),
        make_dst_tou(BERLIN),
        RtpTariff(
            "USD",
            [(utc(2026, 1, 1, 12), utc(2026, 1, 1, 13), D("0.05"))],
            OverlayTariff(
                FlatTariff("USD", D("0.25")),
                [CppEvent(utc(2026, 1, 2), utc(2026, 1, 2, 3), D("1"), "event")],
            ),
        ),
        OverlayTariff(
            make_tou(),
            [CppEvent(local(NY, 2026, 7, 15, 16), local(NY, 2026, 7, 15, 19), D("1.00"))],
        ),
    ],
    ids=["flat", "flat-precision", "tou", "tou-berlin", "rtp-over-cpp", "cpp-over-tou"],
)
def test_to_dict_round_trip(tariff: Tariff) -> None:
    data = tariff.to_dict()
    assert json.loads(json.dumps(data)) == data
    again = tariff_from_dict(data)
    assert type(again) is type(tariff)
    assert again == tariff
    assert again.to_dict() == data
    start = utc(2026, 1, 1)
    assert again.segments(start, start + timedelta(days=10)) == tariff.segments(
        start, start + timedelta(days=10)
    )
    july = utc(2026, 7, 14)
    assert again.segments(july, july + timedelta(days=3)) == tariff.segments(
        july, july + timedelta(days=3)
    )


def test_cpp_key_wraps_any_type() -> None:
    data = {
        "type": "flat",
        "currency": "USD",
        "price": 0.3,  # float prices go through str(): exactly 0.3
        "cpp": [{"start": "2026-08-01T16:00:00Z", "end": "2026-08-01T19:00:00Z", "price": 1}],
    }
    tariff = tariff_from_dict(data)
    assert isinstance(tariff, OverlayTariff)
    assert isinstance(tariff.base, FlatTariff)
    assert tariff.base.price == D("0.3")
    assert tariff.price_at(utc(2026, 8, 1, 17)).period == "critical_peak"
    assert tariff.price_at(utc(2026, 8, 1, 17)).price == D("1")
    assert tariff.to_dict()["cpp"] == [
        {
            "start": "2026-08-01T16:00:00+00:00",
            "end": "2026-08-01T19:00:00+00:00",
            "price": "1",
            "name": "critical_peak",
        }
    ]
    # an empty cpp list does not wrap
    assert isinstance(tariff_from_dict({**data, "cpp": []}), FlatTariff)


def test_yaml_style_values_are_accepted() -> None:
    """What a YAML 1.1 loader produces from unquoted values."""
    data = default_tou_example()
    season = data["seasons"][0]
    season["periods"][2]["start"] = 960  # 16:00 unquoted -> base-60 int
    season["periods"][2]["end"] = 1260  # 21:00
    season["periods"][2]["price"] = 0.62
    data["holidays"] = [date(2026, 7, 3)]  # unquoted dates become date objects
    data["default_price"] = 1  # ints are fine
    tariff = tariff_from_dict(data)
    assert isinstance(tariff, TouTariff)
    assert tariff.holidays == frozenset({date(2026, 7, 3)})
    assert tariff.default_price == D("1")
    out = tariff.to_dict()
    assert out["seasons"][0]["periods"][2] == {
        "period": "on_peak",
        "days": ["weekday"],
        "start": "16:00",
        "end": "21:00",
        "price": "0.62",
    }
    rtp = tariff_from_dict(
        {
            "type": "rtp",
            "currency": "USD",
            "points": [
                {
                    "start": datetime(2026, 1, 1, 12, tzinfo=UTC),
                    "end": "2026-01-01T08:00:00-05:00",
                    "price": "0.1",
                }
            ],
            "fallback": {"type": "flat", "currency": "usd", "price": "0.2"},
        }
    )
    assert rtp.price_at(utc(2026, 1, 1, 12, 30)).price == D("0.1")


def test_days_shortcuts_and_seconds_in_times() -> None:
    data = {
        "type": "tou",
        "currency": "USD",
        "timezone": "UTC",
        "seasons": [
            {
                "name": "all",
                "start": "1-1",
                "end": "12-31",
                "periods": [
                    {
                        "period": "a",
                        "days": "all",
                        "start": "00:00",
                        "end": "12:00:30",
                        "price": "1",
                    },
                    {
                        "period": "b",
                        "days": ["all"],
                        "start": "12:00:30",
                        "end": "24:00",
                        "price": "2",
                    },
                ],
            }
        ],
    }
    tariff = tariff_from_dict(data)
    assert tariff.price_at(utc(2026, 3, 1, 12, 0, 29)).period == "a"
    assert tariff.price_at(utc(2026, 3, 1, 12, 0, 30)).period == "b"
    periods = tariff.to_dict()["seasons"][0]["periods"]
    assert periods[0]["days"] == ["weekday", "weekend", "holiday"]
    assert periods[0]["end"] == "12:00:30"
    assert tariff.to_dict()["seasons"][0]["start"] == "01-01"


def _tou(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(default_tou_example())
    data.update(changes)
    return data


def _with_period(season_index: int, period_index: int, **changes: Any) -> dict[str, Any]:
    data = _tou()
    data["seasons"][season_index]["periods"][period_index].update(changes)
    return data


def _with_season(season_index: int, **changes: Any) -> dict[str, Any]:
    data = _tou()
    data["seasons"][season_index].update(changes)
    return data


_FLAT = {"type": "flat", "currency": "USD", "price": "0.30"}
_RTP_POINT = {"start": "2026-01-01T12:00:00Z", "end": "2026-01-01T13:00:00Z", "price": "0.1"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            _with_period(0, 1, start="25:00"),
            "seasons[0].periods[1].start: '25:00' is not a time (HH:MM)",
            id="bad-time",
        ),
        pytest.param(
            _with_period(0, 1, end="4pm"),
            "seasons[0].periods[1].end: '4pm' is not a time (HH:MM)",
            id="bad-time-format",
        ),
        pytest.param(
            _with_period(0, 0, start="24:00"),
            "seasons[0].periods[0].start: 24:00 can only be an end time",
            id="start-24",
        ),
        pytest.param(
            _with_period(1, 1, start="16:00", end="16:00"),
            "seasons[1].periods[1]: period 'on_peak': start and end are both 16:00",
            id="start-equals-end",
        ),
        pytest.param(
            {"currency": "USD", "price": "1"},
            "type: this field is required (flat, tou or rtp)",
            id="missing-type",
        ),
        pytest.param(
            {"type": "tiered", "currency": "USD"},
            "type: 'tiered' is not a tariff type (use flat, tou or rtp)",
            id="unknown-type",
        ),
        pytest.param(
            {**_FLAT, "currency": "US$"},
            "currency: 'US$' is not a currency code",
            id="bad-currency",
        ),
        pytest.param({**_FLAT, "price": "abc"}, "price: 'abc' is not a price", id="bad-price"),
        pytest.param({**_FLAT, "price": "0,30"}, "price: '0,30' is not a price", id="comma"),
        pytest.param(
            {**_FLAT, "price": "NaN"}, "price: 'NaN' is not a price (must be a finite", id="nan"
        ),
        pytest.param(
            {**_FLAT, "price": float("inf")},
            "price: inf is not a price (must be a finite number)",
            id="inf",
        ),
        pytest.param({**_FLAT, "price": True}, "price: True is not a price", id="bool-price"),
        pytest.param(
            {"type": "flat", "currency": "USD"}, "price: this field is required", id="no-price"
        ),
        pytest.param(
            {**_FLAT, "prices": "1"},
            "prices: unknown field (expected one of: type, currency, price, cpp, precision)",
            id="unknown-field",
        ),
        pytest.param(
            {**_FLAT, "precision": 20}, "precision: 20 is not a valid precision", id="precision"
        ),
        pytest.param(
            _tou(timezone="Mars/Olympus_Mons"),
            "timezone: 'Mars/Olympus_Mons' is not a known time zone",
            id="bad-timezone",
        ),
        pytest.param(
            _tou(holidays=["2026-02-30"]),
            "holidays[0]: '2026-02-30' is not a date (YYYY-MM-DD)",
            id="bad-holiday",
        ),
        pytest.param(
            _tou(seasons=[]),
            "seasons: add at least one season",
            id="no-seasons",
        ),
        pytest.param(
            _tou(seasons="summer"),
            "seasons: expected a list, got 'summer'",
            id="seasons-not-list",
        ),
        pytest.param(
            _with_season(0, end="10-01"),
            "seasons: seasons 'summer' and 'winter' overlap on 10-01",
            id="season-overlap",
        ),
        pytest.param(
            _with_season(0, end="09-29"),
            "seasons: no season covers 09-30",
            id="season-gap",
        ),
        pytest.param(
            _with_season(1, start="10-01", end="02-28"),
            "seasons: no season covers 02-29",
            id="season-gap-leap-day",
        ),
        pytest.param(
            _with_season(0, start="13-01"),
            "seasons[0].start: '13-01' is not a month-day date (MM-DD",
            id="bad-month",
        ),
        pytest.param(
            _with_season(1, name="summer"),
            "seasons: two seasons are named 'summer'",
            id="duplicate-season",
        ),
        pytest.param(
            _with_season(0, periods=[{"period": "x", "days": ["weekday"], "start": "00:00"}]),
            "seasons[0].periods[0].end: this field is required",
            id="missing-end",
        ),
        pytest.param(
            _with_period(0, 1, days=["weekday", "weeknd"]),
            "seasons[0].periods[1].days[1]: 'weeknd' is not a day type",
            id="bad-day-type",
        ),
        pytest.param(
            _with_period(0, 1, days=[]),
            "seasons[0].periods[1].days: list at least one day type",
            id="no-days",
        ),
        pytest.param(
            _with_period(0, 1, start="14:00"),
            "seasons: season 'summer': periods 'off_peak' 00:00-15:00 and 'mid_peak' 14:00-16:00"
            " overlap on weekdays 14:00-15:00",
            id="period-overlap",
        ),
        pytest.param(
            _with_period(0, 1, start="15:30"),
            "seasons: season 'summer': no period covers weekdays 15:00-15:30"
            " (add a period or set a default price)",
            id="period-gap",
        ),
        pytest.param(
            _with_period(1, 0, days=["weekday", "weekend"]),
            "seasons: season 'winter': no period covers holidays 00:00-16:00",
            id="holiday-uncovered",
        ),
        pytest.param(
            _with_period(0, 2, period=""),
            "seasons[0].periods[2].period: '' is not a period name",
            id="empty-period-name",
        ),
        pytest.param(
            {
                "type": "rtp",
                "currency": "USD",
                "points": [_RTP_POINT, {**_RTP_POINT, "start": "2026-01-01T12:30:00Z"}],
                "fallback": _FLAT,
            },
            "points: price points 2026-01-01T12:00:00+00:00/2026-01-01T13:00:00+00:00 and"
            " 2026-01-01T12:30:00+00:00/2026-01-01T13:00:00+00:00 overlap",
            id="rtp-overlap",
        ),
        pytest.param(
            {
                "type": "rtp",
                "currency": "USD",
                "points": [{**_RTP_POINT, "start": "2026-01-01T12:00:00"}],
                "fallback": _FLAT,
            },
            "points[0].start: '2026-01-01T12:00:00' has no time zone",
            id="rtp-naive",
        ),
        pytest.param(
            {
                "type": "rtp",
                "currency": "USD",
                "points": [{**_RTP_POINT, "end": "2026-01-01T11:00:00Z"}],
                "fallback": _FLAT,
            },
            "points[0].end: must be after start",
            id="rtp-backwards",
        ),
        pytest.param(
            {
                "type": "rtp",
                "currency": "USD",
                "points": [{**_RTP_POINT, "start": "tomorrow"}],
                "fallback": _FLAT,
            },
            "points[0].start: 'tomorrow' is not a date and time",
            id="rtp-bad-datetime",
        ),
        pytest.param(
            {"type": "rtp", "currency": "EUR", "points": [], "fallback": _FLAT},
            "fallback.currency: USD differs from the tariff currency EUR",
            id="rtp-currency-mismatch",
        ),
        pytest.param(
            {"type": "rtp", "currency": "USD", "points": [], "fallback": {**_FLAT, "price": "x"}},
            "fallback.price: 'x' is not a price",
            id="nested-path",
        ),
        pytest.param(
            {"type": "rtp", "currency": "USD", "points": [], "fallback": ["flat"]},
            "fallback: expected a tariff (a set of key: value fields), got a list",
            id="fallback-not-mapping",
        ),
        pytest.param(
            {**_FLAT, "cpp": [{"start": "2026-08-01T16:00:00Z", "end": "2026-08-01T19:00:00Z"}]},
            "cpp[0].price: this field is required",
            id="cpp-missing-price",
        ),
        pytest.param(
            {**_FLAT, "cpp": {"start": "2026-08-01T16:00:00Z"}},
            "cpp: expected a list, got a mapping",
            id="cpp-not-list",
        ),
    ],
)
def test_tariff_from_dict_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(TariffError) as info:
        tariff_from_dict(data)
    assert str(info.value).startswith(message), str(info.value)
    assert isinstance(info.value, ValueError)


def test_tariff_from_dict_rejects_non_mapping() -> None:
    with pytest.raises(TariffError, match="expected a tariff"):
        tariff_from_dict(["flat"])  # type: ignore[arg-type]


def test_tariff_error_carries_path() -> None:
    with pytest.raises(TariffError) as info:
        tariff_from_dict(_with_period(0, 1, start="25:00"))
    assert info.value.path == "seasons[0].periods[1].start"


def test_tou_constructor_validation() -> None:
    rule = PeriodRule("a", WEEKDAY, time(0), time(0), D("1"))
    with pytest.raises(ValueError, match="no period covers weekends 00:00-24:00"):
        TouTariff("USD", NY, [Season("year", (1, 1), (12, 31), (rule,))])
    # ... unless a default price fills the gaps
    filled = TouTariff(
        "USD", NY, [Season("year", (1, 1), (12, 31), (rule,))], default_price=D("0.5")
    )
    assert filled.price_at(local(NY, 2026, 7, 4, 12)).price == D("0.5")
    with pytest.raises(ValueError, match="no seasons defined"):
        TouTariff("USD", NY, [])
    with pytest.raises(ValueError, match="not a known time zone"):
        TouTariff("USD", "Nowhere/Land", [Season("year", (1, 1), (12, 31), (rule,))])
    with pytest.raises(ValueError, match=r"\(month, day\)"):
        Season("bad", (2, 30), (12, 31), (rule,))
    with pytest.raises(ValueError, match="not a day type"):
        PeriodRule("a", frozenset({"workday"}), time(0), time(0), D("1"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no day type"):
        PeriodRule("a", frozenset(), time(0), time(0), D("1"))


# --------------------------------------------------------------------------- properties

_TARIFFS: list[Tariff] = [
    FlatTariff("USD", D("0.30")),
    make_tou(NY, holidays=frozenset({date(2026, 7, 3), date(2026, 12, 25)})),
    make_dst_tou(BERLIN),
    make_dst_tou(NY),
    tariff_from_dict(default_tou_example()),
    OverlayTariff(
        RtpTariff(
            "USD",
            [
                (
                    utc(2026, 3, 8, 5) + timedelta(hours=h),
                    utc(2026, 3, 8, 6) + timedelta(hours=h),
                    D(h) / 7,
                )
                for h in range(0, 48, 3)
            ],
            make_tou(NY),
        ),
        [
            CppEvent(utc(2026, 3, 8, 10), utc(2026, 3, 8, 20), D("1.5")),
            CppEvent(utc(2026, 3, 8, 12), utc(2026, 3, 9, 2), D("2.5"), "event"),
        ],
    ),
]
_tariffs = st.sampled_from(_TARIFFS)
_instants = st.datetimes(
    min_value=datetime(2026, 2, 20), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
_durations = st.integers(min_value=0, max_value=10 * 24 * 3600).map(lambda s: timedelta(seconds=s))
_kwh = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(tariff=_tariffs, start=_instants, length=_durations)
def test_property_segments_contiguous_and_exact(
    tariff: Tariff, start: datetime, length: timedelta
) -> None:
    end = start + length
    segs = tariff.segments(start, end)
    if length == timedelta(0):
        assert segs == []
        return
    assert segs[0].start == start
    assert segs[-1].end == end
    for seg in segs:
        assert seg.start < seg.end
        assert seg.start.tzinfo is UTC
    for prev, cur in pairwise(segs):
        assert prev.end == cur.start
        assert (prev.period, prev.price) != (cur.period, cur.price)  # split only at changes


@settings(max_examples=200, deadline=None)
@given(tariff=_tariffs, when=_instants)
def test_property_price_at_contains_instant(tariff: Tariff, when: datetime) -> None:
    seg = tariff.price_at(when)
    assert seg.start <= when < seg.end
    assert seg.end - when <= timedelta(days=7)
    assert when - seg.start <= timedelta(days=7)
    # agrees with segments() over the same span
    assert tariff.segments(seg.start, seg.end) == [seg]


_intervals = st.lists(st.tuples(_instants, st.integers(0, 36 * 3600), _kwh), max_size=8)


@settings(max_examples=200, deadline=None)
@given(tariff=_tariffs, raw=_intervals)
def test_property_cost_is_additive_over_intervals(
    tariff: Tariff, raw: list[tuple[datetime, int, float]]
) -> None:
    intervals = [(s, s + timedelta(seconds=n), kwh) for s, n, kwh in raw]
    together = tariff.cost(intervals)
    parts = [tariff.cost([interval]) for interval in intervals]
    assert together.total == sum((p.cost for p in together.by_period), D(0))
    # rounded: within half a unit of the last place per rounded term
    assert abs(together.total - sum((p.total for p in parts), D(0))) <= D("0.00005") * (
        len(together.by_period) + sum(len(p.by_period) for p in parts)
    )
    # unrounded: equal up to the 60-digit working precision
    exact_together = tariff.unrounded_cost(intervals).total
    with localcontext() as ctx:
        ctx.prec = 60
        exact_parts = sum((tariff.unrounded_cost([i]).total for i in intervals), D(0))
        assert abs(exact_together - exact_parts) <= D("1e-40")
    assert together.kwh == pytest.approx(sum(kwh for _, _, kwh in intervals))


@settings(max_examples=300, deadline=None)
@given(
    tariff=_tariffs,
    start=_instants,
    seconds=st.integers(2, 3 * 24 * 3600),
    cut=st.floats(min_value=0.0, max_value=1.0),
    kwh=_kwh,
)
def test_property_splitting_an_interval_keeps_unrounded_cost(
    tariff: Tariff, start: datetime, seconds: int, cut: float, kwh: float
) -> None:
    end = start + timedelta(seconds=seconds)
    middle = start + timedelta(seconds=max(1, min(seconds - 1, round(seconds * cut))))
    kwh_first = kwh * (middle - start).total_seconds() / seconds
    whole = tariff.unrounded_cost([(start, end, kwh)])
    split = tariff.unrounded_cost([(start, middle, kwh_first), (middle, end, kwh - kwh_first)])
    tolerance = D("1e-12") * (1 + abs(whole.total))
    assert abs(whole.total - split.total) <= tolerance
    assert [p.period for p in whole.by_period] == [p.period for p in split.by_period]
    for a, b in zip(whole.by_period, split.by_period, strict=True):
        assert abs(a.cost - b.cost) <= tolerance
        assert a.kwh == pytest.approx(b.kwh, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(tariff=_tariffs)
def test_property_round_trip(tariff: Tariff) -> None:
    data = tariff.to_dict()
    assert tariff_from_dict(json.loads(json.dumps(data))).to_dict() == data
