"""The utility link's set-up side (issue 13): enrollment pending until the utility grants the
program, the enrollment and dead-letter sensors, the push URL taken from Home Assistant's own
URL settings, and outbox reads that do not wait behind writes kept during a store outage.

End to end: Home Assistant, the demo charger and the project's test VTN on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.push_url import NO_URL, callback_base, vtn_on_lan
from tests.vtn.server import TestVtn, now_utc

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


# -- the push URL from Home Assistant's own URL settings ---------------------------------


@pytest.mark.parametrize(
    ("url", "lan"),
    [
        ("https://127.0.0.1:8080/openadr3/3.1.0", True),
        ("https://192.168.1.20/openadr3", True),
        ("http://[fe80::1]/vtn", True),
        ("https://vtn.local/openadr3", True),
        ("https://vtn/openadr3", True),
        ("https://vtn.home.arpa", True),
        ("https://vtn.utility.example/openadr3/3.1.0", False),
        ("https://8.8.8.8/openadr3", False),
    ],
)
def test_vtn_on_lan(url: str, lan: bool) -> None:
    assert vtn_on_lan(url) is lan


async def test_push_url_from_home_assistants_internal_url(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """No callback URL typed: the link subscribes with Home Assistant's internal URL (the VTN
    is on the local network), the VTN's echo challenge passes, and pushes arrive."""
    hass.config.internal_url = callback_base
    hass.config.external_url = "https://far-away.example"
    vtn.probe_callbacks = True
    link = link_of(await setup(hass, linked_entry(vtn, None)))
    [subscription] = vtn.subscriptions.values()
    url = subscription["objectOperations"][0]["callbackUrl"]
    assert url == f"{callback_base}/api/pev_portal/notify/{link.webhook_id}"
    assert vtn.probes == [(url, True)]
    assert link.state.push_active
    assert link.state.push_source == "internal"
    assert link.state.polling_because is None
    assert link.state.echo_probe_at is not None
    diagnostics = link.diagnostics()
    assert diagnostics["push_source"] == "internal"
    assert diagnostics["echo_probe_at"] is not None

    event = vtn.create_dlc_event(7.0, now_utc(), timedelta(hours=1))
    await vtn.settle()
    await wait_for(hass, lambda: event["id"] in link.state.events)


def test_external_url_first_for_a_vtn_elsewhere(hass: HomeAssistant) -> None:
    """A VTN on the internet cannot reach the internal URL: the external one comes first; a
    typed URL overrides both."""
    hass.config.internal_url = "http://192.168.1.5:8123"
    hass.config.external_url = "https://home.example.org"
    far = {"vtn_url": "https://vtn.utility.example/openadr3/3.1.0"}
    near = {"vtn_url": "https://192.168.1.20/openadr3"}
    assert callback_base(hass, far) == ("https://home.example.org", "external")
    assert callback_base(hass, near) == ("http://192.168.1.5:8123", "internal")
    typed = {**far, "callback_url": "https://hooks.example.net/ha/"}
    assert callback_base(hass, typed) == ("https://hooks.example.net/ha", "typed")
    hass.config.external_url = None
    assert callback_base(hass, far) == ("http://192.168.1.5:8123", "internal")


async def test_without_any_url_the_link_polls_and_says_why(
    hass: HomeAssistant, vtn: TestVtn
) -> None:
    """No internal or external URL and none typed: no subscription, polling, and the
    diagnostics say why; a URL set later is used at the next poll."""
    link = link_of(await setup(hass, linked_entry(vtn, None)))
    assert link.state.connected
    assert not link.state.push_active
    assert vtn.subscriptions == {}
    assert link.diagnostics()["polling_because"] == NO_URL
    # Nor a local IP Home Assistant detected (the harness's HTTP settings have one: a fallback
    # internal URL, as get_url gives it).
    hass.config.api = None
    await link._async_poll()
    assert not link.state.push_active
    assert link.state.polling_because == NO_URL

    hass.config.external_url = "https://home.example.org"
    await link._async_poll()
    assert link.state.push_active
    assert link.state.push_source == "external"
    [subscription] = vtn.subscriptions.values()
    assert subscription["objectOperations"][0]["callbackUrl"].startswith(
        "https://home.example.org/api/pev_portal/notify/"
    )


async def test_subscription_refused_by_the_echo_probe_polls(
    hass: HomeAssistant, vtn: TestVtn
) -> None:
    """The VTN's echo challenge cannot reach the URL: the VTN refuses the subscription, the
    link stays connected and polls, and the diagnostics say why."""
    vtn.probe_callbacks = True
    link = link_of(await setup(hass, linked_entry(vtn, "http://127.0.0.1:9")))
    assert link.state.connected
    assert not link.state.push_active
    assert vtn.subscriptions == {}
    assert [passed for _url, passed in vtn.probes] == [False]
    reason = link.diagnostics()["polling_because"]
    assert "refused the subscription" in reason
    assert "typed" in reason
    vtn.create_dlc_event(7.0, now_utc(), timedelta(hours=1))
    await link._async_poll()
    assert len(link.state.events) == 1, "polling still reads the events"
