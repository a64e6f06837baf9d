"""Interval metering of a charging session (UC133 req 16-19, NF.1, NF.2).

Cumulative meter register readings (kWh, arriving at any rate, irregular) are turned into
clock-aligned intervals of ``L`` minutes, ``1 <= L <= 60`` (NF.2). Interval boundaries are
multiples of ``L * 60`` seconds since the Unix epoch (for the usual lengths that divide a day
this is the same as multiples of ``L`` minutes since midnight UTC; for lengths such as 7 minutes
it is the only alignment that stays stable across days). Every interval start and end is a UTC
datetime with second resolution (NF.1); the only end that is not on a clock boundary is the end
of the last, partial interval produced by :meth:`IntervalLedger.close`.

Internally all times are integer microseconds since the epoch, so the hot path
(:meth:`IntervalLedger.add`) does integer arithmetic only and builds datetimes solely for the
intervals it emits. Reading timestamps keep their microseconds for the pro-rata split.

Inputs: datetimes must be timezone-aware (naive -> ValueError); an aware non-UTC datetime is
converted to UTC. Register values must be finite and non-negative (ValueError otherwise).

Rules, per reading (``delta`` = register change, ``dt`` = time since the last accepted reading):

* First reading: sets the baseline only (no energy). If it names a meter other than the one
  configured, a ``METER_CHANGED`` anomaly is recorded, the epoch is incremented and the meter id
  adopted (no energy is affected).
* Same or older timestamp than the last accepted reading: ``OUT_OF_ORDER`` anomaly, the reading is
  ignored. An exact duplicate (same timestamp, value and meter) is ignored silently.
* Checked in this order, the first that applies wins:

  1. ``meter_id`` given and different from the current one: ``METER_CHANGED``;
  2. ``delta < 0`` (reset, replacement, rollover): ``BACKWARDS``;
  3. average power ``delta / dt > max_power_kw`` (strictly above): ``JUMP``.

  All three are *epoch changes*: ``meter_epoch += 1``, the new baseline is this reading (and its
  meter id). The span since the last reading is *unknown*: it contributes 0 kWh (the jump energy
  is never billed) and every interval it touches is downgraded: ``ESTIMATED`` if the interval also
  has energy information from a normal or gap span, ``MISSING`` (0 kWh) if it has none.
* ``dt > max_gap`` with a plausible delta: ``GAP``. The energy is known in total, so it is spread
  pro rata over the gap, and every interval the gap touches is ``ESTIMATED``. A zero delta over a
  gap means a trustworthy register saw 0 kWh: the intervals are ``ESTIMATED`` with 0 kWh, not
  ``MISSING``. A reading added with ``estimated=True`` (the caller has a witness for the energy
  but not for its timing, e.g. the charger's transaction registers over the time Home Assistant
  was down) is treated the same whatever ``dt``: a ``GAP`` anomaly, spread as ``ESTIMATED``.
* Otherwise normal: the delta is split pro rata (linear interpolation) across the interval
  boundaries; quality ``OK``.

Quality of an interval: ``MISSING`` if no normal or gap span covers any part of it, else
``ESTIMATED`` if a gap or unknown span touches it, else ``OK``. The part of the first interval
before the first reading does not downgrade it (the session starts there).

:meth:`IntervalLedger.close` ends the session at ``at`` truncated to the second (never before the
last accepted reading, rounded up to the second; an earlier ``at`` is clamped to it). Everything
up to there is emitted: intervals lying wholly after the last reading carry no information and are
``MISSING`` with 0 kWh; the interval containing the last reading keeps its quality (feed a final
reading at the end time so the tail is metered). A second ``close()`` returns ``[]``; ``add()``
after ``close()`` raises :class:`RuntimeError`.

Intervals are emitted contiguous and in order, each exactly once, from the boundary at or before
the first reading up to the last reading (or the close time). ``meter_id``, ``meter_epoch`` and
``register_end`` describe the meter at the interval's end: ``register_end`` is the register read
or interpolated at the end, ``None`` where it is unknown (inside an unknown span, or more than one
second after the last reading at close). An interval that ends exactly at an epoch-changing
reading belongs to the new epoch; intervals ending before it to the old one. ``pev_id`` is the
ledger's ``pev_id`` at the moment the interval is closed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from .metering_snapshot import SNAPSHOT_VERSION, restore_ledger, snapshot_of
from .metering_types import Anomaly, AnomalyKind, Interval, MeterReading, Quality

__all__ = [
    "MAX_INTERVAL_MINUTES",
    "MIN_INTERVAL_MINUTES",
    "SNAPSHOT_VERSION",
    "Anomaly",
    "AnomalyKind",
    "Interval",
    "IntervalLedger",
    "MeterReading",
    "Quality",
]

MIN_INTERVAL_MINUTES: Final = 1
MAX_INTERVAL_MINUTES: Final = 60

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US: Final = timedelta(microseconds=1)
_US_PER_S: Final = 1_000_000
_US_PER_MIN: Final = 60_000_000
_US_PER_HOUR: Final = 3_600_000_000.0

# Span kinds for the pro-rata distribution.
_NORMAL: Final = 0
_GAP: Final = 1
_UNKNOWN: Final = 2


def _to_us(at: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime; naive -> ValueError."""
    if not isinstance(at, datetime):
        raise TypeError(f"expected a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime not allowed (must be timezone-aware UTC): {at!r}")
    return (at - _EPOCH) // _ONE_US


def _from_us(us: int) -> datetime:
    """UTC datetime of microseconds since the epoch (exact)."""
    return _EPOCH + timedelta(microseconds=us)


def _validate_id(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _validate_optional_id(name: str, value: object) -> str | None:
    if value is None:
        return None
    return _validate_id(name, value)


class IntervalLedger:
    """Meters one charging session into clock-aligned intervals; see the module docstring."""

    __slots__ = (
        "_closed",
        "_closed_kwh",
        "_epoch",
        "_last_kwh",
        "_last_us",
        "_len_us",
        "_max_gap_us",
        "_max_power_kw",
        "_meter_id",
        "_minutes",
        "_open_est",
        "_open_info",
        "_open_kwh",
        "_open_start",
        "_premise_id",
        "anomalies",
        "pev_id",
    )

    def __init__(
        self,
        *,
        interval_minutes: int,
        premise_id: str,
        meter_id: str,
        pev_id: str | None = None,
        max_gap: timedelta = timedelta(minutes=15),
        max_power_kw: float = 100.0,
    ) -> None:
        if (
            isinstance(interval_minutes, bool)
            or not isinstance(interval_minutes, int)
            or not MIN_INTERVAL_MINUTES <= interval_minutes <= MAX_INTERVAL_MINUTES
        ):
            raise ValueError(
                f"interval_minutes must be an integer from {MIN_INTERVAL_MINUTES} to "
                f"{MAX_INTERVAL_MINUTES}, got {interval_minutes!r}"
            )
        if not isinstance(max_gap, timedelta) or max_gap <= timedelta(0):
            raise ValueError(f"max_gap must be a positive timedelta, got {max_gap!r}")
        if (
            isinstance(max_power_kw, bool)
            or not isinstance(max_power_kw, int | float)
            or not math.isfinite(max_power_kw)
            or max_power_kw <= 0
        ):
            raise ValueError(f"max_power_kw must be a positive finite number, got {max_power_kw!r}")
        self._minutes: int = interval_minutes
        self._len_us: int = interval_minutes * _US_PER_MIN
        self._premise_id: str = _validate_id("premise_id", premise_id)
        self._meter_id: str = _validate_id("meter_id", meter_id)
        self.pev_id: str | None = _validate_optional_id("pev_id", pev_id)
        self._max_gap_us: int = max_gap // _ONE_US
        self._max_power_kw: float = float(max_power_kw)
        self._epoch: int = 0
        self._last_us: int | None = None
        self._last_kwh: float = 0.0
        self._open_start: int = 0
        self._open_kwh: float = 0.0
        self._open_info: bool = False
        self._open_est: bool = False
        self._closed_kwh: float = 0.0
        self._closed: bool = False
        self.anomalies: list[Anomaly] = []

    # ------------------------------------------------------------------ read-only state

    @property
    def interval_minutes(self) -> int:
        """Interval length L in minutes."""
        return self._minutes

    @property
    def premise_id(self) -> str:
        """Premise the session is metered for."""
        return self._premise_id

    @property
    def meter_id(self) -> str:
        """The current meter (changes on METER_CHANGED)."""
        return self._meter_id

    @property
    def meter_epoch(self) -> int:
        """The current meter epoch (incremented on every epoch change)."""
        return self._epoch

    @property
    def max_gap(self) -> timedelta:
        """Longest time between readings that is not a GAP."""
        return timedelta(microseconds=self._max_gap_us)

    @property
    def max_power_kw(self) -> float:
        """Highest plausible average power between readings; above it is a JUMP."""
        return self._max_power_kw

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._closed

    @property
    def last_reading(self) -> MeterReading | None:
        """The last accepted reading (the current baseline), if any."""
        if self._last_us is None:
            return None
        return MeterReading(_from_us(self._last_us), self._last_kwh, self._meter_id)

    @property
    def total_kwh(self) -> float:
        """Billable energy so far: closed intervals plus the open one."""
        return self._closed_kwh + self._open_kwh

    # ------------------------------------------------------------------ hot path

    def add_reading(self, reading: MeterReading) -> list[Interval]:
        """Same as :meth:`add` for a :class:`MeterReading`."""
        return self.add(reading.at, reading.kwh, reading.meter_id)

    def add(
        self,
        at: datetime,
        kwh: float,
        meter_id: str | None = None,
        *,
        estimated: bool = False,
        since: datetime | None = None,
    ) -> list[Interval]:
        """Feed a register reading; returns the intervals it closed, in order (maybe none).

        ``estimated``: the span up to this reading is a GAP (ESTIMATED) whatever its length.
        ``since``: judge the JUMP rule's average power from then instead of the last reading
        (a register sampled between its own steps: the last time it moved)."""
        if self._closed:
            raise RuntimeError("ledger is closed; no further readings accepted")
        t = _to_us(at)
        if type(kwh) is not float:
            if isinstance(kwh, bool) or not isinstance(kwh, int | float):
                raise ValueError(f"kwh must be a number, got {kwh!r}")
            kwh = float(kwh)
        if not 0.0 <= kwh < math.inf:
            raise ValueError(f"kwh must be a finite, non-negative register value, got {kwh!r}")
        if meter_id is not None and (not isinstance(meter_id, str) or not meter_id):
            raise ValueError(f"meter_id must be a non-empty string or None, got {meter_id!r}")
        changed_meter = meter_id is not None and meter_id != self._meter_id

        last = self._last_us
        if last is None:
            if changed_meter:
                assert meter_id is not None
                self._anomaly(
                    AnomalyKind.METER_CHANGED,
                    at,
                    None,
                    kwh,
                    f"first reading is from meter {meter_id!r}, configured {self._meter_id!r}",
                )
                self._epoch += 1
                self._meter_id = meter_id
            self._last_us = t
            self._last_kwh = kwh
            self._open_start = t - t % self._len_us
            return []

        prev = self._last_kwh
        if t <= last:
            if t == last and kwh == prev and not changed_meter:
                return []
            self._anomaly(
                AnomalyKind.OUT_OF_ORDER,
                at,
                prev,
                kwh,
                f"reading at {_from_us(t).isoformat()} is not after the last accepted one "
                f"at {_from_us(last).isoformat()}; ignored",
            )
            return []

        dt = t - last
        delta = kwh - prev
        new_meter = self._meter_id
        if changed_meter:
            assert meter_id is not None
            self._anomaly(
                AnomalyKind.METER_CHANGED,
                at,
                prev,
                kwh,
                f"meter changed from {self._meter_id!r} to {meter_id!r}; "
                "energy since the last reading is unknown",
            )
            new_meter = meter_id
            mode = _UNKNOWN
        elif delta < 0.0:
            self._anomaly(
                AnomalyKind.BACKWARDS,
                at,
                prev,
                kwh,
                f"register went backwards from {prev!r} to {kwh!r} kWh; "
                "energy since the last reading is unknown",
            )
            mode = _UNKNOWN
        elif delta * _US_PER_HOUR > self._max_power_kw * (
            dt if since is None else max(dt, t - _to_us(since))
        ):
            self._anomaly(
                AnomalyKind.JUMP,
                at,
                prev,
                kwh,
                f"register jumped by {delta!r} kWh in {dt / _US_PER_S:g} s "
                f"(> {self._max_power_kw:g} kW); not billed",
            )
            mode = _UNKNOWN
        elif dt > self._max_gap_us or estimated:
            self._anomaly(
                AnomalyKind.GAP,
                at,
                prev,
                kwh,
                f"no reading for {dt / _US_PER_S:g} s; {delta!r} kWh spread over the gap "
                "as ESTIMATED",
            )
            mode = _GAP
        else:
            mode = _NORMAL

        if mode == _UNKNOWN:
            new_epoch = self._epoch + 1
            energy = 0.0
        else:
            new_epoch = self._epoch
            energy = delta

        end = self._open_start + self._len_us
        if t < end:
            # Fast path: no boundary crossed.
            if mode == _NORMAL:
                self._open_kwh += energy
                self._open_info = True
            elif mode == _GAP:
                self._open_kwh += energy
                self._open_info = True
                self._open_est = True
            else:
                self._open_est = True
            out: list[Interval] = []
        else:
            out = self._spread(last, t, prev, kwh, energy, mode, new_meter, new_epoch)
        self._last_us = t
        self._last_kwh = kwh
        self._meter_id = new_meter
        self._epoch = new_epoch
        return out

    def _spread(
        self,
        last: int,
        t: int,
        prev: float,
        kwh: float,
        energy: float,
        mode: int,
        new_meter: str,
        new_epoch: int,
    ) -> list[Interval]:
        """Distribute the span (last, t] that crosses at least one boundary; emit intervals."""
        out: list[Interval] = []
        length = self._len_us
        start = self._open_start
        end = start + length
        known = mode != _UNKNOWN
        est = mode != _NORMAL
        done = 0.0  # energy of this span allocated so far (cumulative, for an exact total)
        start_dt = _from_us(start)
        while end <= t:
            reg: float | None
            if known:
                if end == t:
                    alloc = energy - done
                    reg = kwh
                else:
                    cum = energy * (end - last) / (t - last)
                    alloc = cum - done
                    done = cum
                    reg = prev + cum
                if alloc < 0.0:
                    alloc = 0.0
                ikwh = self._open_kwh + alloc
                info = True
                iest = self._open_est or est
            else:
                reg = kwh if end == t else None
                ikwh = self._open_kwh
                info = self._open_info
                iest = True
            at_reading = end == t
            end_dt = _from_us(end)
            out.append(
                self._make(
                    start_dt,
                    end_dt,
                    ikwh,
                    info,
                    iest,
                    new_meter if at_reading else self._meter_id,
                    new_epoch if at_reading else self._epoch,
                    reg,
                )
            )
            start = end
            start_dt = end_dt
            end += length
            self._open_kwh = 0.0
            self._open_info = False
            self._open_est = False
        self._open_start = start
        if t > start:
            if known:
                alloc = energy - done
                if alloc < 0.0:
                    alloc = 0.0
                self._open_kwh = alloc
                self._open_info = True
            self._open_est = est
        return out

    def _make(
        self,
        start: datetime,
        end: datetime,
        kwh: float,
        info: bool,
        est: bool,
        meter_id: str,
        epoch: int,
        register_end: float | None,
    ) -> Interval:
        if not info:
            quality = Quality.MISSING
            kwh = 0.0
        elif est:
            quality = Quality.ESTIMATED
        else:
            quality = Quality.OK
        self._closed_kwh += kwh
        return Interval(
            start,
            end,
            kwh,
            self.pev_id,
            self._premise_id,
            meter_id,
            quality,
            epoch,
            register_end,
        )

    def _anomaly(
        self, kind: AnomalyKind, at: datetime, previous: float | None, value: float | None, msg: str
    ) -> None:
        self.anomalies.append(Anomaly(kind, at.astimezone(UTC), previous, value, msg))

    # ------------------------------------------------------------------ session end / display

    def close(self, at: datetime) -> list[Interval]:
        """End the session at ``at``: emit everything up to ``at`` truncated to the second.

        The last interval is partial: it ends at ``at`` truncated to the second, not at the clock
        boundary (never before the last accepted reading rounded up to the second). Intervals
        wholly after the last reading are MISSING. A second call returns ``[]``.
        """
        t = _to_us(at)
        if self._closed:
            return []
        self._closed = True
        last = self._last_us
        if last is None:
            return []
        end_us = max(t - t % _US_PER_S, -(-last // _US_PER_S) * _US_PER_S)
        out: list[Interval] = []
        length = self._len_us
        start = self._open_start
        start_dt = _from_us(start)
        while True:
            iend = start + length
            if iend > end_us:
                iend = end_us
            if iend <= start:
                break
            reg = self._last_kwh if iend - last < _US_PER_S else None
            end_dt = _from_us(iend)
            out.append(
                self._make(
                    start_dt,
                    end_dt,
                    self._open_kwh,
                    self._open_info,
                    self._open_est,
                    self._meter_id,
                    self._epoch,
                    reg,
                )
            )
            start = iend
            start_dt = end_dt
            self._open_kwh = 0.0
            self._open_info = False
            self._open_est = False
        self._open_start = start
        return out

    def pending(self) -> Interval | None:
        """The open interval as it stands (energy so far), or None before the first reading.

        Its ``end`` is the clock boundary it will close at and ``register_end`` is None. Quality
        is OK until a gap or unknown span touches it (MISSING if only an unknown span did).
        """
        if self._last_us is None or self._closed:
            return None
        if self._open_est:
            quality = Quality.ESTIMATED if self._open_info else Quality.MISSING
        else:
            quality = Quality.OK
        return Interval(
            _from_us(self._open_start),
            _from_us(self._open_start + self._len_us),
            self._open_kwh,
            self.pev_id,
            self._premise_id,
            self._meter_id,
            quality,
            self._epoch,
            None,
        )

    def drain_anomalies(self) -> list[Anomaly]:
        """Return the anomalies recorded so far and forget them."""
        drained = self.anomalies
        self.anomalies = []
        return drained

    # ------------------------------------------------------------------ persistence

    def snapshot(self) -> dict[str, Any]:
        """Complete, JSON-serializable state; :meth:`restore` is its exact inverse."""
        return snapshot_of(self)

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> IntervalLedger:
        """Rebuild a ledger from :meth:`snapshot` output; ValueError if it is malformed."""
        return restore_ledger(cls, data)
