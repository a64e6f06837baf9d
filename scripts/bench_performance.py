"""Benchmark the settlement of one event (core/settlement.py), pure core.

``bench()`` times, median of repeats, what the premise computes for one load-control event on
one session: the counterfactual plan (the planner without the event), its baseline over the
event window, the meter baseline from a week of the vehicle's previous sessions metered in
1-minute intervals (about 5,000 intervals), and the settlement (reduction, compliance, shift,
incentive) in 15-minute report intervals.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _modules() -> tuple[Any, Any, Any]:
    """(planner, settlement, tariff) without importing Home Assistant."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fleet import load_core

    load_core()
    __import__("pev_core.settlement")
    return (
        sys.modules["pev_core.planner"],
        sys.modules["pev_core.settlement"],
        sys.modules["pev_core.tariff"],
    )


def bench(repeats: int = 30) -> dict[str, float]:
    """Median and max milliseconds for one event's performance over a week of sessions."""
    planner, settlement, tariff = _modules()
    h = timedelta(hours=1)
    plug_in = datetime(2030, 7, 16, 18, tzinfo=UTC)  # a Tuesday
    event = settlement.EventWindow(
        "evt-1",
        "prg-1",
        plug_in + h,
        plug_in + 4 * h,
        cap_names=frozenset({"evt-1"}),
        limits=((plug_in + h, plug_in + 4 * h, 1.38),),
    )
    charger = planner.ChargerModel(max_kw=7.36)
    inputs = settlement.PlanningInputs(
        (planner.VehicleRequest("PEV-1", 30.0, plug_in + 13 * h, charger),),
        plug_in,
        tariff.FlatTariff("USD", Decimal("0.25")),
        caps=(planner.PowerCap(event.start, event.end, 1.38, "evt-1"),),
        horizon=timedelta(days=1),
    )
    minute = timedelta(minutes=1)
    history = []
    for day in range(1, 8):  # a week of evening sessions, 1-minute intervals, 13 h each
        start = plug_in - day * 24 * h + timedelta(minutes=7 * day)
        intervals = tuple(
            (start + i * minute, start + (i + 1) * minute, 0.1227 if i < 250 else 0.0)
            for i in range(13 * 60)
        )
        history.append(settlement.PastSession(start, start + 13 * h, intervals))
    measured = tuple(
        (plug_in + i * minute, plug_in + (i + 1) * minute, 0.023 if 60 <= i < 240 else 0.1227)
        for i in range(8 * 60)
    )
    rules = settlement.IncentiveRules("USD", Decimal("0.30"), Decimal("0.50"))
    times: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        cf_plan = settlement.counterfactual_plan(inputs, event)
        frozen = settlement.plan_intervals(cf_plan.vehicles["PEV-1"])
        cf = settlement.plan_baseline(frozen, event, interval_minutes=15)
        mb = settlement.meter_baseline(history, event, plug_in=plug_in, interval_minutes=15)
        perf = settlement.settle(
            event,
            vehicle_id="PEV-1",
            measured=measured,
            counterfactual=cf,
            meter=mb,
            target_kwh=30.0,
            rules=rules,
        )
        times.append((time.perf_counter() - started) * 1000)
    assert perf.delivered_kwh is not None
    return {
        "median_ms": statistics.median(times),
        "max_ms": max(times),
        "sessions": float(mb.sessions),
        "intervals": float(sum(len(s.intervals) for s in history)),
        "delivered_kwh": perf.delivered_kwh,
    }


def bench_store(repeats: int = 10) -> dict[str, float]:
    """Median milliseconds to read a vehicle's week of sessions from the ledger (SQLite, as
    ``settlement_tracker`` does for the meter baseline: ``LedgerStore.past_sessions``) and
    compute the meter baseline from them; 1-minute metering intervals, 13 h sessions."""
    import tempfile

    from custom_components.pev_portal.core.metering import Interval, Quality
    from custom_components.pev_portal.core.session import ChargingSession, VehicleSource
    from custom_components.pev_portal.core.settlement import (
        EventWindow,
        PastSession,
        meter_baseline,
    )
    from custom_components.pev_portal.io.store import LedgerStore

    h, minute = timedelta(hours=1), timedelta(minutes=1)
    plug_in = datetime(2030, 7, 16, 18, tzinfo=UTC)
    event = EventWindow("evt-1", "prg-1", plug_in + h, plug_in + 4 * h)
    times: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        store = LedgerStore(Path(folder) / "pev_portal.db")
        rows = 0
        for day in range(1, 8):
            start = plug_in - day * 24 * h + timedelta(minutes=7 * day)
            session = ChargingSession(charger_id="c1", premise_id="P-1", started_at=start)
            session.identify("PEV-1", VehicleSource.DEFAULT)
            data = session.to_dict()
            data["ended_at"] = (start + 13 * h).isoformat()
            intervals = [
                Interval(
                    start + i * minute,
                    start + (i + 1) * minute,
                    0.1227 if i < 250 else 0.0,
                    "PEV-1",
                    "P-1",
                    "M-1",
                    Quality.OK,
                    0,
                    None,
                )
                for i in range(13 * 60)
            ]
            rows += len(intervals)
            store.save_session(data, None, intervals)
        for _ in range(repeats):
            started = time.perf_counter()
            past = store.past_sessions("P-1", "PEV-1", plug_in)
            history = [PastSession(p, u, tuple(i), had) for _sid, p, u, i, had in past]
            baseline = meter_baseline(history, event, plug_in=plug_in, interval_minutes=15)
            times.append((time.perf_counter() - started) * 1000)
        store.close()
    assert baseline.intervals is not None
    return {"median_ms": statistics.median(times), "intervals": float(rows)}


def main() -> int:
    """Print the figures."""
    found = bench()
    print(
        f"performance: one event settled (counterfactual plan, meter baseline over a week of "
        f"{found['intervals']:,.0f} one-minute intervals, {found['sessions']:.0f} comparable) in "
        f"median {found['median_ms']:.1f} ms (max {found['max_ms']:.1f} ms)"
    )
    stored = bench_store()
    print(
        f"performance: a week of sessions ({stored['intervals']:,.0f} one-minute intervals) "
        f"read from the ledger and averaged into the meter baseline in median "
        f"{stored['median_ms']:.1f} ms (what Home Assistant adds per event and session, off "
        f"the event loop)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
