"""The charging-session state machine.

Driven by the charger's status and power, the binding decision and pause requests:

``unplugged -> validating -> (waiting | charging | paused) ... -> completed``, with ``fault``
reachable from any plugged state. While the binding is pending the session is ``validating``
whatever the charger does; charging is never blocked by it (req 3), the energy is metered all
the same.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .binding import PENDING_DECISION, BillingParty, BindingDecision, BindingOutcome

CHARGING_POWER_THRESHOLD_KW = 0.1


class ChargerStatus(StrEnum):
    """The charger's own status, mapped from whatever its integration reports."""

    UNPLUGGED = "unplugged"
    PLUGGED = "plugged"
    CHARGING = "charging"
    FAULT = "fault"


class SessionState(StrEnum):
    """State of a charging session as the user sees it."""

    UNPLUGGED = "unplugged"
    VALIDATING = "validating"
    WAITING = "waiting"
    CHARGING = "charging"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAULT = "fault"


class PauseReason(StrEnum):
    """Who paused charging."""

    USER = "user"
    PLAN = "plan"
    EVENT = "event"


class VehicleSource(StrEnum):
    """How the vehicle of a session was identified (in order of precedence)."""

    CHARGER = "charger"
    TAG = "tag"
    SELECT = "select"
    DEFAULT = "default"
    USER = "user"
    UNKNOWN = "unknown"


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime; times must be timezone-aware UTC")
    return when


@dataclass(slots=True)
class ChargingSession:
    """One plug-in to unplug of one vehicle at one charger."""

    charger_id: str
    premise_id: str
    started_at: datetime
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: SessionState = SessionState.VALIDATING
    pause_reason: PauseReason | None = None
    ended_at: datetime | None = None
    pev_id: str | None = None
    vehicle_source: VehicleSource = VehicleSource.UNKNOWN
    decision: BindingDecision = PENDING_DECISION
    charger_status: ChargerStatus = ChargerStatus.PLUGGED
    power_kw: float | None = None
    meter_kwh: float = 0.0
    charger_kwh: float | None = None
    charger_register_start: float | None = None
    bound_at: datetime | None = None
    charging_started_at: datetime | None = None
    # The charger's vehicle-ID source as last seen in this session (used or found stale): only
    # a change from it re-identifies the vehicle (a restored, unchanged value does not).
    charger_vehicle_id: str | None = None
    # Each re-identification: {"at", "from_pev_id", "to_pev_id", "source", "previous_outcome"}.
    reidentified: list[dict[str, Any]] = field(default_factory=list)
    # The charger's own transactions in this session, in order: {"started_at" (ISO or None),
    # "meter_start_kwh"} (a pause by the charger's switch ends one and a resume starts another).
    transactions: list[dict[str, Any]] = field(default_factory=list)
    # At unplug: the meter's and the transaction's energy, their difference, and whether it
    # was beyond the tolerance.
    energy_check: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        _utc(self.started_at)

    # -- inputs ---------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """True until the vehicle is unplugged."""
        return self.state is not SessionState.COMPLETED

    @property
    def bound(self) -> bool:
        """True once the binding decision is known."""
        return self.decision.outcome is not BindingOutcome.PENDING

    @property
    def billing_party(self) -> BillingParty:
        """The party billed for this session."""
        return self.decision.billing_party

    @property
    def charger_difference_kwh(self) -> float | None:
        """Meter energy minus the charger's own count (UC133 step 7 note)."""
        if self.charger_kwh is None:
            return None
        return self.meter_kwh - self.charger_kwh

    def update_charger(
        self, status: ChargerStatus, power_kw: float | None, at: datetime
    ) -> SessionState:
        """Feed the charger's status and power; return the new state."""
        _utc(at)
        if not self.active:
            return self.state
        self.charger_status = status
        self.power_kw = power_kw
        if status is ChargerStatus.UNPLUGGED:
            self.state = SessionState.COMPLETED
            self.ended_at = at
            return self.state
        self._settle(at)
        return self.state

    def update_charger_energy(self, register_kwh: float | None) -> None:
        """Feed the charger's own energy register; the session's share is kept beside."""
        if register_kwh is None:
            return
        if self.charger_register_start is None or register_kwh < self.charger_register_start:
            self.charger_register_start = register_kwh
        self.charger_kwh = register_kwh - self.charger_register_start

    def bind(self, decision: BindingDecision, at: datetime) -> None:
        """Apply the binding decision."""
        _utc(at)
        self.decision = decision
        if self.bound_at is None:
            self.bound_at = at
        if self.active:
            self._settle(at)

    def identify(self, pev_id: str | None, source: VehicleSource) -> None:
        """Record which vehicle this is and how it was identified."""
        self.pev_id = pev_id
        self.vehicle_source = source

    def pause(self, reason: PauseReason, at: datetime) -> None:
        """Record that charging is paused on purpose (by the user, the plan or an event)."""
        self.pause_reason = reason
        if self.active:
            self._settle(at)

    def resume(self, at: datetime) -> None:
        """Clear a pause."""
        self.pause_reason = None
        if self.active:
            self._settle(at)

    def _drawing(self) -> bool:
        if self.power_kw is not None:
            return self.power_kw >= CHARGING_POWER_THRESHOLD_KW
        return self.charger_status is ChargerStatus.CHARGING

    def _settle(self, at: datetime) -> None:
        if self.charger_status is ChargerStatus.FAULT:
            self.state = SessionState.FAULT
        elif not self.bound:
            self.state = SessionState.VALIDATING
        elif self._drawing():
            self.state = SessionState.CHARGING
            if self.charging_started_at is None:
                self.charging_started_at = at
        elif self.pause_reason is not None:
            self.state = SessionState.PAUSED
        else:
            self.state = SessionState.WAITING

    # -- persistence ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable state (the durable store keeps it with the session row)."""
        return {
            "session_id": self.session_id,
            "charger_id": self.charger_id,
            "premise_id": self.premise_id,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "state": self.state.value,
            "pause_reason": self.pause_reason.value if self.pause_reason else None,
            "pev_id": self.pev_id,
            "vehicle_source": self.vehicle_source.value,
            "decision": {
                "outcome": self.decision.outcome.value,
                "billing_party": self.decision.billing_party.value,
                "program_rate": self.decision.program_rate,
                "reason": self.decision.reason,
                "home_utility_id": self.decision.home_utility_id,
            },
            "charger_status": self.charger_status.value,
            "power_kw": self.power_kw,
            "meter_kwh": self.meter_kwh,
            "charger_kwh": self.charger_kwh,
            "charger_register_start": self.charger_register_start,
            "bound_at": self.bound_at.isoformat() if self.bound_at else None,
            "charging_started_at": (
                self.charging_started_at.isoformat() if self.charging_started_at else None
            ),
            "charger_vehicle_id": self.charger_vehicle_id,
            "reidentified": [dict(r) for r in self.reidentified],
            "transactions": [dict(t) for t in self.transactions],
            "energy_check": dict(self.energy_check) if self.energy_check else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChargingSession:
        """Inverse of :meth:`to_dict`."""

        def _dt(value: Any) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        dec = data["decision"]
        started = _dt(data["started_at"])
        assert started is not None
        return cls(
            charger_id=data["charger_id"],
            premise_id=data["premise_id"],
            started_at=started,
            session_id=data["session_id"],
            state=SessionState(data["state"]),
            pause_reason=PauseReason(data["pause_reason"]) if data["pause_reason"] else None,
            ended_at=_dt(data["ended_at"]),
            pev_id=data["pev_id"],
            vehicle_source=VehicleSource(data["vehicle_source"]),
            decision=BindingDecision(
                BindingOutcome(dec["outcome"]),
                BillingParty(dec["billing_party"]),
                bool(dec["program_rate"]),
                dec["reason"],
                dec.get("home_utility_id"),
            ),
            charger_status=ChargerStatus(data["charger_status"]),
            power_kw=data["power_kw"],
            meter_kwh=data["meter_kwh"],
            charger_kwh=data["charger_kwh"],
            charger_register_start=data["charger_register_start"],
            bound_at=_dt(data["bound_at"]),
            charging_started_at=_dt(data["charging_started_at"]),
            charger_vehicle_id=data.get("charger_vehicle_id"),
            reidentified=[dict(r) for r in data.get("reidentified") or ()],
            transactions=[dict(t) for t in data.get("transactions") or ()],
            energy_check=data.get("energy_check"),
        )
