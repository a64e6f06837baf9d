"""The options flow: tariff, metering, link timing, start delay, notifications, circuit, solar,
power feed (export rate and limit, feed-in price, home consumption: ``feed_options.py``)."""

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
    CONF_DEFAULT_PRICE,
    CONF_INTERVAL_MINUTES,
    CONF_NOTIFY_KINDS,
    CONF_NOTIFY_TARGET,
    CONF_POLL_MINUTES,
    CONF_PRICE_ENTITY,
    CONF_PRICE_FORECAST_ENTITY,
    CONF_REPORT_MINUTES,
    CONF_SOLAR_BASE_LOAD,
    CONF_SOLAR_FORECAST,
    CONF_START_DELAY,
    CONF_TARIFF,
    CONF_TARIFF_KIND,
    CONF_UTILITY,
    DEFAULT_POLL_MINUTES,
    DEFAULT_PRICE,
    DEFAULT_REPORT_MINUTES,
    DEFAULT_SOLAR_BASE_LOAD_KW,
    DEFAULT_START_DELAY_MINUTES,
    NOTIFY_KINDS,
    TARIFF_KIND_ENTITY,
    TARIFF_KIND_FLAT,
    TARIFF_KIND_KEEP,
    TARIFF_KIND_TOU,
    TARIFF_KIND_YAML,
    TARIFF_KINDS,
)
from ..notifications import normalize_target, resolve_target, target_options
from ..solar import async_forecast_entries
from .feed_options import SECTION_POWER_FEED, feed_schema, feed_values, validate_feed
from .helpers import Range, _box, range_errors
from .premise import _metering_schema, _validate_metering, tariff_kind_selector
from .tariff import PRICE_RANGE, TARIFF_KEYS, TariffSteps


def _circuit_schema(defaults: dict[str, Any]) -> dict[vol.Marker, Any]:
    """The circuit limit shared by all the premise's chargers (optional, amps per phase)."""
    return {
        vol.Optional(
            CONF_CIRCUIT_LIMIT, description={"suggested_value": defaults.get(CONF_CIRCUIT_LIMIT)}
        ): _box("A"),
    }


OPTION_RANGES = {
    CONF_CIRCUIT_LIMIT: Range(
        CIRCUIT_LIMIT_MIN_A, CIRCUIT_LIMIT_MAX_A, "invalid_circuit_limit", whole=True
    ),
    CONF_POLL_MINUTES: Range(1, 60, "invalid_minutes", whole=True),
    CONF_REPORT_MINUTES: Range(1, 60, "invalid_minutes", whole=True),
    CONF_START_DELAY: Range(0, 60, "invalid_start_delay", whole=True),
    CONF_SOLAR_BASE_LOAD: Range(0, 50, "invalid_base_load"),
    CONF_DEFAULT_PRICE: PRICE_RANGE,
}


def _validate_circuit(user_input: dict[str, Any]) -> dict[str, str]:
    return range_errors(user_input, {CONF_CIRCUIT_LIMIT: OPTION_RANGES[CONF_CIRCUIT_LIMIT]})


def _link_timing_schema(defaults: dict[str, Any]) -> dict[vol.Marker, Any]:
    def minutes(key: str, default: int) -> tuple[vol.Marker, Any]:
        return vol.Optional(key, default=defaults.get(key, default)), _box("min")

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
        ): _box("kW", "any"),
    }


def _charging_schema(defaults: dict[str, Any]) -> dict[vol.Marker, Any]:
    return {
        vol.Optional(
            CONF_START_DELAY, default=defaults.get(CONF_START_DELAY, DEFAULT_START_DELAY_MINUTES)
        ): _box("min")
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


class PevPortalOptionsFlow(TariffSteps[ConfigFlowResult], OptionsFlow):
    """Change the default rate, metering interval, validation window, circuit limit, random
    start delay, notifications and solar settings; the tariff through its own form.

    The polling interval and reporting period are only asked with a utility link. Not
    ``OptionsFlowWithReload``: the entry's update listener reloads it (it is needed for
    subentry changes too), and Home Assistant refuses that flow when a listener exists.
    """

    _settings: dict[str, Any]

    def _current_tariff(self) -> dict[str, Any]:
        return dict(self.config_entry.options.get(CONF_TARIFF) or super()._current_tariff())

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form with everything that may change while history is kept."""
        errors: dict[str, str] = {}
        current = dict(self.config_entry.options)
        linked = bool(self.config_entry.data.get(CONF_UTILITY))
        if user_input is not None:
            errors = _validate_metering(user_input) | range_errors(user_input, OPTION_RANGES)
            errors |= _validate_notify(self.hass, user_input)
            errors |= validate_feed(self.hass, user_input)
            if not errors:
                kind = user_input.pop(CONF_TARIFF_KIND, TARIFF_KIND_KEEP)
                feed = feed_values(user_input, current)
                user_input.pop(SECTION_POWER_FEED, None)
                data = {
                    **{k: current[k] for k in TARIFF_KEYS if k in current},
                    **user_input,
                    **feed,
                    CONF_INTERVAL_MINUTES: int(user_input[CONF_INTERVAL_MINUTES]),
                }
                if target := normalize_target(user_input.get(CONF_NOTIFY_TARGET)):
                    data[CONF_NOTIFY_TARGET] = target
                else:
                    data.pop(CONF_NOTIFY_TARGET, None)  # no target: no notifications
                if not data.get(CONF_SOLAR_FORECAST):
                    data.pop(CONF_SOLAR_FORECAST, None)  # no forecast: solar = cheapest
                for key in (
                    CONF_CIRCUIT_LIMIT,
                    CONF_START_DELAY,
                    CONF_POLL_MINUTES,
                    CONF_REPORT_MINUTES,
                ):
                    if data.get(key) is not None:
                        data[key] = int(data[key])
                if kind == TARIFF_KIND_KEEP:
                    return self.async_create_entry(data=data)
                self._settings = data
                step: ConfigFlowResult = await getattr(self, f"async_step_tariff_{_STEP[kind]}")()
                return step
        defaults = user_input or current
        schema = vol.Schema(
            {
                vol.Required(CONF_TARIFF_KIND, default=TARIFF_KIND_KEEP): tariff_kind_selector(
                    [TARIFF_KIND_KEEP, *TARIFF_KINDS]
                ),
                vol.Required(
                    CONF_DEFAULT_PRICE, default=defaults.get(CONF_DEFAULT_PRICE, DEFAULT_PRICE)
                ): _box(f"{self.hass.config.currency or 'EUR'}/kWh", "any"),
            }
        )
        schema = schema.extend(_metering_schema(defaults))
        if linked:
            schema = schema.extend(_link_timing_schema(defaults))
        schema = (
            schema.extend(_charging_schema(defaults))
            .extend(_notify_schema(self.hass, defaults))
            .extend(_circuit_schema(defaults))
            .extend(_solar_schema(await async_forecast_entries(self.hass), defaults))
            .extend(feed_schema(self.hass, _feed_defaults(user_input, current)))
        )
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)

    async def _async_tariff_done(self, data: dict[str, Any]) -> ConfigFlowResult:
        """The new tariff with the settings of the first form (its default rate kept)."""
        options = {k: v for k, v in self._settings.items() if k not in TARIFF_KEYS}
        options[CONF_TARIFF] = data[CONF_TARIFF]
        options[CONF_DEFAULT_PRICE] = self._settings[CONF_DEFAULT_PRICE]
        for key in (CONF_PRICE_ENTITY, CONF_PRICE_FORECAST_ENTITY):
            if key in data:
                options[key] = data[key]
        return self.async_create_entry(data=options)


def _feed_defaults(user_input: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """The power-feed section's values to show: what was entered, else the options'."""
    if user_input is not None and isinstance(user_input.get(SECTION_POWER_FEED), dict):
        return dict(user_input[SECTION_POWER_FEED])
    return current


_STEP = {
    TARIFF_KIND_FLAT: "flat",
    TARIFF_KIND_TOU: "tou",
    TARIFF_KIND_ENTITY: "entity",
    TARIFF_KIND_YAML: "yaml",
}
