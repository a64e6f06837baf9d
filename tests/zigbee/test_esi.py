"""The experimental ESI: Price and DRLC requests from a display, through the real ZHA.

The display (Price and DRLC clients on the Smart Energy profile) joins the simulated network
after PEV Portal's ESI started; its requests are ZCL frames handed to zigpy's packet handler and
what it receives is checked byte by byte.
"""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.pev_portal.zigbee import ESI_DATA
from custom_components.pev_portal.zigbee.clusters import build_frame, parse_frame
from custom_components.pev_portal.zigbee.esi import ESI_ENDPOINT, EnergyServicesInterface
from tests.components.common import setup
from tests.components.conftest import DEMO_CHARGER, make_entry

from .conftest import GATEWAY, ZhaNetwork
from .devices import in_home_display
from .radio import SE_PROFILE, SimDevice

START = "2026-11-22T10:00:00+00:00"
IHD_IEEE = "00:15:8d:00:00:00:00:aa"
IHD_NWK = 0x4242
EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)


def zigbee_time(at: datetime) -> int:
    return int((at - EPOCH_2000).total_seconds())


def sent_to_ihd(display: SimDevice, cluster: int) -> list[bytes]:
    return [bytes(p.data.serialize()) for p in display.received if p.cluster_id == cluster]


@pytest.fixture
def display() -> SimDevice:
    """The in-home display (Smart Energy profile)."""
    return in_home_display(SE_PROFILE, ieee=IHD_IEEE, nwk=IHD_NWK)


@pytest.fixture
async def esi(
    ha: HomeAssistant,
    zha_network: ZhaNetwork,
    freezer: FrozenDateTimeFactory,
    display: SimDevice,
) -> EnergyServicesInterface:
    """The demo premise with the ESI enabled (ZHA has the ESI endpoint); the display joined."""
    freezer.move_to(START)
    await setup(ha, make_entry({**DEMO_CHARGER, "zigbee_esi": True}))
    found: EnergyServicesInterface = ha.data[ESI_DATA]["premise1"]
    assert found.state == "running"
    await zha_network.join(display)
    display.received.clear()
    return found


async def ask(network: ZhaNetwork, display: SimDevice, cluster: int, frame: bytes) -> None:
    display.received.clear()
    network.radio.send_from(display, src_ep=1, dst_ep=ESI_ENDPOINT, cluster_id=cluster, data=frame)
    await network.settle()


async def test_get_current_price_answered(
    ha: HomeAssistant, esi: EnergyServicesInterface, zha_network: ZhaNetwork, display: SimDevice
) -> None:
    """GetCurrentPrice (TSN 0x37) is answered with PublishPrice, field by field (SE 1.1 D.4)."""
    await ask(zha_network, display, 0x0700, bytes.fromhex("01 37 00 00"))
    (frame,) = sent_to_ihd(display, 0x0700)
    now = dt_util.utcnow()
    expected = (
        bytes([0x19, 0x37, 0x00])  # cluster command, server to client, no default response
        + struct.pack("<I", zlib.crc32(b"PREMISE-1"))  # provider ID
        + b"\x04flat"  # rate label: the tariff period
        + struct.pack("<I", zlib.crc32(b"flat:0.20"))  # issuer event ID
        + struct.pack("<I", zigbee_time(now))  # current time
        + b"\x00"  # kWh
        + struct.pack("<H", 978)  # EUR
        + b"\x40\x00"  # 4 trailing digits, tier 0; no tiers
        + struct.pack("<I", zigbee_time(now - timedelta(days=1)))  # start (clamped)
        + struct.pack("<H", 8 * 24 * 60)  # until the flat price's horizon
        + struct.pack("<I", 2000)  # 0.2000 EUR/kWh
        + bytes.fromhex("ff ffffffff ff ffffffff ff ff ff 00")
    )
    assert frame == expected
    (packet,) = display.received
    assert (packet.src_ep, packet.dst_ep, packet.profile_id) == (ESI_ENDPOINT, 1, SE_PROFILE)


async def test_load_control_published_and_scheduled_and_status_recorded(
    ha: HomeAssistant, esi: EnergyServicesInterface, zha_network: ZhaNetwork, display: SimDevice
) -> None:
    coordinator = esi.premise.entry.runtime_data
    now = dt_util.utcnow()
    event_id = await coordinator.async_add_local_event(
        "load_control", now + timedelta(minutes=10), now + timedelta(minutes=40), limit_kw=0.0
    )
    await zha_network.settle()
    (published,) = sent_to_ihd(display, 0x0701)
    _hdr, name, fields = parse_frame(0x0701, published)
    assert name == "load_control_event"
    assert fields.issuer_event_id == zlib.crc32(event_id.encode())
    assert (fields.device_class, fields.duration_in_minutes) == (0x0400, 30)
    assert fields.start_time == zigbee_time(now + timedelta(minutes=10))
    assert fields.average_load_adjustment_percentage == -100  # a 0 kW limit: stop

    # GetScheduledEvents: the event again, with the request's TSN
    await ask(zha_network, display, 0x0701, bytes.fromhex("01 21 01 00000000 00"))
    (answer,) = sent_to_ihd(display, 0x0701)
    assert answer[:3] == bytes([0x19, 0x21, 0x00])
    assert answer == build_frame(0x0701, "load_control_event", 0x21, **_as_dict(fields))

    # the EVSE reports the event started while a session runs: recorded with the session
    await ha.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.garage_demo_car_plugged_in"}, blocking=True
    )
    await ha.async_block_till_done()
    session = coordinator.chargers["charger1"].session
    assert session is not None
    events = []
    ha.bus.async_listen("pev_portal_zigbee_event_status", events.append)
    report = build_frame(
        0x0701,
        "report_event_status",
        0x22,
        disable_default_response=False,
        issuer_event_id=fields.issuer_event_id,
        event_status=0x02,
        event_status_time=zigbee_time(now),
        criticality_level_applied=2,
        cooling_temperature_set_point_applied=0x8000,
        heating_temperature_set_point_applied=0x8000,
        average_load_adjustment_percentage_applied=-100,
        duty_cycle_applied=0xFF,
        event_control=0,
        signature_type=0,
        signature=[0] * 42,
    )
    await ask(zha_network, display, 0x0701, report)
    # asked for a default response: SUCCESS, once
    assert sent_to_ihd(display, 0x0701) == [bytes.fromhex("18 22 0b 00 00")]
    (record,) = esi.by_session[session.session_id]
    assert record["event_id"] == event_id
    assert record["status"] == "Event_Started"
    assert record["device"] == IHD_IEEE
    assert events[0].data["sessions"] == [session.session_id]
    stored = await coordinator.store.call(
        lambda s: s.get_meta(f"zigbee_event_status:{session.session_id}")
    )
    assert stored == [record]


async def test_no_events_is_not_found(
    ha: HomeAssistant, esi: EnergyServicesInterface, zha_network: ZhaNetwork, display: SimDevice
) -> None:
    await ask(zha_network, display, 0x0701, bytes.fromhex("01 05 01 00000000 00"))
    # Default Response: GetScheduledEvents (0x01) NOT_FOUND (0x8B)
    assert sent_to_ihd(display, 0x0701) == [bytes.fromhex("18 05 0b 01 8b")]


async def test_price_change_published(
    ha: HomeAssistant, esi: EnergyServicesInterface, zha_network: ZhaNetwork, display: SimDevice
) -> None:
    now = dt_util.utcnow()
    await esi.premise.entry.runtime_data.async_add_local_event(
        "price", now - timedelta(minutes=1), now + timedelta(hours=1), price=0.55
    )
    await zha_network.settle()
    (frame,) = sent_to_ihd(display, 0x0700)
    _hdr, name, fields = parse_frame(0x0700, frame)
    assert (name, fields.price) == ("publish_price", 5500)


async def test_export_events_are_never_a_price_or_a_load_control_event(
    ha: HomeAssistant, esi: EnergyServicesInterface, zha_network: ZhaNetwork, display: SimDevice
) -> None:
    """The premise's export price (0.55 per kWh fed back) and export limit (0 kW) in force and
    ahead (power feed): nothing is published; GetCurrentPrice answers the import tariff's
    0.2000 EUR/kWh as before, GetScheduledEvents finds no load-control event."""
    await ask(zha_network, display, 0x0700, bytes.fromhex("01 37 00 00"))
    (before,) = sent_to_ihd(display, 0x0700)
    display.received.clear()
    coordinator = esi.premise.entry.runtime_data
    now = dt_util.utcnow()
    for start in (now - timedelta(minutes=1), now + timedelta(minutes=10)):
        end = start + timedelta(minutes=30)
        await coordinator.async_add_local_event("export_price", start, end, price=0.55)
        await coordinator.async_add_local_event("export_limit", start, end, limit_kw=0.0)
    await zha_network.settle()
    assert sent_to_ihd(display, 0x0700) == [], "no new price published"
    assert sent_to_ihd(display, 0x0701) == [], "no load-control event published"

    await ask(zha_network, display, 0x0700, bytes.fromhex("01 37 00 00"))
    (frame,) = sent_to_ihd(display, 0x0700)
    assert frame == before, "the import price, unchanged"
    _hdr, name, fields = parse_frame(0x0700, frame)
    assert (name, fields.price) == ("publish_price", 2000)
    await ask(zha_network, display, 0x0701, bytes.fromhex("01 05 01 00000000 00"))
    assert sent_to_ihd(display, 0x0701) == [bytes.fromhex("18 05 0b 01 8b")]


@pytest.mark.parametrize("zha_esi_endpoint", [False])
async def test_without_endpoint_the_esi_stays_off(
    ha: HomeAssistant, zha_network: ZhaNetwork
) -> None:
    display = in_home_display(0x0104, ieee=IHD_IEEE, nwk=IHD_NWK)
    await zha_network.join(display)
    await setup(ha, make_entry({**DEMO_CHARGER, "zigbee_esi": True}))
    esi: EnergyServicesInterface = ha.data[ESI_DATA]["premise1"]
    assert esi.state == "no_endpoint"
    await ask(zha_network, display, 0x0700, bytes.fromhex("01 01 00 00"))
    assert esi.details()["clients"] == []


async def test_without_gateway_the_esi_stays_off(ha: HomeAssistant, zha_down: None) -> None:
    await setup(ha, make_entry({**DEMO_CHARGER, "zigbee_esi": True}))
    assert ha.data[ESI_DATA]["premise1"].state == "zha_unavailable"


async def test_without_zha_the_esi_is_not_started(ha: HomeAssistant) -> None:
    """ZHA not loaded at all: nothing of ZHA or zigpy is touched."""
    with patch(GATEWAY) as helper:
        await setup(ha, make_entry({**DEMO_CHARGER, "zigbee_esi": True}))
    assert "premise1" not in ha.data.get(ESI_DATA, {})
    helper.assert_not_called()


def _as_dict(fields: object) -> dict[str, object]:
    return {name: getattr(fields, name) for name in fields.as_dict()}  # type: ignore[attr-defined]
