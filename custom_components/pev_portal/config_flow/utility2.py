"""The OpenADR 2.0b link's settings and its live test on the form (the 3.1 form's steps,
``utility.py``, call these when the advanced section's protocol is 2.0b)."""

from __future__ import annotations

import importlib
import ssl
from pathlib import Path
from typing import Any

import probatio as vol
from homeassistant.core import HomeAssistant

from ..const import (
    CONF_DEFAULT_BINDING,
    CONF_DEFAULT_OPT,
    CONF_MANDATORY_PROGRAMS,
    CONF_PROTOCOL,
    CONF_VEN_CERT,
    CONF_VEN_KEY,
    CONF_VEN_NAME,
    CONF_VTN_FINGERPRINT,
    PROTOCOL_OADR2,
)


def oadr2_data(user_input: dict[str, Any]) -> dict[str, Any]:
    """The 2.0b part of the stored link: the protocol, the security profile's fingerprint and
    files (absent: plain), the mandatory programs (market contexts), the default answer and the
    binding of a vehicle no event names."""
    mandatory = user_input.get(CONF_MANDATORY_PROGRAMS) or []
    if isinstance(mandatory, str):
        mandatory = [p.strip() for p in mandatory.split(",") if p.strip()]
    data: dict[str, Any] = {
        CONF_PROTOCOL: PROTOCOL_OADR2,
        CONF_MANDATORY_PROGRAMS: mandatory,
        CONF_DEFAULT_OPT: "optOut" if user_input.get(CONF_DEFAULT_OPT) == "optOut" else "optIn",
        CONF_DEFAULT_BINDING: (
            "not_enrolled" if user_input.get(CONF_DEFAULT_BINDING) == "not_enrolled" else "enrolled"
        ),
    }
    for key in (CONF_VTN_FINGERPRINT, CONF_VEN_CERT, CONF_VEN_KEY):
        if value := (user_input.get(key) or "").strip():
            data[key] = value
    return data


def oadr2_reauth_fields(current: dict[str, Any]) -> dict[vol.Marker, Any]:
    """The reauthentication form of a 2.0b link: its identity (the VEN's certificate and key,
    the VTN's fingerprint), prefilled with the stored ones (all blank: plain)."""
    return {
        vol.Optional(key, description={"suggested_value": current.get(key)}): str
        for key in (CONF_VEN_CERT, CONF_VEN_KEY, CONF_VTN_FINGERPRINT)
    }


def oadr2_reauth_data(current: dict[str, Any], user_input: dict[str, Any]) -> dict[str, Any]:
    """The stored 2.0b link with the identity from the reauthentication form (a blank field
    removes the stored value)."""
    link = dict(current)
    for key in (CONF_VEN_CERT, CONF_VEN_KEY, CONF_VTN_FINGERPRINT):
        if value := (user_input.get(key) or "").strip():
            link[key] = value
        else:
            link.pop(key, None)
    return link


def _files_exist(paths: list[str]) -> list[bool]:
    return [Path(p).is_file() for p in paths]


async def async_test_link2(hass: HomeAssistant, link: dict[str, Any]) -> tuple[dict[str, str], str]:
    """Talk to the 2.0b VTN as the link will: query it, then register the VEN (so the utility
    sees it). Returns the form's errors and their detail."""
    from ..openadr2 import transport as errors  # light: openleadr is imported by utility2

    # Imported in the executor: openleadr reads its XML schema files at import.
    utility2 = await hass.async_add_import_executor_job(
        importlib.import_module, f"{__package__.rpartition('.')[0]}.utility2"
    )

    cert, key = link.get(CONF_VEN_CERT), link.get(CONF_VEN_KEY)
    if bool(cert) != bool(key):
        return {"base": "ven_cert_and_key"}, ""
    if cert and key:
        found = await hass.async_add_executor_job(_files_exist, [cert, key])
        if not found[0]:
            return {"advanced": "ven_cert_not_found"}, cert
        if not found[1]:
            return {"advanced": "ven_cert_not_found"}, key
    try:
        client = await utility2.async_make_client2(hass, link, link[CONF_VEN_NAME])
        await client.query_registration()
        await client.register()
    except (ssl.SSLError, ValueError, OSError) as err:
        return {"base": "invalid_ven_cert"}, str(err)
    except errors.FingerprintMismatch as err:
        return {"advanced": "vtn_fingerprint_mismatch"}, str(err)
    except errors.IdentityRefused as err:  # HTTP 401/403, a refused certificate
        return {"base": "invalid_auth"}, str(err)
    except errors.VtnUnreachable as err:
        return {"base": "cannot_connect"}, str(err)
    except errors.VtnRefused as err:
        return {"base": "vtn_refused"}, str(err)
    except errors.BadMessage as err:
        return {"base": "oadr2_bad_message"}, str(err)
    except errors.Oadr2Error as err:  # pragma: no cover - every kind is named above
        return {"base": "vtn_error"}, str(err)
    return {}, ""
