"""Fixtures for the Zigbee tests: a fake zigpy network behind ZHA's patched gateway helper."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from unittest.mock import patch

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .fake_zigpy import FakeApp, FakeMeter, gateway
from .radio import SimDevice, SimulatedRadio, radio_factory

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


# -- Home Assistant's real ZHA on a simulated radio ---------------------------------------------

JOIN_TURNS = 200
ZHA_RADIO_NEW = "bellows.zigbee.application.ControllerApplication.new"
ESI_ENDPOINT_CONFIG = {
    "endpoint": 10,
    "profile": 0x0109,
    "device_type": 0x0500,
    "device_version": 0,
    "input_clusters": [0x0000, 0x0700, 0x0701],
    "output_clusters": [],
}


class ZhaNetwork:
    """ZHA set up on the simulated radio: join devices, send their frames."""

    def __init__(self, hass: HomeAssistant, entry_id: str, radios: list[SimulatedRadio]) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self._radios = radios

    @property
    def radio(self) -> SimulatedRadio:
        """The radio ZHA's gateway runs on (the last one ZHA created)."""
        return self._radios[-1]

    async def settle(self) -> None:
        """Let zigpy's and ZHA's own tasks (not tracked by Home Assistant) run out."""
        for _ in range(5):
            await self.hass.async_block_till_done()
            for _ in range(20):
                await asyncio.sleep(0)

    async def join(self, device: SimDevice) -> dr.DeviceEntry:
        """The device joins; wait until ZHA configured it and registered it in Home Assistant.

        Waits in turns of the event loop, not on the clock (a test may freeze it).
        """
        from homeassistant.components.zha.helpers import get_zha_gateway

        self.radio.join(device)
        registry = dr.async_get(self.hass)
        for _ in range(JOIN_TURNS):
            await self.settle()
            gateway = get_zha_gateway(self.hass)
            zha_device = gateway.devices.get(device.eui64)
            entry = registry.async_get_device_by_identifier(("zha", device.ieee), self.entry_id)
            if (
                zha_device is not None
                and entry is not None
                and device.eui64 not in gateway._device_init_tasks
            ):
                return entry
        raise AssertionError(f"{device.model} did not finish joining")


@pytest.fixture
async def zha_network(ha: HomeAssistant) -> AsyncIterator[ZhaNetwork]:
    """Home Assistant's ``zha`` component, set up on the simulated radio (quirks enabled)."""
    from homeassistant.setup import async_setup_component

    radios: list[SimulatedRadio] = []
    entry = MockConfigEntry(
        domain="zha",
        version=5,
        minor_version=2,
        title="Simulated radio",
        data={
            "device": {"path": "/dev/ttyPEV0", "baudrate": 115200, "flow_control": None},
            "radio_type": "ezsp",
        },
    )
    entry.add_to_hass(ha)
    config = {
        "zha": {
            "zigpy_config": {
                "topology_scan_enabled": False,
                "watchdog_enabled": False,
                "ota": {"enabled": False},
                "additional_endpoints": [ESI_ENDPOINT_CONFIG],
            }
        }
    }
    with patch(ZHA_RADIO_NEW, new=radio_factory(radios)):
        assert await async_setup_component(ha, "zha", config)
        await ha.async_block_till_done()
        network = ZhaNetwork(ha, entry.entry_id, radios)
        await network.settle()
        yield network
        assert not [err for radio in radios for err in radio.errors]
        await ha.config_entries.async_unload(entry.entry_id)
        await ha.async_block_till_done()
