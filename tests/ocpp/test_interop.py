"""PEV Portal on the OCPP preset, against lbbrhzn/ocpp's behaviour and a real OCPP 1.6J link.

Home Assistant runs the ``ocpp`` emulation (tests/ocpp/ocpp_emulation: lbbrhzn/ocpp 0.8.0's
entities and update rules); a simulated charge point talks OCPP 1.6J to it over a websocket on
127.0.0.1; PEV Portal maps the charger's device through its OCPP preset. What the charge point
receives (every SetChargingProfile) and reports (meterStart/meterStop) is the reference.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from websockets.exceptions import ConnectionClosed

from custom_components.pev_portal.presets import preset_mapping
from tests.components.common import attrs, state
from tests.ocpp.charge_point import SimChargePoint
from tests.ocpp.harness import CP_ID, CPID, HOME_TAG, Site, make_site

DRIVEWAY = "driveway"
VISITOR_CARD = "RFID-0042"  # a card the premise does not know


async def _switch(hass: HomeAssistant, service: str, entity_id: str) -> None:
    await hass.services.async_call("switch", service, {ATTR_ENTITY_ID: entity_id}, blocking=True)


def _session_id(site: Site) -> str:
    session = site.coordinator.chargers["charger1"].session
    assert session is not None
    return session.session_id


async def test_entities_as_lbbrhzn_names_them(hass: HomeAssistant, site: Site) -> None:
    """The emulation's entities, unique IDs and units, and what the OCPP preset maps."""
    registry = er.async_get(hass)
    expected = {
        "sensor.charger_status_connector": "ocpp.charger.status_connector.sensor",
        "sensor.charger_power_active_import": "ocpp.charger.power_active_import.sensor",
        "sensor.charger_energy_active_import_register": (
            "ocpp.charger.energy_active_import_register.sensor"
        ),
        "sensor.charger_energy_session": "ocpp.charger.energy_session.sensor",
        "sensor.charger_current_offered": "ocpp.charger.current_offered.sensor",
        "sensor.charger_id_tag": "ocpp.charger.id_tag.sensor",
        "number.charger_maximum_current": "number.ocpp.charger.maximum_current",
        "switch.charger_charge_control": "switch.ocpp.charger.charge_control",
        "button.charger_reset": "button.ocpp.charger.reset",
        "button.charger_unlock": "button.ocpp.charger.unlock",
    }
    for entity_id, unique_id in expected.items():
        entry = registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert (entry.platform, entry.unique_id, entry.translation_key) == ("ocpp", unique_id, None)
    assert attrs(hass, "sensor.charger_energy_active_import_register")["unit_of_measurement"] == (
        "kWh"
    )
    assert attrs(hass, "sensor.charger_power_active_import")["unit_of_measurement"] == "kW"
    number = attrs(hass, "number.charger_maximum_current")
    assert (number["min"], number["max"], number["unit_of_measurement"]) == (0, 32.0, "A")
    assert hass.services.has_service("ocpp", "set_charge_rate")

    assert site.premise is not None
    charger = dict(site.premise.subentries["charger1"].data)
    assert charger == charger | {
        "preset": "ocpp",
        "status_entity": "sensor.charger_status_connector",
        "switch_entity": "switch.charger_charge_control",
        "current_entity": "number.charger_maximum_current",
        "power_entity": "sensor.charger_power_active_import",
        "energy_entity": "sensor.charger_energy_active_import_register",
        "vehicle_id_entity": "sensor.charger_id_tag",
        "meter_start_entity": "sensor.charger_energy_meter_start",
        "session_energy_entity": "sensor.charger_energy_session",
        "transaction_entity": "sensor.charger_transaction_id",
        "ocpp_devid": CP_ID,
    }


async def test_home_session_start_to_end(hass: HomeAssistant, site: Site) -> None:
    """The home card: bound home at the program rate, charged, ended at unplug."""
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "unplugged"
    await site.cp.plug_in(HOME_TAG)
    await site.settle()
    assert state(hass, "sensor.charger_status_connector") == "Charging"
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "charging"
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "home"
    assert state(hass, f"select.{DRIVEWAY}_vehicle") == "Family car"
    session_id = _session_id(site)

    await site.run(20 * 60)
    assert float(state(hass, f"sensor.{DRIVEWAY}_charging_power")) == pytest.approx(7.36)
    # Nothing asked the charge point for less than its maximum.
    assert all(p.limit >= 6 for p in site.cp.profiles)

    delivered_wh = await site.cp.unplug()
    await site.settle()
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "unplugged"
    assert [e["session_id"] for e in site.events] == [session_id]
    summary = site.events[0]
    assert summary["outcome"] == "home"
    # Within one meter interval of the charge point's own count (edges: see the xfail below).
    interval_wh = 7360 * 60 / 3600
    assert summary["energy_kwh"] * 1000 == pytest.approx(delivered_wh, abs=2 * interval_wh)


async def test_cap_is_never_exceeded_at_the_charge_point(hass: HomeAssistant, site: Site) -> None:
    """A 2.3 kW load-control event: no limit above 10 A reaches the charge point while it
    lasts, from plug-in to its end, and the charge point draws no more."""
    now = dt_util.utcnow()
    end = now + timedelta(minutes=40)
    await site.coordinator.async_add_local_event("load_control", now, end, limit_kw=2.3)
    await site.settle()
    await site.cp.plug_in(HOME_TAG)
    await site.settle()
    drawn: list[float] = []
    for _ in range(30):
        await site.run(60)
        drawn.append(site.cp.power_w())
    during = list(site.cp.profiles)
    assert during, "the cap was never sent to the charge point"
    assert max(p.limit for p in during) <= 10.0, during
    assert all(p.unit == "A" for p in during)
    assert max(drawn) <= 2300
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "charging"

    await site.run(11 * 60)  # past the event's end: the full current is back
    assert site.cp.profiles[-1].limit == 32.0
    assert site.cp.power_w() == pytest.approx(7360)


async def test_pause_and_resume(hass: HomeAssistant, site: Site) -> None:
    """Pausing sends 0 A (the transaction stays, SuspendedEVSE); resuming the maximum."""
    await site.cp.plug_in(HOME_TAG)
    await site.settle()
    await site.run(120)
    session_id = _session_id(site)

    await _switch(hass, "turn_off", f"switch.{DRIVEWAY}_charging_enabled")
    await site.settle()
    assert site.cp.profiles[-1].limit == 0.0
    assert site.cp.profiles[-1].purpose == "ChargePointMaxProfile"
    assert state(hass, "sensor.charger_status_connector") == "SuspendedEVSE"
    assert site.cp.conns[1].transaction_id != 0
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "paused"
    await site.run(300)
    assert site.cp.power_w() == 0

    await _switch(hass, "turn_on", f"switch.{DRIVEWAY}_charging_enabled")
    await site.settle()
    assert site.cp.profiles[-1].limit == 32.0
    assert state(hass, "sensor.charger_status_connector") == "Charging"
    await site.run(120)
    assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "charging"
    assert _session_id(site) == session_id


async def test_restart_mid_session(hass: HomeAssistant, site: Site) -> None:
    """Home Assistant restarts while the car charges: the charge point queues its readings,
    reconnects, and the session goes on bound as before, its energy counted."""
    await site.cp.plug_in(HOME_TAG)
    await site.settle()
    await site.run(10 * 60)
    session_id = _session_id(site)
    before = float(state(hass, f"sensor.{DRIVEWAY}_session_energy"))

    await site.stop()
    assert state(hass, "sensor.charger_status_connector") == STATE_UNAVAILABLE
    await site.run(5 * 60)  # offline: five samples queued
    assert not site.cp.connected
    await site.start()
    await site.connect()
    assert state(hass, "sensor.charger_status_connector") == "Charging"
    assert _session_id(site) == session_id
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "home"
    await site.run(5 * 60)
    after = float(state(hass, f"sensor.{DRIVEWAY}_session_energy"))
    # The five offline minutes are in the session (7.36 kW: 0.613 kWh per five minutes).
    assert after - before == pytest.approx(2 * 0.6133, abs=0.13)

    delivered_wh = await site.cp.unplug()
    await site.settle()
    assert [e["session_id"] for e in site.events] == [session_id]
    assert site.events[0]["outcome"] == "home"
    assert site.events[0]["energy_kwh"] * 1000 == pytest.approx(delivered_wh, abs=2 * 122.7)


async def test_charge_point_offline(hass: HomeAssistant, site: Site) -> None:
    """A charge point that dropped off: its entities are unavailable and the charge-rate
    service refuses (lbbrhzn raises), which PEV Portal must survive."""
    await site.cp.disconnect()
    await site.settle()
    assert state(hass, "number.charger_maximum_current") == STATE_UNAVAILABLE
    assert state(hass, "sensor.charger_status_connector") == STATE_UNAVAILABLE
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "ocpp", "set_charge_rate", {"devid": CPID, "limit_amps": 10}, blocking=True
        )
    await _switch(hass, "turn_off", f"switch.{DRIVEWAY}_charging_enabled")
    await site.settle()
    assert site.cp.profiles == []


async def test_unknown_charge_point_is_turned_away(hass: HomeAssistant, site: Site) -> None:
    """A charge point the entry does not list is disconnected (lbbrhzn starts a discovery
    flow instead, which the emulation leaves out)."""
    stranger = SimChargePoint("CP-STRANGER", site.cp.url)
    with pytest.raises(ConnectionClosed):
        await stranger.connect()
    assert state(hass, "sensor.charger_status_connector") == "Available"


async def test_session_time_and_refused_limit(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """A charge point that refuses every charging profile: the number puts its last accepted
    value back (none yet: unknown) and raises, as lbbrhzn's does; the session's minutes count."""
    site = await make_site(hass, freezer, refuse_profiles=True)
    try:
        await site.cp.plug_in(HOME_TAG)
        await site.settle()
        await site.run(10 * 60)
        assert state(hass, "sensor.charger_time_session") == "10"
        with pytest.raises(HomeAssistantError, match=r"did not accept 8\.0 A"):
            await hass.services.async_call(
                "number",
                "set_value",
                {ATTR_ENTITY_ID: "number.charger_maximum_current", "value": 8},
                blocking=True,
            )
        await site.settle()
        purposes = [p.purpose for p in site.cp.profiles]
        assert purposes == ["ChargePointMaxProfile", "TxProfile", "TxDefaultProfile"]
        assert state(hass, "number.charger_maximum_current") == "unknown"
        assert site.cp.power_w() == pytest.approx(7360)
    finally:
        await site.cp.disconnect()


async def test_multi_connector_charger_preset(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """Two connectors: lbbrhzn puts each connector's entities on its own device (via the
    charger's); the preset maps a connector's device, never the charger-level status, and
    names the charge point (not the connector device) for ocpp.set_charge_rate."""
    site = await make_site(hass, freezer, connectors=2)
    try:
        devices = dr.async_get(hass)
        root = devices.async_get_device_by_identifier(("ocpp", CPID), site.ocpp.entry_id)
        assert root is not None
        connector = next(
            d
            for d in dr.async_entries_for_config_entry(devices, site.ocpp.entry_id)
            if ("ocpp", f"{CPID}-conn2") in d.identifiers
        )
        assert connector.via_device_id == root.id
        assert connector.name == f"{CPID} Connector 2"

        preset, found = preset_mapping(hass, connector.id)
        assert preset == "ocpp"
        assert found == {
            "status_entity": "sensor.charger_connector_2_status_connector",
            "switch_entity": "switch.charger_connector_2_charge_control",
            "current_entity": "number.charger_connector_2_maximum_current",
            "power_entity": "sensor.charger_connector_2_power_active_import",
            "energy_entity": "sensor.charger_connector_2_energy_active_import_register",
            # The connector's own transaction registers (the session's edges).
            "meter_start_entity": "sensor.charger_connector_2_energy_meter_start",
            "session_energy_entity": "sensor.charger_connector_2_energy_session",
            "transaction_entity": "sensor.charger_connector_2_transaction_id",
            "ocpp_devid": CP_ID,
        }
        # The charger's own device has only charger-level entities: no connector status.
        _, on_root = preset_mapping(hass, root.id)
        assert "status_entity" not in on_root

        await site.cp.plug_in(HOME_TAG, connector_id=2)
        await site.settle()
        await site.run(60)
        assert state(hass, "sensor.charger_connector_2_status_connector") == "Charging"
        assert state(hass, "sensor.charger_connector_1_status_connector") == "Available"
        assert float(state(hass, "sensor.charger_connector_2_power_active_import")) == 7.36
        # The charger-level status is connector 0's: never Charging.
        assert state(hass, "sensor.charger_status") == "Available"
    finally:
        await site.cp.disconnect()


# -- known bugs: the lead fixes them in the sessions code and removes the marks -------------


async def test_visitor_after_home_session_is_billed_as_guest(
    hass: HomeAssistant, site: Site
) -> None:
    """lbbrhzn's charger-level Id tag still shows the home card when the visitor plugs in:
    that stale value is never used; the visitor's own card, when it arrives, re-identifies
    and re-binds the session and re-prices it from its first interval."""
    reidentified: list[dict[str, object]] = []
    hass.bus.async_listen(
        "pev_portal_session_reidentified", lambda event: reidentified.append(dict(event.data))
    )
    await site.cp.plug_in(HOME_TAG)
    await site.settle()
    await site.run(10 * 60)
    home_wh = await site.cp.unplug()
    await site.settle()
    await site.run(30 * 60)
    # The stale tag, as lbbrhzn shows it: the home card, half an hour after it left.
    assert state(hass, "sensor.charger_id_tag") == HOME_TAG
    assert site.cp.last_tag == HOME_TAG

    await site.cp.plug_in(VISITOR_CARD)
    await site.settle()
    assert state(hass, "sensor.charger_id_tag") == VISITOR_CARD
    assert state(hass, f"sensor.{DRIVEWAY}_binding") != "home"
    await site.run(10 * 60)
    visitor_wh = await site.cp.unplug()
    await site.settle()
    home, visitor = site.events
    assert (home["outcome"], home["program_rate"]) == ("home", True)
    assert visitor["outcome"] == "guest_premise_pays", visitor
    assert (visitor["billing_party"], visitor["program_rate"]) == ("premise_customer", False)
    assert visitor["pev_id"] == VISITOR_CARD
    # Every interval of the visitor's session is priced on the default rate (0.40/kWh, the
    # program's is 0.20).
    assert float(visitor["cost"]) == pytest.approx(visitor["energy_kwh"] * 0.40, abs=0.001)
    # Each session has its own transaction's energy: nothing of one carried into the other.
    assert home["energy_kwh"] * 1000 == pytest.approx(home_wh, abs=1.0)
    assert visitor["energy_kwh"] * 1000 == pytest.approx(visitor_wh, abs=1.0)

    # The session's history and the bus say what happened (the plug-in before the card:
    # first the default vehicle, then the visitor's card).
    session = site.coordinator.chargers["charger1"].last_session
    assert session is not None
    assert [r["to_pev_id"] for r in session.reidentified] == [VISITOR_CARD]
    assert session.reidentified[0]["from_source"] == "default"
    assert [r["pev_id"] for r in reidentified] == [VISITOR_CARD]
    assert reidentified[0]["session_id"] == visitor["session_id"]


async def test_refused_pause_moves_on_to_the_next_way(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    site = await make_site(hass, freezer, refuse_profiles=True)
    try:
        await site.start_premise()
        await site.cp.plug_in(HOME_TAG)
        await site.settle()
        await site.run(120)
        with contextlib.suppress(HomeAssistantError):
            await _switch(hass, "turn_off", f"switch.{DRIVEWAY}_charging_enabled")
        await site.settle()
        await site.run(5 * 60)
        assert site.cp.power_w() == 0
        coordinator = site.coordinator
        trail = coordinator.audit.trail(coordinator.chargers["charger1"])
        pauses = [c for c in trail if not c["enabled"]]
        print([(c["via"], c.get("error"), c.get("escalated_to")) for c in pauses])
        # The refusal is in the trail, and the charge was paused another way at once.
        assert pauses[0]["via"] == "current_zero"
        assert "instead" in (pauses[0]["error"] or "")
        assert pauses[-1]["error"] is None
        assert pauses[-1]["via"] != "current_zero"
        assert state(hass, f"sensor.{DRIVEWAY}_session_state") == "paused"
    finally:
        await site.cp.disconnect()


async def test_session_energy_matches_the_transaction(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """100 Wh at 3.6 kW (1 Wh a second), sampled every 15 s: the session's energy at unplug
    equals meterStop - meterStart to within 1 Wh."""
    site = await make_site(hass, freezer, meter_interval=15, ev_max_a=16, voltage=225)
    try:
        await site.start_premise()
        await site.cp.plug_in(HOME_TAG)
        await site.settle()
        await site.run(100)
        delivered_wh = await site.cp.unplug()
        await site.settle()
        assert delivered_wh == 100
        measured_wh = site.events[0]["energy_kwh"] * 1000
        missing = delivered_wh - measured_wh
        print(
            f"session energy {measured_wh:.1f} Wh, transaction {delivered_wh} Wh "
            f"(meterStop - meterStart): {missing:.1f} Wh missing"
        )
        assert abs(missing) <= 1.0
    finally:
        await site.cp.disconnect()
