"""Serve the dashboard card and load it in every frontend (no manual resource needed).

The card is one ES module, built from ``frontend/`` and kept in this package's ``frontend``
folder. Its URL carries the integration's version and a digest of the file, so a browser never
runs a stale card after an update.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration

from .const import DOMAIN

URL_BASE = "/pev_portal_frontend"
CARD_FILENAME = "pev-portal-card.js"
CARD_PATH = Path(__file__).parent / "frontend" / CARD_FILENAME
DATA_CARD_URL = f"{DOMAIN}_card_url"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


async def async_register_frontend(hass: HomeAssistant) -> str | None:
    """Serve the card and add it to the frontend's extra modules; return its URL.

    Nothing happens without Home Assistant's HTTP server (the card is not served), and the
    module is only added when the frontend is loaded.
    """
    if DATA_CARD_URL in hass.data:
        url: str = hass.data[DATA_CARD_URL]
        return url
    if getattr(hass, "http", None) is None or not CARD_PATH.is_file():
        return None
    integration = await async_get_integration(hass, DOMAIN)
    digest = await hass.async_add_executor_job(_digest, CARD_PATH)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(URL_BASE, str(CARD_PATH.parent), cache_headers=True)]
    )
    url = f"{URL_BASE}/{CARD_FILENAME}?v={integration.version}-{digest}"
    hass.data[DATA_CARD_URL] = url
    if "frontend" in hass.config.components:
        from homeassistant.components.frontend import add_extra_js_url

        add_extra_js_url(hass, url)
    return url
