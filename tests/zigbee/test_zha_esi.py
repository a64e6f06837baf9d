"""The experimental ESI through Home Assistant's real ZHA: displays on the HA and SE profiles.

A display joins the simulated network (zigpy interviews it, ZHA configures it) and asks the ESI
on the coordinator's endpoint 10 for the price and the load-control events; what the display
receives is counted frame by frame.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.pev_portal.zigbee import ESI_DATA
from custom_components.pev_portal.zigbee.clusters import parse_frame
from custom_components.pev_portal.zigbee.esi import ESI_ENDPOINT, EnergyServicesInterface
from tests.components.common import setup
from tests.components.conftest import DEMO_CHARGER, make_entry

from .conftest import ZhaNetwork
from .devices import in_home_display
from .radio import HA_PROFILE, SE_PROFILE, SimDevice

PRICE, DRLC = 0x0700, 0x0701


async def start_esi(hass: HomeAssistant) -> EnergyServicesInterface:
    await setup(hass, make_entry({**DEMO_CHARGER, "zigbee_esi": True}))
    esi: EnergyServicesInterface = hass.data[ESI_DATA]["premise1"]
    assert esi.state == "running"
    return esi


def received(display: SimDevice, cluster: int) -> list[Any]:
    """What the display received on a cluster from the ESI: (profile, src ep, frame)."""
    return [
        (p.profile_id, p.src_ep, bytes(p.data.serialize()))
        for p in display.received
        if p.cluster_id == cluster
    ]


async def ask(network: ZhaNetwork, display: SimDevice, cluster: int, frame: bytes) -> None:
    display.received.clear()
    network.radio.send_from(display, src_ep=1, dst_ep=ESI_ENDPOINT, cluster_id=cluster, data=frame)
    await network.settle()


@pytest.mark.parametrize("profile", [HA_PROFILE, SE_PROFILE], ids=["ha-profile", "se-profile"])
async def test_display_joins_and_is_answered_once_on_its_profile(
    ha: HomeAssistant, zha_network: ZhaNetwork, profile: int
) -> None:
    """A display on either profile finishes its interview; each request has one answer."""
    await start_esi(ha)
    display = in_home_display(profile)
    entry = await zha_network.join(display)
    assert (entry.manufacturer, entry.model) == ("PEV Test", display.model)  # interview done

    # GetCurrentPrice asking for a default response: PublishPrice, and nothing else
    await ask(zha_network, display, PRICE, bytes.fromhex("01 37 00 00"))
    ((answer_profile, src_ep, frame),) = received(display, PRICE)
    assert (answer_profile, src_ep) == (profile, ESI_ENDPOINT)
    hdr, name, fields = parse_frame(PRICE, frame)
    assert (name, hdr.tsn) == ("publish_price", 0x37)
    assert fields.price == 2000  # 0.2000 EUR/kWh

    # GetScheduledEvents with no event: one Default Response NOT_FOUND (no SUCCESS beside it)
    await ask(zha_network, display, DRLC, bytes.fromhex("01 05 01 00000000 00"))
    assert received(display, DRLC) == [(profile, ESI_ENDPOINT, bytes.fromhex("18 05 0b 01 8b"))]

    # a command the ESI does not serve: one UNSUP_CLUSTER_COMMAND
    await ask(zha_network, display, PRICE, bytes.fromhex("01 06 09"))
    assert received(display, PRICE) == [(profile, ESI_ENDPOINT, bytes.fromhex("18 06 0b 09 81"))]


async def test_load_control_event_published_on_the_display_profile(
    ha: HomeAssistant, zha_network: ZhaNetwork
) -> None:
    """A new load-control event goes to each display on its own profile."""
    from datetime import timedelta

    esi = await start_esi(ha)
    ha_display = in_home_display(HA_PROFILE)
    se_display = in_home_display(SE_PROFILE, ieee="00:0d:6f:00:00:07:05:02", nwk=0x0706)
    await zha_network.join(ha_display)
    await zha_network.join(se_display)
    ha_display.received.clear()
    se_display.received.clear()
    now = dt_util.utcnow()
    await esi.premise.entry.runtime_data.async_add_local_event(
        "load_control", now + timedelta(minutes=10), now + timedelta(minutes=40), limit_kw=0.0
    )
    await zha_network.settle()
    for display, profile in ((ha_display, HA_PROFILE), (se_display, SE_PROFILE)):
        ((answer_profile, src_ep, frame),) = received(display, DRLC)
        assert (answer_profile, src_ep) == (profile, ESI_ENDPOINT)
        assert parse_frame(DRLC, frame)[1] == "load_control_event"


async def test_malformed_and_stray_frames_are_not_answered_twice(
    ha: HomeAssistant, zha_network: ZhaNetwork
) -> None:
    """Frames the ESI cannot read, or from an endpoint zigpy does not know: no crash, one answer."""
    await start_esi(ha)
    display = in_home_display(SE_PROFILE)
    await zha_network.join(display)

    # a truncated frame to the ESI: neither a command nor a ZCL header; nothing is sent back
    await ask(zha_network, display, PRICE, b"\x01")
    assert received(display, PRICE) == []

    # a truncated Smart Energy frame to another cluster: not handed on, no crash
    display.received.clear()
    zha_network.radio.send_from(display, src_ep=1, dst_ep=1, cluster_id=0x0000, data=b"\x00")
    await zha_network.settle()
    assert display.received == []

    # GetCurrentPrice from an endpoint the display does not have: the ESI still answers, once
    display.received.clear()
    zha_network.radio.send_from(
        display,
        src_ep=7,
        dst_ep=ESI_ENDPOINT,
        cluster_id=PRICE,
        data=bytes.fromhex("01 38 00 00"),
        profile_id=HA_PROFILE,
    )
    await zha_network.settle()
    ((answer_profile, src_ep, frame),) = received(display, PRICE)
    assert (answer_profile, src_ep) == (HA_PROFILE, ESI_ENDPOINT)
    assert parse_frame(PRICE, frame)[1] == "publish_price"
