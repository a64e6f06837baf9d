"""A zigpy network without hardware, behind ZHA's patched gateway helper.

Kept only for the tests the real ZHA (``radio.py``) cannot arrange: ZHA missing, not loaded yet or
loading after PEV Portal, and a meter that never answered a read before its first report.

Frames are built as bytes and delivered through zigpy's own packet path
(``ControllerApplication.packet_received`` -> ``Device.packet_received`` -> the cluster), so
what the integration sees is what zigpy makes of real ZCL frames. The fake meter answers the
requests zigpy sends it (Read Attributes, Configure Reporting, Bind) from its own registers.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import zigpy.application
import zigpy.config
import zigpy.device
import zigpy.endpoint
import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zcl import foundation
from zigpy.zcl.clusters.general import Basic
from zigpy.zcl.clusters.smartenergy import Metering

COORDINATOR_IEEE = t.EUI64.convert("00:12:4b:00:00:00:00:01")
METER_IEEE = "00:0d:6f:00:0a:bc:de:01"
SECOND_METER_IEEE = "00:0d:6f:00:0a:bc:de:02"
HA_PROFILE = 0x0104
SE_PROFILE = 0x0109

# ZCL data type ids (ZCL 8 table 2-10)
UINT8 = 0x20
UINT24 = 0x22
UINT48 = 0x25
INT24 = 0x2A
BITMAP8 = 0x18
ENUM8 = 0x30

# Metering attribute ids, and their ZCL types
ATTRS: dict[str, tuple[int, int]] = {
    "current_summ_delivered": (0x0000, UINT48),
    "current_summ_received": (0x0001, UINT48),
    "status": (0x0200, BITMAP8),
    "unit_of_measure": (0x0300, ENUM8),
    "multiplier": (0x0301, UINT24),
    "divisor": (0x0302, UINT24),
    "summation_formatting": (0x0303, BITMAP8),
    "metering_device_type": (0x0306, BITMAP8),
    "instantaneous_demand": (0x0400, INT24),
}


def encode(type_id: int, value: int) -> bytes:
    """Little-endian ZCL encoding of an integer of the given data type."""
    size = {UINT8: 1, BITMAP8: 1, ENUM8: 1, UINT24: 3, INT24: 3, UINT48: 6}[type_id]
    return value.to_bytes(size, "little", signed=type_id == INT24)


def report_frame(tsn: int, values: dict[str, int]) -> bytes:
    """A Report Attributes frame (ZCL 2.5.11), server to client, default response disabled."""
    body = b"".join(
        struct.pack("<HB", ATTRS[name][0], ATTRS[name][1]) + encode(ATTRS[name][1], value)
        for name, value in values.items()
    )
    # frame control 0x18: global command, server->client, disable default response
    return bytes([0x18, tsn, 0x0A]) + body


class FakeApp(zigpy.application.ControllerApplication):
    """A controller application whose radio is a list of sent packets."""

    def __init__(self) -> None:
        super().__init__(
            {
                zigpy.config.CONF_DEVICE: {zigpy.config.CONF_DEVICE_PATH: "/dev/null"},
                zigpy.config.CONF_DATABASE: None,
                zigpy.config.CONF_STARTUP_ENERGY_SCAN: False,
            }
        )
        self.state.node_info.ieee = COORDINATOR_IEEE
        self.state.node_info.nwk = t.NWK(0x0000)
        self.sent: list[t.ZigbeePacket] = []
        self.responders: dict[t.NWK, Callable[[t.ZigbeePacket], None]] = {}
        coordinator = self.add_device(COORDINATOR_IEEE, t.NWK(0x0000))
        coordinator.node_desc = zdo_t.NodeDescriptor(logical_type=zdo_t.LogicalType.Coordinator)
        ep = coordinator.add_endpoint(1)
        ep.status = zigpy.endpoint.Status.ZDO_INIT
        ep.profile_id = HA_PROFILE

    async def connect(self) -> None:
        """No radio."""

    async def disconnect(self) -> None:
        """No radio."""

    async def start_network(self) -> None:
        """No radio."""

    async def force_remove(self, dev: zigpy.device.Device) -> None:
        """No radio."""

    async def add_endpoint(self, descriptor: zdo_t.SimpleDescriptor) -> None:
        """No radio."""

    async def permit_ncp(self, time_s: int = 60) -> None:
        """No radio."""

    async def permit_with_link_key(
        self, node: t.EUI64, link_key: t.KeyData, time_s: int = 60
    ) -> None:
        """No radio."""

    async def write_network_info(self, *, network_info: Any, node_info: Any) -> None:
        """No radio."""

    async def load_network_info(self, *, load_devices: bool = False) -> None:
        """No radio."""

    async def reset_network_info(self) -> None:
        """No radio."""

    async def send_packet(self, packet: t.ZigbeePacket) -> None:
        """Record the packet; the addressed fake device may answer (on the next loop turn)."""
        self.sent.append(packet)
        responder = self.responders.get(packet.dst.address)
        if responder is not None:
            asyncio.get_running_loop().call_soon(responder, packet)

    def deliver(
        self,
        src_nwk: int,
        src_ep: int,
        dst_ep: int,
        cluster: int,
        data: bytes,
        profile: int = HA_PROFILE,
    ) -> None:
        """Deliver a frame from a device through zigpy's packet path."""
        self.packet_received(
            t.ZigbeePacket(
                src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=t.NWK(src_nwk)),
                src_ep=src_ep,
                dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=t.NWK(0x0000)),
                dst_ep=dst_ep,
                tsn=data[1] if data[0] & 0x04 == 0 else data[3],
                profile_id=profile,
                cluster_id=cluster,
                data=t.SerializableBytes(data),
                lqi=255,
                rssi=-40,
            )
        )


@dataclass
class FakeMeter:
    """A Zigbee end-use meter: a zigpy device with a Metering cluster, and its registers."""

    app: FakeApp
    ieee: str = METER_IEEE
    nwk: int = 0x1234
    manufacturer: str = "PEV Test"
    model: str = "EUMD-1"
    endpoint_id: int = 1
    registers: dict[str, int] = field(default_factory=dict)
    answer_reads: bool = True
    requests: list[tuple[int, bytes]] = field(default_factory=list)
    _tsn: int = 0

    def __post_init__(self) -> None:
        device = self.app.add_device(t.EUI64.convert(self.ieee), t.NWK(self.nwk))
        device.node_desc = zdo_t.NodeDescriptor(logical_type=zdo_t.LogicalType.Router)
        device.manufacturer = self.manufacturer
        device.model = self.model
        ep = device.add_endpoint(self.endpoint_id)
        ep.status = zigpy.endpoint.Status.ZDO_INIT
        ep.profile_id = HA_PROFILE
        ep.add_input_cluster(Basic.cluster_id)
        ep.add_input_cluster(Metering.cluster_id)
        self.device = device
        self.app.responders[t.NWK(self.nwk)] = self._answer

    @property
    def cluster(self) -> Metering:
        """The zigpy Metering cluster of the device."""
        cluster: Metering = self.device.endpoints[self.endpoint_id].in_clusters[0x0702]
        return cluster

    def report(self, **values: int) -> None:
        """The meter reports attributes (one Report Attributes frame)."""
        self.registers.update(values)
        self._tsn = (self._tsn + 1) % 256
        self.app.deliver(self.nwk, self.endpoint_id, 1, 0x0702, report_frame(self._tsn, values))

    def _answer(self, packet: t.ZigbeePacket) -> None:
        data = bytes(packet.data.serialize())
        self.requests.append((packet.cluster_id, data))
        if packet.cluster_id != 0x0702 or packet.dst_ep != self.endpoint_id:
            return  # ZDO (bind) and others: not answered
        frame_control, tsn, command = data[0], data[1], data[2]
        if frame_control & 0x03:
            return  # a cluster-specific command
        if command == 0x00 and self.answer_reads:  # Read Attributes
            records = b""
            for (attr_id,) in struct.iter_unpack("<H", data[3:]):
                name = next((n for n, (i, _) in ATTRS.items() if i == attr_id), None)
                if name is None or name not in self.registers:
                    records += struct.pack("<HB", attr_id, 0x86)  # UNSUPPORTED_ATTRIBUTE
                else:
                    type_id = ATTRS[name][1]
                    records += struct.pack("<HBB", attr_id, 0x00, type_id) + encode(
                        type_id, self.registers[name]
                    )
            self.app.deliver(
                self.nwk,
                self.endpoint_id,
                packet.src_ep,
                0x0702,
                bytes([0x18, tsn, 0x01]) + records,
            )
        elif command == 0x06:  # Configure Reporting: all accepted
            self.app.deliver(
                self.nwk, self.endpoint_id, packet.src_ep, 0x0702, bytes([0x18, tsn, 0x07, 0x00])
            )

    def configured_reporting(self) -> dict[int, tuple[int, int]]:
        """Attribute id -> (min, max interval) of the Configure Reporting requests received."""
        found: dict[int, tuple[int, int]] = {}
        for cluster, data in self.requests:
            if cluster != 0x0702 or data[0] & 0x03 or data[2] != 0x06:
                continue
            parsed, _ = foundation.GENERAL_COMMANDS[
                foundation.GeneralCommand.Configure_Reporting
            ].schema.deserialize(data[3:])
            for record in parsed.config_records:
                found[record.attrid] = (record.min_interval, record.max_interval)
        return found

    def reads(self) -> list[list[int]]:
        """The attribute ids of each Read Attributes request received."""
        return [
            [i for (i,) in struct.iter_unpack("<H", data[3:])]
            for cluster, data in self.requests
            if cluster == 0x0702 and not data[0] & 0x03 and data[2] == 0x00
        ]


def gateway(app: FakeApp) -> SimpleNamespace:
    """What ZHA's ``get_zha_gateway`` returns, as far as the integration uses it."""
    return SimpleNamespace(application_controller=app)
