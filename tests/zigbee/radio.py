"""A simulated Zigbee radio for Home Assistant's real ZHA integration.

``SimulatedRadio`` is a zigpy ``ControllerApplication`` whose radio is this module: every packet
zigpy sends goes to the addressed :class:`SimDevice`, which answers as a real device does (ZDO
node/active-endpoint/simple descriptors and binds; ZCL Read Attributes, Write Attributes,
Configure Reporting, and a Default Response to cluster commands that ask for one), and its
answers come back through zigpy's own packet handler (``packet_received``). Devices join with
``handle_join``, so zigpy interviews them, zhaquirks resolves them and ZHA configures them as on
a real network.

ZHA is handed the radio where its radio library creates one: bellows'
``ControllerApplication.new`` (the ZHA config entry's radio type is ``ezsp``), as Home
Assistant's own ZHA tests do (home-assistant/core, tests/components/zha/conftest.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import zigpy.application
import zigpy.device
import zigpy.endpoint
import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zcl import Cluster, foundation

COORDINATOR_IEEE = t.EUI64.convert("00:12:4b:00:2a:00:00:01")
HA_PROFILE = 0x0104
SE_PROFILE = 0x0109
ZLL_PROFILE = 0xC05E

type Signature = dict[int, dict[str, Any]]


@dataclass
class SimDevice:
    """A device on the simulated network: its signature, its attributes, what it received.

    ``endpoints``: endpoint id -> ``profile_id``, ``device_type``, ``input_clusters``,
    ``output_clusters`` (a device's simple descriptors). ``attributes``: (endpoint, cluster id)
    -> attribute name or id -> value, what Read Attributes answers (the Basic cluster's
    manufacturer and model are filled in).
    """

    ieee: str
    nwk: int
    manufacturer: str
    model: str
    endpoints: Signature
    attributes: dict[tuple[int, int], dict[str | int, Any]] = field(default_factory=dict)
    logical_type: zdo_t.LogicalType = zdo_t.LogicalType.Router
    mains_powered: bool = True
    answer_reads: bool = True  # False: Read Attributes go unanswered (a meter that is late)
    received: list[t.ZigbeePacket] = field(default_factory=list)
    _tsn: int = 0

    def __post_init__(self) -> None:
        for endpoint_id, endpoint in self.endpoints.items():
            if 0x0000 in endpoint["input_clusters"]:
                basic = self.attributes.setdefault((endpoint_id, 0x0000), {})
                basic.setdefault("manufacturer", self.manufacturer)
                basic.setdefault("model", self.model)
                basic.setdefault("power_source", 1 if self.mains_powered else 3)

    @property
    def eui64(self) -> t.EUI64:
        """The device's IEEE address."""
        return t.EUI64.convert(self.ieee)

    def next_tsn(self) -> int:
        """The device's next ZCL transaction sequence number."""
        self._tsn = (self._tsn + 1) % 256
        return self._tsn

    # -- what the device sends ------------------------------------------------------------

    def report_frame(
        self, cluster_id: int, values: dict[str | int, Any], manufacturer: int | None = None
    ) -> bytes:
        """A Report Attributes frame (ZCL 2.5.11), server to client."""
        cluster_cls = _cluster_class(cluster_id)
        records = []
        for key, value in values.items():
            attr = _find_attribute(cluster_cls, key, manufacturer)
            records.append(foundation.Attribute(attrid=attr.id, value=_typed(attr, value)))
        hdr = foundation.ZCLHeader.general(
            self.next_tsn(),
            foundation.GeneralCommand.Report_Attributes,
            manufacturer=manufacturer,
            direction=foundation.Direction.Server_to_Client,
        )
        hdr.frame_control = hdr.frame_control.replace(disable_default_response=True)
        schema = foundation.GENERAL_COMMANDS[foundation.GeneralCommand.Report_Attributes].schema
        return bytes(hdr.serialize() + schema(attribute_reports=records).serialize())

    # -- how the device answers -----------------------------------------------------------

    def answer(self, packet: t.ZigbeePacket) -> list[t.ZigbeePacket]:
        """The device's answers to a packet addressed to it."""
        self.received.append(packet)
        data = bytes(packet.data.serialize())
        if packet.dst_ep == 0:
            return self._answer_zdo(packet, data)
        endpoint = self.endpoints.get(packet.dst_ep)
        if endpoint is None:
            return []
        return self._answer_zcl(packet, data)

    def _reply(self, request: t.ZigbeePacket, data: bytes) -> t.ZigbeePacket:
        return t.ZigbeePacket(
            src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=t.NWK(self.nwk)),
            src_ep=request.dst_ep,
            dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=t.NWK(0x0000)),
            dst_ep=request.src_ep,
            tsn=data[1] if request.dst_ep else data[0],
            profile_id=request.profile_id,
            cluster_id=(request.cluster_id | 0x8000) if request.dst_ep == 0 else request.cluster_id,
            data=t.SerializableBytes(data),
            lqi=255,
            rssi=-40,
        )

    def _answer_zdo(self, packet: t.ZigbeePacket, data: bytes) -> list[t.ZigbeePacket]:
        tsn = data[0]
        nwk = t.NWK(self.nwk)
        command = packet.cluster_id
        args: tuple[Any, ...]
        if command == zdo_t.ZDOCmd.Node_Desc_req:
            descriptor = zdo_t.NodeDescriptor(
                logical_type=self.logical_type,
                complex_descriptor_available=0,
                user_descriptor_available=0,
                reserved=0,
                aps_flags=0,
                frequency_band=zdo_t.NodeDescriptor.FrequencyBand.Freq2400MHz,
                mac_capability_flags=(
                    zdo_t.NodeDescriptor.MACCapabilityFlags.AllocateAddress
                    | (
                        zdo_t.NodeDescriptor.MACCapabilityFlags.MainsPowered
                        | zdo_t.NodeDescriptor.MACCapabilityFlags.RxOnWhenIdle
                        | zdo_t.NodeDescriptor.MACCapabilityFlags.FullFunctionDevice
                        if self.mains_powered
                        else 0
                    )
                ),
                manufacturer_code=0x1234,
                maximum_buffer_size=82,
                maximum_incoming_transfer_size=82,
                server_mask=0,
                maximum_outgoing_transfer_size=82,
                descriptor_capability_field=0,
            )
            args = (zdo_t.Status.SUCCESS, nwk, descriptor)
        elif command == zdo_t.ZDOCmd.Active_EP_req:
            args = (zdo_t.Status.SUCCESS, nwk, sorted(self.endpoints))
        elif command == zdo_t.ZDOCmd.Simple_Desc_req:
            endpoint_id = data[3]
            endpoint = self.endpoints[endpoint_id]
            descriptor = zdo_t.SizePrefixedSimpleDescriptor(
                endpoint=endpoint_id,
                profile=endpoint["profile_id"],
                device_type=endpoint["device_type"],
                device_version=1,
                input_clusters=endpoint["input_clusters"],
                output_clusters=endpoint["output_clusters"],
            )
            args = (zdo_t.Status.SUCCESS, nwk, descriptor)
        elif command in (zdo_t.ZDOCmd.Bind_req, zdo_t.ZDOCmd.Unbind_req):
            args = (zdo_t.Status.SUCCESS,)
        else:
            return []  # broadcasts (permit joining) and management requests: not answered
        response = zdo_t.ZDOCmd(command | 0x8000)
        _names, schema = zdo_t.CLUSTERS[response]
        payload = t.serialize(args, schema)
        return [self._reply(packet, bytes([tsn]) + payload)]

    def _answer_zcl(self, packet: t.ZigbeePacket, data: bytes) -> list[t.ZigbeePacket]:
        hdr, rest = foundation.ZCLHeader.deserialize(data)
        cluster_cls = _cluster_class(packet.cluster_id)
        values = self.attributes.get((packet.dst_ep, packet.cluster_id), {})
        manufacturer = hdr.manufacturer
        if hdr.frame_control.is_cluster:
            if hdr.frame_control.disable_default_response:
                return []
            return [
                self._general(
                    packet,
                    hdr,
                    foundation.GeneralCommand.Default_Response,
                    command_id=hdr.command_id,
                    status=foundation.Status.SUCCESS,
                )
            ]
        command = foundation.GeneralCommand(hdr.command_id)
        request, _ = foundation.GENERAL_COMMANDS[command].schema.deserialize(rest)
        if command == foundation.GeneralCommand.Read_Attributes:
            if not self.answer_reads:
                return []
            records = []
            for attrid in request.attribute_ids:
                value = _lookup(values, cluster_cls, attrid, manufacturer)
                if value is None:
                    records.append(
                        foundation.ReadAttributeRecord(
                            attrid=attrid, status=foundation.Status.UNSUPPORTED_ATTRIBUTE
                        )
                    )
                else:
                    attr, raw = value
                    records.append(
                        foundation.ReadAttributeRecord(
                            attrid=attrid,
                            status=foundation.Status.SUCCESS,
                            value=_typed(attr, raw),
                        )
                    )
            return [
                self._general(
                    packet,
                    hdr,
                    foundation.GeneralCommand.Read_Attributes_rsp,
                    status_records=records,
                )
            ]
        if command == foundation.GeneralCommand.Write_Attributes:
            for record in request.attributes:
                found = _lookup(values, cluster_cls, record.attrid, manufacturer)
                key = found[0].name if found is not None else int(record.attrid)
                values[key] = record.value.value
            return [
                self._general(
                    packet,
                    hdr,
                    foundation.GeneralCommand.Write_Attributes_rsp,
                    status_records=[
                        foundation.WriteAttributesStatusRecord(status=foundation.Status.SUCCESS)
                    ],
                )
            ]
        if command == foundation.GeneralCommand.Configure_Reporting:
            return [
                self._general(
                    packet,
                    hdr,
                    foundation.GeneralCommand.Configure_Reporting_rsp,
                    status_records=[
                        foundation.ConfigureReportingResponseRecord(
                            status=foundation.Status.SUCCESS
                        )
                    ],
                )
            ]
        if hdr.frame_control.disable_default_response:
            return []
        return [
            self._general(
                packet,
                hdr,
                foundation.GeneralCommand.Default_Response,
                command_id=hdr.command_id,
                status=foundation.Status.UNSUP_GENERAL_COMMAND,
            )
        ]

    def _general(
        self,
        request: t.ZigbeePacket,
        hdr: foundation.ZCLHeader,
        command: foundation.GeneralCommand,
        **fields: Any,
    ) -> t.ZigbeePacket:
        reply_hdr = foundation.ZCLHeader.general(
            hdr.tsn,
            command,
            manufacturer=hdr.manufacturer,
            direction=hdr.direction.flip(),  # a client cluster (OTA) is read too
        )
        reply_hdr.frame_control = reply_hdr.frame_control.replace(disable_default_response=True)
        schema = foundation.GENERAL_COMMANDS[command].schema
        return self._reply(request, bytes(reply_hdr.serialize() + schema(**fields).serialize()))


def _cluster_class(cluster_id: int) -> type[Cluster]:
    cls: type[Cluster] | None = Cluster._registry.get(cluster_id)
    if cls is None:
        return type(
            f"Cluster_{cluster_id:04x}",
            (Cluster,),
            {"cluster_id": cluster_id, "_skip_registry": True},
        )
    return cls


def _find_attribute(
    cluster_cls: type[Cluster], key: str | int, manufacturer: int | None
) -> foundation.ZCLAttributeDef:
    for attr in cluster_cls.attributes.values():
        if key in (attr.name, attr.id):
            return attr
    if isinstance(key, int):  # a manufacturer-specific attribute zigpy does not define
        return foundation.ZCLAttributeDef(id=key, name=f"attr_{key:04x}", type=t.uint48_t)
    raise KeyError(key)


def _lookup(
    values: dict[str | int, Any], cluster_cls: type[Cluster], attrid: int, manufacturer: int | None
) -> tuple[foundation.ZCLAttributeDef, Any] | None:
    attr = next((a for a in cluster_cls.attributes.values() if a.id == attrid), None)
    if attr is not None and attr.name in values:
        return attr, values[attr.name]
    if attrid in values:
        return _find_attribute(cluster_cls, attrid, manufacturer), values[attrid]
    return None


def _typed(attr: foundation.ZCLAttributeDef, value: Any) -> foundation.TypeValue:
    zcl_type = attr.zcl_type
    if zcl_type is None:
        zcl_type = foundation.DataType.from_python_type(attr.type).type_id
    return foundation.TypeValue(type=zcl_type, value=attr.type(value))


class SimulatedRadio(zigpy.application.ControllerApplication):
    """zigpy's controller application on the simulated network."""

    devices_by_nwk: dict[int, SimDevice]

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.devices_by_nwk = {}
        self.sent: list[t.ZigbeePacket] = []
        self.errors: list[Exception] = []
        self._descriptors: list[zdo_t.SimpleDescriptor] = []
        self.state.node_info.nwk = t.NWK(0x0000)
        self.state.node_info.ieee = COORDINATOR_IEEE
        self.state.node_info.logical_type = zdo_t.LogicalType.Coordinator
        self.state.node_info.manufacturer = "PEV Portal tests"
        self.state.node_info.model = "Simulated radio"
        self.state.network_info.pan_id = t.PanId(0x1A62)
        self.state.network_info.extended_pan_id = t.ExtendedPanId.convert("dd:dd:dd:dd:dd:dd:dd:dd")
        self.state.network_info.channel = 15
        self.state.network_info.network_key.key = t.KeyData(range(16))

    # -- the radio ------------------------------------------------------------------------

    async def connect(self) -> None:
        """Nothing to open."""

    async def disconnect(self) -> None:
        """Nothing to close."""

    async def load_network_info(self, *, load_devices: bool = False) -> None:
        """The network is formed (its state was set in the constructor)."""

    async def write_network_info(self, *, network_info: Any, node_info: Any) -> None:
        """Nothing to write."""

    async def reset_network_info(self) -> None:
        """Nothing to reset."""

    async def start_network(self) -> None:
        """Register the coordinator's endpoints (the additional ones included), as radios do."""
        await self.register_endpoints()
        coordinator = zigpy.device.Device(self, COORDINATOR_IEEE, t.NWK(0x0000))
        coordinator.node_desc = zdo_t.NodeDescriptor(
            logical_type=zdo_t.LogicalType.Coordinator,
            complex_descriptor_available=0,
            user_descriptor_available=0,
            reserved=0,
            aps_flags=0,
            frequency_band=zdo_t.NodeDescriptor.FrequencyBand.Freq2400MHz,
            mac_capability_flags=zdo_t.NodeDescriptor.MACCapabilityFlags.AllocateAddress,
            manufacturer_code=0x1234,
            maximum_buffer_size=82,
            maximum_incoming_transfer_size=82,
            server_mask=0,
            maximum_outgoing_transfer_size=82,
            descriptor_capability_field=0,
        )
        coordinator.manufacturer = self.state.node_info.manufacturer
        coordinator.model = self.state.node_info.model
        for descriptor in self._descriptors:
            endpoint = coordinator.add_endpoint(descriptor.endpoint)
            endpoint.profile_id = descriptor.profile
            endpoint.device_type = descriptor.device_type
            for cluster_id in descriptor.input_clusters:
                endpoint.add_input_cluster(cluster_id)
            for cluster_id in descriptor.output_clusters:
                endpoint.add_output_cluster(cluster_id)
            endpoint.status = zigpy.endpoint.Status.ZDO_INIT
        coordinator.status = zigpy.device.Status.ENDPOINTS_INIT
        self.devices[COORDINATOR_IEEE] = coordinator

    async def add_endpoint(self, descriptor: zdo_t.SimpleDescriptor) -> None:
        """Remember the coordinator endpoint (``start_network`` creates it)."""
        self._descriptors.append(descriptor)

    async def force_remove(self, dev: zigpy.device.Device) -> None:
        """Nothing to remove."""

    async def permit_ncp(self, time_s: int = 60) -> None:
        """Joins are always permitted."""

    async def permit_with_link_key(
        self, node: t.EUI64, link_key: t.KeyData, time_s: int = 60
    ) -> None:
        """Joins are always permitted."""

    async def _network_scan(self, channels: t.Channels, duration_exp: int) -> Any:
        raise NotImplementedError

    async def _packet_capture(self, channel: int) -> Any:
        raise NotImplementedError

    async def _packet_capture_change_channel(self, channel: int) -> None:
        raise NotImplementedError

    async def send_packet(self, packet: t.ZigbeePacket) -> None:
        """Hand the packet to the addressed device; its answers come back on the next turns."""
        self.sent.append(packet)
        if packet.dst is None or packet.dst.addr_mode not in (t.AddrMode.NWK, t.AddrMode.IEEE):
            return
        device = self._device_for(packet.dst)
        if device is None:
            return
        try:
            replies = device.answer(packet)
        except Exception as err:
            self.errors.append(err)  # the fixture fails the test: the simulation is wrong
            raise
        loop = asyncio.get_running_loop()
        for reply in replies:
            loop.call_soon(self.packet_received, reply)

    def _device_for(self, address: t.AddrModeAddress) -> SimDevice | None:
        if address.addr_mode == t.AddrMode.NWK:
            return self.devices_by_nwk.get(int(address.address))
        return next((d for d in self.devices_by_nwk.values() if d.eui64 == address.address), None)

    # -- the network ----------------------------------------------------------------------

    def join(self, device: SimDevice) -> None:
        """The device joins: zigpy interviews it, ZHA takes it from there."""
        self.devices_by_nwk[device.nwk] = device
        self.handle_join(t.NWK(device.nwk), device.eui64, t.NWK(0x0000))

    def send_from(
        self,
        device: SimDevice,
        *,
        src_ep: int,
        dst_ep: int,
        cluster_id: int,
        data: bytes,
        profile_id: int | None = None,
    ) -> None:
        """A frame from the device, through zigpy's packet handler."""
        profile = profile_id or device.endpoints[src_ep]["profile_id"]
        if profile == ZLL_PROFILE:
            profile = HA_PROFILE  # ZLL devices send ZCL on the HA profile
        self.packet_received(
            t.ZigbeePacket(
                src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=t.NWK(device.nwk)),
                src_ep=src_ep,
                dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=t.NWK(0x0000)),
                dst_ep=dst_ep,
                tsn=(data[3] if data[0] & 0x04 else data[1]) if len(data) > 3 else 0,
                profile_id=profile,
                cluster_id=cluster_id,
                data=t.SerializableBytes(data),
                lqi=255,
                rssi=-40,
            )
        )

    def report(
        self,
        device: SimDevice,
        endpoint_id: int,
        cluster_id: int,
        values: dict[str | int, Any],
        *,
        manufacturer: int | None = None,
    ) -> None:
        """The device reports attributes (one Report Attributes frame to endpoint 1)."""
        self.send_from(
            device,
            src_ep=endpoint_id,
            dst_ep=1,
            cluster_id=cluster_id,
            data=device.report_frame(cluster_id, values, manufacturer),
        )


def radio_factory(holder: list[SimulatedRadio], *, quirks: bool = True) -> Callable[..., Any]:
    """A stand-in for bellows' ``ControllerApplication.new`` that builds simulated radios.

    ``quirks=False`` is ZHA with ``enable_quirks: false`` in a process where zhaquirks was
    loaded before (by other tests): the quirk registry is process-wide and stays filled, so the
    radio does not take ZHA's quirk resolver, as a ZHA that never loaded zhaquirks resolves
    nothing.
    """

    async def new(
        config: dict[str, Any],
        auto_form: bool = False,
        start_radio: bool = True,
        device_resolver: Any = None,
        uninitialized_packet_handler: Any = None,
        **_kwargs: Any,
    ) -> SimulatedRadio:
        app = SimulatedRadio(config)
        if device_resolver is not None and quirks:
            app.register_device_resolver(device_resolver)
        if uninitialized_packet_handler is not None and quirks:
            app.register_uninitialized_packet_handler(uninitialized_packet_handler)
        await app._load_db()
        if start_radio:
            await app.startup(auto_form=auto_form)
        holder.append(app)
        return app

    return new
