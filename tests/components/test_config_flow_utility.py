"""The utility-link steps of the config flow, tested live against a real test VTN."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.const import DOMAIN
from tests.vtn.certs import self_signed
from tests.vtn.server import TestVtn

from .conftest import OPTIONS, PREMISE, make_entry

PROGRAM = "PEV-TOU"
USER_INPUT = {"premise_name": "Home", "in_program": True, "tariff_kind": "flat"}
TARIFF_INPUT = {"price": 0.25, "default_price": 0.35}
ADVANCED = ("ven_name", "utility_id", "ca_bundle", "allow_http", "callback_url")


def link_input(vtn: TestVtn, *, set_up: bool = True, **changes: Any) -> dict[str, Any]:
    """The utility step's answers for the test VTN (the rarely needed ones in "advanced")."""
    values = {
        "vtn_url": vtn.base_url,
        "auth_type": "client_credentials",
        "client_id": "ven-client",
        "client_secret": "ven-secret",
        "programs": PROGRAM,
        "allow_http": True,
        **changes,
    }
    form = {k: v for k, v in values.items() if k not in ADVANCED}
    form["advanced"] = {k: v for k, v in values.items() if k in ADVANCED}
    if set_up:
        form["premise_id"] = "SDP-7"
    return form


async def test_utility_form_order(hass: HomeAssistant) -> None:
    """The premise ID first; a bearer token is the preselected authentication (OAuth is not),
    and the rarely needed settings, the CA bundle among them, are in a collapsed section."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], TARIFF_INPUT)
    schema = result["data_schema"]
    assert [str(m) for m in schema.schema] == [
        "premise_id",
        "vtn_url",
        "auth_type",
        "token",
        "client_id",
        "client_secret",
        "programs",
        "advanced",
    ]
    marker = next(m for m in schema.schema if str(m) == "auth_type")
    assert marker.default() == "token"
    assert schema.schema[marker].config["options"] == ["token", "none", "client_credentials"]
    advanced = next(v for m, v in schema.schema.items() if str(m) == "advanced")
    assert advanced.options == {"collapsed": True}
    assert "ca_bundle" in {str(m) for m in advanced.schema.schema}


async def flow_at_utility(hass: HomeAssistant) -> str:
    """A config flow at the utility step."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], TARIFF_INPUT)
    assert result["step_id"] == "utility"
    return result["flow_id"]


async def test_link_tested_and_stored(hass: HomeAssistant, vtn: TestVtn) -> None:
    """A working link is kept in the entry's data; the VEN name defaults to the premise ID."""
    flow_id = await flow_at_utility(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, link_input(vtn))
    assert result["step_id"] == "charger"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "Garage", "charger_type": "demo"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    utility = result["data"]["utility"]
    assert utility == {
        "vtn_url": vtn.base_url,
        "auth_type": "client_credentials",
        "client_id": "ven-client",
        "client_secret": "ven-secret",
        "ven_name": "SDP-7",
        "programs": [PROGRAM],
        "allow_http": True,
    }
    entry = result["result"]
    assert entry.runtime_data.link is not None
    assert entry.runtime_data.link.state.connected
    assert [v["venName"] for v in vtn.vens.values()] == ["SDP-7"]


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"vtn_url": "ftp://vtn.example"}, {"vtn_url": "invalid_url"}),
        ({"vtn_url": "not a url"}, {"vtn_url": "invalid_url"}),
        ({"allow_http": False}, {"vtn_url": "insecure_http"}),
        ({"client_secret": ""}, {"base": "missing_credentials"}),
        ({"auth_type": "token", "token": ""}, {"token": "missing_token"}),
        ({"client_secret": "wrong"}, {"base": "invalid_auth"}),
        ({"ca_bundle": "/nonexistent/ca.pem"}, {"ca_bundle": "ca_bundle_not_found"}),
    ],
)
async def test_link_errors_on_the_form(
    hass: HomeAssistant, vtn: TestVtn, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    """Each wrong setting is refused on the form; the corrected one proceeds."""
    flow_id = await flow_at_utility(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, link_input(vtn, **changes))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "utility"
    assert result["errors"] == errors
    result = await hass.config_entries.flow.async_configure(flow_id, link_input(vtn))
    assert result["step_id"] == "charger"


async def test_program_pending_at_set_up_then_granted(hass: HomeAssistant, vtn: TestVtn) -> None:
    """A program targeted only at the premise is private until the utility grants the VEN its
    target: set-up registers the VEN, says it waits for the utility, creates the entry anyway,
    and the link becomes active by itself when the grant arrives."""
    vtn.add_program("PEV-PRIVATE", targets=["SDP-7"])
    flow_id = await flow_at_utility(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, link_input(vtn, programs="PEV-TOU, PEV-PRIVATE")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "utility_pending"
    assert result["errors"] is None
    assert result["description_placeholders"] == {"programs": "PEV-PRIVATE", "ven_name": "SDP-7"}
    assert [v["venName"] for v in vtn.vens.values()] == ["SDP-7"], "the VEN is registered"

    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["step_id"] == "charger"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "Garage", "charger_type": "demo"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["utility"]["programs"] == ["PEV-TOU", "PEV-PRIVATE"]
    entry = result["result"]
    link = entry.runtime_data.link
    assert link is not None
    assert link.state.connected
    assert link.state.enrollment == "pending"
    assert link.state.missing_programs == ["PEV-PRIVATE"]
    issue_id = f"utility_enrollment_{entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    assert len(vtn.vens) == 1, "set-up and the link use the same VEN"

    vtn.grant_ven_targets("SDP-7", ["SDP-7"])
    await link._async_poll()
    assert link.state.enrollment == "active"
    assert link.state.missing_programs == []
    assert sorted(p.name for p in link.state.programs) == ["PEV-PRIVATE", "PEV-TOU"]
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_reconfigure_to_a_pending_program(hass: HomeAssistant, vtn: TestVtn) -> None:
    """Reconfigure to a program the VEN cannot see yet: told so, then kept."""
    vtn.add_program("PEV-PRIVATE", targets=[PREMISE["premise_id"]])
    entry = make_entry()
    linked = MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(PREMISE),
        options=OPTIONS,
    )
    linked.add_to_hass(hass)
    result = await linked.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], dict(PREMISE))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], link_input(vtn, set_up=False, programs="PEV-PRIVATE")
    )
    assert result["step_id"] == "utility_pending"
    assert result["description_placeholders"]["programs"] == "PEV-PRIVATE"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert linked.data["utility"]["programs"] == ["PEV-PRIVATE"]


async def test_link_unreachable(hass: HomeAssistant, vtn: TestVtn) -> None:
    """A VTN that is down is reported with the reason."""
    await vtn.go_down()
    flow_id = await flow_at_utility(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, link_input(vtn))
    assert result["errors"] == {"base": "cannot_connect"}
    assert result["description_placeholders"]["detail"]


async def test_link_tls_failure_then_ca_bundle(
    hass: HomeAssistant, tmp_path: Path, socket_enabled: None
) -> None:
    """A certificate the system does not trust fails; the user's CA bundle fixes it."""
    # The VTN's side of the refused handshake is logged by the event loop; it is expected here.
    handler = hass.loop.get_exception_handler()

    def _ignore_refused_handshake(loop: Any, context: dict[str, Any]) -> None:
        if "transport creation for incoming connection" not in context.get("message", ""):
            assert handler is not None
            handler(loop, context)

    hass.loop.set_exception_handler(_ignore_refused_handshake)
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    async with TestVtn(ssl_context=context) as vtn:
        vtn.add_program(PROGRAM)
        flow_id = await flow_at_utility(hass)
        result = await hass.config_entries.flow.async_configure(
            flow_id, link_input(vtn, allow_http=False)
        )
        assert result["errors"] == {"base": "tls_error"}
        result = await hass.config_entries.flow.async_configure(
            flow_id, link_input(vtn, allow_http=False, ca_bundle=str(cert))
        )
        assert result["step_id"] == "charger"


async def test_reconfigure_utility_keeps_secret_and_removes(
    hass: HomeAssistant, vtn: TestVtn
) -> None:
    """Reconfigure: a blank secret keeps the stored one; an empty URL removes the link."""
    entry = make_entry()
    stored = {
        "vtn_url": vtn.base_url,
        "auth_type": "client_credentials",
        "client_id": "ven-client",
        "client_secret": "ven-secret",
        "ven_name": PREMISE["premise_id"],
        "programs": [PROGRAM],
        "allow_http": True,
    }
    linked = MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data={**PREMISE, "utility": stored},
        options=OPTIONS,
    )
    linked.add_to_hass(hass)
    result = await linked.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], dict(PREMISE))
    assert result["step_id"] == "reconfigure_utility"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**link_input(vtn, set_up=False), "client_secret": ""}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert linked.data["utility"]["client_secret"] == "ven-secret"
    assert linked.data["in_program"] is True

    result = await linked.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], dict(PREMISE))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"auth_type": "none"}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert "utility" not in linked.data
