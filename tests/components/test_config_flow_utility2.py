"""The utility link's form with OpenADR 2.0b: the live test against openleadr's VTN on
127.0.0.1, every error on the form, and reconfigure from 3.1 to 2.0b."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.const import DOMAIN
from tests.vtn.certs import self_signed
from tests.vtn.oadr2 import Vtn, free_port, start_vtn

from .conftest import OPTIONS, PREMISE, make_entry
from .test_config_flow_utility import flow_at_utility

ADVANCED = (
    "ven_name",
    "allow_http",
    "protocol",
    "vtn_fingerprint",
    "ven_cert",
    "ven_key",
    "mandatory_programs",
    "default_opt",
    "default_binding",
)


@pytest.fixture
async def vtn2(socket_enabled: None) -> AsyncIterator[Vtn]:
    server = await start_vtn()
    yield server
    await server.stop()


def form2(url: str, *, set_up: bool = True, **changes: Any) -> dict[str, Any]:
    values = {
        "vtn_url": url,
        "auth_type": "none",
        "allow_http": True,
        "protocol": "oadr2",
        "mandatory_programs": "oadr://emergency, oadr://cpp",
        "default_opt": "optIn",
        **changes,
    }
    form = {k: v for k, v in values.items() if k not in ADVANCED}
    form["advanced"] = {k: v for k, v in values.items() if k in ADVANCED}
    if set_up:
        form["premise_id"] = "SDP-7"
    return form


async def test_a_2_0b_link_is_tested_and_stored(hass: HomeAssistant, vtn2: Vtn) -> None:
    """The live test registers the VEN at the VTN; the link is kept with its protocol and
    2.0b settings, and the entry runs the 2.0b link."""
    flow_id = await flow_at_utility(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, form2(vtn2.url))
    assert result["step_id"] == "charger"
    assert list(vtn2.vens) == ["ven-SDP-7"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"charger_name": "Garage", "charger_type": "demo"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["utility"] == {
        "vtn_url": vtn2.url,
        "auth_type": "none",
        "ven_name": "SDP-7",
        "programs": [],
        "allow_http": True,
        "protocol": "oadr2",
        "mandatory_programs": ["oadr://emergency", "oadr://cpp"],
        "default_opt": "optIn",
        "default_binding": "enrolled",
    }
    link = result["result"].runtime_data.link
    assert type(link).__name__ == "Oadr2Link"
    assert link.state.connected


async def test_errors_on_the_form(hass: HomeAssistant, vtn2: Vtn, tmp_path: Path) -> None:
    """A refusing VTN, an unreachable one, a wrong fingerprint, a certificate without its key,
    a missing file, an unusable key and plain HTTP are each shown on the form; the corrected
    link proceeds."""
    cert, key = self_signed(tmp_path)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    down = f"http://127.0.0.1:{free_port()}/OpenADR2/Simple/2.0b"
    flow_id = await flow_at_utility(hass)

    async def errors(url: str, **changes: Any) -> tuple[dict[str, str], str]:
        result = await hass.config_entries.flow.async_configure(flow_id, form2(url, **changes))
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "utility"
        return result["errors"], result["description_placeholders"]["detail"]

    vtn2.accept = False
    found, detail = await errors(vtn2.url)
    assert found == {"base": "vtn_refused"}
    assert "did not register" in detail
    vtn2.accept = True
    assert (await errors(down))[0] == {"base": "cannot_connect"}
    found, detail = await errors(vtn2.url, vtn_fingerprint="00:11:22:33:44:55:66:77:88:99")
    assert found == {"base": "oadr2_bad_message"}
    assert "fingerprint" in detail
    vtn2.sign_with(cert.read_bytes(), key.read_bytes())  # signed, by another certificate
    found, detail = await errors(vtn2.url, vtn_fingerprint="00:11:22:33:44:55:66:77:88:99")
    assert found == {"advanced": "vtn_fingerprint_mismatch"}
    assert "fingerprint does not match" in detail
    vtn2.sign_with(None, None)
    vtn2.refuse_identity("403")  # the VTN refuses the VEN's signature
    found, detail = await errors(vtn2.url)
    assert found == {"base": "invalid_auth"}
    assert "HTTP 403" in detail
    vtn2.refuse_identity(None)
    assert (await errors(vtn2.url, ven_cert=str(cert)))[0] == {"base": "ven_cert_and_key"}
    found, detail = await errors(vtn2.url, ven_cert=str(cert), ven_key="/nonexistent.key")
    assert found == {"advanced": "ven_cert_not_found"}
    assert detail == "/nonexistent.key"
    assert (await errors(vtn2.url, ven_cert=str(cert), ven_key=str(junk)))[0] == {
        "base": "invalid_ven_cert"
    }
    assert (await errors(vtn2.url, allow_http=False))[0] == {"vtn_url": "insecure_http"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, form2(vtn2.url, ven_cert=str(cert), ven_key=str(key))
    )
    assert result["step_id"] == "charger"


async def test_reconfigure_from_3_1_to_2_0b(hass: HomeAssistant, vtn2: Vtn) -> None:
    """Reconfigure: the form shows the protocol; choosing 2.0b tests and keeps the 2.0b link,
    and the entry reloads onto it."""
    entry = make_entry()
    linked = MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data={
            **PREMISE,
            "utility": {
                "vtn_url": "https://vtn.invalid/openadr3/3.1.0",
                "auth_type": "token",
                "token": "t",
                "ven_name": PREMISE["premise_id"],
                "programs": [],
            },
        },
        options=OPTIONS,
    )
    linked.add_to_hass(hass)
    result = await linked.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], dict(PREMISE))
    assert result["step_id"] == "reconfigure_utility"
    advanced = next(v for m, v in result["data_schema"].schema.items() if str(m) == "advanced")
    assert "protocol" in {str(m) for m in advanced.schema.schema}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form2(vtn2.url, set_up=False, default_opt="optOut")
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    utility = linked.data["utility"]
    assert utility["protocol"] == "oadr2"
    assert utility["default_opt"] == "optOut"
    assert list(vtn2.vens) == [f"ven-{PREMISE['premise_id']}"]
