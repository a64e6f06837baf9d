"""The meter's received (exported) register beside its import register (power feed, issue #18).

A bidirectional session has two cumulative registers: the energy drawn (the import register,
metered by the session's :class:`~.metering.IntervalLedger`) and the energy fed back (the
received register: Zigbee Metering's CurrentSummationReceived, a charger's discharged-energy
sensor, the demo EVSE's ``discharged_kwh``). :class:`ReceivedRegister` meters the second one
with a ledger of its own and the same rules (backwards, jump, gap, out of order: the import
register's anomalies, flagged and never billed).

Both ledgers are sampled at the same instants (the caller feeds the received register at every
import reading's time), so they close the same intervals at the same moment; :meth:`merge`
gives each import interval its ``exported_kwh``. The quality of a merged interval is the
import interval's, downgraded from OK to ESTIMATED when the received register's interval is not
OK (a doubtful received register is flagged, never silently 0):

* no received interval for it (the register had no value at the sample): exported 0, ESTIMATED;
* a received interval MISSING or ESTIMATED: its energy (0 when MISSING), ESTIMATED.

A sample with no usable value (unavailable, NaN, infinite, negative) is an ``invalid`` anomaly
(once per doubtful spell); the ledger holds its last value over the spell as an estimated span
(0 kWh, ESTIMATED) and the first usable value after it is spread as ESTIMATED over the span since
the last sample: nothing fed in the spell is lost, and every interval it touches is flagged.

Pure Python, no Home Assistant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from .metering import IntervalLedger
from .metering_types import Anomaly, AnomalyKind, Interval, Quality

__all__ = ["RECEIVED_PREFIX", "ReceivedRegister", "with_export"]

# The received register's anomalies are told apart from the import register's by this prefix.
RECEIVED_PREFIX: Final = "received register: "


def with_export(imported: Interval, received: Interval | None) -> Interval:
    """The import interval with the received one's energy as ``exported_kwh`` (see the module
    docstring for the quality)."""
    if received is None:
        exported = 0.0
        doubtful = True
    else:
        exported = received.kwh if received.quality is not Quality.MISSING else 0.0
        doubtful = received.quality is not Quality.OK
    quality = imported.quality
    if doubtful and quality is Quality.OK:
        quality = Quality.ESTIMATED
    return replace(imported, exported_kwh=exported, quality=quality)


class ReceivedRegister:
    """The received register's ledger and the intervals it closed, waiting for their import
    intervals (see the module docstring)."""

    __slots__ = ("_doubtful", "_moved_at", "_ready", "ledger")

    def __init__(
        self,
        ledger: IntervalLedger,
        *,
        doubtful: bool = False,
        ready: Sequence[Interval] = (),
        moved_at: datetime | None = None,
    ) -> None:
        self.ledger = ledger
        self._doubtful = doubtful
        # The sample at which the value last moved: a register sampled between its own steps
        # (a sensor updating every minute, read at the import readings) is judged for jumps
        # over the time between its steps, not between two samples a second apart.
        self._moved_at = moved_at
        self._ready: dict[datetime, Interval] = {i.start: i for i in ready}

    @classmethod
    def like(cls, imported: IntervalLedger, *, doubtful: bool = False) -> ReceivedRegister:
        """A received register on the import ledger's interval grid, premise, meter and PEV
        (``doubtful``: what it counted before is unknown; its first interval is flagged)."""
        return cls(
            doubtful=doubtful,
            ledger=IntervalLedger(
                interval_minutes=imported.interval_minutes,
                premise_id=imported.premise_id,
                meter_id=imported.meter_id,
                pev_id=imported.pev_id,
                max_gap=imported.max_gap,
                max_power_kw=imported.max_power_kw,
            ),
        )

    @property
    def doubtful(self) -> bool:
        """Whether the register has had no usable value since the last sample that had one."""
        return self._doubtful

    @property
    def total_kwh(self) -> float:
        """Received energy so far (closed intervals and the open one)."""
        return self.ledger.total_kwh

    def sample(
        self,
        at: datetime,
        value: float | None,
        meter_id: str | None = None,
        *,
        estimated: bool = False,
    ) -> None:
        """The register at ``at`` (an import reading's time); ``None`` or a value that is not a
        finite, non-negative number is a doubtful sample."""
        ledger = self.ledger
        last = ledger.last_reading
        if last is not None and at <= last.at:
            return  # the import reading was not news either (the same second)
        usable = (
            value is not None
            and not isinstance(value, bool)
            and isinstance(value, int | float)
            and math.isfinite(value)
            and value >= 0.0
        )
        if not usable:
            if not self._doubtful:
                self._doubtful = True
                ledger.anomalies.append(
                    Anomaly(
                        AnomalyKind.INVALID,
                        at,
                        None if last is None else last.kwh,
                        None,
                        f"{RECEIVED_PREFIX}no usable value ({value!r}); the energy fed until "
                        "it has one again is spread as ESTIMATED",
                    )
                )
            if last is None:
                return
            self._add(at, last.kwh, last.meter_id, estimated=True, quiet=True)
            return
        assert value is not None
        spell = self._doubtful
        self._doubtful = False
        self._add(at, float(value), meter_id, estimated=estimated or spell, quiet=spell)
        if spell and last is None:
            # A spell before the first value: the first interval's start is unknown too.
            ledger._open_est = True

    def _add(
        self, at: datetime, value: float, meter_id: str | None, *, estimated: bool, quiet: bool
    ) -> None:
        ledger = self.ledger
        before = len(ledger.anomalies)
        last = ledger.last_reading
        produced = ledger.add(at, value, meter_id, estimated=estimated, since=self._moved_at)
        if last is None or value != last.kwh:
            self._moved_at = at
        if quiet:
            # The spell's anomaly says it once; the estimated spans' gap anomalies repeat it.
            del ledger.anomalies[before:]
        else:
            for index in range(before, len(ledger.anomalies)):
                anomaly = ledger.anomalies[index]
                ledger.anomalies[index] = replace(
                    anomaly, message=RECEIVED_PREFIX + anomaly.message
                )
        for interval in produced:
            self._ready[interval.start] = interval

    def close(self, end: datetime) -> None:
        """End the session with the import ledger's close at ``end``."""
        for interval in self.ledger.close(end):
            self._ready[interval.start] = interval

    def merge(self, imported: Sequence[Interval]) -> list[Interval]:
        """The import intervals with their exported energy; the received intervals they used, and
        any older ones no import interval will ask for, are forgotten."""
        out = [with_export(i, self._ready.pop(i.start, None)) for i in imported]
        if imported:
            newest = imported[-1].start
            for start in [s for s in self._ready if s <= newest]:
                del self._ready[start]
        return out

    def pending(self, imported: Interval) -> Interval:
        """The open import interval with the received energy so far (the live summary)."""
        received = self.ledger.pending()
        if received is None or received.start != imported.start:
            return with_export(imported, None)
        return with_export(imported, received)

    def drain_anomalies(self) -> list[Anomaly]:
        """The received register's anomalies so far (their messages say so)."""
        return self.ledger.drain_anomalies()

    # -- persistence (inside the import ledger's snapshot) -----------------------------------

    def snapshot(self) -> dict[str, Any]:
        """JSON-serializable state; :meth:`restore` is its inverse."""
        return {
            "ledger": self.ledger.snapshot(),
            "doubtful": self._doubtful,
            "moved_at": None if self._moved_at is None else self._moved_at.isoformat(),
            "ready": [
                {
                    "start": i.start.isoformat(),
                    "end": i.end.isoformat(),
                    "kwh": i.kwh,
                    "quality": i.quality.value,
                }
                for i in self._ready.values()
            ],
        }

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> ReceivedRegister:
        """Rebuild from :meth:`snapshot`; ValueError if it is malformed."""
        try:
            ledger = IntervalLedger.restore(data["ledger"])
            doubtful = data["doubtful"]
            if not isinstance(doubtful, bool):
                raise TypeError(f"doubtful: expected a boolean, got {doubtful!r}")
            ready = [
                Interval(
                    start=datetime.fromisoformat(i["start"]),
                    end=datetime.fromisoformat(i["end"]),
                    kwh=float(i["kwh"]),
                    pev_id=ledger.pev_id,
                    premise_id=ledger.premise_id,
                    meter_id=ledger.meter_id,
                    quality=Quality(i["quality"]),
                    meter_epoch=ledger.meter_epoch,
                    register_end=None,
                )
                for i in data["ready"]
            ]
        except (KeyError, TypeError) as err:
            raise ValueError(f"malformed received-register snapshot: {err!r}") from err
        moved = data.get("moved_at")
        moved_at = None if moved is None else datetime.fromisoformat(moved)
        return cls(ledger, doubtful=doubtful, ready=ready, moved_at=moved_at)
