"""Smart charging: the charge planner wired to the sessions, the tariff, the events and the chargers.

The controller builds the planner's inputs from the sessions in progress (one request per
charger with a session; the planner's vehicle ID is the charger ID), each vehicle's charge mode,
departure time and target, the tariff of each session, the utility's load-control caps and the
local ``load_control`` events (minus the events the user opted out of). It replans when
:func:`core.planner.needs_replan` says so and applies the plan slot by slot to the charger
(enable/disable and current limit), pausing the session with ``PauseReason.PLAN`` while the plan
says to wait.

Rules:

* ``immediate`` (the default, also for an unknown vehicle): charging runs as soon as the vehicle
  is plugged in, at the highest current the events in force allow (today's behaviour; the plan
  is only shown). No command is sent while nothing limits the charger.
* ``cheapest``: the cost-optimal plan to reach the target by the departure (the next occurrence
  of the vehicle's departure time, 07:00 local by default).
* ``solar``: planned like ``cheapest`` (no solar forecast is configured yet, so there is no free
  surplus to plan with).
* ``off``: no charging.
* "Charge now" overrides the plan for the rest of the session; the user's pause (the "Charging
  enabled" switch) and a utility cap that stops charging (``PauseReason.EVENT``) are left alone.
* The energy wanted: with a battery capacity the target is a state of charge in %; the vehicle's
  state of charge is known for the demo car only, otherwise the target is read as the energy to
  add in the session (target % of the capacity). Without a capacity the target is in kWh to add.
  Without a target: a full battery (the capacity, else :data:`DEFAULT_ENERGY_KWH`).

Every command (source ``plan``, ``event`` or ``user``) is kept in an audit trail with the power
measured by the charger afterwards: a command is obeyed once the power is at or below the
commanded power (plus a tolerance); still above it :data:`VERIFY_SECONDS` later, the charger
ignored it and a repairs issue is raised (cleared by the next obeyed command). The trail is kept
in memory while the session runs and with the session in the store's ``commands`` table (written
at each command and each verification; read back for the open sessions after a restart).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from .adapters import EntityCharger
from .const import (
    CONF_CURRENT_ENTITY,
    DEFAULT_DEPARTURE,
    DEFAULT_ENERGY_KWH,
    DOMAIN,
    ISSUE_IGNORES_COMMANDS,
    PLAN_HORIZON_HOURS,
    VERIFY_SECONDS,
    VERIFY_TOLERANCE_KW,
)
from .core.planner import (
    ChargeMode,
    ChargerModel,
    Plan,
    PlanInputs,
    PowerCap,
    VehiclePlan,
    VehicleRequest,
    explanation_message,
    needs_replan,
    plan,
)
from .core.session import ChargingSession, PauseReason
from .openadr.models import event_mandatory

if TYPE_CHECKING:
    from .coordinator import ChargerRuntime, PevPortalCoordinator, Vehicle
    from .io.store import LedgerStore

_LOGGER = logging.getLogger(__name__)

SOURCE_PLAN = "plan"
SOURCE_EVENT = "event"
SOURCE_USER = "user"


@dataclass(slots=True)
class VehicleSettings:
    """The user's smart-charging settings of a vehicle."""

    mode: ChargeMode = ChargeMode.IMMEDIATE
    departure: time = DEFAULT_DEPARTURE
    target: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "mode": self.mode.value,
            "departure": self.departure.strftime("%H:%M"),
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VehicleSettings:
        """Inverse of :meth:`to_dict`."""
        return cls(
            ChargeMode(data.get("mode", ChargeMode.IMMEDIATE)),
            time.fromisoformat(data.get("departure") or DEFAULT_DEPARTURE.isoformat()),
            data.get("target"),
        )


class SmartCharging:
    """Plans the premise's charging and drives the chargers by the plan."""

    def __init__(self, coordinator: PevPortalCoordinator) -> None:
        self.coordinator = coordinator
        self.hass: HomeAssistant = coordinator.hass
        self.settings: dict[str, VehicleSettings] = {}
        self.plan: Plan | None = None
        self.inputs: PlanInputs | None = None
        self.reason: str | None = None
        self.departures: dict[str, datetime | None] = {}
        self.overrides: set[str] = set()
        self.audit: dict[str, list[dict[str, Any]]] = {}
        self._commanded: dict[str, tuple[bool, int]] = {}
        self._next_source: dict[str, str] = {}
        self._running = False
        self._again = False
        self._timer: CALLBACK_TYPE | None = None
        self._timer_at: datetime | None = None
        self._stopped = False

    @property
    def _meta_key(self) -> str:
        return f"smart_charging:{self.coordinator.premise_id}"

    async def async_load(self) -> None:
        """Read the vehicles' settings from the store."""
        saved = await self.coordinator.store.call(lambda s: s.get_meta(self._meta_key)) or {}
        for subentry_id, vehicle in self.coordinator.vehicles.items():
            if subentry_id in saved:
                self.settings[subentry_id] = VehicleSettings.from_dict(saved[subentry_id])
            else:
                self.settings[subentry_id] = VehicleSettings(target=vehicle.default_target)
        self.audit = await self.coordinator.store.call(lambda s: s.open_commands())

    def stop(self) -> None:
        """Stop the timer (at unload)."""
        self._stopped = True
        if self._timer is not None:
            self._timer()
            self._timer = None

    # -- settings -------------------------------------------------------------------------

    def settings_of(self, vehicle: Vehicle | None) -> VehicleSettings:
        """A vehicle's settings (the defaults for an unknown vehicle)."""
        if vehicle is None:
            return VehicleSettings()
        return self.settings.setdefault(vehicle.subentry_id, VehicleSettings())

    @callback
    def update_settings(
        self,
        vehicle: Vehicle,
        *,
        mode: ChargeMode | None = None,
        departure: time | None = None,
        target: float | None = None,
    ) -> None:
        """Change a vehicle's settings, store them and replan."""
        current = self.settings_of(vehicle)
        if mode is not None:
            current.mode = mode
        if departure is not None:
            current.departure = departure
        if target is not None:
            current.target = target
        data = {sid: s.to_dict() for sid, s in self.settings.items()}
        self.coordinator._submit(lambda s: s.set_meta(self._meta_key, data))
        self.schedule()
        self.coordinator.async_update_listeners()

    def vehicle_of(self, runtime: ChargerRuntime) -> Vehicle | None:
        """The registered vehicle of the charger's session."""
        session = runtime.session
        return self.coordinator.vehicle_by_pev_id(session.pev_id if session else None)

    def mode_of(self, runtime: ChargerRuntime) -> ChargeMode:
        """The charge mode of the charger's session."""
        return self.settings_of(self.vehicle_of(runtime)).mode

    def next_departure(self, settings: VehicleSettings, now: datetime) -> datetime:
        """The next occurrence of the departure time (local), in UTC."""
        tz = dt_util.get_default_time_zone()
        day = dt_util.as_local(now).date()
        for offset in (0, 1, 2):
            candidate = datetime.combine(day + timedelta(days=offset), settings.departure, tz)
            if candidate > now:
                return dt_util.as_utc(candidate)
        raise AssertionError("unreachable")  # pragma: no cover

    def energy_wanted(self, runtime: ChargerRuntime, vehicle: Vehicle | None) -> float:
        """The energy still wanted by the session (see the module docstring)."""
        session = runtime.session
        assert session is not None
        target = self.settings_of(vehicle).target
        capacity = vehicle.capacity_kwh if vehicle is not None else None
        soc: float | None = None
        if runtime.demo is not None and runtime.demo.evse.car is not None:
            soc = runtime.demo.evse.car.soc
            capacity = capacity or runtime.demo.evse.car.capacity_kwh
        delivered = session.meter_kwh
        if capacity:
            share = 1.0 if target is None else target / 100.0
            if soc is not None:
                return max(0.0, (share - soc) * capacity)
            return max(0.0, share * capacity - delivered)
        if target is None:
            return max(0.0, DEFAULT_ENERGY_KWH - delivered)
        return max(0.0, target - delivered)

    # -- inputs ---------------------------------------------------------------------------

    @staticmethod
    def charger_model(runtime: ChargerRuntime) -> ChargerModel:
        """What the charger can do, for the planner."""
        adapter = runtime.adapter
        on_off = isinstance(adapter, EntityCharger) and not adapter.config.get(CONF_CURRENT_ENTITY)
        return ChargerModel(
            max_kw=adapter.max_power_kw(),
            phases=adapter.phases,
            voltage=adapter.voltage,
            min_a=int(adapter.min_current_a),
            max_a=int(adapter.max_current_a),
            on_off_only=on_off,
        )

    def local_caps(self, now: datetime) -> list[PowerCap]:
        """Local load-control events not yet over (and not opted out of)."""
        return [
            PowerCap(max(e["start"], now), e["end"], float(e["limit_kw"]), e.get("name") or "event")
            for e in self.coordinator.local_events
            if e["kind"] == "load_control"
            and e.get("limit_kw") is not None
            and e["end"] > now
            and e["event_id"] not in self.coordinator.opted_out
        ]

    def utility_caps(self, runtime: ChargerRuntime, now: datetime) -> list[PowerCap]:
        """The utility's load-control caps on the charger's session."""
        link, session = self.coordinator.link, runtime.session
        if link is None or session is None or self.opted_out_now(runtime, now):
            return []
        adapter = runtime.adapter
        return [
            PowerCap(start, end, cap, name, frozenset({runtime.charger_id}))
            for start, end, cap, name in link.timeline.caps(
                session.pev_id,
                now,
                now + timedelta(hours=PLAN_HORIZON_HOURS),
                adapter.max_power_kw(),
                adapter.min_power_kw(),
            )
        ]

    def build_inputs(
        self, now: datetime, overrides: dict[str, VehicleSettings] | None = None
    ) -> PlanInputs:
        """The planner's inputs now (``overrides``: settings per charger, for a preview)."""
        requests: list[VehicleRequest] = []
        caps: list[PowerCap] = self.local_caps(now)
        self.departures = {}
        for runtime in self.coordinator.chargers.values():
            session = runtime.session
            if session is None:
                continue
            vehicle = self.vehicle_of(runtime)
            settings = (overrides or {}).get(runtime.charger_id) or self.settings_of(vehicle)
            mode = settings.mode
            if mode is ChargeMode.SOLAR:
                mode = ChargeMode.CHEAPEST  # no solar forecast configured
            departure = None if mode is ChargeMode.IMMEDIATE else self.next_departure(settings, now)
            self.departures[runtime.charger_id] = departure
            requests.append(
                VehicleRequest(
                    vehicle_id=runtime.charger_id,
                    energy_kwh=self._energy(runtime, vehicle, settings),
                    departure=departure,
                    charger=self.charger_model(runtime),
                    mode=mode,
                    tariff=self.coordinator.tariff_of(runtime),
                )
            )
            caps.extend(self.utility_caps(runtime, now))
        return PlanInputs(tuple(requests), self.coordinator.program_tariff, tuple(caps))

    def _energy(
        self, runtime: ChargerRuntime, vehicle: Vehicle | None, settings: VehicleSettings
    ) -> float:
        if vehicle is None or settings is self.settings_of(vehicle):
            return self.energy_wanted(runtime, vehicle)
        saved = self.settings_of(vehicle).target
        self.settings_of(vehicle).target = settings.target
        try:
            return self.energy_wanted(runtime, vehicle)
        finally:
            self.settings_of(vehicle).target = saved

    def compute(self, inputs: PlanInputs, now: datetime) -> Plan:
        """Run the planner."""
        return plan(
            inputs.requests,
            now=now,
            tariff=inputs.tariff,
            caps=inputs.caps,
            horizon=timedelta(hours=PLAN_HORIZON_HOURS),
            tz=dt_util.get_default_time_zone(),
        )

    # -- running --------------------------------------------------------------------------

    @callback
    def schedule(self) -> None:
        """Replan if needed and apply the plan, soon (coalesced)."""
        if self._stopped:
            return
        if self._running:
            self._again = True
            return
        self._running = True
        self.coordinator.config_entry.async_create_task(
            self.hass, self._async_run(), "pev_portal_smart_charging"
        )

    async def _async_run(self) -> None:
        try:
            while True:
                self._again = False
                await self.async_refresh()
                if not self._again or self._stopped:
                    break
        finally:
            self._running = False

    async def async_refresh(self, now: datetime | None = None) -> None:
        """Verify past commands, replan when needed, and apply the plan to every charger."""
        now = now or dt_util.utcnow()
        self._verify(now)
        inputs = self.build_inputs(now)
        if not inputs.requests:
            self.plan, self.inputs, self.reason = None, None, None
        else:
            reason = needs_replan(self.inputs, inputs, current=self.plan, now=now)
            if reason is not None or self.plan is None:
                _LOGGER.debug("Replanning: %s", reason)
                self.plan, self.inputs, self.reason = self.compute(inputs, now), inputs, reason
                self.coordinator.async_update_listeners()
        for runtime in list(self.coordinator.chargers.values()):
            await self._async_apply(runtime, now)
        self._schedule_timer(now)

    def _schedule_timer(self, now: datetime) -> None:
        """Wake up at the next slot or local event boundary (commands within a second)."""
        times: list[datetime] = [
            t
            for e in self.coordinator.local_events
            if e["kind"] == "load_control"
            for t in (e["start"], e["end"])
            if t > now
        ]
        if self.plan is not None:
            times.extend(
                t
                for vp in self.plan.vehicles.values()
                for s in vp.slots
                for t in (s.start, s.end)
                if t > now
            )
        wake = min(times) if times else None
        if wake == self._timer_at and self._timer is not None:
            return
        if self._timer is not None:
            self._timer()
            self._timer = None
        self._timer_at = wake
        if wake is not None:
            self._timer = async_track_point_in_utc_time(self.hass, self._on_timer, wake)

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._timer = None
        self.schedule()

    def _desired_kw(self, runtime: ChargerRuntime, now: datetime) -> tuple[float, str]:
        """The power the charger should be allowed now, and why (the command's source)."""
        adapter = runtime.adapter
        local = [c.max_kw for c in self.local_caps(now) if c.start <= now < c.end]
        if self.mode_of(runtime) is ChargeMode.IMMEDIATE:
            power = min([adapter.max_power_kw(), *local])
            return power, SOURCE_EVENT if local else SOURCE_PLAN
        vp = self.plan.vehicles.get(runtime.charger_id) if self.plan is not None else None
        return (vp.power_at(now) if vp is not None else 0.0), SOURCE_PLAN

    async def _async_apply(self, runtime: ChargerRuntime, now: datetime) -> None:
        session, adapter = runtime.session, runtime.adapter
        if session is None or not adapter.controllable:
            return
        if session.session_id in self.overrides or session.pause_reason in (
            PauseReason.USER,
            PauseReason.EVENT,
        ):
            return
        power, source = self._desired_kw(runtime, now)
        if runtime.cap_kw is not None:
            power = min(power, runtime.cap_kw)
        max_a = int(adapter.max_current_a)
        if power <= 0 or power < adapter.min_power_kw() - 1e-6:
            desired = (False, 0)
        else:
            desired = (True, min(adapter.amps_for(power), max_a))
        baseline = (
            True,
            adapter.amps_for(runtime.cap_kw) if runtime.cap_kw is not None else max_a,
        )
        last = self._commanded.get(runtime.charger_id, baseline)
        if desired == last:
            return
        self._commanded[runtime.charger_id] = desired
        if (
            source == SOURCE_PLAN
            and last[0]
            and desired[0]
            and self._last_source(session) == (SOURCE_EVENT)
        ):
            source = SOURCE_EVENT  # the end of a cap
        source = self._next_source.pop(runtime.charger_id, source)
        enabled, amps = desired
        _LOGGER.debug("%s: %s command enabled=%s current=%s A", runtime.name, source, *desired)
        if not enabled:
            session.pause(PauseReason.PLAN, now)
            await adapter.async_set_enabled(False)
        else:
            if session.pause_reason is PauseReason.PLAN:
                session.resume(now)
            if not last[0]:
                await adapter.async_set_enabled(True)
            await adapter.async_set_current(amps)
        self.record(runtime, source, enabled, amps, now)
        runtime.dirty = True
        self.coordinator._schedule_save(runtime)
        self.coordinator.async_update_listeners()

    def _last_source(self, session: ChargingSession) -> str | None:
        trail = self.audit.get(session.session_id)
        return trail[-1]["source"] if trail else None

    # -- overrides, audit -----------------------------------------------------------------

    @callback
    def forget(self, runtime: ChargerRuntime) -> None:
        """Someone else commanded the charger: the next plan step is sent again."""
        self._commanded.pop(runtime.charger_id, None)

    @callback
    def override(self, runtime: ChargerRuntime) -> None:
        """'Charge now': the plan leaves the session alone until it ends."""
        if runtime.session is not None:
            self.overrides.add(runtime.session.session_id)
            self.record(runtime, SOURCE_USER, True, int(runtime.adapter.max_current_a))
            self.schedule()

    @callback
    def session_ended(self, runtime: ChargerRuntime, session: ChargingSession) -> None:
        """Drop the session's override and command memory; replan for the others."""
        self.overrides.discard(session.session_id)
        self._commanded.pop(runtime.charger_id, None)
        self.audit.pop(session.session_id, None)
        self.schedule()

    @callback
    def record(
        self,
        runtime: ChargerRuntime,
        source: str,
        enabled: bool,
        amps: float,
        now: datetime | None = None,
    ) -> None:
        """Add a command to the session's audit trail (verified a few seconds later)."""
        session = runtime.session
        if session is None:
            return
        adapter = runtime.adapter
        target_kw = amps * adapter.voltage * adapter.phases / 1000.0 if enabled else 0.0
        if enabled and amps < adapter.min_current_a:
            target_kw = 0.0
        self.audit.setdefault(session.session_id, []).append(
            {
                "at": (now or dt_util.utcnow()).isoformat(),
                "source": source,
                "enabled": enabled,
                "current_a": amps if enabled else 0,
                "target_kw": round(target_kw, 3),
                "measured_kw": None,
                "obeyed": None,
                "response_s": None,
            }
        )
        self._save_trail(session.session_id)

    def _save_trail(self, session_id: str) -> None:
        """Store the session's audit trail (a copy, written on the store's thread)."""
        frozen = [dict(c) for c in self.audit.get(session_id, ())]
        self.coordinator._submit(partial(_save_audit, session_id, frozen))

    def audit_for(self, runtime: ChargerRuntime) -> list[dict[str, Any]]:
        """The active session's command audit trail."""
        session = runtime.session
        return list(self.audit.get(session.session_id, ())) if session is not None else []

    def _verify(self, now: datetime) -> None:
        """Compare the measured power with each unverified command."""
        for runtime in self.coordinator.chargers.values():
            session = runtime.session
            if session is None:
                continue
            trail = self.audit.get(session.session_id) or []
            pending = [c for c in trail if c["obeyed"] is None]
            if not pending:
                continue
            measured = runtime.adapter.power_kw()
            changed = False
            for command in pending:
                age = (now - datetime.fromisoformat(command["at"])).total_seconds()
                if age <= 0:
                    continue
                limit = command["target_kw"] * 1.05 + VERIFY_TOLERANCE_KW
                if measured is not None and measured <= limit:
                    command.update(obeyed=True, measured_kw=measured, response_s=round(age, 1))
                    changed = True
                    self._issue(runtime, None)
                elif age >= VERIFY_SECONDS:
                    command.update(obeyed=False, measured_kw=measured)
                    changed = True
                    _LOGGER.warning(
                        "%s ignored a command (%s: %.2f kW allowed, %s kW measured)",
                        runtime.name,
                        command["source"],
                        command["target_kw"],
                        measured,
                    )
                    self._issue(runtime, command)
            if changed:
                self._save_trail(session.session_id)

    def _issue(self, runtime: ChargerRuntime, command: dict[str, Any] | None) -> None:
        entry_id = self.coordinator.config_entry.entry_id
        issue_id = f"{ISSUE_IGNORES_COMMANDS}_{entry_id}_{runtime.charger_id}"
        if command is None:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_IGNORES_COMMANDS,
            translation_placeholders={
                "charger": runtime.name,
                "target": f"{command['target_kw']:.2f}",
                "measured": f"{command['measured_kw'] or 0:.2f}",
            },
        )

    # -- opt-out --------------------------------------------------------------------------

    def active_events(self, runtime: ChargerRuntime, now: datetime) -> list[tuple[str, bool]]:
        """The load-control events in force on the charger's session: (event ID, mandatory)."""
        found: dict[str, bool] = {}
        link, session = self.coordinator.link, runtime.session
        if link is not None and session is not None:
            programs = {p.id: p for p in link.state.programs}
            for entry in link.timeline.active(now):
                if entry.kind in ("cap", "level", "alert") and entry.applies_to_pev(session.pev_id):
                    event = link.state.events.get(entry.event_id)
                    found[entry.event_id] = event is not None and event_mandatory(
                        event, programs.get(entry.program_id)
                    )
        for e in self.coordinator.local_events:
            if e["kind"] == "load_control" and e["start"] <= now < e["end"]:
                found.setdefault(e["event_id"], False)
        return list(found.items())

    def opted_out_now(self, runtime: ChargerRuntime, now: datetime | None = None) -> bool:
        """True when the user opted out of every load-control event in force on the session."""
        events = self.active_events(runtime, now or dt_util.utcnow())
        return bool(events) and all(eid in self.coordinator.opted_out for eid, _ in events)

    @callback
    def opt_out(self, runtime: ChargerRuntime) -> list[str]:
        """Opt the charger's session out of the events in force (not of mandatory ones)."""
        events = self.active_events(runtime, dt_util.utcnow())
        if not events:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="no_active_event"
            )
        if any(mandatory for _, mandatory in events):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="event_mandatory"
            )
        ids = [eid for eid, _ in events]
        self.coordinator.opted_out.update(ids)
        self._next_source[runtime.charger_id] = SOURCE_USER  # the commands that follow
        self.coordinator._apply_caps(runtime)  # lifts the utility's cap
        self.schedule()
        self.coordinator.async_update_listeners()
        return ids

    # -- reading --------------------------------------------------------------------------

    def vehicle_plan(self, runtime: ChargerRuntime) -> VehiclePlan | None:
        """The plan of the charger's session."""
        if self.plan is None or runtime.session is None:
            return None
        return self.plan.vehicles.get(runtime.charger_id)

    def plan_dict(self, runtime: ChargerRuntime, p: Plan | None = None) -> dict[str, Any] | None:
        """The plan of the charger's session in the dashboard's shape (see websocket_api)."""
        p = p if p is not None else self.plan
        vp = p.vehicles.get(runtime.charger_id) if p is not None else None
        if vp is None or runtime.session is None:
            return None
        tz = dt_util.get_default_time_zone()
        reason = "; ".join(explanation_message(e, tz=tz) for e in vp.explanations) or None
        return {
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
            "departure": (
                d.isoformat() if (d := self.departures.get(runtime.charger_id)) else None
            ),
            "ready_by": vp.ready_by.isoformat() if vp.ready_by else None,
            "target_kwh": round(vp.energy_kwh + vp.shortfall_kwh, 3),
            "energy_kwh": round(vp.energy_kwh, 3),
            "cost": float(vp.cost) if isinstance(vp.cost, Decimal) else vp.cost,
            "reachable": vp.reachable,
            "reason": reason,
        }

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

    def preview(
        self, runtime: ChargerRuntime, settings: VehicleSettings | None = None
    ) -> dict[str, Any] | None:
        """The plan the session would get (with other settings), without applying it."""
        now = dt_util.utcnow()
        saved = dict(self.departures)
        try:
            inputs = self.build_inputs(
                now, {runtime.charger_id: settings} if settings is not None else None
            )
            if not inputs.requests:
                return None
            result = self.plan_dict(runtime, self.compute(inputs, now))
        finally:
            departures, self.departures = self.departures, saved
        if result is not None:
            d = departures.get(runtime.charger_id)
            result["departure"] = d.isoformat() if d else None
            if settings is not None:
                result["mode"] = settings.mode.value
        return result


def _save_audit(session_id: str, trail: list[dict[str, Any]], store: LedgerStore) -> None:
    """Store a session's command audit trail (on the store's thread)."""
    store.save_commands(session_id, trail)
