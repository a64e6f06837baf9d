"""The power feed's signals in the timeline (issue #18): EXPORT_PRICE and
EXPORT_CAPACITY_LIMIT entries, their overlaps, units and currencies, malformed payloads."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from custom_components.pev_portal.core.tariff import FlatTariff
from tests.openadr.test_timeline import MAX, MIN, T0, H, event, timeline


def export_price(*values: Any) -> list[dict[str, Any]]:
    return [{"type": "EXPORT_PRICE", "values": list(values)}]


def export_limit(*values: Any) -> list[dict[str, Any]]:
    return [{"type": "EXPORT_CAPACITY_LIMIT", "values": list(values)}]


def descriptor(payload: str, **fields: str) -> list[dict[str, Any]]:
    return [{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": payload, **fields}]


def test_export_price_intervals_and_never_a_charging_price() -> None:
    """Two hourly export prices: their windows, and nothing of them in the charging tariff,
    caps or the import price sensor's entries."""
    tl = timeline(event([export_price(0.08), export_price(0.25)]))
    assert tl.export_prices(T0 - H, T0 + 3 * H) == [
        (T0, T0 + H, Decimal("0.08")),
        (T0 + H, T0 + 2 * H, Decimal("0.25")),
    ]
    assert tl.price_overlays(None) == []
    assert tl.caps(None, T0, T0 + 2 * H, MAX, MIN) == []
    assert all(e.price is None and e.cap_kw is None for e in tl.entries)
    assert {e.kind for e in tl.entries} == {"export_price"}
    base = FlatTariff("USD", Decimal("0.30"))
    assert base.price_at(T0).price == Decimal("0.30")


def test_export_price_units_currency_and_multi_values() -> None:
    """Per MWh scaled to per kWh; several values split the interval; another currency than
    the tariff's is ignored (logged)."""
    mwh = event(
        [export_price(80, 120)],
        duration="PT2H",
        payloadDescriptors=descriptor("EXPORT_PRICE", units="MWH", currency="USD"),
    )
    eur = event(
        [export_price(0.5)],
        start=T0 + 4 * H,
        payloadDescriptors=descriptor("EXPORT_PRICE", currency="EUR"),
    )
    tl = timeline(mwh, eur, currency="USD")
    assert tl.export_prices(T0, T0 + 6 * H) == [
        (T0, T0 + H, Decimal("0.08")),
        (T0 + H, T0 + 2 * H, Decimal("0.12")),
    ]


def test_export_price_priority_then_later_start() -> None:
    low = event([export_price(0.05)], duration="PT4H", priority=5)
    high = event([export_price(0.40)], start=T0 + H, priority=1)
    tl = timeline(low, high)
    assert tl.export_prices(T0, T0 + 4 * H) == [
        (T0, T0 + H, Decimal("0.05")),
        (T0 + H, T0 + 2 * H, Decimal("0.40")),
        (T0 + 2 * H, T0 + 4 * H, Decimal("0.05")),
    ]


def test_export_limits_smallest_of_the_best_priority_and_units() -> None:
    """Two limits at one priority: the smaller; W scaled to kW; a lower-priority (higher
    number) limit yields to the best one; opted-out events are left out."""
    watts = event(
        [export_limit(3680)],
        duration="PT3H",
        priority=2,
        payloadDescriptors=descriptor("EXPORT_CAPACITY_LIMIT", units="W"),
    )
    kw = event([export_limit(2.0)], start=T0 + H, priority=2)
    weak = event([export_limit(0.5)], start=T0 + 2 * H, priority=9)
    tl = timeline(watts, kw, weak)
    assert tl.export_limits(T0, T0 + 4 * H) == [
        (T0, T0 + H, 3.68),
        (T0 + H, T0 + 2 * H, 2.0),
        (T0 + 2 * H, T0 + 3 * H, 3.68),
    ]
    assert tl.export_limits(T0, T0 + 4 * H, exclude={watts.id}) == [
        (T0 + H, T0 + 2 * H, 2.0),
        (T0 + 2 * H, T0 + 3 * H, 0.5),
    ]
    assert tl.export_limits(T0 + H, T0 + H) == []


def test_export_signals_beside_a_dlc_cap_in_one_event() -> None:
    """The User Guide's capacity event: import and export limits in each interval."""
    both = event(
        [
            [
                {"type": "IMPORT_CAPACITY_LIMIT", "values": [10.0]},
                {"type": "EXPORT_CAPACITY_LIMIT", "values": [4.0]},
            ],
            [
                {"type": "IMPORT_CAPACITY_LIMIT", "values": [8.0]},
                {"type": "EXPORT_CAPACITY_LIMIT", "values": [6.0]},
            ],
        ],
        duration="PT30M",
    )
    tl = timeline(both)
    half = H / 2
    assert tl.export_limits(T0, T0 + H) == [(T0, T0 + half, 4.0), (T0 + half, T0 + H, 6.0)]
    assert [c[2] for c in tl.caps(None, T0, T0 + H, 22.0, MIN)] == [10.0, 8.0]


@pytest.mark.parametrize(
    ("payloads", "fields", "logged"),
    [
        (export_price("cheap"), {}, "ignoring EXPORT_PRICE"),
        (export_price(None), {}, "ignoring EXPORT_PRICE"),
        (export_limit(-2.0), {}, "ignoring EXPORT_CAPACITY_LIMIT"),
        (export_limit("lots"), {}, "ignoring EXPORT_CAPACITY_LIMIT"),
        (
            export_limit(3.0),
            {"payloadDescriptors": descriptor("EXPORT_CAPACITY_LIMIT", units="KVAR")},
            "EXPORT_CAPACITY_LIMIT in KVAR ignored",
        ),
        (
            export_price(0.1),
            {"payloadDescriptors": descriptor("EXPORT_PRICE", units="THERM")},
            "EXPORT_PRICE per THERM ignored",
        ),
    ],
)
def test_malformed_export_payloads_logged_and_skipped(
    caplog: pytest.LogCaptureFixture,
    payloads: list[dict[str, Any]],
    fields: dict[str, Any],
    logged: str,
) -> None:
    """A value that is not a number, a negative limit, a unit that is not one: logged and
    skipped; the other events (a good export price) still apply."""
    good = event([export_price(0.07)], start=T0 + 2 * H)
    with caplog.at_level(logging.WARNING):
        tl = timeline(event([payloads], **fields), good)
    assert logged in caplog.text
    assert tl.export_limits(T0, T0 + 3 * H) == []
    assert tl.export_prices(T0, T0 + 3 * H) == [(T0 + 2 * H, T0 + 3 * H, Decimal("0.07"))]
