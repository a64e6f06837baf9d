"""The command controller's mapping of a target to a charger command (power feed included):
pure, no Home Assistant needed (the demo charger's adapter over the simulated EVSE)."""

from __future__ import annotations

import pytest

from custom_components.pev_portal.charger_status import map_status
from custom_components.pev_portal.charging.controller import (
    PAUSED,
    UNKNOWN,
    ChargerController,
    Command,
)
from custom_components.pev_portal.core.session import ChargerStatus
from custom_components.pev_portal.demo_charger import DemoCharger
from custom_components.pev_portal.runtime import ChargerRuntime, demo_evse


def _runtime(bidirectional: bool) -> ChargerRuntime:
    demo = DemoCharger(demo_evse(bidirectional), meter_id="M")
    return ChargerRuntime("c1", "Garage", demo, demo, demo=demo)


def test_a_command_is_charging_unless_it_says_a_discharge() -> None:
    assert Command(True, 10).discharge_a == 0
    assert Command(False, 0) == PAUSED
    assert UNKNOWN not in (PAUSED, Command(True, 0, 16))


@pytest.mark.parametrize(
    ("limit_kw", "discharge_kw", "expected"),
    [
        (6.9, 0.0, Command(True, 30)),  # 30 A x 230 V, one phase
        (0.0, 0.0, PAUSED),
        (1.0, 0.0, PAUSED),  # below 6 A
        (0.0, 5.0, Command(True, 0, 21)),  # 21 A x 230 V = 4.83 kW <= 5 kW
        (0.0, 7.36, Command(True, 0, 32)),
        (0.0, 20.0, Command(True, 0, 32)),  # at most its discharge range
        (0.0, 1.0, PAUSED),  # 4 A: below the least current, nothing fed
        (3.0, 5.0, Command(True, 0, 21)),  # a feed wins over a charge limit
    ],
)
def test_bidirectional_charger(limit_kw: float, discharge_kw: float, expected: Command) -> None:
    runtime = _runtime(bidirectional=True)
    assert runtime.adapter.can_discharge()
    assert runtime.adapter.max_discharge_kw() == pytest.approx(7.36)
    assert ChargerController.command_for(runtime, limit_kw, discharge_kw) == expected


@pytest.mark.parametrize("discharge_kw", [0.1, 5.0, 11.0])
def test_a_charger_that_cannot_discharge_is_paused_instead(discharge_kw: float) -> None:
    runtime = _runtime(bidirectional=False)
    assert not runtime.adapter.can_discharge()
    assert runtime.adapter.max_discharge_kw() == 0.0
    assert ChargerController.command_for(runtime, 0.0, discharge_kw) == PAUSED
    # Charging is as before: 16 A on three phases.
    assert ChargerController.command_for(runtime, 11.04, 0.0) == Command(True, 16)


@pytest.mark.parametrize("status", ["Discharging", "discharging", " Discharging "])
def test_wallbox_discharging_is_an_active_session(status: str) -> None:
    """The core wallbox integration's status 196 ("Discharging"): energy flows, the session
    is active (not an unknown status read as plugged in)."""
    assert map_status(status) is ChargerStatus.CHARGING
    assert map_status("Paused") is ChargerStatus.PLUGGED  # its pause switch (178, 182)
