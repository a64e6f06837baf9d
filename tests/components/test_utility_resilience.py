"""The utility link against VTNs as they behave in the field (issue 13), end to end.

Home Assistant, the demo charger and the project's test VTN (every message validated against
the 3.1.0 schemas): grants given or changed mid-session, pushes in every shape, floods of
unusable pushes, a VTN restarted with empty storage, and an outbox facing 404, a report deleted
by the business logic, 422 and 429 with Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.metering import Interval, Quality
from custom_components.pev_portal.utility import UtilityLink, bearer_matches
from tests.vtn.server import TestVtn, now_utc

from .common import setup, state
from .conftest import PREMISE, PROGRAM
from .test_utility import GARAGE, link_of, linked_entry, plug, wait_for

PEV = "PEV-DEMO-0001"


async def bound(hass: HomeAssistant, vtn: TestVtn, callback: str | None) -> PevPortalCoordinator:
    """The demo premise linked to the VTN, the home car plugged in and bound."""
    vtn.approve(PEV)
    if callback is None:
        # Polling only: nor the local IP the harness's HTTP settings detect (10.10.10.10),
        # which the link would otherwise subscribe with (push_url.callback_base).
        hass.config.api = None
    coordinator = await setup(hass, linked_entry(vtn, callback))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    return coordinator


def cap_of(coordinator: PevPortalCoordinator) -> Callable[[], float | None]:
    runtime = coordinator.chargers["charger1"]
    return lambda: runtime.cap_kw


def requests(vtn: TestVtn) -> int:
    return sum(vtn.requests.values())


# -- grants ------------------------------------------------------------------------------


@pytest.mark.parametrize("push", [True, False])
async def test_grant_mid_session_applies_event(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, push: bool
) -> None:
    """An event targeted at a label the BL grants the VEN only after the link connected takes
    effect: by the VEN push at once, or at the next poll without pushes."""
    coordinator = await bound(hass, vtn, callback_base if push else None)
    link = link_of(coordinator)
    cap = cap_of(coordinator)
    event = vtn.create_dlc_event(
        7.0, now_utc() - timedelta(seconds=1), timedelta(hours=1), targets=["grp-late"]
    )
    await vtn.settle()
    await link._async_poll()
    assert event["id"] not in link.state.events, "hidden until granted"
    assert cap() is None

    vtn.grant_ven_targets(PREMISE["premise_id"], ["grp-late"])
    await vtn.settle()
    if not push:
        await link._async_poll()
    await wait_for(hass, lambda: cap() == 7.0)
    decision = link.timeline.explain(link.state.events[event["id"]], PEV)
    assert decision.applies
    assert decision.scope == "all"
    assert "granted to the VEN" in decision.reasons[0]

    # The BL withdraws the grant: the next poll forgets it and the event no longer applies.
    vtn.set_ven_targets(PREMISE["premise_id"], [])
    await vtn.settle()
    await link._async_poll()
    await wait_for(hass, lambda: cap() is None)


async def test_resource_grant_applies_to_that_vehicle(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A label granted to the PEV's resource makes an event apply to that vehicle."""
    coordinator = await bound(hass, vtn, callback_base)
    link = link_of(coordinator)
    vtn.set_resource_targets(PEV, ["grp-car"])
    await vtn.settle()
    await wait_for(hass, lambda: link._resource_targets.get(PEV) == ["grp-car"])
    event = vtn.create_dlc_event(
        5.0, now_utc() - timedelta(seconds=1), timedelta(hours=1), targets=["grp-car"]
    )
    await vtn.settle()
    await wait_for(hass, lambda: cap_of(coordinator)() == 5.0)
    decision = link.timeline.explain(link.state.events[event["id"]], PEV)
    assert (decision.applies, decision.scope) == (True, "vehicle")
    assert not link.timeline.explain(link.state.events[event["id"]], None).applies


# -- notifications ----------------------------------------------------------------------


@pytest.mark.parametrize("style", ["snake", "json-string", "bare"])
async def test_push_in_every_shape(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, style: str
) -> None:
    """snake_case objects, JSON-string objects and bare objects are applied from the push
    itself, without a refresh."""
    coordinator = await bound(hass, vtn, callback_base)
    link = link_of(coordinator)
    vtn.notification_style = style
    refreshes = link.refreshes
    vtn.create_dlc_event(6.0, now_utc() - timedelta(seconds=1), timedelta(hours=1))
    await vtn.settle()
    await wait_for(hass, lambda: cap_of(coordinator)() == 6.0)
    assert link.refreshes == refreshes, "understood from the push, no refresh"


async def test_unusable_pushes_are_coalesced(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, aiohttp_client: Callable[..., Any]
) -> None:
    """300 unusable pushes (lower-case 'bearer' scheme: RFC 7235) cost one or two refreshes,
    not one poll each."""
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    link = link_of(coordinator)
    client = await aiohttp_client(hass.http.app)
    url = f"/api/pev_portal/notify/{link.webhook_id}"
    before = requests(vtn)
    for _ in range(300):
        answer = await client.post(
            url, data=b"not json", headers={"Authorization": f"bearer {link.bearer}"}
        )
        assert answer.status == 200
    await wait_for(hass, lambda: link.refreshes >= 1 and not link._refresh_running)
    await wait_for(hass, lambda: link._refresh_handle is None and not link._refresh_running)
    assert requests(vtn) - before < 10


def test_bearer_scheme_is_case_insensitive() -> None:
    assert bearer_matches("Bearer abc", "abc")
    assert bearer_matches("bearer abc", "abc")
    assert bearer_matches("BEARER  abc ", "abc")
    assert not bearer_matches("Basic abc", "abc")
    assert not bearer_matches("bearer abd", "abc")
    assert not bearer_matches("", "abc")


# -- a VTN that loses its state --------------------------------------------------------


async def test_vtn_restart_with_empty_storage_heals(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The VTN restarts empty: the periodic check re-registers the VEN, re-creates the plugged
    car's resource and the subscription; a new event applies, and the next one by push."""
    coordinator = await bound(hass, vtn, callback_base)
    link = link_of(coordinator)
    old_ven = link.state.ven_id
    await vtn.restart(empty=True)
    vtn.add_program(PROGRAM)
    vtn.create_dlc_event(7.0, now_utc() - timedelta(seconds=1), timedelta(hours=1))
    with caplog.at_level(logging.WARNING):
        await link._async_poll()
    assert "lost this link's state" in caplog.text
    assert "resource PEV-DEMO-0001" in caplog.text
    assert link.state.ven_id != old_ven
    assert [v["venName"] for v in vtn.vens.values()] == [PREMISE["premise_id"]]
    assert vtn.resource_named(PEV) is not None
    assert len(vtn.subscriptions) == 1
    await wait_for(hass, lambda: cap_of(coordinator)() == 7.0)
    vtn.create_dlc_event(
        4.0, now_utc() - timedelta(seconds=1), timedelta(hours=1), name="second", priority=0
    )
    await vtn.settle()
    await wait_for(hass, lambda: cap_of(coordinator)() == 4.0)


async def test_plug_in_after_vtn_restart_heals_on_404(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A plug-in right after the VTN lost its state: the 404 on the resource heals the link
    and the vehicle is bound; changing the request afterwards reaches the new resource."""
    vtn.approve(PEV)
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    link = link_of(coordinator)
    await vtn.restart(empty=True)
    vtn.add_program(PROGRAM)
    with caplog.at_level(logging.WARNING):
        await plug(hass)
        await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    assert "lost this link's state" in caplog.text
    assert [v["id"] for v in vtn.vens.values()] == [link.state.ven_id]
    await link.async_update_request(
        pev_id=PEV,
        max_power_kw=7.0,
        connection="PREMISE_AC_L2",
        energy_request_kwh=12.0,
        departure=None,
    )
    resource = vtn.resource_named(PEV)
    assert resource is not None
    sent = {a["type"]: a["values"] for a in resource["attributes"]}
    assert sent["ENERGY_REQUEST"] == [12.0]


async def test_lost_subscription_is_recreated(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A subscription the VTN dropped is found missing by the periodic check and re-created."""
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    link = link_of(coordinator)
    vtn.subscriptions.clear()
    await link._async_poll()
    assert len(vtn.subscriptions) == 1
    assert link.state.rebuilt == ["subscription"]


# -- enrollment -------------------------------------------------------------------------


async def test_enrollment_pending_until_granted(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A program private to the premise: the link waits for the utility (repair issue), and
    becomes active by itself when the BL grants the VEN."""
    vtn.programs.clear()
    vtn.add_program(PROGRAM, targets=["premise-grp"])
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    link = link_of(coordinator)
    assert link.state.enrollment == "pending"
    assert link.state.missing_programs == [PROGRAM]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "utility_enrollment_premise1")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["programs"] == PROGRAM
    vtn.grant_ven_targets(PREMISE["premise_id"], ["premise-grp"])
    await vtn.settle()
    await wait_for(hass, lambda: link.state.enrollment == "active")
    assert [p.name for p in link.state.programs] == [PROGRAM]
    assert ir.async_get(hass).async_get_issue(DOMAIN, "utility_enrollment_premise1") is None


# -- the outbox -------------------------------------------------------------------------


def intervals(count: int) -> list[Interval]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Interval(
            start=start + timedelta(minutes=15 * i),
            end=start + timedelta(minutes=15 * (i + 1)),
            kwh=0.5,
            pev_id=PEV,
            premise_id=PREMISE["premise_id"],
            meter_id="METER-1",
            quality=Quality.OK,
            meter_epoch=0,
            register_end=100.0 + 0.5 * (i + 1),
        )
        for i in range(count)
    ]


async def reporting(hass: HomeAssistant, vtn: TestVtn, callback: str) -> UtilityLink:
    """A link with one report acknowledged by the VTN."""
    vtn.create_price_event(
        [0.2] * 4, now_utc() - timedelta(hours=1), timedelta(hours=1), report_usage=True
    )
    link = link_of(await setup(hass, linked_entry(vtn, callback)))
    assert await link.async_queue_usage("S-1", PEV, intervals(2)) == 1
    await wait_for(hass, lambda: len(vtn.reports) == 1 and link.state.backlog == 0)
    return link


async def send(hass: HomeAssistant, link: UtilityLink, count: int) -> None:
    await link.async_queue_usage("S-1", PEV, intervals(count))
    await hass.async_block_till_done()
    await link._async_pump()


async def test_report_put_404_is_looked_up_not_duplicated(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A PUT answered 404 although the report exists: found by its name and updated."""
    link = await reporting(hass, vtn, callback_base)
    [report_id] = vtn.reports
    vtn.fail_next("PUT /reports/{id}", 404)
    await send(hass, link, 3)
    await wait_for(hass, lambda: link.state.backlog == 0)
    assert list(vtn.reports) == [report_id]
    assert len(vtn.report_versions[report_id]) == 2


async def test_report_deleted_by_bl_is_created_once(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """The BL deleted the report: the next update creates it again, once."""
    link = await reporting(hass, vtn, callback_base)
    [old] = vtn.reports
    vtn.delete_report(old)
    await send(hass, link, 3)
    await wait_for(hass, lambda: link.state.backlog == 0)
    [new] = vtn.reports
    assert new != old
    assert vtn.reports[new]["reportName"] == "S-1"
    await send(hass, link, 4)
    await wait_for(hass, lambda: link.state.backlog == 0)
    assert list(vtn.reports) == [new], "updated in place afterwards"


async def test_report_refused_is_dead_lettered_and_resent(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """422: kept, out of the backlog, a repair issue naming it; resent by the action."""
    link = await reporting(hass, vtn, callback_base)
    [report_id] = vtn.reports
    vtn.fail_next("PUT /reports/{id}", 422)
    await send(hass, link, 3)
    await wait_for(hass, lambda: link.state.dead_letters == 1)
    assert link.state.backlog == 0
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "report_dead_letter_premise1")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["report"] == "S-1"
    [dead] = await link.async_dead_letters()
    assert dead["report_name"] == "S-1"
    assert "422" in dead["reason"]
    puts = vtn.requests["PUT /reports/{id}"]
    await link._async_pump()
    assert vtn.requests["PUT /reports/{id}"] == puts, "never retried by itself"

    await hass.services.async_call(DOMAIN, "resend_report", {}, blocking=True)
    await wait_for(hass, lambda: link.state.dead_letters == 0 and link.state.backlog == 0)
    assert len(vtn.report_versions[report_id]) == 2
    assert ir.async_get(hass).async_get_issue(DOMAIN, "report_dead_letter_premise1") is None


async def test_a_newer_body_of_a_refused_report_is_sent(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A refused body stays refused, but the report's next body is a new request: sent."""
    link = await reporting(hass, vtn, callback_base)
    [report_id] = vtn.reports
    vtn.fail_next("PUT /reports/{id}", 422)
    await send(hass, link, 3)
    await wait_for(hass, lambda: link.state.dead_letters == 1)
    assert ir.async_get(hass).async_get_issue(DOMAIN, "report_dead_letter_premise1") is not None

    await send(hass, link, 4)
    await wait_for(hass, lambda: link.state.dead_letters == 0 and link.state.backlog == 0)
    assert len(vtn.report_versions[report_id]) == 2, "the newer body, with every interval"
    assert ir.async_get(hass).async_get_issue(DOMAIN, "report_dead_letter_premise1") is None


async def test_report_of_an_event_the_vtn_forgot_is_dead_lettered(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """After a VTN restart the old report's event is gone: no endless 404 retries."""
    link = await reporting(hass, vtn, callback_base)
    await vtn.restart(empty=True)
    await send(hass, link, 3)
    await wait_for(hass, lambda: link.state.dead_letters == 1)
    assert link.state.backlog == 0


async def test_report_429_honours_retry_after(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """429 with Retry-After: the report waits at least that long."""
    link = await reporting(hass, vtn, callback_base)
    vtn.fail_next("PUT /reports/{id}", 429, retry_after="7200")
    await send(hass, link, 3)
    row = await link.premise.store.call(
        lambda s: s.outbox_report(f"usage:S-1:{next(iter(vtn.events))}", link.premise.premise_id)
    )
    assert row is not None
    assert row["attempts"] == 1
    assert datetime.fromisoformat(row["next_attempt"]) >= now_utc() + timedelta(seconds=7100)
    assert link.state.backlog == 1
