"""The URL the utility's VTN pushes to: typed to override, else Home Assistant's own.

Home Assistant's URL settings (Settings > System > Network) are read with
``homeassistant.helpers.network.get_url``: the internal URL first for a VTN on the local network
(it reaches Home Assistant there, and the external one may not loop back), the external URL
first otherwise; each falls back to the other and to what Home Assistant detects (its local IP,
its cloud URL). The VTN checks the URL with its echo challenge (Definition.md, Webhooks) when
it creates the subscription; a refusal leaves the link polling, with the reason.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import yarl
from homeassistant.core import HomeAssistant
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util.network import normalize_url

from .const import CONF_CALLBACK_URL, CONF_VTN_URL

NO_URL = (
    "Home Assistant has no internal or external URL (Settings > System > Network) and the "
    "link has no callback URL"
)
_LAN_SUFFIXES = (".local", ".lan", ".home", ".home.arpa", ".internal", ".localdomain")


def vtn_on_lan(vtn_url: str) -> bool:
    """Whether the VTN is on the local network: a private, loopback or link-local address, or
    a host name without a public domain (``vtn``, ``vtn.local``, ``vtn.home.arpa``)."""
    host = (yarl.URL(vtn_url).host or "").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or "." not in host or host.endswith(_LAN_SUFFIXES)
    return address.is_private or address.is_loopback or address.is_link_local


def callback_base(hass: HomeAssistant, config: dict[str, Any]) -> tuple[str | None, str]:
    """The base URL the VTN pushes to, and where it came from (or why there is none).

    A URL typed in the link's settings overrides; otherwise Home Assistant's own URL settings
    (``homeassistant.helpers.network.get_url``): the internal URL first for a VTN on the local
    network, the external one first otherwise, each falling back to the other (and to what
    Home Assistant detects: its local IP, its cloud URL). ``(None, reason)`` without any.
    """
    if typed := (config.get(CONF_CALLBACK_URL) or "").strip():
        return typed.rstrip("/"), "typed"
    try:
        base = get_url(
            hass, allow_internal=True, prefer_external=not vtn_on_lan(config[CONF_VTN_URL])
        )
    except NoURLAvailableError, KeyError:  # no URL known (or no network component)
        return None, NO_URL
    base = base.rstrip("/")
    for source, known in (
        ("internal", hass.config.internal_url),
        ("external", hass.config.external_url),
    ):
        if known and normalize_url(known).rstrip("/") == base:
            return base, source
    return base, "detected"
