"""Fixtures for the OCPP interop tests (the harness is in harness.py).

This folder has no ``__init__.py`` on purpose: pytest puts ``tests/`` on ``sys.path``, and a
package ``tests/ocpp`` would then shadow the ``ocpp`` library.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant import loader
from homeassistant.core import HomeAssistant

from tests.ocpp.harness import EMULATION, Site, make_site


@pytest.fixture(autouse=True)
def ocpp_emulation(hass: HomeAssistant, enable_custom_integrations: None) -> None:
    """Custom integrations as the test harness finds them, plus the emulation as ``ocpp``."""
    found = loader._get_custom_components(hass)
    manifest = json.loads((EMULATION / "manifest.json").read_text())
    found["ocpp"] = loader.Integration(
        hass, "tests.ocpp.ocpp_emulation", EMULATION, manifest, set(os.listdir(EMULATION))
    )
    hass.data[loader.DATA_CUSTOM_COMPONENTS] = found


@pytest.fixture(autouse=True)
def isolated_config_dir(hass: HomeAssistant, tmp_path: Path) -> None:
    """Every test has its own config directory (PEV Portal's session store starts empty)."""
    hass.config.config_dir = str(tmp_path)


@pytest.fixture
async def site(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> AsyncIterator[Site]:
    """The usual site: one connector, lbbrhzn's default 60 s sampling, PEV Portal set up."""
    made = await make_site(hass, freezer)
    await made.start_premise()
    yield made
    await made.cp.disconnect()
