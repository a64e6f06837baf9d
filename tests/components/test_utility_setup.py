"""The utility link's set-up side (issue 13): enrollment pending until the utility grants the
program, the enrollment and dead-letter sensors, the push URL taken from Home Assistant's own
URL settings, and outbox reads that do not wait behind writes kept during a store outage.

End to end: Home Assistant, the demo charger and the project's test VTN on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import sqlite3

from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations

from custom_components.pev_portal.const import DOMAIN
from tests.vtn.server import TestVtn

from .common import attrs, setup, state
from .conftest import PREMISE, PROGRAM
from .test_utility import link_of, linked_entry, wait_for
from .test_utility_resilience import reporting, send

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


# -- enrollment and dead letters on the link's device ------------------------------------

LINK = "sensor.test_home_utility_link"
PRIVATE = "PEV-PRIVATE"


async def test_enrollment_sensor_pending_until_the_grant_is_pushed(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A program targeted only at the premise: the Enrollment sensor says pending and which
    program is missing; the BL's grant, pushed, makes it active without a poll."""
    vtn.add_program(PRIVATE, targets=[PREMISE["premise_id"]])
    coordinator = await setup(hass, linked_entry(vtn, callback_base, programs=[PROGRAM, PRIVATE]))
    link = link_of(coordinator)
    assert state(hass, f"{LINK}_enrollment") == "pending"
    assert attrs(hass, f"{LINK}_enrollment")["missing_programs"] == [PRIVATE]
    assert attrs(hass, f"{LINK}_enrollment")["options"] == ["active", "pending"]
    registry = er.async_get(hass)
    enrollment = registry.async_get(f"{LINK}_enrollment")
    assert enrollment is not None
    assert enrollment.entity_category is None
    assert enrollment.translation_key == "enrollment"
    polls = link.refreshes

    vtn.grant_ven_targets(PREMISE["premise_id"], [PREMISE["premise_id"]])
    await vtn.settle()
    await wait_for(hass, lambda: state(hass, f"{LINK}_enrollment") == "active")
    assert attrs(hass, f"{LINK}_enrollment")["missing_programs"] == []
    assert link.refreshes == polls + 1, "one refresh, asked by the VEN push"
    assert ir.async_get(hass).async_get_issue(DOMAIN, "utility_enrollment_premise1") is None


async def test_enrollment_states_are_translated(hass: HomeAssistant) -> None:
    for language, pending in (
        ("en", "Waiting for the utility"),
        ("de", "Warten auf den Versorger"),
        ("fr", "En attente du fournisseur"),
    ):
        texts = await async_get_translations(hass, language, "entity", [DOMAIN])
        prefix = f"component.{DOMAIN}.entity.sensor"
        assert texts[f"{prefix}.enrollment.state.pending"] == pending
        assert texts[f"{prefix}.enrollment.state.active"]
        assert texts[f"{prefix}.dead_letters.name"]


async def test_dead_letter_sensor_counts_refused_reports(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """The diagnostic sensor counts the reports the VTN refused for good; resending clears it."""
    link = await reporting(hass, vtn, callback_base)
    refused = f"{LINK}_reports_refused"
    entry = er.async_get(hass).async_get(refused)
    assert entry is not None
    assert entry.entity_category is EntityCategory.DIAGNOSTIC
    assert state(hass, refused) == "0"
    vtn.fail_next("PUT /reports/{id}", 422)
    await send(hass, link, 3)
    await wait_for(hass, lambda: state(hass, refused) == "1")
    await hass.services.async_call(DOMAIN, "resend_report", {}, blocking=True)
    await wait_for(hass, lambda: state(hass, refused) == "0")
