"""The vehicles' stored settings, the power-feed ones included (issue #18)."""

from __future__ import annotations

import math

import pytest

from custom_components.pev_portal.charging.settings import VehicleSettings
from custom_components.pev_portal.const import DEFAULT_CYCLES_PER_DAY, DEFAULT_SOC_FLOOR


def test_power_feed_settings_round_trip() -> None:
    settings = VehicleSettings(power_feed=True, floor=55.0, wear_cost=0.07, cycles_per_day=0.5)
    again = VehicleSettings.from_dict(settings.to_dict())
    assert again == settings


def test_power_feed_is_off_by_default_and_old_rows_read_so() -> None:
    old = {"mode": "cheapest", "departure": "06:30", "target": 80}
    settings = VehicleSettings.from_dict(old)
    assert settings.power_feed is False
    assert settings.floor == DEFAULT_SOC_FLOOR
    assert settings.wear_cost is None
    assert settings.cycles_per_day == DEFAULT_CYCLES_PER_DAY
    assert VehicleSettings().power_feed is False


@pytest.mark.parametrize(
    "bad",
    [math.nan, math.inf, -1.0, 101.0, "40", True, None],
)
def test_a_damaged_row_gives_the_defaults_never_a_nan(bad: object) -> None:
    settings = VehicleSettings.from_dict(
        {"floor": bad, "wear_cost": bad, "cycles_per_day": bad, "power_feed": "yes"}
    )
    assert settings.floor == DEFAULT_SOC_FLOOR
    assert settings.wear_cost is None
    assert settings.cycles_per_day == DEFAULT_CYCLES_PER_DAY
    assert settings.power_feed is False
