"""The card is served by the integration and loaded by the frontend without a resource step."""

from __future__ import annotations

import json
import re
from pathlib import Path

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.frontend_panel import (
    CARD_PATH,
    DATA_CARD_URL,
    async_register_frontend,
)

MANIFEST = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN / "manifest.json"


async def test_card_is_registered_and_served(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """With the frontend loaded, the card's module URL (versioned) is added and served."""
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()
    version = json.loads(MANIFEST.read_text())["version"]
    url = hass.data[DATA_CARD_URL]
    assert re.fullmatch(
        rf"/pev_portal_frontend/pev-portal-card\.js\?v={re.escape(version)}-[0-9a-f]{{10}}", url
    )
    assert url in hass.data[DATA_EXTRA_MODULE_URL].urls

    client = await hass_client()
    response = await client.get(url)
    assert response.status == 200
    body = await response.text()
    assert body == CARD_PATH.read_text(encoding="utf-8")
    assert "customElements.define" in body
    # One self-contained ES module: no imports from a CDN or anywhere else.
    assert not re.search(r"""\bimport\s*[\s{*"'(]|https?://[^"'\s]*\.m?js""", body)

    # Registering again changes nothing.
    assert await async_register_frontend(hass) == url


async def test_without_frontend_the_card_is_only_served(hass: HomeAssistant) -> None:
    """Without the frontend the URL is known but no module is added."""
    assert await async_setup_component(hass, "http", {})
    url = await async_register_frontend(hass)
    assert url is not None
    assert DATA_EXTRA_MODULE_URL not in hass.data


async def test_without_http_nothing_is_served(hass: HomeAssistant) -> None:
    """Without Home Assistant's HTTP server there is nothing to serve."""
    assert await async_register_frontend(hass) is None
    assert DATA_CARD_URL not in hass.data
