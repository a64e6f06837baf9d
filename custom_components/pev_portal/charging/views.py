"""The plan as the dashboard, the entities and the calendar read it (no behaviour)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from homeassistant.util import dt as dt_util

from ..core.failsafe import FailsafeReason, FailsafeState
from ..core.planner import ChargeMode, Plan, PlanInputs, explanation_message
from ..runtime import ChargerRuntime

if TYPE_CHECKING:
    from .audit import CommandAudit


class PlanViews:
    """Read-only shapes of :class:`.planning.SmartCharging`'s plan."""

    plan: Plan | None
    inputs: PlanInputs | None
    departures: dict[str, datetime | None]
    audit: CommandAudit

    def mode_of(self, runtime: ChargerRuntime) -> ChargeMode:
        """The charge mode of the charger's session."""
        raise NotImplementedError

    def circuit_kw(self) -> float | None:
        """The circuit limit in kW."""
        raise NotImplementedError

    def failsafe_now(self, now: datetime) -> FailsafeState | None:
        """The utility's fail-safe limit in force."""
        raise NotImplementedError

    def feed_dispatch(self, charger_id: str) -> list[tuple[datetime, datetime, float]]:
        """The power-feed plan of the charger's session: per slot (start, end, net kW; below
        zero: fed back). Empty when the session does not feed (issue #18, :mod:`.feed`)."""
        raise NotImplementedError

    def feed_view(self, runtime: ChargerRuntime, view: dict[str, Any]) -> dict[str, Any]:
        """The plan's dict with the power feed's part (:mod:`.feed`)."""
        raise NotImplementedError

    def audit_for(self, runtime: ChargerRuntime) -> list[dict[str, Any]]:
        """The active session's command audit trail."""
        return self.audit.trail(runtime)

    def plan_dict(
        self,
        runtime: ChargerRuntime,
        p: Plan | None = None,
        departures: dict[str, datetime | None] | None = None,
    ) -> dict[str, Any] | None:
        """The plan of the charger's session in the dashboard's shape (see websocket_api)."""
        p = p if p is not None else self.plan
        departures = departures if departures is not None else self.departures
        vp = p.vehicles.get(runtime.charger_id) if p is not None else None
        if vp is None or runtime.session is None:
            return None
        tz = dt_util.get_default_time_zone()
        texts = [explanation_message(e, tz=tz) for e in vp.explanations]
        if (failsafe := self.failsafe_now(dt_util.utcnow())) is not None:
            texts.insert(0, failsafe_message(failsafe, tz))
        reason = "; ".join(texts) or None
        departure = departures.get(runtime.charger_id)
        circuit = self.inputs.circuit_kw if self.inputs is not None else self.circuit_kw()
        view: dict[str, Any] = {
            "mode": self.mode_of(runtime).value,
            "slots": [
                {
                    "start": s.start.isoformat(),
                    "end": s.end.isoformat(),
                    "power_kw": round(s.power_kw, 3),
                    "price": float(s.price),
                }
                for s in vp.slots
            ],
            "start": vp.start.isoformat() if vp.start else None,
            "end": vp.slots[-1].end.isoformat() if vp.slots else None,
            "departure": departure.isoformat() if departure else None,
            "ready_by": vp.ready_by.isoformat() if vp.ready_by else None,
            "target_kwh": round(vp.energy_kwh + vp.shortfall_kwh, 3),
            "energy_kwh": round(vp.energy_kwh, 3),
            "cost": float(vp.cost) if isinstance(vp.cost, Decimal) else vp.cost,
            "reachable": vp.reachable,
            "reason": reason,
            "explanations": [
                {
                    "constraint": e.constraint,
                    "name": e.name,
                    "start": e.start.isoformat() if e.start else None,
                    "end": e.end.isoformat() if e.end else None,
                    "kwh": round(e.delayed_kwh, 3),
                    "ready_by": e.ready_by.isoformat() if e.ready_by else None,
                    "ready_without": e.ready_without.isoformat() if e.ready_without else None,
                    "circuit_kw": circuit if e.constraint == "circuit" else None,
                }
                for e in vp.explanations
            ],
        }
        if p is not self.plan:  # a preview: charging only
            return {**view, "feed": None, "slots": [{**s, "feed_kw": 0.0} for s in view["slots"]]}
        return self.feed_view(runtime, view)

    def caps_list(self, runtime: ChargerRuntime) -> list[dict[str, Any]]:
        """The caps on the charger's session (the dashboard's CAP shape)."""
        if self.inputs is None:
            return []
        return [
            {
                "start": c.start.isoformat(),
                "end": c.end.isoformat(),
                "limit_kw": c.max_kw,
                "name": c.name,
            }
            for c in self.inputs.caps
            if c.vehicle_ids is None or runtime.charger_id in c.vehicle_ids
        ]


def failsafe_message(state: FailsafeState, tz: tzinfo) -> str:
    """Why the fail-safe limit holds the chargers (the plan's reason starts with it)."""
    since = state.since.astimezone(tz).strftime("%H:%M") if state.since else "?"
    why = (
        f"the utility link is silent since {since}"
        if state.reason is FailsafeReason.LINK_SILENT
        else f"waiting for the utility's events after a silence since {since}"
    )
    return f"the utility's fail-safe limit of {state.limit_kw:g} kW holds all chargers: {why}"
