"""Benchmark the power-feed planner as Home Assistant runs it: the inputs built from the
sessions (``charging/feed_build.build``: the slot grid, prices, export signals, the home's
load) and the plan (``plan_groups``: ``plan_feed`` with the rounds bounded as the wiring does).

Usage: ``python scripts/bench_feed_wired.py`` (``scripts/bench`` runs it too). CPU time, median
of 5, for 1 and 4 bidirectional vehicles (60 kWh, 7.4 kW both ways, at 50 %, floor 40 %,
target 80 %, one cycle a day) under Octopus Flux (import, Europe/London) with a flat export
rate of 0.15, a 3.68 kW export limit and a 1.2 kW home: to a departure 24 hours on (what the
wiring plans: up to the next departure) and 7 days on (the issue's figure); and the hard case:
4 vehicles whose 0.1 cycle a day binds, under seeded quarter-hourly export prices (the plan's
Dantzig-Wolfe rounds, at most ``FEED_MAX_ROUNDS``; its proven gap printed).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from custom_components.pev_portal.charging.feed import FEED_MAX_ROUNDS  # noqa: E402
from custom_components.pev_portal.charging.feed_build import (  # noqa: E402
    Candidate,
    build,
    plan_groups,
)
from custom_components.pev_portal.core.tariff import tariff_from_dict  # noqa: E402

_Q = timedelta(minutes=15)
FLUX = {
    "type": "tou",
    "currency": "GBP",
    "timezone": "Europe/London",
    "default_period": "day",
    "seasons": [
        {
            "name": "all",
            "start": "01-01",
            "end": "12-31",
            "periods": [
                {"period": p, "days": ["weekday", "weekend", "holiday"], "start": a, "end": b}
                | {"price": price}
                for p, a, b, price in (
                    ("day", "00:00", "02:00", "0.3352"),
                    ("night", "02:00", "05:00", "0.2011"),
                    ("day", "05:00", "16:00", "0.3352"),
                    ("peak", "16:00", "19:00", "0.4693"),
                    ("day", "19:00", "24:00", "0.3352"),
                )
            ],
        }
    ],
}


def _cpu_ms(fn: Callable[[], object], repeats: int = 5) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.process_time()
        out = fn()
        times.append((time.process_time() - start) * 1000.0)
    return statistics.median(times), out


def case(n: int, horizon: timedelta, *, rtp: bool = False) -> str:
    """One line: build and plan time for ``n`` vehicles to a departure ``horizon`` on
    (``rtp``: quarter-hourly export prices, seeded, and 0.1 cycle a day, which binds:
    Dantzig-Wolfe rounds)."""
    tariff = tariff_from_dict(FLUX)
    now = datetime(2026, 12, 2, 17, 7, tzinfo=UTC)
    departure = (now + horizon).replace(minute=0)
    cars = [
        Candidate(
            charger_id=f"charger{i}",
            tariff=tariff,
            capacity_kwh=60.0,
            soc=0.5,
            floor_pct=40.0,
            target_pct=80.0,
            departure=departure,
            max_charge_kw=7.4,
            max_discharge_kw=7.4,
            charge_efficiency=0.92,
            discharge_efficiency=0.92,
            wear=0.03,
            cycles_per_day=0.1 if rtp else 1.0,
        )
        for i in range(n)
    ]
    prices = [(now, departure, 0.15)]
    if rtp:
        rng = random.Random(2026)
        quarters = int((departure - now) / timedelta(minutes=15))
        prices = [
            (now + k * _Q, now + (k + 1) * _Q, rng.uniform(0.05, 0.6)) for k in range(quarters)
        ]
    limits = [(now, departure, 3.68)]
    build_ms, inputs = _cpu_ms(lambda: build(cars, now, prices, limits, 1.2))
    repeats = 1 if rtp and horizon > timedelta(days=1) else 5  # seconds each: once
    plan_ms, (plans, gap) = _cpu_ms(lambda: plan_groups(inputs, FEED_MAX_ROUNDS), repeats)
    fed = sum(sum(p.discharge_kwh) for p in plans.values())
    slots = len(inputs.bounds) - 1
    kind = "RTP export, 0.1 cycle/day" if rtp else "TOU, flat export"
    return (
        f"| {n} | {kind} | {horizon.days or 1} day{'s' if horizon.days > 1 else ''} | {slots} |"
        f" {build_ms:.1f} ms | {plan_ms:.1f} ms | {fed:.1f} kWh | {gap:g} |"
    )


def main(argv: list[str]) -> int:
    """Print the table."""
    print("power feed, wired (build + plan), CPU time, median of 5 (the last row: once)")
    print("| vehicles | prices | to departure | slots | build | plan | fed | gap |")
    print("|---|---|---|---|---|---|---|---|")
    for n in (1, 4):
        for horizon in (timedelta(hours=24), timedelta(days=7)):
            print(case(n, horizon))
    for horizon in (timedelta(hours=24), timedelta(days=7)):
        print(case(4, horizon, rtp=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
