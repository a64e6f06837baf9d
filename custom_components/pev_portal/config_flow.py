"""Config, options, reconfigure and subentry flows of PEV Portal.

The config entry is the premise (its ID, tariff, metering interval and validation window);
chargers and vehicles are its subentries, so a premise can have several of each (req 2).
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import probatio as vol
import yarl
from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryData,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import selector

from . import zigbee
from .adapters import is_energy_sensor, map_status, power_kw
from .const import (
    AUTH_CLIENT_CREDENTIALS,
    AUTH_NONE,
    AUTH_TOKEN,
    CHARGER_TYPE_DEMO,
    CHARGER_TYPE_ENTITIES,
    CIRCUIT_LIMIT_MAX_A,
    CIRCUIT_LIMIT_MIN_A,
    CONF_ALLOW_HTTP,
    CONF_AUTH_TYPE,
    CONF_CA_BUNDLE,
    CONF_CALLBACK_URL,
    CONF_CAPACITY,
    CONF_CHARGER_NAME,
    CONF_CHARGER_TYPE,
    CONF_CIRCUIT_LIMIT,
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    CONF_CURRENT_ENTITY,
    CONF_DEFAULT_PRICE,
    CONF_DEFAULT_TARGET,
    CONF_DEFAULT_VEHICLE,
    CONF_DEVICE,
    CONF_ENERGY_ENTITY,
    CONF_INTERVAL_MINUTES,
    CONF_MAX_CURRENT,
    CONF_METER_ENTITY,
    CONF_METER_SOURCE,
    CONF_MIN_CURRENT,
    CONF_NAME,
    CONF_NOTIFY_KINDS,
    CONF_NOTIFY_TARGET,
    CONF_PEV_ID,
    CONF_PHASES,
    CONF_POLL_MINUTES,
    CONF_POWER_ENTITY,
    CONF_PREMISE_ID,
    CONF_PREMISE_NAME,
    CONF_PRESET,
    CONF_PROGRAMS,
    CONF_RELATION,
    CONF_REPORT_MINUTES,
    CONF_SOC_ENTITY,
    CONF_SOLAR_BASE_LOAD,
    CONF_SOLAR_FORECAST,
    CONF_START_BUTTON,
    CONF_START_DELAY,
    CONF_STATUS_ENTITY,
    CONF_STOP_BUTTON,
    CONF_SWITCH_ENTITY,
    CONF_TAGS,
    CONF_TARIFF,
    CONF_TOKEN,
    CONF_UTILITY,
    CONF_UTILITY_ID,
    CONF_VALIDATION_WINDOW,
    CONF_VEHICLE_ID_ENTITY,
    CONF_VEN_NAME,
    CONF_VOLTAGE,
    CONF_VTN_URL,
    DEFAULT_INTERVAL_MINUTES,
    DEFAULT_MAX_CURRENT_A,
    DEFAULT_MIN_CURRENT_A,
    DEFAULT_POLL_MINUTES,
    DEFAULT_PRICE,
    DEFAULT_REPORT_MINUTES,
    DEFAULT_SOLAR_BASE_LOAD_KW,
    DEFAULT_START_DELAY_MINUTES,
    DEFAULT_VALIDATION_WINDOW,
    DOMAIN,
    METER_SOURCE_CHARGER,
    METER_SOURCE_DEMO,
    METER_SOURCE_SENSOR,
    METER_SOURCE_ZHA,
    NOTIFY_KINDS,
    SECTION_ELECTRICAL,
    SUBENTRY_CHARGER,
    SUBENTRY_VEHICLE,
)
from .core.binding import VALIDATION_WINDOW_MAX_S, VALIDATION_WINDOW_MIN_S, Relation
from .core.tariff import TariffError, tariff_from_dict
from .notifications import normalize_target, resolve_target, target_options
from .presets import preset_mapping
from .solar import async_forecast_entries

if TYPE_CHECKING:
    from .coordinator import PevPortalConfigEntry

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def _premise_schema(defaults: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_PREMISE_NAME, default=defaults.get(CONF_PREMISE_NAME, "Home")): str,
            vol.Required(
                CONF_PREMISE_ID, default=defaults.get(CONF_PREMISE_ID, vol.UNDEFINED)
            ): str,
        }
    )


def _metering_schema(defaults: dict[str, Any]) -> dict[vol.Marker, Any]:
    return {
        vol.Required(
            CONF_INTERVAL_MINUTES,
            default=defaults.get(CONF_INTERVAL_MINUTES, DEFAULT_INTERVAL_MINUTES),
        ): _box("min", 1, 60, 1),
        vol.Required(
            CONF_VALIDATION_WINDOW,
            default=defaults.get(CONF_VALIDATION_WINDOW, DEFAULT_VALIDATION_WINDOW),
        ): _box("s", VALIDATION_WINDOW_MIN_S, VALIDATION_WINDOW_MAX_S, 1),
    }


def _tariff_schema(defaults: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_TARIFF, default=defaults[CONF_TARIFF]): selector.ObjectSelector(),
            vol.Required(
                CONF_DEFAULT_PRICE, default=defaults.get(CONF_DEFAULT_PRICE, DEFAULT_PRICE)
            ): selector.NumberSelector(
                selector.NumberSelectorConfig(
                    min=0, step="any", mode=selector.NumberSelectorMode.BOX
                )
            ),
        }
    )


def _validate_premise(user_input: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not user_input[CONF_PREMISE_NAME].strip():
        errors[CONF_PREMISE_NAME] = "empty_name"
    if not ID_PATTERN.match(user_input[CONF_PREMISE_ID].strip()):
        errors[CONF_PREMISE_ID] = "invalid_id"
    return errors


def _validate_metering(user_input: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    interval = user_input[CONF_INTERVAL_MINUTES]
    if interval != int(interval) or not 1 <= interval <= 60:
        errors[CONF_INTERVAL_MINUTES] = "invalid_interval"
    window = user_input[CONF_VALIDATION_WINDOW]
    if not VALIDATION_WINDOW_MIN_S <= window <= VALIDATION_WINDOW_MAX_S:
        errors[CONF_VALIDATION_WINDOW] = "invalid_window"
    return errors


def _validate_tariff(user_input: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Errors and placeholders (the tariff parser's own message) for the tariff step."""
    raw = user_input.get(CONF_TARIFF)
    if not isinstance(raw, dict):
        return {CONF_TARIFF: "invalid_tariff"}, {"error": "the tariff must be a mapping"}
    try:
        tariff_from_dict(raw)
    except TariffError as err:
        return {CONF_TARIFF: "invalid_tariff"}, {"error": str(err)}
    if user_input[CONF_DEFAULT_PRICE] < 0:
        return {CONF_DEFAULT_PRICE: "invalid_price"}, {"error": ""}
    return {}, {"error": ""}


def _circuit_schema(defaults: dict[str, Any]) -> dict[vol.Marker, Any]:
    """The circuit limit shared by all the premise's chargers (optional, amps per phase)."""
    return {
        vol.Optional(
            CONF_CIRCUIT_LIMIT, description={"suggested_value": defaults.get(CONF_CIRCUIT_LIMIT)}
        ): _box("A", 0),
    }


def _validate_circuit(user_input: dict[str, Any]) -> dict[str, str]:
    amps = user_input.get(CONF_CIRCUIT_LIMIT)
    if amps is None:
        return {}
    if amps != int(amps) or not CIRCUIT_LIMIT_MIN_A <= amps <= CIRCUIT_LIMIT_MAX_A:
        return {CONF_CIRCUIT_LIMIT: "invalid_circuit_limit"}
    return {}


def _default_tariff(hass: HomeAssistant) -> dict[str, Any]:
    return {"type": "flat", "currency": hass.config.currency or "EUR", "price": "0.30"}


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


def _box(
    unit: str, minimum: float, maximum: float | None = None, step: float | Literal["any"] = 1
) -> selector.NumberSelector:
    """A number typed into a box, with its unit and range."""
    config = selector.NumberSelectorConfig(
        min=minimum, step=step, mode=selector.NumberSelectorMode.BOX, unit_of_measurement=unit
    )
    if maximum is not None:
        config["max"] = maximum
    return selector.NumberSelector(config)


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


class PevPortalConfigFlow(ChargerSteps[ConfigFlowResult], ConfigFlow, domain=DOMAIN):
    """Set up a premise: its identity, tariff and first charger."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._charger: dict[str, Any] = {}
        self._utility: dict[str, Any] | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: PevPortalConfigEntry) -> PevPortalOptionsFlow:
        """The options flow: tariff, metering interval, validation window."""
        return PevPortalOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: PevPortalConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Chargers and vehicles are subentries of the premise."""
        return {SUBENTRY_CHARGER: ChargerSubentryFlow, SUBENTRY_VEHICLE: VehicleSubentryFlow}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The premise: name, ID, metering interval and validation window."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_PREMISE_ID] = user_input[CONF_PREMISE_ID].strip()
            errors = _validate_premise(user_input) | _validate_metering(user_input)
            if not errors:
                await self.async_set_unique_id(user_input[CONF_PREMISE_ID])
                self._abort_if_unique_id_configured()
                self._data = {
                    **user_input,
                    CONF_INTERVAL_MINUTES: int(user_input[CONF_INTERVAL_MINUTES]),
                }
                return await self.async_step_tariff()
        schema = _premise_schema(user_input or {}).extend(_metering_schema(user_input or {}))
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)

    async def async_step_tariff(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The program's tariff and the premise's default rate."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            errors, placeholders = _validate_tariff(user_input)
            if not errors:
                self._data.update(user_input)
                return await self.async_step_utility()
        defaults = user_input or {CONF_TARIFF: _default_tariff(self.hass)}
        return self.async_show_form(
            step_id="tariff",
            data_schema=_tariff_schema(defaults),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_utility(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The utility link (an OpenADR 3.1 VTN), tested live; leave the URL empty for none."""
        errors: dict[str, str] = {}
        placeholders = {"detail": ""}
        if user_input is not None:
            if not (user_input.get(CONF_VTN_URL) or "").strip():
                self._utility = None
                return await self.async_step_charger()
            link = _utility_data(user_input, self._data[CONF_PREMISE_ID])
            errors, placeholders = await _async_test_link(self.hass, link)
            if not errors:
                self._utility = link
                return await self.async_step_charger()
        return self.async_show_form(
            step_id="utility",
            data_schema=_utility_schema(user_input or {}, self._data.get(CONF_PREMISE_ID, "")),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_charger_done(self, data: dict[str, Any]) -> ConfigFlowResult:
        premise = {k: self._data[k] for k in (CONF_PREMISE_NAME, CONF_PREMISE_ID)}
        options = {k: v for k, v in self._data.items() if k not in premise}
        entry_data: dict[str, Any] = dict(premise)
        if self._utility is not None:
            entry_data[CONF_UTILITY] = self._utility
        return self.async_create_entry(
            title=premise[CONF_PREMISE_NAME],
            data=entry_data,
            options=options,
            subentries=[
                ConfigSubentryData(
                    subentry_type=SUBENTRY_CHARGER,
                    title=data[CONF_CHARGER_NAME],
                    data=data,
                    unique_id=None,
                )
            ],
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the premise's name and ID (sessions already stored keep theirs)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_PREMISE_ID] = user_input[CONF_PREMISE_ID].strip()
            errors = _validate_premise(user_input)
            if not errors:
                await self.async_set_unique_id(user_input[CONF_PREMISE_ID])
                if user_input[CONF_PREMISE_ID] != entry.unique_id:
                    self._abort_if_unique_id_configured()
                self._data = user_input
                return await self.async_step_reconfigure_utility()
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_premise_schema(user_input or dict(entry.data)),
            errors=errors,
        )

    async def async_step_reconfigure_utility(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the utility link: URL, credentials (blank secrets keep the stored ones)."""
        entry = self._get_reconfigure_entry()
        current: dict[str, Any] = dict(entry.data.get(CONF_UTILITY) or {})
        errors: dict[str, str] = {}
        placeholders = {"detail": ""}
        if user_input is not None:
            utility: dict[str, Any] | None = None
            if (user_input.get(CONF_VTN_URL) or "").strip():
                for secret in (CONF_CLIENT_SECRET, CONF_TOKEN):
                    if not user_input.get(secret) and current.get(secret):
                        user_input[secret] = current[secret]
                utility = _utility_data(user_input, self._data[CONF_PREMISE_ID])
                errors, placeholders = await _async_test_link(self.hass, utility)
            if not errors:
                data = {**entry.data, **self._data}
                data.pop(CONF_UTILITY, None)
                if utility is not None:
                    data[CONF_UTILITY] = utility
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=self._data[CONF_PREMISE_ID],
                    title=self._data[CONF_PREMISE_NAME],
                    data=data,
                )
        defaults = user_input or {
            k: v for k, v in current.items() if k not in (CONF_CLIENT_SECRET, CONF_TOKEN)
        }
        if CONF_PROGRAMS in defaults and isinstance(defaults[CONF_PROGRAMS], list):
            defaults[CONF_PROGRAMS] = ", ".join(defaults[CONF_PROGRAMS])
        return self.async_show_form(
            step_id="reconfigure_utility",
            data_schema=_utility_schema(defaults, self._data[CONF_PREMISE_ID]),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The VTN refuses the stored credentials."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enter new credentials for the utility link; they are tested before they are kept."""
        entry = self._get_reauth_entry()
        current: dict[str, Any] = dict(entry.data.get(CONF_UTILITY) or {})
        errors: dict[str, str] = {}
        placeholders = {"detail": "", "url": current.get(CONF_VTN_URL, "")}
        if user_input is not None:
            utility = {**current, **{k: v for k, v in user_input.items() if v}}
            errors, found = await _async_test_link(self.hass, utility)
            placeholders.update(found)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data={**entry.data, CONF_UTILITY: utility}
                )
        fields: dict[vol.Marker, Any] = {}
        if current.get(CONF_AUTH_TYPE) == AUTH_TOKEN:
            fields[vol.Required(CONF_TOKEN)] = _password()
        else:
            fields[vol.Required(CONF_CLIENT_ID, default=current.get(CONF_CLIENT_ID, ""))] = str
            fields[vol.Required(CONF_CLIENT_SECRET)] = _password()
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema(fields),
            errors=errors,
            description_placeholders=placeholders,
        )


def _link_timing_schema(defaults: dict[str, Any]) -> dict[vol.Marker, Any]:
    def minutes(key: str, default: int) -> tuple[vol.Marker, Any]:
        return vol.Optional(key, default=defaults.get(key, default)), _box("min", 1, 60, 1)

    return dict(
        [
            minutes(CONF_POLL_MINUTES, DEFAULT_POLL_MINUTES),
            minutes(CONF_REPORT_MINUTES, DEFAULT_REPORT_MINUTES),
        ]
    )


def _solar_schema(entries: dict[str, str], defaults: dict[str, Any]) -> dict[vol.Marker, Any]:
    """The solar mode's forecast source (a loaded forecast integration) and base load."""
    current = defaults.get(CONF_SOLAR_FORECAST)
    choices = [selector.SelectOptionDict(value=k, label=v) for k, v in entries.items()]
    if current and current not in entries:
        choices.append(selector.SelectOptionDict(value=current, label=current))
    return {
        vol.Optional(
            CONF_SOLAR_FORECAST, description={"suggested_value": current}
        ): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=choices, mode=selector.SelectSelectorMode.DROPDOWN
            )
        ),
        vol.Optional(
            CONF_SOLAR_BASE_LOAD,
            default=defaults.get(CONF_SOLAR_BASE_LOAD, DEFAULT_SOLAR_BASE_LOAD_KW),
        ): _box("kW", 0, 50, "any"),
    }


def _charging_schema(defaults: dict[str, Any]) -> dict[vol.Marker, Any]:
    return {
        vol.Optional(
            CONF_START_DELAY, default=defaults.get(CONF_START_DELAY, DEFAULT_START_DELAY_MINUTES)
        ): _box("min", 0, 60, 1)
    }


def _notify_schema(hass: HomeAssistant, defaults: dict[str, Any]) -> dict[vol.Marker, Any]:
    """The notify target (a list of notify entities and services, or typed) and the kinds."""
    current = defaults.get(CONF_NOTIFY_TARGET)
    return {
        vol.Optional(
            CONF_NOTIFY_TARGET, description={"suggested_value": current}
        ): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=target_options(hass, current),
                custom_value=True,
                mode=selector.SelectSelectorMode.DROPDOWN,
            )
        ),
        vol.Optional(
            CONF_NOTIFY_KINDS, default=list(defaults.get(CONF_NOTIFY_KINDS, NOTIFY_KINDS))
        ): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=list(NOTIFY_KINDS),
                multiple=True,
                translation_key=CONF_NOTIFY_KINDS,
            )
        ),
    }


def _validate_notify(hass: HomeAssistant, user_input: dict[str, Any]) -> dict[str, str]:
    """The notify target must be an existing notify entity or notify service (or empty)."""
    target = normalize_target(user_input.get(CONF_NOTIFY_TARGET))
    if target is not None and resolve_target(hass, target) is None:
        return {CONF_NOTIFY_TARGET: "notify_target_not_found"}
    return {}


def _password() -> selector.TextSelector:
    return selector.TextSelector(
        selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
    )


def _utility_schema(defaults: dict[str, Any], premise_id: str) -> vol.Schema:
    def suggested(key: str) -> dict[str, Any]:
        return {"suggested_value": defaults.get(key)}

    return vol.Schema(
        {
            vol.Optional(CONF_VTN_URL, description=suggested(CONF_VTN_URL)): selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
            ),
            vol.Required(
                CONF_AUTH_TYPE, default=defaults.get(CONF_AUTH_TYPE, AUTH_CLIENT_CREDENTIALS)
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=[AUTH_CLIENT_CREDENTIALS, AUTH_TOKEN, AUTH_NONE],
                    translation_key=CONF_AUTH_TYPE,
                )
            ),
            vol.Optional(CONF_CLIENT_ID, description=suggested(CONF_CLIENT_ID)): str,
            vol.Optional(CONF_CLIENT_SECRET): _password(),
            vol.Optional(CONF_TOKEN): _password(),
            vol.Optional(
                CONF_VEN_NAME,
                description={"suggested_value": defaults.get(CONF_VEN_NAME) or premise_id},
            ): str,
            vol.Optional(CONF_PROGRAMS, description=suggested(CONF_PROGRAMS)): str,
            vol.Optional(CONF_UTILITY_ID, description=suggested(CONF_UTILITY_ID)): str,
            vol.Optional(CONF_CA_BUNDLE, description=suggested(CONF_CA_BUNDLE)): str,
            vol.Optional(CONF_ALLOW_HTTP, default=defaults.get(CONF_ALLOW_HTTP, False)): bool,
            vol.Optional(CONF_CALLBACK_URL, description=suggested(CONF_CALLBACK_URL)): str,
        }
    )


def _utility_data(user_input: dict[str, Any], premise_id: str) -> dict[str, Any]:
    """The link's stored form: programs as a list, the VEN name defaulting to the premise ID."""
    programs = user_input.get(CONF_PROGRAMS) or []
    if isinstance(programs, str):
        programs = [p.strip() for p in programs.split(",") if p.strip()]
    data = {
        CONF_VTN_URL: user_input[CONF_VTN_URL].strip().rstrip("/"),
        CONF_AUTH_TYPE: user_input.get(CONF_AUTH_TYPE, AUTH_CLIENT_CREDENTIALS),
        CONF_VEN_NAME: (user_input.get(CONF_VEN_NAME) or premise_id).strip(),
        CONF_PROGRAMS: programs,
        CONF_ALLOW_HTTP: bool(user_input.get(CONF_ALLOW_HTTP)),
    }
    for key in (
        CONF_CLIENT_ID,
        CONF_CLIENT_SECRET,
        CONF_TOKEN,
        CONF_UTILITY_ID,
        CONF_CA_BUNDLE,
        CONF_CALLBACK_URL,
    ):
        if value := (user_input.get(key) or "").strip():
            data[key] = value
    return data


async def _async_test_link(
    hass: HomeAssistant, link: dict[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """Check the link's settings, then talk to the VTN: errors for the form, and details."""
    from .openadr.errors import (
        OpenADRError,
        UnknownProgram,
        VtnAuthError,
        VtnTlsError,
        VtnUnreachable,
    )
    from .utility import async_make_client

    url = yarl.URL(link[CONF_VTN_URL])
    if url.scheme not in ("http", "https") or not url.host:
        return {CONF_VTN_URL: "invalid_url"}, {"detail": ""}
    if url.scheme == "http" and not link.get(CONF_ALLOW_HTTP):
        return {CONF_VTN_URL: "insecure_http"}, {"detail": ""}
    auth = link[CONF_AUTH_TYPE]
    if auth == AUTH_CLIENT_CREDENTIALS and not (
        link.get(CONF_CLIENT_ID) and link.get(CONF_CLIENT_SECRET)
    ):
        return {"base": "missing_credentials"}, {"detail": ""}
    if auth == AUTH_TOKEN and not link.get(CONF_TOKEN):
        return {CONF_TOKEN: "missing_token"}, {"detail": ""}
    bundle = link.get(CONF_CA_BUNDLE)
    if bundle and not await hass.async_add_executor_job(Path(bundle).is_file):
        return {CONF_CA_BUNDLE: "ca_bundle_not_found"}, {"detail": ""}
    try:
        client = await async_make_client(hass, link)
        await client.async_check(link[CONF_PROGRAMS])
    except ssl.SSLError as err:
        return {CONF_CA_BUNDLE: "invalid_ca_bundle"}, {"detail": str(err)}
    except VtnUnreachable as err:
        return {"base": "cannot_connect"}, {"detail": str(err)}
    except VtnTlsError as err:
        return {"base": "tls_error"}, {"detail": str(err)}
    except VtnAuthError as err:
        return {"base": "invalid_auth"}, {"detail": str(err)}
    except UnknownProgram as err:
        return {CONF_PROGRAMS: "unknown_program"}, {"detail": str(err)}
    except OpenADRError as err:
        return {"base": "vtn_error"}, {"detail": str(err)}
    return {}, {"detail": ""}


class PevPortalOptionsFlow(OptionsFlow):
    """Change the tariff, default rate, metering interval, validation window, circuit limit,
    random start delay and notifications.

    Not ``OptionsFlowWithReload``: the entry's update listener reloads it (it is needed for
    subentry changes too), and Home Assistant refuses that flow when a listener exists.
    """

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form with everything that may change while history is kept."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        current = dict(self.config_entry.options)
        if user_input is not None:
            errors = _validate_metering(user_input) | _validate_circuit(user_input)
            tariff_errors, placeholders = _validate_tariff(user_input)
            errors |= tariff_errors
            errors |= _validate_notify(self.hass, user_input)
            if not errors:
                data = {
                    **user_input,
                    CONF_INTERVAL_MINUTES: int(user_input[CONF_INTERVAL_MINUTES]),
                }
                if target := normalize_target(user_input.get(CONF_NOTIFY_TARGET)):
                    data[CONF_NOTIFY_TARGET] = target
                else:
                    data.pop(CONF_NOTIFY_TARGET, None)  # no target: no notifications
                if not data.get(CONF_SOLAR_FORECAST):
                    data.pop(CONF_SOLAR_FORECAST, None)  # no forecast: solar = cheapest
                if CONF_CIRCUIT_LIMIT in data:
                    data[CONF_CIRCUIT_LIMIT] = int(data[CONF_CIRCUIT_LIMIT])
                return self.async_create_entry(data=data)
        defaults = user_input or current
        schema = (
            _tariff_schema(defaults)
            .extend(_metering_schema(defaults))
            .extend(_link_timing_schema(defaults))
            .extend(_charging_schema(defaults))
            .extend(_notify_schema(self.hass, defaults))
            .extend(_circuit_schema(defaults))
            .extend(_solar_schema(await async_forecast_entries(self.hass), defaults))
        )
        return self.async_show_form(
            step_id="init", data_schema=schema, errors=errors, description_placeholders=placeholders
        )


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


class VehicleSubentryFlow(ConfigSubentryFlow):
    """Register or change a vehicle."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Register a vehicle."""
        return await self._async_vehicle_form("user", user_input, {})

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a vehicle."""
        subentry = self._get_reconfigure_subentry()
        return await self._async_vehicle_form("reconfigure", user_input, dict(subentry.data))

    async def _async_vehicle_form(
        self, step_id: str, user_input: dict[str, Any] | None, current: dict[str, Any]
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_PEV_ID] = user_input[CONF_PEV_ID].strip()
            own = self._get_reconfigure_subentry().subentry_id if step_id == "reconfigure" else None
            taken = {
                s.data.get(CONF_PEV_ID)
                for s in self._get_entry().subentries.values()
                if s.subentry_type == SUBENTRY_VEHICLE and s.subentry_id != own
            }
            if not ID_PATTERN.match(user_input[CONF_PEV_ID]):
                errors[CONF_PEV_ID] = "invalid_id"
            elif user_input[CONF_PEV_ID] in taken:
                errors[CONF_PEV_ID] = "already_registered"
            if not user_input[CONF_NAME].strip():
                errors[CONF_NAME] = "empty_name"
            target = user_input.get(CONF_DEFAULT_TARGET)
            if target is not None and not 1 <= target <= 100:
                errors[CONF_DEFAULT_TARGET] = "invalid_target"
            if not errors:
                tags = [t.strip() for t in user_input.get(CONF_TAGS, "").split(",") if t.strip()]
                data = {**user_input, CONF_TAGS: tags}
                if step_id == "reconfigure":
                    return self.async_update_and_abort(
                        self._get_entry(),
                        self._get_reconfigure_subentry(),
                        unique_id=data[CONF_PEV_ID],  # else the old ID stays taken
                        title=data[CONF_NAME],
                        data=data,
                    )
                return self.async_create_entry(
                    title=data[CONF_NAME], data=data, unique_id=data[CONF_PEV_ID]
                )
        defaults = user_input or {**current, CONF_TAGS: ", ".join(current.get(CONF_TAGS, []))}
        schema = vol.Schema(
            {
                vol.Required(CONF_PEV_ID, default=defaults.get(CONF_PEV_ID, vol.UNDEFINED)): str,
                vol.Required(CONF_NAME, default=defaults.get(CONF_NAME, vol.UNDEFINED)): str,
                vol.Required(
                    CONF_RELATION, default=defaults.get(CONF_RELATION, Relation.HOME.value)
                ): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[r.value for r in Relation], translation_key=CONF_RELATION
                    )
                ),
                vol.Optional(
                    CONF_CAPACITY, description={"suggested_value": defaults.get(CONF_CAPACITY)}
                ): _box("kWh", 1, 300, "any"),
                vol.Optional(
                    CONF_SOC_ENTITY, description={"suggested_value": defaults.get(CONF_SOC_ENTITY)}
                ): selector.EntitySelector(
                    selector.EntitySelectorConfig(domain="sensor", device_class="battery")
                ),
                vol.Optional(
                    CONF_DEFAULT_TARGET,
                    description={"suggested_value": defaults.get(CONF_DEFAULT_TARGET)},
                ): _box("%", 1, 100, 1),
                vol.Optional(CONF_TAGS, default=defaults.get(CONF_TAGS, "")): str,
                vol.Optional(
                    CONF_DEFAULT_VEHICLE, default=defaults.get(CONF_DEFAULT_VEHICLE, False)
                ): bool,
            }
        )
        return self.async_show_form(step_id=step_id, data_schema=schema, errors=errors)
