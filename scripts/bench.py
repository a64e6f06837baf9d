"""PEV Portal benchmarks: print the figures the issues ask for.

Usage: ``scripts/bench [--quick]``

- metering: median cost of one meter reading into the interval ledger, over a stream of
  100,000 readings (target: under 100 µs on the 2-core reference machine);
- setup: time from config entry setup to all of its entities being available, in a real
  Home Assistant core (the test harness's instance, no mocks of the integration), median of
  several runs;
- control: the plans computed in a simulated day with two vehicles and a local event, and in a
  steady home (two cars with whole-percent state-of-charge sensors) the replans per hour and
  the CPU per hour of planning and its checks (bench_control.py);
- loop: the worst planner call left in the event loop, for the instance sizes
  ``charging.planning._small`` admits (bench_loop.py);
- performance: time to settle one event on a session against a week of 1-minute sessions;
- OpenADR 2.0b: event to cap after the poll that delivers it, and an idle hour of polling's
  CPU, against openleadr's VTN (bench_oadr2.py).
- planner and power feed: bench_planner.py, bench_feed.py and bench_feed_wired.py (the feed
  plan as Home Assistant builds and runs it; their docstrings say what).

Figures are printed, not asserted by the test suite (timed tests are flaky on shared CI).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_control import bench as bench_control  # noqa: E402
from bench_control import steady, steady_line  # noqa: E402
from bench_entry import bench_entry  # noqa: E402
from bench_feed import main as bench_feed_main  # noqa: E402
from bench_feed_wired import main as bench_feed_wired_main  # noqa: E402
from bench_hass import bench_home_assistant  # noqa: E402
from bench_loop import lines as loop_lines  # noqa: E402
from bench_loop import worst_inline  # noqa: E402
from bench_metering import TARGET_US  # noqa: E402
from bench_metering import bench as bench_metering  # noqa: E402
from bench_oadr2 import bench as bench_oadr2  # noqa: E402
from bench_oadr2 import line as oadr2_line  # noqa: E402
from bench_performance import main as bench_performance_main  # noqa: E402
from bench_planner import main as bench_planner_main  # noqa: E402
from bench_utility import bench as bench_utility  # noqa: E402


async def _setup_once(config_dir: str) -> tuple[float, int]:
    """Set up a premise with the demo charger and two vehicles; seconds until all entities exist."""
    from homeassistant.helpers import entity_registry as er

    async with bench_home_assistant(config_dir) as hass:
        entry = bench_entry([(f"PEV-{n}", f"Car {n}") for n in (1, 2)])
        entry.add_to_hass(hass)
        start = time.perf_counter()
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        entities = [
            e
            for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
            if e.disabled_by is None  # disabled by default: no state to wait for
        ]
        missing = [e.entity_id for e in entities if hass.states.get(e.entity_id) is None]
        elapsed = time.perf_counter() - start
        if missing or not entities:
            raise SystemExit(f"entities not available after setup: {missing}")
        await hass.config_entries.async_unload(entry.entry_id)
        return elapsed, len(entities)


def bench_setup(runs: int) -> tuple[float, int]:
    """Median seconds from setup to all entities available, and the entity count."""
    times: list[float] = []
    count = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as config_dir:
            elapsed, count = asyncio.run(_setup_once(config_dir))
            times.append(elapsed)
    return statistics.median(times), count


def main() -> int:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs (for a smoke test)")
    args = parser.parse_args()
    readings = 10_000 if args.quick else 100_000
    runs = 3 if args.quick else 15

    logging.disable(logging.WARNING)  # Home Assistant's start-up chatter is not a figure
    figures = bench_metering(readings)
    median_us = figures["median_us"]
    print(
        f"metering: median {median_us:.2f} µs per reading over {readings:,} readings "
        f"(p95 {figures.get('p95_us', float('nan')):.2f} µs; target < {TARGET_US:.0f} µs) "
        f"{'OK' if median_us < TARGET_US else 'MISSED'}"
    )
    setup_s, entities = bench_setup(runs)
    print(
        f"setup: median {setup_s * 1000:.1f} ms from config entry setup to all {entities} "
        f"entities available ({runs} runs)"
    )
    link = bench_utility()
    print(
        f"utility link: event to power cap by push median {link['push_median_ms']:.1f} ms "
        f"(max {link['push_max_ms']:.1f} ms), by poll {link['poll_median_ms']:.1f} ms after the "
        f"poll (which comes at most one polling interval after the event)"
    )
    print(
        f"utility link: 30-day backlog of {link['backlog_intervals']:,.0f} one-minute intervals "
        f"({link['backlog_reports']:.0f} reports) delivered in {link['backlog_s']:.1f} s "
        f"(target < 60 s) {'OK' if link['backlog_s'] < 60 else 'MISSED'}, "
        f"{link['backlog_cpu_s']:.1f} s of CPU with the test VTN in the same process "
        f"(target < 5 s) {'OK' if link['backlog_cpu_s'] < 5 else 'MISSED'}"
    )
    print(
        f"utility link: a BL grant to its event capping the charger {link['grant_push_ms']:.1f} ms "
        f"by push, {link['grant_poll_ms']:.1f} ms after the poll; after a VTN restart with empty "
        f"storage a new event caps the charger {link['restart_heal_ms']:.1f} ms after the "
        f"periodic check (it runs with each poll), the next one by push in "
        f"{link['after_heal_push_ms']:.1f} ms"
    )
    requests = link["unusable_pushes_vtn_requests"]
    print(
        f"utility link: {link['unusable_pushes']:,.0f} unusable pushes caused {requests:.0f} VTN "
        f"requests (target < 10) {'OK' if requests < 10 else 'MISSED'}"
    )
    print(oadr2_line(bench_oadr2()))
    control = bench_control()
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(control["reasons"].items()))
    print(
        f"control: {control['plans']} plans in a simulated day with two vehicles and a local "
        f"event ({reasons}; target: one per real input change, before: 720 per event hour); "
        f"{control['cpu_s'] / 24 * 1000:.0f} ms of CPU per simulated hour in all"
    )
    print(steady_line(steady(hours=2.0 if args.quick else 6.0)))
    for line in loop_lines(worst_inline(30 if args.quick else 100)):
        print(line)
    bench_performance_main()
    print()
    planner_ok = bench_planner_main(["bench_planner"]) == 0
    print()
    bench_feed_main(["bench_feed"])
    print()
    bench_feed_wired_main(["bench_feed_wired"])
    return 0 if median_us < TARGET_US and link["backlog_s"] < 60 and planner_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
