"""Utility-link figures, measured in a real Home Assistant core against the local test VTN.

- event latency: from an event created at the test VTN to the integration's power cap (and the
  active-event entity) being updated, by push (the VTN calls Home Assistant's HTTP server) and
  by poll (from the poll to the update; a poll waits up to the polling interval on top);
- backlog: time to deliver a 30-day backlog of 1-minute intervals (30 daily sessions, 43,200
  intervals) after an outage (target under 5 s against the local test VTN), wall clock and the
  process's CPU time (the test VTN runs in the same process and validates every body);
- resilience (issue 13): time from the business logic granting the VEN a target to an event
  targeted at it capping the charger (by the VEN push, and by the next poll: from the poll);
  time from the periodic check after a VTN restart with empty storage to a new event capping
  the charger (the check runs with every poll, so add up to one polling period); the VTN
  requests caused by 1,000 unusable pushes (target under 10).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_entry import bench_entry  # noqa: E402
from bench_hass import async_setup_http, bench_home_assistant  # noqa: E402


def _entry(vtn_url: str, callback: str | None) -> Any:
    utility = {
        "vtn_url": vtn_url,
        "auth_type": "client_credentials",
        "client_id": "ven-client",
        "client_secret": "ven-secret",
        "ven_name": "BENCH-1",
        "programs": ["PEV-TOU"],
        "allow_http": True,
    }
    if callback:
        utility["callback_url"] = callback
    return bench_entry(
        [("PEV-DEMO-0001", "Car")],
        interval_minutes=1,
        currency="USD",
        utility=utility,
        charger_id="charger1",
    )


async def _wait(predicate: Any, timeout: float = 20.0) -> None:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise TimeoutError
        await asyncio.sleep(0.002)


async def _latency(samples: int) -> tuple[list[float], list[float]]:
    from homeassistant.setup import async_setup_component

    from tests.vtn.server import TestVtn, now_utc

    push: list[float] = []
    poll: list[float] = []
    with tempfile.TemporaryDirectory() as config_dir:
        async with bench_home_assistant(config_dir) as hass, TestVtn() as vtn:
            vtn.add_program("PEV-TOU")
            vtn.approve("PEV-DEMO-0001")
            base_url = await async_setup_http(hass)
            assert await async_setup_component(hass, "pev_portal", {})
            entry = _entry(vtn.base_url, base_url)
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            coordinator = entry.runtime_data
            runtime = coordinator.chargers["charger1"]
            await hass.services.async_call(
                "switch",
                "turn_on",
                {"entity_id": "switch.demo_charger_demo_car_plugged_in"},
                blocking=True,
            )
            await _wait(lambda: runtime.session is not None and runtime.session.bound)
            for n in range(samples):
                cap = 5.0 + n % 5
                start = time.perf_counter()
                event = vtn.create_dlc_event(
                    cap, now_utc() - timedelta(seconds=1), timedelta(hours=1)
                )
                await _wait(lambda c=cap: runtime.cap_kw == c)
                push.append(time.perf_counter() - start)
                vtn.cancel_event(event["id"])
                await _wait(lambda: runtime.cap_kw is None)
            # Polling: no push (the subscription's deliveries are dropped), then a poll.
            vtn.subscriptions.clear()
            link = coordinator.link
            for n in range(samples):
                cap = 5.0 + n % 5
                event = vtn.create_dlc_event(
                    cap, now_utc() - timedelta(seconds=1), timedelta(hours=1)
                )
                start = time.perf_counter()
                await link._async_poll()
                await _wait(lambda c=cap: runtime.cap_kw == c)
                poll.append(time.perf_counter() - start)
                vtn.cancel_event(event["id"])
                await link._async_poll()
                await _wait(lambda: runtime.cap_kw is None)
            await hass.config_entries.async_unload(entry.entry_id)
    return push, poll


async def _backlog(days: int) -> tuple[float, float, int, int]:

    from custom_components.pev_portal.core.metering import Interval, Quality
    from tests.vtn.server import TestVtn, now_utc

    with tempfile.TemporaryDirectory() as config_dir:
        async with bench_home_assistant(config_dir) as hass, TestVtn() as vtn:
            vtn.add_program("PEV-TOU")
            await async_setup_http(hass)
            start = now_utc().replace(hour=0, minute=0, second=0, microsecond=0)
            vtn.create_price_event(
                [0.3] * 24 * (days + 1),
                start - timedelta(days=days),
                timedelta(hours=1),
                report_usage=True,
            )
            entry = _entry(vtn.base_url, None)
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            link = entry.runtime_data.link
            await vtn.go_down()
            total = 0
            for day in range(days):
                day_start = start - timedelta(days=days - day)
                intervals = [
                    Interval(
                        day_start + timedelta(minutes=m),
                        day_start + timedelta(minutes=m + 1),
                        0.12,
                        "PEV-DEMO-0001",
                        "BENCH-1",
                        "M1",
                        Quality.OK,
                        0,
                        None,
                    )
                    for m in range(1440)
                ]
                total += len(intervals)
                await link.async_queue_usage(f"session-{day:02d}", "PEV-DEMO-0001", intervals)
            await hass.async_block_till_done()
            backlog = link.state.backlog
            await vtn.come_back()
            # Every report is due again now (as after the backoff expires).
            await entry.runtime_data.store.call(
                lambda s: s._db.execute("UPDATE outbox SET next_attempt = '1970-01-01T00:00:00Z'")
            )
            began, cpu = time.perf_counter(), time.process_time()
            await link._async_pump()
            elapsed = time.perf_counter() - began
            cpu = time.process_time() - cpu
            delivered = sum(len(r["resources"][0]["intervals"]) for r in vtn.reports.values())
            assert link.state.backlog == 0, link.state.backlog
            assert delivered == total, (delivered, total)
            assert backlog == days
            await hass.config_entries.async_unload(entry.entry_id)
    return elapsed, cpu, total, len(vtn.reports)


async def _resilience(pushes: int) -> dict[str, float]:
    import aiohttp
    from homeassistant.setup import async_setup_component

    from tests.vtn.server import TestVtn, now_utc

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as config_dir:
        async with bench_home_assistant(config_dir) as hass, TestVtn() as vtn:
            vtn.add_program("PEV-TOU")
            vtn.approve("PEV-DEMO-0001")
            base_url = await async_setup_http(hass)
            assert await async_setup_component(hass, "pev_portal", {})
            entry = _entry(vtn.base_url, base_url)
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

            async def grant(label: str, cap: float, *, push: bool) -> float:
                event = vtn.create_dlc_event(
                    cap, now_utc() - timedelta(seconds=1), timedelta(hours=1), targets=[label]
                )
                start = time.perf_counter()
                vtn.grant_ven_targets("BENCH-1", [label])
                if not push:
                    await link._async_poll()
                await _wait(lambda: runtime.cap_kw == cap)
                took = time.perf_counter() - start
                vtn.cancel_event(event["id"])
                await link._async_poll()
                await _wait(lambda: runtime.cap_kw is None)
                return took

            out["grant_push_ms"] = await grant("grp-push", 6.0, push=True) * 1000
            subscriptions = dict(vtn.subscriptions)
            vtn.subscriptions.clear()  # no pushes: the poll has to find the grant
            out["grant_poll_ms"] = await grant("grp-poll", 5.0, push=False) * 1000
            vtn.subscriptions.update(subscriptions)
            await link._async_poll()

            # A VTN that restarts with empty storage; the BL re-creates its program and an event.
            await vtn.restart(empty=True)
            vtn.add_program("PEV-TOU")
            vtn.create_dlc_event(4.0, now_utc() - timedelta(seconds=1), timedelta(hours=1))
            start = time.perf_counter()
            await link._async_poll()  # the periodic check (it runs with every poll)
            await _wait(lambda: runtime.cap_kw == 4.0)
            out["restart_heal_ms"] = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            vtn.create_dlc_event(
                3.0, now_utc() - timedelta(seconds=1), timedelta(hours=1), priority=0
            )
            await _wait(lambda: runtime.cap_kw == 3.0)
            out["after_heal_push_ms"] = (time.perf_counter() - start) * 1000

            # Unusable pushes with a valid bearer token.
            await asyncio.sleep(6)  # past the refresh gap of the pushes above
            before = sum(vtn.requests.values())
            url = f"{base_url}/api/pev_portal/notify/{link.webhook_id}"
            headers = {"Authorization": f"Bearer {link.bearer}"}
            start = time.perf_counter()
            async with aiohttp.ClientSession() as session:
                for _ in range(pushes):
                    async with session.post(url, data=b"not json", headers=headers) as resp:
                        assert resp.status == 200
            out["unusable_pushes_s"] = time.perf_counter() - start
            await asyncio.sleep(6)
            await _wait(lambda: link._refresh_handle is None and not link._refresh_running)
            out["unusable_pushes"] = float(pushes)
            out["unusable_pushes_vtn_requests"] = float(sum(vtn.requests.values()) - before)
            await hass.config_entries.async_unload(entry.entry_id)
    return out


def _run(part: str) -> dict[str, float]:
    """Each measurement in its own process (one Home Assistant test core per process)."""
    import json
    import subprocess

    done = subprocess.run(
        [sys.executable, __file__, part], check=True, capture_output=True, text=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def bench() -> dict[str, float]:
    """Event latency (push and poll), backlog delivery time, and the resilience figures."""
    return {**_run("latency"), **_run("backlog"), **_run("resilience")}


def main(part: str, samples: int = 10, days: int = 30) -> dict[str, float]:
    """One measurement, in this process."""
    if part == "latency":
        push, poll = asyncio.run(_latency(samples))
        return {
            "push_median_ms": statistics.median(push) * 1000,
            "push_max_ms": max(push) * 1000,
            "poll_median_ms": statistics.median(poll) * 1000,
        }
    if part == "resilience":
        return asyncio.run(_resilience(1000))
    elapsed, cpu, intervals, reports = asyncio.run(_backlog(days))
    return {
        "backlog_s": elapsed,
        "backlog_cpu_s": cpu,
        "backlog_intervals": float(intervals),
        "backlog_reports": float(reports),
    }


if __name__ == "__main__":
    import json
    import logging

    logging.disable(logging.WARNING)
    if len(sys.argv) > 1:
        print(json.dumps(main(sys.argv[1])))
    else:
        print(datetime.now(UTC).isoformat(timespec="seconds"), bench())
