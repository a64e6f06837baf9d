"""OpenADR 2.0b link figures, in a real Home Assistant core against openleadr's own 2.0b VTN
(``OpenADRServer``, tests/vtn/oadr2.py) on 127.0.0.1, in the same process:

- event latency: from the poll that delivers an event created at the VTN to the cap on the
  demo charger (a 2.0b VEN only polls: add up to one polling interval, the VTN's requested
  frequency, for the time the event waits at the VTN);
- idle polling: the process's CPU time for an hour of polling at 10 s (360 polls answered
  ``oadrResponse``; both sides' XML building, schema validation and parsing, the VTN's too).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_entry import bench_entry  # noqa: E402
from bench_hass import bench_home_assistant  # noqa: E402

PEV = "PEV-DEMO-0001"
POLLS_PER_HOUR = 360


async def _wait(predicate: Any, timeout: float = 20.0) -> None:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise TimeoutError
        await asyncio.sleep(0.002)


async def _measure(samples: int) -> dict[str, float]:
    from tests.vtn.oadr2 import start_vtn

    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as config_dir:
        async with bench_home_assistant(config_dir) as hass:
            vtn = await start_vtn()
            utility = {
                "vtn_url": vtn.url,
                "auth_type": "none",
                "ven_name": "BENCH-1",
                "programs": [],
                "allow_http": True,
                "protocol": "oadr2",
                "default_opt": "optIn",
            }
            entry = bench_entry(
                [(PEV, "Car")], currency="USD", utility=utility, charger_id="charger1"
            )
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            coordinator = entry.runtime_data
            link = coordinator.link
            runtime = coordinator.chargers["charger1"]
            await hass.services.async_call(
                "switch",
                "turn_on",
                {"entity_id": "switch.demo_charger_demo_car_plugged_in"},
                blocking=True,
            )
            await _wait(lambda: runtime.session is not None and runtime.session.bound)
            ven_id = link.state.ven_id
            for n in range(samples):
                cap = 5.0 + n % 5
                event_id = vtn.event(
                    ven_id,
                    signal_name="LOAD_DISPATCH",
                    signal_type="setpoint",
                    intervals=[
                        {
                            "dtstart": datetime.now(UTC) - timedelta(seconds=1),
                            "duration": timedelta(hours=1),
                            "signal_payload": cap,
                        }
                    ],
                    targets=[{"resource_id": PEV}],
                )
                start = time.perf_counter()
                await link._async_poll()
                await _wait(lambda c=cap: runtime.cap_kw == c)
                latencies.append(time.perf_counter() - start)
                vtn.server.cancel_event(ven_id, event_id)
                await link._async_poll()
                await _wait(lambda: runtime.cap_kw is None)
            await hass.async_block_till_done()
            polls_before = link.polls
            cpu = time.process_time()
            wall = time.perf_counter()
            for _ in range(POLLS_PER_HOUR):
                await link._async_poll()
            cpu = time.process_time() - cpu
            wall = time.perf_counter() - wall
            assert link.polls - polls_before == POLLS_PER_HOUR
            assert link.state.connected
            await hass.config_entries.async_unload(entry.entry_id)
            await vtn.stop()
    return {
        "oadr2_poll_to_cap_median_ms": statistics.median(latencies) * 1000,
        "oadr2_poll_to_cap_max_ms": max(latencies) * 1000,
        "oadr2_idle_hour_cpu_s": cpu,
        "oadr2_idle_hour_wall_s": wall,
        "oadr2_idle_poll_cpu_ms": cpu / POLLS_PER_HOUR * 1000,
    }


def bench(samples: int = 10) -> dict[str, float]:
    """The figures, measured in their own process (one Home Assistant test core)."""
    done = subprocess.run(
        [sys.executable, __file__, str(samples)], check=True, capture_output=True, text=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def line(figures: dict[str, float]) -> str:
    """The figures as bench.py prints them."""
    return (
        f"utility link (OpenADR 2.0b, openleadr's VTN): event to power cap "
        f"{figures['oadr2_poll_to_cap_median_ms']:.1f} ms median "
        f"(max {figures['oadr2_poll_to_cap_max_ms']:.1f} ms) after the poll that delivers it "
        f"(plus up to one polling interval at the VTN); an idle hour of polling every 10 s "
        f"costs {figures['oadr2_idle_hour_cpu_s']:.2f} s of CPU "
        f"({figures['oadr2_idle_poll_cpu_ms']:.1f} ms per poll, the VTN in the same process)"
    )


if __name__ == "__main__":
    import logging

    logging.disable(logging.WARNING)
    print(json.dumps(asyncio.run(_measure(int(sys.argv[1]) if len(sys.argv) > 1 else 10))))
