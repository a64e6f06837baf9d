"""Prices from other integrations' attribute shapes (core/price_source.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.pev_portal.core.price_source import (
    PricePoint,
    PriceSourceError,
    current_price,
    parse_prices,
    price_entity_tariff,
    rtp_tariff_dict,
    unit_scale,
)
from custom_components.pev_portal.core.tariff import RtpTariff, tariff_from_dict

OSLO = ZoneInfo("Europe/Oslo")
DAY = datetime(2026, 3, 2, tzinfo=OSLO)


def hours(count: int, start: datetime = DAY) -> list[datetime]:
    return [start + timedelta(hours=h) for h in range(count)]


def test_nordpool_raw_today_and_tomorrow() -> None:
    """Nord Pool (HACS): raw_today/raw_tomorrow with start, end and value as datetimes."""
    today = [
        {"start": h, "end": h + timedelta(hours=1), "value": 0.1 + h.hour / 100} for h in hours(24)
    ]
    tomorrow = [
        {"start": h, "end": h + timedelta(hours=1), "value": 0.5}
        for h in hours(24, DAY + timedelta(days=1))
    ]
    attributes = {
        "current_price": 0.1,
        "today": [0.1] * 24,
        "raw_today": today,
        "raw_tomorrow": tomorrow,
    }
    points = parse_prices(attributes)
    assert len(points) == 48
    assert points[0] == PricePoint(DAY, DAY + timedelta(hours=1), Decimal("0.1"))
    assert points[13].price == Decimal("0.23")
    assert points[-1].end == DAY + timedelta(days=2)


def test_nordpool_missing_tomorrow_and_none_values() -> None:
    """Before tomorrow is published raw_tomorrow is empty; a None value is skipped."""
    today = [{"start": h, "end": h + timedelta(hours=1), "value": 0.2} for h in hours(3)]
    today[1]["value"] = None
    points = parse_prices({"raw_today": today, "raw_tomorrow": []})
    assert [p.start.hour for p in points] == [0, 2]


def test_entsoe_string_times_without_end() -> None:
    """ENTSO-e: prices as {time: str(datetime), price}; each ends where the next begins."""
    prices = [{"time": str(h), "price": 0.25} for h in hours(3)]
    points = parse_prices({"prices_today": prices, "prices": prices})
    assert len(points) == 3  # the same intervals in two lists are read once
    assert points[0].end == points[1].start
    assert points[-1].end - points[-1].start == timedelta(hours=1)


def test_quarter_hours_last_interval_lasts_as_long_as_the_one_before() -> None:
    starts = [DAY + timedelta(minutes=15 * i) for i in range(4)]
    points = parse_prices({"prices": [{"time": s.isoformat(), "price": 1} for s in starts]})
    assert points[-1].end - points[-1].start == timedelta(minutes=15)


def test_amber_forecasts_and_current_interval() -> None:
    """Amber: the forecast sensor's forecasts, and the price sensor's own interval."""
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    forecasts = [
        {
            "duration": 30,
            "per_kwh": 0.31,
            "spot_per_kwh": 0.1,
            "start_time": (start + timedelta(minutes=30 * i)).isoformat(),
            "end_time": (start + timedelta(minutes=30 * (i + 1))).isoformat(),
            "descriptor": "neutral",
        }
        for i in range(4)
    ]
    points = parse_prices({"forecasts": forecasts, "channel_type": "general"})
    assert len(points) == 4
    assert points[0].price == Decimal("0.31")
    current = forecasts[0] | {"estimate": True}
    assert parse_prices(current) == points[:1]


def test_octopus_rates_event_entity() -> None:
    """Octopus Energy: the day-rates event entity's rates with value_inc_vat in GBP/kWh."""
    start = datetime(2026, 3, 2, tzinfo=UTC)
    rates = [
        {
            "start": start + timedelta(minutes=30 * i),
            "end": start + timedelta(minutes=30 * (i + 1)),
            "value_inc_vat": 0.2455,
            "is_capped": False,
        }
        for i in range(48)
    ]
    points = parse_prices(
        {"rates": rates, "event_type": "octopus_energy_electricity_current_day_rates"}
    )
    assert len(points) == 48
    assert points[0].price == Decimal("0.2455")


def test_action_responses() -> None:
    """Tibber, EnergyZero and core Nord Pool actions' responses."""
    tibber = {
        "prices": {
            "Home": [
                {"start_time": h.isoformat(), "price": 0.3, "level": "NORMAL"} for h in hours(2)
            ]
        }
    }
    assert [p.price for p in parse_prices(tibber)] == [Decimal("0.3")] * 2
    energyzero = {
        "prices": [{"timestamp": str(h.astimezone(UTC)), "price": 0.12} for h in hours(2)]
    }
    assert len(parse_prices(energyzero)) == 2
    nordpool = {
        "SE3": [
            {"start": h.isoformat(), "end": (h + timedelta(hours=1)).isoformat(), "price": 512.3}
            for h in hours(2)
        ]
    }
    scale, _ = unit_scale("SEK/MWh")
    assert parse_prices(nordpool, scale=scale)[0].price == Decimal("0.5123")


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ({"time": "2026-03-02T00:00:00", "price": 1}, "no zone"),
        ({"time": "yesterday", "price": 1}, "not a time"),
        ({"time": "2026-03-02T00:00:00+01:00", "price": float("nan")}, "NaN"),
        ({"time": "2026-03-02T00:00:00+01:00", "price": "n/a"}, "text"),
        ({"time": "2026-03-02T00:00:00+01:00", "price": True}, "bool"),
        (
            {"start": "2026-03-02T01:00:00+01:00", "end": "2026-03-02T00:00:00+01:00", "price": 1},
            "ends before it starts",
        ),
    ],
)
def test_unreadable_items_are_skipped(bad: dict[str, Any], why: str) -> None:
    good = {"time": "2026-03-02T05:00:00+01:00", "price": 2}
    points = parse_prices({"prices": [bad, good]})
    assert [p.price for p in points] == [Decimal(2)], why


def test_overlapping_intervals_keep_the_earlier() -> None:
    items = [
        {"start": DAY, "end": DAY + timedelta(hours=2), "value": 1},
        {"start": DAY + timedelta(hours=1), "end": DAY + timedelta(hours=3), "value": 2},
        {"start": DAY + timedelta(hours=2), "end": DAY + timedelta(hours=3), "value": 3},
    ]
    assert [p.price for p in parse_prices({"raw_today": items})] == [Decimal(1), Decimal(3)]


def test_nothing_readable() -> None:
    assert parse_prices({}) == []
    assert parse_prices({"today": [0.1, 0.2], "friendly_name": "Price"}) == []


@pytest.mark.parametrize(
    ("unit", "scale", "currency"),
    [
        ("EUR/kWh", Decimal(1), "EUR"),
        ("€/kWh", Decimal(1), "EUR"),
        ("NOK/MWh", Decimal("0.001"), "NOK"),
        ("c/kWh", Decimal("0.01"), None),
        ("öre/kWh", Decimal("0.01"), "SEK"),
        ("p/kWh", Decimal("0.01"), "GBP"),
        ("$/kWh", Decimal(1), None),
        ("EUR/Wh", Decimal(1000), "EUR"),
        (None, Decimal(1), None),
    ],
)
def test_unit_scale(unit: str | None, scale: Decimal, currency: str | None) -> None:
    assert unit_scale(unit) == (scale, currency)


@pytest.mark.parametrize("unit", ["kWh", "EUR", "EUR/h", "12/kWh", "W"])
def test_unit_scale_rejects(unit: str) -> None:
    with pytest.raises(PriceSourceError):
        unit_scale(unit)


def test_current_price() -> None:
    assert current_price("0.253") == Decimal("0.253")
    assert current_price("25.3", Decimal("0.01")) == Decimal("0.253")
    for bad in ("unknown", "unavailable", "nan", "inf", None):
        assert current_price(bad) is None


def test_rtp_tariff_dict_builds_a_tariff() -> None:
    points = parse_prices(
        {"raw_today": [{"start": h, "end": h + timedelta(hours=1), "value": 0.4} for h in hours(2)]}
    )
    fallback = {"type": "flat", "currency": "NOK", "price": "0.30"}
    tariff = tariff_from_dict(rtp_tariff_dict(points, "NOK", fallback))
    assert isinstance(tariff, RtpTariff)
    assert tariff.price_at(DAY + timedelta(minutes=30)).price == Decimal("0.4")
    assert tariff.price_at(DAY + timedelta(hours=5)).price == Decimal("0.30")


def test_price_entity_tariff_merges_sources_and_the_current_price() -> None:
    """Attributes, a forecast entity and an action's response merge (first read wins); the
    state prices the current hour when no interval covers it; the fallback the rest."""
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    later = now.replace(minute=0) + timedelta(hours=3)
    fallback = {"type": "flat", "currency": "EUR", "price": "0.30"}
    data = price_entity_tariff(
        "c/kWh",
        "21.5",
        {"friendly_name": "Price"},
        fallback,
        now=now,
        forecast_attributes={
            "forecasts": [
                {
                    "start_time": later.isoformat(),
                    "end_time": (later + timedelta(minutes=30)).isoformat(),
                    "per_kwh": 40,
                }
            ]
        },
        response={"prices": [{"timestamp": later.isoformat(), "price": 99}]},
    )
    tariff = tariff_from_dict(data)
    assert tariff.price_at(now).price == Decimal("0.215")
    assert tariff.price_at(later).price == Decimal("0.40")
    assert tariff.price_at(later + timedelta(hours=2)).price == Decimal("0.30")


def test_price_entity_tariff_unknown_state_and_bad_unit() -> None:
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    fallback = {"type": "flat", "currency": "SEK", "price": "1.1"}
    data = price_entity_tariff("SEK/kWh", "unavailable", {}, fallback, now=now)
    assert data["points"] == []
    assert tariff_from_dict(data).price_at(now).price == Decimal("1.1")
    with pytest.raises(PriceSourceError):
        price_entity_tariff("kWh", "1", {}, fallback, now=now)


def test_price_entity_tariff_response_in_its_own_unit() -> None:
    """Core Nord Pool: the sensor in EUR/kWh, its action's answer per MWh."""
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    hour = now.replace(minute=0)
    response = {
        "SE3": [
            {
                "start": hour.isoformat(),
                "end": (hour + timedelta(hours=1)).isoformat(),
                "price": 123.4,
            }
        ]
    }
    fallback = {"type": "flat", "currency": "EUR", "price": "0.30"}
    data = price_entity_tariff(
        "EUR/kWh", "0.1234", {}, fallback, now=now, response=response, response_unit="EUR/MWh"
    )
    assert tariff_from_dict(data).price_at(now).price == Decimal("0.1234")
