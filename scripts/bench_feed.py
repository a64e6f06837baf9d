"""Benchmark the power-feed (V2G/V2H) planner: speed against HiGHS, and a year's money.

Usage: ``python scripts/bench_feed.py [SEED]`` (default seed 2026, printed; ``scripts/bench``
runs it too). Prints:

1. CPU time of one ``plan_feed`` call for 1 and 4 bidirectional vehicles over 7 days in
   15-minute slots (672), median of 5, with a budget of one cycle a day; and 4 vehicles
   with 0.1 cycle a day, which binds every day (Dantzig-Wolfe rounds; quarter-hourly prices
   at most 40 rounds, once, with the plan's proven gap): under the Octopus Flux time-of-use tariff with an
   hourly home-load forecast (alike slots merge into blocks), and under quarter-hourly
   real-time prices with a quarter-hourly load forecast (nothing merges). Against HiGHS
   (``scipy.optimize.linprog``, the test suite's reference LP; its solve alone, not the
   model's build) on the same instance, and the two objectives.
2. A seeded year of daily sessions (arrive 17:00-19:00, leave 07:00-08:30, 60 kWh battery
   arriving at 35-70 %, floor 40 %, target 80 %, 7.4 kW both ways like a Wallbox Quasar,
   round trip 0.85, wear £0.03/kWh, one cycle a day at most, a home drawing 0.3-2 kW, export
   limited to 3.68 kW (the UK's G98 limit of 16 A per phase)) under Octopus Flux, planned
   once at arrival: the year's cost charging only, with power feed, and with V2H only (no
   export); the energy fed (to the home, exported), the equivalent full cycles used.

Octopus Flux (import/export, p/kWh, the rates published in May 2023; they vary by region):
02:00-05:00 20.11/9.11, 05:00-16:00 33.52/22.52, 16:00-19:00 46.93/35.93, 19:00-02:00
33.52/22.52 (https://blog.spiritenergy.co.uk/homeowner/octopus-energy-tariffs, 24 May 2023).
"""

from __future__ import annotations

import importlib.util
import math
import random
import statistics
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_CORE = ROOT / "custom_components/pev_portal/core"
SLOT_H = 0.25
FLUX = (  # (from hour, to hour, import £/kWh, export £/kWh)
    (0, 2, 0.3352, 0.2252),
    (2, 5, 0.2011, 0.0911),
    (5, 16, 0.3352, 0.2252),
    (16, 19, 0.4693, 0.3593),
    (19, 24, 0.3352, 0.2252),
)
G98_KW = 3.68


def _load() -> Any:
    """``core.planner_feed``; from its files when the package needs Home Assistant."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        from custom_components.pev_portal.core import planner_feed
    except ImportError:  # the integration package imports Home Assistant; the core does not
        pkg = types.ModuleType("pev_feed_bench")
        pkg.__path__ = [str(_CORE)]
        sys.modules["pev_feed_bench"] = pkg
        mod: Any = None
        for name in (
            "planner_feed_types",
            "planner_feed_flow",
            "planner_feed_slots",
            "planner_feed",
        ):
            spec = importlib.util.spec_from_file_location(
                f"pev_feed_bench.{name}", _CORE / f"{name}.py"
            )
            assert spec is not None
            assert spec.loader is not None
            mod = importlib.util.module_from_spec(spec)
            sys.modules[f"pev_feed_bench.{name}"] = mod
            spec.loader.exec_module(mod)
        return mod
    return planner_feed


F = _load()


def flux(hour: float) -> tuple[float, float]:
    """Octopus Flux import and export price at a local hour of the day."""
    h = hour % 24
    return next((imp, exp) for lo, hi, imp, exp in FLUX if lo <= h < hi)


def home_kw(hour: float, rng: random.Random) -> float:
    """A home's load: 0.3 kW at night, 0.5 kW by day, 1.5 kW in the evening, +-30 %."""
    h = hour % 24
    base = 1.5 if 17 <= h < 21 else 0.3 if h < 6 or h >= 23 else 0.5
    return round(base * rng.uniform(0.7, 1.3), 2)


def week(n_vehicles: int, seed: int, *, rtp: bool) -> tuple[list[Any], Any]:
    """A week from Monday 17:00, 15-minute slots, vehicles leaving over the week."""
    rng = random.Random(seed)
    n = int(7 * 24 / SLOT_H)
    hours = [17 + t * SLOT_H for t in range(n)]
    if rtp:
        imp = [round(flux(h)[0] * rng.uniform(0.6, 1.4), 4) for h in hours]
        exp = [round(p - 0.11, 4) for p in imp]
        home = [home_kw(h, rng) for h in hours]
    else:
        imp = [flux(h)[0] for h in hours]
        exp = [flux(h)[1] for h in hours]
        hourly = {int(h): home_kw(h, rng) for h in hours}
        home = [hourly[int(h)] for h in hours]
    premise = F.FeedPremise((SLOT_H,) * n, tuple(imp), tuple(exp), (G98_KW,) * n, tuple(home))
    vehicles = [
        F.FeedVehicle(
            f"ev{i}",
            capacity_kwh=60.0,
            soc_kwh=rng.uniform(20, 45),
            floor_kwh=24.0,
            target_kwh=48.0,
            departure_slot=n - rng.choice([0, 10, 40, 90]),
            max_charge_kw=7.4,
            max_discharge_kw=7.4,
            wear_cost_per_kwh=0.03,
            cycles_per_day=1.0,
        )
        for i in range(n_vehicles)
    ]
    return vehicles, premise


def _cpu_ms(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    runs, out = [], None
    for _ in range(repeats):
        start = time.process_time()
        out = fn()
        runs.append(time.process_time() - start)
    return statistics.median(runs) * 1000, out


def speed(seed: int) -> list[str]:
    """Lines: planner CPU vs HiGHS, 1 and 4 vehicles, TOU and RTP weeks."""
    try:
        from tests.core.test_planner_feed_lp import Case, reference
    except ImportError:  # scipy (a test dependency) or the tests package missing
        reference = None
    lines = []
    cases: list[tuple[bool, int, float | None, int, int]] = [
        (rtp, n, None, 500, 5) for rtp in (False, True) for n in (1, 4)
    ]
    cases += [(False, 4, 0.1, 500, 5), (True, 4, 0.1, 40, 1)]
    for rtp, n, budget, max_rounds, repeats in cases:
        vehicles, premise = week(n, seed, rtp=rtp)
        if budget is not None:
            vehicles = [replace(v, cycles_per_day=budget) for v in vehicles]
        ms, plan = _cpu_ms(
            lambda v=vehicles, p=premise, r=max_rounds: F.plan_feed(v, p, max_rounds=r), repeats
        )
        spans = len(F.blocks(vehicles, premise)) if hasattr(F, "blocks") else 0
        highs = ""
        if reference is not None:
            timings: list[float] = []
            ref = reference(Case(vehicles, premise), timings)
            highs = (
                f"; HiGHS {timings[0] * 1000:.0f} ms, objectives {plan.objective:.4f} vs {ref:.4f}"
            )
        name = "quarter-hourly RTP" if rtp else "Octopus Flux TOU"
        if budget is not None:
            name += f", binding budget ({budget} cycle a day, at most {max_rounds} rounds)"
        gap = f", gap {plan.gap:.4f}" if plan.gap else ""
        lines.append(
            f"  {n} vehicle(s), {name}: {ms:.0f} ms ({spans} blocks of 672 slots, "
            f"{plan.pivots} pivots, {plan.rounds} Dantzig-Wolfe rounds{gap}){highs}"
        )
    return lines


@dataclass
class Year:
    cost: float = 0.0
    home_kwh: float = 0.0
    export_kwh: float = 0.0
    cycles: float = 0.0
    wear: float = 0.0
    sessions: int = 0
    short: int = 0


def year(seed: int) -> dict[str, Year]:
    """A year of evening sessions under Octopus Flux: charging only, feed, V2H only."""
    rng = random.Random(seed)
    out = {"charging only": Year(), "power feed (V2G + V2H)": Year(), "V2H only": Year()}
    for _ in range(365):
        arrive = 17 + rng.randrange(9) * SLOT_H
        leave = 24 + 7 + rng.randrange(7) * SLOT_H
        n = int((leave - arrive) / SLOT_H)
        hours = [arrive + t * SLOT_H for t in range(n)]
        hourly = {int(h): home_kw(h, rng) for h in hours}
        premise = F.FeedPremise(
            (SLOT_H,) * n,
            tuple(flux(h)[0] for h in hours),
            tuple(flux(h)[1] for h in hours),
            (G98_KW,) * n,
            tuple(hourly[int(h)] for h in hours),
        )
        car = F.FeedVehicle(
            "car",
            capacity_kwh=60.0,
            soc_kwh=60.0 * rng.uniform(0.35, 0.70),
            floor_kwh=24.0,
            target_kwh=48.0,
            departure_slot=n,
            max_charge_kw=7.4,
            max_discharge_kw=7.4,
            wear_cost_per_kwh=0.03,
            cycles_per_day=1.0,
        )
        runs = {
            "charging only": (premise, False),
            "power feed (V2G + V2H)": (premise, True),
            "V2H only": (replace(premise, export_limit_kw=(0.0,) * n), True),
        }
        for name, (prem, feed) in runs.items():
            p = F.plan_feed([car], prem, feed=feed).vehicles["car"]
            y = out[name]
            y.cost += p.net_cost
            y.home_kwh += math.fsum(p.home_kwh)
            y.export_kwh += math.fsum(p.export_kwh)
            y.cycles += p.cycles
            y.wear += p.wear_cost
            y.sessions += 1
            y.short += not p.reachable
    return out


def main(argv: list[str]) -> int:
    seed = int(argv[1]) if len(argv) > 1 else 2026
    print(f"power feed planner, seed {seed}")
    print("one plan, 7 days of 15-minute slots, CPU ms (median of 5):")
    for line in speed(seed):
        print(line)
    start = time.perf_counter()
    figures = year(seed)
    base = figures["charging only"].cost
    print("a year of evening sessions under Octopus Flux (60 kWh, 7.4 kW both ways, G98 export):")
    for name, y in figures.items():
        print(
            f"  {name}: £{y.cost:.2f} a year (saves £{base - y.cost:.2f}), fed {y.home_kwh:.0f} "
            f"kWh to the home and {y.export_kwh:.0f} kWh exported, {y.cycles:.1f} equivalent "
            f"full cycles ({y.cycles / y.sessions:.2f} a day), wear £{y.wear:.2f}, "
            f"targets missed {y.short}"
        )
    print(f"(year simulation took {time.perf_counter() - start:.1f} s)")
    return 0  # figures are printed, never asserted (timings depend on the machine)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
