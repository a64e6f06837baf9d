"""The charge planner's data model: requests, limits, plans, and shared helpers.

Pure Python, no Home Assistant imports. See :mod:`.planner` for the problem and the algorithm.
"""

from __future__ import annotations

import copy
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Final

from .tariff import Tariff

EPS: Final = 1e-9
"""Energies (kWh) below this are zero."""
REACHABLE_TOL_KWH: Final = 1e-6
"""A shortfall up to this is no shortfall."""
_EXPLAIN_MIN_KWH: Final = 1e-3
_US_PER_HOUR: Final = 3_600_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US: Final = timedelta(microseconds=1)
_COST_QUANTUM: Final = Decimal("0.000001")
_READY_LOOKAHEAD: Final = timedelta(days=7)
_INF: Final = math.inf
_TIE: Final = 1e-12  # path costs this close are equal (float noise)


class PlanningError(RuntimeError):
    """The planner could not finish (a bug: it is exact and always terminates otherwise)."""


class ChargeMode(StrEnum):
    """The user's charge mode for a vehicle."""

    IMMEDIATE = "immediate"
    CHEAPEST = "cheapest"
    SOLAR = "solar"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class ChargerModel:
    """What a charger can do.

    ``max_kw`` should be the charger's power at ``max_a`` (``phases * voltage * max_a / 1000``,
    e.g. 7.36 kW for 32 A single phase at 230 V): levels above ``max_kw`` are never used.
    """

    max_kw: float
    min_kw: float = 0.0
    phases: int = 1
    voltage: float = 230.0
    min_a: int = 6
    max_a: int = 32
    on_off_only: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_kw) and self.max_kw >= 0):
            raise ValueError(f"max_kw must be a finite number >= 0, got {self.max_kw!r}")
        if not (math.isfinite(self.min_kw) and self.min_kw >= 0):
            raise ValueError(f"min_kw must be a finite number >= 0, got {self.min_kw!r}")
        if self.phases not in (1, 2, 3):
            raise ValueError(f"phases must be 1, 2 or 3, got {self.phases!r}")
        if not (math.isfinite(self.voltage) and self.voltage > 0):
            raise ValueError(f"voltage must be > 0, got {self.voltage!r}")
        if not 0 < self.min_a <= self.max_a:
            raise ValueError(f"need 0 < min_a <= max_a, got {self.min_a!r}..{self.max_a!r}")

    def levels(self) -> tuple[float, ...]:
        """The realisable powers in kW, ascending, starting with 0."""
        if self.on_off_only:
            return (0.0, self.max_kw) if self.max_kw > 0 else (0.0,)
        steps = (
            self.phases * self.voltage * amps / 1000 for amps in range(self.min_a, self.max_a + 1)
        )
        usable = sorted({p for p in steps if self.min_kw - EPS <= p <= self.max_kw + EPS and p > 0})
        return (0.0, *usable)


@dataclass(frozen=True, slots=True)
class VehicleRequest:
    """One plugged-in vehicle: the energy still wanted, by when, and how."""

    vehicle_id: str
    energy_kwh: float
    departure: datetime | None
    charger: ChargerModel
    mode: ChargeMode = ChargeMode.CHEAPEST
    tariff: Tariff | None = None  # None: the plan's default tariff
    priority: int = 0


@dataclass(frozen=True, slots=True)
class PowerCap:
    """A power limit over ``[start, end)`` (a load-control event, a user limit...).

    ``vehicle_ids=None``: the cap applies to each vehicle (not to their sum; that is the
    circuit limit).
    """

    start: datetime
    end: datetime
    max_kw: float
    name: str
    vehicle_ids: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class SolarForecast:
    """Forecast surplus power available to EV charging: ``(start, end, kW)`` intervals."""

    points: tuple[tuple[datetime, datetime, float], ...]


@dataclass(frozen=True, slots=True)
class PlanSlot:
    """Charging at ``power_kw`` over ``[start, end)``.

    ``price`` is the slot's time-weighted average price; ``solar_kwh`` of ``energy_kwh`` is
    forecast surplus (free), the rest is bought at ``price``.
    """

    start: datetime
    end: datetime
    power_kw: float
    energy_kwh: float
    price: Decimal
    solar_kwh: float = 0.0


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a vehicle gets less (or later) than asked.

    ``constraint``: ``"cap"``, ``"circuit"``, ``"combined"``, ``"departure"``, ``"horizon"``,
    ``"charger"`` or ``"mode"``. ``ready_by``/``ready_without`` are the ready times with and without the
    constraint (``None``: not within a week).
    """

    constraint: str
    name: str
    start: datetime | None
    end: datetime | None
    delayed_kwh: float
    message: str
    ready_by: datetime | None = None
    ready_without: datetime | None = None


@dataclass(frozen=True, slots=True)
class VehiclePlan:
    """The plan of one vehicle."""

    vehicle_id: str
    slots: tuple[PlanSlot, ...]
    energy_kwh: float
    cost: Decimal
    reachable: bool
    shortfall_kwh: float
    ready_by: datetime | None
    start: datetime | None
    explanations: tuple[Explanation, ...]

    def power_at(self, at: datetime) -> float:
        """Planned power at ``at`` (0 outside the charging slots)."""
        idx = bisect_right([s.start for s in self.slots], at) - 1
        if idx >= 0 and at < self.slots[idx].end:
            return self.slots[idx].power_kw
        return 0.0

    def energy_between(self, start: datetime, end: datetime) -> float:
        """Planned energy over ``[start, end)`` (assuming constant power inside each slot)."""
        total = 0.0
        for s in self.slots:
            lo, hi = max(s.start, start), min(s.end, end)
            if hi > lo:
                total += s.power_kw * ((hi - lo) / _ONE_US) / _US_PER_HOUR
        return total


@dataclass(frozen=True, slots=True)
class Plan:
    """The plans of all vehicles (``total_cost`` is their sum)."""

    vehicles: dict[str, VehiclePlan]
    total_cost: Decimal
    created_at: datetime
    slot_minutes: int
    horizon_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Everything a plan was computed from (for :func:`needs_replan`).

    ``fingerprint`` is computed once, at construction: equal fingerprints mean equal inputs
    except for the energies still wanted (tariffs compare by :attr:`Tariff.fingerprint`, the
    rest by value). It is an ``int`` (a hash), meaningful within one process only.
    """

    requests: tuple[VehicleRequest, ...]
    tariff: Tariff
    caps: tuple[PowerCap, ...] = ()
    circuit_kw: float | None = None
    solar: SolarForecast | None = None
    fingerprint: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        requests = tuple(
            (
                r.vehicle_id,
                r.departure,
                r.charger,
                r.mode,
                r.priority,
                None if r.tariff is None else r.tariff.fingerprint,
            )
            for r in self.requests
        )
        key = (
            self.tariff.fingerprint,
            requests,
            frozenset(self.caps),
            self.circuit_kw,
            self.solar,
        )
        object.__setattr__(self, "fingerprint", hash(key))

    def with_energies(self, energies: Sequence[float]) -> PlanInputs:
        """The same inputs with other energies wanted, one per request (the fingerprint, which
        leaves the energies out, is kept rather than computed again)."""
        new = copy.copy(self)
        requests = tuple(
            replace(r, energy_kwh=e) for r, e in zip(self.requests, energies, strict=True)
        )
        object.__setattr__(new, "requests", requests)
        return new


# --------------------------------------------------------------------------- helpers


def _us(at: datetime, name: str) -> int:
    if not isinstance(at, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {at.isoformat()}")
    return (at - _EPOCH) // _ONE_US


def _dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _fmt(at: datetime | None, tz: tzinfo) -> str:
    return "?" if at is None else at.astimezone(tz).strftime("%H:%M")


def _kwh_decimal(kwh: float) -> Decimal:
    return Decimal(f"{kwh:.9f}")


class _TopLevel:
    """Highest realisable level at most a given limit (memoised per limit)."""

    __slots__ = ("_cache", "_levels")

    def __init__(self, levels: tuple[float, ...]) -> None:
        self._levels = levels
        self._cache: dict[float, float] = {}

    def __call__(self, limit: float) -> float:
        hit = self._cache.get(limit)
        if hit is None:
            idx = bisect_right(self._levels, limit + EPS) - 1
            hit = self._levels[idx] if idx >= 0 else 0.0
            self._cache[limit] = hit
        return hit
