"""A simulated EVSE with a car behind it, for the demo charger, the tests and trying things out.

The car accepts full power up to 80 % state of charge and tapers linearly to a trickle at 100 %
(the constant-current / constant-voltage shape of a lithium-ion charge). The EVSE answers the
same commands a real one does: allow or stop charging, and a current limit in amps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .session import ChargerStatus

TAPER_START_SOC = 0.80
TRICKLE_FRACTION = 0.05
MIN_CURRENT_A = 6


@dataclass(slots=True)
class DemoCar:
    """A car: battery capacity, state of charge, on-board charger limit, identifier."""

    pev_id: str = "PEV-DEMO-0001"
    capacity_kwh: float = 60.0
    soc: float = 0.30
    max_ac_kw: float = 11.0

    def acceptance_kw(self) -> float:
        """Power the car accepts now, following the charge curve."""
        if self.soc >= 1.0:
            return 0.0
        if self.soc <= TAPER_START_SOC:
            return self.max_ac_kw
        share = (1.0 - self.soc) / (1.0 - TAPER_START_SOC)
        return self.max_ac_kw * max(TRICKLE_FRACTION, share)


@dataclass(slots=True)
class DemoEvse:
    """A charger with a cable, a relay and a current limit, metering what it delivers."""

    max_current_a: int = 16
    phases: int = 3
    voltage_v: float = 230.0
    enabled: bool = True
    current_limit_a: int = 16
    car: DemoCar | None = field(default_factory=DemoCar)
    register_kwh: float = 0.0
    # The energy fed back by a bidirectional car (power feed): the EVSE's received register.
    discharged_kwh: float = 0.0
    power_kw: float = 0.0
    fault: bool = False
    ignore_commands: bool = False

    @property
    def plugged(self) -> bool:
        """Whether a car is connected."""
        return self.car is not None

    @property
    def status(self) -> ChargerStatus:
        """The charger's status as its integration would report it."""
        if self.fault:
            return ChargerStatus.FAULT
        if self.car is None:
            return ChargerStatus.UNPLUGGED
        if self.power_kw > 0:
            return ChargerStatus.CHARGING
        return ChargerStatus.PLUGGED

    def plug(self, car: DemoCar) -> None:
        """Connect a car."""
        self.car = car

    def unplug(self) -> DemoCar | None:
        """Disconnect the car (returned) and stop delivering power."""
        car, self.car, self.power_kw = self.car, None, 0.0
        return car

    def set_enabled(self, enabled: bool) -> None:
        """Allow or stop charging."""
        if not self.ignore_commands:
            self.enabled = enabled

    def set_current(self, amps: float) -> None:
        """Set the current limit; below 6 A the EVSE stops (IEC 61851)."""
        if not self.ignore_commands:
            self.current_limit_a = max(0, min(self.max_current_a, int(amps)))

    def limit_kw(self) -> float:
        """The power the EVSE offers at its current limit."""
        if not self.enabled or self.current_limit_a < MIN_CURRENT_A:
            return 0.0
        return self.current_limit_a * self.voltage_v * self.phases / 1000.0

    def step(self, seconds: float) -> None:
        """Advance the simulation: deliver energy for ``seconds`` at the present power."""
        if seconds <= 0:
            return
        car = self.car
        if car is None or self.fault:
            self.power_kw = 0.0
            return
        power = min(self.limit_kw(), car.acceptance_kw())
        energy = power * seconds / 3600.0
        room = max(0.0, (1.0 - car.soc) * car.capacity_kwh)
        energy = min(energy, room)
        car.soc = min(1.0, car.soc + energy / car.capacity_kwh)
        self.register_kwh += energy
        self.power_kw = round(power, 3) if energy > 0 else 0.0
