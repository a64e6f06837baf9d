"""The ZHA meter through Home Assistant's real ZHA: real signatures, quirks, ZCL frames.

ZHA is set up on the simulated radio (``radio.py``); devices join from their real signatures
(``devices.py``), zigpy interviews them, zhaquirks applies its quirks, ZHA configures them and
creates its sensors. Attribute reports are Report Attributes frames handed to zigpy's packet
handler. What PEV Portal meters is compared with what ZHA's own summation sensor shows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import pytest
from homeassistant.core import HomeAssistant

from custom_components.pev_portal.zigbee import metering_devices, summation_entity
from custom_components.pev_portal.zigbee.meter import ZhaMeter

from .conftest import ZhaNetwork
from .devices import METERING, emizb_132, innr_sp_120, innr_sp_234, metering_endpoint, tuya_ts0121
from .radio import SimDevice

INNR = 0x1166  # Innr's manufacturer code

type Readings = list[tuple[datetime, float, str]]


@pytest.fixture
async def meters() -> AsyncIterator[list[Callable[[], None]]]:
    """Stop the meters a test started (their boundary timers)."""
    stops: list[Callable[[], None]] = []
    yield stops
    for stop in stops:
        stop()


async def start(
    hass: HomeAssistant,
    network: ZhaNetwork,
    device: SimDevice,
    stops: list[Callable[[], None]],
    **overrides: Any,
) -> tuple[ZhaMeter, Readings, str]:
    """Join the device and meter it; returns the meter, its readings and the device ID."""
    entry = await network.join(device)
    zha = ZhaMeter(
        hass,
        ieee=device.ieee,
        device_id=entry.id,
        interval_minutes=15,
        entry_id="premise1",
        charger_id="charger1",
        charger_name="Driveway",
        **overrides,
    )
    readings: Readings = []
    stops.append(zha.async_listen_readings(lambda at, kwh, mid: readings.append((at, kwh, mid))))
    await network.settle()
    return zha, readings, entry.id


def zha_shows(hass: HomeAssistant, device_id: str) -> float:
    """The state of ZHA's own summation sensor of the device."""
    entity_id = summation_entity(hass, device_id)
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    return float(state.state)


@pytest.mark.parametrize(
    ("device", "report", "manufacturer", "kwh", "source"),
    [
        # frient: the device says divisor 1 (and reports it); the quirk's divisor is 1000.
        (
            emizb_132(multiplier=1, divisor=1, unit_of_measure=0, current_summ_delivered=1_000),
            {"current_summ_delivered": 1_500_000, "divisor": 1},
            None,
            1500.0,
            "reported",
        ),
        # Innr SP 234: the firmware says 1/1000; the quirk's 1/100.
        (
            innr_sp_234(multiplier=1, divisor=1000, unit_of_measure=0, current_summ_delivered=0),
            {"current_summ_delivered": 12_345},
            None,
            123.45,
            "reported",
        ),
        # Innr SP 120: the summation comes manufacturer-specific; the quirk copies it over.
        (
            innr_sp_120(multiplier=1, divisor=1000, unit_of_measure=0, current_summ_delivered=0),
            {0x0000: 12_345},
            INNR,
            123.45,
            "reported",
        ),
        # A TS0121 zhaquirks leaves alone: its own 1/1000 is right (not the Tuya quirk's 1/100).
        (
            tuya_ts0121(multiplier=1, divisor=1000, unit_of_measure=0, current_summ_delivered=0),
            {"current_summ_delivered": 22_568},
            None,
            22.568,
            "reported",
        ),
    ],
    ids=["frient-emizb-132", "innr-sp-234", "innr-sp-120", "tuya-ts0121"],
)
async def test_metered_as_zha_shows(
    ha: HomeAssistant,
    zha_network: ZhaNetwork,
    meters: list[Callable[[], None]],
    device: SimDevice,
    report: dict[str | int, int],
    manufacturer: int | None,
    kwh: float,
    source: str,
) -> None:
    """A report reaches PEV Portal with the scaling ZHA shows after its quirks."""
    zha, readings, device_id = await start(ha, zha_network, device, meters)
    assert zha.source == "zigbee"
    # ZHA's identify-on-join (Identify trigger_effect, 0x40) reached the device, which answered
    # it as devices do; a radio that left it unanswered would keep the join waiting.
    identify = [p for p in device.received if p.cluster_id == 0x0003]
    assert [bytes(p.data.serialize())[2] for p in identify] == [0x40]
    zha_network.radio.report(
        device, metering_endpoint(device), METERING, report, manufacturer=manufacturer
    )
    await zha_network.settle()
    assert readings, "the report never reached the meter"
    assert readings[-1][1] == pytest.approx(kwh)
    assert readings[-1][2] == device.ieee
    assert zha_shows(ha, device_id) == pytest.approx(kwh)
    details = zha.meter_details()
    assert details["correction"] is None  # ZHA's quirk (or the device) scales; no table
    assert details["divisor_source"] == source
    assert [m.ieee for m in metering_devices(ha)] == [device.ieee]


@pytest.mark.parametrize("zha_quirks", [False])
@pytest.mark.parametrize(
    ("device", "raw", "zha_kwh", "kwh", "correction"),
    [
        (
            emizb_132(multiplier=1, divisor=1, unit_of_measure=0, current_summ_delivered=0),
            1_500_000,
            1_500_000.0,
            1500.0,
            "EMIZB-132",
        ),
        (
            innr_sp_234(multiplier=1, divisor=1000, unit_of_measure=0, current_summ_delivered=0),
            12_345,
            12.345,
            123.45,
            "Innr",
        ),
        (
            tuya_ts0121(multiplier=1, divisor=1000, unit_of_measure=0, current_summ_delivered=0),
            22_568,
            22.568,
            22.568,
            None,
        ),
    ],
    ids=["frient-emizb-132", "innr-sp-234", "tuya-ts0121"],
)
async def test_without_zha_quirks_the_table_corrects_what_zhaquirks_would(
    ha: HomeAssistant,
    zha_network: ZhaNetwork,
    meters: list[Callable[[], None]],
    device: SimDevice,
    raw: int,
    zha_kwh: float,
    kwh: float,
    correction: str | None,
) -> None:
    """ZHA with quirks off shows the device's values; the table corrects only zhaquirks' own."""
    zha, readings, device_id = await start(ha, zha_network, device, meters)
    assert not zha.quirked
    zha_network.radio.report(
        device, metering_endpoint(device), METERING, {"current_summ_delivered": raw}
    )
    await zha_network.settle()
    assert zha_shows(ha, device_id) == pytest.approx(zha_kwh)
    assert readings[-1][1] == pytest.approx(kwh)
    note = zha.meter_details()["correction"]
    if correction is None:
        assert note is None
    else:
        assert correction in note


async def test_zha_values_unreadable_falls_back_to_the_reported_ones(
    ha: HomeAssistant, zha_network: ZhaNetwork, meters: list[Callable[[], None]]
) -> None:
    """A ZHA whose cluster cannot answer ``get`` (changed): the values seen in events scale."""
    device = tuya_ts0121(multiplier=1, divisor=1000, unit_of_measure=0, current_summ_delivered=0)
    zha, readings, _device_id = await start(ha, zha_network, device, meters)

    class Changed:
        """The meter's view of the cluster after a ZHA change: ``get`` is gone."""

        def __getattr__(self, name: str) -> Any:
            raise AttributeError(name)

    zha._cluster = Changed()  # what the meter holds; zigpy and ZHA keep the real cluster
    zha_network.radio.report(
        device, metering_endpoint(device), METERING, {"current_summ_delivered": 22_568}
    )
    await zha_network.settle()
    assert readings[-1][1] == pytest.approx(22.568)
    assert zha.meter_details()["zha_shows"] == {"multiplier": 1, "divisor": 1000}
