"""Long-term statistics: each ended session's energy and cost, hour by hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.pev_portal.core.metering import Interval, Quality
from custom_components.pev_portal.core.tariff import FlatTariff
from custom_components.pev_portal.statistics import hourly, statistic_id

from .common import advance, setup
from .conftest import make_entry

START = "2026-11-22T10:20:00+00:00"
ENERGY = "pev_portal:charger1_energy"
COST = "pev_portal:charger1_cost"


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: object) -> None:
    """Make the recorder available before hass is set up (for recorder_mock)."""


@pytest.fixture
def at_start(freezer: FrozenDateTimeFactory) -> None:
    """The clock at START before the websocket client's token is issued (not in its future)."""
    freezer.move_to(START)


async def plug(hass: HomeAssistant, on: bool) -> None:
    await hass.services.async_call(
        "switch",
        "turn_on" if on else "turn_off",
        {"entity_id": "switch.garage_demo_car_plugged_in"},
        blocking=True,
    )
    await hass.async_block_till_done()


def _interval(start: datetime, minutes: int, kwh: float, quality: Quality) -> Interval:
    return Interval(
        start=start,
        end=start + timedelta(minutes=minutes),
        kwh=kwh,
        pev_id="PEV-1",
        premise_id="P",
        meter_id="M",
        quality=quality,
        meter_epoch=0,
        register_end=None,
    )


def test_hourly_splits_at_hour_boundaries() -> None:
    """An interval across an hour is shared in proportion to time; MISSING is not counted."""
    at = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
    tariff = FlatTariff("EUR", Decimal("0.20"))
    energy, cost = hourly(
        [
            _interval(at, 60, 6.0, Quality.OK),  # 10:30-11:30
            _interval(at + timedelta(hours=1), 15, 1.0, Quality.ESTIMATED),  # 11:30-11:45
            _interval(at + timedelta(hours=2), 15, 9.0, Quality.MISSING),
            _interval(at + timedelta(hours=3), 0, 0.5, Quality.OK),  # a zero-length interval
        ],
        tariff,
    )
    h10, h11, h13 = (datetime(2026, 11, 22, h, tzinfo=UTC) for h in (10, 11, 13))
    assert energy == pytest.approx({h10: 3.0, h11: 4.0, h13: 0.5})
    assert cost == pytest.approx({h10: 0.6, h11: 0.8, h13: 0.1})


def test_statistic_ids_are_valid() -> None:
    """Subentry IDs are ULIDs in capitals; statistic IDs must be lower-case slugs."""
    assert statistic_id("01JABCDEF", "energy") == "pev_portal:01jabcdef_energy"


async def test_sessions_become_statistics(
    recorder_mock: Recorder, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Two sessions in the same hours add up; sums run on across hours."""
    freezer.move_to(START)
    coordinator = await setup(hass, make_entry())
    await plug(hass, True)
    await advance(hass, freezer, 60 * 60)  # 10:20-11:20
    await plug(hass, False)
    await async_wait_recording_done(hass)
    first = coordinator.chargers["charger1"].last_summary
    assert first is not None

    await plug(hass, True)
    await advance(hass, freezer, 10 * 60)  # 11:20-11:30, the same hour as the first's end
    await plug(hass, False)
    await async_wait_recording_done(hass)
    second = coordinator.chargers["charger1"].last_summary
    assert second is not None

    ids = {
        s["statistic_id"]: s
        for s in await recorder_mock.async_add_executor_job(list_statistic_ids, hass)
    }
    assert ids[ENERGY]["source"] == "pev_portal"
    assert ids[ENERGY]["statistics_unit_of_measurement"] == "kWh"
    assert ids[ENERGY]["name"] == "Garage EV charging energy"
    assert ids[COST]["statistics_unit_of_measurement"] == "EUR"
    assert ids[COST]["has_sum"]

    stats = await recorder_mock.async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2026, 11, 22, tzinfo=UTC),
        None,
        {ENERGY, COST},
        "hour",
        None,
        {"sum", "state"},
    )
    energy, cost = stats[ENERGY], stats[COST]
    assert [datetime.fromtimestamp(r["start"], UTC).hour for r in energy] == [10, 11]
    total = first.energy_kwh + second.energy_kwh
    assert energy[-1]["sum"] == pytest.approx(total, abs=1e-6)
    assert energy[0]["sum"] == pytest.approx(energy[0]["state"])
    assert energy[1]["state"] == pytest.approx(total - energy[0]["state"], abs=1e-6)
    assert cost[-1]["sum"] == pytest.approx(float(first.cost.total + second.cost.total), abs=0.02)


async def test_nothing_without_the_recorder(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Without the recorder a session ends as always."""
    freezer.move_to(START)
    coordinator = await setup(hass, make_entry())
    await plug(hass, True)
    await advance(hass, freezer, 10 * 60)
    await plug(hass, False)
    assert "recorder" not in hass.config.components
    assert coordinator.chargers["charger1"].last_summary is not None


async def test_energy_dashboard_offers_one_statistic_per_charger(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    at_start: None,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The Energy dashboard's device picker offers one energy statistic per charger, valid.

    The picker lists ``recorder/list_statistic_ids`` of type ``sum`` in the energy unit class;
    the per-session "Session energy" sensor is not among them (no state class), so a charger
    cannot be counted twice. Where an upgrader had chosen that sensor, ``energy/validate``
    says so.
    """
    await setup(hass, make_entry())
    assert await async_setup_component(hass, "energy", {})
    await plug(hass, True)
    await advance(hass, freezer, 30 * 60)
    await plug(hass, False)
    await async_wait_recording_done(hass)
    assert hass.states.get("sensor.garage_session_energy") is not None

    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "recorder/list_statistic_ids", "statistic_type": "sum"})
    reply = await client.receive_json()
    assert reply["success"], reply
    offered = sorted(s["statistic_id"] for s in reply["result"] if s["unit_class"] == "energy")
    assert offered == [ENERGY]

    async def validate(stat: str) -> list[dict[str, object]]:
        await client.send_json_auto_id(
            {"type": "energy/save_prefs", "device_consumption": [{"stat_consumption": stat}]}
        )
        assert (await client.receive_json())["success"]
        await client.send_json_auto_id({"type": "energy/validate"})
        result = (await client.receive_json())["result"]
        issues: list[dict[str, object]] = result["device_consumption"][0]
        return issues

    assert await validate(ENERGY) == []
    old = await validate("sensor.garage_session_energy")
    assert {i["type"] for i in old} >= {"entity_unexpected_state_class"}
