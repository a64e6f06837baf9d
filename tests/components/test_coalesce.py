"""The coalesced runner (custom_components/pev_portal/coalesce.py): one pass at a time, one
more after a pass that was asked for again, none after a stop."""

from __future__ import annotations

import asyncio

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.coalesce import Coalesced
from custom_components.pev_portal.const import DOMAIN


@pytest.fixture
def entry(hass: HomeAssistant) -> MockConfigEntry:
    entry = MockConfigEntry(domain=DOMAIN, data={})
    entry.add_to_hass(hass)
    return entry


@pytest.mark.parametrize("background", [True, False])
async def test_requests_during_a_pass_run_exactly_one_more(
    hass: HomeAssistant, entry: MockConfigEntry, background: bool
) -> None:
    release = asyncio.Event()
    started: list[int] = []

    async def run_pass() -> None:
        started.append(len(started))
        if len(started) == 1:
            await release.wait()

    runner = Coalesced(hass, entry, run_pass, "test_runner", background=background)
    runner.schedule()
    await asyncio.sleep(0)
    assert runner.running
    for _ in range(5):
        runner.schedule()  # five requests while the first pass waits
    release.set()
    await runner.async_wait()
    assert started == [0, 1]
    assert runner.passes == 2
    runner.schedule()
    await runner.async_wait()
    assert runner.passes == 3


async def test_a_pass_returning_false_ends_the_run(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    runner: Coalesced

    async def run_pass() -> bool:
        runner.schedule()  # asked again during the pass...
        return False  # ...but the pass says its part is closing

    runner = Coalesced(hass, entry, run_pass, "test_runner")
    runner.schedule()
    await runner.async_wait()
    assert runner.passes == 1


async def test_nothing_runs_after_a_stop_and_a_cancel_ends_the_pass(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    never = asyncio.Event()

    async def run_pass() -> None:
        await never.wait()

    runner = Coalesced(hass, entry, run_pass, "test_runner")
    runner.schedule()
    await asyncio.sleep(0)
    await runner.async_cancel()
    assert not runner.running
    runner.schedule()
    assert runner.task is not None
    assert runner.task.done()
    assert runner.passes == 1
