"""Shared pieces of the flows: the boxed-number and password selectors, the ID pattern."""

from __future__ import annotations

import re
from typing import Literal

from homeassistant.helpers import selector

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


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


def _password() -> selector.TextSelector:
    return selector.TextSelector(
        selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
    )
