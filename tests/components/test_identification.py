"""Identification that cannot bill the wrong party, and the session's edges from the charger's
own transaction registers (issue 19), on an entity-mapped charger.

The charge point is the fake of test_entity_charger (``hass.states.async_set``). Its ID-tag
sensor keeps the last card, as lbbrhzn/ocpp's charger-level ``Id tag`` does; Home Assistant's
``last_changed`` of that sensor is what tells a fresh ID from a stale one.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.pev_portal.core.session import VehicleSource

from .common import setup, state
from .conftest import HOME_CAR, make_entry
from .test_entity_charger import (
    CP,
    DRIVEWAY,
    ENERGY_ATTRS,
    SECOND_HOME_CAR,
    START,
    ChargePoint,
    run,
)

VISITOR_CARD = "RFID-0042"
# No default vehicle: two home cars (the default vehicle would identify any plug-in).
VEHICLES = [HOME_CAR, SECOND_HOME_CAR]


@pytest.fixture
def cp(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> ChargePoint:
    """The driveway charge point, installed at a fixed time."""
    freezer.move_to(START)
    point = ChargePoint(hass, "cp", "sensor.meter_energy")
    point.install()
    return point


def _events(hass: HomeAssistant, name: str) -> list[Event]:
    found: list[Event] = []
    hass.bus.async_listen(f"pev_portal_{name}", found.append)
    return found


async def _home_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """The household's car with its card: plugged in, charged 10 minutes, unplugged."""
    await cp.status("Preparing")
    await cp.id_tag(HOME_CAR["pev_id"])
    cp.set_power(7200)
    await cp.status("Charging")
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "home"
    await run(hass, freezer, 10, [cp])
    cp.set_power(0)
    await cp.status("Available")


async def test_visitor_after_home_session_is_billed_as_guest(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """The ID-tag sensor still shows the household's card half an hour later: the visitor who
    plugs in is not identified by it (a guest until its own card arrives), then its own card
    identifies it; the visitor's session is billed as a guest's."""
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=VEHICLES))
    ended = _events(hass, "session_ended")
    await _home_session(hass, freezer, cp)
    await run(hass, freezer, 30, [cp])

    await cp.status("Preparing")  # the stale card is still shown
    assert state(hass, "sensor.cp_id_tag") == HOME_CAR["pev_id"]
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert (session.pev_id, session.vehicle_source.value) == (None, "unknown")
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "guest_premise_pays"

    await cp.id_tag(VISITOR_CARD)
    cp.set_power(7200)
    await cp.status("Charging")
    assert session.pev_id == VISITOR_CARD
    await run(hass, freezer, 10, [cp])
    await cp.status("Available")
    home, visitor = (e.data for e in ended)
    assert (home["outcome"], home["program_rate"]) == ("home", True)
    assert visitor["outcome"] == "guest_premise_pays"
    assert (visitor["billing_party"], visitor["program_rate"]) == ("premise_customer", False)
    assert float(visitor["cost"]) == pytest.approx(1.2 * 0.40)


async def test_stale_id_never_binds_even_without_a_card(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A visitor without a card (a charge started remotely): the stale card never names the
    session, to its end; a restored, unchanged ID (a restart) does not either."""
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=VEHICLES))
    ended = _events(hass, "session_ended")
    await _home_session(hass, freezer, cp)
    await run(hass, freezer, 30, [cp])
    cp.set_power(7200)
    await cp.status("Charging")
    # Home Assistant restarts: the sensor is restored with the same value (a new last_changed).
    await cp.id_tag("unavailable")
    await cp.id_tag(HOME_CAR["pev_id"])
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert session.pev_id is None
    assert session.reidentified == []
    await run(hass, freezer, 5, [cp])
    await cp.status("Available")
    assert ended[1].data["pev_id"] is None
    assert ended[1].data["outcome"] == "guest_premise_pays"


async def test_a_later_different_id_reidentifies_and_reprices(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A card identified the session; another card before the end re-identifies it: re-bound,
    its stored intervals re-attributed and re-priced from the first, the change in the
    session's history and on the bus."""
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=VEHICLES))
    reidentified = _events(hass, "session_reidentified")
    ended = _events(hass, "session_ended")
    await cp.status("Preparing")
    await cp.id_tag(HOME_CAR["pev_id"])
    cp.set_power(7200)
    await cp.status("Charging")
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert session.reidentified == []  # the first ID after the plug-in identifies it
    await run(hass, freezer, 20, [cp])  # one interval closed and stored, priced at home
    session_id = session.session_id
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert [i.pev_id for i in stored] == [HOME_CAR["pev_id"]]
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_cost")) == pytest.approx(2.4 * 0.20)

    await cp.id_tag(VISITOR_CARD)
    assert session.pev_id == VISITOR_CARD
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "guest_premise_pays"
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_cost")) == pytest.approx(2.4 * 0.40)
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert [i.pev_id for i in stored] == [VISITOR_CARD]
    assert [(r["from_pev_id"], r["to_pev_id"], r["from_source"]) for r in session.reidentified] == [
        (HOME_CAR["pev_id"], VISITOR_CARD, "charger")
    ]
    assert session.reidentified[0]["previous_outcome"] == "home"
    [event] = reidentified
    assert event.data["session_id"] == session_id
    assert (event.data["pev_id"], event.data["previous_pev_id"]) == (
        VISITOR_CARD,
        HOME_CAR["pev_id"],
    )
    row = await coordinator.store.call(lambda s: s.session(session_id))
    assert row is not None
    assert row.data["reidentified"][0]["to_pev_id"] == VISITOR_CARD

    await run(hass, freezer, 10, [cp])
    await cp.status("Available")
    summary = ended[0].data
    assert (summary["pev_id"], summary["outcome"]) == (VISITOR_CARD, "guest_premise_pays")
    assert float(summary["cost"]) == pytest.approx(3.6 * 0.40)


async def test_a_user_assignment_is_not_overridden(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """The user named the vehicle (bind_vehicle): a card read later does not undo it."""
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=VEHICLES))
    cp.set_power(7200)
    await cp.status("Charging")
    runtime = coordinator.chargers["charger1"]
    coordinator.assign_vehicle(runtime, SECOND_HOME_CAR["pev_id"], VehicleSource.USER)
    await hass.async_block_till_done()
    await cp.id_tag(VISITOR_CARD)
    assert runtime.session is not None
    assert runtime.session.pev_id == SECOND_HOME_CAR["pev_id"]


# -- the session's edges from the charger's transaction registers --------------------------


def _with_transaction(config: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        **config,
        "meter_start_entity": "sensor.cp_meter_start",
        "session_energy_entity": "sensor.cp_session_energy",
        "transaction_entity": "sensor.cp_transaction_id",
        **changes,
    }


class Transactions:
    """The charge point's transaction sensors, as lbbrhzn/ocpp shows them (kWh, epoch)."""

    def __init__(self, hass: HomeAssistant, cp: ChargePoint) -> None:
        self.hass, self.cp = hass, cp
        self.start_wh = 0.0
        hass.states.async_set("sensor.cp_transaction_id", "0")

    def _set(self, entity: str, kwh: float) -> None:
        self.hass.states.async_set(
            entity, f"{kwh:.3f}", {**ENERGY_ATTRS, "unit_of_measurement": "kWh"}
        )

    async def start(self, epoch: float) -> None:
        self.start_wh = self.cp.register_wh
        self.hass.states.async_set("sensor.cp_transaction_id", str(int(epoch)))
        self._set("sensor.cp_meter_start", self.start_wh / 1000)
        self._set("sensor.cp_session_energy", 0.0)
        await self.hass.async_block_till_done()

    async def stop(self, stop_wh: float) -> None:
        self.hass.states.async_set("sensor.cp_transaction_id", "0")
        self._set("sensor.cp_session_energy", (stop_wh - self.start_wh) / 1000)
        await self.hass.async_block_till_done()


async def test_edges_closed_by_the_transaction_on_the_register(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """Metering on the charger's register, which missed the first and last part of the
    transaction: the session's energy is meterStop - meterStart, and nothing of the
    register's stale value before the plug-in counts."""
    config = _with_transaction(CP, meter_source="charger")
    tx = Transactions(hass, cp)
    coordinator = await setup(hass, make_entry(charger=config, vehicles=VEHICLES))
    ended = _events(hass, "session_ended")
    # The previous transaction's tail (500 Wh) never reached the register sensor.
    real_register_wh = cp.register_wh + 500
    await cp.status("Preparing")
    cp.register_wh = real_register_wh  # the charge point's own register, not yet published
    await tx.start(dt_util.utcnow().timestamp())
    cp.set_power(7200)
    await cp.status("Charging")
    await run(hass, freezer, 10, [cp])  # 1.2 kWh, published each minute
    freezer.tick(timedelta(seconds=30))  # 60 Wh more, never sampled
    await tx.stop(cp.register_wh + 60)
    cp.set_power(0)
    await cp.status("Available")
    summary = ended[0].data
    assert summary["energy_kwh"] == pytest.approx(1.26, abs=1e-6)
    last = coordinator.chargers["charger1"].last_session
    assert last is not None
    assert last.energy_check is not None
    assert last.energy_check["flagged"] is False
    assert last.energy_check["transaction_kwh"] == pytest.approx(1.26, abs=1e-6)


async def test_meter_and_transaction_disagree_is_flagged(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    cp: ChargePoint,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A separate meter counts 10 % more than the charger's transaction: an anomaly on the
    session and a warning; within 1 Wh + 0.5 % nothing is flagged."""
    tx = Transactions(hass, cp)
    coordinator = await setup(hass, make_entry(charger=_with_transaction(CP), vehicles=VEHICLES))
    await cp.status("Preparing")
    await tx.start(dt_util.utcnow().timestamp())
    cp.set_power(6000)
    await cp.status("Charging")
    await run(hass, freezer, 10, [cp], register_share=10 / 11)
    with caplog.at_level(logging.WARNING):
        await tx.stop(cp.register_wh)
        cp.set_power(0)
        await cp.status("Available")
    last = coordinator.chargers["charger1"].last_session
    assert last is not None
    assert last.energy_check is not None
    assert last.energy_check["flagged"] is True
    assert last.energy_check["difference_kwh"] == pytest.approx(1.0 - 10 / 11, abs=1e-3)
    assert "by the charger's transactions" in caplog.text
    session_id = last.session_id
    anomalies = await coordinator.store.call(lambda s: s.anomalies(session_id))
    assert [a["kind"] for a in anomalies] == ["transaction_mismatch"]


async def test_transaction_sensors_unreadable_change_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """Transaction sensors that are unknown or not numbers: the meter alone counts."""
    config = _with_transaction(CP, meter_source="charger")
    coordinator = await setup(hass, make_entry(charger=config, vehicles=VEHICLES))
    hass.states.async_set("sensor.cp_transaction_id", "not-a-number")
    hass.states.async_set("sensor.cp_meter_start", "unknown", ENERGY_ATTRS)
    hass.states.async_set("sensor.cp_session_energy", "unavailable", ENERGY_ATTRS)
    ended = _events(hass, "session_ended")
    cp.set_power(7200)
    await cp.status("Charging")
    await run(hass, freezer, 10, [cp])
    await cp.status("Available")
    assert ended[0].data["energy_kwh"] == pytest.approx(1.2, abs=1e-6)
    last = coordinator.chargers["charger1"].last_session
    assert last is not None
    assert (last.transactions, last.energy_check) == ([], None)
