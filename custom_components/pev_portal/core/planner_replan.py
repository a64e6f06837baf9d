"""When the charging plan must be recomputed (:func:`needs_replan`), decided in O(1) when
nothing changed: :attr:`PlanInputs.fingerprint` is computed once per inputs and compared
instead of the tariffs, caps and requests themselves."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from .planner_model import Plan, PlanInputs
from .tariff import Tariff

DEFAULT_ENERGY_TOLERANCE_KWH: Final = 1.0
"""How far the energy still wanted may move from what the plan expects without a replan.

A state-of-charge sensor in whole percent moves 0.64-0.77 kWh per step on a 64-77 kWh battery:
a single step (in either direction, e.g. a reading that flips back and forth) stays below this,
two steps (or a new target) exceed it. For a coarser sensor pass ``energy_step_kwh``.
"""
STEP_HYSTERESIS: Final = 1.25
"""With ``energy_step_kwh`` the tolerance is at least this many sensor steps."""


def needs_replan(
    previous: PlanInputs | None,
    new: PlanInputs,
    *,
    current: Plan | None = None,
    now: datetime | None = None,
    measured_kw: Mapping[str, float] | None = None,
    energy_tolerance_kwh: float = DEFAULT_ENERGY_TOLERANCE_KWH,
    power_tolerance_kw: float = 0.5,
    energy_step_kwh: float | None = None,
) -> str | None:
    """Why the plan must be recomputed, or ``None`` if it still holds.

    Checked in this order (the first reason found is returned):

    * ``"first plan"``: there is no previous plan;
    * ``"plugged: <id>"`` / ``"unplugged: <id>"``: the set of vehicles changed;
    * ``"events changed"``: power caps (load-control events) added, removed or changed;
    * ``"circuit changed"``, ``"solar forecast changed"``;
    * ``"price update"``: the default tariff or a vehicle's tariff changed;
    * ``"request changed: <id>"``: departure, charger, mode or priority changed;
    * ``"energy changed: <id>"``: the energy still wanted differs by more than
      ``energy_tolerance_kwh`` from what the plan expects at ``now`` (the previous request
      minus the energy planned between ``current.created_at`` and ``now``; without a plan, from
      the previous request): a target change, or charging that fell behind;
    * ``"under-delivery: <id>"``: the measured power is more than ``power_tolerance_kw`` below
      the planned power at ``now``;
    * ``"plan expired"``: ``now`` is past the plan's horizon.

    Nothing else (e.g. the energy going down as planned) requires a replan.

    The tolerance on the energy is a hysteresis for coarse state-of-charge sensors:
    ``energy_tolerance_kwh`` (default :data:`DEFAULT_ENERGY_TOLERANCE_KWH`, more than one
    whole-percent step of a battery up to 100 kWh), raised to
    ``STEP_HYSTERESIS * energy_step_kwh`` when the sensor's step is given (e.g. the battery's
    capacity / 100 for a whole-percent sensor).

    Cost: when :attr:`PlanInputs.fingerprint` is equal (nothing but the energies changed) only
    the energies and the measured powers are looked at, O(vehicles); tariffs are never
    serialised here (their fingerprint is computed once per tariff object).
    """
    if previous is None:
        return "first plan"
    old = {r.vehicle_id: r for r in previous.requests}
    cur = {r.vehicle_id: r for r in new.requests}
    if previous.fingerprint != new.fingerprint:
        reason = _structural_change(previous, new)
        if reason is not None:
            return reason
    tolerance = energy_tolerance_kwh
    if energy_step_kwh is not None and energy_step_kwh > 0:
        tolerance = max(tolerance, STEP_HYSTERESIS * energy_step_kwh)
    for vid in sorted(cur):
        expected = old[vid].energy_kwh
        vp = current.vehicles.get(vid) if current is not None else None
        if vp is not None and current is not None and now is not None:
            expected -= vp.energy_between(current.created_at, now)
        if abs(cur[vid].energy_kwh - expected) > tolerance:
            return f"energy changed: {vid}"
    if current is not None and now is not None:
        if measured_kw is not None:
            for vid in sorted(measured_kw):
                vp = current.vehicles.get(vid)
                if vp is not None and measured_kw[vid] < vp.power_at(now) - power_tolerance_kw:
                    return f"under-delivery: {vid}"
        if current.horizon_end is not None and now >= current.horizon_end:
            return "plan expired"
    return None


def _structural_change(previous: PlanInputs, new: PlanInputs) -> str | None:
    """The reason for a replan among everything but the energies (fingerprints differ)."""
    old = {r.vehicle_id: r for r in previous.requests}
    cur = {r.vehicle_id: r for r in new.requests}
    for vid in sorted(cur.keys() - old.keys()):
        return f"plugged: {vid}"
    for vid in sorted(old.keys() - cur.keys()):
        return f"unplugged: {vid}"
    if set(previous.caps) != set(new.caps):
        return "events changed"
    if previous.circuit_kw != new.circuit_kw:
        return "circuit changed"
    if previous.solar != new.solar:
        return "solar forecast changed"
    if _tariff_fp(previous.tariff) != _tariff_fp(new.tariff):
        return "price update"
    for vid in sorted(cur):
        a, b = old[vid], cur[vid]
        if _tariff_fp(a.tariff) != _tariff_fp(b.tariff):
            return "price update"
        if (a.departure, a.charger, a.mode, a.priority) != (
            b.departure,
            b.charger,
            b.mode,
            b.priority,
        ):
            return f"request changed: {vid}"
    return None


def _tariff_fp(tariff: Tariff | None) -> str | None:
    return None if tariff is None else tariff.fingerprint
