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
* ``solar``: the forecast surplus (see :mod:`.solar`: the options' forecast integration minus the
  home's base load) is free and used first; grid energy only as needed for the target by the
  departure, cheapest first. Without a forecast it is planned like ``cheapest``.
* ``off``: no charging.
* A circuit limit (the option ``circuit_limit_a``: amps per phase shared by all the premise's
  chargers) is the planner's ``circuit_kw``: the amps times the chargers' phases x voltage (the
  smallest of them when the chargers differ, which is safe on every phase). With it the
  ``immediate`` vehicles and the "charge now" sessions follow the plan too (as soon as possible,
  "charge now" first, then the earliest plugged-in), so the chargers' commanded powers never add up to more than
  the limit; chargers being turned down are commanded before those being turned up.
* "Charge now" overrides the plan for the rest of the session; the user's pause (the "Charging
  enabled" switch) and a utility cap that stops charging (``PauseReason.EVENT``) are left alone.
* The energy wanted: with a battery capacity the target is a state of charge in %; the vehicle's
  state of charge comes from its battery sensor (the vehicle's "state of charge sensor", e.g. from
  the car's own integration; the demo car reports its own). While that sensor is unknown or
  unavailable, the target is read as the energy to add in the session (target % of the
  capacity). Without a capacity the target is in kWh to add. A change of the sensor replans.
  Without a target: a full battery (the capacity, else :data:`DEFAULT_ENERGY_KWH`).

* Random start: a planned charge that would start at a price or event boundary (after the plan
  was made) starts up to ``start_delay_minutes`` (option, default 10) later, drawn at random once
  per boundary, so that the homes of a program do not all start at once; the ``randomizeStart``
  of a utility event whose boundary it is wins. The delay is a 0 kW hold in the plan (the
  planner moves the energy to the next cheapest time), so a reachable target stays reachable.
  Charging that starts at once is never delayed.
* A vehicle that takes less than planned (measured power more than 0.5 kW below the plan, once
  the last command was obeyed at least :data:`VERIFY_SECONDS` ago) is planned at what it takes
  for :data:`LEARNED_LIMIT_MINUTES`, then at the charger's full power again (the car's own
  limit, a cold battery, or the taper near full all show up this way).

Every command (source ``plan``, ``event`` or ``user``) is kept in an audit trail with the power
measured by the charger afterwards: a command is obeyed once the power is at or below the
commanded power (plus a tolerance); still above it :data:`VERIFY_SECONDS` later, the charger
ignored it and a repairs issue is raised (cleared by the next obeyed command). The trail is kept
in memory while the session runs and with the session in the store's ``commands`` table (written
at each command and each verification; read back for the open sessions after a restart).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_time_interval,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.util import dt as dt_util

from .adapters import EntityCharger
from .const import (
    CONF_CIRCUIT_LIMIT,
    CONF_CURRENT_ENTITY,
    CONF_SOLAR_BASE_LOAD,
    CONF_SOLAR_FORECAST,
    CONF_START_DELAY,
    DEFAULT_DEPARTURE,
    DEFAULT_ENERGY_KWH,
    DEFAULT_SOLAR_BASE_LOAD_KW,
    DEFAULT_START_DELAY_MINUTES,
    DOMAIN,
    ISSUE_IGNORES_COMMANDS,
    LEARNED_LIMIT_MINUTES,
    METER_UNVERIFIED_SECONDS,
    PLAN_HORIZON_HOURS,
    RANDOM_START_CAP,
    VERIFY_SECONDS,
    VERIFY_TOLERANCE_KW,
)
from .core.planner import (
    ChargeMode,
    ChargerModel,
    Plan,
    PlanInputs,
    PlanningError,
    PowerCap,
    SolarForecast,
    VehiclePlan,
    VehicleRequest,
    explanation_message,
    needs_replan,
    plan,
)
from .core.session import ChargingSession, PauseReason
from .openadr.models import event_mandatory, opt_out_consequence
from .repairs import async_three_phase_issue
from .solar import REFRESH as SOLAR_REFRESH
from .solar import SolarSource

if TYPE_CHECKING:
    from .coordinator import ChargerRuntime, PevPortalCoordinator, Vehicle
    from .io.store import LedgerStore

_LOGGER = logging.getLogger(__name__)
# How far back the meter is read for what a vehicle takes (no power sensor)
UNDER_DELIVERY_WINDOW = timedelta(minutes=5)
# An on/off charger's learned power holds for the session (its end forgets it); this bounds it
LEARNED_ON_OFF_DAYS = 7

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
        self._parked: dict[str, int] = {}  # idle chargers waiting at their minimum current
        self._next_source: dict[str, str] = {}
        self._running = False
        self._again = False
        self._timer: CALLBACK_TYPE | None = None
        self._timer_at: datetime | None = None
        self._stopped = False
        self.rng = random.Random()
        self._delays: dict[str, tuple[datetime, timedelta]] = {}
        self.solar: SolarSource | None = None
        self._unsubscribers: list[CALLBACK_TYPE] = []
        # session ID -> (kW the vehicle was seen to take, until when it is planned at that)
        self.learned: dict[str, tuple[float, datetime]] = {}

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
        options = self.coordinator.config_entry.options
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

    async def async_park_idle(self, _hass: HomeAssistant | None = None) -> None:
        """At start (the sessions resumed), park the idle chargers of a shared circuit (see
        :meth:`_async_park`)."""
        for runtime in list(self.coordinator.chargers.values()):
            await self._async_park(runtime)

    async def _async_park(self, runtime: ChargerRuntime) -> None:
        """On a shared circuit an idle charger waits at its minimum current: a car plugging in
        then starts small, on top of the others, until the plan (a second later) gives it its
        share, instead of at the charger's full current. A charger that cannot take a current
        limit, or refuses one while idle, is left alone."""
        adapter = runtime.adapter
        if (
            self._stopped
            or self.circuit_kw() is None
            or runtime.session is not None
            or not adapter.sets_current()
        ):
            return
        amps = max(1, int(adapter.min_current_a))
        try:
            await adapter.async_set_current(amps)
        except HomeAssistantError as err:
            _LOGGER.debug("%s: not parked at %s A (%s)", runtime.name, amps, err)
            return
        # Also when a car plugged in meanwhile: what was commanded since (if anything) wins.
        self._parked[runtime.charger_id] = amps
        _LOGGER.debug("%s: idle on a shared circuit, parked at %s A", runtime.name, amps)

    @property
    def solar_forecast(self) -> SolarForecast | None:
        """The surplus forecast for the solar mode (None: the mode is planned as cheapest)."""
        return self.solar.forecast if self.solar is not None else None

    async def _async_update_solar(self, _trigger: HomeAssistant | datetime | None = None) -> None:
        """Refresh the solar forecast (called at start with ``hass``, then with the time)."""
        if self.solar is not None and await self.solar.async_update():
            self.schedule()

    def stop(self) -> None:
        """Stop the timer (at unload)."""
        self._stopped = True
        if self._timer is not None:
            self._timer()
            self._timer = None
        while self._unsubscribers:
            self._unsubscribers.pop()()

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
        self.coordinator.submit(lambda s: s.set_meta(self._meta_key, data))
        self._send_request(vehicle)
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

    def state_of_charge(self, runtime: ChargerRuntime, vehicle: Vehicle | None) -> float | None:
        """The vehicle's state of charge (0-1) now: its battery sensor, or the demo car's."""
        if vehicle is not None and vehicle.soc_entity:
            state = self.hass.states.get(vehicle.soc_entity)
            try:
                value = float(state.state) if state is not None else None
            except ValueError:
                value = None
            if value is not None and 0.0 <= value <= 100.0:
                return value / 100.0
        if runtime.demo is not None and runtime.demo.evse.car is not None:
            return runtime.demo.evse.car.soc
        return None

    def energy_wanted(self, runtime: ChargerRuntime, vehicle: Vehicle | None) -> float:
        """The energy still wanted by the session (see the module docstring)."""
        session = runtime.session
        assert session is not None
        target = self.settings_of(vehicle).target
        capacity = vehicle.capacity_kwh if vehicle is not None else None
        soc = self.state_of_charge(runtime, vehicle)
        if runtime.demo is not None and runtime.demo.evse.car is not None:
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

    def energy_request(self, runtime: ChargerRuntime) -> tuple[float | None, datetime | None]:
        """The session's energy request and departure for the utility (UC133 step 4).

        The departure is known in a planned mode only (``immediate`` has none).
        """
        if runtime.session is None:
            return None, None
        vehicle = self.vehicle_of(runtime)
        settings = self.settings_of(vehicle)
        energy = round(self.energy_wanted(runtime, vehicle), 3)
        if settings.mode in (ChargeMode.IMMEDIATE, ChargeMode.OFF):
            return energy, None
        return energy, self.next_departure(settings, dt_util.utcnow())

    def _send_request(self, vehicle: Vehicle) -> None:
        """Tell the utility the new request of the vehicle's session in progress, if any."""
        link = self.coordinator.link
        if link is None:
            return
        for runtime in self.coordinator.chargers.values():
            session = runtime.session
            if session is None or session.pev_id != vehicle.pev_id or not session.bound:
                continue
            energy, departure = self.energy_request(runtime)
            self.coordinator.config_entry.async_create_background_task(
                self.hass,
                link.async_update_request(
                    pev_id=vehicle.pev_id,
                    max_power_kw=runtime.adapter.max_power_kw(),
                    connection=runtime.connection,
                    energy_request_kwh=energy,
                    departure=departure,
                ),
                "pev_portal_energy_request",
            )

    # -- inputs ---------------------------------------------------------------------------

    def charger_model(self, runtime: ChargerRuntime) -> ChargerModel:
        """What the charger can do, for the planner (with what the vehicle takes, if learned)."""
        adapter = runtime.adapter
        on_off = isinstance(adapter, EntityCharger) and not adapter.config.get(CONF_CURRENT_ENTITY)
        max_kw = adapter.max_power_kw()
        if runtime.session is not None and (seen := self.learned.get(runtime.session.session_id)):
            max_kw = min(max_kw, max(seen[0], adapter.min_power_kw()))
        return ChargerModel(
            max_kw=max_kw,
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

    def circuit_kw(self) -> float | None:
        """The circuit limit shared by all the chargers in kW (None: no limit).

        The amps per phase times the chargers' phases x voltage; when the chargers differ, the
        smallest of those, so that no phase carries more than the limit whatever the chargers'
        wiring (exact for chargers on the same supply, cautious for mixed ones).
        """
        amps = self.coordinator.config_entry.options.get(CONF_CIRCUIT_LIMIT)
        chargers = self.coordinator.chargers.values()
        if not amps or not chargers:
            return None
        volts = min(r.adapter.phases * r.adapter.voltage for r in chargers)
        return float(amps) * volts / 1000.0

    def build_inputs(
        self, now: datetime, overrides: dict[str, VehicleSettings] | None = None
    ) -> PlanInputs:
        """The planner's inputs now (``overrides``: settings per charger, for a preview)."""
        requests: list[VehicleRequest] = []
        caps: list[PowerCap] = self.local_caps(now)
        circuit = self.circuit_kw()
        self.departures = {}
        plugged = [
            (r, r.session) for r in self.coordinator.chargers.values() if r.session is not None
        ]
        runtimes = [runtime for runtime, _ in plugged]
        # Immediate charging on a shared circuit: "charge now", then the earliest plugged-in.
        arrival = [
            runtime
            for runtime, _ in sorted(
                plugged,
                key=lambda pair: (
                    pair[1].session_id not in self.overrides,
                    pair[1].started_at,
                    pair[0].charger_id,
                ),
            )
        ]
        for runtime in runtimes:
            session = runtime.session
            assert session is not None
            vehicle = self.vehicle_of(runtime)
            settings = (overrides or {}).get(runtime.charger_id) or self.settings_of(vehicle)
            mode = settings.mode
            if mode is ChargeMode.SOLAR and self.solar_forecast is None:
                mode = ChargeMode.CHEAPEST  # no solar forecast (none configured, or none now)
            if circuit is not None and session.session_id in self.overrides:
                mode = ChargeMode.IMMEDIATE  # charge now, within the circuit
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
                    priority=len(arrival) - arrival.index(runtime),
                )
            )
            caps.extend(self.utility_caps(runtime, now))
        return PlanInputs(
            tuple(requests),
            self.coordinator.program_tariff,
            tuple(caps),
            circuit,
            self.solar_forecast,
        )

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
            circuit_kw=inputs.circuit_kw,
            solar=inputs.solar,
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
        self._forget_learned(now)
        inputs = self.build_inputs(now)
        if not inputs.requests:
            self.plan, self.inputs, self.reason = None, None, None
        else:
            measured = self._measured(now)
            reason = needs_replan(
                self.inputs, inputs, current=self.plan, now=now, measured_kw=measured
            )
            if reason is not None and reason.startswith("under-delivery: "):
                self._learn(reason.removeprefix("under-delivery: "), measured, now)
                inputs = self.build_inputs(now)
            if reason is not None or self.plan is None:
                _LOGGER.debug("Replanning: %s", reason)
                try:
                    self.plan = self._spread(inputs, self.compute(inputs, now), now)
                except PlanningError:
                    # A planner bug must not stop charging: the last plan (if any) goes on
                    # being applied, and the next change tries again.
                    _LOGGER.exception("The charging plan could not be computed; please report")
                else:
                    self.inputs, self.reason = inputs, reason
                    for runtime in self.coordinator.chargers.values():  # notifications
                        self.coordinator.notifier.plan_computed(runtime, self.plan_dict(runtime))
                    self.coordinator.async_update_listeners()
        for runtime in self._apply_order(now):
            await self._async_apply(runtime, now)
        self._schedule_timer(now)

    def _spread(self, inputs: PlanInputs, p: Plan, now: datetime) -> Plan:
        """Delay starts at a shared price or event boundary by a random time (see module doc).

        A vehicle whose plan starts after ``now`` (at a boundary many homes share) gets a
        random delay in ``[0, spread]``, drawn once per boundary and kept while it runs; the
        plan is then computed again with the vehicle held at 0 kW over the delay, so the energy
        moves where it costs least and the target stays reachable whenever it can be.
        """
        minutes = float(
            self.coordinator.config_entry.options.get(CONF_START_DELAY, DEFAULT_START_DELAY_MINUTES)
        )
        delays: dict[str, tuple[datetime, timedelta]] = {}
        for vid, vp in p.vehicles.items():
            kept = self._delays.get(vid)
            if vp.start is not None and vp.start > now:
                if kept is None or kept[0] != vp.start:
                    spread = self._event_spread(vp.start) or timedelta(minutes=minutes)
                    kept = (vp.start, spread * self.rng.random())
                delays[vid] = kept
            elif kept is not None and kept[0] <= now < kept[0] + kept[1]:
                delays[vid] = kept  # inside the delay drawn earlier: it holds
        self._delays = delays
        holds = tuple(
            PowerCap(max(start, now), start + delay, 0.0, RANDOM_START_CAP, frozenset({vid}))
            for vid, (start, delay) in delays.items()
            if start + delay > max(start, now)
        )
        if not holds:
            return p
        return self.compute(replace(inputs, caps=inputs.caps + holds), now)

    def _event_spread(self, at: datetime) -> timedelta | None:
        """The ``randomizeStart`` of a utility event with a boundary at ``at``, if any."""
        link = self.coordinator.link
        if link is None:
            return None
        spreads = [
            e.randomize_start
            for e in link.timeline.entries
            if e.randomize_start is not None and at in (e.start, e.end)
        ]
        return max(spreads) if spreads else None

    def _measured(self, now: datetime) -> dict[str, float]:
        """The power of each charger that should be charging at the plan's power now.

        Only chargers whose last command was obeyed at least :data:`VERIFY_SECONDS` ago count
        (the car has had time to ramp up), in a planned mode, without "charge now". Without a
        power sensor the meter's slope over the last minutes tells (never its silence).
        """
        found: dict[str, float] = {}
        for runtime in self.coordinator.chargers.values():
            session = runtime.session
            if (
                session is None
                or session.session_id in self.overrides
                or session.pause_reason is not None
                or self.mode_of(runtime) is ChargeMode.IMMEDIATE
            ):
                continue
            trail = self.audit.get(session.session_id)
            last = trail[-1] if trail else None
            if (
                last is None
                or last["obeyed"] is not True
                or (now - datetime.fromisoformat(last["at"])).total_seconds() < VERIFY_SECONDS
            ):
                continue
            power = runtime.adapter.power_kw()
            if power is None:  # no power sensor: the meter's last minutes since the command
                since = max(datetime.fromisoformat(last["at"]), now - UNDER_DELIVERY_WINDOW)
                power = self.coordinator.meter_power_kw(runtime, since, now, quiet_is_idle=False)
            if power is not None:
                found[runtime.charger_id] = power
        return found

    def _learn(self, charger_id: str, measured: dict[str, float], now: datetime) -> None:
        """The vehicle takes less than planned: plan it at what it takes, for a while; on a
        charger that is only switched on and off, for the rest of the session (trying its full
        power again would send the same "on")."""
        runtime = self.coordinator.chargers.get(charger_id)
        if runtime is None or runtime.session is None:
            return
        until = now + timedelta(minutes=LEARNED_LIMIT_MINUTES)
        if not runtime.adapter.sets_current():
            until = now + timedelta(days=LEARNED_ON_OFF_DAYS)
        self.learned[runtime.session.session_id] = (measured[charger_id], until)
        _LOGGER.debug(
            "%s takes %.2f kW, less than planned: planned at that until %s",
            runtime.name,
            measured[charger_id],
            until,
        )

    def _forget_learned(self, now: datetime) -> None:
        for session_id, (_kw, until) in list(self.learned.items()):
            if until <= now:
                del self.learned[session_id]

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
        times.extend(until for _kw, until in self.learned.values() if until > now)
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
        """The power the charger should be allowed now, and why (the command's source).

        ``immediate`` without a circuit limit: the charger's maximum under the local events in
        force. Otherwise the plan's power now (on a shared circuit the plan is what keeps the
        chargers' sum within the limit, so ``immediate`` and "charge now" follow it too).
        """
        adapter = runtime.adapter
        local = [c.max_kw for c in self.local_caps(now) if c.start <= now < c.end]
        circuit = self.circuit_kw()
        if self.mode_of(runtime) is ChargeMode.IMMEDIATE and circuit is None:
            power = min([adapter.max_power_kw(), *local])
            return power, SOURCE_EVENT if local else SOURCE_PLAN
        vp = self.plan.vehicles.get(runtime.charger_id) if self.plan is not None else None
        power = vp.power_at(now) if vp is not None else 0.0
        if circuit is not None:
            power = min(power, circuit)
        immediate = self.mode_of(runtime) is ChargeMode.IMMEDIATE
        if immediate and local and power >= min(local) - 1e-6:
            return power, SOURCE_EVENT  # the local event is what holds it back
        return power, SOURCE_PLAN

    def _apply_order(self, now: datetime) -> list[ChargerRuntime]:
        """The chargers in the order to command them: those being turned down first.

        On a shared circuit a charger is only turned up once the others have made room.
        """

        def change(runtime: ChargerRuntime) -> float:
            if runtime.session is None:
                return 0.0
            adapter = runtime.adapter
            enabled, amps = self._commanded.get(
                runtime.charger_id, (True, int(adapter.max_current_a))
            )
            before = adapter.kw_at(amps) if enabled else 0.0
            return self._desired_kw(runtime, now)[0] - before

        return sorted(self.coordinator.chargers.values(), key=change)

    async def _async_apply(self, runtime: ChargerRuntime, now: datetime) -> None:
        session, adapter = runtime.session, runtime.adapter
        if session is None or not adapter.controllable:
            return
        overridden = session.session_id in self.overrides and self.circuit_kw() is None
        if overridden or session.pause_reason in (
            PauseReason.USER,
            PauseReason.EVENT,
        ):
            return
        power, source = self._desired_kw(runtime, now)
        if runtime.cap_kw is not None:
            power = min(power, runtime.cap_kw)
        if source == SOURCE_PLAN and self._cap_binds(runtime, now, power):
            source = SOURCE_EVENT  # the plan is at a load-control cap: the event commands
        max_a = int(adapter.max_current_a)
        if power <= 0 or power < adapter.min_power_kw() - 1e-6:
            desired = (False, 0)
        else:
            desired = (True, min(adapter.amps_for(power), max_a))
        # What the charger does without a command from here: full current, or the utility's
        # cap, which the coordinator applies itself unless the chargers share a circuit.
        coordinator_caps = runtime.cap_kw is not None and self.circuit_kw() is None
        baseline = (
            True,
            adapter.amps_for(runtime.cap_kw) if coordinator_caps and runtime.cap_kw else max_a,
        )
        if (parked := self._parked.get(runtime.charger_id)) is not None:
            baseline = (True, parked)  # parked while idle (see _async_park)
        last = self._commanded.get(runtime.charger_id, baseline)
        if desired == last:
            return
        self._commanded[runtime.charger_id] = desired
        self._parked.pop(runtime.charger_id, None)
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
        self.coordinator.schedule_save(runtime)
        self.coordinator.async_update_listeners()

    def _cap_binds(self, runtime: ChargerRuntime, now: datetime, power: float) -> bool:
        """Whether a load-control cap in force on the charger is what limits ``power``."""
        if self.inputs is None or power >= runtime.adapter.max_power_kw() - 1e-6:
            return False
        return any(
            c.start <= now < c.end
            and (c.vehicle_ids is None or runtime.charger_id in c.vehicle_ids)
            and c.name != RANDOM_START_CAP
            and power >= runtime.adapter.kw_at(runtime.adapter.amps_for(c.max_kw)) - 1e-6
            for c in self.inputs.caps
        )

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
            if self.circuit_kw() is not None:  # the plan sets the current: send it
                self._commanded[runtime.charger_id] = (False, 0)
            self.record(runtime, SOURCE_USER, True, int(runtime.adapter.max_current_a))
            self.schedule()

    @callback
    def session_ended(self, runtime: ChargerRuntime, session: ChargingSession) -> None:
        """Drop the session's override and command memory; replan for the others."""
        self.overrides.discard(session.session_id)
        self.learned.pop(session.session_id, None)
        self._delays.pop(runtime.charger_id, None)
        self._commanded.pop(runtime.charger_id, None)
        self.audit.pop(session.session_id, None)
        self.schedule()
        self.coordinator.config_entry.async_create_task(
            self.hass, self._async_park(runtime), "pev_portal_park"
        )

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
        target_kw = adapter.kw_at(amps) if enabled else 0.0
        if enabled and amps < adapter.min_current_a:
            target_kw = 0.0
        self.audit.setdefault(session.session_id, []).append(
            {
                "at": (now or dt_util.utcnow()).isoformat(),
                "source": source,
                "enabled": enabled,
                "current_a": amps if enabled else 0,
                "via": adapter.last_via,
                "target_kw": round(target_kw, 3),
                "measured_kw": None,
                "obeyed": None,
                "response_s": None,
                "escalated_to": None,
                "measured_by": None,
            }
        )
        self._save_trail(session.session_id)

    def _save_trail(self, session_id: str) -> None:
        """Store the session's audit trail (a copy, written on the store's thread)."""
        frozen = [dict(c) for c in self.audit.get(session_id, ())]
        self.coordinator.submit(partial(_save_audit, session_id, frozen))

    def error_windows(
        self, session: ChargingSession, until: datetime
    ) -> list[tuple[datetime, datetime]]:
        """When the charger was ignoring commands: from each ignored command to the next obeyed
        one (or ``until``)."""
        windows: list[tuple[datetime, datetime]] = []
        since: datetime | None = None
        for command in self.audit.get(session.session_id, ()):
            at = datetime.fromisoformat(command["at"])
            if command["obeyed"] is False and command.get("escalated_to") is None:
                since = since or at
            elif command["obeyed"] is True and since is not None:
                windows.append((since, at))
                since = None
        if since is not None:
            windows.append((since, until))
        return windows

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
            pending = [c for c in trail if c["obeyed"] is None and c.get("measured_by") != "none"]
            if not pending:
                continue
            charger_kw = runtime.adapter.power_kw()
            changed = False
            for command in pending:
                at = datetime.fromisoformat(command["at"])
                age = (now - at).total_seconds()
                if age <= 0:
                    continue
                if charger_kw is not None:
                    measured, measured_by, deadline = charger_kw, "charger", VERIFY_SECONDS
                else:
                    # No power sensor (or it is unavailable): the meter's register tells.
                    meter_kw = self.coordinator.meter_power_kw(runtime, at, now)
                    if meter_kw is None:
                        if age >= METER_UNVERIFIED_SECONDS:
                            command["measured_by"] = "none"  # nothing measures this charger
                            changed = True
                        continue
                    # The meter's answer is final: no deadline to wait for.
                    measured, measured_by, deadline = round(meter_kw, 3), "meter", 0
                limit = command["target_kw"] * 1.05 + VERIFY_TOLERANCE_KW
                if measured <= limit:
                    command.update(
                        obeyed=True,
                        measured_kw=measured,
                        measured_by=measured_by,
                        response_s=round(age, 1),
                    )
                    changed = True
                    self._issue(runtime, None)
                elif age >= deadline:
                    command.update(obeyed=False, measured_kw=measured, measured_by=measured_by)
                    changed = True
                    if self._three_phase(runtime, command, measured):
                        # Not disobedience: the amps were right, the phases wrong. Commanded
                        # again as three-phase at once (see _three_phase).
                        command["escalated_to"] = "three_phase"
                        self.forget(runtime)
                        continue
                    if not command["enabled"] and (via := runtime.adapter.escalate_stop()):
                        # The pause was ignored: the preset's next way of pausing is tried.
                        command["escalated_to"] = via
                        self.forget(runtime)
                        continue
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

    def _three_phase(
        self, runtime: ChargerRuntime, command: dict[str, Any], measured: float
    ) -> bool:
        """A charger set up as one phase drawing three times the power of the current it was
        given is a three-phase charger: treat it as one from now on and ask the user to fix it.

        Only a current limit above the charger's minimum tells this (a pause does not), and
        only a ratio near 3 (2.6-3.4). A one-phase charger ignoring a limit of a third of its
        power also draws three times it, at its full power: a draw near its full one-phase power
        (within 10 %) is therefore not taken for three phases, unless it is more than one phase
        can carry.
        """
        adapter = runtime.adapter
        if (
            not isinstance(adapter, EntityCharger)
            or adapter.phases != 1
            or not command["enabled"]
            or command["target_kw"] <= 0
            or not 2.6 <= measured / command["target_kw"] <= 3.4
        ):
            return False
        full = adapter.max_power_kw()
        if abs(measured - full) <= 0.1 * full:
            return False  # as likely a one-phase charger ignoring the limit at full power
        adapter.phases = 3
        _LOGGER.warning(
            "%s draws %.2f kW at %s A: it is three-phase, not one-phase as set up; treated as "
            "three-phase until its electrical connection is corrected",
            runtime.name,
            measured,
            command["current_a"],
        )
        async_three_phase_issue(
            self.hass, self.coordinator.config_entry.entry_id, runtime.charger_id, runtime.name
        )
        return True

    def _issue(self, runtime: ChargerRuntime, command: dict[str, Any] | None) -> None:
        entry_id = self.coordinator.config_entry.entry_id
        issue_id = f"{ISSUE_IGNORES_COMMANDS}_{entry_id}_{runtime.charger_id}"
        if command is None:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        if not ir.async_get(self.hass).async_get_issue(DOMAIN, issue_id):
            self.coordinator.report_charger_error(runtime)
        notifier = self.coordinator.notifier  # notifications
        notifier.charger_ignoring(runtime, command["target_kw"], command["measured_kw"])
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
        return [(eid, mandatory) for eid, mandatory, _ in self._active_events(runtime, now)]

    def consequences(self, runtime: ChargerRuntime, now: datetime | None = None) -> list[str]:
        """What opting out of the events in force costs, as their programs declare it."""
        events = self._active_events(runtime, now or dt_util.utcnow())
        return list(dict.fromkeys(c for _, _, c in events if c))

    def _active_events(
        self, runtime: ChargerRuntime, now: datetime
    ) -> list[tuple[str, bool, str | None]]:
        found: dict[str, tuple[bool, str | None]] = {}
        link, session = self.coordinator.link, runtime.session
        if link is not None and session is not None:
            programs = {p.id: p for p in link.state.programs}
            for entry in link.timeline.active(now):
                if entry.kind in ("cap", "level", "alert") and entry.applies_to_pev(session.pev_id):
                    event = link.state.events.get(entry.event_id)
                    program = programs.get(entry.program_id)
                    found[entry.event_id] = (
                        (event_mandatory(event, program), opt_out_consequence(event, program))
                        if event is not None
                        else (False, None)
                    )
        for e in self.coordinator.local_events:
            if e["kind"] == "load_control" and e["start"] <= now < e["end"]:
                found.setdefault(e["event_id"], (False, None))
        return [(eid, mandatory, c) for eid, (mandatory, c) in found.items()]

    def opted_out_now(self, runtime: ChargerRuntime, now: datetime | None = None) -> bool:
        """True when the user opted out of every load-control event in force on the session."""
        events = self.active_events(runtime, now or dt_util.utcnow())
        return bool(events) and all(eid in self.coordinator.opted_out for eid, _ in events)

    @callback
    def opt_out(self, runtime: ChargerRuntime, *, confirm: bool = False) -> list[str]:
        """Opt the charger's session out of the events in force (not of mandatory ones).

        When a program declares what opting out costs, the customer must have seen it:
        without ``confirm`` the opt-out is refused with the consequence in the message.
        """
        now = dt_util.utcnow()
        events = self.active_events(runtime, now)
        if not events:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="no_active_event"
            )
        if any(mandatory for _, mandatory in events):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="event_mandatory"
            )
        if (consequences := self.consequences(runtime, now)) and not confirm:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="opt_out_needs_confirmation",
                translation_placeholders={"consequence": " ".join(consequences)},
            )
        ids = [eid for eid, _ in events]
        self.coordinator.opted_out.update(ids)
        self._next_source[runtime.charger_id] = SOURCE_USER  # the commands that follow
        self.coordinator.apply_caps(runtime)  # lifts the utility's cap
        self.schedule()
        self.coordinator.async_update_listeners()
        return ids

    # -- reading --------------------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """The controller's state, for diagnostics (no identifiers)."""
        return {
            "settings": {sid: s.to_dict() for sid, s in self.settings.items()},
            "last_replan": self.reason,
            "planned_vehicles": len(self.plan.vehicles) if self.plan is not None else 0,
            "charge_now_sessions": len(self.overrides),
            "learned_limits_kw": [round(kw, 3) for kw, _ in self.learned.values()],
            "start_delays_s": [d.total_seconds() for _, d in self._delays.values()],
            "solar": self.solar.diagnostics() if self.solar is not None else None,
        }

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
            "explanations": [
                {
                    "constraint": e.constraint,
                    "name": e.name,
                    "start": e.start.isoformat() if e.start else None,
                    "end": e.end.isoformat() if e.end else None,
                    "kwh": round(e.delayed_kwh, 3),
                    "ready_by": e.ready_by.isoformat() if e.ready_by else None,
                    "ready_without": e.ready_without.isoformat() if e.ready_without else None,
                    "circuit_kw": self.circuit_kw() if e.constraint == "circuit" else None,
                }
                for e in vp.explanations
            ],
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
