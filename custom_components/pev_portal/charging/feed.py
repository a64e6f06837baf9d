"""Power feed (V2H/V2G) in smart charging: which sessions feed, their feed plan, and what a
feeding charger is allowed now (issue #18; docs/power-feed.md, "Planner wiring").

A mixin of :class:`.planning.SmartCharging`. A session feeds when its vehicle's power-feed
setting is on, the charge mode plans (``cheapest`` or ``solar``), "charge now" is off, the
charger can discharge (``adapter.can_discharge()``; the demo's car too), and the battery's
capacity and state of charge are known (the vehicle's or the demo car's). Every other session
is planned by the charging planner as before and is never fed.

The charging planner still plans every session (a feeding one with the energy its target
wants), so the circuit is shared as before; the feed planner (:func:`..core.planner_feed.
plan_feed`, in the executor, its rounds bounded) then gives each feeding charger its charge and
discharge per slot. Its charge power stays within the load-control limit, the circuit's share
the others leave (the circuit minus their planned power now; the utility's fail-safe limit
lowers the circuit) and "charging enabled"; its discharge is bounded by nothing of those (an
import limit does not limit feeding). A feed planner error (or any exception) is logged and
the session falls back to its charging plan: it never stops charging.

The feed plan is made again when the planner's inputs are built again (the power-feed
settings and the export signals are in their key), when the charging plan is, and every
:data:`FEED_REFRESH` (the home's load and the state of charge are read then).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..const import CONF_HOME_LOAD_ENTITY
from ..core.planner import ChargeMode, Plan
from ..core.planner_feed import (
    DEFAULT_CHARGE_EFFICIENCY,
    DEFAULT_DISCHARGE_EFFICIENCY,
    DEFAULT_WEAR_COST_PER_KWH,
    FeedError,
)
from ..core.session import PauseReason
from ..ports import Premise
from ..program_events import ProgramEvents
from ..runtime import ChargerRuntime, Vehicle
from .controller import SOURCE_EVENT, SOURCE_FAILSAFE, SOURCE_PLAN, SOURCE_USER, Target
from .feed_build import Candidate, FeedResult, build, plan_groups, power_kw
from .feed_text import feed_summary
from .settings import VehicleSettings, next_departure, state_of_charge

if TYPE_CHECKING:
    from ..core.failsafe import FailsafeState
    from ..core.planner import ChargerModel

_LOGGER = logging.getLogger(__name__)
FEED_REFRESH = timedelta(minutes=15)
_TICK = timedelta(seconds=1)
# Dantzig-Wolfe rounds at most (several feeding vehicles with binding cycle budgets; the plan
# then says its proven gap): bounded so that a plan takes well under a second (bench_feed.py).
FEED_MAX_ROUNDS = 40
_EPS = 1e-6


class FeedPlanning:
    """The power-feed side of smart charging (see the module docstring)."""

    premise: Premise
    hass: HomeAssistant
    events: ProgramEvents
    settings: dict[str, VehicleSettings]
    overrides: set[str]
    plan: Plan | None
    plans_computed: int
    inputs_built: int
    feed_result: FeedResult | None
    feed_why: dict[str, str]
    feed_runs: int
    _feed_mark: tuple[int, int, datetime] | None
    _next_source: dict[str, str]

    if TYPE_CHECKING:  # defined by the other parts of SmartCharging (no stubs at run time)

        @property
        def _stopped(self) -> bool: ...

        def vehicle_of(self, runtime: ChargerRuntime) -> Vehicle | None:
            """The registered vehicle of the charger's session."""
            ...

        def settings_of(self, vehicle: Vehicle | None) -> VehicleSettings:
            """A vehicle's settings."""
            ...

        def charger_model(self, runtime: ChargerRuntime) -> ChargerModel:
            """What the charger can do."""
            ...

        def circuit_kw(self) -> float | None:
            """The circuit limit in kW."""
            ...

        def failsafe_now(self, now: datetime) -> FailsafeState | None:
            """The utility's fail-safe limit in force."""
            ...

        def plan_dict(
            self,
            runtime: ChargerRuntime,
            p: Plan | None = None,
            departures: dict[str, datetime | None] | None = None,
        ) -> dict[str, Any] | None:
            """The plan in the dashboard's shape."""
            ...

    on_planned: list[Any]

    # -- which sessions feed ------------------------------------------------------------------

    def feed_candidates(
        self, now: datetime, overrides: dict[str, VehicleSettings] | None = None
    ) -> tuple[list[Candidate], dict[str, str]]:
        """The sessions that may feed, and why the others whose power feed is on do not
        (``overrides``: settings per charger, for a preview)."""
        found: list[Candidate] = []
        why: dict[str, str] = {}
        for runtime in self.premise.chargers.values():
            session = runtime.session
            vehicle = self.vehicle_of(runtime)
            settings = (overrides or {}).get(runtime.charger_id) or self.settings_of(vehicle)
            if session is None or vehicle is None or not settings.power_feed:
                continue
            candidate = self._candidate(runtime, vehicle, settings, now)
            if isinstance(candidate, str):
                why[runtime.charger_id] = candidate
            else:
                found.append(candidate)
        return found, why

    def _candidate(
        self, runtime: ChargerRuntime, vehicle: Vehicle, settings: VehicleSettings, now: datetime
    ) -> Candidate | str:
        session, adapter = runtime.session, runtime.adapter
        assert session is not None
        if session.session_id in self.overrides:
            return "charge now: no power feed"
        if settings.mode not in (ChargeMode.CHEAPEST, ChargeMode.SOLAR):
            return "power feed plans in the cheapest or solar mode only: charging only"
        car = runtime.demo.evse.car if runtime.demo is not None else None
        max_discharge = adapter.max_discharge_kw() if adapter.can_discharge() else 0.0
        if car is not None:
            max_discharge = min(max_discharge, car.max_discharge_kw if car.bidirectional else 0.0)
        if max_discharge <= 0:
            return "the charger or the car cannot feed back: charging only"
        capacity = vehicle.capacity_kwh or (car.capacity_kwh if car is not None else None)
        if not capacity:
            return "the battery's capacity is unknown: charging only"
        soc = state_of_charge(self.hass, runtime, vehicle)
        if soc is None:
            return "the state of charge is unknown: charging only"
        max_charge = self.charger_model(runtime).max_kw
        if (circuit := self.circuit_kw()) is not None:
            max_charge = min(max_charge, circuit)
        floor = settings.floor
        eta_c, eta_d = DEFAULT_CHARGE_EFFICIENCY, DEFAULT_DISCHARGE_EFFICIENCY
        if car is not None:
            floor = max(floor, car.min_soc * 100.0)  # the car's own reserve
            eta_c, eta_d = car.charge_efficiency, car.discharge_efficiency
        caps = tuple(
            (c.start, c.end, c.max_kw)
            for c in self.events.caps(
                session.pev_id, runtime.charger_id, adapter.max_power_kw(), adapter.min_power_kw()
            )
            if c.vehicle_ids is None or runtime.charger_id in c.vehicle_ids
        )
        return Candidate(
            charger_id=runtime.charger_id,
            tariff=self.events.tariff_of(runtime),
            capacity_kwh=float(capacity),
            soc=soc,
            floor_pct=floor,
            target_pct=100.0 if settings.target is None else settings.target,
            departure=next_departure(settings, now),
            max_charge_kw=max(0.0, max_charge),
            max_discharge_kw=max_discharge,
            charge_efficiency=eta_c,
            discharge_efficiency=eta_d,
            wear=DEFAULT_WEAR_COST_PER_KWH if settings.wear_cost is None else settings.wear_cost,
            cycles_per_day=settings.cycles_per_day,
            caps=caps,
        )

    def feed_inputs_key(self, now: datetime) -> tuple[Any, ...]:
        """What of the power feed the planner's inputs key holds: the export signals over the
        day and the next, and whether the home's load is known (only when a vehicle's power
        feed is on; nothing otherwise). A home-load sensor turning unknown mid-feed replans at
        the next tick: a feed planned as home load + export limit must not go on above the
        limit until the 15-minute refresh."""
        if not any(s.power_feed for s in self.settings.values()):
            return ()
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        end = day + timedelta(days=2)
        home = self.premise.entry.options.get(CONF_HOME_LOAD_ENTITY)
        return (
            tuple(self.events.export_prices(day, end)),
            tuple(self.events.export_limits(day, end)),
            power_kw(self.hass, home) is not None,
        )

    # -- planning ---------------------------------------------------------------------------

    async def async_feed(self, now: datetime) -> None:
        """Make the feed plan again when it is due (see the module docstring)."""
        if self.feed_result is None and not any(s.power_feed for s in self.settings.values()):
            self.feed_why = {}
            return
        mark = self._feed_mark
        if (
            mark is not None
            and mark[:2] == (self.inputs_built, self.plans_computed)
            and now < mark[2] + FEED_REFRESH
        ):
            return
        self._feed_mark = (self.inputs_built, self.plans_computed, now)
        before = self.feed_result
        candidates, why = self.feed_candidates(now)
        result = await self._async_plan(candidates, why, now)
        if result is not None:
            self.feed_runs += 1
        if self._stopped:
            return
        self.feed_result, self.feed_why = result, why
        if result is None and before is None:
            return
        changed = set(result.plans if result else ()) | set(before.plans if before else ())
        for cid in sorted(changed):
            runtime = self.premise.chargers.get(cid)
            if runtime is not None:
                d = self.plan_dict(runtime)
                for listener in self.on_planned:
                    listener(runtime, d)

    async def _async_plan(
        self, candidates: list[Candidate], why: dict[str, str], now: datetime
    ) -> FeedResult | None:
        """The feed plan of the candidates (None: none, or it failed: then ``why`` says so)."""
        if not candidates:
            return None
        end = max(c.departure for c in candidates)
        try:
            inputs = build(
                candidates,
                now,
                self.events.export_prices(now, end),
                self.events.export_limits(now, end),
                power_kw(self.hass, self.premise.entry.options.get(CONF_HOME_LOAD_ENTITY)),
            )
            plans, gap = await self.hass.async_add_executor_job(
                plan_groups, inputs, FEED_MAX_ROUNDS
            )
        except FeedError as err:
            _LOGGER.warning("The power-feed plan could not be made (charging only): %s", err)
        except Exception:  # a planner bug must not stop charging
            _LOGGER.exception("The power-feed plan failed (charging only); please report")
        else:
            return FeedResult(
                made_at=now,
                bounds=inputs.bounds,
                plans=plans,
                candidates={c.charger_id: c for c in candidates},
                import_price=inputs.import_price,
                export_price=inputs.export_price,
                gap=gap,
            )
        why.update(dict.fromkeys((c.charger_id for c in candidates), _FAILED))
        return None

    async def async_feed_preview(
        self,
        runtime: ChargerRuntime,
        settings: VehicleSettings | None,
        view: dict[str, Any],
        now: datetime,
    ) -> dict[str, Any]:
        """A preview's plan (``view``, charging only) with the feed plan the session would get
        with ``settings`` (the other sessions as they are)."""
        overrides = {runtime.charger_id: settings} if settings is not None else None
        candidates, why = self.feed_candidates(now, overrides)
        if runtime.charger_id in why:
            view["reason"] = "; ".join(t for t in (why[runtime.charger_id], view["reason"]) if t)
        if all(c.charger_id != runtime.charger_id for c in candidates):
            return view
        result = await self._async_plan(candidates, why, now)
        if result is None:
            view["reason"] = "; ".join(t for t in (_FAILED, view["reason"]) if t)
            return view
        return feed_summary(result, runtime.charger_id, view, _tz())

    def feeding(self, charger_id: str) -> bool:
        """Whether the charger's session is planned by the feed planner."""
        return self.feed_result is not None and charger_id in self.feed_result.plans

    def feed_dispatch(self, charger_id: str) -> list[tuple[datetime, datetime, float]]:
        """The power-feed plan of the charger's session: per slot (start, end, net kW; below
        zero: fed back). Empty when the session does not feed."""
        return self.feed_result.dispatch(charger_id) if self.feed_result is not None else []

    def feed_wakeups(self, now: datetime) -> list[datetime]:
        """When the feed plan changes a charger's power, and when it is made again."""
        if self.feed_result is None:
            return []
        return [*self.feed_result.wakeups(now), self.feed_result.made_at + FEED_REFRESH]

    # -- what a feeding charger is allowed now ------------------------------------------------

    def feed_target(
        self,
        runtime: ChargerRuntime,
        now: datetime,
        cap: float | None,
        circuit: float | None,
        force: bool,
    ) -> Target | None:
        """A feeding charger's target now (None: not feeding now, the charging plan's rules
        apply). Charge and discharge in one slot are netted: never both."""
        kw = self.feed_result.kw_at(runtime.charger_id, now) if self.feed_result else None
        if kw is None:
            return None
        adapter, cid = runtime.adapter, runtime.charger_id
        net = kw[0] - kw[1]
        source = SOURCE_PLAN
        if net < -_EPS and adapter.can_discharge():
            feed = min(-net, adapter.max_discharge_kw(), self._feed_allowance(runtime, now))
            feed = round(max(0.0, feed), 3)
            source = SOURCE_USER if force else self._next_source.get(cid, source)
            if feed <= _EPS:  # nothing may be fed now: paused, as a plan that waits
                return Target(cid, 0.0, source, PauseReason.PLAN, cap, force)
            return Target(cid, 0.0, source, None, cap, force, discharge_kw=feed)
        power = max(0.0, net)
        if circuit is not None:
            others = sum(
                self._planned_kw(r, now) for r in self.premise.chargers.values() if r is not runtime
            )
            if power > circuit - others + _EPS:
                power = max(0.0, circuit - others)
                if self.failsafe_now(now) is not None:
                    source = SOURCE_FAILSAFE
        if cap is not None and power >= adapter.kw_at(adapter.amps_for(cap)) - _EPS:
            power, source = min(power, cap), SOURCE_EVENT
        pause = None
        if power <= 0 or power < adapter.min_power_kw() - _EPS:
            held = source in (SOURCE_EVENT, SOURCE_FAILSAFE)
            pause = PauseReason.EVENT if held else PauseReason.PLAN
        source = SOURCE_USER if force else self._next_source.get(cid, source)
        return Target(cid, power, source, pause, cap, force)

    def _feed_allowance(self, runtime: ChargerRuntime, now: datetime) -> float:
        """The most the charger may feed now, read live at every tick: the home's load now
        plus the export limit in force now, less what the other feeding chargers are planned
        to feed now (inf: no export limit). The plan keeps the limit over its slots; this keeps
        it between plans, when the home's load falls (a load the plan counted on is then
        exported) or a limit begins."""
        limits = [kw for a, b, kw in self.events.export_limits(now, now + _TICK) if a <= now < b]
        if not limits:
            return float("inf")
        home = power_kw(self.hass, self.premise.entry.options.get(CONF_HOME_LOAD_ENTITY))
        others = 0.0
        if self.feed_result is not None:
            for cid in self.feed_result.plans:
                kw = self.feed_result.kw_at(cid, now) if cid != runtime.charger_id else None
                if kw is not None:
                    others += max(0.0, kw[1] - kw[0])
        return max(0.0, (home or 0.0) + min(limits) - others)

    def _planned_kw(self, runtime: ChargerRuntime, now: datetime) -> float:
        """The charge power planned for a charger now (its feed plan's, else its charging
        plan's)."""
        if runtime.session is None:
            return 0.0
        if self.feed_result is not None and (kw := self.feed_result.kw_at(runtime.charger_id, now)):
            return max(0.0, kw[0] - kw[1])
        vp = self.plan.vehicles.get(runtime.charger_id) if self.plan is not None else None
        return vp.power_at(now) if vp is not None else 0.0

    # -- views ------------------------------------------------------------------------------

    def feed_view(self, runtime: ChargerRuntime, view: dict[str, Any]) -> dict[str, Any]:
        """The dashboard's plan with the feed plan (each slot's ``feed_kw``, the ``feed``
        object, the reason); unchanged but for ``feed_kw: 0`` and ``feed: None`` when the
        session does not feed."""
        result = self.feed_result
        cid = runtime.charger_id
        if result is None or cid not in result.plans:
            for slot in view["slots"]:
                slot["feed_kw"] = 0.0
            view["feed"] = None
            if (why := self.feed_why.get(cid)) is not None:
                view["reason"] = "; ".join(t for t in (why, view["reason"]) if t)
            return view
        return feed_summary(result, cid, view, _tz())


def _tz() -> tzinfo:
    return dt_util.get_default_time_zone()


_FAILED = "the power-feed plan failed: charging only"
