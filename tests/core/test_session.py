"""The charging-session state machine."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.pev_portal.core.binding import decide_local
from custom_components.pev_portal.core.session import (
    ChargerStatus,
    ChargingSession,
    PauseReason,
    SessionState,
    VehicleSource,
)

T0 = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)


def session() -> ChargingSession:
    return ChargingSession(charger_id="c1", premise_id="P1", started_at=T0)


def test_validating_until_bound_even_while_drawing() -> None:
    """Charging is never blocked (req 3); the state says validation is still going on."""
    s = session()
    assert s.state is SessionState.VALIDATING
    assert s.update_charger(ChargerStatus.CHARGING, 7.0, T0) is SessionState.VALIDATING
    s.bind(decide_local(True), T0 + timedelta(seconds=1))
    assert s.state is SessionState.CHARGING
    assert s.bound_at == T0 + timedelta(seconds=1)
    assert s.charging_started_at == T0 + timedelta(seconds=1)


def test_waiting_charging_paused_completed() -> None:
    """Plug, wait, charge, pause by the user, resume, unplug."""
    s = session()
    s.bind(decide_local(True), T0)
    assert s.update_charger(ChargerStatus.PLUGGED, 0.0, T0) is SessionState.WAITING
    assert s.update_charger(ChargerStatus.PLUGGED, 11.0, T0) is SessionState.CHARGING
    s.pause(PauseReason.USER, T0)
    assert s.state is SessionState.CHARGING  # still drawing until the charger obeys
    assert s.update_charger(ChargerStatus.PLUGGED, 0.0, T0) is SessionState.PAUSED
    assert s.pause_reason is PauseReason.USER
    s.resume(T0)
    assert s.state is SessionState.WAITING
    end = T0 + timedelta(hours=2)
    assert s.update_charger(ChargerStatus.UNPLUGGED, None, end) is SessionState.COMPLETED
    assert s.ended_at == end
    assert not s.active
    # Nothing changes a completed session.
    assert s.update_charger(ChargerStatus.CHARGING, 5.0, end) is SessionState.COMPLETED


@pytest.mark.parametrize("reason", list(PauseReason))
def test_pause_reasons(reason: PauseReason) -> None:
    """Paused by the user, the plan or an event."""
    s = session()
    s.bind(decide_local(True), T0)
    s.update_charger(ChargerStatus.PLUGGED, 0.0, T0)
    s.pause(reason, T0)
    assert (s.state, s.pause_reason) == (SessionState.PAUSED, reason)


def test_fault_and_recovery() -> None:
    """A charger fault shows as fault; it clears when the charger recovers."""
    s = session()
    s.bind(decide_local(True), T0)
    assert s.update_charger(ChargerStatus.FAULT, None, T0) is SessionState.FAULT
    assert s.update_charger(ChargerStatus.CHARGING, None, T0) is SessionState.CHARGING


def test_status_without_power_sensor() -> None:
    """Without a power reading the charger's own status decides whether it is charging."""
    s = session()
    s.bind(decide_local(False), T0)
    assert s.update_charger(ChargerStatus.CHARGING, None, T0) is SessionState.CHARGING
    assert s.update_charger(ChargerStatus.PLUGGED, None, T0) is SessionState.WAITING


def test_charger_energy_beside_meter() -> None:
    """UC133 step 7 note: the charger's own count beside the meter's, with the difference."""
    s = session()
    assert s.charger_difference_kwh is None
    s.update_charger_energy(None)
    assert s.charger_kwh is None
    s.update_charger_energy(1000.0)
    s.update_charger_energy(1010.5)
    s.meter_kwh = 10.8
    assert s.charger_kwh == pytest.approx(10.5)
    assert s.charger_difference_kwh == pytest.approx(0.3)
    # A charger register that resets mid-session restarts its count, never negative.
    s.update_charger_energy(2.0)
    assert s.charger_kwh == 0.0


def test_round_trip_through_json() -> None:
    """The stored form restores the same session (stable ID included)."""
    s = session()
    s.identify("PEV-1", VehicleSource.TAG)
    s.bind(decide_local(True), T0)
    s.update_charger(ChargerStatus.CHARGING, 7.2, T0)
    s.pause(PauseReason.EVENT, T0)
    s.meter_kwh = 3.5
    s.update_charger_energy(100.0)
    restored = ChargingSession.from_dict(json.loads(json.dumps(s.to_dict())))
    assert restored == s
    assert restored.session_id == s.session_id


def test_session_ids_are_unique_and_times_aware() -> None:
    """Each session gets its own stable ID; naive times are refused."""
    assert session().session_id != session().session_id
    with pytest.raises(ValueError, match="naive"):
        ChargingSession(charger_id="c", premise_id="p", started_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        session().update_charger(ChargerStatus.PLUGGED, None, datetime(2026, 1, 1))
