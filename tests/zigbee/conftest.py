"""Fixtures for the Zigbee tests: a fake zigpy network behind ZHA's patched gateway helper."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .fake_zigpy import FakeApp, FakeMeter, gateway

GATEWAY = "homeassistant.components.zha.helpers.get_zha_gateway"


@pytest.fixture
def ha(hass: HomeAssistant, enable_custom_integrations: None, tmp_path: Path) -> HomeAssistant:
    """Home Assistant with custom integrations and its own config directory (empty store)."""
    hass.config.config_dir = str(tmp_path)
    return hass


@pytest.fixture
def app() -> FakeApp:
    """The zigpy application (radio stubbed)."""
    return FakeApp()


@pytest.fixture
def zha_up(ha: HomeAssistant, app: FakeApp) -> Iterator[FakeApp]:
    """ZHA is loaded; its gateway helper returns the fake zigpy application's gateway."""
    ha.config.components.add("zha")
    with patch(GATEWAY, return_value=gateway(app)):
        yield app


@pytest.fixture
def zha_down(ha: HomeAssistant) -> Iterator[None]:
    """ZHA is loaded but has no gateway yet: its helper raises ValueError (as ZHA does)."""
    ha.config.components.add("zha")
    with patch(GATEWAY, side_effect=ValueError("No gateway object exists")):
        yield


def register(hass: HomeAssistant, meter: FakeMeter, name: str = "EV meter") -> str:
    """Register the meter as ZHA registers its devices; return the device ID."""
    entries = hass.config_entries.async_entries("zha")
    if entries:
        zha_entry = entries[0]
    else:
        zha_entry = MockConfigEntry(domain="zha", title="ZHA")
        zha_entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=zha_entry.entry_id,
        identifiers={("zha", meter.ieee)},
        connections={(dr.CONNECTION_ZIGBEE, meter.ieee)},
        manufacturer=meter.manufacturer,
        model=meter.model,
        name=name,
    )
    return device.id
