"""The options form's "power feed" section (issue #18): what the premise's grid connection
pays and allows for energy fed back by a vehicle, and the home's consumption sensor.

* **Export rate** (``export_rate``): the tariff's flat export (feed-in) rate per kWh.
* **Export limit** (``export_limit_kw``): the most the premise may export, kW; 0 = no export
  (the vehicle may only cover the home's own load, V2H).
* **Feed-in price** (``feed_in_price_entity``): a price integration's feed-in price sensor
  (money per energy, like the tariff's price entity); it wins over the flat rate.
* **Home consumption** (``home_load_entity``): the home's consumption power sensor (W or kW),
  what V2H may cover (read by the feed planner).

All four are optional and live in a collapsed section of the options (not the first set-up):
the homeowner's set-up walk stays as short as it was. Negative and not-a-number values, an
entity that is not a price or not a power are refused with a message on the section.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section

from ..const import (
    CONF_EXPORT_LIMIT,
    CONF_EXPORT_RATE,
    CONF_FEED_IN_ENTITY,
    CONF_HOME_LOAD_ENTITY,
)
from ..core.price_source import PriceSourceError, unit_scale
from .helpers import Range, _box, entity_picker, range_errors
from .tariff import price_entity_picker

SECTION_POWER_FEED = "power_feed"
FEED_KEYS = (CONF_EXPORT_RATE, CONF_EXPORT_LIMIT, CONF_FEED_IN_ENTITY, CONF_HOME_LOAD_ENTITY)
FEED_RANGES = {
    CONF_EXPORT_RATE: Range(0, None, "invalid_export_rate"),
    CONF_EXPORT_LIMIT: Range(0, None, "invalid_export_limit"),
}
POWER_UNITS = frozenset({"w", "kw"})


def feed_schema(hass: HomeAssistant, current: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """The collapsed "power feed" section, filled with the current values (none: empty)."""
    currency = hass.config.currency or "EUR"

    def suggested(key: str) -> dict[str, Any]:
        return {"suggested_value": current.get(key)}

    fields: dict[vol.Marker, Any] = {
        vol.Optional(CONF_EXPORT_RATE, description=suggested(CONF_EXPORT_RATE)): _box(
            f"{currency}/kWh", "any"
        ),
        vol.Optional(CONF_EXPORT_LIMIT, description=suggested(CONF_EXPORT_LIMIT)): _box(
            "kW", "any"
        ),
        vol.Optional(
            CONF_FEED_IN_ENTITY, description=suggested(CONF_FEED_IN_ENTITY)
        ): price_entity_picker(hass, current.get(CONF_FEED_IN_ENTITY)),
        vol.Optional(
            CONF_HOME_LOAD_ENTITY, description=suggested(CONF_HOME_LOAD_ENTITY)
        ): entity_picker(hass, "sensor", "power"),
    }
    collapsed = not any(current.get(key) is not None for key in FEED_KEYS)
    return {vol.Optional(SECTION_POWER_FEED): section(vol.Schema(fields), {"collapsed": collapsed})}


def feed_values(user_input: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The section's values as top-level options (a field left empty: not set). A form sent
    without the section keeps the current values."""
    if SECTION_POWER_FEED not in user_input:
        return {k: current[k] for k in FEED_KEYS if current.get(k) is not None}
    given = user_input.get(SECTION_POWER_FEED) or {}
    values: dict[str, Any] = {}
    for key in FEED_KEYS:
        value = given.get(key)
        if value is None or value == "":
            continue
        values[key] = float(value) if key in FEED_RANGES else value
    return values


def validate_feed(hass: HomeAssistant, user_input: Mapping[str, Any]) -> dict[str, str]:
    """The section's error (shown on the section, as the other sections' are), if any."""
    given = user_input.get(SECTION_POWER_FEED)
    if not isinstance(given, Mapping):
        return {}
    error = next(iter(range_errors(given, FEED_RANGES).values()), None)
    if error is None and (feed_in := given.get(CONF_FEED_IN_ENTITY)):
        error = _feed_in_error(hass, feed_in)
    if error is None and (home := given.get(CONF_HOME_LOAD_ENTITY)):
        error = _home_load_error(hass, home)
    return {SECTION_POWER_FEED: error} if error else {}


def _feed_in_error(hass: HomeAssistant, entity_id: str) -> str | None:
    """A feed-in price sensor must exist and be money per energy (or have no unit)."""
    state = hass.states.get(entity_id)
    if state is None:
        return "feed_in_not_found"
    try:
        unit_scale(state.attributes.get("unit_of_measurement"))
    except PriceSourceError:
        return "feed_in_not_price"
    return None


def _home_load_error(hass: HomeAssistant, entity_id: str) -> str | None:
    """The home's consumption sensor must exist and be a power in W or kW."""
    state = hass.states.get(entity_id)
    if state is None:
        return "home_load_not_found"
    unit = state.attributes.get("unit_of_measurement")
    if not isinstance(unit, str) or unit.strip().lower() not in POWER_UNITS:
        return "home_load_not_power"
    return None
