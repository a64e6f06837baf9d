"""How often the premise plans in a simulated day (issue 11's figure; issue 14's "steady home").

A real Home Assistant core (the test harness's instance) with two demo chargers and two cars in
the ``cheapest`` mode, a flat price and a local load-control event of an hour (18:00-19:00 UTC,
3.7 kW): the first car plugs in at 17:30, the second at 18:15, both leave at 07:00 the next day.
The clock moves in 30-second steps through 24 hours (the integration's 5-second tick fires at
each step). Printed: the plans computed, with why, and the CPU time the integration's process
spent per simulated hour. Target: one plan per real input change (before the control rework:
one every 5 s while a local event was in force, 720 an hour).
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


def _entry() -> Any:
    from homeassistant.config_entries import ConfigSubentryData
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    chargers = [
        ConfigSubentryData(
            subentry_type="charger",
            title=name,
            data={"charger_name": name, "charger_type": "demo"},
            subentry_id=f"charger{n}",
            unique_id=None,
        )
        for n, name in ((1, "Garage"), (2, "Carport"))
    ]
    vehicles = [
        ConfigSubentryData(
            subentry_type="vehicle",
            title=name,
            data={"pev_id": pev_id, "name": name, "relation": "home", "capacity_kwh": 60},
            unique_id=pev_id,
        )
        for pev_id, name in (("PEV-1", "Car 1"), ("PEV-2", "Car 2"))
    ]
    return MockConfigEntry(
        domain="pev_portal",
        title="Bench home",
        unique_id="BENCH-CONTROL",
        data={"premise_name": "Bench home", "premise_id": "BENCH-CONTROL", "in_program": False},
        options={
            "interval_minutes": 15,
            "validation_window": 60,
            "tariff": {"type": "flat", "currency": "EUR", "price": "0.30"},
            "default_price": 0.35,
        },
        subentries_data=[*chargers, *vehicles],
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
