"""Smart-charging scenarios end to end: a shared circuit, the utility's CPP and DLC events.

What test_smart_charging.py already covers (off-peak delay, charge now, local load control,
opt-out, a charger ignoring commands) is not repeated. The entity-mapped charge points here obey
their commands (:class:`ObedientPoint`): they draw ``current x 230 V`` once charging, so the
energy delivered follows what PEV Portal commands.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.number import DATA_COMPONENT as NUMBER_COMPONENT
from homeassistant.components.switch import DATA_COMPONENT as SWITCH_COMPONENT
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.session import PauseReason
from tests.vtn.server import TestVtn, now_utc

from .common import attrs, setup, state
from .conftest import HOME_CAR, OPTIONS, make_entry
from .test_entity_charger import CP, CP2, SECOND_HOME_CAR, ChargePoint
from .test_smart_charging import CHEAP_FROM, EVENING, GARAGE, TOU_OPTIONS, _at, _call, utc
from .test_utility import linked_entry, plug, wait_for

__all__ = ["utc"]  # a fixture used here

SECOND_CAR = {**SECOND_HOME_CAR, "capacity_kwh": 40}
CIRCUIT_OPTIONS = {**TOU_OPTIONS, "circuit_limit_a": 32}
VOLTS = 230.0


class ObedientPoint(ChargePoint):
    """A charge point that does what it is told.

    Plugged in it waits in ``Preparing``; at the next minute (:func:`run`) it starts if its
    switch is on and its current is at least 6 A, and then draws ``current x 230 V``. Commands
    take effect at once while it is charging or suspended.
    """

    def __init__(self, hass: HomeAssistant, prefix: str, meter: str) -> None:
        super().__init__(hass, prefix, meter)
        self.on = True
        self.current_a = 16
        self.plugged = False
        self.started = False

    @property
    def allowed_a(self) -> int:
        """The current it may draw (0: off)."""
        return self.current_a if self.on and self.current_a >= 6 else 0

    @property
    def drawing_a(self) -> float:
        return self.power_w / VOLTS

    async def plug(self, pev_id: str) -> None:
        self.plugged, self.started = True, False
        await self.id_tag(pev_id)
        await self.status("Preparing")

    async def unplug(self) -> None:
        self.plugged, self.started = False, False
        self.set_power(0)
        await self.status("Available")
        await self.id_tag("unknown")

    def command(self, service: str, value: Any = None) -> None:
        if service == "turn_on":
            self.on = True
        elif service == "turn_off":
            self.on = False
        else:
            self.current_a = int(value)
        self.hass.states.async_set(f"switch.{self.prefix}_charge", "on" if self.on else "off")
        self.hass.states.async_set(
            f"number.{self.prefix}_current", str(self.current_a), {"min": 6, "max": 32, "step": 1}
        )
        if self.started:
            self.follow()

    def minute(self) -> None:
        """A minute passed: a waiting vehicle starts if allowed."""
        if self.plugged and not self.started and self.allowed_a:
            self.started = True
        if self.started:
            self.follow()

    def follow(self) -> None:
        self.set_power(self.allowed_a * VOLTS)
        self.hass.states.async_set(
            f"sensor.{self.prefix}_status", "Charging" if self.allowed_a else "SuspendedEVSE"
        )


class Circuit:
    """The charge points on one circuit; every command is logged with the total drawn after it."""

    def __init__(self, hass: HomeAssistant, *points: ObedientPoint) -> None:
        self.hass = hass
        self.points = {p.prefix: p for p in points}
        self.log: list[tuple[str, str, Any]] = []
        self.peak_a = 0.0
        self.on_command: Callable[[], None] | None = None

    def total_a(self) -> float:
        return sum(p.drawing_a for p in self.points.values())

    def check(self) -> None:
        self.peak_a = max(self.peak_a, self.total_a())

    def install(self) -> None:
        """Answer switch and number services: the points obey, other entities work as usual."""
        switches = self.hass.data[SWITCH_COMPONENT]
        numbers = self.hass.data[NUMBER_COMPONENT]

        async def _handle(call: ServiceCall) -> None:
            ids = call.data[ATTR_ENTITY_ID]
            for entity_id in [ids] if isinstance(ids, str) else ids:
                prefix = entity_id.split(".", 1)[1].rsplit("_", 1)[0]
                point = self.points.get(prefix)
                if point is not None:
                    self.log.append((entity_id, call.service, call.data.get("value")))
                    point.command(call.service, call.data.get("value"))
                    self.check()
                elif call.domain == "number":
                    entity = numbers.get_entity(entity_id)
                    assert entity is not None, entity_id
                    await entity.async_set_native_value(float(call.data["value"]))
                elif (entity := switches.get_entity(entity_id)) is not None:
                    if call.service == "turn_on":
                        await entity.async_turn_on()
                    else:
                        await entity.async_turn_off()

        for service in ("turn_on", "turn_off"):
            self.hass.services.async_register("switch", service, _handle)
        self.hass.services.async_register("number", "set_value", _handle)

    async def run(self, freezer: FrozenDateTimeFactory, minutes: int) -> None:
        """Let time pass minute by minute; the points deliver at their power."""
        for _ in range(minutes):
            freezer.tick(timedelta(minutes=1))
            for point in self.points.values():
                point.deliver(60, 1.0)
                point.minute()
            self.check()
            async_fire_time_changed(self.hass)
            await self.hass.async_block_till_done()
            self.check()


async def _settings(
    hass: HomeAssistant, car: str, mode: str, target: float, departure: str = "07:00:00"
) -> None:
    await _call(hass, "select", "select_option", f"select.{car}_charge_mode", option=mode)
    await _call(hass, "number", "set_value", f"number.{car}_charge_target", value=target)
    await _call(hass, "time", "set_value", f"time.{car}_departure", time=departure)


async def _two_points(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, options: dict[str, Any]
) -> tuple[PevPortalCoordinator, ObedientPoint, ObedientPoint, Circuit]:
    freezer.move_to(EVENING)
    cp1 = ObedientPoint(hass, "cp", "sensor.meter_energy")
    cp2 = ObedientPoint(hass, "cp2", "sensor.meter2_energy")
    cp1.install()
    cp2.install()
    entry = make_entry(
        charger=CP, extra_chargers=[CP2], vehicles=[HOME_CAR, SECOND_CAR], options=options
    )
    coordinator = await setup(hass, entry)
    circuit = Circuit(hass, cp1, cp2)
    circuit.install()
    return coordinator, cp1, cp2, circuit


# -- a shared circuit --------------------------------------------------------------------------


async def test_two_vehicles_share_a_32_a_circuit(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Two 32 A chargers on a 32 A circuit, cheapest: never above 32 A, both ready by 07:00."""
    coordinator, cp1, cp2, circuit = await _two_points(hass, freezer, CIRCUIT_OPTIONS)
    assert coordinator.smart.circuit_kw() == pytest.approx(7.36)
    await _settings(hass, "family_car", "cheapest", 50)  # 50 % of 60 kWh: 30 kWh
    await _settings(hass, "second_car", "cheapest", 50)  # 50 % of 40 kWh: 20 kWh
    await cp1.plug(HOME_CAR["pev_id"])
    await cp2.plug(SECOND_CAR["pev_id"])
    one, two = coordinator.chargers["charger1"], coordinator.chargers["charger2"]
    for runtime in (one, two):
        plan = coordinator.plan_for(runtime)
        assert plan is not None
        assert plan["reachable"] is True
        assert plan["start"] >= CHEAP_FROM.isoformat()  # off-peak only
    total = coordinator.smart.plan
    assert total is not None
    assert coordinator.smart.inputs is not None
    assert coordinator.smart.inputs.circuit_kw == pytest.approx(7.36)
    # The plan itself never puts more than the circuit on the two chargers.
    bounds = sorted({s.start for vp in total.vehicles.values() for s in vp.slots})
    for at in bounds:
        assert sum(vp.power_at(at) for vp in total.vehicles.values()) <= 7.36 + 1e-9

    await circuit.run(freezer, 10 * 60 + 5)  # to 06:55
    assert circuit.peak_a <= 32
    assert circuit.peak_a >= 30  # the circuit is used, not wasted
    assert one.session is not None
    assert two.session is not None
    assert one.session.meter_kwh == pytest.approx(30.0, abs=0.5)
    assert two.session.meter_kwh == pytest.approx(20.0, abs=0.5)
    assert cp1.allowed_a == 0  # done: the plan stopped it
    assert cp2.allowed_a == 0
    assert one.session.pause_reason is PauseReason.PLAN


async def test_shared_circuit_plan_explains_a_shortfall(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Not feasible by the departure on the shared circuit: the plan says why."""
    coordinator, cp1, cp2, _ = await _two_points(hass, freezer, CIRCUIT_OPTIONS)
    await _settings(hass, "family_car", "cheapest", 50, departure="23:00:00")
    await _settings(hass, "second_car", "cheapest", 50, departure="23:00:00")
    await cp1.plug(HOME_CAR["pev_id"])
    await cp2.plug(SECOND_CAR["pev_id"])
    plans = [coordinator.plan_for(r) for r in coordinator.chargers.values()]
    assert all(p is not None and p["reachable"] is False for p in plans)
    reasons = " / ".join(p["reason"] or "" for p in plans if p is not None)
    assert "7.36 kW circuit limit shared with the other vehicles" in reasons
    assert attrs(hass, "sensor.driveway_charging_plan")["reachable"] is False


async def test_immediate_on_a_shared_circuit(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Immediate mode follows the circuit: the first charger keeps it, the second waits;
    charge now on the second turns the first down before the second is turned up."""
    coordinator, cp1, cp2, circuit = await _two_points(hass, freezer, CIRCUIT_OPTIONS)
    await cp1.plug(HOME_CAR["pev_id"])
    await circuit.run(freezer, 2)
    assert cp1.drawing_a == 16  # alone, at its own setting: within the circuit, no command
    assert circuit.log == []

    await cp2.plug(SECOND_CAR["pev_id"])
    await circuit.run(freezer, 5)
    assert circuit.peak_a <= 32
    assert cp1.drawing_a == 16
    assert cp2.drawing_a == 0  # told to wait before it started
    assert circuit.log == [("switch.cp2_charge", "turn_off", None)]
    two = coordinator.chargers["charger2"]
    assert two.session is not None
    assert two.session.pause_reason is PauseReason.PLAN
    plan = coordinator.plan_for(two)
    assert plan is not None
    assert plan["start"] > dt_util.utcnow().isoformat()  # after the first car

    mark = len(circuit.log)
    await _call(hass, "button", "press", "button.carport_charge_now")
    await circuit.run(freezer, 2)
    assert circuit.peak_a <= 32
    assert cp2.drawing_a == 32
    assert cp1.drawing_a == 0
    commands = circuit.log[mark:]
    first_up = next(i for i, (e, s, v) in enumerate(commands) if e.startswith("switch.cp2_"))
    first_down = next(i for i, (e, s, v) in enumerate(commands) if e == "switch.cp_charge")
    assert commands[first_down][1] == "turn_off"
    assert first_down < first_up

    # The first car leaves: nothing more is sent to its charger.
    await cp1.unplug()
    mark = len(circuit.log)
    await circuit.run(freezer, 30)
    assert [c for c in circuit.log[mark:] if c[0].startswith(("switch.cp_", "number.cp_"))] == []


# -- a whole session with the entity-mapped charger ----------------------------------------------


async def test_entity_charger_whole_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Off-peak delay, charging by the plan to the target, unplug: the commands stop."""
    freezer.move_to(EVENING)
    cp1 = ObedientPoint(hass, "cp", "sensor.meter_energy")
    cp1.install()
    coordinator = await setup(hass, make_entry(charger=CP, options=TOU_OPTIONS))
    circuit = Circuit(hass, cp1)
    circuit.install()
    await _settings(hass, "family_car", "cheapest", 20)  # 20 % of 60 kWh: 12 kWh
    await cp1.plug(HOME_CAR["pev_id"])
    runtime = coordinator.chargers["charger1"]
    session = runtime.session
    assert session is not None
    assert session.pause_reason is PauseReason.PLAN
    assert circuit.log == [("switch.cp_charge", "turn_off", None)]
    await circuit.run(freezer, 9)
    assert cp1.drawing_a == 0  # still the peak
    assert state(hass, "sensor.driveway_session_state") in ("waiting", "paused")

    await _at(hass, freezer, CHEAP_FROM)
    await circuit.run(freezer, 2)
    assert cp1.drawing_a == 32
    assert state(hass, "sensor.driveway_session_state") == "charging"
    assert session.pause_reason is None
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    ready = datetime.fromisoformat(plan["ready_by"])

    # 12 kWh at 7.36 kW: about 1 h 38 min. The plan is followed to the end, then it stops.
    await circuit.run(freezer, int((ready - dt_util.utcnow()).total_seconds() // 60) + 3)
    assert session.meter_kwh == pytest.approx(12.0, abs=0.3)
    assert cp1.allowed_a == 0
    assert session.pause_reason is PauseReason.PLAN
    sources = {c["source"] for c in coordinator.smart.audit_for(runtime)}
    assert sources == {"plan"}

    await cp1.unplug()
    assert runtime.session is None
    assert state(hass, "sensor.driveway_session_state") == "unplugged"
    mark = len(circuit.log)
    await circuit.run(freezer, 60)
    assert circuit.log[mark:] == []


# -- the utility's events (a real test VTN, real time) -------------------------------------------


def _departure_in_12_hours() -> str:
    return (dt_util.now() + timedelta(hours=12)).strftime("%H:%M:00")


async def test_utility_cpp_event_shifts_charging(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """Cheapest mode: a critical-peak PRICE event moves the charging out of its window."""
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await _settings(hass, "family_car", "cheapest", 80, _departure_in_12_hours())
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["start"] <= now_utc().isoformat()  # flat price: at once
    assert runtime.demo.evse.enabled

    start = now_utc() - timedelta(minutes=1)
    event = vtn.create_cpp_event(0.95, start, timedelta(hours=2), currency="EUR")
    end = datetime.fromisoformat(event["intervalPeriod"]["start"].replace("Z", "+00:00")) + (
        timedelta(hours=2)
    )
    await wait_for(hass, lambda: runtime.demo is not None and not runtime.demo.evse.enabled)
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert datetime.fromisoformat(plan["start"]) >= end
    assert all(s["price"] == pytest.approx(0.20) for s in plan["slots"])
    assert plan["reachable"] is True
    assert runtime.session is not None
    assert runtime.session.pause_reason is PauseReason.PLAN


@pytest.mark.parametrize("circuit_a", [None, 16])
async def test_utility_dlc_event_in_cheapest_mode(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, circuit_a: int | None
) -> None:
    """A DLC event arriving mid-session caps the charger within 2 s of its start and is
    lifted at its end, while the plan drives the charger (on a shared circuit too, where the
    plan alone commands the chargers)."""
    vtn.approve("PEV-DEMO-0001")
    options = {**OPTIONS, "circuit_limit_a": circuit_a} if circuit_a is not None else None
    coordinator = await setup(hass, linked_entry(vtn, callback_base, options=options))
    await _settings(hass, "family_car", "cheapest", 80, _departure_in_12_hours())
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    evse = runtime.demo.evse
    assert evse.enabled
    assert evse.current_limit_a == 16

    start = (now_utc() + timedelta(seconds=4)).replace(microsecond=0)
    link = coordinator.link
    assert link is not None
    event = vtn.create_dlc_event(7.0, start, timedelta(seconds=6))
    await wait_for(hass, lambda: event["id"] in link.state.events)
    assert now_utc() < start
    assert evse.current_limit_a == 16  # not before its start
    await wait_for(hass, lambda: evse.current_limit_a == 10)  # 10 A x 3 x 230 V = 6.9 kW
    assert (now_utc() - start).total_seconds() < 2.0
    assert coordinator.caps_for(runtime)[0]["limit_kw"] == 7.0
    assert coordinator.smart.audit_for(runtime)[-1]["source"] == "event"

    end = start + timedelta(seconds=6)
    await wait_for(hass, lambda: evse.current_limit_a == 16)
    assert (now_utc() - end).total_seconds() < 2.0
    assert now_utc() >= end
    assert evse.enabled
    assert runtime.session is not None
    assert runtime.session.pause_reason is None


async def test_idle_chargers_wait_at_their_minimum_on_a_shared_circuit(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """On a shared circuit an idle charger is parked at 6 A (at start and when its car
    leaves): a car plugging in starts at 6 A, not at the charger's own 16-32 A on top of the
    other charger, until the plan gives it its share."""
    coordinator, cp1, cp2, circuit = await _two_points(hass, freezer, CIRCUIT_OPTIONS)
    await coordinator.smart.async_park_idle()  # as at start (the fakes answer only now)
    assert sorted(circuit.log) == [
        ("number.cp2_current", "set_value", 6),
        ("number.cp_current", "set_value", 6),
    ]
    await cp1.plug(HOME_CAR["pev_id"])
    await circuit.run(freezer, 2)
    assert cp1.drawing_a == 32  # alone: the plan gives it the whole circuit

    mark = len(circuit.log)
    await cp2.plug(SECOND_CAR["pev_id"])
    await circuit.run(freezer, 2)
    assert circuit.peak_a <= 32
    assert ("switch.cp2_charge", "turn_off", None) in circuit.log[mark:]  # immediate: it waits

    await cp1.unplug()
    await circuit.run(freezer, 2)
    assert cp1.current_a == 6  # parked again
    assert cp2.drawing_a == 32  # the second car gets the circuit
    assert circuit.peak_a <= 32


async def test_no_parking_without_a_circuit_limit(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Without a circuit limit, idle chargers keep their own settings."""
    coordinator, cp1, _cp2, circuit = await _two_points(hass, freezer, TOU_OPTIONS)
    await coordinator.smart.async_park_idle()
    await cp1.plug(HOME_CAR["pev_id"])
    await cp1.unplug()
    await circuit.run(freezer, 2)
    assert circuit.log == []
    assert cp1.current_a == 16
