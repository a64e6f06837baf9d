"""A whole session through the demo charger: plug, bind, charge, pause, unplug."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .common import advance, state

GARAGE = "garage"


async def test_demo_session(
    hass: HomeAssistant, loaded_demo: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Plug in, get bound as home, charge, pause, resume, unplug; check states and events."""
    events: dict[str, list[Event]] = {"started": [], "bound": [], "ended": []}
    for name in events:
        hass.bus.async_listen(f"pev_portal_session_{name}", events[name].append)

    assert state(hass, f"sensor.{GARAGE}_session_state") == "unplugged"
    assert state(hass, f"binary_sensor.{GARAGE}_plugged_in") == "off"

    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done()
    assert state(hass, f"binary_sensor.{GARAGE}_plugged_in") == "on"
    assert state(hass, f"sensor.{GARAGE}_binding") == "home"
    assert state(hass, f"sensor.{GARAGE}_billing_party") == "premise_customer"
    assert state(hass, f"select.{GARAGE}_vehicle") == "Family car"
    assert len(events["started"]) == 1
    assert events["started"][0].data["pev_id"] == "PEV-DEMO-0001"
    assert events["started"][0].data["vehicle_source"] == "charger"
    assert events["bound"][0].data["outcome"] == "home"

    await advance(hass, freezer, 10)
    assert state(hass, f"sensor.{GARAGE}_session_state") == "charging"
    assert state(hass, f"binary_sensor.{GARAGE}_charging") == "on"
    assert float(state(hass, f"sensor.{GARAGE}_charging_power")) == 11.0

    await advance(hass, freezer, 30 * 60)
    energy = float(state(hass, f"sensor.{GARAGE}_session_energy"))
    # 11 kW (the car's on-board charger limit) for about 30 minutes.
    assert 5.45 < energy < 5.56
    cost = float(state(hass, f"sensor.{GARAGE}_session_cost"))
    assert abs(cost - energy * 0.20) < 0.01

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": f"switch.{GARAGE}_charging_enabled"}, blocking=True
    )
    await advance(hass, freezer, 10)
    assert state(hass, f"sensor.{GARAGE}_session_state") == "paused"
    paused_energy = float(state(hass, f"sensor.{GARAGE}_session_energy"))
    await advance(hass, freezer, 60)
    assert float(state(hass, f"sensor.{GARAGE}_session_energy")) == paused_energy

    await hass.services.async_call(
        "button", "press", {"entity_id": f"button.{GARAGE}_charge_now"}, blocking=True
    )
    await advance(hass, freezer, 10)
    assert state(hass, f"sensor.{GARAGE}_session_state") == "charging"

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"}, blocking=True
    )
    await hass.async_block_till_done()
    assert state(hass, f"sensor.{GARAGE}_session_state") == "unplugged"
    assert state(hass, f"binary_sensor.{GARAGE}_plugged_in") == "off"
    assert len(events["ended"]) == 1
    ended = events["ended"][0].data
    assert ended["outcome"] == "home"
    assert ended["program_rate"] is True
    assert ended["interval_count"] >= 3
    assert ended["data_quality"] == "OK"
    assert abs(ended["energy_kwh"] - float(state(hass, f"sensor.{GARAGE}_session_energy"))) < 1e-3
