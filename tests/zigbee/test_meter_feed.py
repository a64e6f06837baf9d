"""The ZHA meter's received register (CurrentSummationReceived, 0x0001): the energy a
bidirectional charger's car feeds back, from real Report Attributes frames through zigpy and
Home Assistant's real ZHA (``zha_network``), metered beside the delivered summation."""

from __future__ import annotations

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.pev_portal.core.metering import Quality
from custom_components.pev_portal.zigbee.meter import ZhaMeter
from tests.components.common import setup
from tests.components.conftest import make_entry

from .conftest import NetworkMeter, ZhaNetwork, generic_meter, join_meter, register
from .fake_zigpy import FakeApp, FakeMeter
from .test_meter import (
    STANDARD,
    START,
    at,
    charger,
    plug,
    report_at,
    runtime,
    start_meter,
    stop_meters,
)

__all__ = ["stop_meters"]  # the fixture, used here too


@pytest.fixture
async def meter(
    ha: HomeAssistant, zha_network: ZhaNetwork, freezer: FrozenDateTimeFactory
) -> NetworkMeter:
    """A meter with both summations joined through the real ZHA, at the test day's start."""
    freezer.move_to(START)
    ha.states.async_set("sensor.cp_status", "Available")
    return await join_meter(
        zha_network,
        generic_meter(**STANDARD, current_summ_delivered=1_000_000, current_summ_received=2_000),
    )


async def test_received_summation_scaled_as_the_delivered_one(
    ha: HomeAssistant, meter: NetworkMeter, stop_meters: list
) -> None:
    """The received summation (as ZHA's interview cached it, then as reported) uses the
    delivered one's multiplier and divisor, and follows a divisor change."""
    zha, readings = await start_meter(ha, meter, stop_meters)
    assert zha.received_reading()[1] == pytest.approx(2.0)  # type: ignore[index]
    meter.report(current_summ_received=2_345)
    assert zha.received_reading() is not None
    assert zha.received_reading()[1] == pytest.approx(2.345)  # type: ignore[index]
    meter.report(divisor=100)
    assert zha.received_reading()[1] == pytest.approx(23.45)  # type: ignore[index]
    assert zha.meter_details()["received_kwh"] == pytest.approx(23.45)
    assert [r[1] for r in readings] == [1000.0]  # the delivered register's readings only


async def test_a_session_that_feeds_then_charges(
    ha: HomeAssistant, meter: NetworkMeter, freezer: FrozenDateTimeFactory
) -> None:
    """The car feeds 10:05-10:15 (the delivered summation flat, only the received one reports),
    then charges: each interval carries both energies, OK; the live summary shows the feed."""
    coordinator = await setup(ha, make_entry(charger(meter.device_id, meter.ieee)))
    await plug(ha, "Charging")
    await report_at(
        ha,
        freezer,
        meter,
        "10:05:00",
        current_summ_delivered=1_001_000,
        current_summ_received=2_000,
    )
    await report_at(ha, freezer, meter, "10:10:00", current_summ_received=3_000)
    await report_at(ha, freezer, meter, "10:15:00", current_summ_received=4_000)
    await report_at(ha, freezer, meter, "10:20:00", current_summ_delivered=1_002_000)
    await report_at(ha, freezer, meter, "10:30:00", current_summ_delivered=1_003_000)
    await at(ha, freezer, "10:30:00")
    intervals = runtime(coordinator).intervals
    assert [(i.start.strftime("%H:%M"), i.kwh, i.exported_kwh) for i in intervals] == [
        ("10:00", pytest.approx(1.0), pytest.approx(2.0)),
        ("10:15", pytest.approx(2.0), pytest.approx(0.0)),
    ]
    assert {i.quality for i in intervals} == {Quality.OK}
    summary = coordinator.live_summary(runtime(coordinator))
    assert summary is not None
    assert summary.exported_kwh == pytest.approx(2.0)
    session_id = runtime(coordinator).session.session_id  # type: ignore[union-attr]
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert [i.exported_kwh for i in stored] == [pytest.approx(2.0), pytest.approx(0.0)]


async def test_a_received_summation_going_backwards_is_flagged(
    ha: HomeAssistant, meter: NetworkMeter, freezer: FrozenDateTimeFactory
) -> None:
    """A falling received summation (a reset): the span is unknown, not counted as fed; the
    interval is ESTIMATED (its import energy kept) and the anomaly is stored, saying it was
    the received register."""
    coordinator = await setup(ha, make_entry(charger(meter.device_id, meter.ieee)))
    zha = runtime(coordinator).meter
    assert isinstance(zha, ZhaMeter)
    await plug(ha, "Charging")
    await report_at(
        ha,
        freezer,
        meter,
        "10:02:00",
        current_summ_delivered=1_000_500,
        current_summ_received=2_000,
    )
    await report_at(ha, freezer, meter, "10:05:00", current_summ_received=2_500)
    await report_at(ha, freezer, meter, "10:08:00", current_summ_received=100)  # backwards
    await report_at(ha, freezer, meter, "10:12:00", current_summ_received=600)
    await report_at(ha, freezer, meter, "10:16:00", current_summ_delivered=1_001_000)
    await at(ha, freezer, "10:16:00")
    (first,) = runtime(coordinator).intervals
    assert first.quality is Quality.ESTIMATED
    # the import kept: 0.5 by 10:02, 3/4 of the 0.5 between 10:12 and 10:16
    assert first.kwh == pytest.approx(0.875)
    # 0.5 before the fall, nothing over it, 0.5 after it (10:08-10:12)
    assert first.exported_kwh == pytest.approx(1.0)
    session_id = runtime(coordinator).session.session_id  # type: ignore[union-attr]
    anomalies = await coordinator.store.call(lambda s: s.anomalies(session_id))
    assert [a["kind"] for a in anomalies] == ["backwards"]
    assert anomalies[0]["message"].startswith("received register: ")


async def test_a_meter_without_a_received_summation_meters_no_feed(
    ha: HomeAssistant, zha_network: ZhaNetwork, freezer: FrozenDateTimeFactory
) -> None:
    """A plain meter (no CurrentSummationReceived): no received register, exported 0, OK."""
    freezer.move_to(START)
    ha.states.async_set("sensor.cp_status", "Available")
    plain = await join_meter(zha_network, generic_meter(**STANDARD, current_summ_delivered=1_000))
    coordinator = await setup(ha, make_entry(charger(plain.device_id, plain.ieee)))
    await plug(ha, "Charging")
    await report_at(ha, freezer, plain, "10:08:00", current_summ_delivered=1_500)
    await report_at(ha, freezer, plain, "10:16:00", current_summ_delivered=2_000)
    (first,) = runtime(coordinator).intervals
    assert (first.exported_kwh, first.quality) == (0.0, Quality.OK)
    assert runtime(coordinator).received is None


async def test_a_restart_with_zha_down_flags_the_received_register(
    ha: HomeAssistant, app: FakeApp, freezer: FrozenDateTimeFactory
) -> None:
    """Home Assistant restarts mid-feed and ZHA has no gateway yet: the meter falls back to
    ZHA's summation sensor, which has no received register; the session's received register
    is then doubtful, so the interval is flagged, not metered as 0 fed."""
    from unittest.mock import patch

    from .conftest import GATEWAY
    from .fake_zigpy import gateway

    freezer.move_to(START)
    ha.states.async_set("sensor.cp_status", "Available")
    ha.config.components.add("zha")
    meter = FakeMeter(
        app, registers={**STANDARD, "current_summ_delivered": 5000, "current_summ_received": 0}
    )
    device_id = register(ha, meter)
    er.async_get(ha).async_get_or_create(
        "sensor",
        "zha",
        f"{meter.ieee}-1-1794-summation_delivered",
        device_id=device_id,
        original_device_class="energy",
        suggested_object_id="ev_meter_summation_delivered",
    )
    sensor = "sensor.ev_meter_summation_delivered"
    attrs = {"device_class": "energy", "unit_of_measurement": "kWh"}
    ha.states.async_set(sensor, "5.0", attrs)
    entry = make_entry(charger(device_id, meter.ieee))
    with patch(GATEWAY, return_value=gateway(app)):
        coordinator = await setup(ha, entry)
        await plug(ha, "Charging")
        # no received summation in the cache at plug-in: the register starts at its first report
        await report_at(ha, freezer, meter, "10:01:00", current_summ_received=0)
        await report_at(ha, freezer, meter, "10:03:00", current_summ_received=500)
        assert runtime(coordinator).received is not None
        assert runtime(coordinator).received.total_kwh == pytest.approx(0.5)  # type: ignore[union-attr]
        await at(ha, freezer, "10:04:00")
    with patch(GATEWAY, side_effect=ValueError("No gateway object exists")):
        assert await ha.config_entries.async_reload(entry.entry_id)
        await ha.async_block_till_done()
        coordinator = entry.runtime_data
        zha = runtime(coordinator).meter
        assert isinstance(zha, ZhaMeter)
        assert zha.meter_details()["source"] == "sensor"
        assert zha.received_reading() is None
        await at(ha, freezer, "10:08:00")
        ha.states.async_set(sensor, "5.5", attrs)
        await at(ha, freezer, "10:16:00")
        ha.states.async_set(sensor, "6.0", attrs)
        await at(ha, freezer, "10:16:00")
    (first,) = runtime(coordinator).intervals
    assert first.quality is Quality.ESTIMATED
    assert first.exported_kwh == pytest.approx(0.5)  # what was known before the restart
    session_id = runtime(coordinator).session.session_id  # type: ignore[union-attr]
    anomalies = await coordinator.store.call(lambda s: s.anomalies(session_id))
    assert [a["kind"] for a in anomalies] == ["invalid"]
