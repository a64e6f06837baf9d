"""Each vehicle's smart-charging settings, and what a session still wants.

* The charge mode, departure time and target per vehicle, stored in the store's meta; and
  its power-feed settings (V2H/V2G, docs/power-feed.md): whether the battery may feed the
  home and the grid (off by default), the state of charge never fed below (%), the battery
  wear cost per kWh fed (None: the documented default) and the cycles it may feed a day.
* The energy wanted: with a battery capacity the target is a state of charge in %; the
  vehicle's state of charge comes from its battery sensor (the vehicle's "state of charge
  sensor", e.g. from the car's own integration; the demo car reports its own). While that sensor
  is unknown or unavailable, the target is read as the energy to add in the session (target %
  of the capacity). Without a capacity the target is in kWh to add. Without a target: a full
  battery (the capacity, else :data:`DEFAULT_ENERGY_KWH`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..const import (
    DEFAULT_CYCLES_PER_DAY,
    DEFAULT_DEPARTURE,
    DEFAULT_ENERGY_KWH,
    DEFAULT_SOC_FLOOR,
)
from ..core.planner import ChargeMode
from ..runtime import ChargerRuntime, Vehicle


@dataclass(slots=True)
class VehicleSettings:
    """The user's smart-charging settings of a vehicle."""

    mode: ChargeMode = ChargeMode.IMMEDIATE
    departure: time = DEFAULT_DEPARTURE
    target: float | None = None
    power_feed: bool = False
    floor: float = DEFAULT_SOC_FLOOR  # % of the battery never fed below
    wear_cost: float | None = None  # per kWh fed (None: DEFAULT_WEAR_COST_PER_KWH)
    cycles_per_day: float = DEFAULT_CYCLES_PER_DAY

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "mode": self.mode.value,
            "departure": self.departure.strftime("%H:%M"),
            "target": self.target,
            "power_feed": self.power_feed,
            "floor": self.floor,
            "wear_cost": self.wear_cost,
            "cycles_per_day": self.cycles_per_day,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VehicleSettings:
        """Inverse of :meth:`to_dict`."""
        target = data.get("target")
        if target is not None and not (isinstance(target, int | float) and math.isfinite(target)):
            target = None  # never a NaN from a damaged store
        return cls(
            ChargeMode(data.get("mode", ChargeMode.IMMEDIATE)),
            time.fromisoformat(data.get("departure") or DEFAULT_DEPARTURE.isoformat()),
            target,
            power_feed=data.get("power_feed") is True,
            floor=_number(data.get("floor"), DEFAULT_SOC_FLOOR, 0.0, 100.0),
            wear_cost=_number(data.get("wear_cost"), None, 0.0, 10.0),
            cycles_per_day=_number(data.get("cycles_per_day"), DEFAULT_CYCLES_PER_DAY, 0.0, 10.0),
        )


def _number[T: float | None](value: Any, default: T, lo: float, hi: float) -> float | T:
    """A stored number within ``lo .. hi``, else the default (never a NaN from a damaged
    store)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    if not math.isfinite(value) or not lo <= value <= hi:
        return default
    return float(value)


def next_departure(settings: VehicleSettings, now: datetime) -> datetime:
    """The next occurrence of the departure time (local), in UTC."""
    tz = dt_util.get_default_time_zone()
    day = dt_util.as_local(now).date()
    for offset in (0, 1, 2):
        candidate = datetime.combine(day + timedelta(days=offset), settings.departure, tz)
        if candidate > now:
            return dt_util.as_utc(candidate)
    raise AssertionError("unreachable")  # pragma: no cover


def state_of_charge(
    hass: HomeAssistant, runtime: ChargerRuntime, vehicle: Vehicle | None
) -> float | None:
    """The vehicle's state of charge (0-1) now: its battery sensor, or the demo car's."""
    if vehicle is not None and vehicle.soc_entity:
        state = hass.states.get(vehicle.soc_entity)
        try:
            value = float(state.state) if state is not None else None
        except ValueError:
            value = None
        if value is not None and 0.0 <= value <= 100.0:
            return value / 100.0
    if runtime.demo is not None and runtime.demo.evse.car is not None:
        return runtime.demo.evse.car.soc
    return None


def energy_wanted(
    hass: HomeAssistant,
    runtime: ChargerRuntime,
    vehicle: Vehicle | None,
    target: float | None,
) -> float:
    """The energy still wanted by the session (see the module docstring)."""
    session = runtime.session
    assert session is not None
    capacity = vehicle.capacity_kwh if vehicle is not None else None
    soc = state_of_charge(hass, runtime, vehicle)
    if runtime.demo is not None and runtime.demo.evse.car is not None:
        capacity = capacity or runtime.demo.evse.car.capacity_kwh
    delivered = session.meter_kwh
    if capacity:
        share = 1.0 if target is None else target / 100.0
        if soc is not None:
            return max(0.0, (share - soc) * capacity)
        return max(0.0, share * capacity - delivered)
    if target is None:
        return max(0.0, DEFAULT_ENERGY_KWH - delivered)
    return max(0.0, target - delivered)
