"""The one command owner (charging/controller.py): what a charger receives, in which order, and
what happens when a command fails or the entry unloads while one is in flight.

Every command a charger receives is recorded by the charger itself (the demo EVSE's own
setters, the mapped charge point's service calls), so the checks are on what reached the
charger, not on what PEV Portal meant to send.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import fields
from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.switch import DATA_COMPONENT as SWITCH_COMPONENT
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from custom_components.pev_portal.charging.controller import (
    FAILURES_FOR_ISSUE,
    UNKNOWN,
)
from custom_components.pev_portal.const import DOMAIN, ISSUE_COMMAND_FAILING
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.simulator import DemoEvse
from tests.vtn.server import TestVtn, now_utc

from .common import advance, setup, state
from .conftest import make_entry
from .test_entity_charger import CP, DRIVEWAY, ChargePoint
from .test_smart_charging import EVENING, GARAGE, TOU_OPTIONS, _cheapest, _plug_demo
from .test_utility import linked_entry, plug, wait_for

VOLTS = 230.0


def _record_demo(coordinator: PevPortalCoordinator) -> list[tuple[bool, int]]:
    """What the demo EVSE allows after every command it receives: (enabled, current)."""
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    seen: list[tuple[bool, int]] = []

    class RecordingEvse(DemoEvse):
        def set_enabled(self, enabled: bool) -> None:
            super().set_enabled(enabled)
            seen.append((self.enabled, self.current_limit_a))

        def set_current(self, amps: float) -> None:
            super().set_current(amps)
            seen.append((self.enabled, self.current_limit_a))

    evse = runtime.demo.evse
    runtime.demo.evse = RecordingEvse(**{f.name: getattr(evse, f.name) for f in fields(evse)})
    return seen


def _allowed_kw(enabled: bool, amps: int, phases: int = 3) -> float:
    """The power a charger may draw when told (enabled, amps): 0 below 6 A (IEC 61851)."""
    return amps * VOLTS * phases / 1000.0 if enabled and amps >= 6 else 0.0


class ChargePointServices:
    """The charge point's services as PEV Portal calls them, in one ordered record.

    ``number.set_value`` fails ``failures`` times and can be slow (``slow``: it answers when
    the test sets ``release``; the test clock is frozen, so no real delay is used); the charge
    point's switch can refuse to turn off (``refuse_off``). PEV Portal's own switches go on
    working through the same services.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        failures: int = 0,
        slow: bool = False,
        refuse_off: bool = False,
    ) -> None:
        self.hass = hass
        self.failures = failures
        self.release = asyncio.Event()  # a slow charge point answers once this is set
        self.started = asyncio.Event()
        if not slow:
            self.release.set()
        self.refuse_off = refuse_off
        self.order: list[str] = []
        self.numbers: list[float] = []
        self.done: list[float] = []
        hass.services.async_register("number", "set_value", self._number)
        for service in ("turn_on", "turn_off"):
            hass.services.async_register("switch", service, self._switch)

    async def _number(self, call: ServiceCall) -> None:
        value = float(call.data["value"])
        self.numbers.append(value)
        self.order.append(f"number {value:g}")
        self.started.set()
        await self.release.wait()
        if self.failures > 0:
            self.failures -= 1
            raise HomeAssistantError("charge point offline")
        self.done.append(value)

    async def _switch(self, call: ServiceCall) -> None:
        component = self.hass.data[SWITCH_COMPONENT]
        ids = call.data[ATTR_ENTITY_ID]
        for entity_id in [ids] if isinstance(ids, str) else ids:
            if (entity := component.get_entity(entity_id)) is not None:  # PEV Portal's own
                if call.service == "turn_on":
                    await entity.async_turn_on()
                else:
                    await entity.async_turn_off()
                continue
            self.order.append(f"switch {call.service}")
            if call.service == "turn_off" and self.refuse_off:
                raise HomeAssistantError("switch unavailable")


async def _plug_cp(hass: HomeAssistant, cp: ChargePoint) -> None:
    await cp.id_tag("PEV-DEMO-0001")
    cp.set_power(7200)
    await cp.status("Charging")


@pytest.fixture
def cp(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> ChargePoint:
    """The driveway charge point (one phase, 6-32 A, switch and current number)."""
    freezer.move_to("2026-11-22T10:00:00+00:00")
    point = ChargePoint(hass, "cp", "sensor.meter_energy")
    point.install()
    return point


async def test_failed_command_retried_audited_rolled_back_then_issue(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """A limit the charge point does not take: kept in the trail with its error, the recorded
    state rolled back, retried with a growing delay, a repair issue after three failures in a
    row, and everything cleared once a command goes through."""
    coordinator = await setup(hass, make_entry(charger=CP))
    number = ChargePointServices(hass, failures=FAILURES_FOR_ISSUE)
    await _plug_cp(hass, cp)
    runtime = coordinator.chargers["charger1"]
    now = dt_util.utcnow()

    await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=1), limit_kw=4.6
    )
    assert number.numbers == [20.0]  # 20 A x 230 V = 4.6 kW
    assert coordinator.controller.commanded["charger1"] == UNKNOWN  # rolled back
    trail = coordinator.smart.audit_for(runtime)
    assert trail[-1]["error"] == "charge point offline"
    assert trail[-1]["measured_by"] == "failed"
    assert trail[-1]["obeyed"] is False
    issue_id = f"{ISSUE_COMMAND_FAILING}_{coordinator.config_entry.entry_id}_charger1"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None

    await advance(hass, freezer, 5)  # first retry after 5 s
    assert number.numbers == [20.0, 20.0]
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    await advance(hass, freezer, 10)  # then after 10 s: the third failure raises the issue
    assert number.numbers == [20.0] * 3
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {
        "charger": "Driveway",
        "count": "3",
        "error": "charge point offline",
    }
    assert coordinator.smart.diagnostics()["command_failures"] == {"charger1": 3}

    await advance(hass, freezer, 20)  # the fourth try goes through
    assert number.done == [20.0]
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    trail = coordinator.smart.audit_for(runtime)
    assert [c["error"] for c in trail] == ["charge point offline"] * 3 + [None]
    assert coordinator.controller.commanded["charger1"].amps == 20
    stored = await coordinator.store.call(lambda s: s.commands(runtime.session.session_id))
    assert [c["error"] for c in stored] == [c["error"] for c in trail]
    assert coordinator.audit.error_windows(runtime.session, now_utc()) == []  # not "ignored"


async def test_user_pause_that_fails_raises_and_keeps_the_switch(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """The "Charging enabled" switch: a pause the charge point refuses raises a translated
    error, and the switch (the user's choice as recorded) stays on."""
    coordinator = await setup(hass, make_entry(charger=CP))
    services = ChargePointServices(hass, refuse_off=True)
    await _plug_cp(hass, cp)
    switch = f"switch.{DRIVEWAY}_charging_enabled"
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True
        )
    assert err.value.translation_key == "command_failed"
    assert err.value.translation_placeholders["charger"] == "Driveway"
    assert services.order == ["switch turn_off"]
    assert coordinator.charging_enabled(coordinator.chargers["charger1"]) is True
    assert state(hass, switch) == "on"


async def test_resume_under_a_cap_goes_straight_to_the_cap(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A pause and a resume (the switch, then "Charge now") under a 7 kW limit: at no command
    does the charger receive permission above the limit (never its maximum on the way)."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    seen = _record_demo(coordinator)
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    now = dt_util.utcnow()
    await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=1), limit_kw=7.0
    )
    assert seen == [(True, 10)]  # 10 A x 3 x 230 V = 6.9 kW
    switch = f"switch.{GARAGE}_charging_enabled"
    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True)
    await advance(hass, freezer, 10)
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True)
    await advance(hass, freezer, 10)
    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True)
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: f"button.{GARAGE}_charge_now"}, blocking=True
    )
    await advance(hass, freezer, 10)
    assert seen[-1] == (True, 10)
    assert max(_allowed_kw(*s) for s in seen) <= 7.0
    assert (False, 10) in seen  # it was paused
    runtime = coordinator.chargers["charger1"]
    assert float(state(hass, f"sensor.{GARAGE}_charging_power")) <= 7.0
    sources = [c["source"] for c in coordinator.smart.audit_for(runtime)]
    assert sources == ["event", "user", "user", "user", "user"]


async def test_resume_of_a_mapped_charger_sets_the_current_first(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint
) -> None:
    """On a charge point paused by its switch, resuming under a limit sets the current first,
    then the switch: the charge point never sees its 32 A maximum while the limit holds."""
    coordinator = await setup(hass, make_entry(charger=CP))
    services = ChargePointServices(hass)
    await _plug_cp(hass, cp)
    now = dt_util.utcnow()
    await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=1), limit_kw=4.6
    )
    switch = f"switch.{DRIVEWAY}_charging_enabled"
    await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True)
    await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True)
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: f"button.{DRIVEWAY}_charge_now"}, blocking=True
    )
    assert services.order == [
        "number 20",  # the limit (20 A x 230 V = 4.6 kW)
        "switch turn_off",  # paused by the user
        "number 20",  # resumed: the current first...
        "switch turn_on",  # ...then the switch
        "number 20",  # charge now: within the limit (sent again, the user asked)
    ]
    assert 32.0 not in services.numbers


async def test_charge_now_obeys_a_local_limit(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """ "Charge now" without a utility link still obeys a local load-control limit."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    await _cheapest(hass)
    seen = _record_demo(coordinator)
    await _plug_demo(hass)
    now = dt_util.utcnow()
    await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=1), limit_kw=3.7
    )
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: f"button.{GARAGE}_charge_now"}, blocking=True
    )
    await advance(hass, freezer, 30)
    assert seen
    assert max(_allowed_kw(*s) for s in seen) <= 3.7
    assert float(state(hass, f"sensor.{GARAGE}_charging_power")) <= 3.7
    runtime = coordinator.chargers["charger1"]
    assert runtime.cap_kw == 3.7


async def test_charge_now_obeys_a_utility_limit(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """ "Charge now" under the utility's load-control event: the cap holds."""
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    seen = _record_demo(coordinator)
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    link = coordinator.link
    assert link is not None
    event = vtn.create_dlc_event(7.0, now_utc() - timedelta(seconds=1), timedelta(minutes=30))
    await wait_for(hass, lambda: event["id"] in link.state.events)
    await wait_for(hass, lambda: bool(seen) and seen[-1] == (True, 10))
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: f"button.{GARAGE}_charge_now"}, blocking=True
    )
    await hass.async_block_till_done()
    assert max(_allowed_kw(*s) for s in seen) <= 7.0
    assert seen[-1] == (True, 10)


async def test_reload_during_a_slow_command(
    hass: HomeAssistant, cp: ChargePoint, caplog: pytest.LogCaptureFixture
) -> None:
    """A reload while a command is in flight: it finishes, is kept in the trail, and nothing is
    logged as an error (no "store is closed")."""
    caplog.set_level(logging.DEBUG, logger="custom_components.pev_portal")
    entry = make_entry(charger=CP)
    coordinator = await setup(hass, entry)
    services = ChargePointServices(hass, slow=True)
    await _plug_cp(hass, cp)
    session_id = coordinator.chargers["charger1"].session.session_id
    now = dt_util.utcnow()
    adding = hass.async_create_task(
        coordinator.async_add_local_event(
            "load_control", now, now + timedelta(hours=1), limit_kw=4.6
        )
    )
    await services.started.wait()  # the command is in flight
    reloading = hass.async_create_task(hass.config_entries.async_reload(entry.entry_id))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not reloading.done()  # the unload waits for the command
    services.release.set()
    assert await reloading
    await adding
    await hass.async_block_till_done()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert "store is closed" not in caplog.text
    reloaded: PevPortalCoordinator = entry.runtime_data
    trail = reloaded.audit.trails[session_id]
    # The command in flight finished and was kept; after the reload the new controller does not
    # know what the charger was told, so it tells it again.
    assert [(c["current_a"], c["error"]) for c in trail] == [(20, None), (20, None)]


async def test_an_hour_under_a_local_event_replans_at_its_boundaries_only(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A local load-control event in force for an hour: the plan is computed when the event
    is added, and not again at every tick (it was every 5 s: its limit began at "now")."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=TOU_OPTIONS))
    await _cheapest(hass)
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    now = dt_util.utcnow()
    before = coordinator.smart.plans_computed
    await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=1), limit_kw=4.2
    )
    assert coordinator.smart.plans_computed == before + 1
    await advance(hass, freezer, 3600 + 10)
    assert coordinator.smart.plans_computed - before <= 3, coordinator.smart.reason
