"""The utility link's set-up side (issue 13): enrollment pending until the utility grants the
program, the enrollment and dead-letter sensors, the push URL taken from Home Assistant's own
URL settings, and outbox reads that do not wait behind writes kept during a store outage.

End to end: Home Assistant, the demo charger and the project's test VTN on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import sqlite3

from homeassistant.core import HomeAssistant

from tests.vtn.server import TestVtn

from .test_utility_resilience import reporting

# -- reads during a store outage ---------------------------------------------------------


async def test_outbox_reads_do_not_wait_behind_kept_writes(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """The ledger cannot be written (locked by another process): a write is kept and retried,
    and the link's reads (backlog, dead letters, reports due) are still answered."""
    link = await reporting(hass, vtn, callback_base)
    store = link.premise.store
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        kept = store.submit(lambda s: s.set_meta("during_outage", 1))
        while store.status.failing_since is None:
            await hass.async_add_executor_job(lambda: None)
        # A guard against a hang, not a timing assertion: each would wait for the lock.
        assert await asyncio.wait_for(link.async_dead_letters(), 30) == []
        await asyncio.wait_for(link._refresh_backlog(), 30)
        assert link.state.backlog == 0
        await asyncio.wait_for(link._async_pump(), 30)  # nothing due: returns
        assert not kept.done()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await kept
    assert await store.read(lambda s: s.get_meta("during_outage")) == 1
