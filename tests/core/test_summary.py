"""Session summaries: energy, cost by period, billing party, quality."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from custom_components.pev_portal.core.binding import decide_local
from custom_components.pev_portal.core.metering import Interval, Quality
from custom_components.pev_portal.core.session import ChargingSession
from custom_components.pev_portal.core.summary import export_credit, summarize
from custom_components.pev_portal.core.tariff import FlatTariff, tariff_from_dict

T0 = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)
PROGRAM = tariff_from_dict(
    {
        "type": "tou",
        "currency": "USD",
        "timezone": "UTC",
        "default_period": "off_peak",
        "default_price": "0.10",
        "seasons": [
            {
                "name": "all",
                "start": "01-01",
                "end": "12-31",
                "periods": [
                    {
                        "period": "on_peak",
                        "days": ["all"],
                        "start": "16:00",
                        "end": "21:00",
                        "price": "0.50",
                    }
                ],
            }
        ],
    }
)
DEFAULT = FlatTariff("USD", Decimal("0.30"))


def interval(minutes: int, kwh: float, quality: Quality = Quality.OK) -> Interval:
    start = T0 + timedelta(minutes=minutes)
    return Interval(
        start, start + timedelta(minutes=30), kwh, "PEV-1", "P1", "M1", quality, 0, None
    )


def make_session(registered: bool) -> ChargingSession:
    s = ChargingSession(charger_id="c1", premise_id="P1", started_at=T0)
    s.pev_id = "PEV-1"
    s.bind(decide_local(registered), T0)
    return s


def test_cost_by_period_on_program_rate() -> None:
    """A home session straddling the on-peak start is split per period, MISSING not billed."""
    intervals = [
        interval(0, 2.0),  # 15:00-15:30 off-peak
        interval(30, 2.0),  # 15:30-16:00 off-peak
        interval(60, 2.0, Quality.ESTIMATED),  # 16:00-16:30 on-peak
        interval(90, 0.0, Quality.MISSING),
    ]
    summary = summarize(make_session(True), intervals, PROGRAM, DEFAULT)
    assert summary.energy_kwh == 6.0
    assert summary.cost.total == Decimal("1.4000")
    by_period = {p.period: p.cost for p in summary.cost.by_period}
    assert by_period == {"off_peak": Decimal("0.4000"), "on_peak": Decimal("1.0000")}
    assert summary.program_rate is True
    assert summary.billing_party == "premise_customer"
    assert summary.interval_count == 4
    assert summary.quality_counts == {"OK": 2, "ESTIMATED": 1, "MISSING": 1}
    assert summary.data_quality is Quality.MISSING
    data = summary.to_dict()
    assert data["cost"] == "1.4000"
    assert data["cost_by_period"]["on_peak"] == "1.0000"
    assert data["data_quality"] == "MISSING"


def test_guest_pays_default_rate() -> None:
    """A guest without a utility link is priced at the premise's default rate."""
    summary = summarize(make_session(False), [interval(60, 2.0)], PROGRAM, DEFAULT)
    assert summary.cost.total == Decimal("0.6000")
    assert summary.program_rate is False
    assert summary.outcome == "guest_premise_pays"
    assert summary.data_quality is Quality.OK


def test_estimated_is_worse_than_ok() -> None:
    """Data quality is the worst interval's."""
    summary = summarize(
        make_session(True),
        [interval(0, 1.0), interval(30, 1.0, Quality.ESTIMATED)],
        PROGRAM,
        DEFAULT,
    )
    assert summary.data_quality is Quality.ESTIMATED


def fed(minutes: int, kwh: float, exported: float, quality: Quality = Quality.OK) -> Interval:
    start = T0 + timedelta(minutes=minutes)
    return Interval(
        start, start + timedelta(minutes=30), kwh, "PEV-1", "P1", "M1", quality, 0, None, exported
    )


def test_power_feed_export_credit_and_net_cost() -> None:
    """The energy fed is credited at the export price where one covers it (spread over each
    interval's time), MISSING intervals not; the net cost is the cost less the credit."""
    prices = [
        (T0 + timedelta(minutes=60), T0 + timedelta(minutes=90), 0.20),
        (T0 + timedelta(minutes=90), T0 + timedelta(minutes=150), 0.40),
    ]
    intervals = [
        fed(0, 1.0, 0.0),  # 15:00 charging, off-peak 0.10
        fed(30, 0.0, 2.0),  # 15:30-16:00: no export price: worth nothing
        fed(60, 0.0, 3.0),  # 16:00-16:30 at 0.20: 0.60
        fed(75, 0.0, 2.0),  # 16:15-16:45: half at 0.20, half at 0.40: 0.60
        fed(120, 0.0, 5.0, Quality.MISSING),  # not billable: neither counted nor credited
    ]
    summary = summarize(make_session(True), intervals, PROGRAM, DEFAULT, prices)
    assert summary.exported_kwh == pytest.approx(7.0)
    assert summary.export_credit == Decimal("1.2000")
    assert summary.cost.total == Decimal("0.1000")
    assert summary.net_cost == Decimal("-1.1000")
    data = summary.to_dict()
    assert (data["exported_kwh"], data["export_credit"], data["net_cost"]) == (
        7.0,
        "1.2000",
        "-1.1000",
    )


def test_no_export_price_no_credit() -> None:
    """Without an export price (part D's stub) the energy fed is shown and earns 0."""
    summary = summarize(make_session(True), [fed(0, 1.0, 2.0)], PROGRAM, DEFAULT)
    assert summary.exported_kwh == 2.0
    data = summary.to_dict()
    assert (data["export_credit"], data["net_cost"]) == ("0.0000", data["cost"])


def test_export_credit_edges() -> None:
    """A zero-length interval takes the price at its start; a price that is not finite is
    skipped; half even at the tariff's precision."""
    point = Interval(T0, T0, 0.0, "PEV-1", "P1", "M1", Quality.OK, 0, None, 1.0)
    prices = [(T0, T0 + timedelta(hours=1), 0.12345), (T0, T0 + timedelta(hours=1), math.nan)]
    assert export_credit([(point.start, point.end, 1.0)], prices, 4) == Decimal("0.1234")
    assert export_credit([(T0, T0 + timedelta(hours=1), 1.0)], prices[1:], 2) == Decimal("0.00")
