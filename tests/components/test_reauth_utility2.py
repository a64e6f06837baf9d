"""Reauthentication of the OpenADR 2.0b link, through Home Assistant against openleadr's VTN
on 127.0.0.1: a VTN that refuses the VEN's identity (its certificate or signature: HTTP 403 or
OpenADR 463; a VTN certificate that no longer matches the fingerprint) starts the reauth flow
once; its form asks for the VEN's certificate and key and the VTN's fingerprint, tests them by
registering, shows every error and keeps the old entry until they work."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from openleadr.utils import certificate_fingerprint
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.openadr2.status import STATUS_SPECIFIER
from tests.vtn.certs import self_signed
from tests.vtn.oadr2 import Vtn, start_vtn

from .common import setup
from .test_utility import plug, wait_for
from .test_utility2 import (
    PEV,
    VEN_ID,
    _intervals,
    bound_and_charging,
    entry2,
    link2,
    poll_now,
)

ISSUE = "utility_auth_premise1"


@pytest.fixture
async def vtn2(socket_enabled: None) -> AsyncIterator[Vtn]:
    server = await start_vtn()
    yield server
    await server.stop()


def reauth_flows(hass: HomeAssistant) -> list[Any]:
    return [
        f
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if f["context"]["source"] == "reauth"
    ]


def refused_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.ERROR and "refuses the link's credentials" in r.getMessage()
    ]


def pair(tmp_path: Path, name: str) -> tuple[Path, Path, str]:
    """A certificate, its key and its fingerprint."""
    folder = tmp_path / name
    folder.mkdir()
    cert, key = self_signed(folder)
    return cert, key, certificate_fingerprint(cert.read_bytes())


async def test_a_changed_vtn_certificate_starts_reauth_and_new_values_fix_it(
    hass: HomeAssistant, vtn2: Vtn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The VTN signs with a new certificate: its answers no longer match the fingerprint, the
    link is down and starts the reauth flow once (the reason logged once, however many polls);
    the form asks for the 2.0b identity; a wrong fingerprint or a missing file is shown on the
    form and the entry keeps its values; the new fingerprint (and the VEN's files) is tested,
    kept, and the reloaded link is connected."""
    old_cert, old_key, old_fp = pair(tmp_path, "old")
    new_cert, new_key, new_fp = pair(tmp_path, "new")
    ven_cert, ven_key, _ = pair(tmp_path, "ven")
    vtn2.sign_with(old_cert.read_bytes(), old_key.read_bytes())
    entry = entry2(vtn2, vtn_fingerprint=old_fp)
    coordinator = await setup(hass, entry)
    link = link2(coordinator)
    assert link.state.connected
    assert reauth_flows(hass) == []

    vtn2.sign_with(new_cert.read_bytes(), new_key.read_bytes())
    for _ in range(3):
        await poll_now(hass, link)
    assert not link.state.connected
    assert "fingerprint does not match" in str(link.state.last_error)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is not None
    flows = reauth_flows(hass)
    assert len(flows) == 1
    assert len(refused_logs(caplog)) == 1
    assert "fingerprint does not match" in refused_logs(caplog)[0]

    flow_id = flows[0]["flow_id"]
    form = await hass.config_entries.flow.async_configure(flow_id)
    assert form["type"] is FlowResultType.FORM
    assert form["step_id"] == "reauth_confirm"
    assert [str(k) for k in form["data_schema"].schema] == [
        "ven_cert",
        "ven_key",
        "vtn_fingerprint",
    ]

    form = await hass.config_entries.flow.async_configure(flow_id, {"vtn_fingerprint": old_fp})
    assert form["type"] is FlowResultType.FORM
    assert form["errors"] == {"vtn_fingerprint": "vtn_fingerprint_mismatch"}
    assert "fingerprint does not match" in form["description_placeholders"]["detail"]
    assert entry.data["utility"]["vtn_fingerprint"] == old_fp

    missing = str(tmp_path / "nowhere.pem")
    form = await hass.config_entries.flow.async_configure(
        flow_id, {"vtn_fingerprint": new_fp, "ven_cert": missing, "ven_key": str(ven_key)}
    )
    assert form["errors"] == {"base": "ven_cert_not_found"}
    assert form["description_placeholders"]["detail"] == missing
    form = await hass.config_entries.flow.async_configure(
        flow_id, {"vtn_fingerprint": new_fp, "ven_cert": str(ven_cert)}
    )
    assert form["errors"] == {"base": "ven_cert_and_key"}
    assert entry.data["utility"]["vtn_fingerprint"] == old_fp
    assert "ven_cert" not in entry.data["utility"]

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"vtn_fingerprint": new_fp, "ven_cert": str(ven_cert), "ven_key": str(ven_key)}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.state is ConfigEntryState.LOADED
    utility = entry.data["utility"]
    assert (utility["vtn_fingerprint"], utility["ven_cert"], utility["ven_key"]) == (
        new_fp,
        str(ven_cert),
        str(ven_key),
    )
    assert utility["protocol"] == "oadr2"
    assert utility["mandatory_programs"] == ["oadr://emergency"]
    relinked = link2(entry.runtime_data)
    assert relinked is not link
    assert relinked.state.connected
    assert relinked.diagnostics()["signed"] is True
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None


@pytest.mark.parametrize(("how", "error"), [("403", "HTTP 403"), ("463", "463")])
async def test_a_refused_ven_identity_starts_reauth_once(
    hass: HomeAssistant, vtn2: Vtn, caplog: pytest.LogCaptureFixture, how: str, error: str
) -> None:
    """The VTN refuses the VEN's certificate or signature (openleadr's HTTP 403, or its 463
    about the client certificate): one reauth flow, one logged reason; the form shows the
    refusal while it lasts (the entry unchanged), and the same values work once the VTN takes
    the VEN again."""
    entry = entry2(vtn2)
    coordinator = await setup(hass, entry)
    link = link2(coordinator)
    assert link.state.connected
    before = dict(entry.data["utility"])

    vtn2.refuse_identity(how)
    for _ in range(3):
        await poll_now(hass, link)
    assert not link.state.connected
    assert error in str(link.state.last_error)
    assert len(reauth_flows(hass)) == 1
    assert len(refused_logs(caplog)) == 1
    assert error in refused_logs(caplog)[0]
    flow_id = reauth_flows(hass)[0]["flow_id"]

    form = await hass.config_entries.flow.async_configure(flow_id, {})
    assert form["type"] is FlowResultType.FORM
    assert form["errors"] == {"base": "invalid_auth"}
    assert error in form["description_placeholders"]["detail"]
    assert dict(entry.data["utility"]) == before

    vtn2.refuse_identity(None)
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert dict(entry.data["utility"]) == before
    assert link2(entry.runtime_data).state.connected
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None


async def test_an_outage_or_a_refused_registration_does_not_start_reauth(
    hass: HomeAssistant, vtn2: Vtn
) -> None:
    """A VTN that is down is an outage, and a registration refused without an error code
    (openleadr's refused VEN) may be the VEN name or the enrolment: no reauth flow."""
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    await vtn2.stop()
    await poll_now(hass, link)
    assert not link.state.connected
    await vtn2.start()
    vtn2.accept = False
    link.state.ven_id = None  # registers again at the next poll
    await poll_now(hass, link)
    assert "did not register" in str(link.state.last_error)
    assert reauth_flows(hass) == []
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None


@pytest.fixture
def ticking() -> Iterator[Any]:
    """A clock that runs at real speed and can jump ahead (past the outbox's backoff)."""
    with freeze_time(dt_util.utcnow(), tick=True) as factory:
        yield factory


async def test_a_report_refused_with_the_identity_is_kept_and_sent_after_reauth(
    hass: HomeAssistant, vtn2: Vtn, ticking: Any
) -> None:
    """A usage report the VTN refuses because it refuses the VEN's certificate (463) is not
    dead-lettered: it stays due, and is delivered after the reauthentication."""
    entry = entry2(vtn2)
    coordinator = await setup(hass, entry)
    link = link2(coordinator)
    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    vtn2.refuse_identity("463")
    await link.async_queue_usage("s1", PEV, _intervals(start, 1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert link.state.dead_letters == 0
    assert link.state.backlog == 1
    assert vtn2.reports == []
    assert "463" in str(link.state.last_error)
    flows = reauth_flows(hass)
    assert len(flows) == 1

    vtn2.refuse_identity(None)
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    await hass.async_block_till_done(wait_background_tasks=True)
    assert result["reason"] == "reauth_successful"
    relinked = link2(entry.runtime_data)
    ticking.tick(timedelta(minutes=1))  # past the backoff of the refused attempt
    async_fire_time_changed(hass)
    await wait_for(hass, lambda: relinked.state.backlog == 0 and len(vtn2.reports) == 1)
    assert vtn2.reports == [(PEV, [(start, 2.5)])]


async def test_a_status_refused_with_the_identity_is_kept(hass: HomeAssistant, vtn2: Vtn) -> None:
    """A status report refused because the VTN refuses the VEN's certificate (463) is kept
    due in the outbox (not a dead letter) and starts the reauth flow."""
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    await bound_and_charging(hass, coordinator)
    vtn2.request_status(VEN_ID, STATUS_SPECIFIER, [PEV])
    await poll_now(hass, link)
    await wait_for(hass, lambda: len(vtn2.statuses) == 1)

    vtn2.refuse_identity("463")
    await plug(hass, on=False)
    await link._async_pump()
    row = await coordinator.store.read(
        lambda s: s.outbox_report(f"status2:{PEV}", coordinator.premise_id)
    )
    assert row is not None
    assert row["dead_letter"] is None
    assert "463" in str(row["last_error"])
    assert row["sent_version"] < row["version"]
    assert link.state.dead_letters == 0
    assert not link.state.connected
    assert len(reauth_flows(hass)) == 1
