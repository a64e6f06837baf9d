"""Smart charging: the charge planner wired to the sessions, the tariff and the events.

It builds the planner's inputs from the sessions in progress (one request per charger with a
session; the planner's vehicle ID is the charger ID), each vehicle's charge mode, departure and
target, the tariff of each session and the load-control limits of the program's events (see
:mod:`..program_events`: local and the utility's, with their own windows, minus the events opted
out of). It replans only when :func:`core.planner.needs_replan` finds a real change, computes
the plan off the event loop (the previous plan stays in force until the new one is ready; one
run at a time), and then decides each charger's *effective limit* (:meth:`SmartCharging.target`)
which the command controller (:mod:`.controller`, the only sender of charger commands) applies.

The effective limit of a charger with a session is the smallest of:

* what the charge mode allows: ``immediate`` (the default, also for an unknown vehicle) and
  "charge now" the charger's full power; ``cheapest``/``solar``/``off`` the plan's power now.
  On a shared circuit (the option ``circuit_limit_a``) every mode follows the plan, which shares
  the circuit ("charge now" first, then the earliest plugged-in);
* the load-control limit in force (local or the utility's), in every mode, "charge now"
  included, unless the user opted out of that event where the program allows it;
* the user's choice: the "Charging enabled" switch off is 0;
* the utility's fail-safe limit while it is in force (:mod:`..utility_failsafe`): the premise's
  chargers together, planned as the circuit limit (the lower of the two); commands it holds
  back are audited with the source ``failsafe``.

* Random start: a planned charge that would start at a price or event boundary (after the plan
  was made) starts up to ``start_delay_minutes`` (option, default 10) later, drawn at random once
  per boundary; the ``randomizeStart`` of a utility event whose boundary it is wins. The delay is
  a 0 kW hold in the plan, so a reachable target stays reachable.
* A vehicle that takes less than planned (measured power more than 0.5 kW below the plan, once
  the last command was obeyed at least :data:`VERIFY_SECONDS` ago) is planned at what it takes
  for :data:`LEARNED_LIMIT_MINUTES` (on an on/off-only charger: for the session).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.event import async_track_point_in_utc_time, async_track_time_interval
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util

from ..adapters import ChargerAdapter
from ..coalesce import Coalesced
from ..const import (
    CONF_SOLAR_BASE_LOAD,
    CONF_SOLAR_FORECAST,
    CONF_START_DELAY,
    DEFAULT_SOLAR_BASE_LOAD_KW,
    DEFAULT_START_DELAY_MINUTES,
    DOMAIN,
    PLAN_HORIZON_HOURS,
    RANDOM_START_CAP,
)
from ..core.failsafe import FailsafeState
from ..core.metering import Interval
from ..core.planner import (
    ChargeMode,
    Plan,
    PlanInputs,
    PlanningError,
    PowerCap,
    SolarForecast,
    needs_replan,
    plan,
)
from ..core.session import ChargingSession, PauseReason
from ..core.summary import SessionSummary
from ..ports import Premise
from ..program_events import ProgramEvents
from ..runtime import ChargerRuntime
from ..solar import REFRESH as SOLAR_REFRESH
from ..solar import SolarSource
from .audit import CommandAudit
from .controller import (
    SOURCE_EVENT,
    SOURCE_FAILSAFE,
    SOURCE_PLAN,
    SOURCE_USER,
    ChargerController,
    Target,
)
from .feed import FeedPlanning
from .feed_build import FeedResult
from .inputs import UNDER_DELIVERY_TOLERANCE_KW, PlanRequests
from .settings import VehicleSettings
from .views import PlanViews

if TYPE_CHECKING:
    from ..utility import UtilityLink

_LOGGER = logging.getLogger(__name__)
# How far back the meter is read for what a vehicle takes (no power sensor)
UNDER_DELIVERY_WINDOW = timedelta(minutes=5)
# An on/off charger's learned power holds for the session (its end forgets it); this bounds it
LEARNED_ON_OFF_DAYS = 7

type PlannedListener = Callable[[ChargerRuntime, dict[str, Any] | None], None]


class SmartCharging(FeedPlanning, PlanRequests, PlanViews):
    """Plans the premise's charging and decides what each charger is allowed."""

    def __init__(
        self,
        premise: Premise,
        events: ProgramEvents,
        controller: ChargerController,
        audit: CommandAudit,
    ) -> None:
        self.premise = premise
        self.hass: HomeAssistant = premise.hass
        self.events = events
        self.controller = controller
        self.audit = audit
        self.link: UtilityLink | None = None
        self.settings: dict[str, VehicleSettings] = {}
        self.plan: Plan | None = None
        self.inputs: PlanInputs | None = None
        self.reason: str | None = None
        self.plans_computed = 0
        self.last_errors: dict[str, str] = {}
        self.departures: dict[str, datetime | None] = {}
        self.overrides: set[str] = set()  # "charge now" sessions
        self.user_paused: set[str] = set()  # sessions the user paused
        self._force: set[str] = set()  # chargers to command at once (a user's action)
        self._next_source: dict[str, str] = {}
        # Not eager: a run starts once the caller's change is complete (a plug-in bound, an
        # opt-out recorded), never half-way through it.
        self._runner = Coalesced(
            self.hass,
            premise.entry,
            self._async_pass,
            "pev_portal_smart_charging",
            background=False,
        )
        self._timer: CALLBACK_TYPE | None = None
        self._timer_at: datetime | None = None
        self.rng = random.Random()
        self._delays: dict[str, tuple[datetime, timedelta]] = {}
        self.solar: SolarSource | None = None
        self._unsubscribers: list[CALLBACK_TYPE] = []
        # session ID -> (kW the vehicle was seen to take, until when it is planned at that)
        self.learned: dict[str, tuple[float, datetime]] = {}
        self.inputs_built = 0  # the tick's builds of the planner's inputs (it reuses them)
        self._built = None
        self.on_planned: list[PlannedListener] = []
        # Power feed (.feed): the feed plan, why a session with power feed on does not feed
        self.feed_result: FeedResult | None = None
        self.feed_why: dict[str, str] = {}
        self.feed_runs = 0
        self._feed_mark: tuple[int, int, datetime] | None = None
        controller.retry = self.schedule
        audit.on_retry.append(self._retry_other_way)

    async def async_load(self) -> None:
        """Read the vehicles' settings and the open sessions' command trails from the store."""
        saved = await self.premise.store.call(lambda s: s.get_meta(self._meta_key)) or {}
        for subentry_id, vehicle in self.premise.vehicles.items():
            if subentry_id in saved:
                self.settings[subentry_id] = VehicleSettings.from_dict(saved[subentry_id])
            else:
                self.settings[subentry_id] = VehicleSettings(target=vehicle.default_target)
        await self.audit.async_load()
        options = self.premise.entry.options
        if entry_id := options.get(CONF_SOLAR_FORECAST):
            self.solar = SolarSource(
                self.hass,
                entry_id,
                float(options.get(CONF_SOLAR_BASE_LOAD, DEFAULT_SOLAR_BASE_LOAD_KW)),
            )
            self._unsubscribers.append(async_at_started(self.hass, self._async_update_solar))
            self._unsubscribers.append(
                async_track_time_interval(self.hass, self._async_update_solar, SOLAR_REFRESH)
            )
        self._unsubscribers.append(self.events.add_listener(lambda _reason: self.schedule()))

    def session_resumed(self, runtime: ChargerRuntime) -> None:
        """A session resumed after a restart: the user's pause holds."""
        session = runtime.session
        if session is not None and session.pause_reason is PauseReason.USER:
            self.user_paused.add(session.session_id)

    async def async_park_idle(self, _hass: HomeAssistant | None = None) -> None:
        """At start (the sessions resumed), park the idle chargers of a shared circuit."""
        if self.circuit_kw() is None:
            return
        for runtime in list(self.premise.chargers.values()):
            await self.controller.async_park(runtime)

    @property
    def solar_forecast(self) -> SolarForecast | None:
        """The surplus forecast for the solar mode (None: the mode is planned as cheapest)."""
        return self.solar.forecast if self.solar is not None else None

    async def _async_update_solar(self, _trigger: HomeAssistant | datetime | None = None) -> None:
        """Refresh the solar forecast (called at start with ``hass``, then with the time)."""
        if self.solar is not None and await self.solar.async_update():
            self.schedule()

    async def async_stop(self) -> None:
        """Stop the timers and the run in progress (at unload); commands in flight finish
        first (see :meth:`ChargerController.async_close`)."""
        self._runner.stop()
        if self._timer is not None:
            self._timer()
            self._timer = None
        while self._unsubscribers:
            self._unsubscribers.pop()()
        await self.controller.async_close()
        await self._runner.async_cancel()

    @property
    def _stopped(self) -> bool:
        return self._runner.stopped

    def compute(self, inputs: PlanInputs, now: datetime) -> Plan:
        """Run the planner (in the executor: it takes milliseconds to a few hundred)."""
        return plan(
            inputs.requests,
            now=now,
            tariff=inputs.tariff,
            caps=inputs.caps,
            circuit_kw=inputs.circuit_kw,
            solar=inputs.solar,
            horizon=timedelta(hours=PLAN_HORIZON_HOURS),
            tz=dt_util.get_default_time_zone(),
        )

    # -- running --------------------------------------------------------------------------

    @callback
    def schedule(self) -> None:
        """Replan if needed and apply, soon (coalesced: one run at a time)."""
        self._runner.schedule()

    async def async_run_now(self) -> dict[str, str]:
        """Run now (after the run in progress, coalesced) and return the command errors of
        the last pass, by charger ID."""
        self.schedule()
        await self._runner.async_wait()
        return dict(self.last_errors)

    async def _async_pass(self) -> None:
        self.last_errors = await self.async_refresh()

    async def async_refresh(self, now: datetime | None = None) -> dict[str, str]:
        """Verify past commands, replan when needed, and apply the limits to every charger."""
        now = now or dt_util.utcnow()
        chargers = list(self.premise.chargers.values())
        shown = self._shown()
        self.audit.verify(chargers, now)
        self._forget_learned(now)
        inputs, departures = self.current_inputs(now)
        if not inputs.requests:
            self.plan, self.inputs, self.reason = None, None, None
            self.departures = {}
        else:
            # A vehicle already planned at what it was seen to take (at least the charger's
            # least power) is nothing new: learning it again each tick would replan every 5 s.
            measured = {
                cid: kw for cid, kw in self._measured(now).items() if not self._known_slow(cid, kw)
            }
            reason = needs_replan(
                self.inputs,
                inputs,
                current=self.plan,
                now=now,
                measured_kw=measured,
                power_tolerance_kw=UNDER_DELIVERY_TOLERANCE_KW,
                energy_step_kwh=self.soc_step_kwh(),  # a whole-percent sensor: no replan a step
            )
            if reason is not None and reason.startswith("under-delivery: "):
                self._learn(reason.removeprefix("under-delivery: "), measured, now)
                inputs, departures = self.current_inputs(now)
            if reason is not None or self.plan is None:
                await self._async_replan(inputs, departures, reason, now)
                if self._stopped:
                    return {}
                now = dt_util.utcnow()  # the plan may have taken a while off the loop
        await self.async_feed(now)  # the feeding sessions' plan (when due)
        if self._stopped:
            return {}
        targets = [self.target(r, now) for r in chargers if r.session is not None]
        for target in targets:  # consumed now: what a user asks during the await is kept
            self._force.discard(target.charger_id)
            self._next_source.pop(target.charger_id, None)
            if not self.premise.chargers[target.charger_id].adapter.controllable:
                self.premise.chargers[target.charger_id].cap_kw = target.cap_kw
        errors = await self.controller.async_apply(
            [t for t in targets if self.premise.chargers[t.charger_id].adapter.controllable], now
        )
        self._schedule_timer(now)
        if self._shown() != shown:  # most ticks change nothing the entities show
            self.premise.changed()
        return errors

    def _shown(self) -> tuple[int, tuple[int, int], tuple[float | None, ...]]:
        """What the entities show of this run: the command trail, the plan, the limits."""
        limits = tuple(r.cap_kw for r in self.premise.chargers.values())
        return self.audit.changes, (id(self.plan), id(self.feed_result)), limits

    async def _async_replan(
        self,
        inputs: PlanInputs,
        departures: dict[str, datetime | None],
        reason: str | None,
        now: datetime,
    ) -> None:
        _LOGGER.debug("Replanning: %s", reason)
        delays = dict(self._delays)
        try:
            if _small(inputs):  # a few milliseconds: not worth a thread hop
                new, delays = self._plan_with_spread(inputs, now, delays)
            else:
                new, delays = await self.hass.async_add_executor_job(
                    self._plan_with_spread, inputs, now, delays
                )
        except PlanningError:
            # A planner bug must not stop charging: the last plan (if any) goes on being
            # applied, and the next change tries again.
            _LOGGER.exception("The charging plan could not be computed; please report")
            return
        self.plans_computed += 1
        self.plan, self.inputs, self.reason = new, inputs, reason
        self.departures, self._delays = departures, delays
        for runtime in self.premise.chargers.values():
            d = self.plan_dict(runtime)
            for listener in self.on_planned:
                listener(runtime, d)

    def _plan_with_spread(
        self, inputs: PlanInputs, now: datetime, kept: dict[str, tuple[datetime, timedelta]]
    ) -> tuple[Plan, dict[str, tuple[datetime, timedelta]]]:
        """The plan, with starts at a shared price or event boundary delayed by a random time.

        A vehicle whose plan starts after ``now`` (at a boundary many homes share) gets a
        random delay in ``[0, spread]``, drawn once per boundary and kept while it runs; the
        plan is then computed again with the vehicle held at 0 kW over the delay, so the energy
        moves where it costs least and the target stays reachable whenever it can be.
        """
        first = self.compute(inputs, now)
        minutes = float(
            self.premise.entry.options.get(CONF_START_DELAY, DEFAULT_START_DELAY_MINUTES)
        )
        delays: dict[str, tuple[datetime, timedelta]] = {}
        for vid, vp in first.vehicles.items():
            held = kept.get(vid)
            if vp.start is not None and vp.start > now:
                if held is None or held[0] != vp.start:
                    spread = self.events.start_spread(vp.start) or timedelta(minutes=minutes)
                    held = (vp.start, spread * self.rng.random())
                delays[vid] = held
            elif held is not None and held[0] <= now < held[0] + held[1]:
                delays[vid] = held  # inside the delay drawn earlier: it holds
        holds = tuple(
            PowerCap(max(start, now), start + delay, 0.0, RANDOM_START_CAP, frozenset({vid}))
            for vid, (start, delay) in delays.items()
            if start + delay > max(start, now)
        )
        if not holds:
            return first, delays
        return self.compute(replace(inputs, caps=inputs.caps + holds), now), delays

    def target(self, runtime: ChargerRuntime, now: datetime) -> Target:
        """The effective limit of a charger with a session now (see the module docstring)."""
        session, adapter = runtime.session, runtime.adapter
        assert session is not None
        found = self.events.limit_now(
            session.pev_id, now, adapter.max_power_kw(), adapter.min_power_kw()
        )
        cap = found[0] if found is not None else None
        force = runtime.charger_id in self._force
        if session.session_id in self.user_paused:
            return Target(runtime.charger_id, 0.0, SOURCE_USER, PauseReason.USER, cap, force)
        circuit = self.effective_circuit_kw(now)
        failsafe = self.failsafe_now(now)
        charge_now = session.session_id in self.overrides
        if not charge_now and (fed := self.feed_target(runtime, now, cap, circuit, force)):
            return fed  # a feeding session: its feed plan (.feed)
        if circuit is None and (charge_now or self.mode_of(runtime) is ChargeMode.IMMEDIATE):
            power, source = adapter.max_power_kw(), SOURCE_USER if charge_now else SOURCE_PLAN
        else:
            vp = self.plan.vehicles.get(runtime.charger_id) if self.plan is not None else None
            power, source = (vp.power_at(now) if vp is not None else 0.0), SOURCE_PLAN
            if circuit is not None:
                power = min(power, circuit)
        # The limit holds the charger back when the power would reach it (at the charger's
        # own current steps: the plan may already sit just below the limit for that reason).
        if cap is not None and power >= adapter.kw_at(adapter.amps_for(cap)) - 1e-6:
            power, source = min(power, cap), SOURCE_EVENT
        full = charge_now or self.mode_of(runtime) is ChargeMode.IMMEDIATE
        if source in (SOURCE_PLAN, SOURCE_USER) and _held(adapter, failsafe, power, full=full):
            source = SOURCE_FAILSAFE  # the plan shares the utility's fail-safe limit
        pause = None
        if power <= 0 or power < adapter.min_power_kw() - 1e-6:
            held = source in (SOURCE_EVENT, SOURCE_FAILSAFE)
            pause = PauseReason.EVENT if held else PauseReason.PLAN
        source = self._next_source.get(runtime.charger_id, source)
        if force:
            source = SOURCE_USER
        return Target(runtime.charger_id, power, source, pause, cap, force)

    def _schedule_timer(self, now: datetime) -> None:
        """Wake up at the next slot boundary of the plan (event boundaries wake the program's
        events' own timer) or when a learned limit ends."""
        times: list[datetime] = []
        if self.plan is not None:
            times.extend(
                t
                for vp in self.plan.vehicles.values()
                for s in vp.slots
                for t in (s.start, s.end)
                if t > now
            )
        times.extend(until for _kw, until in self.learned.values() if until > now)
        times.extend(t for t in self.feed_wakeups(now) if t > now)
        wake = min(times) if times else None
        if wake == self._timer_at and self._timer is not None:
            return
        if self._timer is not None:
            self._timer()
            self._timer = None
        self._timer_at = wake
        if wake is not None and not self._stopped:
            self._timer = async_track_point_in_utc_time(self.hass, self._on_timer, wake)

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._timer = None
        self._timer_at = None
        self.schedule()

    @callback
    def _retry_other_way(self, runtime: ChargerRuntime) -> None:
        """A command was ignored and another way of sending it exists: send it again."""
        self.controller.forget(runtime)
        self.schedule()

    # -- the user's actions -----------------------------------------------------------------

    async def async_set_charging_enabled(self, runtime: ChargerRuntime, enabled: bool) -> None:
        """Pause (by the user) or resume charging; raises when the charger refuses."""
        session = runtime.session
        if session is None:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_session")
        before = session.session_id in self.user_paused
        if enabled:
            self.user_paused.discard(session.session_id)
        else:
            self.user_paused.add(session.session_id)
        await self._async_user_command(
            runtime, lambda: _restore(self.user_paused, session.session_id, before)
        )

    async def async_charge_now(self, runtime: ChargerRuntime) -> None:
        """Clear any pause and charge at once (within the limits in force and the circuit)."""
        session = runtime.session
        if session is None:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_session")
        paused = session.session_id in self.user_paused
        overridden = session.session_id in self.overrides
        self.user_paused.discard(session.session_id)
        self.overrides.add(session.session_id)

        def _undo() -> None:
            _restore(self.user_paused, session.session_id, paused)
            _restore(self.overrides, session.session_id, overridden)

        await self._async_user_command(runtime, _undo)

    async def _async_user_command(self, runtime: ChargerRuntime, undo: Callable[[], None]) -> None:
        self._force.add(runtime.charger_id)
        errors = await self.async_run_now()
        if (error := errors.get(runtime.charger_id)) is not None:
            undo()
            self.premise.changed()
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_failed",
                translation_placeholders={"charger": runtime.name, "error": error},
            )

    def charging_enabled(self, runtime: ChargerRuntime) -> bool:
        """False while the user has paused charging."""
        session = runtime.session
        return not (session is not None and session.session_id in self.user_paused)

    @callback
    def opt_out(self, runtime: ChargerRuntime, *, confirm: bool = False) -> list[str]:
        """Opt the charger's session out of the events in force (not of mandatory ones)."""
        session = runtime.session
        # The commands that follow are the user's (set first: the change runs the plan at once).
        self._next_source[runtime.charger_id] = SOURCE_USER
        try:
            ids = self.events.opt_out(session.pev_id if session else None, confirm=confirm)
        except BaseException:
            self._next_source.pop(runtime.charger_id, None)
            raise
        self.schedule()
        return ids

    def opted_out_now(self, runtime: ChargerRuntime) -> bool:
        """True when the user opted out of every load-control event in force on the session."""
        session = runtime.session
        return session is not None and self.events.opted_out_now(session.pev_id)

    def consequences(self, runtime: ChargerRuntime) -> list[str]:
        """What opting out of the events in force costs, as their programs declare it."""
        session = runtime.session
        return self.events.consequences(session.pev_id if session else None)

    # -- as a listener of the sessions -----------------------------------------------------

    def session_started(self, runtime: ChargerRuntime, session: ChargingSession) -> None:
        """A vehicle plugged in: plan it."""
        self.schedule()

    def session_bound(self, runtime: ChargerRuntime, session: ChargingSession) -> None:
        """The binding decides the session's tariff: plan again."""
        self.schedule()

    def session_ended(
        self,
        runtime: ChargerRuntime,
        session: ChargingSession,
        intervals: list[Interval] | None = None,
        summary: SessionSummary | None = None,
    ) -> None:
        """Drop the session's choices and memory; replan for the others; park the charger."""
        self.overrides.discard(session.session_id)
        self.user_paused.discard(session.session_id)
        self.learned.pop(session.session_id, None)
        self._delays.pop(runtime.charger_id, None)
        self._force.discard(runtime.charger_id)
        self.controller.session_ended(runtime)
        self.audit.forget(session)
        self.schedule()
        if self.circuit_kw() is not None:
            self.premise.entry.async_create_task(
                self.hass, self.controller.async_park(runtime), "pev_portal_park"
            )

    async def async_preview(
        self, runtime: ChargerRuntime, settings: VehicleSettings | None = None
    ) -> dict[str, Any] | None:
        """The plan the session would get (with other settings), without applying it."""
        now = dt_util.utcnow()
        inputs, departures = self.build_inputs(
            now, {runtime.charger_id: settings} if settings is not None else None
        )
        if not inputs.requests:
            return None
        computed = await self.hass.async_add_executor_job(self.compute, inputs, now)
        result = self.plan_dict(runtime, computed, departures)
        if result is not None:
            result = await self.async_feed_preview(runtime, settings, result, now)
        if result is not None and settings is not None:
            result["mode"] = settings.mode.value
        return result

    def diagnostics(self) -> dict[str, Any]:
        """The controller's state, for diagnostics (no identifiers)."""
        return {
            "settings": {sid: s.to_dict() for sid, s in self.settings.items()},
            "last_replan": self.reason,
            "plans_computed": self.plans_computed,
            "planned_vehicles": len(self.plan.vehicles) if self.plan is not None else 0,
            "charge_now_sessions": len(self.overrides),
            "learned_limits_kw": [round(kw, 3) for kw, _ in self.learned.values()],
            "start_delays_s": [d.total_seconds() for _, d in self._delays.values()],
            "solar": self.solar.diagnostics() if self.solar is not None else None,
            "command_failures": dict(self.controller.failures),
            "feed_plans_computed": self.feed_runs,
            "feeding_vehicles": len(self.feed_result.plans) if self.feed_result else 0,
        }


def _small(inputs: PlanInputs) -> bool:
    """Whether planning is cheap enough for the event loop (a few milliseconds at most).

    Measured with ``scripts/bench_loop.py`` over the 48-hour horizon: up to four vehicles
    without a shared circuit plan in under 13 ms at worst (random start included); on a
    shared circuit even two vehicles took 371 ms at worst (the executable step's repair
    passes), so every shared circuit is planned in the executor.
    """
    return inputs.circuit_kw is None and len(inputs.requests) <= 4


def _held(
    adapter: ChargerAdapter, failsafe: FailsafeState | None, power: float, *, full: bool
) -> bool:
    """Whether the fail-safe limit is what holds a charger at ``power``: below its full power,
    and the limit forbids charging at all, or the mode wants full power, or it charges (a plan
    waiting for cheaper hours is the plan's, not the fail-safe's)."""
    if failsafe is None or failsafe.limit_kw is None or power >= adapter.max_power_kw() - 1e-6:
        return False
    return failsafe.limit_kw < adapter.min_power_kw() - 1e-6 or full or power > 0


def _restore(found: set[str], key: str, present: bool) -> None:
    if present:
        found.add(key)
    else:
        found.discard(key)
