"""Session summary: energy, cost by tariff period, billing party, program rate, data quality."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from .metering import Interval, Quality
from .session import ChargingSession
from .tariff import CostBreakdown, Tariff


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """What a session came to."""

    session_id: str
    pev_id: str | None
    energy_kwh: float
    cost: CostBreakdown
    billing_party: str
    outcome: str
    program_rate: bool
    interval_count: int
    quality_counts: dict[str, int]
    # Power feed (issue #18): the energy fed back in billable intervals and what it earned at
    # the export price (in the cost's currency and precision; 0 without an export price).
    exported_kwh: float = 0.0
    export_credit: Decimal = field(default_factory=Decimal)

    @property
    def net_cost(self) -> Decimal:
        """The cost less the export credit (negative: the session earned)."""
        return self.cost.total - self.export_credit

    @property
    def data_quality(self) -> Quality:
        """The worst quality of any interval: OK, ESTIMATED or MISSING."""
        if self.quality_counts.get(Quality.MISSING, 0):
            return Quality.MISSING
        if self.quality_counts.get(Quality.ESTIMATED, 0):
            return Quality.ESTIMATED
        return Quality.OK

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form (money as strings, never floats)."""
        return {
            "session_id": self.session_id,
            "pev_id": self.pev_id,
            "energy_kwh": round(self.energy_kwh, 6),
            "currency": self.cost.currency,
            "cost": str(self.cost.total),
            "cost_by_period": {p.period: str(p.cost) for p in self.cost.by_period},
            "kwh_by_period": {p.period: round(p.kwh, 6) for p in self.cost.by_period},
            "billing_party": self.billing_party,
            "outcome": self.outcome,
            "program_rate": self.program_rate,
            "interval_count": self.interval_count,
            "quality_counts": dict(self.quality_counts),
            "data_quality": self.data_quality.value,
            "exported_kwh": round(self.exported_kwh, 6),
            "export_credit": str(self.export_credit),
            "net_cost": str(self.net_cost),
        }


def tariff_for(session: ChargingSession, program: Tariff, default: Tariff) -> Tariff:
    """The tariff a session is priced on: the program's when the binding grants it."""
    return program if session.decision.program_rate else default


def summarize(
    session: ChargingSession,
    intervals: Sequence[Interval],
    program: Tariff,
    default: Tariff,
    export_prices: Sequence[tuple[datetime, datetime, float]] = (),
) -> SessionSummary:
    """Summarize a session from its intervals; only billable intervals are priced, the energy
    fed back at ``export_prices`` (piecewise ``(start, end, price per kWh)``, sorted)."""
    tariff = tariff_for(session, program, default)
    billable = [(i.start, i.end, i.kwh) for i in intervals if i.billable]
    cost = tariff.cost(billable)
    fed = [(i.start, i.end, i.exported_kwh) for i in intervals if i.billable and i.exported_kwh]
    counts: dict[str, int] = {}
    for interval in intervals:
        counts[interval.quality.value] = counts.get(interval.quality.value, 0) + 1
    return SessionSummary(
        session_id=session.session_id,
        pev_id=session.pev_id,
        energy_kwh=sum(kwh for _, _, kwh in billable),
        cost=cost,
        billing_party=session.decision.billing_party.value,
        outcome=session.decision.outcome.value,
        program_rate=session.decision.program_rate,
        interval_count=len(intervals),
        quality_counts=counts,
        exported_kwh=math.fsum(kwh for _, _, kwh in fed),
        export_credit=export_credit(fed, export_prices, tariff.precision),
    )


def export_credit(
    fed: Sequence[tuple[datetime, datetime, float]],
    prices: Sequence[tuple[datetime, datetime, float]],
    precision: int,
) -> Decimal:
    """What the energy fed earns: each interval's kWh spread over its time in proportion, at
    the export price where one covers it (a time no price covers earns nothing; a zero-length
    interval takes the price at its start), summed unrounded and rounded half even to
    ``precision`` decimals once."""
    raw = Decimal(0)
    for start, end, kwh in fed:
        span = (end - start).total_seconds()
        for p_start, p_end, price in prices:
            if not math.isfinite(price):
                continue
            if span <= 0:
                share = 1.0 if p_start <= start < p_end else 0.0
            else:
                overlap = (min(end, p_end) - max(start, p_start)).total_seconds()
                share = overlap / span if overlap > 0 else 0.0
            if share:
                raw += Decimal(repr(kwh * share)) * Decimal(repr(price))
    credit = raw.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_EVEN)
    return abs(credit) if credit.is_zero() else credit
