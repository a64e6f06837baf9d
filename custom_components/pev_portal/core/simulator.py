"""A simulated EVSE with a car behind it, for the demo charger, the tests and trying things out.

The car accepts full power up to 80 % state of charge and tapers linearly to a trickle at 100 %
(the constant-current / constant-voltage shape of a lithium-ion charge). The EVSE answers the
same commands a real one does: allow or stop charging, and a current limit in amps.

Power feed (V2H/V2G): a bidirectional EVSE with a bidirectional car feeds the battery back
when told a discharge current (:meth:`DemoEvse.set_discharge`), at most the car's discharge
power, never below the car's own lowest state of charge (its battery management's reserve),
with the car's charge and discharge efficiencies (a round trip of 0.85 for the demo's
bidirectional car, :func:`bidirectional_car`). What it feeds is counted on the EVSE's received
register (``discharged_kwh``); its power then reads below zero.
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
    bidirectional: bool = False
    max_discharge_kw: float = 0.0
    min_soc: float = 0.10  # the car's own reserve: it feeds nothing below
    charge_efficiency: float = 1.0  # battery energy per AC kWh drawn
    discharge_efficiency: float = 1.0  # AC kWh fed per battery kWh

    def acceptance_kw(self) -> float:
        """Power the car accepts now, following the charge curve."""
        if self.soc >= 1.0:
            return 0.0
        if self.soc <= TAPER_START_SOC:
            return self.max_ac_kw
        share = (1.0 - self.soc) / (1.0 - TAPER_START_SOC)
        return self.max_ac_kw * max(TRICKLE_FRACTION, share)


def bidirectional_car(pev_id: str = "PEV-DEMO-V2G", soc: float = 0.5) -> DemoCar:
    """The demo's bidirectional car: 60 kWh, 7.4 kW both ways (a single-phase 32 A
    bidirectional wallbox's class), 0.92 each way (0.85 round trip, AC to AC), a 10 % reserve."""
    return DemoCar(
        pev_id=pev_id,
        capacity_kwh=60.0,
        soc=soc,
        max_ac_kw=7.4,
        bidirectional=True,
        max_discharge_kw=7.4,
        min_soc=0.10,
        charge_efficiency=0.92,
        discharge_efficiency=0.92,
    )


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
    bidirectional: bool = False  # can feed a bidirectional car's battery back
    discharge_a: int = 0  # the discharge current it is told (0: none; feeds from 6 A)

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
        if self.power_kw != 0:
            return ChargerStatus.CHARGING  # energy flows (either way): the session is active
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

    def set_discharge(self, amps: float) -> None:
        """Set the discharge current (0: none; below 6 A it feeds nothing, IEC 61851)."""
        if not self.ignore_commands:
            self.discharge_a = max(0, min(self.max_current_a, int(amps)))

    def can_discharge(self) -> bool:
        """Whether it feeds back now: a bidirectional EVSE and car."""
        return self.bidirectional and self.car is not None and self.car.bidirectional

    def discharge_kw(self) -> float:
        """The power it is told to feed back (0: none)."""
        if not self.enabled or self.discharge_a < MIN_CURRENT_A or not self.can_discharge():
            return 0.0
        return self.discharge_a * self.voltage_v * self.phases / 1000.0

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
        if (feed := min(self.discharge_kw(), car.max_discharge_kw)) > 0:
            self._feed(car, feed, seconds)
            return
        power = min(self.limit_kw(), car.acceptance_kw())
        energy = power * seconds / 3600.0
        room = max(0.0, (1.0 - car.soc) * car.capacity_kwh) / car.charge_efficiency
        energy = min(energy, room)
        car.soc = min(1.0, car.soc + energy * car.charge_efficiency / car.capacity_kwh)
        self.register_kwh += energy
        self.power_kw = round(power, 3) if energy > 0 else 0.0

    def _feed(self, car: DemoCar, feed_kw: float, seconds: float) -> None:
        """Feed the battery back at ``feed_kw`` (AC) down to the car's reserve."""
        stored = max(0.0, (car.soc - car.min_soc) * car.capacity_kwh)
        energy = min(feed_kw * seconds / 3600.0, stored * car.discharge_efficiency)
        car.soc = max(car.min_soc, car.soc - energy / car.discharge_efficiency / car.capacity_kwh)
        self.discharged_kwh += energy
        self.power_kw = -round(feed_kw, 3) if energy > 0 else 0.0
