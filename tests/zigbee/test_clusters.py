"""Price and DRLC commands against frames written out by hand from the SE 1.1 field tables.

Every frame: frame control, TSN, command ID, then the payload fields in order, little-endian.
Frame control 0x01 is a cluster command client to server, 0x09 server to client (ZCL 2.4.1.1).
"""

from __future__ import annotations

from typing import Any

import pytest
import zigpy.zcl

from custom_components.pev_portal.zigbee.clusters import (
    Drlc,
    EventStatus,
    Price,
    build_frame,
    from_utc_time,
    parse_frame,
    utc_time,
)

H = bytes.fromhex

CASES: list[tuple[int, str, dict[str, Any], bytes]] = [
    (0x0700, "get_current_price", {"command_options": 0x01}, H("01 05 00 01")),
    (
        0x0700,
        "get_scheduled_prices",
        {"start_time": 0x12345678, "number_of_events": 3},
        H("01 05 01 78563412 03"),
    ),
    (
        0x0700,
        "price_acknowledgement",
        {"provider_id": 1, "issuer_event_id": 10, "price_ack_time": 0x2F000000, "control": 1},
        H("01 05 02 01000000 0a000000 0000002f 01"),
    ),
    (
        0x0700,
        "publish_price",
        {
            "provider_id": 1,
            "rate_label": b"peak",
            "issuer_event_id": 2,
            "current_time": 0x30000000,
            "unit_of_measure": 0x00,
            "currency": 978,
            "price_trailing_digit_and_tier": 0x40,
            "num_price_tiers_and_register_tier": 0x00,
            "start_time": 0x30000000,
            "duration_in_minutes": 60,
            "price": 3000,
            "price_ratio": 0xFF,
            "generation_price": 0xFFFFFFFF,
            "generation_price_ratio": 0xFF,
            "alternate_cost_delivered": 0xFFFFFFFF,
            "alternate_cost_unit": 0xFF,
            "alternate_cost_trailing_digit": 0xFF,
            "number_of_block_thresholds": 0xFF,
            "price_control": 0x00,
        },
        H(
            "09 05 00"
            " 01000000"  # provider ID
            " 04 7065616b"  # rate label "peak"
            " 02000000"  # issuer event ID
            " 00000030"  # current time
            " 00"  # unit of measure: kWh
            " d203"  # currency 978 (EUR)
            " 40"  # 4 trailing digits, tier 0
            " 00"  # price tiers, register tier
            " 00000030"  # start time
            " 3c00"  # 60 minutes
            " b80b0000"  # price 3000 (0.3000)
            " ff ffffffff ff ffffffff ff ff ff"  # ratios, generation, alternate cost: unused
            " 00"  # price control
        ),
    ),
    (
        0x0701,
        "load_control_event",
        {
            "issuer_event_id": 0x10,
            "device_class": 0x0400,
            "utility_enrollment_group": 0,
            "start_time": 0,
            "duration_in_minutes": 30,
            "criticality_level": 2,
            "cooling_temperature_offset": 0xFF,
            "heating_temperature_offset": 0xFF,
            "cooling_temperature_set_point": -0x8000,
            "heating_temperature_set_point": -0x8000,
            "average_load_adjustment_percentage": -50,
            "duty_cycle": 0xFF,
            "event_control": 0,
        },
        H("09 05 00 10000000 0004 00 00000000 1e00 02 ff ff 0080 0080 ce ff 00"),
    ),
    (
        0x0701,
        "cancel_load_control_event",
        {
            "issuer_event_id": 0x10,
            "device_class": 0x0400,
            "utility_enrollment_group": 0,
            "cancel_control": 1,
            "effective_time": 0,
        },
        H("09 05 01 10000000 0004 00 01 00000000"),
    ),
    (0x0701, "cancel_all_load_control_events", {"cancel_control": 0}, H("09 05 02 00")),
    (
        0x0701,
        "report_event_status",
        {
            "issuer_event_id": 0x10,
            "event_status": EventStatus.Event_Started,
            "event_status_time": 0x30000000,
            "criticality_level_applied": 2,
            "cooling_temperature_set_point_applied": 0x8000,
            "heating_temperature_set_point_applied": 0x8000,
            "average_load_adjustment_percentage_applied": -50,
            "duty_cycle_applied": 0xFF,
            "event_control": 0,
            "signature_type": 0,
            "signature": [0] * 42,
        },
        H("01 05 00 10000000 02 00000030 02 0080 0080 ce ff 00 00") + bytes(42),
    ),
    (
        0x0701,
        "get_scheduled_events",
        {"start_time": 0, "number_of_events": 0},
        H("01 05 01 00000000 00"),
    ),
]


@pytest.mark.parametrize(("cluster", "name", "fields", "frame"), CASES, ids=[c[1] for c in CASES])
def test_round_trip(cluster: int, name: str, fields: dict[str, Any], frame: bytes) -> None:
    built = build_frame(cluster, name, 5, disable_default_response=False, **fields)
    assert built == frame
    hdr, parsed_name, parsed = parse_frame(cluster, frame)
    assert (hdr.tsn, parsed_name) == (5, name)
    for key, value in fields.items():
        got = getattr(parsed, key)
        assert (list(got) if key == "signature" else got) == value, key


def test_every_command_is_covered() -> None:
    names = {name for _cluster, name, _fields, _frame in CASES}
    defined = {c.name for cls in (Price, Drlc) for c in cls.commands_by_name.values()}
    assert names == defined


def test_default_response_bit() -> None:
    assert build_frame(0x0700, "get_current_price", 9, command_options=0)[0] == 0x11
    assert build_frame(0x0701, "cancel_all_load_control_events", 9, cancel_control=0)[0] == 0x19


def test_malformed_frames_refused() -> None:
    with pytest.raises(ValueError, match="global"):
        parse_frame(0x0700, H("00 01 00 0000"))  # Read Attributes
    with pytest.raises(ValueError, match="unknown command"):
        parse_frame(0x0700, H("01 01 07 00"))
    with pytest.raises(ValueError, match="too short"):
        parse_frame(0x0700, H("01 01 01 00"))  # GetScheduledPrices cut short
    with pytest.raises(ValueError, match="after the command"):
        parse_frame(0x0700, H("01 01 00 01 ff"))
    with pytest.raises(ValueError, match="12 octets"):
        build_frame(0x0700, "publish_price", 1, **{**CASES[3][2], "rate_label": b"x" * 13})


def test_not_registered_with_zigpy() -> None:
    assert zigpy.zcl.Cluster._registry[0x0700] is not Price
    assert zigpy.zcl.Cluster._registry[0x0701] is not Drlc


def test_utc_time_epoch_2000() -> None:
    assert utc_time(from_utc_time(0x30000000)) == 0x30000000
    assert from_utc_time(0).year == 2000
