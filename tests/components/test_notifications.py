"""Notifications through the notify target of the premise's options."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.session import SessionState
from custom_components.pev_portal.diagnostics import async_get_config_entry_diagnostics
from tests.vtn.server import TestVtn, now_utc

from .common import advance, setup, state
from .conftest import GUEST_CAR, OPTIONS, make_entry
from .test_entity_charger import CP, ChargePoint
from .test_smart_charging import CAR, EVENING, GARAGE, TOU_OPTIONS
from .test_utility import linked_entry, plug, wait_for

# The options form's fields (the tariff is changed through its own forms since issue 15).
OPTIONS_FORM = {k: v for k, v in OPTIONS.items() if k != "tariff"}
ALL_KINDS = ["plugged_not_bound", "target_unreachable", "event_starting", "charger_ignoring"]
LEGACY = "notify.mobile_app_phone"


@pytest.fixture(autouse=True)
async def utc(hass: HomeAssistant) -> None:
    """Local time is UTC (times in the messages are local)."""
    await hass.config.async_set_time_zone("UTC")


@pytest.fixture
def legacy_calls(hass: HomeAssistant) -> list[ServiceCall]:
    """The legacy notify service of the phone app."""
    return async_mock_service(hass, "notify", "mobile_app_phone")


def notifying(options: dict[str, Any], target: str = LEGACY, **extra: Any) -> dict[str, Any]:
    """Options with a notify target."""
    return {**options, "notify_target": target, **extra}


async def _call(
    hass: HomeAssistant, domain: str, service: str, entity_id: str, **data: Any
) -> None:
    await hass.services.async_call(domain, service, {"entity_id": entity_id, **data}, blocking=True)
    await hass.async_block_till_done()


async def _plug_demo(hass: HomeAssistant) -> None:
    await _call(hass, "switch", "turn_on", f"switch.{GARAGE}_demo_car_plugged_in")


async def _cheapest(hass: HomeAssistant, departure: str = "07:00:00") -> None:
    await _call(hass, "select", "select_option", f"select.{CAR}_charge_mode", option="cheapest")
    await _call(hass, "number", "set_value", f"number.{CAR}_charge_target", value=80)
    await _call(hass, "time", "set_value", f"time.{CAR}_departure", time=departure)


async def _ignoring_charger(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, options: dict[str, Any]
) -> PevPortalCoordinator:
    """The demo charger ignores the plan's stop (as in test_smart_charging)."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=options))
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    runtime.demo.evse.ignore_commands = True
    await _cheapest(hass)
    await _plug_demo(hass)
    await advance(hass, freezer, 20)
    command = coordinator.smart.audit_for(runtime)[0]
    assert command["obeyed"] is False
    return coordinator


# -- options flow ----------------------------------------------------------------------------


async def _options_form(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    return dict(result)


def _target_choices(result: dict[str, Any]) -> list[str]:
    schema = result["data_schema"]
    marker = next(m for m in schema.schema if str(m) == "notify_target")
    return [o["value"] for o in schema.schema[marker].config["options"]]


async def test_options_notify_entity_target(
    hass: HomeAssistant, loaded_demo: MockConfigEntry, legacy_calls: list[ServiceCall]
) -> None:
    """A notify entity and a legacy notify service are offered; the entity is saved."""
    async_mock_service(hass, "notify", "send_message")
    hass.states.async_set("notify.kitchen_display", "unknown", {"friendly_name": "Kitchen"})
    result = await _options_form(hass, loaded_demo)
    choices = _target_choices(result)
    assert "notify.kitchen_display" in choices
    assert LEGACY in choices
    assert "notify.send_message" not in choices

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **OPTIONS_FORM,
            "notify_target": "notify.kitchen_display",
            "notify_kinds": ["event_starting", "charger_ignoring"],
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_demo.options["notify_target"] == "notify.kitchen_display"
    assert loaded_demo.options["notify_kinds"] == ["event_starting", "charger_ignoring"]
    notifier = loaded_demo.runtime_data.notifier  # reloaded with the new options
    assert notifier.target == "notify.kitchen_display"
    assert notifier.kinds == {"event_starting", "charger_ignoring"}


async def test_options_legacy_service_and_no_target(
    hass: HomeAssistant, loaded_demo: MockConfigEntry, legacy_calls: list[ServiceCall]
) -> None:
    """A legacy service typed by its bare name is saved as notify.<name>; empty clears it."""
    result = await _options_form(hass, loaded_demo)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS_FORM, "notify_target": " mobile_app_phone "}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert loaded_demo.options["notify_target"] == LEGACY
    assert loaded_demo.options["notify_kinds"] == ALL_KINDS  # the default: all four

    result = await _options_form(hass, loaded_demo)
    marker = next(m for m in result["data_schema"].schema if str(m) == "notify_target")
    assert marker.description == {"suggested_value": LEGACY}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(OPTIONS_FORM)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "notify_target" not in loaded_demo.options
    assert loaded_demo.runtime_data.notifier.target is None


@pytest.mark.parametrize("target", ["notify.nobody", "light.kitchen", "notify.send_message"])
async def test_options_unknown_target(
    hass: HomeAssistant, loaded_demo: MockConfigEntry, target: str
) -> None:
    """A target that is no notify entity or service is refused with a form error."""
    async_mock_service(hass, "notify", "send_message")
    hass.states.async_set("light.kitchen", "on")
    result = await _options_form(hass, loaded_demo)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS_FORM, "notify_target": target}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"notify_target": "notify_target_not_found"}
    assert "notify_target" not in loaded_demo.options


# -- the four notifications --------------------------------------------------------------------


async def test_charger_ignoring_notified_once(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, legacy_calls: list[ServiceCall]
) -> None:
    """The repair's moment, once per session, through the legacy service."""
    coordinator = await _ignoring_charger(hass, freezer, notifying(TOU_OPTIONS))
    assert len(legacy_calls) == 1
    assert legacy_calls[0].data["title"] == "Garage ignores commands"
    message = legacy_calls[0].data["message"]
    assert message.startswith("Garage was told to charge at most 0.00 kW, but 11.00 kW")
    runtime = coordinator.chargers["charger1"]
    coordinator.notifier.charger_ignoring(runtime, 0.0, 11.0)  # ignored again: not sent again
    await advance(hass, freezer, 30)
    assert len(legacy_calls) == 1


async def test_notify_entity_target(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A notify entity gets notify.send_message with its entity ID, title and message."""
    calls = async_mock_service(hass, "notify", "send_message")
    hass.states.async_set("notify.kitchen_display", "unknown")
    await _ignoring_charger(hass, freezer, notifying(TOU_OPTIONS, "notify.kitchen_display"))
    assert len(calls) == 1
    assert calls[0].data["entity_id"] == "notify.kitchen_display"
    assert calls[0].data["title"] == "Garage ignores commands"
    assert "0.00 kW" in calls[0].data["message"]


async def test_no_target_no_notifications(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, legacy_calls: list[ServiceCall]
) -> None:
    """Without a target, or with the kind switched off, nothing is sent."""
    await _ignoring_charger(hass, freezer, TOU_OPTIONS)
    assert legacy_calls == []


async def test_kind_switched_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, legacy_calls: list[ServiceCall]
) -> None:
    """Only the chosen kinds are sent."""
    options = notifying(TOU_OPTIONS, notify_kinds=["plugged_not_bound", "event_starting"])
    await _ignoring_charger(hass, freezer, options)
    assert legacy_calls == []


async def test_target_unreachable(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, legacy_calls: list[ServiceCall]
) -> None:
    """30 kWh wanted in ten minutes: the plan's explanation is sent; again only if it changes."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=notifying(TOU_OPTIONS)))
    await _cheapest(hass, departure="21:00:00")
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    runtime = coordinator.chargers["charger1"]
    plan = coordinator.plan_for(runtime)
    assert plan is not None
    assert plan["reachable"] is False
    assert plan["reason"]
    assert len(legacy_calls) == 1
    assert legacy_calls[0].data["title"] == "Garage: charging target out of reach"
    # The planner's reason, written from its explanations in the user's language (English
    # here, as the planner's own text).
    assert [e["constraint"] for e in plan["explanations"]] == ["departure"]
    assert legacy_calls[0].data["message"] == (
        f"The vehicle on Garage will not reach its charging target: {plan['reason']}. "
        "Change the departure time or the target, or use Charge now."
    )

    notifier = coordinator.notifier
    notifier.target_unreachable(runtime, plan["reason"], plan["explanations"])
    await hass.async_block_till_done()
    assert len(legacy_calls) == 1
    # The same constraint with other figures (the car charged meanwhile): not news.
    other_figures = [{**e, "kwh": 1.5} for e in plan["explanations"]]
    notifier.target_unreachable(runtime, "other figures", other_figures)
    await hass.async_block_till_done()
    assert len(legacy_calls) == 1
    peak = {
        "constraint": "cap",
        "name": "Grid peak",
        "start": "2026-11-23T21:00:00+00:00",
        "end": "2026-11-23T22:00:00+00:00",
        "kwh": 4.2,
        "ready_by": "2026-11-23T23:10:00+00:00",
        "ready_without": "2026-11-23T22:10:00+00:00",
    }
    notifier.target_unreachable(runtime, "another reason", [peak])
    await hass.async_block_till_done()
    assert len(legacy_calls) == 2
    assert legacy_calls[1].data["message"] == (
        "The vehicle on Garage will not reach its charging target: Grid peak from 21:00 to "
        "22:00 delays 4.2 kWh; ready at 23:10 instead of 22:10. Change the departure time or "
        "the target, or use Charge now."
    )
    # Without explanations (an older plan), the planner's English text is sent.
    notifier.target_unreachable(runtime, "another reason")
    await hass.async_block_till_done()
    assert len(legacy_calls) == 3
    assert "another reason" in legacy_calls[2].data["message"]


async def test_reason_in_the_users_language(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, legacy_calls: list[ServiceCall]
) -> None:
    """In German, the planner's reason is German too (from its explanations)."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=notifying(TOU_OPTIONS)))
    await _cheapest(hass, departure="21:00:00")
    hass.config.language = "de"  # after the set-up: the entity IDs stay English
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    plan = coordinator.plan_for(coordinator.chargers["charger1"])
    assert plan is not None
    (explanation,) = plan["explanations"]
    assert len(legacy_calls) == 1
    assert legacy_calls[0].data["title"] == "Garage: Ladeziel nicht erreichbar"
    message = legacy_calls[0].data["message"]
    kwh = f"{explanation['kwh']:.1f}"
    assert message.startswith(
        "Das Fahrzeug an Garage wird sein Ladeziel nicht erreichen: bei Abfahrt um 21:00 "
        f"fehlen selbst mit voller Leistung {kwh} kWh; fertig um "
    )
    assert "departure" not in message


async def test_local_load_control_event_starting(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, legacy_calls: list[ServiceCall]
) -> None:
    """A local DLC event begins while the car is plugged in: one notification with its limit."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=notifying(TOU_OPTIONS)))
    start = datetime.fromisoformat("2026-11-23T20:51:00+00:00")
    await coordinator.async_add_local_event(
        "load_control", start, start + timedelta(minutes=30), limit_kw=4.2, name="Grid peak"
    )
    await _plug_demo(hass)
    await advance(hass, freezer, 30)
    assert legacy_calls == []  # not yet begun

    await advance(hass, freezer, 60)
    assert len(legacy_calls) == 1
    assert legacy_calls[0].data == {
        "title": "Grid peak started",
        "message": "Grid peak runs from 20:51 to 21:21: charging on Garage is limited to 4.2 kW.",
    }
    await advance(hass, freezer, 60)
    assert len(legacy_calls) == 1


async def test_event_in_progress_at_plug_in_and_price_event(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, legacy_calls: list[ServiceCall]
) -> None:
    """An event that begins with nothing plugged in is announced at the plug-in, as in
    progress, once; a price event beginning later is announced as started."""
    freezer.move_to(EVENING)
    coordinator = await setup(hass, make_entry(options=notifying(TOU_OPTIONS)))
    now = datetime.fromisoformat(EVENING)
    await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=1), limit_kw=3.0, name="Unplugged"
    )
    await advance(hass, freezer, 10)
    assert legacy_calls == []  # nothing plugged in
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    assert [c.data for c in legacy_calls] == [
        {
            "title": "Unplugged in progress",
            "message": "Unplugged runs from 20:50 to 21:50: charging on Garage is limited to 3 kW.",
        }
    ]
    await advance(hass, freezer, 30)
    assert len(legacy_calls) == 1  # once per session

    start = now + timedelta(minutes=1)
    await coordinator.async_add_local_event(
        "price", start, start + timedelta(hours=2), price=0.9, name="Critical peak"
    )
    await advance(hass, freezer, 60)
    assert len(legacy_calls) == 2
    assert legacy_calls[1].data["title"] == "Critical peak started"
    assert legacy_calls[1].data["message"] == (
        "Critical peak runs from 20:51 to 22:51: electricity costs 0.9 EUR per kWh while a "
        "vehicle charges on Garage."
    )


async def test_event_in_progress_not_repeated_after_restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, legacy_calls: list[ServiceCall]
) -> None:
    """A session and an event that were there before Home Assistant (re)started are not
    announced again."""
    freezer.move_to(EVENING)
    entry = make_entry(options=notifying(TOU_OPTIONS))
    coordinator = await setup(hass, entry)
    now = datetime.fromisoformat(EVENING)
    await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=1), limit_kw=3.0, name="Grid peak"
    )
    await _plug_demo(hass)
    await advance(hass, freezer, 10)
    assert len(legacy_calls) == 1

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    assert coordinator.chargers["charger1"].session is not None  # the session was restored
    await advance(hass, freezer, 30)
    assert len(legacy_calls) == 1


async def test_unknown_vehicle_not_bound_after_window(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, legacy_calls: list[ServiceCall]
) -> None:
    """No vehicle ID when the validation window ends: how to bind it, once."""
    freezer.move_to(EVENING)
    point = ChargePoint(hass, "cp", "sensor.meter_energy")
    point.install()
    coordinator = await setup(
        hass, make_entry(charger=CP, vehicles=[GUEST_CAR], options=notifying(OPTIONS))
    )
    await point.status("Preparing")
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert session.pev_id is None
    await advance(hass, freezer, 55)
    assert legacy_calls == []  # the window (60 s) is not over
    await advance(hass, freezer, 10)
    assert len(legacy_calls) == 1
    assert legacy_calls[0].data["title"] == "Driveway: vehicle not bound"
    assert (
        "no vehicle ID was known when the validation window ended"
        in (legacy_calls[0].data["message"])
    )
    assert "pev_portal.bind_vehicle" in legacy_calls[0].data["message"]
    await advance(hass, freezer, 120)
    assert len(legacy_calls) == 1


async def test_vehicle_bound_within_window_not_notified(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, legacy_calls: list[ServiceCall]
) -> None:
    """Bound by the user within the window: nothing is sent."""
    freezer.move_to(EVENING)
    point = ChargePoint(hass, "cp", "sensor.meter_energy")
    point.install()
    coordinator = await setup(
        hass,
        make_entry(charger=CP, vehicles=[GUEST_CAR], options=notifying(OPTIONS)),
    )
    await point.status("Preparing")
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert session.pev_id is None
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "charger1"), "premise1")
    assert device is not None
    await advance(hass, freezer, 20)
    await hass.services.async_call(
        DOMAIN,
        "bind_vehicle",
        {"device_id": device.id, "pev_id": GUEST_CAR["pev_id"]},
        blocking=True,
    )
    await advance(hass, freezer, 120)
    assert coordinator.chargers["charger1"].session is session
    assert session.pev_id == GUEST_CAR["pev_id"]
    assert state(hass, "sensor.driveway_binding") == "guest_premise_pays"
    assert legacy_calls == []


async def test_failing_target_never_breaks_charging(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A target that is gone, then one that raises: logged once each time, the session goes on."""
    caplog.set_level(logging.DEBUG, logger="custom_components.pev_portal.notifications")
    coordinator = await _ignoring_charger(hass, freezer, notifying(TOU_OPTIONS, "notify.gone"))
    runtime = coordinator.chargers["charger1"]
    start = datetime.fromisoformat(EVENING) + timedelta(minutes=1)
    await coordinator.async_add_local_event(
        "load_control", start, start + timedelta(minutes=30), limit_kw=4.2, name="Grid peak"
    )
    await advance(hass, freezer, 60)
    failures = [r for r in caplog.records if "Notification to notify.gone failed" in r.message]
    assert len(failures) == 2  # the ignored command and the event
    assert [r.levelno for r in failures] == [logging.WARNING, logging.DEBUG]
    assert runtime.session is not None
    assert runtime.session.state is not SessionState.COMPLETED

    def _raise(call: ServiceCall) -> None:
        raise HomeAssistantError("push service down")

    hass.services.async_register("notify", "gone", _raise)
    coordinator.notifier.target_unreachable(runtime, "a reason")
    await hass.async_block_till_done()
    assert "push service down" in caplog.text
    assert runtime.session is not None
    assert state(hass, f"sensor.{GARAGE}_session_state") in ("charging", "paused")


async def test_diagnostics_redact_target(
    hass: HomeAssistant, legacy_calls: list[ServiceCall]
) -> None:
    """The notify target (often a person's phone) is redacted in diagnostics."""
    entry = make_entry(options=notifying(OPTIONS))
    await setup(hass, entry)
    found = await async_get_config_entry_diagnostics(hass, entry)
    assert found["entry"]["options"]["notify_target"] == "**REDACTED**"


# -- with the utility --------------------------------------------------------------------------


def _linked(vtn: TestVtn, callback: str, **options: Any) -> MockConfigEntry:
    return linked_entry(vtn, callback, options=notifying(OPTIONS, **options))


def _sent(calls: list[ServiceCall], title: str) -> Callable[[], bool]:
    return lambda: any(c.data["title"] == title for c in calls)


async def test_not_enrolled_and_utility_event(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, legacy_calls: list[ServiceCall]
) -> None:
    """The utility says NOT_ENROLLED: bind notification; its DLC event begins: announced."""
    vtn.deny("PEV-DEMO-0001")
    await setup(hass, _linked(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "not_enrolled")
    await wait_for(hass, _sent(legacy_calls, "Garage: vehicle not bound"))
    message = legacy_calls[0].data["message"]
    assert "not bound to the program (the utility reports it as not enrolled)" in message
    assert "pev_portal.bind_vehicle" in message

    vtn.create_dlc_event(7.0, now_utc() + timedelta(seconds=1), timedelta(hours=1))
    await wait_for(hass, lambda: len(legacy_calls) == 2)
    assert legacy_calls[1].data["title"].endswith("started")
    assert "limited to 7 kW" in legacy_calls[1].data["message"]
    assert [c.data["title"] for c in legacy_calls].count("Garage: vehicle not bound") == 1
