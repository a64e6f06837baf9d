"""The built-in simulated charger (core/simulator.py's EVSE) as a charger and meter adapter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from homeassistant.core import CALLBACK_TYPE
from homeassistant.util import dt as dt_util

from .adapter_base import ChargerAdapter, MeterAdapter
from .core.session import ChargerStatus
from .core.simulator import DemoEvse


class DemoCharger(ChargerAdapter, MeterAdapter):
    """The built-in simulated charger and its meter."""

    controllable = True

    def __init__(self, evse: DemoEvse, meter_id: str) -> None:
        self.evse = evse
        self.meter_id = meter_id
        self.max_current_a = float(evse.max_current_a)
        self.phases = evse.phases
        self.voltage = evse.voltage_v
        self._charger_listeners: list[Callable[[], None]] = []
        self._meter_listeners: list[Callable[[datetime, float, str], None]] = []
        self._last_step: datetime | None = None

    def status(self) -> ChargerStatus:
        return self.evse.status

    def power_kw(self) -> float:
        return self.evse.power_kw

    def energy_kwh(self) -> float:
        return self.evse.register_kwh

    def vehicle_id(self) -> str | None:
        return self.evse.car.pev_id if self.evse.car else None

    def reading(self) -> tuple[datetime, float]:
        return dt_util.utcnow().replace(microsecond=0), self.evse.register_kwh

    def async_listen(self, on_change: Callable[[], None]) -> CALLBACK_TYPE:
        self._charger_listeners.append(on_change)
        return lambda: self._charger_listeners.remove(on_change)

    def async_listen_readings(
        self, on_reading: Callable[[datetime, float, str], None]
    ) -> CALLBACK_TYPE:
        self._meter_listeners.append(on_reading)
        return lambda: self._meter_listeners.remove(on_reading)

    def step(self, now: datetime) -> None:
        """Advance the simulation to ``now`` and tell the listeners."""
        if self._last_step is not None:
            self.evse.step((now - self._last_step).total_seconds())
        self._last_step = now
        self.notify(now)

    def notify(self, now: datetime) -> None:
        """Publish the charger state and a meter reading."""
        for meter_listener in list(self._meter_listeners):
            meter_listener(now, self.evse.register_kwh, self.meter_id)
        for listener in list(self._charger_listeners):
            listener()

    async def async_set_enabled(self, enabled: bool) -> None:
        self.evse.set_enabled(enabled)
        if enabled and self.evse.current_limit_a < 6:
            self.evse.set_current(self.evse.max_current_a)
        self.step(dt_util.utcnow())

    async def async_resume(self, amps: float) -> None:
        self.evse.set_current(amps)
        self.evse.set_enabled(True)
        self.step(dt_util.utcnow())

    async def async_set_current(self, amps: float) -> None:
        self.evse.set_current(amps)
        self.step(dt_util.utcnow())

    def sets_current(self) -> bool:
        return True

    async def async_set_discharge(self, amps: float) -> None:
        """The EVSE's discharge current (allowed to flow); 0: no feed, and paused."""
        self.evse.set_discharge(amps if amps > 0 else 0)
        self.evse.set_enabled(amps > 0)
        self.step(dt_util.utcnow())

    def can_discharge(self) -> bool:
        return self.evse.bidirectional

    def max_discharge_kw(self) -> float:
        return self.max_power_kw() if self.evse.bidirectional else 0.0

    def received_reading(self) -> tuple[datetime, float] | None:
        if not self.evse.bidirectional:
            return None
        return dt_util.utcnow().replace(microsecond=0), self.evse.discharged_kwh

    def describe(self) -> dict[str, Any]:
        found: dict[str, Any] = {"type": "demo", "controllable": True}
        if self.evse.bidirectional:
            found["discharge_range_kw"] = round(self.max_discharge_kw(), 3)
        return found
