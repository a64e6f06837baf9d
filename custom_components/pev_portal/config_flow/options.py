"""The options flow: tariff, metering, link timing, start delay, notifications, circuit, solar."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import (
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector

from ..const import (
    CIRCUIT_LIMIT_MAX_A,
    CIRCUIT_LIMIT_MIN_A,
    CONF_CIRCUIT_LIMIT,
    CONF_INTERVAL_MINUTES,
    CONF_NOTIFY_KINDS,
    CONF_NOTIFY_TARGET,
    CONF_POLL_MINUTES,
    CONF_REPORT_MINUTES,
    CONF_SOLAR_BASE_LOAD,
    CONF_SOLAR_FORECAST,
    CONF_START_DELAY,
    DEFAULT_POLL_MINUTES,
    DEFAULT_REPORT_MINUTES,
    DEFAULT_SOLAR_BASE_LOAD_KW,
    DEFAULT_START_DELAY_MINUTES,
    NOTIFY_KINDS,
)
from ..notifications import normalize_target, resolve_target, target_options
from ..solar import async_forecast_entries
from .helpers import _box
from .premise import _metering_schema, _validate_metering
from .tariff import _tariff_schema, _validate_tariff


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
