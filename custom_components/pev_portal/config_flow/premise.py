"""The premise: the first form (name, utility program or not, how prices are given), its
reconfigure form (name and ID) and the metering fields (utility step and options)."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.helpers import selector

from ..const import (
    CONF_IN_PROGRAM,
    CONF_INTERVAL_MINUTES,
    CONF_PREMISE_ID,
    CONF_PREMISE_NAME,
    CONF_TARIFF_KIND,
    CONF_VALIDATION_WINDOW,
    DEFAULT_INTERVAL_MINUTES,
    DEFAULT_VALIDATION_WINDOW,
    TARIFF_KIND_FLAT,
    TARIFF_KINDS,
)
from ..core.binding import VALIDATION_WINDOW_MAX_S, VALIDATION_WINDOW_MIN_S
from .helpers import ID_PATTERN, Range, _box, range_errors

METERING_RANGES = {
    CONF_INTERVAL_MINUTES: Range(1, 60, "invalid_interval", whole=True),
    CONF_VALIDATION_WINDOW: Range(
        VALIDATION_WINDOW_MIN_S, VALIDATION_WINDOW_MAX_S, "invalid_window"
    ),
}


def tariff_kind_selector(kinds: list[str]) -> selector.SelectSelector:
    return selector.SelectSelector(
        selector.SelectSelectorConfig(
            options=kinds,
            translation_key=CONF_TARIFF_KIND,
            mode=selector.SelectSelectorMode.LIST,
        )
    )


def _start_schema(defaults: dict[str, Any]) -> vol.Schema:
    """The first form: the home's name, whether it is in a utility program, the price kind."""
    return vol.Schema(
        {
            vol.Required(CONF_PREMISE_NAME, default=defaults.get(CONF_PREMISE_NAME, "Home")): str,
            vol.Required(CONF_IN_PROGRAM, default=defaults.get(CONF_IN_PROGRAM, False)): bool,
            vol.Required(
                CONF_TARIFF_KIND, default=defaults.get(CONF_TARIFF_KIND, TARIFF_KIND_FLAT)
            ): tariff_kind_selector(TARIFF_KINDS),
        }
    )


def _premise_schema(defaults: dict[str, Any]) -> vol.Schema:
    """Reconfigure: the name and the premise ID (generated at set-up without a program)."""
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
        ): _box("min"),
        vol.Required(
            CONF_VALIDATION_WINDOW,
            default=defaults.get(CONF_VALIDATION_WINDOW, DEFAULT_VALIDATION_WINDOW),
        ): _box("s"),
    }


def _validate_name(user_input: dict[str, Any]) -> dict[str, str]:
    if not user_input[CONF_PREMISE_NAME].strip():
        return {CONF_PREMISE_NAME: "empty_name"}
    return {}


def _validate_premise_id(user_input: dict[str, Any]) -> dict[str, str]:
    if not ID_PATTERN.match((user_input.get(CONF_PREMISE_ID) or "").strip()):
        return {CONF_PREMISE_ID: "invalid_id"}
    return {}


def _validate_premise(user_input: dict[str, Any]) -> dict[str, str]:
    return _validate_name(user_input) | _validate_premise_id(user_input)


def _validate_metering(user_input: dict[str, Any]) -> dict[str, str]:
    return range_errors(user_input, METERING_RANGES)
