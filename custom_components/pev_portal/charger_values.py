"""The values a charger integration's entities show, read as PEV Portal needs them.

Numbers, energy (Wh, kWh, MWh) and power (W, kW); the charger's transaction registers
(:class:`Transaction`); and the vehicle ID as an OCPP integration shows it. Used by
:mod:`.adapters` (which re-exports what other modules import from it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import State

# lbbrhzn/ocpp on OCPP 2.0.1 shows a transaction's idToken as "<type>:<idToken>"
# (ocppv201.py on_transaction_event; types: OCPP 2.0.1 IdTokenEnumType).
_OCPP201_TOKEN = re.compile(
    r"^(Central|eMAID|ISO14443|ISO15693|KeyCode|Local|MacAddress|NoAuthorization):(.*)$"
)
# Tokens that name no vehicle: the central system's own remote-start token and "no
# authorization" (free charging).
_NOT_A_VEHICLE = frozenset({"Central", "NoAuthorization"})
_NO_VALUE = (STATE_UNAVAILABLE, STATE_UNKNOWN, "", "none")


def number(state: State | None) -> float | None:
    """A state's value as a number (None: unknown, unavailable or not a number)."""
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    try:
        return float(state.state)
    except ValueError:
        return None


def energy_kwh(state: State | None) -> float | None:
    """A cumulative energy sensor's value in kWh (Wh, kWh and MWh understood)."""
    value = number(state)
    if value is None or state is None:
        return None
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if unit == UnitOfEnergy.WATT_HOUR:
        return value / 1000.0
    if unit == UnitOfEnergy.MEGA_WATT_HOUR:
        return value * 1000.0
    return value


def power_kw(state: State | None) -> float | None:
    """A power sensor's value in kW (W and kW understood)."""
    value = number(state)
    if value is None or state is None:
        return None
    if state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) == UnitOfPower.WATT:
        return value / 1000.0
    return value


def is_energy_sensor(state: State | None) -> bool:
    """True for a sensor with device_class energy in Wh, kWh or MWh."""
    return (
        state is not None
        and state.domain == "sensor"
        and state.attributes.get("device_class") == SensorDeviceClass.ENERGY
        and state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        in (UnitOfEnergy.WATT_HOUR, UnitOfEnergy.KILO_WATT_HOUR, UnitOfEnergy.MEGA_WATT_HOUR)
    )


def vehicle_id(state: State | None, *, ocpp: bool) -> str | None:
    """The vehicle ID a sensor shows (None: none now).

    With ``ocpp`` (the OCPP preset), an OCPP 2.0.1 idToken shown as ``"<type>:<idToken>"`` is
    the idToken alone, and the central system's own remote-start token (``Central``) or
    ``NoAuthorization`` is no vehicle ID.
    """
    if state is None or state.state in _NO_VALUE:
        return None
    value = state.state
    if ocpp and (match := _OCPP201_TOKEN.match(value)) is not None:
        kind, token = match.groups()
        if kind in _NOT_A_VEHICLE or not token:
            return None
        return token
    return value


@dataclass(frozen=True, slots=True)
class Transaction:
    """The charger's own transaction registers, as its integration shows them now.

    ``running`` is True while a transaction runs, False once none does, None when the
    integration does not say; ``started_at`` its start (lbbrhzn/ocpp on OCPP 1.6: the
    transaction ID is the start's epoch second; None when the ID is not a number);
    ``meter_start_kwh`` its meterStart; ``energy_kwh`` its energy so far (after the stop:
    meterStop - meterStart); ``transaction_id`` the ID when it is not a number (OCPP 2.0.1:
    a string the charge point chose, empty once the transaction ended).
    """

    running: bool | None
    started_at: datetime | None
    meter_start_kwh: float | None
    energy_kwh: float | None
    transaction_id: str | None = None


def transaction(
    marker: State | None, meter_start: State | None, energy: State | None
) -> Transaction:
    """The transaction from its ID's, meterStart's and energy's sensors.

    The ID: a positive number is a running transaction (an epoch second is its start), 0 none;
    any other text (OCPP 2.0.1's transaction ID) a running one, an empty text none; unknown or
    unavailable: not said.
    """
    value = number(marker)
    running: bool | None = None
    started: datetime | None = None
    text_id: str | None = None
    if value is not None:
        running = value > 0
        if running:
            try:
                started = datetime.fromtimestamp(value, UTC)
            except OverflowError, OSError, ValueError:
                started = None  # not an epoch second: a plain transaction counter
    elif marker is not None and marker.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        text_id = marker.state.strip() or None
        running = text_id is not None
    return Transaction(running, started, energy_kwh(meter_start), energy_kwh(energy), text_id)
