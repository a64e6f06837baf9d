"""Session summary: energy, cost by tariff period, billing party, program rate, data quality."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
        }


def tariff_for(session: ChargingSession, program: Tariff, default: Tariff) -> Tariff:
    """The tariff a session is priced on: the program's when the binding grants it."""
    return program if session.decision.program_rate else default


def summarize(
    session: ChargingSession,
    intervals: Sequence[Interval],
    program: Tariff,
    default: Tariff,
) -> SessionSummary:
    """Summarize a session from its intervals; only billable intervals are priced."""
    tariff = tariff_for(session, program, default)
    billable = [(i.start, i.end, i.kwh) for i in intervals if i.billable]
    cost = tariff.cost(billable)
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
    )
