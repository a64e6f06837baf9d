"""The two small interfaces the coordinator sees of a charger and of its meter (re-exported by
:mod:`.adapters`, which holds the entity-mapped implementations; :mod:`.demo_charger` holds the
simulated one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from homeassistant.core import CALLBACK_TYPE

from .charger_values import Transaction
from .core.metering import Interval
from .core.session import ChargerStatus


class ChargerAdapter:
    """What the coordinator needs from a charger."""

    controllable: bool = False
    max_current_a: float = 32.0
    min_current_a: float = 6.0
    phases: int = 1
    voltage: float = 230.0

    def kw_at(self, amps: float) -> float:
        """The power of a current on every phase of the charger."""
        return amps * self.voltage * self.phases / 1000.0

    def max_power_kw(self) -> float:
        """The most the charger can deliver."""
        return self.kw_at(self.max_current_a)

    def min_power_kw(self) -> float:
        """The least it can deliver while charging (IEC 61851: 6 A)."""
        return self.kw_at(self.min_current_a)

    def amps_for(self, power_kw: float) -> int:
        """The largest whole current step that stays within a power cap."""
        return int(power_kw * 1000.0 / (self.voltage * self.phases) + 1e-9)

    def status(self) -> ChargerStatus | None:
        """The charger's status now (None while unknown)."""
        raise NotImplementedError

    def available(self) -> bool:
        """Whether Home Assistant can see the charger now (its status is not unavailable)."""
        return True

    def power_available(self) -> bool:
        """Whether the charging power can be read now (the charger's and its power sensor's)."""
        return self.available()

    def unavailable_reason(self) -> str | None:
        """Why the charger is unavailable, for the log (None while it is available)."""
        return None

    def power_kw(self) -> float | None:
        """Charging power now."""
        return None

    def energy_kwh(self) -> float | None:
        """The charger's own energy register."""
        return None

    def vehicle_id(self) -> str | None:
        """The vehicle ID the charger reports (OCPP id tag, ISO 15118 EVCCID)."""
        return None

    def vehicle_id_changed_at(self) -> datetime | None:
        """When the vehicle ID was last set or changed (Home Assistant's ``last_changed`` of
        its entity); None when the source is live (always the vehicle plugged in now)."""
        return None

    def transaction(self) -> Transaction | None:
        """The charger's transaction registers (None: its integration has none mapped)."""
        return None

    def register_entity(self) -> str | None:
        """The entity of the charger's own cumulative energy register (None: none)."""
        return None

    def async_listen(self, on_change: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``on_change`` whenever something above changes; return the unsubscriber."""
        raise NotImplementedError

    last_via: str | None = None

    async def async_set_enabled(self, enabled: bool) -> None:
        """Allow or stop charging."""

    def escalate_stop(self) -> str | None:
        """A pause was ignored: switch to another way of pausing (None: there is none)."""
        return None

    async def async_set_current(self, amps: float) -> None:
        """Set the current limit."""

    async def async_resume(self, amps: float) -> None:
        """Allow charging again at ``amps``: the current first, then the way it was paused
        undone, so the charger never runs above ``amps`` on the way (not even for a second)."""
        if self.sets_current():
            await self.async_set_current(amps)
        await self.async_set_enabled(True)

    def sets_current(self) -> bool:
        """Whether :meth:`async_set_current` reaches the charger."""
        return False

    # -- power feed (V2H/V2G) --------------------------------------------------------------

    def can_discharge(self) -> bool:
        """Whether the charger can feed the vehicle's battery back (power feed); a charger
        that cannot is never asked to (the planner gets no discharge power for it)."""
        return False

    def max_discharge_kw(self) -> float:
        """The most the charger can feed back (0 when it cannot)."""
        return 0.0

    async def async_set_discharge(self, amps: float) -> None:
        """Feed the vehicle's battery back at ``amps`` (the charger then draws nothing); 0:
        stop feeding, which leaves the charger paused (its charge command follows). Sent only
        to a charger that :meth:`can_discharge`, by the command controller."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What this adapter drives, for diagnostics."""
        return {}

    def entity_ids(self) -> list[str]:
        """The Home Assistant entities this adapter depends on."""
        return []


class MeterAdapter:
    """What the coordinator needs from an end-use meter."""

    meter_id: str = ""

    def reading(self) -> tuple[datetime, float] | None:
        """The latest register reading (time, kWh)."""
        raise NotImplementedError

    def async_listen_readings(
        self, on_reading: Callable[[datetime, float, str], None]
    ) -> CALLBACK_TYPE:
        """Call ``on_reading(at, kwh, meter_id)`` on each new reading."""
        raise NotImplementedError

    def mark_intervals(self, intervals: list[Interval]) -> list[Interval]:
        """Mark intervals the meter's own status made doubtful (default: unchanged)."""
        return intervals

    def meter_details(self) -> dict[str, Any]:
        """What diagnostics show of the meter itself (default: nothing)."""
        return {}

    def received_reading(self) -> tuple[datetime, float] | None:
        """The latest reading of the meter's received (exported) register, kWh (power feed;
        None: the meter has none)."""
        return None
