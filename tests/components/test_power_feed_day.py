"""A day with a price spread, end to end (issue #18): the planner's feed plan (part B) through
the command controller (part A) to the demo charger set up as bidirectional on its form.

Peak 0.50 from 16:00 to 21:00, 0.10 otherwise; the home draws 5 kW; the demo car (60 kWh,
7.4 kW both ways, 0.92 each way) plugged in at 16:30 at 50 %; power feed on, floor 40 %, target
80 % by 07:00. The clock runs in 5-minute steps; what is asserted is what the simulated charger
did, not what was planned.
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from custom_components.pev_portal.core.simulator import bidirectional_car

from .common import advance, setup
from .conftest import make_entry
from .feed_helpers import DEMO_V2G
from .test_power_feed_plan import DEPARTURE, FEED_OPTIONS, HOME, PEAK, PEAK_END
from .test_smart_charging import _at, _cheapest, utc

__all__ = ["utc"]  # a fixture used here


async def test_a_day_feeds_the_peak_and_is_ready_by_departure(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """At the peak the charger feeds (power below zero, its received register growing, each
    discharge command obeyed in the trail), never below the 40 % floor and never above the
    home's 5 kW; nothing is bought at the peak; at night it charges; 80 % by 07:00."""
    freezer.move_to(PEAK)
    hass.states.async_set(HOME, "5000", {"unit_of_measurement": "W"})
    coordinator = await setup(hass, make_entry(charger=DEMO_V2G, options=FEED_OPTIONS))
    await _cheapest(hass, target=80)
    vehicle = coordinator.smart.premise.vehicles["vehicle1"]
    coordinator.smart.update_settings(vehicle, power_feed=True, floor=40.0)
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    evse = runtime.demo.evse
    evse.plug(bidirectional_car("PEV-DEMO-0001", soc=0.5))
    await advance(hass, freezer, 10)
    car = evse.car
    assert car is not None
    at, lowest, most_fed_kw, peak_bought, fed_at_peak = PEAK, car.soc, 0.0, 0.0, 0.0
    register = evse.register_kwh
    while at < DEPARTURE:
        at += timedelta(minutes=5)
        await _at(hass, freezer, at)
        await advance(hass, freezer, 5)
        lowest = min(lowest, car.soc)
        most_fed_kw = max(most_fed_kw, -evse.power_kw)
        if at <= PEAK_END:
            peak_bought = evse.register_kwh - register
            fed_at_peak = evse.discharged_kwh
    # 30 kWh down to the 24 kWh floor: about 6 kWh out of the battery, 5.5 kWh AC fed.
    assert 5.0 < fed_at_peak <= 6.0 * 0.92 + 0.05
    assert evse.discharged_kwh == fed_at_peak  # nothing fed after the peak
    assert 0 < most_fed_kw <= 5.0
    assert peak_bought < 0.05
    assert lowest >= 0.4 - 1e-3
    assert car.soc >= 0.8 - 0.01
    assert runtime.session is not None
    feeds = [c for c in coordinator.smart.audit_for(runtime) if c["target_kw"] < 0]
    assert feeds
    assert all(c["obeyed"] is True for c in feeds)
    assert coordinator.smart.audit_for(runtime)[-1]["target_kw"] >= 0  # charging at the end
    print(
        f"fed {fed_at_peak:.2f} kWh at up to {most_fed_kw:.2f} kW, lowest {lowest:.3f}, soc {car.soc:.3f}, {len(feeds)} feed commands"
    )
