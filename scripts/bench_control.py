"""How often the premise plans in a simulated day (issue 11's figure) and in a steady home
(issue 14's figure).

A real Home Assistant core (the test harness's instance) with two demo chargers and two cars in
the ``cheapest`` mode, a flat price and a local load-control event of an hour (18:00-19:00 UTC,
3.7 kW): the first car plugs in at 17:30, the second at 18:15, both leave at 07:00 the next day.
The clock moves in 30-second steps through 24 hours (the integration's 5-second tick fires at
each step). Printed: the plans computed, with why, and the CPU time the integration's process
spent per simulated hour. Target: one plan per real input change (before the control rework:
one every 5 s while a local event was in force, 720 an hour).

The steady home (:func:`steady`, issue 14): the same premise without the event, two cars of
64 and 77 kWh (a whole-percent step is 0.64 and 0.77 kWh) with state-of-charge sensors in whole
percent (updated from the demo cars at every tick), plugged in at 17:00 at 20 % for 80 % by
07:00, off-peak price from 17:15, ``cheapest`` (both charge from 17:15, at 11 kW each, about
four hours). The clock moves in 5-second steps (every tick of the
integration runs). Printed: replans per hour after the plug-ins, with why; the CPU time per
hour of planning and its checks (the planner's inputs, built or reused, the measured powers, the
sensors' step, ``needs_replan``, the plans: each call's thread CPU time, wherever it runs); and
the worst plan computed in the event loop (wall and CPU).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_hass import bench_home_assistant  # noqa: E402

START = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
STEP = timedelta(seconds=30)


# The steady home's tariff: peak until 17:15 (UTC), off-peak after: both cars start at 17:15.
STEADY_TOU: dict[str, Any] = {
    "type": "tou",
    "currency": "EUR",
    "timezone": "UTC",
    "default_period": "off_peak",
    "seasons": [
        {
            "name": "all",
            "start": "01-01",
            "end": "12-31",
            "periods": [
                {
                    "period": "peak",
                    "days": ["weekday", "weekend", "holiday"],
                    "start": "16:00",
                    "end": "17:15",
                    "price": "0.50",
                },
                {
                    "period": "off_peak",
                    "days": ["weekday", "weekend", "holiday"],
                    "start": "17:15",
                    "end": "16:00",
                    "price": "0.20",
                },
            ],
        }
    ],
}


def _entry(capacities: tuple[float, float] | None = None) -> Any:
    """Two demo chargers and two cars of 60 kWh on a flat price; with ``capacities``, cars of
    those capacities with whole-percent SoC sensors on the steady home's TOU tariff."""
    from bench_entry import bench_entry

    cars = (("PEV-1", "Car 1"), ("PEV-2", "Car 2"))
    chargers: list[tuple[str | None, str]] = [("charger1", "Garage"), ("charger2", "Carport")]
    if capacities is None:
        return bench_entry(list(cars), chargers=chargers, capacity_kwh=60)
    return bench_entry(
        [
            (
                pev_id,
                name,
                {"capacity_kwh": capacities[n], "soc_entity": f"sensor.car_{n + 1}_battery"},
            )
            for n, (pev_id, name) in enumerate(cars)
        ],
        chargers=chargers,
        tariff=STEADY_TOU,
    )


async def _day(config_dir: str) -> dict[str, Any]:
    from freezegun import freeze_time
    from pytest_homeassistant_custom_component.common import async_fire_time_changed

    from custom_components.pev_portal.core.planner import ChargeMode
    from custom_components.pev_portal.core.simulator import DemoCar

    with freeze_time(START) as frozen:
        async with bench_home_assistant(config_dir) as hass:
            entry = _entry()
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            coordinator = entry.runtime_data
            for vehicle in coordinator.vehicles.values():
                coordinator.smart.update_settings(
                    vehicle, mode=ChargeMode.CHEAPEST, departure=dtime(7, 0), target=80
                )
            await coordinator.async_add_local_event(
                "load_control",
                START + timedelta(hours=1),
                START + timedelta(hours=2),
                limit_kw=3.7,
                name="Evening peak",
            )
            plugs = {
                START + timedelta(minutes=30): ("charger1", "PEV-1"),
                START + timedelta(minutes=75): ("charger2", "PEV-2"),
            }
            leave = START + timedelta(hours=14)
            reasons: Counter[str] = Counter()
            seen = coordinator.smart.plans_computed
            cpu = time.process_time()
            now = START
            while now < START + timedelta(hours=24):
                frozen.tick(STEP)
                now += STEP
                for at, (charger_id, pev_id) in plugs.items():
                    if at == now:
                        demo = coordinator.chargers[charger_id].demo
                        demo.evse.plug(DemoCar(pev_id=pev_id, capacity_kwh=60, soc=0.2))
                        demo.notify(now)
                if now == leave:
                    for runtime in coordinator.chargers.values():
                        runtime.demo.evse.car = None
                        runtime.demo.notify(now)
                async_fire_time_changed(hass)
                await hass.async_block_till_done()
                if coordinator.smart.plans_computed != seen:
                    seen = coordinator.smart.plans_computed
                    reasons[(coordinator.smart.reason or "?").split(":")[0]] += 1
            cpu = time.process_time() - cpu
            await hass.config_entries.async_unload(entry.entry_id)
    return {"plans": sum(reasons.values()), "reasons": dict(reasons), "cpu_s": cpu}


class _Cpu:
    """Thread CPU time and calls of the wrapped functions (planning and its checks)."""

    def __init__(self) -> None:
        self.cpu_s: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.inline_wall_s = 0.0
        self.inline_cpu_s = 0.0

    def wrap(self, name: str, fn: Any, *, inline: bool = False) -> Any:
        import threading

        from freezegun.api import real_perf_counter  # the bench freezes time.perf_counter

        loop_thread = threading.main_thread()

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = real_perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                took = time.thread_time() - cpu
                self.cpu_s[name] += took
                self.calls[name] += 1
                if inline and threading.current_thread() is loop_thread:
                    self.inline_wall_s = max(self.inline_wall_s, real_perf_counter() - wall)
                    self.inline_cpu_s = max(self.inline_cpu_s, took)

        return wrapper


async def _steady(config_dir: str, hours: float, capacities: tuple[float, float]) -> dict[str, Any]:
    from unittest.mock import patch

    from freezegun import freeze_time
    from pytest_homeassistant_custom_component.common import async_fire_time_changed

    from custom_components.pev_portal.charging import planning
    from custom_components.pev_portal.core.planner import ChargeMode
    from custom_components.pev_portal.core.simulator import DemoCar

    cpu = _Cpu()
    smart = planning.SmartCharging
    patches = [
        patch.object(planning, "needs_replan", cpu.wrap("needs_replan", planning.needs_replan)),
        *(
            patch.object(smart, name, cpu.wrap(name, getattr(smart, name)))
            for name in ("current_inputs", "_measured", "soc_step_kwh")
        ),
        patch.object(
            smart, "_plan_with_spread", cpu.wrap("plan", smart._plan_with_spread, inline=True)
        ),
    ]
    tick = timedelta(seconds=5)
    with freeze_time(START) as frozen:
        for p in patches:
            p.start()
        try:
            async with bench_home_assistant(config_dir) as hass:
                for n in (1, 2):
                    hass.states.async_set(
                        f"sensor.car_{n}_battery", "20", {"unit_of_measurement": "%"}
                    )
                entry = _entry(capacities)
                entry.add_to_hass(hass)
                assert await hass.config_entries.async_setup(entry.entry_id)
                await hass.async_block_till_done()
                coordinator = entry.runtime_data
                for vehicle in coordinator.vehicles.values():
                    coordinator.smart.update_settings(
                        vehicle, mode=ChargeMode.CHEAPEST, departure=dtime(7, 0), target=80
                    )
                cars = {}
                for n, (charger_id, pev_id) in enumerate(
                    (("charger1", "PEV-1"), ("charger2", "PEV-2"))
                ):
                    car = DemoCar(pev_id=pev_id, capacity_kwh=capacities[n], soc=0.2)
                    cars[f"sensor.car_{n + 1}_battery"] = car
                    demo = coordinator.chargers[charger_id].demo
                    demo.evse.plug(car)
                    demo.notify(START)
                frozen.tick(tick)
                async_fire_time_changed(hass)
                await hass.async_block_till_done()
                plugged = coordinator.smart.plans_computed
                built = coordinator.smart.inputs_built
                reasons: Counter[str] = Counter()
                seen = plugged
                cpu.cpu_s.clear()
                cpu.calls.clear()
                now = START + tick
                end = now + timedelta(hours=hours)
                while now < end:
                    frozen.tick(tick)
                    now += tick
                    for entity_id, car in cars.items():  # whole percent, as cars report
                        hass.states.async_set(
                            entity_id, str(int(car.soc * 100)), {"unit_of_measurement": "%"}
                        )
                    async_fire_time_changed(hass)
                    await hass.async_block_till_done()
                    if coordinator.smart.plans_computed != seen:
                        seen = coordinator.smart.plans_computed
                        reasons[(coordinator.smart.reason or "?").split(":")[0]] += 1
                soc = {e: round(c.soc * 100, 1) for e, c in cars.items()}
                built = coordinator.smart.inputs_built - built
                await hass.config_entries.async_unload(entry.entry_id)
        finally:
            for p in patches:
                p.stop()
    return {
        "hours": hours,
        "first_plans": plugged,
        "replans": sum(reasons.values()),
        "reasons": dict(reasons),
        "cpu_ms": {k: v * 1000 for k, v in cpu.cpu_s.items()},
        "calls": dict(cpu.calls),
        "inputs_built": built,
        "inline_wall_ms": cpu.inline_wall_s * 1000,
        "inline_cpu_ms": cpu.inline_cpu_s * 1000,
        "soc": soc,
        "capacities": capacities,
    }


def steady(hours: float = 6.0, capacities: tuple[float, float] = (64.0, 77.0)) -> dict[str, Any]:
    """Run the steady home for ``hours``; the figures."""
    with tempfile.TemporaryDirectory() as config_dir:
        return asyncio.run(_steady(config_dir, hours, capacities))


def steady_line(figures: dict[str, Any]) -> str:
    """The steady home's figures, printed."""
    hours = figures["hours"]
    cpu = figures["cpu_ms"]
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(figures["reasons"].items())) or "none"
    parts = ", ".join(f"{k} {v / hours:.1f}" for k, v in sorted(cpu.items()))
    return (
        f"steady home: two cars (whole-percent SoC sensors, {figures['capacities'][0]:g} and "
        f"{figures['capacities'][1]:g} kWh) over {hours:g} h in "
        f"5-s ticks: {figures['replans'] / hours:.2f} replans per hour after the plug-ins "
        f"({reasons}; target: a few); the planner's inputs built "
        f"{figures['inputs_built'] / hours:.1f} times per hour (the other ticks reuse them); "
        f"{sum(cpu.values()) / hours:.1f} ms of CPU per hour for "
        f"planning and its checks (target < 100 ms: {parts}); worst plan in the event loop "
        f"{figures['inline_wall_ms']:.1f} ms wall, {figures['inline_cpu_ms']:.1f} ms CPU "
        f"(SoC at the end {', '.join(f'{v:g} %' for v in figures['soc'].values())})"
    )


def bench() -> dict[str, Any]:
    """Run the simulated day; the figures."""
    with tempfile.TemporaryDirectory() as config_dir:
        return asyncio.run(_day(config_dir))


def main() -> int:
    """Print the figures."""
    logging.disable(logging.WARNING)
    figures = bench()
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(figures["reasons"].items()))
    print(
        f"control: {figures['plans']} plans in a simulated day with two vehicles and a local "
        f"event ({reasons}); {figures['cpu_s'] / 24 * 1000:.0f} ms of CPU per simulated hour "
        "for everything the integration did (2,880 steps of 30 s)"
    )
    print(steady_line(steady()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
