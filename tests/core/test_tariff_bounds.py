"""A tariff document is bounded in depth and size before anything recursive sees it.

A tariff whose RTP fallback nested 300 deep was once accepted by the options flow, and then
Home Assistant could not save any config entry (the recursion limit); 900 deep gave a 500.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.pev_portal.core.tariff import TariffError, tariff_from_dict
from custom_components.pev_portal.core.tariff.parse import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    MAX_RTP_POINTS,
)

FLAT: dict[str, Any] = {"type": "flat", "currency": "USD", "price": "0.20"}


def nested_rtp(levels: int) -> dict[str, Any]:
    tariff: dict[str, Any] = FLAT
    for _ in range(levels):
        tariff = {"type": "rtp", "currency": "USD", "points": [], "fallback": tariff}
    return tariff


def points(count: int) -> list[dict[str, str]]:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        {
            "start": (t0 + timedelta(hours=n)).isoformat(),
            "end": (t0 + timedelta(hours=n + 1)).isoformat(),
            "price": "0.1",
        }
        for n in range(count)
    ]


def test_a_tariff_nested_within_the_bound_is_accepted() -> None:
    # Each RTP level adds two levels of nesting (the mapping and its fallback's mapping).
    tariff_from_dict(nested_rtp(MAX_DEPTH // 2 - 1))


@pytest.mark.parametrize("levels", [MAX_DEPTH, 300, 900, 50_000])
def test_a_deeply_nested_tariff_is_refused_cleanly(levels: int) -> None:
    with pytest.raises(TariffError, match="nested deeper than"):
        tariff_from_dict(nested_rtp(levels))


def test_a_deep_list_is_refused_too() -> None:
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(TariffError, match="nested deeper than"):
        tariff_from_dict({**FLAT, "cpp": deep})


def test_a_large_document_is_refused() -> None:
    big = {**FLAT, "name": "x" * (MAX_DOCUMENT_BYTES + 1)}
    with pytest.raises(TariffError, match="larger than"):
        tariff_from_dict(big)


def test_too_many_rtp_points_are_refused() -> None:
    # One point more than allowed, each short enough that the document stays under its size.
    many = [{"start": "a", "end": "b", "price": "1"}] * (MAX_RTP_POINTS + 1)
    doc = {"type": "rtp", "currency": "USD", "points": many, "fallback": FLAT}
    assert len(json.dumps(doc)) < MAX_DOCUMENT_BYTES
    with pytest.raises(TariffError, match="more than 10000 price points"):
        tariff_from_dict(doc)


def test_a_year_of_hourly_prices_parses() -> None:
    doc = {"type": "rtp", "currency": "USD", "points": points(8760), "fallback": FLAT}
    assert len(tariff_from_dict(doc).to_dict()["points"]) == 8760
