"""Fixtures for the Zigbee tests.

``zha_network``: Home Assistant's real ``zha`` component on the simulated radio of ``radio.py``
(the tests that count). ``zha_up``/``zha_down``: ZHA's gateway helper patched to a fake zigpy
network (``fake_zigpy.py``), kept only for what the real ZHA cannot arrange: ZHA missing, not
loaded yet or loading after PEV Portal, and a meter that never answered a read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from zigpy.zcl import foundation

from .fake_zigpy import FakeApp, FakeMeter, gateway
from .radio import SimDevice, SimulatedRadio, radio_factory

METERING = 0x0702

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
        # Its entry is loaded (PEV Portal waits while ZHA's entry is still coming up, see
        # tests/components/test_setup_ready.py); whether its gateway answers is up to the test.
        zha_entry.mock_state(hass, ConfigEntryState.LOADED)
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
def zha_quirks() -> bool:
    """Whether ZHA loads zhaquirks (its default); a test parametrizes it to False."""
    return True


@pytest.fixture
def zha_esi_endpoint() -> bool:
    """Whether ZHA's configuration adds the ESI endpoint (docs/zigbee.md); parametrizable."""
    return True


@pytest.fixture
async def zha_network(
    ha: HomeAssistant, zha_quirks: bool, zha_esi_endpoint: bool
) -> AsyncIterator[ZhaNetwork]:
    """Home Assistant's ``zha`` component, set up on the simulated radio."""
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
            "enable_quirks": zha_quirks,
            "zigpy_config": {
                "topology_scan_enabled": False,
                "watchdog_enabled": False,
                "ota": {"enabled": False},
                "additional_endpoints": [ESI_ENDPOINT_CONFIG] if zha_esi_endpoint else [],
            },
        }
    }
    with patch(ZHA_RADIO_NEW, new=radio_factory(radios, quirks=zha_quirks)):
        assert await async_setup_component(ha, "zha", config)
        await ha.async_block_till_done()
        network = ZhaNetwork(ha, entry.entry_id, radios)
        await network.settle()
        yield network
        assert not [err for radio in radios for err in radio.errors]
        await ha.config_entries.async_unload(entry.entry_id)
        await ha.async_block_till_done()


class NetworkMeter:
    """A metering device on the simulated network, joined through ZHA, as the tests drive it."""

    def __init__(self, network: ZhaNetwork, device: SimDevice, device_id: str) -> None:
        self.network = network
        self.device = device
        self.device_id = device_id
        self.endpoint = next(
            ep for ep, sig in device.endpoints.items() if METERING in sig["input_clusters"]
        )

    @property
    def ieee(self) -> str:
        """The meter's IEEE address."""
        return self.device.ieee

    @property
    def registers(self) -> dict[str | int, Any]:
        """The Metering attributes the device answers reads from."""
        return self.device.attributes[(self.endpoint, METERING)]

    @property
    def answer_reads(self) -> bool:
        """Whether the device answers Read Attributes."""
        return self.device.answer_reads

    @answer_reads.setter
    def answer_reads(self, value: bool) -> None:
        self.device.answer_reads = value

    def report(self, **values: int) -> None:
        """The meter reports attributes (one Report Attributes frame, through zigpy)."""
        self.registers.update(values)
        self.network.radio.report(self.device, self.endpoint, METERING, dict(values))

    def forget_requests(self) -> None:
        """Forget what the device received so far (ZHA's own requests at join)."""
        self.device.received.clear()

    def _metering_requests(self, command: int) -> list[Any]:
        found = []
        for packet in self.device.received:
            if packet.cluster_id != METERING or packet.dst_ep != self.endpoint:
                continue
            hdr, rest = foundation.ZCLHeader.deserialize(bytes(packet.data.serialize()))
            if hdr.frame_control.is_cluster or hdr.command_id != command:
                continue
            request, _ = foundation.GENERAL_COMMANDS[
                foundation.GeneralCommand(command)
            ].schema.deserialize(rest)
            found.append(request)
        return found

    def reads(self) -> list[list[int]]:
        """The attribute ids of each Read Attributes request the meter received."""
        return [
            [int(a) for a in request.attribute_ids]
            for request in self._metering_requests(foundation.GeneralCommand.Read_Attributes)
        ]

    def configured_reporting(self) -> dict[int, tuple[int, int]]:
        """Attribute id -> (min, max interval) of the last Configure Reporting of each."""
        found: dict[int, tuple[int, int]] = {}
        for request in self._metering_requests(foundation.GeneralCommand.Configure_Reporting):
            for record in request.config_records:
                found[int(record.attrid)] = (int(record.min_interval), int(record.max_interval))
        return found


def generic_meter(
    ieee: str = "00:0d:6f:00:0a:bc:de:01", nwk: int = 0x1234, **registers: int
) -> SimDevice:
    """An EV charging meter no quirk touches: an HA-profile endpoint with a Metering cluster."""
    return SimDevice(
        ieee=ieee,
        nwk=nwk,
        manufacturer="PEV Test",
        model="EUMD-1",
        endpoints={
            1: {
                "profile_id": 0x0104,
                "device_type": 0x0053,  # metering interface
                "input_clusters": [0x0000, 0x0003, METERING],
                "output_clusters": [0x0019],
            }
        },
        attributes={(1, METERING): dict(registers)},
    )


async def join_meter(network: ZhaNetwork, device: SimDevice) -> NetworkMeter:
    """Join a meter and forget ZHA's own requests to it."""
    entry = await network.join(device)
    meter = NetworkMeter(network, device, entry.id)
    meter.forget_requests()
    return meter
