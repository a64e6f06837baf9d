"""Price (0x0700) and Demand Response and Load Control (0x0701) commands, Smart Energy 1.1.

zigpy knows these clusters by ID only, without commands. The commands here are written from the
ZigBee Smart Energy Profile Specification 1.1b (docs 07-5356-16), sections D.4 (Price) and D.2
(DRLC). The classes are not registered with zigpy (``_skip_registry``): they never replace
zigpy's own cluster for another device or integration. They are used to build and parse frames.

Direction, as in zigpy: ``ServerCommandDefs`` are the commands a server *receives* (sent by a
client: an in-home display or a Zigbee EVSE asking for the price), ``ClientCommandDefs`` the ones
a server *sends* (PublishPrice, LoadControlEvent). All times are UTCTime: seconds since
2000-01-01 00:00:00 UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, cast

import zigpy.types as t
from zigpy.types.basic import FixedList
from zigpy.zcl import Cluster, foundation
from zigpy.zcl.foundation import BaseCommandDefs, ZCLCommandDef

HA_PROFILE: Final = 0x0104
SE_PROFILE: Final = 0x0109
ZLL_PROFILE: Final = 0xC05E
ZIGBEE_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)

# "Not used" values of the optional PublishPrice and LoadControlEvent fields.
UNUSED_U8: Final = 0xFF
UNUSED_U32: Final = 0xFFFFFFFF
UNUSED_SETPOINT: Final = -0x8000  # 0x8000 as a signed 16-bit set point
UNUSED_LOAD_ADJUSTMENT: Final = -128

# LoadControlEvent device class bit 10: electric vehicle (SE 1.1 table D-3).
DEVICE_CLASS_EV: Final = 0x0400

# zigpy leaves FixedIntType.__new__ (``*args, **kwargs``) and LVBytes.serialize unannotated; their
# signatures, as this module calls them.
_uint8: Final = cast(Callable[[int], t.uint8_t], t.uint8_t)
_uint16: Final = cast(Callable[[int], t.uint16_t], t.uint16_t)
_lv_bytes_serialize: Final = cast(Callable[[t.LVBytes], bytes], t.LVBytes.serialize)


def utc_time(at: datetime) -> int:
    """A datetime as UTCTime (seconds since 2000-01-01 UTC)."""
    return int((at - ZIGBEE_EPOCH).total_seconds())


def from_utc_time(value: int) -> datetime:
    """UTCTime as a datetime."""
    from datetime import timedelta

    return ZIGBEE_EPOCH + timedelta(seconds=int(value))


class RateLabel(t.LVBytes):
    """Rate label: an octet string of at most 12 octets."""

    def serialize(self) -> bytes:
        """Refuse labels longer than the specification allows."""
        if len(self) > 12:
            raise ValueError(f"a rate label has at most 12 octets, got {len(self)}")
        return _lv_bytes_serialize(self)


# ReportEventStatus signature: 42 octets. zigpy's metaclass takes ``[item type, length]``, which
# mypy reads as a generic's single parameter.
Signature: type[FixedList[t.uint8_t]] = cast(Any, FixedList)[t.uint8_t, 42]


class EventStatus(t.enum8):
    """ReportEventStatus event status (SE 1.1 table D-8)."""

    Command_Received = 0x01
    Event_Started = 0x02
    Event_Completed = 0x03
    Opted_Out = 0x04
    Opted_In = 0x05
    Cancelled = 0x06
    Superseded = 0x07
    Partially_Completed_Opt_Out = 0x08
    Partially_Completed_Opt_In = 0x09
    Completed_No_Participation = 0x0A
    Rejected_Invalid_Cancel = 0xF8
    Rejected_Invalid_Effective_Time = 0xF9
    Rejected_Expired = 0xFB
    Rejected_Undefined_Event = 0xFD
    Rejected = 0xFE


def _command(*, id: int, schema: dict[str, Any]) -> ZCLCommandDef:
    """A command definition (zigpy compiles the schema when the cluster class is created)."""
    return ZCLCommandDef(id=_uint8(id), schema=cast(Any, schema))


class Price(Cluster):
    """The Price cluster (SE 1.1 D.4)."""

    _skip_registry = True
    cluster_id = _uint16(0x0700)
    ep_attribute = "pev_portal_price"

    class ServerCommandDefs(BaseCommandDefs):
        get_current_price: Final = _command(id=0x00, schema={"command_options": t.bitmap8})
        get_scheduled_prices: Final = _command(
            id=0x01,
            schema={"start_time": t.uint32_t, "number_of_events": t.uint8_t},
        )
        price_acknowledgement: Final = _command(
            id=0x02,
            schema={
                "provider_id": t.uint32_t,
                "issuer_event_id": t.uint32_t,
                "price_ack_time": t.uint32_t,
                "control": t.bitmap8,
            },
        )

    class ClientCommandDefs(BaseCommandDefs):
        publish_price: Final = _command(
            id=0x00,
            schema={
                "provider_id": t.uint32_t,
                "rate_label": RateLabel,
                "issuer_event_id": t.uint32_t,
                "current_time": t.uint32_t,
                "unit_of_measure": t.enum8,
                "currency": t.uint16_t,
                "price_trailing_digit_and_tier": t.bitmap8,
                "num_price_tiers_and_register_tier": t.bitmap8,
                "start_time": t.uint32_t,
                "duration_in_minutes": t.uint16_t,
                "price": t.uint32_t,
                "price_ratio": t.uint8_t,
                "generation_price": t.uint32_t,
                "generation_price_ratio": t.uint8_t,
                "alternate_cost_delivered": t.uint32_t,
                "alternate_cost_unit": t.enum8,
                "alternate_cost_trailing_digit": t.bitmap8,
                "number_of_block_thresholds": t.uint8_t,
                "price_control": t.bitmap8,
            },
        )


class Drlc(Cluster):
    """The Demand Response and Load Control cluster (SE 1.1 D.2)."""

    _skip_registry = True
    cluster_id = _uint16(0x0701)
    ep_attribute = "pev_portal_drlc"

    class ServerCommandDefs(BaseCommandDefs):
        report_event_status: Final = _command(
            id=0x00,
            schema={
                "issuer_event_id": t.uint32_t,
                "event_status": EventStatus,
                "event_status_time": t.uint32_t,
                "criticality_level_applied": t.uint8_t,
                "cooling_temperature_set_point_applied": t.uint16_t,
                "heating_temperature_set_point_applied": t.uint16_t,
                "average_load_adjustment_percentage_applied": t.int8s,
                "duty_cycle_applied": t.uint8_t,
                "event_control": t.bitmap8,
                "signature_type": t.enum8,
                "signature": Signature,
            },
        )
        get_scheduled_events: Final = _command(
            id=0x01,
            schema={"start_time": t.uint32_t, "number_of_events": t.uint8_t},
        )

    class ClientCommandDefs(BaseCommandDefs):
        load_control_event: Final = _command(
            id=0x00,
            schema={
                "issuer_event_id": t.uint32_t,
                "device_class": t.bitmap16,
                "utility_enrollment_group": t.uint8_t,
                "start_time": t.uint32_t,
                "duration_in_minutes": t.uint16_t,
                "criticality_level": t.uint8_t,
                "cooling_temperature_offset": t.uint8_t,
                "heating_temperature_offset": t.uint8_t,
                "cooling_temperature_set_point": t.int16s,
                "heating_temperature_set_point": t.int16s,
                "average_load_adjustment_percentage": t.int8s,
                "duty_cycle": t.uint8_t,
                "event_control": t.bitmap8,
            },
        )
        cancel_load_control_event: Final = _command(
            id=0x01,
            schema={
                "issuer_event_id": t.uint32_t,
                "device_class": t.bitmap16,
                "utility_enrollment_group": t.uint8_t,
                "cancel_control": t.bitmap8,
                "effective_time": t.uint32_t,
            },
        )
        cancel_all_load_control_events: Final = _command(
            id=0x02, schema={"cancel_control": t.bitmap8}
        )


CLUSTERS: Final[dict[int, type[Cluster]]] = {Price.cluster_id: Price, Drlc.cluster_id: Drlc}


def command_def(cluster_id: int, command_id: int, *, from_server: bool) -> ZCLCommandDef:
    """A command's definition; KeyError for a command the cluster does not have."""
    cluster = CLUSTERS[cluster_id]
    defs = cluster.client_commands if from_server else cluster.server_commands
    return defs[command_id]


def build_frame(
    cluster_id: int, name: str, tsn: int, *, disable_default_response: bool = True, **fields: Any
) -> bytes:
    """A complete ZCL frame (header and payload) for a command of Price or DRLC."""
    cluster = CLUSTERS[cluster_id]
    command = cluster.commands_by_name[name]
    # zigpy's own ``direction`` of a definition is not the frame's; the defs class is.
    from_server = any(c.name == name for c in cluster.client_commands.values())
    payload: bytes = command.schema(**fields).serialize()
    # ZCL frame control (ZCL 8 2.4.1.1): cluster-specific, direction, disable default response
    frame_control = (
        0x01 | (0x08 if from_server else 0x00) | (0x10 if disable_default_response else 0)
    )
    return bytes([frame_control, tsn & 0xFF, int(command.id)]) + payload


def parse_frame(cluster_id: int, data: bytes) -> tuple[foundation.ZCLHeader, str, Any]:
    """Header, command name and parsed fields of a Price or DRLC cluster-specific frame.

    ValueError for a frame that is not one (a global command, an unknown command, bad length).
    """
    hdr, rest = foundation.ZCLHeader.deserialize(data)
    if not hdr.frame_control.is_cluster:
        raise ValueError("a global command, not a cluster command")
    from_server = hdr.frame_control.direction == foundation.Direction.Server_to_Client
    try:
        command = command_def(cluster_id, hdr.command_id, from_server=from_server)
    except KeyError as err:
        raise ValueError(f"unknown command {hdr.command_id:#04x}") from err
    fields, extra = command.schema.deserialize(rest)
    if extra:
        raise ValueError(f"{len(extra)} octets after the command")
    return hdr, command.name, fields
