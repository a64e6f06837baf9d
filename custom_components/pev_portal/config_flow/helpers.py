"""Shared pieces of the flows: number boxes, pickers that leave out PEV Portal's own devices and
entities, range checks with the integration's own error texts, generated IDs."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import selector
from homeassistant.util import slugify

from ..const import DOMAIN

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def _box(unit: str | None = None, step: float | Literal["any"] = 1) -> selector.NumberSelector:
    """A number typed into a box, with its unit.

    No min or max: Home Assistant would answer an out-of-range value with its generic "Value 5.0
    is too small" before the flow sees it; the flow checks ranges itself (:func:`range_errors`)
    and answers with the integration's own text.
    """
    config = selector.NumberSelectorConfig(step=step, mode=selector.NumberSelectorMode.BOX)
    if unit:
        config["unit_of_measurement"] = unit
    return selector.NumberSelector(config)


def _password() -> selector.TextSelector:
    return selector.TextSelector(
        selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
    )


@dataclass(frozen=True, slots=True)
class Range:
    """A number field's allowed range and the error key shown when a value is outside it."""

    low: float
    high: float | None
    error: str
    whole: bool = False

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if value != value or value in (float("inf"), float("-inf")):  # NaN, infinities
            return False
        if self.whole and value != int(value):
            return False
        return self.low <= value and (self.high is None or value <= self.high)


def range_errors(user_input: Mapping[str, Any], ranges: Mapping[str, Range]) -> dict[str, str]:
    """An error for each given field whose value is outside its range (empty fields pass)."""
    return {
        key: rule.error
        for key, rule in ranges.items()
        if user_input.get(key) is not None and not rule.accepts(user_input[key])
    }


def own_entities(hass: HomeAssistant) -> list[str]:
    """PEV Portal's own entities, left out of every entity picker of its forms."""
    return sorted(
        entry.entity_id
        for entry in er.async_get(hass).entities.values()
        if entry.platform == DOMAIN
    )


def entity_picker(
    hass: HomeAssistant,
    domain: str | list[str],
    device_class: str | None = None,
    *,
    multiple: bool = False,
) -> selector.EntitySelector:
    """An entity selector of the domains (and device class) without PEV Portal's own entities."""
    config = selector.EntitySelectorConfig(domain=domain, exclude_entities=own_entities(hass))
    if device_class:
        config["device_class"] = device_class
    if multiple:
        config["multiple"] = True
    return selector.EntitySelector(config)


def other_integrations_device_picker(hass: HomeAssistant) -> selector.DeviceSelector:
    """A device selector of the devices of every integration but PEV Portal."""
    domains = sorted({e.domain for e in hass.config_entries.async_entries()} - {DOMAIN})
    filters = [selector.DeviceFilterSelectorConfig(integration=d) for d in domains] or [
        # No other integration: nothing to pick (an empty filter would offer PEV Portal's own).
        selector.DeviceFilterSelectorConfig(integration="-")
    ]
    return selector.DeviceSelector(selector.DeviceSelectorConfig(filter=filters))


def generated_id(name: str, taken: set[str] | None = None, *, suffix: bool = True) -> str:
    """An ID made from a name: ``"Home"`` -> ``home-3f9a1c`` (or ``home``, ``home-2``...).

    With ``suffix`` a random hex suffix makes it unique across installations (a premise);
    without, a counter makes it unique among ``taken`` (a vehicle of the premise).
    """
    # Letters and digits joined by "-" (ID_PATTERN accepts it); a name without any: "unknown".
    base = slugify(name, separator="-")[:40].strip("-") or "unknown"
    if suffix:
        return f"{base}-{secrets.token_hex(3)}"
    taken = taken or set()
    candidate, counter = base, 2
    while candidate in taken:
        candidate = f"{base}-{counter}"
        counter += 1
    return candidate
