"""How PEV Portal reads a charger integration's vehicle ID and transaction sensors, including
lbbrhzn/ocpp's OCPP 2.0.1 shapes (``"<type>:<idToken>"``, string transaction IDs)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from homeassistant.core import HomeAssistant, State

from custom_components.pev_portal.adapters import EntityCharger
from custom_components.pev_portal.charger_values import Transaction, transaction, vehicle_id

KWH = {"device_class": "energy", "unit_of_measurement": "kWh"}


@pytest.mark.parametrize(
    ("shown", "ocpp", "expected"),
    [
        ("RFID-0042", True, "RFID-0042"),  # OCPP 1.6: the idTag itself
        ("ISO14443:RFID-0042", True, "RFID-0042"),  # OCPP 2.0.1: "<type>:<idToken>"
        ("eMAID:DE-ABC-C12345678-X", True, "DE-ABC-C12345678-X"),
        ("KeyCode:1234", True, "1234"),
        ("Central:7QK2M0X9A1B2C3D4", True, None),  # the central system's remote start
        ("NoAuthorization:", True, None),
        ("ISO14443:", True, None),
        ("", True, None),  # 2.0.1: cleared at the transaction's end
        ("unknown", True, None),
        ("unavailable", False, None),
        ("ISO14443:RFID-0042", False, "ISO14443:RFID-0042"),  # another integration: as is
        ("Vendor:thing", True, "Vendor:thing"),  # not an idToken type
    ],
)
def test_vehicle_id(shown: str, ocpp: bool, expected: str | None) -> None:
    assert vehicle_id(State("sensor.charger_id_tag", shown), ocpp=ocpp) == expected


def test_vehicle_id_without_a_sensor() -> None:
    assert vehicle_id(None, ocpp=True) is None


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        # OCPP 1.6 (lbbrhzn): the epoch second of the start; 0 after the stop.
        ("1795341600", Transaction(True, datetime(2026, 11, 22, 10, 0, tzinfo=UTC), 12.5, 0.1)),
        ("0", Transaction(False, None, 12.5, 0.1)),
        # OCPP 2.0.1: the charge point's string ID; empty after the stop.
        (
            "3f1c0d2e-8f4b-4a57-9a53-7d0c1e2b9f10",
            Transaction(True, None, 12.5, 0.1, "3f1c0d2e-8f4b-4a57-9a53-7d0c1e2b9f10"),
        ),
        ("", Transaction(False, None, 12.5, 0.1)),
        ("unknown", Transaction(None, None, 12.5, 0.1)),
        ("unavailable", Transaction(None, None, 12.5, 0.1)),
    ],
)
def test_transaction(marker: str, expected: Transaction) -> None:
    found = transaction(
        State("sensor.charger_transaction_id", marker),
        State("sensor.charger_energy_meter_start", "12.5", KWH),
        State("sensor.charger_energy_session", "100", {**KWH, "unit_of_measurement": "Wh"}),
    )
    assert found == expected


def test_transaction_without_sensors() -> None:
    assert transaction(None, None, None) == Transaction(None, None, None, None)


@pytest.mark.parametrize(
    ("status", "expected"),
    [("Charging", 7.36), ("SuspendedEVSE", 0.0), ("SuspendedEV", 0.0), ("Preparing", 7.36)],
)
async def test_a_suspended_charger_draws_nothing(
    hass: HomeAssistant, status: str, expected: float
) -> None:
    """A power sensor still showing the last sample (lbbrhzn/ocpp on 2.0.1 until the next
    one) is not read while the status says the charge is suspended."""
    hass.states.async_set("sensor.cp_status", status)
    hass.states.async_set("sensor.cp_power", "7.36", {"unit_of_measurement": "kW"})
    charger = EntityCharger(
        hass, {"status_entity": "sensor.cp_status", "power_entity": "sensor.cp_power"}
    )
    assert charger.power_kw() == pytest.approx(expected)
