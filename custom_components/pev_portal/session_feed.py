"""A session's received register (power feed, issue #18): the energy the vehicle feeds back.

The import register comes through the meter's reading listener; the received register is read
(``MeterAdapter.received_reading()``) at the same instants, so both close the same intervals at
the same time (:mod:`.core.metering_feed`):

* at plug-in, with the import register's baseline;
* at every import reading (:meth:`.sessions.Sessions.on_reading`);
* at a tick where the received register changed while the import register did not report (a
  sensor meter's import register is flat while the car feeds): both are sampled then, the
  import register at its last value;
* at unplug, before the ledgers close.

A meter has a received register when it reads one (the demo's bidirectional EVSE, a Zigbee
meter that reported CurrentSummationReceived) or names one (:class:`ReceivedSensorMeter`, the
charger's discharged-energy sensor, ``CONF_DISCHARGED_ENERGY_ENTITY``; unavailable, its
intervals are flagged). A meter without one meters nothing fed back: ``exported_kwh`` 0, the
quality as the import register's.

Called by :mod:`.sessions` only (and the meter by the coordinator's charger build).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .adapters import MeterAdapter, SensorMeter
from .charger_values import energy_kwh
from .core.metering import Anomaly, Interval, IntervalLedger
from .core.metering_feed import ReceivedRegister
from .runtime import ChargerRuntime, with_end

_LOGGER = logging.getLogger(__name__)
_SNAPSHOT_KEY = "received"


class ReceivedSensorMeter(SensorMeter):
    """A sensor meter whose received register is another cumulative energy sensor (the
    charger's discharged energy, e.g. the Wallbox integration's ``added_discharged_energy``)."""

    def __init__(
        self, hass: HomeAssistant, entity_id: str, meter_id: str, received_entity: str
    ) -> None:
        super().__init__(hass, entity_id, meter_id)
        self.received_entity = received_entity

    def received_reading(self) -> tuple[datetime, float] | None:
        """The discharged-energy sensor now (None: unavailable or not a number)."""
        state = self.hass.states.get(self.received_entity)
        value = energy_kwh(state)
        if value is None or state is None:
            return None
        return dt_util.utcnow().replace(microsecond=0), value

    def meter_details(self) -> dict[str, Any]:
        """What diagnostics show of the meter."""
        return {"type": "sensor", "received_entity": self.received_entity}


def has_received(meter: MeterAdapter) -> bool:
    """Whether the meter has a received register (it names or reads one)."""
    return bool(getattr(meter, "received_entity", None)) or meter.received_reading() is not None


def start(runtime: ChargerRuntime, ledger: IntervalLedger) -> None:
    """A session starts: its received register when the meter has one (else none)."""
    runtime.received = ReceivedRegister.like(ledger) if has_received(runtime.meter) else None


def sample(runtime: ChargerRuntime, at: datetime, *, estimated: bool = False) -> None:
    """Read the received register at ``at`` (an import reading's time, to the second). A meter
    whose register appears during the session gets one from then on."""
    reading = runtime.meter.received_reading()
    received = runtime.received
    if received is None:
        if reading is None or runtime.ledger is None:
            return
        received = runtime.received = ReceivedRegister.like(runtime.ledger)
    meter_id = runtime.ledger.meter_id if runtime.ledger is not None else None
    received.sample(at, None if reading is None else reading[1], meter_id, estimated=estimated)


def changed(runtime: ChargerRuntime) -> bool:
    """Whether the received register has news since its last sample (a new value, or a value
    again after a doubtful spell, or none any more)."""
    received = runtime.received
    reading = runtime.meter.received_reading()
    if received is None:
        return reading is not None and runtime.ledger is not None  # it appeared
    last = received.ledger.last_reading
    if reading is None:
        return not received.doubtful and last is not None
    return last is None or received.doubtful or reading[1] != last.kwh


def merge(runtime: ChargerRuntime, produced: list[Interval]) -> list[Interval]:
    """The import intervals with their exported energy (unchanged without a received
    register)."""
    if runtime.received is None:
        return produced
    return runtime.received.merge(produced)


def close(runtime: ChargerRuntime, end: datetime) -> None:
    """The session ends at ``end``: the last sample, then the received ledger closes."""
    if runtime.received is None:
        return
    sample(runtime, end.replace(microsecond=0))
    runtime.received.close(end)


def anomalies(runtime: ChargerRuntime) -> list[Anomaly]:
    """The received register's anomalies since the last call."""
    return runtime.received.drain_anomalies() if runtime.received is not None else []


def pending(runtime: ChargerRuntime, interval: Interval) -> Interval:
    """The open interval with the energy fed so far."""
    if runtime.received is None:
        return interval
    return runtime.received.pending(interval)


def snapshot(runtime: ChargerRuntime, data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The import ledger's snapshot with the received register's in it."""
    if data is None or runtime.received is None:
        return data
    return {**data, _SNAPSHOT_KEY: runtime.received.snapshot()}


def restore(runtime: ChargerRuntime, data: dict[str, Any] | None) -> None:
    """The received register of a resumed session (none when its snapshot has none; one that
    cannot be read starts again, its first interval flagged)."""
    found = (data or {}).get(_SNAPSHOT_KEY)
    runtime.received = None
    if not found:
        return
    try:
        runtime.received = ReceivedRegister.restore(found)
    except ValueError as err:
        _LOGGER.warning(
            "%s: the received register's snapshot is unreadable (%s)", runtime.name, err
        )
        if runtime.ledger is not None:
            runtime.received = ReceivedRegister.like(runtime.ledger, doubtful=True)


def intervals_so_far(runtime: ChargerRuntime) -> list[Interval]:
    """The session's intervals with the one still open, cut at the last reading (the energy
    so far was delivered by it, not by the boundary: priced over the whole interval it would
    fall partly into a later period), with the energy fed so far."""
    intervals = list(runtime.intervals)
    if runtime.ledger is not None and (open_one := runtime.ledger.pending()) is not None:
        last = runtime.ledger.last_reading
        if last is not None and open_one.start < last.at < open_one.end:
            open_one = with_end(open_one, last.at)
        intervals.append(pending(runtime, open_one))
    return intervals
