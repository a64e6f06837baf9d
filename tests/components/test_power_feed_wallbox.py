"""Power feed on entity-mapped chargers (issue #18, the charger part): a Wallbox Quasar as Home
Assistant's core ``wallbox`` integration shows it, one whose charger refuses a negative current,
and a charger with a discharge-power number.

The Quasar is emulated from the core integration's code (read, not copied), home-assistant/core:

* ``homeassistant/components/wallbox/const.py`` (commit
  ``012174b0b5f1f000c98e5c88e1cce8cf86b1f0f4``): ``BIDIRECTIONAL_MODEL_PREFIXES = ["QS"]``,
  the keys ``added_discharged_energy``, ``max_charging_current``, ``status_description``,
  and the status strings ("Charging", "Discharging", "Paused", "Ready", ...).
* ``homeassistant/components/wallbox/number.py``: a Quasar's ``maximum_charging_current``
  number has ``min`` minus the charger's ``max_available_power`` (amperes), ``max`` that, step 1;
  its value is sent to the Wallbox API's ``setMaxChargingCurrent`` as is, negative included.
* ``homeassistant/components/wallbox/coordinator.py`` (commit
  ``9b003b04d1b985f97b177165792c4c43a48f5eca``): ``async_set_charging_current`` passes the value
  to the API (an HTTP error is raised to the caller); status 196 is "Discharging".
* ``homeassistant/components/wallbox/sensor.py``: ``added_discharged_energy`` beside
  ``added_energy`` (kWh, energy, total increasing, two decimals), ``charging_power`` in kW.

Known quirks kept: the current number's key says "power" but holds amperes; one number carries
both directions; the integration does not set the sign of ``charging_power`` while discharging
(here it reads negative, the assumption docs/power-feed.md asks to check on a real Quasar);
the pause switch pauses either direction.
"""

from __future__ import annotations

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.pev_portal.adapters import EntityCharger
from custom_components.pev_portal.charging.controller import FAILURES_FOR_ISSUE, UNKNOWN
from custom_components.pev_portal.const import DOMAIN, ISSUE_COMMAND_FAILING

from .common import advance, setup
from .conftest import HOME_CAR, make_entry
from .feed_helpers import feed_targets
from .test_entity_charger import CP, ChargePoint

START = "2026-11-22T10:00:00+00:00"
KWH = {"unit_of_measurement": "kWh", "device_class": "energy", "state_class": "total_increasing"}
QUASAR = {
    "charger_name": "Quasar",
    "charger_type": "entities",
    "preset": "wallbox",
    "status_entity": "sensor.quasar_status_description",
    "switch_entity": "switch.quasar_pause_resume",
    "current_entity": "number.quasar_maximum_charging_current",
    "power_entity": "sensor.quasar_charging_power",
    "energy_entity": "sensor.quasar_added_energy",
    "discharged_energy_entity": "sensor.quasar_added_discharged_energy",
    "meter_source": "sensor",
    "meter_entity": "sensor.meter_energy",
}


class Quasar:
    """A Wallbox Quasar (32 A, one phase) as the core integration's entities show it, with a
    car behind it. ``reject_negative``: the charger refuses a negative current (the API's
    HTTP error, raised by ``number.set_value``) though its number's ``min`` is below zero."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        reject_negative: bool = False,
        ignore_negative: bool = False,
        min_a: float = -32,
    ) -> None:
        self.hass = hass
        self.reject_negative = reject_negative
        self.ignore_negative = ignore_negative  # takes a negative current, goes on charging
        self.min_a = min_a  # -max_available_power on a Quasar, 6 A on other models
        self.current = 32.0
        self.paused = False
        self.plugged = False
        self.added_kwh = 0.0
        self.discharged_kwh = 0.0
        self.meter_kwh = 1000.0
        self.calls: list[str] = []
        self._publish()

    def install(self) -> None:
        """Its services (after PEV Portal's set-up, whose platforms register the domains')."""
        self.hass.services.async_register("number", "set_value", self._set_value)
        for service in ("turn_on", "turn_off"):
            self.hass.services.async_register("switch", service, self._switch)

    @property
    def power_kw(self) -> float:
        if not self.plugged or self.paused or -6 < self.current < 6:
            return 0.0
        return round(self.current * 230 / 1000, 2)

    def _status(self) -> str:
        if not self.plugged:
            return "Ready"
        if self.paused:
            return "Paused"
        if self.power_kw < 0:
            return "Discharging"
        return "Charging" if self.power_kw > 0 else "Waiting for car demand"

    def _publish(self) -> None:
        states = self.hass.states
        states.async_set("sensor.quasar_status_description", self._status())
        states.async_set("switch.quasar_pause_resume", "off" if self.paused else "on")
        states.async_set(
            "number.quasar_maximum_charging_current",
            f"{self.current:g}",
            {"min": self.min_a, "max": 32, "step": 1, "unit_of_measurement": "A"},
        )
        states.async_set(
            "sensor.quasar_charging_power",
            f"{self.power_kw:.2f}",
            {"unit_of_measurement": "kW", "device_class": "power"},
        )
        states.async_set("sensor.quasar_added_energy", f"{self.added_kwh:.2f}", KWH)
        states.async_set("sensor.quasar_added_discharged_energy", f"{self.discharged_kwh:.2f}", KWH)
        states.async_set("sensor.meter_energy", f"{self.meter_kwh:.3f}", KWH)

    async def _set_value(self, call: ServiceCall) -> None:
        value = float(call.data["value"])
        self.calls.append(f"current {value:g}")
        if value < 0 and self.reject_negative:
            raise HomeAssistantError("400 Bad Request: maxChargingCurrent out of range")
        if value < 0 and self.ignore_negative:
            return
        self.current = value
        self._publish()

    async def _switch(self, call: ServiceCall) -> None:
        if call.data[ATTR_ENTITY_ID] != "switch.quasar_pause_resume":
            return
        self.calls.append(call.service)
        self.paused = call.service == "turn_off"
        self._publish()

    async def plug(self) -> None:
        self.plugged = True
        self._publish()
        await self.hass.async_block_till_done()

    def run(self, seconds: float) -> None:
        """Energy at the present power: added or discharged, the meter counting imports."""
        kwh = self.power_kw * seconds / 3600
        if kwh >= 0:
            self.added_kwh += kwh
            self.meter_kwh += kwh
        else:
            self.discharged_kwh -= kwh
        self._publish()


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, quasar: Quasar, seconds: int
) -> None:
    for _ in range(seconds // 5):
        quasar.run(5)
        await advance(hass, freezer, 5)


async def _quasar(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[Any, Quasar]:
    freezer.move_to(START)
    quasar = Quasar(hass, **kwargs)
    coordinator = await setup(hass, make_entry(charger=config or QUASAR, vehicles=[HOME_CAR]))
    quasar.install()
    return coordinator, quasar


async def test_wallbox_quasar_feeds_by_a_negative_current(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Quasar's current number goes to -21 A for a 5 kW feed (its min -32 A is what makes
    it bidirectional, as for the core integration); status "Discharging" keeps the session
    active; back to charging it is paused first, then its current, then resumed."""
    coordinator, quasar = await _quasar(hass, freezer)
    runtime = coordinator.chargers["charger1"]
    adapter = runtime.adapter
    assert isinstance(adapter, EntityCharger)
    assert adapter.can_discharge()
    assert adapter.max_discharge_kw() == pytest.approx(7.36)  # 0..-min A, one phase
    assert adapter.describe()["discharge_range_kw"] == pytest.approx(7.36)  # diagnostics
    await quasar.plug()
    await _advance(hass, freezer, quasar, 20)
    assert runtime.session is not None
    # Its discharge state unknown at first: paused (stop of any feed), then charging.
    assert quasar.calls == ["turn_off", "current 32", "turn_on"]
    assert quasar.power_kw == pytest.approx(7.36)

    feeds = {"charger1": 5.0}
    feed_targets(monkeypatch, coordinator, feeds)
    quasar.calls.clear()
    await coordinator.smart.async_run_now()
    assert quasar.calls == ["current -21", "turn_on"]
    await _advance(hass, freezer, quasar, 60)
    assert hass.states.get("sensor.quasar_status_description").state == "Discharging"
    assert runtime.session is not None  # an active session, not an unknown status
    assert quasar.discharged_kwh > 0.05
    last = coordinator.smart.audit_for(runtime)[-1]
    assert (last["current_a"], last["via"], last["obeyed"]) == (-21, "current", True)
    assert last["target_kw"] == pytest.approx(-4.83)

    quasar.calls.clear()
    feeds.clear()
    await coordinator.smart.async_run_now()
    assert quasar.calls == ["turn_off", "current 32", "turn_on"]
    await _advance(hass, freezer, quasar, 20)
    assert quasar.power_kw == pytest.approx(7.36)
    assert coordinator.smart.audit_for(runtime)[-1]["obeyed"] is True


async def test_wallbox_refusing_a_negative_current_fails_retries_and_raises_the_issue(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Quasar whose API refuses the negative current: each discharge command fails with its
    error in the trail, the recorded state is rolled back, it is retried after 5 s and 10 s,
    and the third failure raises the repairs issue; the session goes on charging, metered.
    When the plan no longer feeds, the charge command goes through and the issue clears."""
    coordinator, quasar = await _quasar(hass, freezer, reject_negative=True)
    runtime = coordinator.chargers["charger1"]
    await quasar.plug()
    await _advance(hass, freezer, quasar, 20)
    feeds = {"charger1": 7.36}
    feed_targets(monkeypatch, coordinator, feeds)
    quasar.calls.clear()
    await coordinator.smart.async_run_now()
    assert quasar.calls == ["current -32"]
    assert coordinator.controller.commanded["charger1"] == UNKNOWN  # rolled back
    trail = coordinator.smart.audit_for(runtime)
    assert trail[-1]["error"] == "400 Bad Request: maxChargingCurrent out of range"
    assert (trail[-1]["measured_by"], trail[-1]["current_a"]) == ("failed", -32)
    issue_id = f"{ISSUE_COMMAND_FAILING}_premise1_charger1"
    registry = ir.async_get(hass)
    await _advance(hass, freezer, quasar, 5)
    assert quasar.calls == ["current -32"] * 2
    assert registry.async_get_issue(DOMAIN, issue_id) is None
    await _advance(hass, freezer, quasar, 10)
    assert quasar.calls == ["current -32"] * FAILURES_FOR_ISSUE
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["count"] == "3"

    # Nothing lost: the session goes on charging (the refused feed changed nothing), metered.
    assert runtime.session is not None
    assert quasar.power_kw == pytest.approx(7.36)
    meter = runtime.session.meter_kwh

    # The plan no longer feeds: the next try (20 s after the third) is the charge command.
    feeds.clear()
    await _advance(hass, freezer, quasar, 30)
    assert quasar.calls[FAILURES_FOR_ISSUE:] == ["turn_off", "current 32", "turn_on"]
    assert runtime.session.meter_kwh > meter
    assert registry.async_get_issue(DOMAIN, issue_id) is None
    assert coordinator.smart.audit_for(runtime)[-1]["error"] is None


async def test_a_one_way_wallbox_is_never_asked(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Wallbox whose current number starts at 6 A (not a Quasar) cannot discharge: a feed
    target pauses it by its switch, no negative current is ever sent."""
    coordinator, quasar = await _quasar(hass, freezer, min_a=6)
    await quasar.plug()
    await _advance(hass, freezer, quasar, 20)
    adapter = coordinator.chargers["charger1"].adapter
    assert not adapter.can_discharge()
    assert adapter.max_discharge_kw() == 0.0
    assert adapter.describe()["discharge_range_kw"] == 0.0
    feed_targets(monkeypatch, coordinator, {"charger1": 5.0})
    quasar.calls.clear()
    await coordinator.smart.async_run_now()
    assert quasar.calls == ["turn_off"]


@pytest.mark.parametrize(
    ("unit", "maximum", "sent", "amps"),
    [("W", 7400, 4830.0, 21), ("kW", 7.4, 4.83, 21), ("kW", 3.0, 2.99, 13)],
    ids=["watts", "kilowatts", "capped_at_its_max"],
)
async def test_discharge_power_number(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    unit: str,
    maximum: float,
    sent: float,
    amps: int,
) -> None:
    """An entity-mapped charger with a discharge-power number: a 5 kW feed is 21 A, sent as
    the number's power in its unit (at most its max, at whole amperes); stopping the feed sets it to 0 and pauses
    the charger by its switch. A number in amperes is no discharge power: never used."""
    freezer.move_to(START)
    point = ChargePoint(hass, "cp", "sensor.meter_energy")
    point.install()
    hass.states.async_set(
        "number.cp_discharge", "0", {"min": 0, "max": maximum, "unit_of_measurement": unit}
    )
    config = {**CP, "discharge_entity": "number.cp_discharge"}
    coordinator = await setup(hass, make_entry(charger=config))
    numbers = async_mock_service(hass, "number", "set_value")
    switches = async_mock_service(hass, "switch", "turn_off")
    async_mock_service(hass, "switch", "turn_on")
    runtime = coordinator.chargers["charger1"]
    assert runtime.adapter.can_discharge()
    assert runtime.adapter.max_discharge_kw() == pytest.approx(
        min(maximum * (1 if unit == "kW" else 0.001), 7.36)
    )
    await point.id_tag(HOME_CAR["pev_id"])
    await point.power(7360)
    await point.status("Charging")
    await advance(hass, freezer, 5)
    feeds = {"charger1": 5.0}
    feed_targets(monkeypatch, coordinator, feeds)
    numbers.clear()
    await coordinator.smart.async_run_now()
    expected_kw = min(4.83, sent if unit == "kW" else sent / 1000)
    assert [(c.data["entity_id"], c.data["value"]) for c in numbers] == [
        ("number.cp_discharge", sent)
    ]
    await point.power(-expected_kw * 1000)
    await advance(hass, freezer, 5)
    last = coordinator.smart.audit_for(runtime)[-1]
    assert (last["via"], last["obeyed"], last["current_a"]) == ("discharge", True, -amps)

    numbers.clear()
    switches.clear()
    feeds.clear()
    await coordinator.smart.async_run_now()
    assert next((c.data["entity_id"], c.data["value"]) for c in numbers) == (
        "number.cp_discharge",
        0,
    )
    assert [c.data["entity_id"] for c in switches] == ["switch.cp_charge"]

    # In amperes it is not a discharge power: the charger cannot discharge.
    hass.states.async_set(
        "number.cp_discharge", "0", {"min": 0, "max": 32, "unit_of_measurement": "A"}
    )
    assert not runtime.adapter.can_discharge()
    assert runtime.adapter.max_discharge_kw() == 0.0
    hass.states.async_set("number.cp_discharge", "0", {"max": None, "unit_of_measurement": "W"})
    assert not runtime.adapter.can_discharge()  # a damaged maximum: nothing to go by


async def test_charger_form_discharge_fields(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The charger form's discharge-power number must be in W or kW with a maximum above 0,
    its discharged-energy sensor an energy sensor; both are optional and stored when valid."""
    coordinator, _quasar_entities = await _quasar(hass, freezer)
    entry = coordinator.config_entry
    hass.states.async_set(
        "number.v2g_discharge_power", "0", {"min": 0, "max": 11000, "unit_of_measurement": "W"}
    )
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "charger"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"charger_name": "Bidirectional", "charger_type": "entities"}
    )
    assert result["step_id"] == "charger_entities"
    form = {
        "status_entity": "sensor.quasar_status_description",
        "power_entity": "sensor.quasar_charging_power",
        "energy_entity": "sensor.quasar_added_energy",
        "meter_source": "charger",
        "electrical": {
            "phases": "1",
            "voltage": 230.0,
            "max_current_a": 32.0,
            "min_current_a": 6.0,
        },
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            **form,
            "discharge_entity": "number.quasar_maximum_charging_current",  # amperes
            "discharged_energy_entity": "sensor.quasar_charging_power",  # a power sensor
        },
    )
    assert result["errors"] == {
        "discharge_entity": "not_discharge_power",
        "discharged_energy_entity": "not_energy_sensor",
    }
    hass.states.async_set("number.broken", "0", {"max": "n/a", "unit_of_measurement": "kW"})
    for entity, error in (("number.gone", "entity_not_found"), ("number.broken", None)):
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {**form, "discharge_entity": entity}
        )
        assert result["errors"] == {"discharge_entity": error or "not_discharge_power"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            **form,
            "discharge_entity": "number.v2g_discharge_power",
            "discharged_energy_entity": "sensor.quasar_added_discharged_energy",
        },
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()  # the entry reloads with the new charger
    assert result["data"]["discharge_entity"] == "number.v2g_discharge_power"
    assert result["data"]["discharged_energy_entity"] == "sensor.quasar_added_discharged_energy"
    assert "demo_bidirectional" not in result["data"]


@pytest.mark.parametrize("power_sensor", [True, False], ids=["by_its_power", "by_the_meter"])
async def test_a_wallbox_ignoring_a_discharge_is_found_out(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
    power_sensor: bool,
) -> None:
    """A Quasar that takes the negative current and goes on charging: the discharge is not
    obeyed (its power, or without a power sensor the meter's import, says it draws) and the
    ignored-discharge repairs issue is raised; the session goes on."""
    config = QUASAR if power_sensor else {k: v for k, v in QUASAR.items() if k != "power_entity"}
    coordinator, quasar = await _quasar(hass, freezer, config, ignore_negative=True)
    runtime = coordinator.chargers["charger1"]
    await quasar.plug()
    await _advance(hass, freezer, quasar, 20)
    feed_targets(monkeypatch, coordinator, {"charger1": 7.36})
    await coordinator.smart.async_run_now()
    await _advance(hass, freezer, quasar, 60)
    last = coordinator.smart.audit_for(runtime)[-1]
    assert last["target_kw"] == pytest.approx(-7.36)
    assert last["obeyed"] is False
    assert last["measured_by"] == ("charger" if power_sensor else "meter")
    assert last["measured_kw"] == pytest.approx(7.36, abs=0.05)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "charger_ignores_commands_premise1_charger1")
    assert issue is not None
    assert issue.translation_key == "charger_ignores_discharge"
    assert runtime.session is not None
    assert quasar.discharged_kwh == 0.0
