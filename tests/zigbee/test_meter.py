"""The ZHA meter: real ZCL frames through zigpy's packet path into the integration.

Most tests run on Home Assistant's real ZHA (``zha_network``: the simulated radio of
``radio.py``, a meter no quirk touches joined through zigpy's interview and ZHA's
configuration). A few keep the patched gateway helper (``zha_up``/``zha_down``, ``fake_zigpy``)
because they test what the real ZHA does not let a test arrange: the corrections table on a
device ZHA did not quirk (a ZHA without quirks), a meter that never answered a read before its
first report, and ZHA missing, not loaded yet or loading after PEV Portal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.coordinator import ChargerRuntime, PevPortalCoordinator
from custom_components.pev_portal.core.metering import Quality
from custom_components.pev_portal.zigbee.meter import ZhaMeter
from tests.components.common import setup
from tests.components.conftest import make_entry

from .conftest import NetworkMeter, ZhaNetwork, generic_meter, join_meter, register
from .fake_zigpy import SECOND_METER_IEEE, FakeApp, FakeMeter

START = "2026-11-22T10:00:00+00:00"
STANDARD = {
    "multiplier": 1,
    "divisor": 1000,
    "unit_of_measure": 0,
    "summation_formatting": 0x2B,
    "metering_device_type": 7,
    "status": 0,
}


def charger(device_id: str, ieee: str, **extra: Any) -> dict[str, Any]:
    """A charger whose status is a sensor and whose meter is the ZHA device."""
    return {
        "charger_name": "Driveway",
        "charger_type": "entities",
        "status_entity": "sensor.cp_status",
        "meter_source": "zha",
        "zha_device": device_id,
        "zha_ieee": ieee,
        **extra,
    }


async def at(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: str) -> None:
    """Move to a time of the test day (HH:MM:SS) and let timers run."""
    freezer.move_to(f"2026-11-22T{when}+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def report_at(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    meter: FakeMeter | NetworkMeter,
    when: str,
    **values: int,
) -> None:
    """The meter reports at a time of the test day, before that moment's timers run."""
    freezer.move_to(f"2026-11-22T{when}+00:00")
    meter.report(**values)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def plug(hass: HomeAssistant, state: str) -> None:
    hass.states.async_set("sensor.cp_status", state)
    await hass.async_block_till_done()


def runtime(coordinator: PevPortalCoordinator) -> ChargerRuntime:
    return coordinator.chargers["charger1"]


# -- the meter on its own -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def stop_meters() -> Iterator[list[Callable[[], None]]]:
    """Stop the meters a test started on its own (their boundary timers)."""
    stops: list[Callable[[], None]] = []
    yield stops
    for stop in stops:
        stop()


async def start_meter(
    hass: HomeAssistant,
    meter: FakeMeter | NetworkMeter,
    stops: list[Callable[[], None]],
    **overrides: int,
) -> tuple[ZhaMeter, list[tuple[datetime, float, str]]]:
    """A ZhaMeter listening to the meter; returns it and the readings it passes on."""
    device_id = meter.device_id if isinstance(meter, NetworkMeter) else register(hass, meter)
    zha = ZhaMeter(
        hass,
        ieee=meter.ieee,
        device_id=device_id,
        interval_minutes=15,
        entry_id="premise1",
        charger_id="charger1",
        charger_name="Driveway",
        **overrides,  # type: ignore[arg-type]
    )
    readings: list[tuple[datetime, float, str]] = []
    unsub = zha.async_listen_readings(lambda at, kwh, mid: readings.append((at, kwh, mid)))
    await hass.async_block_till_done()
    if isinstance(meter, NetworkMeter):
        await meter.network.settle()
    stops.append(unsub)
    return zha, readings


@pytest.mark.parametrize(
    ("manufacturer", "model", "registers", "overrides", "kwh", "note"),
    [
        (
            "PEV Test",
            "EUMD-1",
            {**STANDARD, "current_summ_delivered": 1_234_567},
            {},
            1234.567,
            None,
        ),
        (
            "PEV Test",
            "EUMD-1",
            {"multiplier": 0, "divisor": 0, "current_summ_delivered": 42},
            {},
            42.0,
            None,
        ),
        (
            "PEV Test",
            "EUMD-1",
            {"multiplier": 2, "divisor": 10, "current_summ_delivered": 1000},
            {},
            200.0,
            None,
        ),
        ("PEV Test", "EUMD-1", {"current_summ_delivered": 5}, {}, 5.0, None),  # unsupported
        # formatting bits never scale: 0xFF would mean 7 decimals
        (
            "PEV Test",
            "EUMD-1",
            {**STANDARD, "summation_formatting": 0xFF, "current_summ_delivered": 2000},
            {},
            2.0,
            None,
        ),
        (
            "PEV Test",
            "EUMD-1",
            {
                "unit_of_measure": 0x80,
                "multiplier": 1,
                "divisor": 10,
                "current_summ_delivered": 0x12345,
            },
            {},
            1234.5,
            None,
        ),
        (
            "PEV Test",
            "EUMD-1",
            {**STANDARD, "current_summ_delivered": 1000},
            {"divisor": 10},
            100.0,
            None,
        ),
    ],
    ids=[
        "standard",
        "zero-factors",
        "multiplier",
        "missing",
        "formatting",
        "bcd",
        "override",
    ],
)
async def test_initial_read_scaling(
    ha: HomeAssistant,
    stop_meters: list[Callable[[], None]],
    zha_network: ZhaNetwork,
    manufacturer: str,
    model: str,
    registers: dict[str, int],
    overrides: dict[str, int],
    kwh: float,
    note: str | None,
) -> None:
    """At attach the summation is read; kWh comes from the multiplier and divisor ZHA has."""
    meter = await join_meter(zha_network, generic_meter(**registers))
    zha, readings = await start_meter(ha, meter, stop_meters, **overrides)
    assert [r[1] for r in readings] == [pytest.approx(kwh)]
    assert readings[0][2] == meter.ieee
    details = zha.meter_details()
    assert details["source"] == "zigbee"
    assert (details["manufacturer"], details["model"]) == (manufacturer, model)
    assert details["correction"] is note is None
    # what ZHA's interview did not cache is read first, the summation last
    assert meter.reads()[-1] == [0x0000]


async def test_reports_update_readings_demand_and_details(
    ha: HomeAssistant, stop_meters: list[Callable[[], None]], zha_network: ZhaNetwork
) -> None:
    meter = await join_meter(zha_network, generic_meter(**STANDARD, current_summ_delivered=1000))
    zha, readings = await start_meter(ha, meter, stop_meters)
    meter.report(current_summ_delivered=3500, instantaneous_demand=7400)
    meter.report(instantaneous_demand=-200)
    assert [r[1] for r in readings] == [1.0, 3.5]
    assert zha.power_kw() == pytest.approx(-0.2)
    details = zha.meter_details()
    assert details["metering_device_type"] == "eumd_ev_charging"
    assert details["summation_formatting"] == {
        "digits_right": 3,
        "digits_left": 5,
        "suppress_leading_zeros": False,
    }
    assert (details["multiplier"], details["divisor"]) == (1, 1000)
    # the divisor changes: later readings use it
    meter.report(divisor=100, current_summ_delivered=3600)
    assert readings[-1][1] == pytest.approx(36.0)


@pytest.mark.usefixtures("zha_up")
async def test_no_reading_before_scaling_known(
    ha: HomeAssistant, stop_meters: list[Callable[[], None]], app: FakeApp
) -> None:
    """A summation reported before the divisor is held back until the divisor is known."""
    meter = FakeMeter(app, registers={**STANDARD, "current_summ_delivered": 7000})
    meter.answer_reads = False
    register(ha, meter)
    zha = ZhaMeter(
        ha,
        ieee=meter.ieee,
        device_id=None,
        interval_minutes=15,
        entry_id="premise1",
        charger_id="charger1",
        charger_name="Driveway",
    )
    readings: list[float] = []
    stop_meters.append(zha.async_listen_readings(lambda at, kwh, mid: readings.append(kwh)))
    meter.report(current_summ_delivered=7000)
    assert readings == []
    meter.report(multiplier=1, divisor=1000)
    assert readings == [7.0]


async def test_reporting_configured_for_the_interval(
    ha: HomeAssistant, stop_meters: list[Callable[[], None]], zha_network: ZhaNetwork
) -> None:
    meter = await join_meter(zha_network, generic_meter(**STANDARD, current_summ_delivered=1))
    zha, _ = await start_meter(ha, meter, stop_meters)
    assert meter.configured_reporting() == {0x0000: (10, 900), 0x0400: (5, 900)}
    assert zha.meter_details()["reporting"] == {
        "current_summ_delivered": "SUCCESS",
        "instantaneous_demand": "SUCCESS",
    }


# -- through the integration ------------------------------------------------------------------


@pytest.fixture
async def meter(
    ha: HomeAssistant, zha_network: ZhaNetwork, freezer: FrozenDateTimeFactory
) -> NetworkMeter:
    """A meter joined through the real ZHA (``zha_network``), at the test day's start."""
    freezer.move_to(START)
    ha.states.async_set("sensor.cp_status", "Available")
    return await join_meter(
        zha_network, generic_meter(**STANDARD, current_summ_delivered=1_000_000)
    )


async def test_interval_energy_from_reports(
    ha: HomeAssistant, meter: NetworkMeter, freezer: FrozenDateTimeFactory
) -> None:
    coordinator = await setup(ha, make_entry(charger(meter.device_id, meter.ieee)))
    await plug(ha, "Charging")
    await report_at(ha, freezer, meter, "10:05:00", current_summ_delivered=1_001_000)
    await report_at(ha, freezer, meter, "10:15:00", current_summ_delivered=1_002_500)
    await report_at(ha, freezer, meter, "10:25:00", current_summ_delivered=1_003_500)
    await report_at(ha, freezer, meter, "10:30:00", current_summ_delivered=1_004_000)
    await ha.async_block_till_done()
    intervals = runtime(coordinator).intervals
    assert [(i.start.strftime("%H:%M"), i.kwh) for i in intervals] == [
        ("10:00", pytest.approx(2.5)),
        ("10:15", pytest.approx(1.5)),
    ]
    assert {i.meter_id for i in intervals} == {meter.ieee}
    assert {i.quality for i in intervals} == {Quality.OK}
    assert meter.reads().count([0x0000]) == 1  # only the read at attach: reports were on time


async def test_boundary_read_when_reports_are_late(
    ha: HomeAssistant, meter: NetworkMeter, freezer: FrozenDateTimeFactory
) -> None:
    coordinator = await setup(ha, make_entry(charger(meter.device_id, meter.ieee)))
    await plug(ha, "Charging")
    await report_at(ha, freezer, meter, "10:07:00", current_summ_delivered=1_001_000)
    # no report near the boundary: the meter is read at 10:15:00
    meter.registers["current_summ_delivered"] = 1_002_000
    await at(ha, freezer, "10:15:00")
    await at(ha, freezer, "10:30:00")  # and again at 10:30
    await report_at(ha, freezer, meter, "10:40:00", current_summ_delivered=1_002_000)
    await at(ha, freezer, "10:40:00")
    intervals = runtime(coordinator).intervals
    assert intervals[0].kwh == pytest.approx(2.0)  # exact: read at the boundary
    assert intervals[0].register_end == pytest.approx(1002.0)
    zha = runtime(coordinator).meter
    assert isinstance(zha, ZhaMeter)
    assert zha.boundary_reads == 2  # 10:15 and 10:30
    assert meter.reads().count([0x0000]) == 1 + zha.boundary_reads


async def test_summation_falls_is_a_new_epoch(
    ha: HomeAssistant, meter: NetworkMeter, freezer: FrozenDateTimeFactory
) -> None:
    coordinator = await setup(ha, make_entry(charger(meter.device_id, meter.ieee)))
    await plug(ha, "Charging")
    await report_at(ha, freezer, meter, "10:05:00", current_summ_delivered=1_001_000)
    await report_at(ha, freezer, meter, "10:10:00", current_summ_delivered=500)  # reset
    await report_at(ha, freezer, meter, "10:20:00", current_summ_delivered=1500)
    await report_at(ha, freezer, meter, "10:30:00", current_summ_delivered=2000)
    await at(ha, freezer, "10:30:00")
    first, second = runtime(coordinator).intervals[:2]
    # 1 kWh before the reset, the span over the reset unknown (never billed), then half of
    # the 1 kWh between 10:10 and 10:20
    assert (first.meter_epoch, first.quality) == (1, Quality.ESTIMATED)
    assert first.kwh == pytest.approx(1.5)
    assert (second.meter_epoch, second.quality) == (1, Quality.OK)
    assert second.kwh == pytest.approx(1.0)


async def test_meter_replacement_is_a_new_epoch(
    ha: HomeAssistant,
    meter: NetworkMeter,
    freezer: FrozenDateTimeFactory,
    zha_network: ZhaNetwork,
) -> None:
    """The charger is reconfigured to a new meter mid-session: its IEEE starts a new epoch."""
    entry = make_entry(charger(meter.device_id, meter.ieee))
    coordinator = await setup(ha, entry)
    await plug(ha, "Charging")
    await report_at(ha, freezer, meter, "10:05:00", current_summ_delivered=1_001_000)
    new = await join_meter(
        zha_network,
        generic_meter(SECOND_METER_IEEE, 0x5678, **STANDARD, current_summ_delivered=10),
    )
    new_device = new.device_id
    subentry = entry.subentries["charger1"]
    ha.config_entries.async_update_subentry(
        entry, subentry, data=charger(new_device, SECOND_METER_IEEE)
    )
    await ha.async_block_till_done()
    coordinator = entry.runtime_data
    await report_at(ha, freezer, new, "10:10:00", current_summ_delivered=1010)
    await report_at(ha, freezer, new, "10:20:00", current_summ_delivered=2010)
    await at(ha, freezer, "10:20:00")
    (interval,) = runtime(coordinator).intervals
    assert interval.meter_id == SECOND_METER_IEEE
    assert interval.meter_epoch == 1
    assert interval.quality is Quality.ESTIMATED
    assert runtime(coordinator).ledger is not None
    assert runtime(coordinator).ledger.meter_id == SECOND_METER_IEEE


async def test_tamper_raises_a_repair_and_marks_intervals(
    ha: HomeAssistant, meter: NetworkMeter, freezer: FrozenDateTimeFactory
) -> None:
    coordinator = await setup(ha, make_entry(charger(meter.device_id, meter.ieee)))
    issue_id = "meter_status_premise1_charger1"
    await plug(ha, "Charging")
    await report_at(ha, freezer, meter, "10:05:00", current_summ_delivered=1_001_000)
    await report_at(ha, freezer, meter, "10:15:00", current_summ_delivered=1_002_000)
    await report_at(ha, freezer, meter, "10:20:00", status=0x04)  # tamper
    issue = ir.async_get(ha).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"charger": "Driveway", "status": "tamper"}
    await report_at(ha, freezer, meter, "10:30:00", current_summ_delivered=1_003_000)
    await report_at(
        ha, freezer, meter, "10:35:00", status=0x02
    )  # tamper cleared; low battery is no alarm
    assert ir.async_get(ha).async_get_issue(DOMAIN, issue_id) is None
    await report_at(ha, freezer, meter, "10:45:00", current_summ_delivered=1_004_000)
    await report_at(ha, freezer, meter, "11:00:00", current_summ_delivered=1_005_000)
    await at(ha, freezer, "11:00:00")
    qualities = [(i.start.strftime("%H:%M"), i.quality) for i in runtime(coordinator).intervals]
    assert qualities == [
        ("10:00", Quality.OK),
        ("10:15", Quality.ESTIMATED),
        ("10:30", Quality.ESTIMATED),
        ("10:45", Quality.OK),
    ]
    marks = runtime(coordinator).meter.meter_details()["marked_intervals"]
    assert [m["status"] for m in marks] == [["tamper"], ["tamper"]]


async def test_zha_missing_falls_back_to_the_summation_sensor(
    ha: HomeAssistant, zha_down: None, freezer: FrozenDateTimeFactory
) -> None:
    """ZHA not loaded: the meter reads ZHA's summation sensor, still with the IEEE as meter ID."""
    freezer.move_to(START)
    ha.states.async_set("sensor.cp_status", "Available")
    app = FakeApp()
    meter = FakeMeter(app)
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
    ha.states.async_set(sensor, "100.0", attrs)
    coordinator = await setup(ha, make_entry(charger(device_id, meter.ieee)))
    zha = runtime(coordinator).meter
    assert isinstance(zha, ZhaMeter)
    assert zha.meter_details()["source"] == "sensor"
    await plug(ha, "Charging")
    await at(ha, freezer, "10:10:00")
    ha.states.async_set(sensor, "101.0", attrs)
    await at(ha, freezer, "10:15:00")
    ha.states.async_set(sensor, "102.0", attrs)
    await at(ha, freezer, "10:15:00")
    (interval,) = runtime(coordinator).intervals
    assert interval.kwh == pytest.approx(2.0)
    assert interval.meter_id == meter.ieee


async def test_zha_absent_without_sensor(ha: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """ZHA not installed or loaded, no sensor: the charger is set up, unmetered, it says why."""
    freezer.move_to(START)
    ha.states.async_set("sensor.cp_status", "Available")
    coordinator = await setup(ha, make_entry(charger("nodevice", "00:11:22:33:44:55:66:77")))
    details = runtime(coordinator).meter.meter_details()
    assert details["source"] == "unavailable"
    assert "ZHA" in details["problem"]
    assert runtime(coordinator).meter.reading() is None


async def test_zha_comes_back_at_a_boundary(
    ha: HomeAssistant, app: FakeApp, freezer: FrozenDateTimeFactory
) -> None:
    """ZHA loads after PEV Portal: the meter attaches to the cluster at the next boundary."""
    from unittest.mock import patch

    from .conftest import GATEWAY
    from .fake_zigpy import gateway

    freezer.move_to(START)
    ha.states.async_set("sensor.cp_status", "Available")
    meter = FakeMeter(app, registers={**STANDARD, "current_summ_delivered": 5000})
    device_id = register(ha, meter)
    with patch(GATEWAY) as helper:  # ZHA not running yet: not even asked
        coordinator = await setup(ha, make_entry(charger(device_id, meter.ieee)))
    helper.assert_not_called()
    assert runtime(coordinator).meter.meter_details()["source"] == "unavailable"
    ha.config.components.add("zha")  # ZHA finished loading
    with patch(GATEWAY, return_value=gateway(app)):
        await at(ha, freezer, "10:15:00")
        assert runtime(coordinator).meter.meter_details()["source"] == "zigbee"
        assert runtime(coordinator).meter.reading() is not None
        assert runtime(coordinator).meter.reading()[1] == pytest.approx(5.0)  # type: ignore[index]


async def test_diagnostics_show_the_meter(ha: HomeAssistant, meter: NetworkMeter) -> None:
    from custom_components.pev_portal.diagnostics import async_get_config_entry_diagnostics

    entry = make_entry(charger(meter.device_id, meter.ieee))
    await setup(ha, entry)
    diagnostics = await async_get_config_entry_diagnostics(ha, entry)
    details = diagnostics["chargers"]["Driveway"]["meter"]
    assert details["metering_device_type"] == "eumd_ev_charging"
    assert details["divisor"] == 1000
    assert details["source"] == "zigbee"


async def test_demo_charger_metered_by_a_zha_meter(
    ha: HomeAssistant, meter: NetworkMeter, freezer: FrozenDateTimeFactory
) -> None:
    """A demo charger whose energy is metered by a real meter joined through ZHA."""
    data = {
        "charger_name": "Garage",
        "charger_type": "demo",
        "meter_source": "zha",
        "zha_device": meter.device_id,
        "zha_ieee": meter.ieee,
    }
    coordinator = await setup(ha, make_entry(data))
    zha = runtime(coordinator).meter
    assert isinstance(zha, ZhaMeter)
    assert zha.meter_details()["source"] == "zigbee"
    await report_at(ha, freezer, meter, "10:05:00", current_summ_delivered=1_001_000)
    assert zha.reading() is not None
    assert zha.reading()[1] == pytest.approx(1001.0)  # type: ignore[index]
