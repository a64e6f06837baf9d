"""The tariff step's schema and validation."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector

from ..const import (
    CONF_DEFAULT_PRICE,
    CONF_TARIFF,
    DEFAULT_PRICE,
)
from ..core.tariff import TariffError, tariff_from_dict


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


def _default_tariff(hass: HomeAssistant) -> dict[str, Any]:
    return {"type": "flat", "currency": hass.config.currency or "EUR", "price": "0.30"}
