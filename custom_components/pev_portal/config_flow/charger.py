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
from ..adapters import is_energy_sensor, map_status, power_kw
from ..const import (
    CHARGER_TYPE_DEMO,
    CHARGER_TYPE_ENTITIES,
    CONF_CHARGER_NAME,
    CONF_CHARGER_TYPE,
    CONF_CURRENT_ENTITY,
    CONF_DEVICE,
    CONF_ENERGY_ENTITY,
    CONF_MAX_CURRENT,
    CONF_METER_ENTITY,
    CONF_METER_SOURCE,
    CONF_MIN_CURRENT,
    CONF_PHASES,
    CONF_POWER_ENTITY,
    CONF_PRESET,
    CONF_START_BUTTON,
    CONF_STATUS_ENTITY,
    CONF_STOP_BUTTON,
    CONF_SWITCH_ENTITY,
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
from ..presets import preset_mapping
from .helpers import _box


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
        """Name the charger and choose the demo charger or a mapping of existing entities."""
        errors: dict[str, str] = {}
        defaults = self._charger_defaults()
        if user_input is not None:
            if not user_input[CONF_CHARGER_NAME].strip():
                errors[CONF_CHARGER_NAME] = "empty_name"
            else:
                self._charger.update(user_input)
                if user_input[CONF_CHARGER_TYPE] == CHARGER_TYPE_DEMO:
                    # A mapped charger reconfigured as the demo one keeps no stale mapping.
                    for key in (*_ENTITY_KEYS, *_ELECTRICAL_KEYS, CONF_PRESET, CONF_METER_ENTITY):
                        self._charger.pop(key, None)
                    self._charger[CONF_METER_SOURCE] = METER_SOURCE_DEMO
                    return await self._async_charger_done(self._charger)
                return await self.async_step_charger_device()
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
            }
        )
        return self.async_show_form(step_id="charger", data_schema=schema, errors=errors)

    async def async_step_charger_device(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """Optionally pick the charger's device so a preset fills the mapping in."""
        if user_input is not None:
            device_id = user_input.get(CONF_DEVICE)
            if device_id:
                preset, found = preset_mapping(self.hass, device_id)
                self._charger[CONF_PRESET] = preset
                self._charger.update(found)
            return await self.async_step_charger_entities()
        schema = vol.Schema(
            {vol.Optional(CONF_DEVICE): selector.DeviceSelector(selector.DeviceSelectorConfig())}
        )
        return self.async_show_form(step_id="charger_device", data_schema=schema)

    async def async_step_charger_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ResultT:
        """Map the charger's entities: status, control, power, energy, vehicle ID."""
        errors: dict[str, str] = {}
        placeholders = {"status": ""}
        if user_input is not None:
            errors, placeholders = self._validate_entities(user_input)
            electrical = dict(user_input.get(SECTION_ELECTRICAL) or {})
            if not errors and (
                electrical.get(CONF_MIN_CURRENT, DEFAULT_MIN_CURRENT_A)
                > electrical.get(CONF_MAX_CURRENT, DEFAULT_MAX_CURRENT_A)
            ):
                errors["base"] = "min_above_max_current"
            if not errors:
                for key in _ENTITY_KEYS:
                    self._charger.pop(key, None)
                mapping = {k: v for k, v in user_input.items() if k != SECTION_ELECTRICAL}
                self._charger.update(mapping)
                self._charger.update(_electrical_data(electrical))
                return await self.async_step_meter()
        defaults = user_input or self._charger
        fields: dict[vol.Marker, Any] = {}
        for key, domains, device_class in _ENTITY_FIELDS:
            marker = vol.Required if key == CONF_STATUS_ENTITY else vol.Optional
            config = selector.EntitySelectorConfig(domain=domains)
            if device_class:
                config = selector.EntitySelectorConfig(domain=domains, device_class=device_class)
            fields[marker(key, description={"suggested_value": defaults.get(key)})] = (
                selector.EntitySelector(config)
            )
        shown = self._charger
        if user_input is not None:  # shown again with what was entered
            shown = {**user_input, **_electrical_data(user_input.get(SECTION_ELECTRICAL) or {})}
        fields[vol.Required(SECTION_ELECTRICAL, default={})] = section(
            _electrical_schema(self.hass, shown), {"collapsed": False}
        )
        return self.async_show_form(
            step_id="charger_entities",
            data_schema=vol.Schema(fields),
            errors=errors,
            description_placeholders={
                **placeholders,
                "preset": self._charger.get(CONF_PRESET) or "-",
            },
        )

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
        energy = user_input.get(CONF_ENERGY_ENTITY)
        if energy and not is_energy_sensor(self.hass.states.get(energy)):
            errors[CONF_ENERGY_ENTITY] = "not_energy_sensor"
        return errors, placeholders

    async def async_step_meter(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """Choose the end-use meter: an energy sensor, or the charger's own energy sensor."""
        errors: dict[str, str] = {}
        if user_input is not None:
            source = user_input[CONF_METER_SOURCE]
            entity = user_input.get(CONF_METER_ENTITY)
            if source == METER_SOURCE_CHARGER and not self._charger.get(CONF_ENERGY_ENTITY):
                errors[CONF_METER_SOURCE] = "no_charger_energy"
            elif source == METER_SOURCE_SENSOR and not entity:
                errors[CONF_METER_ENTITY] = "meter_required"
            elif source == METER_SOURCE_SENSOR and not is_energy_sensor(
                self.hass.states.get(entity or "")
            ):
                errors[CONF_METER_ENTITY] = "not_energy_sensor"
            zha_data: dict[str, Any] = {}
            if source == METER_SOURCE_ZHA:
                zha_errors, zha_data = zigbee.validate_meter_form(self.hass, user_input)
                errors |= zha_errors
            if not errors:
                for key in zigbee.ZHA_METER_KEYS:
                    self._charger.pop(key, None)
                self._charger.update(zha_data)
                self._charger[CONF_METER_SOURCE] = source
                if source == METER_SOURCE_SENSOR:
                    self._charger[CONF_METER_ENTITY] = entity
                else:
                    self._charger.pop(CONF_METER_ENTITY, None)
                return await self._async_charger_done(self._charger)
        defaults = user_input or self._charger
        source_default = defaults.get(CONF_METER_SOURCE)
        sources = [METER_SOURCE_SENSOR, METER_SOURCE_CHARGER]
        if source_default == METER_SOURCE_ZHA or zigbee.metering_devices(self.hass):
            sources.append(METER_SOURCE_ZHA)  # only offered when ZHA has a Metering device
        if source_default not in sources:
            source_default = METER_SOURCE_SENSOR  # e.g. "demo" when reconfiguring the demo charger
        schema = vol.Schema(
            {
                vol.Required(CONF_METER_SOURCE, default=source_default): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=sources,
                        translation_key=CONF_METER_SOURCE,
                    )
                ),
                vol.Optional(
                    CONF_METER_ENTITY,
                    description={"suggested_value": defaults.get(CONF_METER_ENTITY)},
                ): selector.EntitySelector(
                    selector.EntitySelectorConfig(domain="sensor", device_class="energy")
                ),
                **(zigbee.meter_form_fields(defaults) if METER_SOURCE_ZHA in sources else {}),
            }
        )
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
)
_ENTITY_KEYS = tuple(key for key, _, _ in _ENTITY_FIELDS)


_ELECTRICAL_KEYS = (CONF_PHASES, CONF_VOLTAGE, CONF_MAX_CURRENT, CONF_MIN_CURRENT)
# Mains voltage where it is not 230 V (a North American charger is wired 240 V line to line).
_COUNTRY_VOLTAGE = {"US": 240.0, "CA": 240.0, "MX": 220.0, "JP": 200.0, "TW": 220.0}


def _electrical_schema(hass: HomeAssistant, charger: Mapping[str, Any]) -> vol.Schema:
    """The charger's electrical connection: phases, voltage and its current range.

    Defaults: what is stored, else the current-limit entity's range, else 1 phase at the
    country's mains voltage, 6 to 32 A. A three-phase charger set up as one phase would get
    three times the power a cap allows, so the form asks rather than guesses.
    """
    current = hass.states.get(charger.get(CONF_CURRENT_ENTITY) or "")
    entity_max = current.attributes.get("max") if current is not None else None
    entity_min = current.attributes.get("min") if current is not None else None
    voltage = _COUNTRY_VOLTAGE.get(hass.config.country or "", 230.0)
    max_a = charger.get(CONF_MAX_CURRENT) or entity_max or DEFAULT_MAX_CURRENT_A
    min_a = charger.get(CONF_MIN_CURRENT) or (
        max(float(entity_min), DEFAULT_MIN_CURRENT_A) if entity_min else DEFAULT_MIN_CURRENT_A
    )

    return vol.Schema(
        {
            vol.Required(
                CONF_PHASES, default=str(charger.get(CONF_PHASES, 1))
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(options=["1", "3"], translation_key=CONF_PHASES)
            ),
            vol.Required(CONF_VOLTAGE, default=charger.get(CONF_VOLTAGE, voltage)): _box(
                "V", 100, 480, 1
            ),
            vol.Required(CONF_MAX_CURRENT, default=float(max_a)): _box("A", 1, 80),
            vol.Required(CONF_MIN_CURRENT, default=float(min_a)): _box("A", 1, 80),
        }
    )


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
