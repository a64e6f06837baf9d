"""Flexibility offered ahead of time: the forecast, the load that could be shed, the battery.

Pure Python, no Home Assistant imports; uses only the planner's public API.

* :func:`usage_forecast`: a vehicle's planned energy per report interval (``USAGE_FORECAST``).
* :func:`shed_available`: per interval, how much of the planned load could be shed without
  missing the departure target (``LOAD_SHED_DELTA_AVAILABLE``). Exact rule: the largest ``s``
  (at most the planned energy ``p`` of the interval) such that the planner, with the vehicle
  capped to ``(p - s) / hours`` over that interval, still reaches the target. Computed
  efficiently:

  1. one extra plan gives the most the vehicle could take in every interval up to its
     departure (the same inputs with the vehicle charging *immediately* for an unbounded
     energy): ``capacity_i`` per interval, ``capacity`` in total, and the slack
     ``capacity - energy asked``;
  2. for a vehicle on its own charger the bound is exact with continuous power: shedding ``s``
     in interval ``i`` removes ``capacity_i - (p_i - s)`` from what can be delivered, so
     ``s_i = clamp(slack - (capacity_i - p_i), 0, p_i)``;
  3. each bound is verified with one plan (power levels, a shared circuit or solar can make it
     optimistic); a bound that fails is bisected (at most :data:`BISECTION_STEPS` plans) down
     to a verified value. Intervals without planned load cost nothing. On a shared circuit
     the other vehicles are held at their planned power over the interval while verifying:
     load another car would take over is not shed from the premise.

  A vehicle whose target is already out of reach has nothing to shed (0 everywhere).
* :func:`storage_status`: ``STORAGE_CHARGE_LEVEL`` (a fraction from 0 to 1, as the 3.1.0 schema
  bounds it) and ``STORAGE_USABLE_CAPACITY`` (kWh) when the vehicle's SoC and capacity are known.
* :func:`refresh_due`: the reports are refreshed when the plan changes, at most every
  ``min_interval`` (default 5 minutes), and at least every ``max_interval`` (default 1 hour).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Final

from .planner import ChargeMode, Plan, PowerCap, VehiclePlan, plan
from .planner_model import REACHABLE_TOL_KWH
from .settlement import EnergyInterval, PlanningInputs

__all__ = [
    "BISECTION_STEPS",
    "ShedInterval",
    "StorageStatus",
    "forecast_grid",
    "refresh_due",
    "shed_available",
    "storage_status",
    "usage_forecast",
]

BISECTION_STEPS: Final = 6
"""Plans spent at most on one interval whose slack bound did not verify."""
SHED_CAP_NAME: Final = "flexibility probe"
_UNBOUNDED_KWH: Final = 1e6
_EPS: Final = 1e-6


@dataclass(frozen=True, slots=True)
class ShedInterval:
    """Planned power and the part of it that could be shed over ``[start, end)`` (kW >= 0)."""

    start: datetime
    end: datetime
    planned_kw: float
    shed_kw: float


@dataclass(frozen=True, slots=True)
class StorageStatus:
    """The vehicle battery as the 3.1.0 payloads want it."""

    charge_level: float
    """``STORAGE_CHARGE_LEVEL``: 0 empty to 1 full."""
    usable_capacity_kwh: float
    """``STORAGE_USABLE_CAPACITY``."""


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


def forecast_grid(start: datetime, end: datetime, minutes: int) -> list[tuple[datetime, datetime]]:
    """Clock-aligned intervals of ``minutes`` (UTC, from the Unix epoch) covering ``[start, end)``.

    The first interval starts at the boundary at or before ``start``.
    """
    if isinstance(minutes, bool) or not 1 <= minutes <= 60:
        raise ValueError("minutes must be from 1 to 60")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    step = minutes * 60
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    first = int((start - epoch).total_seconds() // step) * step
    at = epoch + timedelta(seconds=first)
    out: list[tuple[datetime, datetime]] = []
    while at < end:
        out.append((at, at + timedelta(seconds=step)))
        at += timedelta(seconds=step)
    return out


def usage_forecast(
    vehicle_plan: VehiclePlan, grid: Sequence[tuple[datetime, datetime]]
) -> list[EnergyInterval]:
    """The planned energy of one vehicle in each interval of ``grid`` (``USAGE_FORECAST``)."""
    return [(a, b, vehicle_plan.energy_between(a, b)) for a, b in grid]


def _run(inputs: PlanningInputs, extra: Sequence[PowerCap] = ()) -> Plan:
    return plan(
        inputs.requests,
        now=inputs.now,
        tariff=inputs.tariff,
        caps=(*inputs.caps, *extra),
        circuit_kw=inputs.circuit_kw,
        solar=inputs.solar,
        slot_minutes=inputs.slot_minutes,
        horizon=inputs.horizon,
        explain=False,
    )


def _held(base: Plan, vid: str, a: datetime, b: datetime) -> tuple[PowerCap, ...]:
    """The other vehicles held at their planned power over ``[a, b)`` (a shared circuit)."""
    out: list[PowerCap] = []
    for other, vp in base.vehicles.items():
        if other == vid:
            continue
        kw = max((s.power_kw for s in vp.slots if s.start < b and s.end > a), default=0.0)
        out.append(PowerCap(a, b, kw, SHED_CAP_NAME, frozenset({other})))
    return tuple(out)


def _reachable(
    inputs: PlanningInputs,
    vid: str,
    a: datetime,
    b: datetime,
    kw: float,
    held: tuple[PowerCap, ...],
    must: tuple[str, ...],
) -> bool:
    """Whether every vehicle of ``must`` still reaches its target (a circuit moves shortfalls)."""
    probe = PowerCap(a, b, max(kw, 0.0), SHED_CAP_NAME, frozenset({vid}))
    after = _run(inputs, (probe, *held))
    return all(after.vehicles[v].shortfall_kwh <= REACHABLE_TOL_KWH for v in must)


def shed_available(
    inputs: PlanningInputs,
    vehicle_id: str,
    grid: Sequence[tuple[datetime, datetime]],
    *,
    current: Plan | None = None,
) -> list[ShedInterval]:
    """Per interval of ``grid``, the planned load that could be shed (see the module docstring).

    ``current`` is the plan of ``inputs`` when the caller has it (saves one plan). Intervals
    before ``inputs.now`` are clipped to it; nothing is shed there.
    """
    request = next((r for r in inputs.requests if r.vehicle_id == vehicle_id), None)
    if request is None:
        raise KeyError(vehicle_id)
    base = current if current is not None else _run(inputs)
    vp = base.vehicles[vehicle_id]
    out: list[ShedInterval] = []
    planned: list[tuple[datetime, datetime, float]] = []
    for a, b in grid:
        lo = max(a, inputs.now)
        p = vp.energy_between(lo, b) if b > lo else 0.0
        planned.append((lo, b, p))
    if vp.shortfall_kwh > REACHABLE_TOL_KWH or request.mode is ChargeMode.OFF:
        return [ShedInterval(a, b, p / _hours(a, b) if b > a else 0.0, 0.0) for a, b, p in planned]
    unbounded = replace(request, energy_kwh=_UNBOUNDED_KWH, mode=ChargeMode.IMMEDIATE)
    probe_inputs = replace(
        inputs,
        requests=tuple(unbounded if r is request else r for r in inputs.requests),
    )
    most = _run(probe_inputs).vehicles[vehicle_id]
    slack = most.energy_kwh - request.energy_kwh
    must = tuple(v for v, p in base.vehicles.items() if p.shortfall_kwh <= REACHABLE_TOL_KWH)
    for a, b, p in planned:
        hours = _hours(a, b)
        if p <= _EPS or hours <= 0:
            out.append(ShedInterval(a, b, p / hours if hours > 0 else 0.0, 0.0))
            continue
        capacity = most.energy_between(a, b)
        bound = min(p, max(0.0, slack - max(0.0, capacity - p)))
        shed = 0.0
        held = _held(base, vehicle_id, a, b) if inputs.circuit_kw is not None else ()
        if bound > _EPS:
            if _reachable(inputs, vehicle_id, a, b, (p - bound) / hours, held, must):
                shed = bound
            else:
                lo_s, hi_s = 0.0, bound
                for _ in range(BISECTION_STEPS):
                    mid = (lo_s + hi_s) / 2
                    if _reachable(inputs, vehicle_id, a, b, (p - mid) / hours, held, must):
                        lo_s = mid
                    else:
                        hi_s = mid
                shed = lo_s
        out.append(ShedInterval(a, b, p / hours, shed / hours))
    return out


def storage_status(soc_percent: float | None, capacity_kwh: float | None) -> StorageStatus | None:
    """The battery payloads, or ``None`` when the SoC or the capacity is unknown or invalid."""
    if soc_percent is None or capacity_kwh is None:
        return None
    if not (math.isfinite(soc_percent) and math.isfinite(capacity_kwh)):
        return None
    if not 0 <= soc_percent <= 100 or capacity_kwh <= 0:
        return None
    return StorageStatus(round(soc_percent / 100, 4), capacity_kwh)


def refresh_due(
    last_sent: datetime | None,
    now: datetime,
    *,
    changed: bool,
    min_interval: timedelta = timedelta(minutes=5),
    max_interval: timedelta = timedelta(hours=1),
) -> bool:
    """Whether the flexibility reports are sent again now (changed plan, rate-limited)."""
    if last_sent is None:
        return True
    elapsed = now - last_sent
    if elapsed >= max_interval:
        return True
    return changed and elapsed >= min_interval
