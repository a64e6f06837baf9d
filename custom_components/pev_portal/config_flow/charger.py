"""The charger and meter steps (config flow and charger subentry flow, incl. reconfigure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import probatio as vol
from homeassistant.config_entries import (
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers import selector

from .. import zigbee
from ..adapters import DISCHARGE_UNITS, is_energy_sensor, map_status, power_kw
from ..const import (
    CHARGER_TYPE_DEMO,
    CHARGER_TYPE_ENTITIES,
    CONF_CHARGER_NAME,
    CONF_CHARGER_TYPE,
    CONF_CURRENT_ENTITY,
    CONF_DEMO_BIDIRECTIONAL,
    CONF_DEVICE,
    CONF_DISCHARGE_ENTITY,
    CONF_DISCHARGED_ENERGY_ENTITY,
    CONF_ENERGY_ENTITY,
    CONF_MAX_CURRENT,
    CONF_METER_ENTITY,
    CONF_METER_SOURCE,
    CONF_METER_START_ENTITY,
    CONF_MIN_CURRENT,
    CONF_PHASES,
    CONF_POWER_ENTITY,
    CONF_PRESET,
    CONF_SESSION_ENERGY_ENTITY,
    CONF_START_BUTTON,
    CONF_STATUS_ENTITY,
    CONF_STOP_BUTTON,
    CONF_SWITCH_ENTITY,
    CONF_TRANSACTION_ENTITY,
    CONF_VEHICLE_ID_ENTITY,
    CONF_VOLTAGE,
    DEFAULT_MAX_CURRENT_A,
    DEFAULT_MIN_CURRENT_A,
    METER_SOURCE_CHARGER,
    METER_SOURCE_DEMO,
    METER_SOURCE_SENSOR,
    METER_SOURCE_ZHA,
    SECTION_ELECTRICAL,
)
from ..presets import PRESET_NAMES, preset_mapping
from ..texts import async_texts, text
from .helpers import Range, _box, entity_picker, other_integrations_device_picker, range_errors


class ChargerSteps[ResultT]:
    """The charger and meter steps, shared by the config flow and the charger subentry flow.

    ``ResultT`` is the flow's result type (ConfigFlowResult or SubentryFlowResult).
    """

    hass: HomeAssistant
    _charger: dict[str, Any]

    async def _async_charger_done(self, data: dict[str, Any]) -> ResultT:
        raise NotImplementedError

    if TYPE_CHECKING:
        # Provided by the flow handler this is mixed into. Declared for type checkers only: a
        # real method here would come first in the MRO and shadow the handler's.
        def async_show_form(self, **kwargs: Any) -> ResultT: ...

    def _charger_defaults(self) -> dict[str, Any]:
        return self._charger

    async def async_step_charger(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """Name the charger, choose the demo charger or existing entities, pick its device."""
        errors: dict[str, str] = {}
        defaults = self._charger_defaults()
        if user_input is not None:
            if not user_input[CONF_CHARGER_NAME].strip():
                errors[CONF_CHARGER_NAME] = "empty_name"
            else:
                device_id = user_input.pop(CONF_DEVICE, None)
                self._charger.update(user_input)
                if user_input[CONF_CHARGER_TYPE] == CHARGER_TYPE_DEMO:
                    # A mapped charger reconfigured as the demo one keeps no stale mapping.
                    for key in (
                        *_ENTITY_KEYS,
                        *_ELECTRICAL_KEYS,
                        *zigbee.ZHA_METER_KEYS,
                        CONF_PRESET,
                        CONF_METER_ENTITY,
                    ):
                        self._charger.pop(key, None)
                    self._charger[CONF_METER_SOURCE] = METER_SOURCE_DEMO
                    if not self._charger.get(CONF_DEMO_BIDIRECTIONAL):
                        self._charger.pop(CONF_DEMO_BIDIRECTIONAL, None)  # off: not stored
                    return await self._async_charger_done(self._charger)
                self._charger.pop(CONF_DEMO_BIDIRECTIONAL, None)  # the demo charger's only
                if device_id:
                    preset, found = preset_mapping(self.hass, device_id)
                    self._charger[CONF_PRESET] = preset
                    self._charger.update(found)
                return await self.async_step_charger_entities()
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_CHARGER_NAME, default=defaults.get(CONF_CHARGER_NAME, "Charger")
                ): str,
                vol.Required(
                    CONF_CHARGER_TYPE,
                    default=defaults.get(CONF_CHARGER_TYPE, CHARGER_TYPE_ENTITIES),
                ): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[CHARGER_TYPE_ENTITIES, CHARGER_TYPE_DEMO],
                        translation_key=CONF_CHARGER_TYPE,
                    )
                ),
                vol.Optional(CONF_DEVICE): other_integrations_device_picker(self.hass),
                # The demo charger as a bidirectional EVSE with a bidirectional car (power feed).
                vol.Optional(
                    CONF_DEMO_BIDIRECTIONAL,
                    description={
                        "suggested_value": bool(defaults.get(CONF_DEMO_BIDIRECTIONAL, False))
                    },
                ): selector.BooleanSelector(),
            }
        )
        return self.async_show_form(step_id="charger", data_schema=schema, errors=errors)

    def _meter_sources(self, current: str | None) -> list[str]:
        sources = [METER_SOURCE_SENSOR, METER_SOURCE_CHARGER]
        if current == METER_SOURCE_ZHA or zigbee.metering_devices(self.hass):
            sources.append(METER_SOURCE_ZHA)  # only offered when ZHA has a Metering device
        return sources

    async def async_step_charger_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ResultT:
        """Map the charger's entities, choose the end-use meter, check the wiring."""
        errors: dict[str, str] = {}
        placeholders = {"status": ""}
        if user_input is not None:
            errors, placeholders = self._validate_entities(user_input)
            electrical = dict(user_input.get(SECTION_ELECTRICAL) or {})
            errors = _validate_electrical(electrical) | self._validate_meter(user_input) | errors
            if not errors:
                for key in (*_ENTITY_KEYS, CONF_METER_ENTITY):
                    self._charger.pop(key, None)
                mapping = {k: v for k, v in user_input.items() if k != SECTION_ELECTRICAL}
                self._charger.update(mapping)
                self._charger.update(_electrical_data(electrical))
                if user_input[CONF_METER_SOURCE] == METER_SOURCE_ZHA:
                    return await self.async_step_meter()
                for key in zigbee.ZHA_METER_KEYS:
                    self._charger.pop(key, None)
                if user_input[CONF_METER_SOURCE] != METER_SOURCE_SENSOR:
                    self._charger.pop(CONF_METER_ENTITY, None)
                return await self._async_charger_done(self._charger)
        defaults = user_input or self._charger
        fields: dict[vol.Marker, Any] = {}
        for key, domains, device_class in _ENTITY_FIELDS:
            marker = vol.Required if key == CONF_STATUS_ENTITY else vol.Optional
            fields[marker(key, description={"suggested_value": defaults.get(key)})] = entity_picker(
                self.hass, domains, device_class
            )
        source = defaults.get(CONF_METER_SOURCE)
        sources = self._meter_sources(source)
        if source not in sources:  # e.g. "demo" when reconfiguring the demo charger
            source = (
                METER_SOURCE_CHARGER if defaults.get(CONF_ENERGY_ENTITY) else METER_SOURCE_SENSOR
            )
        fields[vol.Required(CONF_METER_SOURCE, default=source)] = selector.SelectSelector(
            selector.SelectSelectorConfig(options=sources, translation_key=CONF_METER_SOURCE)
        )
        fields[
            vol.Optional(
                CONF_METER_ENTITY, description={"suggested_value": defaults.get(CONF_METER_ENTITY)}
            )
        ] = entity_picker(self.hass, "sensor", "energy")
        shown: Mapping[str, Any] = self._charger
        if user_input is not None:  # shown again with what was entered
            shown = {**user_input, **(user_input.get(SECTION_ELECTRICAL) or {})}
        electrical = _electrical_defaults(self.hass, shown)
        # The section's own default is what the frontend fills in: the real values, so every
        # field is shown filled and valid (an empty default left them empty and required).
        fields[vol.Required(SECTION_ELECTRICAL, default=electrical)] = section(
            _electrical_schema(electrical), {"collapsed": False}
        )
        preset = self._charger.get(CONF_PRESET)
        note = ""
        if preset:
            note = text(
                await async_texts(self.hass),
                "flow_preset_used",
                {"preset": PRESET_NAMES.get(preset, preset)},
                default="Filled in for {preset} chargers: check each field.",
            )
        return self.async_show_form(
            step_id="charger_entities",
            data_schema=vol.Schema(fields),
            errors=errors,
            description_placeholders={**placeholders, "preset": note},
        )

    def _validate_meter(self, user_input: dict[str, Any]) -> dict[str, str]:
        source = user_input.get(CONF_METER_SOURCE)
        entity = user_input.get(CONF_METER_ENTITY)
        if source == METER_SOURCE_CHARGER and not user_input.get(CONF_ENERGY_ENTITY):
            return {CONF_METER_SOURCE: "no_charger_energy"}
        if source == METER_SOURCE_SENSOR and not entity:
            return {CONF_METER_ENTITY: "meter_required"}
        if source == METER_SOURCE_SENSOR and not is_energy_sensor(
            self.hass.states.get(entity or "")
        ):
            return {CONF_METER_ENTITY: "not_energy_sensor"}
        return {}

    def _validate_entities(
        self, user_input: dict[str, Any]
    ) -> tuple[dict[str, str], dict[str, str]]:
        errors: dict[str, str] = {}
        placeholders = {"status": ""}
        status = self.hass.states.get(user_input[CONF_STATUS_ENTITY])
        if status is None:
            errors[CONF_STATUS_ENTITY] = "entity_not_found"
        elif map_status(status.state) is None and status.state not in ("unavailable", "unknown"):
            errors[CONF_STATUS_ENTITY] = "unknown_status"
            placeholders["status"] = status.state
        has_switch = bool(user_input.get(CONF_SWITCH_ENTITY))
        start, stop = user_input.get(CONF_START_BUTTON), user_input.get(CONF_STOP_BUTTON)
        if bool(start) != bool(stop):
            errors["base"] = "buttons_in_pairs"
        elif has_switch and start:
            errors["base"] = "switch_or_buttons"
        for key in (
            CONF_SWITCH_ENTITY,
            CONF_START_BUTTON,
            CONF_STOP_BUTTON,
            CONF_CURRENT_ENTITY,
            CONF_VEHICLE_ID_ENTITY,
            CONF_TRANSACTION_ENTITY,
        ):
            if user_input.get(key) and self.hass.states.get(user_input[key]) is None:
                errors[key] = "entity_not_found"
        if power := user_input.get(CONF_POWER_ENTITY):
            state = self.hass.states.get(power)
            if state is None:
                errors[CONF_POWER_ENTITY] = "entity_not_found"
            elif state.attributes.get("unit_of_measurement") not in ("W", "kW") or (
                power_kw(state) is None and state.state not in ("unavailable", "unknown")
            ):
                errors[CONF_POWER_ENTITY] = "not_power_sensor"
        # The charger's register and the transaction's own registers (meterStart, its energy).
        for key in (
            CONF_ENERGY_ENTITY,
            CONF_METER_START_ENTITY,
            CONF_SESSION_ENERGY_ENTITY,
            CONF_DISCHARGED_ENERGY_ENTITY,
        ):
            energy = user_input.get(key)
            if energy and not is_energy_sensor(self.hass.states.get(energy)):
                errors[key] = "not_energy_sensor"
        if discharge := user_input.get(CONF_DISCHARGE_ENTITY):
            errors |= _discharge_errors(self.hass, discharge)
        return errors, placeholders

    async def async_step_meter(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """The Zigbee meter through ZHA: its device, scaling overrides, the ESI."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, zha_data = zigbee.validate_meter_form(self.hass, user_input)
            if not errors:
                for key in zigbee.ZHA_METER_KEYS:
                    self._charger.pop(key, None)
                self._charger.update(zha_data)
                self._charger[CONF_METER_SOURCE] = METER_SOURCE_ZHA
                self._charger.pop(CONF_METER_ENTITY, None)
                return await self._async_charger_done(self._charger)
        schema = vol.Schema(zigbee.meter_form_fields(user_input or self._charger))
        return self.async_show_form(step_id="meter", data_schema=schema, errors=errors)


_ENTITY_FIELDS: tuple[tuple[str, list[str], str | None], ...] = (
    (CONF_STATUS_ENTITY, ["sensor", "binary_sensor"], None),
    (CONF_SWITCH_ENTITY, ["switch"], None),
    (CONF_START_BUTTON, ["button", "input_button"], None),
    (CONF_STOP_BUTTON, ["button", "input_button"], None),
    (CONF_CURRENT_ENTITY, ["number", "input_number"], None),
    (CONF_POWER_ENTITY, ["sensor"], "power"),
    (CONF_ENERGY_ENTITY, ["sensor"], "energy"),
    (CONF_VEHICLE_ID_ENTITY, ["sensor"], None),
    # The charger's transaction registers (lbbrhzn/ocpp: Energy Meter Start, Energy Session,
    # Transaction Id): the session's first and last interval (session_edges.py).
    (CONF_METER_START_ENTITY, ["sensor"], "energy"),
    (CONF_SESSION_ENERGY_ENTITY, ["sensor"], "energy"),
    (CONF_TRANSACTION_ENTITY, ["sensor"], None),
    # Power feed: a bidirectional charger's discharge-power number (W or kW) and the energy it
    # fed back (its received register).
    (CONF_DISCHARGE_ENTITY, ["number", "input_number"], None),
    (CONF_DISCHARGED_ENERGY_ENTITY, ["sensor"], "energy"),
)
_ENTITY_KEYS = tuple(key for key, _, _ in _ENTITY_FIELDS)


def _discharge_errors(hass: HomeAssistant, entity_id: str) -> dict[str, str]:
    """A discharge-power number must exist, in W or kW, with a maximum above 0."""
    state = hass.states.get(entity_id)
    if state is None:
        return {CONF_DISCHARGE_ENTITY: "entity_not_found"}
    try:
        top = float(state.attributes.get("max", 0))
    except TypeError, ValueError:
        top = 0.0
    if state.attributes.get("unit_of_measurement") not in DISCHARGE_UNITS or top <= 0:
        return {CONF_DISCHARGE_ENTITY: "not_discharge_power"}
    return {}


_ELECTRICAL_KEYS = (CONF_PHASES, CONF_VOLTAGE, CONF_MAX_CURRENT, CONF_MIN_CURRENT)
# Mains voltage where it is not 230 V (a North American charger is wired 240 V line to line).
_COUNTRY_VOLTAGE = {"US": 240.0, "CA": 240.0, "MX": 220.0, "JP": 200.0, "TW": 220.0}


ELECTRICAL_RANGES = {
    CONF_VOLTAGE: Range(100, 480, "invalid_voltage"),
    CONF_MAX_CURRENT: Range(1, 80, "invalid_current"),
    CONF_MIN_CURRENT: Range(1, 80, "invalid_current"),
}


def _electrical_defaults(hass: HomeAssistant, charger: Mapping[str, Any]) -> dict[str, Any]:
    """The charger's electrical connection as the form shows it.

    What is stored (or was just entered), else the current-limit entity's range, else 1 phase
    at the country's mains voltage, 6 to 32 A. A three-phase charger set up as one phase would
    get three times the power a cap allows, so the form asks rather than guesses.
    """
    current = hass.states.get(charger.get(CONF_CURRENT_ENTITY) or "")
    entity_max = current.attributes.get("max") if current is not None else None
    entity_min = current.attributes.get("min") if current is not None else None
    voltage = _COUNTRY_VOLTAGE.get(hass.config.country or "", 230.0)
    max_a = charger.get(CONF_MAX_CURRENT) or entity_max or DEFAULT_MAX_CURRENT_A
    min_a = charger.get(CONF_MIN_CURRENT) or (
        max(float(entity_min), DEFAULT_MIN_CURRENT_A) if entity_min else DEFAULT_MIN_CURRENT_A
    )
    return {
        CONF_PHASES: str(charger.get(CONF_PHASES, 1)),
        CONF_VOLTAGE: float(charger.get(CONF_VOLTAGE) or voltage),
        CONF_MAX_CURRENT: float(max_a),
        CONF_MIN_CURRENT: float(min_a),
    }


def _electrical_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_PHASES, default=defaults[CONF_PHASES]): selector.SelectSelector(
                selector.SelectSelectorConfig(options=["1", "3"], translation_key=CONF_PHASES)
            ),
            vol.Required(CONF_VOLTAGE, default=defaults[CONF_VOLTAGE]): _box("V"),
            vol.Required(CONF_MAX_CURRENT, default=defaults[CONF_MAX_CURRENT]): _box("A"),
            vol.Required(CONF_MIN_CURRENT, default=defaults[CONF_MIN_CURRENT]): _box("A"),
        }
    )


def _validate_electrical(electrical: Mapping[str, Any]) -> dict[str, str]:
    """Range errors (on the section, where the fields are), then min above max (at the top)."""
    errors = range_errors(electrical, ELECTRICAL_RANGES)
    if errors:
        return {SECTION_ELECTRICAL: next(iter(errors.values()))}
    if electrical.get(CONF_MIN_CURRENT, DEFAULT_MIN_CURRENT_A) > electrical.get(
        CONF_MAX_CURRENT, DEFAULT_MAX_CURRENT_A
    ):
        return {"base": "min_above_max_current"}
    return {}


def _electrical_data(electrical: Mapping[str, Any]) -> dict[str, Any]:
    """The section's values as stored in the charger's data."""
    return {
        CONF_PHASES: int(electrical.get(CONF_PHASES, 1)),
        CONF_VOLTAGE: float(electrical.get(CONF_VOLTAGE, 230.0)),
        CONF_MAX_CURRENT: float(electrical.get(CONF_MAX_CURRENT, DEFAULT_MAX_CURRENT_A)),
        CONF_MIN_CURRENT: float(electrical.get(CONF_MIN_CURRENT, DEFAULT_MIN_CURRENT_A)),
    }


class ChargerSubentryFlow(ChargerSteps[SubentryFlowResult], ConfigSubentryFlow):
    """Add or reconfigure a charger of the premise."""

    def __init__(self) -> None:
        self._charger: dict[str, Any] = {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a charger."""
        return await self.async_step_charger(user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a charger's mapping or meter; its sessions stay."""
        self._charger = dict(self._get_reconfigure_subentry().data)
        return await self.async_step_charger(user_input)

    async def _async_charger_done(self, data: dict[str, Any]) -> SubentryFlowResult:
        if self.source == "reconfigure":
            return self.async_update_and_abort(
                self._get_entry(),
                self._get_reconfigure_subentry(),
                title=data[CONF_CHARGER_NAME],
                data=data,
            )
        return self.async_create_entry(title=data[CONF_CHARGER_NAME], data=data)
