"""The figures of a settlement, apart from Home Assistant's side of it (a part of
:mod:`.settlement_tracker`): the frozen intervals as stored, the metered energy of a session,
both baselines and the settlement (run in the executor), and the stored and shown shape of a
performance (no NaN: an unknown is None).
"""

from __future__ import annotations

import math
from datetime import datetime, tzinfo
from typing import Any

from .core.metering import Interval, Quality
from .core.settlement import (
    Baseline,
    BaselineMethod,
    EnergyInterval,
    EventWindow,
    IncentiveRules,
    PastSession,
    Performance,
    meter_baseline,
    plan_baseline,
    settle,
)
from .io.settlements import PastRow
from .io.store import iso, parse_iso


def interval_list(items: Any) -> list[EnergyInterval]:
    return [(parse_iso(s), parse_iso(e), float(k)) for s, e, k in items or ()]


def json_intervals(items: Any) -> list[list[Any]] | None:
    if items is None:
        return None
    return [[iso(s), iso(e), num(k)] for s, e, k in items]


def num(value: float | None, digits: int = 6) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits) + 0.0


def compute(
    row: dict[str, Any],
    window: EventWindow,
    *,
    plug_in: datetime,
    unplug: datetime | None,
    minutes: int,
    measured: list[EnergyInterval],
    past: list[PastRow],
    tz: tzinfo,
    target: float | None,
    rules: IncentiveRules | None,
) -> Performance:
    """Both baselines and the settlement (pure; run in the executor)."""
    if row["counterfactual"] is None:
        reason = row["event"].get("counterfactual_reason") or "not computed"
        counterfactual = Baseline(BaselineMethod.COUNTERFACTUAL, None, reason=reason)
    else:
        counterfactual = plan_baseline(
            interval_list(row["counterfactual"]),
            window,
            interval_minutes=minutes,
            session_end=unplug,
        )
    history = [PastSession(p, u, tuple(i), had) for _sid, p, u, i, had in past]
    meter = meter_baseline(
        history,
        window,
        plug_in=plug_in,
        interval_minutes=minutes,
        tz=tz,
        session_end=unplug,
    )
    return settle(
        window,
        vehicle_id=row["pev_id"] or "",
        measured=measured,
        counterfactual=counterfactual,
        meter=meter,
        target_kwh=target,
        rules=rules,
    )


# No home charger delivers this much in one metering interval (a 350 kW charger draws
# 350 kWh in an hour, the longest interval): such a figure is a broken register, not energy,
# and a sum of them could overflow to infinity.
IMPLAUSIBLE_INTERVAL_KWH = 1000.0


def measured_energy(
    intervals: list[Interval], start: datetime, end: datetime, plug_in: datetime
) -> tuple[list[EnergyInterval], list[str]]:
    """The session's metered energy (usable intervals only) and the flags of the window.

    An interval is clock-aligned, so the first one may begin before the plug-in: its energy
    was drawn after it, and it is spread from the plug-in on (not over the time before).
    """
    out: list[EnergyInterval] = []
    flags: set[str] = set()
    for i in intervals:
        in_window = i.start < end and start < i.end
        usable = (
            isinstance(i.kwh, (int, float))
            and math.isfinite(i.kwh)
            and 0 <= i.kwh <= IMPLAUSIBLE_INTERVAL_KWH
        )
        if not usable or i.end < i.start:
            if in_window:
                flags.add("meter_gap")
            continue
        if in_window and i.quality is not Quality.OK:
            flags.add("meter_gap" if i.quality is Quality.MISSING else "meter_estimated")
        begin = max(i.start, plug_in) if i.end > plug_in else i.start
        out.append((begin, i.end, float(i.kwh)))
    return out, sorted(flags)


def as_dict(
    p: Performance,
    row: dict[str, Any],
    final: bool,
    target: Any,
    flags: list[str],
) -> dict[str, Any]:
    """The stored and shown shape of a performance (no NaN: unknowns are None)."""
    shifted = p.shifted_kwh if final else None  # known at unplug
    target_met = p.target_met if final or p.target_met else None
    return {
        "session_id": row["session_id"],
        "event_id": p.event_id,
        "program_id": p.program_id,
        "pev_id": p.vehicle_id,
        "charger_id": row["charger_id"],
        "name": row["name"],
        "source": row["source"],
        "kind": row["kind"],
        "start": iso(p.start),
        "end": iso(p.end),
        "final": final,
        "method": p.method.value if p.method else None,
        "baseline_kwh": num(
            (p.counterfactual if p.method is BaselineMethod.COUNTERFACTUAL else p.meter).energy_kwh
            if p.method
            else None
        ),
        "counterfactual_kwh": num(p.counterfactual.energy_kwh),
        "meter_kwh": num(p.meter.energy_kwh),
        "meter_sessions": p.meter.sessions,
        "meter_reason": p.meter.reason,
        "counterfactual_reason": p.counterfactual.reason,
        "measured_kwh": num(p.measured_kwh),
        "delivered_kwh": num(p.delivered_kwh),
        "delivered_kw": num(p.delivered_kw),
        "asked_kwh": num(p.asked_kwh),
        "compliance": num(p.compliance, 4),
        "shifted_kwh": num(shifted),
        "target_kwh": num(target) if isinstance(target, (int, float)) else None,
        "target_met": target_met,
        "incentive": str(p.incentive) if p.incentive is not None else None,
        "currency": p.currency,
        "flags": sorted({*p.flags, *flags}),
        "delivered_by_method": {m.value: num(v) for m, v in p.delivered_by_method.items()},
        "counterfactual": json_intervals(p.counterfactual.intervals),
        "meter": json_intervals(p.meter.intervals),
        "measured": json_intervals(p.measured),
    }
