"""The program's fail-safe limit end to end (issue 16): Home Assistant, the demo charger and the
test VTN on 127.0.0.1 going silent mid-event.

The program declares ``FAILSAFE_CONSUMPTION_LIMIT`` 5 kW and ``HEARTBEAT_PERIOD`` 10 minutes;
the demo charger is three-phase at 230 V (16 A = 11 kW; a 7 kW event = 10 A; 5 kW = 7 A).
"""

from __future__ import annotations

import asyncio
from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.pev_portal.const import STORE_FILENAME
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.simulator import DemoEvse
from custom_components.pev_portal.io.ledger import LedgerStore
from custom_components.pev_portal.utility_failsafe import META_KEY
from tests.vtn.server import TestVtn, now_utc

from .common import attrs, setup, state
from .conftest import PROGRAM
from .test_utility import GARAGE, advance, linked_entry, plug, ticking, wait_for

__all__ = ["ticking"]  # the fixture, used by name

PEV = "PEV-DEMO-0001"
FAILSAFE = "binary_sensor.test_home_utility_link_fail_safe_limit_in_force"
RULE = [
    {"type": "FAILSAFE_CONSUMPTION_LIMIT", "values": [5.0]},
    {"type": "HEARTBEAT_PERIOD", "values": ["PT10M"]},
]
EVENT_A, FAILSAFE_A = 10, 7


def declare(vtn: TestVtn, attributes: list[dict[str, Any]] | None = RULE) -> None:
    """The customer's program at the VTN declares the fail-safe (or not)."""
    program = next(p for p in vtn.programs.values() if p["programName"] == PROGRAM)
    if attributes:
        program["attributes"] = attributes
    else:
        program.pop("attributes", None)


def record(coordinator: PevPortalCoordinator) -> list[tuple[bool, int]]:
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


def amps(coordinator: PevPortalCoordinator) -> int:
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    return int(runtime.demo.evse.current_limit_a)


def sources(coordinator: PevPortalCoordinator) -> list[str]:
    """The sources of the session's commands, in order."""
    runtime = coordinator.chargers["charger1"]
    return [c["source"] for c in coordinator.smart.audit_for(runtime)]


async def charging_under_event(
    hass: HomeAssistant, vtn: TestVtn, callback: str, entry: MockConfigEntry | None = None
) -> PevPortalCoordinator:
    """The home car bound and charging under a 7 kW load-control event for three hours."""
    vtn.approve(PEV)
    coordinator = await setup(hass, entry or linked_entry(vtn, callback))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    vtn.create_dlc_event(7.0, now_utc() - timedelta(seconds=1), timedelta(hours=3))
    await wait_for(hass, lambda: amps(coordinator) == EVENT_A)
    return coordinator


@pytest.mark.parametrize("silence", ["refused", "503"])
async def test_silent_link_mid_event_applies_the_failsafe_limit(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any, silence: str
) -> None:
    """The VTN goes silent during a 7 kW event (stopped, or answering 503): after the heartbeat
    the charger is held at the fail-safe limit (5 kW: 7 A), the user sees why; the limit lifts
    only once the link is back and the events were read again (then the event's 10 A again)."""
    declare(vtn)
    coordinator = await charging_under_event(hass, vtn, callback_base)
    seen = record(coordinator)
    assert state(hass, FAILSAFE) == "off"
    assert attrs(hass, FAILSAFE)["reason"] == "link_ok"
    assert attrs(hass, FAILSAFE)["declared_limit_kw"] == 5.0

    await vtn.go_down(silence)
    await advance(hass, ticking, 5 * 60)  # a failed poll, within the heartbeat: nothing yet
    assert state(hass, FAILSAFE) == "off"
    assert amps(coordinator) == EVENT_A

    await advance(hass, ticking, 6 * 60)  # 11 minutes without the utility
    await wait_for(hass, lambda: amps(coordinator) == FAILSAFE_A)
    assert seen[-1] == (True, FAILSAFE_A), "the command the charger received"
    assert all(a <= EVENT_A for _, a in seen), "never above the event's limit"
    assert state(hass, FAILSAFE) == "on"
    shown = attrs(hass, FAILSAFE)
    assert shown["limit_kw"] == 5.0
    assert shown["reason"] == "link_silent"
    assert shown["since"] is not None
    assert sources(coordinator)[-1] == "failsafe"
    plan = attrs(hass, f"sensor.{GARAGE}_charging_plan")
    assert plan["reason"].startswith("the utility's fail-safe limit of 5 kW holds all chargers")
    assert plan["last_command"]["source"] == "failsafe"

    await advance(hass, ticking, 60 * 60)  # an hour more: still held
    assert amps(coordinator) == FAILSAFE_A
    # "Charge now" is held too (like a load-control limit), and says so.
    await hass.services.async_call(
        "button", "press", {"entity_id": f"button.{GARAGE}_charge_now"}, blocking=True
    )
    assert amps(coordinator) == FAILSAFE_A

    await vtn.come_back()
    await advance(hass, ticking, 5 * 60)  # the next poll reads programs and events again
    await wait_for(hass, lambda: amps(coordinator) == EVENT_A)
    assert seen[-1] == (True, EVENT_A)
    assert state(hass, FAILSAFE) == "off"
    assert attrs(hass, FAILSAFE)["reason"] == "link_ok"
    assert "fail-safe" not in (attrs(hass, f"sensor.{GARAGE}_charging_plan")["reason"] or "")


async def test_heard_again_holds_until_the_events_are_read(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """A push after the silence is contact, but the events may have changed meanwhile: the limit
    holds (``awaiting_events``) while reading them fails, and lifts once they are read."""
    declare(vtn)
    coordinator = await charging_under_event(hass, vtn, callback_base)
    link = coordinator.link
    assert link is not None
    await vtn.go_down()
    await advance(hass, ticking, 11 * 60)
    await wait_for(hass, lambda: amps(coordinator) == FAILSAFE_A)

    await vtn.come_back()
    vtn.fail_next("GET /events", 503, times=1)
    reads = vtn.requests["GET /events"]
    # The utility pushes a new event: heard, and the events are asked for at once (refused).
    vtn.create_price_event([0.3], now_utc(), timedelta(hours=1), currency="EUR")
    await vtn.settle()
    await wait_for(hass, lambda: vtn.requests["GET /events"] > reads)
    await hass.async_block_till_done()
    assert attrs(hass, FAILSAFE)["reason"] == "awaiting_events"
    assert state(hass, FAILSAFE) == "on"
    assert amps(coordinator) == FAILSAFE_A

    await advance(hass, ticking, 5 * 60)  # the poll reads them
    await wait_for(hass, lambda: amps(coordinator) == EVENT_A)
    assert state(hass, FAILSAFE) == "off"


async def test_program_without_failsafe_is_unaffected(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """Without the program's declaration a silent link changes nothing: the event's limit holds
    as before and no command is sent for a fail-safe."""
    declare(vtn, None)
    coordinator = await charging_under_event(hass, vtn, callback_base)
    seen = record(coordinator)
    await vtn.go_down()
    await advance(hass, ticking, 2 * 60 * 60)
    assert amps(coordinator) == EVENT_A
    assert seen == [], "no command at all"
    assert state(hass, FAILSAFE) == "off"
    assert attrs(hass, FAILSAFE)["reason"] == "not_declared"
    assert "failsafe" not in sources(coordinator)
    assert await coordinator.store.read(lambda s: s.get_meta(f"{META_KEY}:PREMISE-1")) is None, (
        "nothing kept"
    )


async def test_restart_while_in_failsafe(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """Home Assistant restarts while the VTN is silent: the limit is in force from the start
    (the rule and the silence are kept in the store) and lifts once the link is back."""
    declare(vtn)
    entry = linked_entry(vtn, callback_base)
    coordinator = await charging_under_event(hass, vtn, callback_base, entry)
    await vtn.go_down()
    await advance(hass, ticking, 11 * 60)
    await wait_for(hass, lambda: amps(coordinator) == FAILSAFE_A)

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    assert state(hass, FAILSAFE) == "on"
    assert attrs(hass, FAILSAFE)["reason"] == "link_silent"
    await wait_for(hass, lambda: amps(coordinator) == FAILSAFE_A)
    assert sources(coordinator)[-1] == "failsafe"
    plan = attrs(hass, f"sensor.{GARAGE}_charging_plan")
    assert plan["reason"].startswith("the utility's fail-safe limit of 5 kW")

    await vtn.come_back()
    await advance(hass, ticking, 5 * 60)
    await wait_for(hass, lambda: state(hass, FAILSAFE) == "off")
    await wait_for(hass, lambda: amps(coordinator) == EVENT_A)


async def test_unusable_stored_state_is_ignored(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A damaged fail-safe record in the store is ignored (logged); the link starts as new."""
    declare(vtn, None)
    entry = linked_entry(vtn, callback_base)
    await setup(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    bad = {"rule": {"limit_kw": "lots", "heartbeat_s": None}, "last_heard": 12, "lost_since": "x"}

    def damage() -> None:
        store = LedgerStore(Path(hass.config.path(STORE_FILENAME)))
        store.set_meta(f"{META_KEY}:PREMISE-1", bad)
        store.close()

    await hass.async_add_executor_job(damage)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert "The stored fail-safe rule is unusable and was ignored" in caplog.text
    assert state(hass, FAILSAFE) == "off"
    assert attrs(hass, FAILSAFE)["reason"] == "not_declared"
    registry = er.async_get(hass)
    found = registry.async_get(FAILSAFE)
    assert found is not None
    assert found.translation_key == "failsafe"


@pytest.mark.parametrize("language", ["de", "fr"])
async def test_failsafe_sensor_translated(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, language: str
) -> None:
    """The fail-safe sensor is named in German and French too."""
    hass.config.language = language
    await setup(hass, linked_entry(vtn, callback_base))
    entity_id = er.async_get(hass).async_get_entity_id(
        "binary_sensor", "pev_portal", "premise1_utility_failsafe"
    )
    assert entity_id is not None
    name = attrs(hass, entity_id)["friendly_name"]
    assert name.endswith(
        {"de": "Ausfallsichere Leistungsgrenze aktiv", "fr": "Limite de sécurité en vigueur"}[
            language
        ]
    ), name


async def test_failsafe_duration_lifts_the_limit(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """With ``FAILSAFE_DURATION`` 30 minutes the limit lifts by itself after that long in
    fail-safe (as EEBus LPC's failsafe duration), while the link is still silent."""
    declare(vtn, [*RULE, {"type": "FAILSAFE_DURATION", "values": ["PT30M"]}])
    coordinator = await charging_under_event(hass, vtn, callback_base)
    await vtn.go_down()
    await advance(hass, ticking, 11 * 60)
    await wait_for(hass, lambda: amps(coordinator) == FAILSAFE_A)
    assert attrs(hass, FAILSAFE)["until"] is not None

    await advance(hass, ticking, 30 * 60)
    await wait_for(hass, lambda: amps(coordinator) == EVENT_A)
    assert state(hass, FAILSAFE) == "off"
    assert attrs(hass, FAILSAFE)["reason"] == "duration_over"


async def test_heartbeat_shorter_than_polling_keeps_a_healthy_link(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """A 2-minute heartbeat with the default 5-minute polling: half a heartbeat without a word
    asks the VTN, so a healthy link never looks silent."""
    declare(vtn, [RULE[0], {"type": "HEARTBEAT_PERIOD", "values": ["PT2M"]}])
    await setup(hass, linked_entry(vtn, callback_base))
    reads = vtn.requests["GET /events"]
    for _ in range(20):  # ten minutes in 30-second steps
        ticking.tick(timedelta(seconds=30))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        await asyncio.sleep(0.6)  # the link's refresh waits half a second (loop time)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert state(hass, FAILSAFE) == "off"
    assert vtn.requests["GET /events"] >= reads + 8, "asked about every minute"
