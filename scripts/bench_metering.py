"""Benchmark the metering hot path: ``IntervalLedger.add`` over a stream of register readings.

Usage: ``python scripts/bench_metering.py [N]`` (default 100,000 readings). Prints the median
cost per reading in µs (target: < 100 µs per reading on a slow 2-core machine) and exits with
status 1 if the target is missed.

The stream is irregular (1-60 s between readings, 0-11 kW, 1-minute intervals so that many
readings close an interval) with the occasional anomaly (out of order, reset, gap). Timestamps
are built before timing starts, as the caller supplies them. The cost per reading is measured
with ``time.perf_counter_ns`` over batches of readings; the median over the batches is reported.
"""

from __future__ import annotations

import importlib.util
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

TARGET_US = 100.0
BATCH = 100
_METERING = Path(__file__).resolve().parent.parent / (
    "custom_components/pev_portal/core/metering.py"
)


def _load_metering() -> ModuleType:
    """The metering module; loaded from its file when the package needs Home Assistant."""
    root = str(_METERING.parents[3])
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        from custom_components.pev_portal.core import metering
    except ImportError:  # the integration package imports Home Assistant; metering does not
        name = "pev_portal_metering_bench"
        spec = importlib.util.spec_from_file_location(name, _METERING)
        assert spec is not None
        assert spec.loader is not None
        metering = importlib.util.module_from_spec(spec)
        sys.modules[name] = metering
        spec.loader.exec_module(metering)
    return metering


def _stream(n: int, seed: int = 1) -> list[tuple[datetime, float]]:
    rng = random.Random(seed)
    at = datetime(2024, 3, 10, 18, 0, 0, 123_000, tzinfo=UTC)
    kwh = 1234.5
    readings: list[tuple[datetime, float]] = []
    for i in range(n):
        roll = rng.random()
        if i and roll < 0.001:  # out of order: an old reading again
            readings.append(readings[-1 - rng.randrange(min(i, 5))])
            continue
        step = timedelta(seconds=rng.randint(1, 60), microseconds=rng.randrange(1_000_000))
        if roll > 0.9995:  # gap
            step += timedelta(minutes=rng.randint(16, 40))
        at += step
        if roll > 0.999 and roll <= 0.9995:  # reset
            kwh = rng.uniform(0.0, 5.0)
        else:
            kwh += rng.uniform(0.0, 11.0) * step.total_seconds() / 3600.0
        readings.append((at, kwh))
    return readings


def bench(n: int = 100_000) -> dict[str, float]:
    """Feed ``n`` readings; per-reading cost in µs (median, p95, max over batches, mean)."""
    metering = _load_metering()
    readings = _stream(n)
    ledger = metering.IntervalLedger(
        interval_minutes=1, premise_id="premise-1", meter_id="meter-1", pev_id="EV-1"
    )
    add = ledger.add
    per_reading_us: list[float] = []
    intervals = 0
    started = time.perf_counter_ns()
    for first in range(0, n, BATCH):
        batch = readings[first : first + BATCH]
        t0 = time.perf_counter_ns()
        for at, kwh in batch:
            intervals += len(add(at, kwh))
        t1 = time.perf_counter_ns()
        per_reading_us.append((t1 - t0) / len(batch) / 1000.0)
    elapsed_ns = time.perf_counter_ns() - started
    ordered = sorted(per_reading_us)
    return {
        "readings": float(n),
        "intervals": float(intervals),
        "anomalies": float(len(ledger.drain_anomalies())),
        "median_us": statistics.median(per_reading_us),
        "p95_us": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "max_batch_us": ordered[-1],
        "mean_us": elapsed_ns / n / 1000.0,
    }


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 100_000
    result = bench(n)
    print(
        f"metering: {result['median_us']:.2f} µs per reading (median over batches of {BATCH}; "
        f"p95 {result['p95_us']:.2f}, worst batch {result['max_batch_us']:.2f}, "
        f"mean {result['mean_us']:.2f}) for {int(result['readings'])} readings, "
        f"{int(result['intervals'])} intervals, {int(result['anomalies'])} anomalies; "
        f"target < {TARGET_US:g} µs"
    )
    return 0 if result["median_us"] < TARGET_US else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
