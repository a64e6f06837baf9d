"""Sessions through a charger mapped from another integration's entities (OCPP-like).

The charge point is faked with ``hass.states.async_set``: an OCPP status sensor, a charge switch,
a current-limit number, power in W, the charger's own energy register in Wh, an ID-tag sensor,
and a separate end-use meter in Wh. Commands to the charge point are recorded.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.select import DATA_COMPONENT as SELECT_COMPONENT
from homeassistant.components.switch import DATA_COMPONENT as SWITCH_COMPONENT
from homeassistant.const import (
    ATTR_ENTITY_ID,
    EVENT_HOMEASSISTANT_STARTED,
    STATE_UNAVAILABLE,
)
from homeassistant.core import CoreState, Event, HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.metering import Quality

from .common import attrs, setup, state
from .conftest import GUEST_CAR, HOME_CAR, make_entry

START = "2026-11-22T10:00:00+00:00"
DRIVEWAY = "driveway"
CARPORT = "carport"
SECOND_HOME_CAR = {
    "pev_id": "PEV-HOME-2",
    "name": "Second car",
    "relation": "home",
    "tags": [],
    "default_vehicle": False,
}


def charger_config(name: str, prefix: str, meter: str) -> dict[str, Any]:
    """Charger subentry data mapping an OCPP-like charge point's entities."""
    return {
        "charger_name": name,
        "charger_type": "entities",
        "status_entity": f"sensor.{prefix}_status",
        "switch_entity": f"switch.{prefix}_charge",
        "current_entity": f"number.{prefix}_current",
        "power_entity": f"sensor.{prefix}_power",
        "energy_entity": f"sensor.{prefix}_energy",
        "vehicle_id_entity": f"sensor.{prefix}_id_tag",
        "meter_source": "sensor",
        "meter_entity": meter,
    }


CP = charger_config("Driveway", "cp", "sensor.meter_energy")
CP2 = charger_config("Carport", "cp2", "sensor.meter2_energy")

ENERGY_ATTRS = {"unit_of_measurement": "Wh", "device_class": "energy"}


class ChargePoint:
    """The fake charge point and its meter, as the other integrations would show them."""

    def __init__(self, hass: HomeAssistant, prefix: str, meter: str) -> None:
        self.hass = hass
        self.prefix = prefix
        self.meter_entity = meter
        self.meter_wh = 1_200_000.0
        self.register_wh = 50_000.0
        self.power_w = 0.0

    def install(self) -> None:
        """The states before PEV Portal is set up: nothing plugged in."""
        p, states = self.prefix, self.hass.states
        states.async_set(f"sensor.{p}_status", "Available")
        states.async_set(f"switch.{p}_charge", "on")
        states.async_set(f"number.{p}_current", "16", {"min": 6, "max": 32, "step": 1})
        states.async_set(f"sensor.{p}_id_tag", "unknown")
        self.set_power(0)
        self._publish_register()
        self._publish_meter()

    async def status(self, value: str) -> None:
        self.hass.states.async_set(f"sensor.{self.prefix}_status", value)
        await self.hass.async_block_till_done()

    async def id_tag(self, value: str) -> None:
        self.hass.states.async_set(f"sensor.{self.prefix}_id_tag", value)
        await self.hass.async_block_till_done()

    async def switch(self, on: bool) -> None:
        self.hass.states.async_set(f"switch.{self.prefix}_charge", "on" if on else "off")
        await self.hass.async_block_till_done()

    def set_power(self, watts: float) -> None:
        self.power_w = watts
        self.hass.states.async_set(
            f"sensor.{self.prefix}_power", str(watts), {"unit_of_measurement": "W"}
        )

    async def power(self, watts: float) -> None:
        self.set_power(watts)
        await self.hass.async_block_till_done()

    def _publish_register(self) -> None:
        self.hass.states.async_set(
            f"sensor.{self.prefix}_energy", f"{self.register_wh:.1f}", ENERGY_ATTRS
        )

    def _publish_meter(self) -> None:
        self.hass.states.async_set(self.meter_entity, f"{self.meter_wh:.1f}", ENERGY_ATTRS)

    async def meter(self, wh: float) -> None:
        """Publish an arbitrary meter register value."""
        self.meter_wh = wh
        self._publish_meter()
        await self.hass.async_block_till_done()

    def deliver(self, seconds: float, register_share: float) -> None:
        """Energy at the present power: the meter counts it all, the charger a share."""
        wh = self.power_w * seconds / 3600.0
        self.meter_wh += wh
        self.register_wh += wh * register_share
        self._publish_meter()
        self._publish_register()


async def run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    minutes: int,
    points: list[ChargePoint],
    register_share: float = 1.0,
) -> None:
    """Let time pass minute by minute while the charge points deliver at their power."""
    for _ in range(minutes):
        freezer.tick(timedelta(minutes=1))
        for point in points:
            point.deliver(60, register_share)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


def record_switch_calls(hass: HomeAssistant) -> list[ServiceCall]:
    """Record switch.turn_on/off calls; PEV Portal's own switches still work through them."""
    calls: list[ServiceCall] = []
    component = hass.data[SWITCH_COMPONENT]

    async def _handle(call: ServiceCall) -> None:
        calls.append(call)
        ids = call.data[ATTR_ENTITY_ID]
        for entity_id in [ids] if isinstance(ids, str) else ids:
            if (entity := component.get_entity(entity_id)) is not None:
                if call.service == "turn_on":
                    await entity.async_turn_on()
                else:
                    await entity.async_turn_off()

    for service in ("turn_on", "turn_off"):
        hass.services.async_register("switch", service, _handle)
    return calls


@pytest.fixture
def cp(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> ChargePoint:
    """The driveway charge point, installed at a fixed time."""
    freezer.move_to(START)
    point = ChargePoint(hass, "cp", "sensor.meter_energy")
    point.install()
    return point


def _session_id(coordinator: PevPortalCoordinator, charger: str = "charger1") -> str:
    session = coordinator.chargers[charger].session
    assert session is not None
    return session.session_id


async def test_whole_session_home_vehicle(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """Available -> Preparing -> Charging -> pause -> charge now -> SuspendedEV -> Available."""
    coordinator = await setup(hass, make_entry(charger=CP))
    switch_calls = record_switch_calls(hass)
    number_calls = async_mock_service(hass, "number", "set_value")
    ended: list[Event] = []
    hass.bus.async_listen("pev_portal_session_ended", ended.append)

    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "unplugged"
    assert state(hass, f"binary_sensor.{DRIVEWAY}_plugged_in") == "off"
    assert state(hass, f"binary_sensor.{DRIVEWAY}_charging") == "off"
    assert state(hass, f"switch.{DRIVEWAY}_charging_enabled") == "on"

    # The charge point reports the vehicle's ID, then the plug.
    await cp.id_tag("PEV-DEMO-0001")
    await cp.status("Preparing")
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "waiting"
    assert state(hass, f"binary_sensor.{DRIVEWAY}_plugged_in") == "on"
    assert state(hass, f"binary_sensor.{DRIVEWAY}_charging") == "off"
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "home"
    assert state(hass, f"sensor.{DRIVEWAY}_billing_party") == "premise_customer"
    assert state(hass, f"select.{DRIVEWAY}_vehicle") == "Family car"
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_energy")) == 0.0
    assert state(hass, "sensor.family_car_charging_state") == "waiting"
    session_id = _session_id(coordinator)

    cp.set_power(7200)
    await cp.status("Charging")
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "charging"
    assert state(hass, f"binary_sensor.{DRIVEWAY}_charging") == "on"
    assert float(state(hass, f"sensor.{DRIVEWAY}_charging_power")) == 7.2
    assert state(hass, "sensor.family_car_charging_state") == "charging"
    assert attrs(hass, "sensor.family_car_charging_state")["charger"] == "Driveway"

    # 20 minutes at 7.2 kW: 2.4 kWh on the meter; the charger's own register counts 2 % less.
    await run(hass, freezer, 20, [cp], register_share=0.98)
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_energy")) == pytest.approx(2.4)
    energy_attrs = attrs(hass, f"sensor.{DRIVEWAY}_session_energy")
    assert energy_attrs["charger_reported_kwh"] == pytest.approx(2.352)
    assert energy_attrs["difference_kwh"] == pytest.approx(0.048)
    assert energy_attrs["interval_count"] == 1
    assert energy_attrs["meter_id"] == "sensor.meter_energy"
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_cost")) == pytest.approx(0.48)
    assert float(state(hass, f"sensor.{DRIVEWAY}_current_price")) == pytest.approx(0.20)
    assert attrs(hass, f"sensor.{DRIVEWAY}_session_cost")["program_rate"] is True

    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert len(stored) == 1
    first = stored[0]
    assert first.start.isoformat() == "2026-11-22T10:00:00+00:00"
    assert first.end.isoformat() == "2026-11-22T10:15:00+00:00"
    assert first.kwh == pytest.approx(1.8)
    assert first.quality is Quality.OK
    assert first.pev_id == "PEV-DEMO-0001"
    assert first.premise_id == "PREMISE-1"
    assert first.meter_id == "sensor.meter_energy"
    assert first.register_end == pytest.approx(1201.8)

    # Pausing through the "Charging enabled" switch turns the charge point's switch off.
    await hass.services.async_call(
        "switch",
        "turn_off",
        {ATTR_ENTITY_ID: f"switch.{DRIVEWAY}_charging_enabled"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert [(c.service, c.data[ATTR_ENTITY_ID]) for c in switch_calls[1:]] == [
        ("turn_off", "switch.cp_charge")
    ]
    assert state(hass, f"switch.{DRIVEWAY}_charging_enabled") == "off"
    await cp.switch(False)
    cp.set_power(0)
    await cp.status("SuspendedEVSE")
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "paused"
    assert state(hass, f"binary_sensor.{DRIVEWAY}_charging") == "off"
    await run(hass, freezer, 5, [cp])
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_energy")) == pytest.approx(2.4)

    # Charge now: switch on and the current limit to the number's maximum.
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: f"button.{DRIVEWAY}_charge_now"}, blocking=True
    )
    await hass.async_block_till_done()
    assert switch_calls[-1].service == "turn_on"
    assert switch_calls[-1].data[ATTR_ENTITY_ID] == "switch.cp_charge"
    assert len(number_calls) == 1
    assert number_calls[0].data == {ATTR_ENTITY_ID: "number.cp_current", "value": 32.0}
    assert state(hass, f"switch.{DRIVEWAY}_charging_enabled") == "on"
    await cp.switch(True)
    cp.set_power(7200)
    await cp.status("Charging")
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "charging"

    # Until 10:35; then the car is full (SuspendedEV) and is unplugged.
    await run(hass, freezer, 10, [cp], register_share=0.98)
    cp.set_power(0)
    await cp.status("SuspendedEV")
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "waiting"
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_energy")) == pytest.approx(3.6)
    await run(hass, freezer, 1, [cp])
    await cp.id_tag("unknown")
    await cp.status("Available")

    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "unplugged"
    assert state(hass, f"binary_sensor.{DRIVEWAY}_plugged_in") == "off"
    assert state(hass, "sensor.family_car_charging_state") == "unplugged"
    # The last session stays on show.
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_energy")) == pytest.approx(3.6)
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_cost")) == pytest.approx(0.72)
    assert len(ended) == 1
    summary = ended[0].data
    assert summary["session_id"] == session_id
    assert summary["energy_kwh"] == pytest.approx(3.6)
    assert summary["cost"] == "0.7200"
    assert summary["outcome"] == "home"
    assert summary["data_quality"] == "OK"

    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    # 10:00-10:15, 10:15-10:30, 10:30-10:36 (partial, closed at unplug).
    assert [(i.start.minute, i.end.minute) for i in stored] == [(0, 15), (15, 30), (30, 36)]
    assert sum(i.kwh for i in stored) == pytest.approx(3.6)
    assert all(i.quality is Quality.OK and i.pev_id == "PEV-DEMO-0001" for i in stored)
    row = await coordinator.store.call(lambda s: s.session(session_id))
    assert row is not None
    assert row.data["ended_at"] is not None
    assert row.data["state"] == "completed"
    assert row.summary is not None
    assert row.summary["cost"] == "0.7200"
    assert await coordinator.store.call(lambda s: s.open_sessions()) == []


async def test_guest_id_tag_pays_default_price(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """An ID the premise does not know is a guest on the default price, billed to the premise."""
    await setup(hass, make_entry(charger=CP))
    await cp.id_tag("RFID-0042")
    cp.set_power(11000)
    await cp.status("Charging")
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "guest_premise_pays"
    assert state(hass, f"sensor.{DRIVEWAY}_billing_party") == "premise_customer"
    assert state(hass, f"select.{DRIVEWAY}_vehicle") == "auto"
    assert float(state(hass, f"sensor.{DRIVEWAY}_current_price")) == pytest.approx(0.40)

    await run(hass, freezer, 30, [cp])
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_energy")) == pytest.approx(5.5)
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_cost")) == pytest.approx(2.2)
    assert attrs(hass, f"sensor.{DRIVEWAY}_session_cost")["program_rate"] is False


async def test_id_tag_reported_after_plug_in(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """OCPP order: plug in (Preparing), then the ID tag arrives with the transaction."""
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=[HOME_CAR, SECOND_HOME_CAR]))
    await cp.status("Preparing")
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "guest_premise_pays"
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert session.vehicle_source.value == "unknown"

    await cp.id_tag("PEV-HOME-2")
    assert session.pev_id == "PEV-HOME-2"
    assert session.vehicle_source.value == "charger"
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "home"
    assert state(hass, f"select.{DRIVEWAY}_vehicle") == "Second car"


async def test_nfc_tag_before_plug_in(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A tag scanned before plug-in identifies the vehicle when the charger reports none."""
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=[HOME_CAR, GUEST_CAR]))
    hass.bus.async_fire("tag_scanned", {"tag_id": "tag-visitor"})
    await hass.async_block_till_done()
    await run(hass, freezer, 2, [cp])
    await cp.status("Preparing")

    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert session.pev_id == "PEV-GUEST-1"
    assert session.vehicle_source.value == "tag"
    assert state(hass, f"select.{DRIVEWAY}_vehicle") == "Visitor"
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "guest_premise_pays"
    assert state(hass, "sensor.visitor_charging_state") == "waiting"


async def test_nfc_tag_expires(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A tag scanned more than five minutes before plug-in no longer counts."""
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=[HOME_CAR, GUEST_CAR]))
    hass.bus.async_fire("tag_scanned", {"tag_id": "tag-visitor"})
    await hass.async_block_till_done()
    await run(hass, freezer, 6, [cp])
    await cp.status("Preparing")
    session = coordinator.chargers["charger1"].session
    assert session is not None
    # The only home vehicle is the default.
    assert (session.pev_id, session.vehicle_source.value) == ("PEV-DEMO-0001", "default")


async def test_vehicle_select_before_plug_in(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """The vehicle chosen in the select before plug-in is the session's vehicle."""
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=[HOME_CAR, GUEST_CAR]))
    await hass.services.async_call(
        "select",
        "select_option",
        {ATTR_ENTITY_ID: f"select.{DRIVEWAY}_vehicle", "option": "Visitor"},
        blocking=True,
    )
    assert state(hass, f"select.{DRIVEWAY}_vehicle") == "Visitor"
    await cp.status("Preparing")
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert (session.pev_id, session.vehicle_source.value) == ("PEV-GUEST-1", "select")
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "guest_premise_pays"

    # The preselection is used once: the next plug-in starts from scratch.
    await cp.status("Available")
    assert state(hass, f"select.{DRIVEWAY}_vehicle") == "auto"


async def test_vehicle_select_unknown_option(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """The select refuses an option that is no vehicle."""
    await setup(hass, make_entry(charger=CP))
    entity = hass.data[SELECT_COMPONENT].get_entity(f"select.{DRIVEWAY}_vehicle")
    assert entity is not None
    with pytest.raises(ServiceValidationError) as err:
        await entity.async_select_option("Nobody")
    assert err.value.translation_key == "unknown_vehicle"


async def test_default_vehicle(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """Without any identification the vehicle marked default is assumed."""
    default_guest = {**GUEST_CAR, "default_vehicle": True}
    coordinator = await setup(
        hass, make_entry(charger=CP, vehicles=[HOME_CAR, SECOND_HOME_CAR, default_guest])
    )
    await cp.status("Preparing")
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert (session.pev_id, session.vehicle_source.value) == ("PEV-GUEST-1", "default")
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "guest_premise_pays"


async def test_unknown_vehicle_bound_afterwards(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """An unidentified session is a guest until bind_vehicle names it; intervals follow."""
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=[HOME_CAR, SECOND_HOME_CAR]))
    cp.set_power(7200)
    await cp.status("Charging")
    session_id = _session_id(coordinator)
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "guest_premise_pays"
    assert state(hass, f"select.{DRIVEWAY}_vehicle") == "auto"

    await run(hass, freezer, 20, [cp])
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_cost")) == pytest.approx(2.4 * 0.40)
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert [i.pev_id for i in stored] == [None]

    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "charger1"), "premise1")
    assert device is not None
    bound: list[Event] = []
    hass.bus.async_listen("pev_portal_session_bound", bound.append)
    await hass.services.async_call(
        DOMAIN,
        "bind_vehicle",
        {"device_id": device.id, "pev_id": "PEV-DEMO-0001"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "home"
    assert state(hass, f"select.{DRIVEWAY}_vehicle") == "Family car"
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_cost")) == pytest.approx(2.4 * 0.20)
    assert bound[0].data["vehicle_source"] == "user"
    assert bound[0].data["pev_id"] == "PEV-DEMO-0001"

    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert [i.pev_id for i in stored] == ["PEV-DEMO-0001"]
    row = await coordinator.store.call(lambda s: s.session(session_id))
    assert row is not None
    assert row.data["pev_id"] == "PEV-DEMO-0001"

    # Intervals closed later carry the vehicle too; so does the whole session at unplug.
    await run(hass, freezer, 15, [cp])
    await cp.status("Available")
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert len(stored) == 3
    assert {i.pev_id for i in stored} == {"PEV-DEMO-0001"}

    # Bound by the vehicle's name works as well; by now no session is active.
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "bind_vehicle",
            {"device_id": device.id, "pev_id": "Family car"},
            blocking=True,
        )
    assert err.value.translation_key == "no_session"


async def test_bind_vehicle_by_name(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """bind_vehicle accepts a vehicle's name instead of its PEV ID."""
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=[HOME_CAR, SECOND_HOME_CAR]))
    await cp.status("Preparing")
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "charger1"), "premise1")
    assert device is not None
    await hass.services.async_call(
        DOMAIN, "bind_vehicle", {"device_id": device.id, "pev_id": "Second car"}, blocking=True
    )
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert session.pev_id == "PEV-HOME-2"


async def test_nfc_tag_during_unknown_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A tag scanned while an unidentified vehicle charges assigns it."""
    coordinator = await setup(hass, make_entry(charger=CP, vehicles=[HOME_CAR, SECOND_HOME_CAR]))
    await cp.status("Preparing")
    hass.bus.async_fire("tag_scanned", {"tag_id": "tag-family"})
    await hass.async_block_till_done()
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert (session.pev_id, session.vehicle_source.value) == ("PEV-DEMO-0001", "tag")
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "home"


async def test_meter_going_backwards(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A meter register going backwards is flagged; energy never goes negative."""
    coordinator = await setup(hass, make_entry(charger=CP))
    await cp.id_tag("PEV-DEMO-0001")
    cp.set_power(7200)
    await cp.status("Charging")
    session_id = _session_id(coordinator)

    await run(hass, freezer, 5, [cp])
    before = float(state(hass, f"sensor.{DRIVEWAY}_session_energy"))
    assert before == pytest.approx(0.6)

    # The meter is replaced (or reset): its register drops to 10 kWh.
    freezer.tick(timedelta(minutes=1))
    cp.meter_wh = 10_000.0
    await cp.meter(cp.meter_wh)
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_energy")) == pytest.approx(before)
    anomalies = await coordinator.store.call(lambda s: s.anomalies(session_id))
    assert [a["kind"] for a in anomalies] == ["backwards"]

    # Metering continues from the new register.
    await run(hass, freezer, 9, [cp])
    energy = float(state(hass, f"sensor.{DRIVEWAY}_session_energy"))
    assert energy == pytest.approx(before + 1.08)
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert len(stored) == 1
    assert stored[0].quality is not Quality.OK
    assert stored[0].meter_epoch == 1
    assert 0 <= stored[0].kwh == pytest.approx(energy)
    assert attrs(hass, f"sensor.{DRIVEWAY}_session_cost")["data_quality"] == "ESTIMATED"
    assert all(i.kwh >= 0 for i in stored)


async def test_two_chargers_at_once(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Two chargers meter two vehicles at the same time, each on its own terms."""
    freezer.move_to(START)
    one = ChargePoint(hass, "cp", "sensor.meter_energy")
    two = ChargePoint(hass, "cp2", "sensor.meter2_energy")
    two.meter_wh = 300_000.0
    one.install()
    two.install()
    coordinator = await setup(
        hass, make_entry(charger=CP, vehicles=[HOME_CAR, GUEST_CAR], extra_chargers=[CP2])
    )
    assert set(coordinator.chargers) == {"charger1", "charger2"}

    await one.id_tag("PEV-DEMO-0001")
    await two.id_tag("PEV-GUEST-1")
    one.set_power(11000)
    two.set_power(3600)
    await one.status("Charging")
    await two.status("Charging")
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "home"
    assert state(hass, f"sensor.{CARPORT}_binding") == "guest_premise_pays"
    assert attrs(hass, "sensor.family_car_charging_state")["charger"] == "Driveway"
    assert attrs(hass, "sensor.visitor_charging_state")["charger"] == "Carport"

    await run(hass, freezer, 30, [one, two])
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_energy")) == pytest.approx(5.5)
    assert float(state(hass, f"sensor.{CARPORT}_session_energy")) == pytest.approx(1.8)
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_cost")) == pytest.approx(1.1)
    assert float(state(hass, f"sensor.{CARPORT}_session_cost")) == pytest.approx(0.72)
    assert attrs(hass, f"sensor.{CARPORT}_session_energy")["meter_id"] == "sensor.meter2_energy"

    ids = {_session_id(coordinator, c) for c in ("charger1", "charger2")}
    assert len(ids) == 2
    await one.status("Available")
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "unplugged"
    assert state(hass, f"sensor.{CARPORT}_session_state") == "charging"
    await two.status("Available")
    for charger, kwh, pev in (("charger1", 5.5, "PEV-DEMO-0001"), ("charger2", 1.8, "PEV-GUEST-1")):
        last = coordinator.chargers[charger].last_session
        assert last is not None
        assert last.session_id in ids
        stored = await coordinator.store.call(lambda s, i=last.session_id: s.intervals(i))
        assert sum(i.kwh for i in stored) == pytest.approx(kwh)
        assert {i.pev_id for i in stored} == {pev}


# -- availability ---------------------------------------------------------------------------

# The entities that mirror the charger's live state or command it: unavailable with it.
FOLLOWING = (
    f"sensor.{DRIVEWAY}_session_state",
    f"sensor.{DRIVEWAY}_charging_power",
    f"binary_sensor.{DRIVEWAY}_plugged_in",
    f"binary_sensor.{DRIVEWAY}_charging",
    f"switch.{DRIVEWAY}_charging_enabled",
    f"button.{DRIVEWAY}_charge_now",
    "sensor.family_car_charging_state",
    "button.family_car_charge_now",
)
# The entities computed from the premise's own ledger, tariff and plan: always available.
LEDGER = (
    f"sensor.{DRIVEWAY}_session_energy",
    f"sensor.{DRIVEWAY}_session_cost",
    f"sensor.{DRIVEWAY}_binding",
    f"sensor.{DRIVEWAY}_billing_party",
    f"sensor.{DRIVEWAY}_current_price",
    f"sensor.{DRIVEWAY}_charging_plan",
    f"switch.{DRIVEWAY}_opt_out_of_event",
    f"select.{DRIVEWAY}_vehicle",
    "sensor.family_car_charging_plan",
    "switch.family_car_opt_out_of_event",
)


def _assert_following(hass: HomeAssistant, *, unavailable: bool) -> None:
    """The charger's live entities are unavailable (or not); the ledger's never are."""
    for entity_id in FOLLOWING:
        assert (state(hass, entity_id) == STATE_UNAVAILABLE) is unavailable, entity_id
    for entity_id in LEDGER:
        assert state(hass, entity_id) != STATE_UNAVAILABLE, entity_id


UNAVAILABLE_LOG = "Charger Driveway is unavailable"
BACK_LOG = "Charger Driveway is available again"


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "custom_components.pev_portal.sessions" and text in r.getMessage()
    ]


async def test_entities_follow_unavailable_charger(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    cp: ChargePoint,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The live entities follow the status entity; the ledger's stay; logged once each way."""
    caplog.set_level(logging.INFO, logger="custom_components.pev_portal")
    coordinator = await setup(hass, make_entry(charger=CP))
    await cp.id_tag("PEV-DEMO-0001")
    cp.set_power(7200)
    await cp.status("Charging")
    await run(hass, freezer, 5, [cp])
    _assert_following(hass, unavailable=False)
    session_id = _session_id(coordinator)
    energy = float(state(hass, f"sensor.{DRIVEWAY}_session_energy"))
    assert energy == pytest.approx(0.6)
    assert not _logged(caplog, UNAVAILABLE_LOG)

    # The charge point drops off the network: its integration marks the status unavailable.
    await cp.status(STATE_UNAVAILABLE)
    _assert_following(hass, unavailable=True)
    records = _logged(caplog, UNAVAILABLE_LOG)
    assert len(records) == 1
    assert records[0].levelno == logging.INFO
    assert "sensor.cp_status is unavailable" in records[0].getMessage()

    # Meanwhile the session stays open and the meter keeps counting; nothing is logged again.
    await run(hass, freezer, 5, [cp])
    await cp.power(7000)
    await cp.status(STATE_UNAVAILABLE)
    assert _session_id(coordinator) == session_id
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_energy")) == pytest.approx(1.2)
    assert state(hass, f"sensor.{DRIVEWAY}_charging_power") == STATE_UNAVAILABLE
    assert len(_logged(caplog, UNAVAILABLE_LOG)) == 1
    assert not _logged(caplog, BACK_LOG)

    # It comes back: everything is available again, with the charger's state.
    await cp.status("Charging")
    _assert_following(hass, unavailable=False)
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "charging"
    assert float(state(hass, f"sensor.{DRIVEWAY}_charging_power")) == 7.0
    assert _session_id(coordinator) == session_id
    back = _logged(caplog, BACK_LOG)
    assert len(back) == 1
    assert back[0].levelno == logging.INFO
    await run(hass, freezer, 2, [cp])
    await cp.status("Charging")
    assert len(_logged(caplog, UNAVAILABLE_LOG)) == 1
    assert len(_logged(caplog, BACK_LOG)) == 1

    # A second outage is logged once more, and its end too.
    await cp.status(STATE_UNAVAILABLE)
    await cp.status("Charging")
    assert len(_logged(caplog, UNAVAILABLE_LOG)) == 2
    assert len(_logged(caplog, BACK_LOG)) == 2


async def test_missing_status_entity(
    hass: HomeAssistant, cp: ChargePoint, caplog: pytest.LogCaptureFixture
) -> None:
    """A status entity that disappears makes the live entities unavailable until it is back."""
    caplog.set_level(logging.INFO, logger="custom_components.pev_portal")
    await setup(hass, make_entry(charger=CP))
    await cp.status("Preparing")
    hass.states.async_remove("sensor.cp_status")
    await hass.async_block_till_done()
    _assert_following(hass, unavailable=True)
    records = _logged(caplog, UNAVAILABLE_LOG)
    assert len(records) == 1
    assert "sensor.cp_status does not exist" in records[0].getMessage()

    await cp.status("Preparing")
    assert state(hass, f"binary_sensor.{DRIVEWAY}_plugged_in") == "on"
    assert state(hass, f"button.{DRIVEWAY}_charge_now") != STATE_UNAVAILABLE
    assert len(_logged(caplog, BACK_LOG)) == 1


async def test_unavailable_at_start(
    hass: HomeAssistant, cp: ChargePoint, caplog: pytest.LogCaptureFixture
) -> None:
    """A charger already unavailable when the premise is set up is unavailable and logged."""
    caplog.set_level(logging.INFO, logger="custom_components.pev_portal")
    hass.states.async_set("sensor.cp_status", STATE_UNAVAILABLE)
    await setup(hass, make_entry(charger=CP))
    assert state(hass, f"binary_sensor.{DRIVEWAY}_plugged_in") == STATE_UNAVAILABLE
    assert state(hass, f"sensor.{DRIVEWAY}_session_energy") != STATE_UNAVAILABLE
    assert len(_logged(caplog, UNAVAILABLE_LOG)) == 1

    await cp.status("Available")
    assert state(hass, f"binary_sensor.{DRIVEWAY}_plugged_in") == "off"
    assert len(_logged(caplog, UNAVAILABLE_LOG)) == 1
    assert len(_logged(caplog, BACK_LOG)) == 1


@pytest.mark.parametrize("returns_before_start", [True, False])
async def test_unavailable_during_start_up(
    hass: HomeAssistant,
    cp: ChargePoint,
    caplog: pytest.LogCaptureFixture,
    returns_before_start: bool,
) -> None:
    """While Home Assistant starts, the charger's integration may not have loaded yet: its
    absence is logged only if it lasts until Home Assistant has started."""
    caplog.set_level(logging.INFO, logger="custom_components.pev_portal")
    hass.set_state(CoreState.not_running)
    hass.states.async_remove("sensor.cp_status")
    await setup(hass, make_entry(charger=CP))
    assert state(hass, f"binary_sensor.{DRIVEWAY}_plugged_in") == STATE_UNAVAILABLE
    if returns_before_start:
        await cp.status("Available")
        assert state(hass, f"binary_sensor.{DRIVEWAY}_plugged_in") == "off"
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert len(_logged(caplog, UNAVAILABLE_LOG)) == (0 if returns_before_start else 1)
    await cp.status("Available")
    assert len(_logged(caplog, BACK_LOG)) == (0 if returns_before_start else 1)


async def test_power_sensor_follows_its_entity(
    hass: HomeAssistant, cp: ChargePoint, caplog: pytest.LogCaptureFixture
) -> None:
    """Charging power also follows the power sensor it mirrors; the charger stays available."""
    caplog.set_level(logging.INFO, logger="custom_components.pev_portal")
    await setup(hass, make_entry(charger=CP))
    cp.set_power(7200)
    await cp.status("Charging")
    hass.states.async_set("sensor.cp_power", STATE_UNAVAILABLE)
    await hass.async_block_till_done()
    assert state(hass, f"sensor.{DRIVEWAY}_charging_power") == STATE_UNAVAILABLE
    assert state(hass, f"binary_sensor.{DRIVEWAY}_plugged_in") == "on"
    assert state(hass, f"switch.{DRIVEWAY}_charging_enabled") == "on"
    assert not _logged(caplog, UNAVAILABLE_LOG)

    await cp.power(3600)
    assert float(state(hass, f"sensor.{DRIVEWAY}_charging_power")) == 3.6


async def test_unknown_status_is_available(hass: HomeAssistant, cp: ChargePoint) -> None:
    """An ``unknown`` status is a charger Home Assistant sees: its entities stay available."""
    await setup(hass, make_entry(charger=CP))
    await cp.status("Preparing")
    await cp.status("unknown")
    _assert_following(hass, unavailable=False)


async def test_demo_charger_always_available(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The demo charger has no entities to lose: none of its entities is unavailable."""
    freezer.move_to(START)
    await setup(hass, make_entry())
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.garage_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done()
    assert state(hass, "binary_sensor.garage_plugged_in") == "on"
    for found in hass.states.async_all():
        if found.entity_id.split(".", 1)[1].startswith("garage_"):
            assert found.state != STATE_UNAVAILABLE, found.entity_id
