"""Zigbee Smart Energy metering arithmetic, device corrections and status bits (pure).

Nothing here imports zigpy or Home Assistant: the ZHA adapter (``zigbee/meter.py``) reads the
Metering cluster (0x0702) and hands plain integers to these functions.

* Energy is ``CurrentSummationDelivered x Multiplier / Divisor`` in the unit of
  ``UnitofMeasure`` (ZCL 8, 10.4.2.2.4); a Multiplier or Divisor of 0 or absent counts as 1. The
  ``SummationFormatting`` bits only say how a display should print the number, never how to
  scale it, so they are reported and otherwise ignored.
* ``InstantaneousDemand`` (signed 24 bit) is scaled the same way, in kW for a kWh meter.
* Known device errors are corrected from a built-in table (``CORRECTIONS``): only the devices
  zhaquirks (zha-device-handlers) corrects by manufacturer and model, and only where ZHA did not
  already apply that quirk (the adapter checks). Tuya plugs are not in it: zhaquirks matches them
  by their full signature, not by manufacturer name, and a TS0121 it leaves alone reports its
  own, right, divisor. A user override of the multiplier or divisor wins over both the table and
  the device.
* Status (0x0200) bits that make a reading doubtful (check meter, tamper, power failure, service
  disconnect) are tracked over time so the intervals they touch can be marked.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from enum import IntFlag
from typing import Final

__all__ = [
    "ALARM_BITS",
    "CORRECTIONS",
    "DEVICE_TYPES",
    "KWH_UNITS",
    "Correction",
    "MeterStatus",
    "Scaling",
    "StatusTimeline",
    "UnitError",
    "alarm_names",
    "demand_kw",
    "device_type_name",
    "find_correction",
    "formatting_details",
    "metering_kwh",
    "resolve_scaling",
]

# UnitofMeasure values that mean kWh (and kW for demand): binary and BCD encoded.
KWH_BINARY: Final = 0x00
KWH_BCD: Final = 0x80
KWH_UNITS: Final = frozenset({KWH_BINARY, KWH_BCD})


class UnitError(ValueError):
    """The meter does not measure electric energy in kWh."""


class MeterStatus(IntFlag):
    """The Metering cluster's Status attribute for electricity meters (ZCL 8 table 10-67)."""

    CHECK_METER = 0x01
    LOW_BATTERY = 0x02
    TAMPER_DETECT = 0x04
    POWER_FAILURE = 0x08
    POWER_QUALITY = 0x10
    LEAK_DETECT = 0x20
    SERVICE_DISCONNECT = 0x40


# The bits that make the meter's readings doubtful: raise a repair, mark the intervals.
ALARM_BITS: Final = (
    MeterStatus.CHECK_METER
    | MeterStatus.TAMPER_DETECT
    | MeterStatus.POWER_FAILURE
    | MeterStatus.SERVICE_DISCONNECT
)

_ALARM_NAMES: Final = {
    MeterStatus.CHECK_METER: "check_meter",
    MeterStatus.TAMPER_DETECT: "tamper",
    MeterStatus.POWER_FAILURE: "power_failure",
    MeterStatus.SERVICE_DISCONNECT: "service_disconnect",
}

# MeteringDeviceType (ZCL 8 table 10-71); 127 and up are the mirrored kinds.
DEVICE_TYPES: Final[dict[int, str]] = {
    0: "electric",
    1: "gas",
    2: "water",
    3: "thermal",
    4: "pressure",
    5: "heat",
    6: "cooling",
    7: "eumd_ev_charging",
    8: "pv_generation",
    9: "wind_turbine_generation",
    10: "water_turbine_generation",
    11: "micro_generation",
    12: "solar_hot_water_generation",
    13: "electric_element_phase_1",
    14: "electric_element_phase_2",
    15: "electric_element_phase_3",
}
EUMD_EV_CHARGING: Final = 7


def alarm_names(status: int) -> list[str]:
    """The alarm bits set in a Status value, by name, in bit order."""
    return [name for bit, name in _ALARM_NAMES.items() if status & bit]


def device_type_name(value: int | None) -> str | None:
    """The MeteringDeviceType's name (``mirrored_...`` from 127 up); None when absent."""
    if value is None:
        return None
    if value >= 127 and value - 127 in DEVICE_TYPES:
        return f"mirrored_{DEVICE_TYPES[value - 127]}"
    return DEVICE_TYPES.get(value, f"unknown_{value}")


def formatting_details(formatting: int | None) -> dict[str, int | bool] | None:
    """SummationFormatting decoded for display: digits right/left of the point, zeros."""
    if formatting is None:
        return None
    return {
        "digits_right": formatting & 0x07,
        "digits_left": (formatting >> 3) & 0x0F,
        "suppress_leading_zeros": bool(formatting & 0x80),
    }


def _factor(value: int | None) -> int:
    return value or 1


def _bcd(value: int) -> int:
    """Decode a BCD-encoded register (each nibble one decimal digit)."""
    result, scale = 0, 1
    while value:
        digit = value & 0x0F
        if digit > 9:
            raise ValueError(f"not a BCD value: {value:#x}")
        result += digit * scale
        scale *= 10
        value >>= 4
    return result


def _scaled(raw: int, multiplier: int | None, divisor: int | None, unit: int | None) -> float:
    if unit is not None and unit not in KWH_UNITS:
        raise UnitError(f"unit of measure {unit:#04x} is not kWh")
    if unit == KWH_BCD:
        raw = _bcd(raw) if raw >= 0 else -_bcd(-raw)
    return raw * _factor(multiplier) / _factor(divisor)


def metering_kwh(
    summation: int, multiplier: int | None, divisor: int | None, unit: int | None = None
) -> float:
    """CurrentSummationDelivered in kWh (multiplier and divisor of 0 or None count as 1).

    ``unit`` is the UnitofMeasure; None (not reported) is taken as kWh, any other unit raises
    :class:`UnitError`. A negative summation raises ValueError (the attribute is unsigned).
    """
    if summation < 0:
        raise ValueError(f"a summation is never negative, got {summation}")
    return _scaled(summation, multiplier, divisor, unit)


def demand_kw(
    demand: int, multiplier: int | None, divisor: int | None, unit: int | None = None
) -> float:
    """InstantaneousDemand in kW (signed; negative is energy exported)."""
    return _scaled(demand, multiplier, divisor, unit)


@dataclass(frozen=True, slots=True)
class Correction:
    """A device that reports a wrong multiplier or divisor, and the right ones.

    ``manufacturer`` and ``models`` are matched exactly (case-insensitively), as zhaquirks
    matches them: a correction is only ever for the devices zhaquirks names by manufacturer and
    model (or a documented measurement does). ``below_firmware``: only firmware versions below it
    are affected (None: all).
    """

    manufacturer: str
    models: tuple[str, ...]
    multiplier: int | None
    divisor: int | None
    note: str
    source: str
    below_firmware: int | None = None

    def matches(self, manufacturer: str | None, model: str | None, firmware: int | None) -> bool:
        """Whether a device is one this correction is for."""
        if manufacturer is None or model is None:
            return False
        if manufacturer.casefold() != self.manufacturer.casefold():
            return False
        if model.casefold() not in (m.casefold() for m in self.models):
            return False
        return self.below_firmware is None or (
            firmware is not None and firmware < self.below_firmware
        )


_QUIRKS = "zigpy/zha-device-handlers, zhaquirks"
CORRECTIONS: Final[tuple[Correction, ...]] = (
    Correction(
        manufacturer="frient A/S",
        models=("EMIZB-132",),
        multiplier=None,
        divisor=1000,
        note="frient EMIZB-132 reports wrong divisors; its divisor is 1000 (Wh register)",
        source=f"{_QUIRKS}/develco/emi_han.py (FrientMetering)",
    ),
    Correction(
        manufacturer="innr",
        models=("SP 120", "SP 234"),
        multiplier=1,
        divisor=100,
        note="Innr plug firmware reports a wrong divisor; multiplier 1, divisor 100",
        source=f"{_QUIRKS}/innr/__init__.py (MeteringClusterInnrOld), innr_sp120_plug.py, "
        "innr_sp234_plug.py",
    ),
    Correction(
        manufacturer="innr",
        models=("SP 240",),
        multiplier=1,
        divisor=100,
        note="Innr SP 240 before firmware 0x191B3685 reports a wrong divisor; 1/100",
        source=f"{_QUIRKS}/innr/innr_sp240_plug.py (MeteringClusterInnrOld)",
        below_firmware=0x191B3685,
    ),
)


def find_correction(
    manufacturer: str | None, model: str | None, firmware: int | None = None
) -> Correction | None:
    """The table's correction for a device, if it has one."""
    return next((c for c in CORRECTIONS if c.matches(manufacturer, model, firmware)), None)


@dataclass(frozen=True, slots=True)
class Scaling:
    """The multiplier and divisor in use, and where each came from."""

    multiplier: int
    divisor: int
    multiplier_source: str
    divisor_source: str
    note: str | None


def resolve_scaling(
    reported_multiplier: int | None,
    reported_divisor: int | None,
    *,
    correction: Correction | None = None,
    override_multiplier: int | None = None,
    override_divisor: int | None = None,
) -> Scaling:
    """User override, else the correction table, else the device; 0 or missing count as 1."""

    def pick(override: int | None, corrected: int | None, reported: int | None) -> tuple[int, str]:
        if override:
            return override, "override"
        if corrected:
            return corrected, "correction"
        if reported:
            return reported, "reported"
        return 1, "default"

    multiplier, m_source = pick(
        override_multiplier, correction.multiplier if correction else None, reported_multiplier
    )
    divisor, d_source = pick(
        override_divisor, correction.divisor if correction else None, reported_divisor
    )
    note = correction.note if correction and "correction" in (m_source, d_source) else None
    return Scaling(multiplier, divisor, m_source, d_source, note)


class StatusTimeline:
    """The meter's Status over time, to tell which intervals an alarm touched."""

    __slots__ = ("_bits", "_times")

    def __init__(self) -> None:
        self._times: list[datetime] = []
        self._bits: list[int] = []

    def update(self, at: datetime, status: int) -> bool:
        """Record the Status at ``at``; True when the alarm bits changed."""
        alarms = status & ALARM_BITS
        previous = self._bits[-1] if self._bits else 0
        if self._times and at < self._times[-1]:
            at = self._times[-1]  # late: keep the timeline ordered
        if alarms == previous:
            return False
        self._times.append(at)
        self._bits.append(alarms)
        return True

    @property
    def alarms(self) -> int:
        """The alarm bits set now."""
        return self._bits[-1] if self._bits else 0

    def alarms_between(self, start: datetime, end: datetime) -> int:
        """The alarm bits set at any time within ``[start, end)``."""
        if not self._times:
            return 0
        found = 0
        index = bisect.bisect_right(self._times, start) - 1
        if index >= 0:
            found |= self._bits[index]
        for i in range(max(index + 1, 0), len(self._times)):
            if self._times[i] >= end:
                break
            found |= self._bits[i]
        return found

    def prune(self, before: datetime) -> None:
        """Forget changes before ``before`` (keeping the state in force then)."""
        index = bisect.bisect_right(self._times, before) - 1
        if index > 0:
            del self._times[:index]
            del self._bits[:index]
