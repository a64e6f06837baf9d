"""The demo charger and car."""

from __future__ import annotations

import pytest

from custom_components.pev_portal.core.session import ChargerStatus
from custom_components.pev_portal.core.simulator import DemoCar, DemoEvse, bidirectional_car


def test_full_power_then_taper() -> None:
    """Full power below 80 % state of charge, tapering above, nothing at 100 %."""
    car = DemoCar(soc=0.5, max_ac_kw=11.0)
    assert car.acceptance_kw() == 11.0
    car.soc = 0.9
    assert car.acceptance_kw() == pytest.approx(5.5)
    car.soc = 0.999
    assert car.acceptance_kw() == pytest.approx(11.0 * 0.05)
    car.soc = 1.0
    assert car.acceptance_kw() == 0.0


def test_evse_meters_energy_and_obeys_commands() -> None:
    """The EVSE delivers min(limit, acceptance), meters it, and follows on/off and current."""
    evse = DemoEvse(car=DemoCar(soc=0.2, capacity_kwh=50, max_ac_kw=22))
    assert evse.status is ChargerStatus.PLUGGED
    evse.step(3600)
    assert evse.power_kw == pytest.approx(11.04)
    assert evse.register_kwh == pytest.approx(11.04)
    assert evse.status is ChargerStatus.CHARGING
    evse.set_current(8)
    evse.step(1800)
    assert evse.power_kw == pytest.approx(5.52)
    evse.set_current(5)  # below 6 A: stops
    evse.step(60)
    assert evse.power_kw == 0.0
    evse.set_current(16)
    evse.set_enabled(False)
    evse.step(60)
    assert (evse.power_kw, evse.status) == (0.0, ChargerStatus.PLUGGED)
    evse.set_enabled(True)
    evse.step(0)  # no time, no energy
    assert evse.register_kwh == pytest.approx(11.04 + 2.76)


def test_ignoring_commands_and_full_battery() -> None:
    """A faulty charger ignores commands; a full car draws nothing."""
    evse = DemoEvse(car=DemoCar(soc=0.999, capacity_kwh=10), ignore_commands=True)
    evse.set_enabled(False)
    evse.set_current(0)
    assert evse.enabled
    assert evse.current_limit_a == 16
    for _ in range(200):
        evse.step(60)
    assert evse.car is not None
    assert evse.car.soc == pytest.approx(1.0)
    assert evse.register_kwh == pytest.approx(0.01, abs=1e-6)
    assert evse.power_kw == 0.0


def test_plug_unplug_and_fault() -> None:
    """Status follows the cable and faults."""
    evse = DemoEvse(car=None)
    assert evse.status is ChargerStatus.UNPLUGGED
    evse.step(60)
    assert evse.power_kw == 0.0
    evse.plug(DemoCar())
    assert evse.plugged
    evse.fault = True
    evse.step(60)
    assert evse.status is ChargerStatus.FAULT
    assert evse.register_kwh == 0.0
    assert evse.unplug() is not None
    assert evse.status is ChargerStatus.FAULT


# -- power feed (issue #18) -----------------------------------------------------------------


def test_a_bidirectional_car_feeds_back_with_its_losses_down_to_its_reserve() -> None:
    car = bidirectional_car(soc=0.5)
    evse = DemoEvse(max_current_a=32, phases=1, bidirectional=True, car=car)
    evse.set_discharge(32)
    assert evse.discharge_kw() == pytest.approx(7.36)
    evse.step(3600)
    assert evse.power_kw == pytest.approx(-7.36)
    assert evse.status is ChargerStatus.CHARGING  # energy flows: the session is active
    assert evse.discharged_kwh == pytest.approx(7.36)
    assert evse.register_kwh == 0.0
    # 7.36 kWh at the plug took 7.36 / 0.92 = 8 kWh out of the battery
    assert car.soc == pytest.approx(0.5 - 8.0 / 60.0)
    for _ in range(10):
        evse.step(3600)
    assert car.soc == pytest.approx(car.min_soc)  # never below the car's reserve
    assert evse.discharged_kwh == pytest.approx((0.5 - 0.1) * 60 * 0.92)
    assert evse.power_kw == 0.0


def test_charging_a_bidirectional_car_counts_its_charge_losses() -> None:
    car = bidirectional_car(soc=0.5)
    evse = DemoEvse(max_current_a=32, phases=1, bidirectional=True, car=car)
    evse.set_current(32)
    evse.step(3600)
    assert evse.register_kwh == pytest.approx(7.36)
    assert car.soc == pytest.approx(0.5 + 7.36 * 0.92 / 60.0)


@pytest.mark.parametrize(
    ("evse_bidirectional", "car_bidirectional"), [(False, True), (True, False)]
)
def test_no_feed_unless_both_the_evse_and_the_car_can(
    evse_bidirectional: bool, car_bidirectional: bool
) -> None:
    car = bidirectional_car() if car_bidirectional else DemoCar()
    evse = DemoEvse(bidirectional=evse_bidirectional, car=car)
    evse.set_discharge(16)
    evse.step(600)
    assert evse.discharged_kwh == 0.0
    assert evse.power_kw >= 0.0


def test_a_discharge_command_it_ignores_feeds_nothing() -> None:
    evse = DemoEvse(bidirectional=True, car=bidirectional_car(), ignore_commands=True)
    evse.set_discharge(16)
    evse.step(600)
    assert evse.discharge_a == 0
    assert evse.discharged_kwh == 0.0
