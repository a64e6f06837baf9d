"""The planner's inputs: each vehicle's settings, what a session still wants, what each charger
can do (with what the vehicle was seen to take), the circuit, and the program's limits.

A mixin of :class:`.planning.SmartCharging` (its state is declared here, set there).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from ..adapters import EntityCharger
from ..const import CONF_CIRCUIT_LIMIT, CONF_CURRENT_ENTITY, LEARNED_LIMIT_MINUTES, VERIFY_SECONDS
from ..core.failsafe import FailsafeState, circuit_with_failsafe
from ..core.planner import (
    ChargeMode,
    ChargerModel,
    PlanInputs,
    PowerCap,
    SolarForecast,
    VehicleRequest,
)
from ..ports import Premise
from ..program_events import ProgramEvents
from ..runtime import ChargerRuntime, Vehicle
from .audit import CommandAudit, meter_power_kw
from .settings import VehicleSettings, energy_wanted, next_departure

if TYPE_CHECKING:
    from ..utility import UtilityLink

_LOGGER = logging.getLogger(__name__)
# How far back the meter is read for what a vehicle takes (no power sensor)
UNDER_DELIVERY_WINDOW = timedelta(minutes=5)
# An on/off charger's learned power holds for the session (its end forgets it); this bounds it
LEARNED_ON_OFF_DAYS = 7
# Less than the plan by more than this is under-delivery (needs_replan's power tolerance)
UNDER_DELIVERY_TOLERANCE_KW = 0.5


@dataclass(slots=True)
class _Built:
    """The planner's inputs last built, what they were built from (``key``), until when they
    hold (the earliest departure: the next one is a day later), and per request the session's
    charger, vehicle and settings (to read the energies again)."""

    key: Hashable
    inputs: PlanInputs
    departures: dict[str, datetime | None]
    until: datetime | None
    sources: list[tuple[ChargerRuntime, Vehicle | None, VehicleSettings]]


class PlanRequests:
    """Builds the planner's inputs (see the module docstring)."""

    premise: Premise
    hass: HomeAssistant
    events: ProgramEvents
    audit: CommandAudit
    link: UtilityLink | None
    settings: dict[str, VehicleSettings]
    overrides: set[str]
    learned: dict[str, tuple[float, datetime]]
    inputs_built: int
    _built: _Built | None

    @property
    def _meta_key(self) -> str:
        return f"smart_charging:{self.premise.premise_id}"

    @property
    def solar_forecast(self) -> SolarForecast | None:
        """The surplus forecast for the solar mode (None: the mode is planned as cheapest)."""
        raise NotImplementedError

    def schedule(self) -> None:
        """Replan and apply soon."""
        raise NotImplementedError

    def feed_inputs_key(self, now: datetime) -> tuple[Any, ...]:
        """The power feed's part of the inputs key (:mod:`.feed`)."""
        raise NotImplementedError

    def feeding(self, charger_id: str) -> bool:
        """Whether the charger's session is planned by the feed planner (:mod:`.feed`)."""
        raise NotImplementedError

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
        power_feed: bool | None = None,
        floor: float | None = None,
        wear_cost: float | None = None,
        cycles_per_day: float | None = None,
    ) -> None:
        """Change a vehicle's settings, store them and replan (the power-feed settings too:
        ``wear_cost`` below zero goes back to the default)."""
        current = self.settings_of(vehicle)
        if mode is not None:
            current.mode = mode
        if departure is not None:
            current.departure = departure
        if target is not None:
            current.target = target
        if power_feed is not None:
            current.power_feed = power_feed
        if floor is not None:
            current.floor = floor
        if wear_cost is not None:
            current.wear_cost = wear_cost if wear_cost >= 0 else None
        if cycles_per_day is not None:
            current.cycles_per_day = cycles_per_day
        data = {sid: s.to_dict() for sid, s in self.settings.items()}
        self.premise.submit(lambda s: s.set_meta(self._meta_key, data), "vehicle settings")
        self._send_request(vehicle)
        self.schedule()
        self.premise.changed()

    def vehicle_of(self, runtime: ChargerRuntime) -> Vehicle | None:
        """The registered vehicle of the charger's session."""
        session = runtime.session
        return self.premise.vehicle_by_pev_id(session.pev_id if session else None)

    def mode_of(self, runtime: ChargerRuntime) -> ChargeMode:
        """The charge mode of the charger's session."""
        return self.settings_of(self.vehicle_of(runtime)).mode

    def energy_wanted(
        self,
        runtime: ChargerRuntime,
        vehicle: Vehicle | None,
        settings: VehicleSettings | None = None,
    ) -> float:
        """The energy still wanted by the session (see :mod:`.settings`)."""
        target = (settings or self.settings_of(vehicle)).target
        return energy_wanted(self.hass, runtime, vehicle, target)

    def soc_step_kwh(self) -> float | None:
        """The coarsest energy step of the plugged-in vehicles' state-of-charge sensors, for the
        replan hysteresis (``needs_replan(energy_step_kwh=...)``); ``None`` when no session's
        energy comes from such a sensor.

        A sensor's step is its resolution in % (``10 ** -precision`` from the entity's display
        precision: the user's, else the integration's ``suggested_display_precision``; whole
        percent when it has neither) times the vehicle's capacity / 100.
        """
        steps = [
            vehicle.capacity_kwh * soc_resolution_percent(self.hass, vehicle.soc_entity) / 100.0
            for runtime in self.premise.chargers.values()
            if runtime.session is not None
            and (vehicle := self.vehicle_of(runtime)) is not None
            and vehicle.soc_entity
            and vehicle.capacity_kwh
        ]
        return max(steps) if steps else None

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
        return energy, next_departure(settings, dt_util.utcnow())

    def _send_request(self, vehicle: Vehicle) -> None:
        """Tell the utility the new request of the vehicle's session in progress, if any."""
        link = self.link
        if link is None:
            return
        for runtime in self.premise.chargers.values():
            session = runtime.session
            if session is None or session.pev_id != vehicle.pev_id or not session.bound:
                continue
            energy, departure = self.energy_request(runtime)
            self.premise.task(
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

    def circuit_kw(self) -> float | None:
        """The circuit limit shared by all the chargers in kW (None: no limit).

        The amps per phase times the chargers' phases x voltage; when the chargers differ, the
        smallest of those, so that no phase carries more than the limit whatever the chargers'
        wiring (exact for chargers on the same supply, cautious for mixed ones).
        """
        amps = self.premise.entry.options.get(CONF_CIRCUIT_LIMIT)
        chargers = self.premise.chargers.values()
        if not amps or not chargers:
            return None
        volts = min(r.adapter.phases * r.adapter.voltage for r in chargers)
        return float(amps) * volts / 1000.0

    def failsafe_now(self, now: datetime) -> FailsafeState | None:
        """The utility's fail-safe limit in force now (None: no link, or none in force)."""
        state = self.link.failsafe.state(now) if self.link is not None else None
        return state if state is not None and state.active else None

    def effective_circuit_kw(self, now: datetime) -> float | None:
        """The premise's limit for all its chargers together now: the circuit limit, lowered
        to the utility's fail-safe limit while that is in force (``core/failsafe.py``)."""
        circuit = self.circuit_kw()
        state = self.failsafe_now(now)
        return circuit if state is None else circuit_with_failsafe(circuit, state)

    def current_inputs(self, now: datetime) -> tuple[PlanInputs, dict[str, datetime | None]]:
        """The planner's inputs now, and each charger's departure: built again
        (:meth:`build_inputs`) only when something they are built from changed (see
        :meth:`_inputs_key`) or a departure passed; otherwise the same inputs, with the
        energies still wanted read again (the same object when those did not move either, so
        that the 5-second tick does next to nothing in a steady home)."""
        key = self._inputs_key(now)
        built = self._built
        if built is None or built.key != key or (built.until is not None and now >= built.until):
            inputs, departures = self.build_inputs(now)
            self.inputs_built += 1
            sources = []
            for request in inputs.requests:
                runtime = self.premise.chargers[request.vehicle_id]
                vehicle = self.vehicle_of(runtime)
                sources.append((runtime, vehicle, self.settings_of(vehicle)))
            until = min((d for d in departures.values() if d is not None), default=None)
            self._built = _Built(key, inputs, departures, until, sources)
            return inputs, departures
        energies = [self.energy_wanted(*source) for source in built.sources]
        old = built.inputs
        if any(e != r.energy_kwh for e, r in zip(energies, old.requests, strict=True)):
            built.inputs = old.with_energies(energies)
        return built.inputs, built.departures

    def _inputs_key(self, now: datetime) -> Hashable:
        """Everything the inputs are built from but the energies and the time: the program's
        events (their version: caps and tariffs), the solar forecast, the circuit in force now
        (the option, lowered by the utility's fail-safe limit while that holds), the
        chargers with their sessions (binding, vehicle, pricing) and their current range, the
        vehicles' settings, "charge now", what vehicles were seen to take. Cheap: read at every
        tick."""
        chargers = tuple(
            (
                r.charger_id,
                r.adapter.min_current_a,
                r.adapter.max_current_a,
                r.adapter.phases,
                r.adapter.voltage,
                None
                if (session := r.session) is None
                else (session.session_id, session.pev_id, session.decision.program_rate),
            )
            for r in self.premise.chargers.values()
        )
        settings = tuple(
            (
                sid,
                s.mode,
                s.departure,
                s.target,
                s.power_feed,
                s.floor,
                s.wear_cost,
                s.cycles_per_day,
            )
            for sid, s in self.settings.items()
        )
        return (
            self.events.version,
            id(self.events.program_tariff),
            id(self.solar_forecast),
            self.effective_circuit_kw(now),
            chargers,
            settings,
            tuple(self.premise.vehicles),
            frozenset(self.overrides),
            frozenset((sid, kw) for sid, (kw, _until) in self.learned.items()),
            self.feed_inputs_key(now),
        )

    def build_inputs(
        self, now: datetime, overrides: dict[str, VehicleSettings] | None = None
    ) -> tuple[PlanInputs, dict[str, datetime | None]]:
        """The planner's inputs now (``overrides``: settings per charger, for a preview), and
        each charger's departure."""
        requests: list[VehicleRequest] = []
        caps: list[PowerCap] = []
        circuit = self.effective_circuit_kw(now)
        departures: dict[str, datetime | None] = {}
        plugged = [(r, r.session) for r in self.premise.chargers.values() if r.session is not None]
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
        local_added = False
        for runtime, session in plugged:
            vehicle = self.vehicle_of(runtime)
            settings = (overrides or {}).get(runtime.charger_id) or self.settings_of(vehicle)
            mode = settings.mode
            if mode is ChargeMode.SOLAR and self.solar_forecast is None:
                mode = ChargeMode.CHEAPEST  # no solar forecast (none configured, or none now)
            if circuit is not None and session.session_id in self.overrides:
                mode = ChargeMode.IMMEDIATE  # charge now, within the circuit
            departure = None if mode is ChargeMode.IMMEDIATE else next_departure(settings, now)
            departures[runtime.charger_id] = departure
            adapter = runtime.adapter
            requests.append(
                VehicleRequest(
                    vehicle_id=runtime.charger_id,
                    energy_kwh=self.energy_wanted(runtime, vehicle, settings),
                    departure=departure,
                    charger=self.charger_model(runtime),
                    mode=mode,
                    tariff=self.events.tariff_of(runtime),
                    priority=len(arrival) - arrival.index(runtime),
                )
            )
            for cap in self.events.caps(
                session.pev_id, runtime.charger_id, adapter.max_power_kw(), adapter.min_power_kw()
            ):
                if cap.vehicle_ids is None and local_added:
                    continue  # the local limits, once for every charger
                caps.append(cap)
            local_added = True
        inputs = PlanInputs(
            tuple(requests),
            self.events.program_tariff,
            tuple(caps),
            circuit,
            self.solar_forecast,
        )
        return inputs, departures

    def _measured(self, now: datetime) -> dict[str, float]:
        """The power of each charger that should be charging at the plan's power now.

        Only chargers whose last command was obeyed at least :data:`VERIFY_SECONDS` ago count
        (the car has had time to ramp up), in a planned mode, without "charge now". Without a
        power sensor the meter's slope over the last minutes tells (never its silence).
        """
        found: dict[str, float] = {}
        for runtime in self.premise.chargers.values():
            session = runtime.session
            if (
                session is None
                or session.session_id in self.overrides
                or session.pause_reason is not None
                or self.mode_of(runtime) is ChargeMode.IMMEDIATE
                or self.feeding(runtime.charger_id)  # it follows its feed plan, not this one
            ):
                continue
            last = self.audit.last(session)
            if (
                last is None
                or last["obeyed"] is not True
                or (now - datetime.fromisoformat(last["at"])).total_seconds() < VERIFY_SECONDS
            ):
                continue
            power = runtime.adapter.power_kw()
            if power is None:  # no power sensor: the meter's last minutes since the command
                since = max(datetime.fromisoformat(last["at"]), now - UNDER_DELIVERY_WINDOW)
                power = meter_power_kw(runtime, since, now, quiet_is_idle=False)
            if power is not None:
                found[runtime.charger_id] = power
        return found

    def _learn(self, charger_id: str, measured: dict[str, float], now: datetime) -> None:
        """The vehicle takes less than planned: plan it at what it takes, for a while; on a
        charger that is only switched on and off, for the rest of the session (trying its full
        power again would send the same "on")."""
        runtime = self.premise.chargers.get(charger_id)
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

    def _known_slow(self, charger_id: str, kw: float) -> bool:
        """Whether the charger's session is planned at what its vehicle was seen to take, and
        it takes about that still (within the under-delivery tolerance): nothing to learn."""
        runtime = self.premise.chargers.get(charger_id)
        session = runtime.session if runtime is not None else None
        seen = self.learned.get(session.session_id) if session is not None else None
        return seen is not None and kw >= seen[0] - UNDER_DELIVERY_TOLERANCE_KW

    def _forget_learned(self, now: datetime) -> None:
        for session_id, (_kw, until) in list(self.learned.items()):
            if until <= now:
                del self.learned[session_id]


def soc_resolution_percent(hass: HomeAssistant, entity_id: str) -> float:
    """The resolution of a state-of-charge sensor in %: from its display precision (the user's
    choice, else the integration's ``suggested_display_precision``), else 1 (whole percent, what
    most cars report)."""
    entry = er.async_get(hass).async_get(entity_id)
    options: Mapping[str, Any] = entry.options.get("sensor", {}) if entry is not None else {}
    for key in ("display_precision", "suggested_display_precision"):
        precision = options.get(key)
        if isinstance(precision, int) and not isinstance(precision, bool) and 0 <= precision <= 6:
            return float(10.0**-precision)
    return 1.0
