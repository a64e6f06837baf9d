"""The fleet's response to a price and a load-control event, simulated offline (no Home Assistant).

Usage: ``scripts/fleet [--premises N] [--scaling 100,1000,10000] [--workers W] [--seed S]
[--spread MIN] [--out DIR]``

N simulated premises (default 10,000), each with one vehicle: battery 40-100 kWh, a 1- or 3-phase
charger (3.7, 7.4, 11 or 22 kW), plug-in around 18:00 and departure around 07:30 local time
(America/Los_Angeles; one in ten leaves again 2-5 hours later), the energy its day of driving
used, a flat or one of two time-of-use tariffs, and a charge mode (most plan the cheapest
charging, some charge at once). Every premise plans its session with the product's own planner
(``core/planner.py``, 15-minute slots) in three scenarios over the same day (Tuesday
2030-07-16, 12:00 to 12:00):

* ``baseline``: no event;
* ``events``: a critical-peak price event (1.20 USD/kWh, 17:00-20:00) and a load-control event
  (every charger capped at 1.38 kW, 17:00-20:00) sent to every premise;
* ``events+random``: the same, with the randomized start: wherever the plan steps up after
  plug-in (a price or event boundary every home shares) the vehicle is held at its power before
  the step (0 kW when idle) for a random time in ``[0, spread]`` (default 30 minutes, the
  event's ``randomizeStart``), and the session is planned again around the holds (what
  ``charging.SmartCharging._spread`` does at a premise for a plan's start).

Printed: each scenario's aggregate peak, the rebound peak after the events relative to the
pre-event peak, the energy shifted out of the event window, and the share of departure targets
met; the time per size for the scaling run. Written: the curves as CSV (``fleet.csv``: slot start
in local time and UTC, kW per scenario) and a PNG plot (``fleet.png``, a tiny pure-Python PNG
encoder: no plotting library needed).

Every premise is a pure function of ``(seed, index)`` (:func:`simulate_premise`), so the run is
reproducible whatever the partition; chunks of premises run in a process pool on every core
and their curves are summed (map, then reduce). The same two functions run unchanged on Ray or
Dask (see ``docs/utility-profile.md``, 'The fleet's response').
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import itertools
import math
import multiprocessing
import os
import random
import struct
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

_CORE = Path(__file__).resolve().parent.parent / "custom_components" / "pev_portal" / "core"
TZ = ZoneInfo("America/Los_Angeles")
DAY_START = datetime(2030, 7, 16, 12, tzinfo=TZ)  # a Tuesday in summer
SLOT = timedelta(minutes=15)
SLOTS = 96
EVENT_START = datetime(2030, 7, 16, 17, tzinfo=TZ)
EVENT_END = datetime(2030, 7, 16, 20, tzinfo=TZ)
CPP_PRICE = Decimal("1.20")
DLC_KW = 1.38  # 6 A single phase: SIMPLE level 2, the minimum charging current
SCENARIOS = ("baseline", "events", "events+random")
TARGET_S = 60.0
DEFAULT_SCALING = (100, 1_000, 10_000)


def load_core() -> ModuleType:
    """The core package, loaded from its files as ``pev_core`` (no Home Assistant import)."""
    if "pev_core" in sys.modules:
        return sys.modules["pev_core"]
    spec = importlib.util.spec_from_file_location(
        "pev_core", _CORE / "__init__.py", submodule_search_locations=[str(_CORE)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pev_core"] = module
    spec.loader.exec_module(module)
    for name in ("tariff", "planner"):
        __import__(f"pev_core.{name}")
    return module


core = load_core()
planner: Any = sys.modules["pev_core.planner"]
tariff_mod: Any = sys.modules["pev_core.tariff"]


def _tariffs() -> dict[str, tuple[Any, Any]]:
    """name -> (tariff, the same with the critical-peak price event laid over it)."""
    tou = tariff_mod.tariff_from_dict(tariff_mod.default_tou_example())
    every = ["weekday", "weekend", "holiday"]
    super_off = tariff_mod.tariff_from_dict(
        {
            "type": "tou",
            "currency": "USD",
            "timezone": "America/Los_Angeles",
            "default_period": "off_peak",
            "seasons": [
                {
                    "name": "all",
                    "start": "01-01",
                    "end": "12-31",
                    "periods": [
                        {
                            "period": "off_peak",
                            "days": every,
                            "start": "07:00",
                            "end": "16:00",
                            "price": "0.35",
                        },
                        {
                            "period": "on_peak",
                            "days": every,
                            "start": "16:00",
                            "end": "21:00",
                            "price": "0.55",
                        },
                        {
                            "period": "off_peak",
                            "days": every,
                            "start": "21:00",
                            "end": "23:00",
                            "price": "0.35",
                        },
                        {
                            "period": "super_off_peak",
                            "days": every,
                            "start": "23:00",
                            "end": "07:00",
                            "price": "0.15",
                        },
                    ],
                }
            ],
        }
    )
    flat = tariff_mod.FlatTariff("USD", Decimal("0.28"))
    cpp = [tariff_mod.CppEvent(EVENT_START, EVENT_END, CPP_PRICE, "cpp-event")]
    return {
        name: (t, tariff_mod.OverlayTariff(t, cpp))
        for name, t in (("flat", flat), ("tou", tou), ("tou-super-off-peak", super_off))
    }


TARIFFS = _tariffs()
CHARGERS = (  # (model, weight)
    (planner.ChargerModel(max_kw=3.68, max_a=16), 0.15),
    (planner.ChargerModel(max_kw=7.36), 0.45),
    (planner.ChargerModel(max_kw=11.04, phases=3, max_a=16), 0.30),
    (planner.ChargerModel(max_kw=22.08, phases=3, max_a=32), 0.10),
)


@dataclass(slots=True)
class Partial:
    """Summed curves (kWh per slot) and counters of a chunk of premises (the reduce's value)."""

    energy: dict[str, list[float]] = field(
        default_factory=lambda: {s: [0.0] * SLOTS for s in SCENARIOS}
    )
    met: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SCENARIOS, 0))
    premises: int = 0

    def add(self, other: Partial) -> None:
        for s in SCENARIOS:
            mine, theirs = self.energy[s], other.energy[s]
            for i in range(SLOTS):
                mine[i] += theirs[i]
            self.met[s] += other.met[s]
        self.premises += other.premises


@dataclass(frozen=True, slots=True)
class Premise:
    """One simulated premise (drawn by :func:`draw_premise`)."""

    index: int
    arrival: datetime
    departure: datetime
    energy_kwh: float
    charger: Any
    tariff: str
    mode: Any
    delays: tuple[float, ...]
    """Random-start delays in minutes, one per charging block after plug-in (drawn up front)."""


def draw_premise(seed: int, index: int, spread_min: float) -> Premise:
    """The premise ``index`` of the fleet ``seed`` (independent of chunking and workers)."""
    rng = random.Random(seed * 1_000_003 + index)
    capacity = rng.choice((40.0, 60.0, 75.0, 100.0))
    charger = rng.choices([c for c, _ in CHARGERS], [w for _, w in CHARGERS])[0]
    arrival_h = min(23.5, max(14.0, rng.gauss(18.0, 1.5)))
    depart_h = min(11.0, max(5.0, rng.gauss(7.5, 1.0)))
    arrival = DAY_START.replace(hour=0) + timedelta(minutes=round(arrival_h * 60))
    departure = DAY_START.replace(hour=0) + timedelta(days=1, minutes=round(depart_h * 60))
    if rng.random() < 0.1:  # a short evening stop: leaves again 2-5 hours later
        departure = arrival + timedelta(minutes=round(rng.uniform(120, 300)))
    energy = min(0.9 * capacity, rng.uniform(4.0, 30.0))
    tariff = rng.choices(("flat", "tou", "tou-super-off-peak"), (0.25, 0.55, 0.20))[0]
    mode = planner.ChargeMode.IMMEDIATE if rng.random() < 0.15 else planner.ChargeMode.CHEAPEST
    delays = tuple(rng.uniform(0, spread_min) for _ in range(4))
    return Premise(index, arrival, departure, round(energy, 2), charger, tariff, mode, delays)


def _plan(p: Premise, with_events: bool, extra: Sequence[Any] = ()) -> Any:
    base, cpp = TARIFFS[p.tariff]
    caps = [planner.PowerCap(EVENT_START, EVENT_END, DLC_KW, "dlc-event")] if with_events else []
    request = planner.VehicleRequest("ev", p.energy_kwh, p.departure, p.charger, p.mode)
    return planner.plan(
        [request],
        now=p.arrival,
        tariff=cpp if with_events else base,
        caps=[*caps, *extra],
        horizon=timedelta(hours=24),
        explain=False,
    ).vehicles["ev"]


def _holds(p: Premise, vp: Any) -> list[Any]:
    """Holds where the plan's power rises after plug-in (a price or event boundary).

    Over ``[rise, rise + delay)`` the vehicle is held at the power it had before the rise (0 kW
    when it was idle), so the homes that share the boundary do not all step up at once. Slots
    less than one slot apart are one block (a discrete plan runs part of each slot).
    """
    holds: list[Any] = []
    previous_end, previous_kw = p.arrival, 0.0
    for slot in vp.slots:
        before = previous_kw if slot.start - previous_end < SLOT else 0.0
        rises = slot.power_kw > before + 0.01 and slot.start > p.arrival
        if rises and len(holds) < len(p.delays):
            delay = timedelta(minutes=p.delays[len(holds)])
            holds.append(planner.PowerCap(slot.start, slot.start + delay, before, "random start"))
        previous_end, previous_kw = slot.end, slot.power_kw
    return holds


def simulate_premise(p: Premise) -> dict[str, tuple[Any, bool]]:
    """The pure per-premise function: the vehicle's plan in each scenario and its target met."""
    baseline = _plan(p, False)
    events = _plan(p, True)
    holds = _holds(p, events)
    randomized = _plan(p, True, holds) if holds else events
    tol = planner.REACHABLE_TOL_KWH
    return {
        name: (vp, vp.shortfall_kwh <= tol)
        for name, vp in (("baseline", baseline), ("events", events), ("events+random", randomized))
    }


def _bin(curve: list[float], vp: Any) -> None:
    start_us = DAY_START.timestamp()
    for slot in vp.slots:
        i = int((slot.start.timestamp() - start_us) // SLOT.total_seconds())
        if 0 <= i < SLOTS:
            curve[i] += slot.energy_kwh


def simulate_chunk(args: tuple[int, int, int, float]) -> Partial:
    """Map step: premises ``[lo, hi)`` of fleet ``seed`` -> their summed curves."""
    seed, lo, hi, spread = args
    out = Partial()
    for index in range(lo, hi):
        result = simulate_premise(draw_premise(seed, index, spread))
        for name, (vp, met) in result.items():
            _bin(out.energy[name], vp)
            out.met[name] += met
        out.premises += 1
    return out


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_fleet(n: int, *, seed: int, spread: float, workers: int) -> tuple[Partial, float, float]:
    """Simulate ``n`` premises on ``workers`` processes: the summed curves, the wall-clock
    seconds and the CPU seconds of this process and its (finished) workers."""
    started, cpu = time.perf_counter(), _cpu_seconds()
    chunk = max(1, min(500, math.ceil(n / (workers * 8))))
    jobs = [(seed, lo, min(n, lo + chunk), spread) for lo in range(0, n, chunk)]
    total = Partial()
    if workers <= 1:
        for job in jobs:
            total.add(simulate_chunk(job))
    else:
        pool = multiprocessing.get_context("fork").Pool(workers)
        try:
            for part in pool.imap_unordered(simulate_chunk, jobs):
                total.add(part)
        finally:
            pool.close()
            pool.join()
    return total, time.perf_counter() - started, _cpu_seconds() - cpu


# --------------------------------------------------------------------------- figures


def _slot_time(i: int) -> datetime:
    return (DAY_START.astimezone(UTC) + i * SLOT).astimezone(TZ)


def figures(total: Partial) -> dict[str, dict[str, float]]:
    """Peak, pre-event peak, rebound peak and ratio, energy in the window, targets met."""
    out: dict[str, dict[str, float]] = {}
    first = next(i for i in range(SLOTS) if _slot_time(i) >= EVENT_START)
    last = next(i for i in range(SLOTS) if _slot_time(i) >= EVENT_END)
    for name in SCENARIOS:
        kw = [e / 0.25 for e in total.energy[name]]
        pre = max(kw[:first])
        rebound = max(kw[last:])
        out[name] = {
            "peak_kw": max(kw),
            "peak_at": float(kw.index(max(kw))),
            "pre_event_peak_kw": pre,
            "rebound_peak_kw": rebound,
            "end_hour_peak_kw": max(kw[last : last + 4]),
            "rebound_ratio": rebound / pre if pre > 0 else math.inf,
            "window_kwh": sum(total.energy[name][first:last]),
            "total_kwh": sum(total.energy[name]),
            "targets_met": total.met[name] / total.premises if total.premises else 0.0,
        }
    return out


def write_csv(total: Partial, path: Path) -> None:
    """The curves: slot start (local, UTC) and kW per scenario."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["slot_start_local", "slot_start_utc", *(f"{s}_kw" for s in SCENARIOS)])
        for i in range(SLOTS):
            at = _slot_time(i)
            writer.writerow(
                [
                    at.isoformat(),
                    at.astimezone(UTC).isoformat(),
                    *(f"{total.energy[s][i] / 0.25:.3f}" for s in SCENARIOS),
                ]
            )


# A 3x5 bitmap font for the plot's labels (digits and a few letters), one row per 3 bits.
_FONT = {
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001010010010",
    "8": "111101111101111",
    "9": "111101111001111",
    ":": "000010000010000",
    ".": "000000000000010",
    "k": "100101110101101",
    "W": "101101101111101",
    "M": "101111111101101",
    "h": "100100111101101",
    "a": "000011101101011",
    "b": "100100111101111",
    "d": "001001111101111",
    "e": "000111111100111",
    "i": "010000010010010",
    "l": "010010010010010",
    "m": "000111111101101",
    "n": "000110101101101",
    "o": "000111101101111",
    "r": "000111100100100",
    "s": "000111110011111",
    "t": "010111010010011",
    "v": "000101101101010",
    "+": "000010111010000",
    " ": "000000000000000",
    "-": "000000111000000",
}


def encode_png(width: int, height: int, pixels: bytearray) -> bytes:
    """A minimal PNG (8-bit RGB, no filter, zlib) from ``width * height * 3`` bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = bytearray()
    stride = width * 3
    for y in range(height):
        raw.append(0)
        raw.extend(pixels[y * stride : (y + 1) * stride])
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


class Canvas:
    """An RGB canvas with lines, rectangles and 3x5 text (for the plot)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def dot(self, x: int, y: int, rgb: tuple[int, int, int]) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            at = (y * self.width + x) * 3
            self.pixels[at : at + 3] = bytes(rgb)

    def rect(self, x0: int, y0: int, x1: int, y1: int, rgb: tuple[int, int, int]) -> None:
        for y in range(max(0, y0), min(self.height, y1)):
            for x in range(max(0, x0), min(self.width, x1)):
                self.dot(x, y, rgb)

    def line(
        self, x0: int, y0: int, x1: int, y1: int, rgb: tuple[int, int, int], w: int = 1
    ) -> None:
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            for ox in range(w):
                for oy in range(w):
                    self.dot(x0 + ox, y0 + oy, rgb)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text(self, x: int, y: int, value: str, rgb: tuple[int, int, int], scale: int = 2) -> None:
        for n, ch in enumerate(value):
            bits = _FONT.get(ch, _FONT[" "])
            for row in range(5):
                for col in range(3):
                    if bits[row * 3 + col] == "1":
                        self.rect(
                            x + (n * 4 + col) * scale,
                            y + row * scale,
                            x + (n * 4 + col + 1) * scale,
                            y + (row + 1) * scale,
                            rgb,
                        )


COLORS = {"baseline": (120, 120, 120), "events": (214, 39, 40), "events+random": (31, 119, 180)}


def write_png(total: Partial, path: Path) -> None:
    """The three curves over the day, the event window shaded, kW and hour labels."""
    width, height, left, right, top, bottom = 960, 480, 70, 20, 40, 40
    canvas = Canvas(width, height)
    curves = {s: [e / 0.25 for e in total.energy[s]] for s in SCENARIOS}
    top_kw = max(max(c) for c in curves.values()) or 1.0
    unit, scale_kw = ("MW", 1000.0) if top_kw >= 1000 else ("kW", 1.0)
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(i: float, kw: float) -> tuple[int, int]:
        return left + round(i * plot_w / (SLOTS - 1)), top + plot_h - round(kw / top_kw * plot_h)

    first = next(i for i in range(SLOTS) if _slot_time(i) >= EVENT_START)
    last = next(i for i in range(SLOTS) if _slot_time(i) >= EVENT_END)
    canvas.rect(xy(first, 0)[0], top, xy(last, 0)[0], top + plot_h, (253, 235, 200))
    for k in range(5):  # horizontal grid and kW labels
        kw = top_kw * k / 4
        _, y = xy(0, kw)
        canvas.line(left, y, width - right, y, (225, 225, 225))
        canvas.text(4, y - 5, f"{kw / scale_kw:.1f}"[:7], (60, 60, 60))
    canvas.text(4, 8, unit, (60, 60, 60))
    for i in range(0, SLOTS, 8):  # hour labels every 2 h
        x, _ = xy(i, 0)
        canvas.line(x, top + plot_h, x, top + plot_h + 5, (60, 60, 60))
        canvas.text(x - 10, top + plot_h + 10, _slot_time(i).strftime("%H:%M"), (60, 60, 60))
    canvas.line(left, top + plot_h, width - right, top + plot_h, (60, 60, 60))
    canvas.line(left, top, left, top + plot_h, (60, 60, 60))
    for name in SCENARIOS:
        points = [xy(i, kw) for i, kw in enumerate(curves[name])]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            canvas.line(x0, y0, x1, y1, COLORS[name], 2)
    for n, name in enumerate(SCENARIOS):  # legend
        x = width - right - 520 + n * 170
        canvas.rect(x, 12, x + 24, 22, COLORS[name])
        canvas.text(x + 30, 12, name, (60, 60, 60))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_png(width, height, canvas.pixels))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scaling sizes, then print and write the figures of the largest run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--premises", type=int, default=None, help="one run of N premises")
    parser.add_argument("--scaling", default=",".join(str(n) for n in DEFAULT_SCALING))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--spread", type=float, default=30.0, help="random start, minutes")
    parser.add_argument("--out", type=Path, default=Path("test-output/fleet"))
    args = parser.parse_args(argv)
    sizes = [args.premises] if args.premises else [int(s) for s in args.scaling.split(",") if s]
    print(
        f"fleet: seed {args.seed}, {args.workers} worker processes, random start up to {args.spread:g} min"
    )
    total: Partial | None = None
    elapsed = 0.0
    for n in sizes:
        total, elapsed, cpu = run_fleet(n, seed=args.seed, spread=args.spread, workers=args.workers)
        print(
            f"fleet: {n:>7,} premises in {elapsed:7.2f} s ({elapsed / n * 1e3:.3f} ms per premise, "
            f"3 scenarios; {cpu:.1f} CPU s, {cpu / n * 1e3:.3f} CPU ms per premise)"
        )
    assert total is not None
    n = total.premises
    found = figures(total)
    base = found["baseline"]
    for name in SCENARIOS:
        f = found[name]
        print(
            f"fleet: {name:<14} peak {f['peak_kw'] / 1000:7.2f} MW at {_slot_time(int(f['peak_at'])):%H:%M}, "
            f"pre-event peak {f['pre_event_peak_kw'] / 1000:6.2f} MW, rebound peak after the event "
            f"{f['rebound_peak_kw'] / 1000:6.2f} MW ({f['rebound_ratio']:.2f}x the pre-event peak, "
            f"{f['rebound_peak_kw'] / base['peak_kw']:.2f}x the baseline's peak), "
            f"peak in the hour after the event {f['end_hour_peak_kw'] / 1000:6.2f} MW, "
            f"targets met {f['targets_met']:.2%}"
        )
    for name in ("events", "events+random"):
        shifted = base["window_kwh"] - found[name]["window_kwh"]
        print(
            f"fleet: {name:<14} energy shifted out of 17:00-20:00: {shifted / 1000:.2f} MWh "
            f"({shifted / n:.2f} kWh per premise; {shifted / max(base['window_kwh'], 1e-9):.0%} of the "
            f"baseline's {base['window_kwh'] / 1000:.2f} MWh)"
        )
    csv_path, png_path = args.out / "fleet.csv", args.out / "fleet.png"
    write_csv(total, csv_path)
    write_png(total, png_path)
    print(f"fleet: wrote {csv_path} and {png_path}")
    ok = n < 10_000 or n > 10_000 or elapsed < TARGET_S
    if n == 10_000:
        print(
            f"fleet: 10,000 premises in {elapsed:.1f} s (target < {TARGET_S:.0f} s) {'OK' if ok else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
