"""The values of interval metering (:mod:`.metering`): intervals, readings, their quality
and the anomalies found in the readings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Anomaly", "AnomalyKind", "Interval", "MeterReading", "Quality"]


class Quality(StrEnum):
    """Data quality of an interval."""

    OK = "OK"
    ESTIMATED = "ESTIMATED"
    MISSING = "MISSING"


class AnomalyKind(StrEnum):
    """What was wrong with a reading."""

    BACKWARDS = "backwards"
    JUMP = "jump"
    GAP = "gap"
    METER_CHANGED = "meter_changed"
    OUT_OF_ORDER = "out_of_order"
    # The session's meter energy and the charger's own transaction energy disagree at unplug.
    TRANSACTION_MISMATCH = "transaction_mismatch"
    # A register sample with no usable value (unavailable, NaN, negative): the received
    # register's (core/metering_feed.py); the import register refuses such readings.
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A reading that was not a plain, plausible continuation of the previous one."""

    kind: AnomalyKind
    at: datetime
    previous: float | None
    value: float | None
    message: str


@dataclass(frozen=True, slots=True)
class Interval:
    """One clock-aligned metering interval."""

    start: datetime
    end: datetime
    kwh: float
    pev_id: str | None
    premise_id: str
    meter_id: str
    quality: Quality
    meter_epoch: int
    register_end: float | None
    # Energy fed back by the vehicle in the interval (power feed; the meter's received
    # register). ``kwh`` is always the energy imported (drawn) in it.
    exported_kwh: float = 0.0

    @property
    def billable(self) -> bool:
        """Whether the interval can be billed (its quality is not MISSING)."""
        return self.quality is not Quality.MISSING


@dataclass(frozen=True, slots=True)
class MeterReading:
    """A cumulative register reading."""

    at: datetime
    kwh: float
    meter_id: str | None = None
