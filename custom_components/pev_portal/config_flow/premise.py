"""The premise's identity and metering: schemas and validators (config, reconfigure, options)."""

from __future__ import annotations

from typing import Any

import probatio as vol

from ..const import (
    CONF_INTERVAL_MINUTES,
    CONF_PREMISE_ID,
    CONF_PREMISE_NAME,
    CONF_VALIDATION_WINDOW,
    DEFAULT_INTERVAL_MINUTES,
    DEFAULT_VALIDATION_WINDOW,
)
from ..core.binding import VALIDATION_WINDOW_MAX_S, VALIDATION_WINDOW_MIN_S
from .helpers import ID_PATTERN, _box


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
