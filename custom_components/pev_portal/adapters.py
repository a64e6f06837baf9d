"""Adapters between Home Assistant entities (or the demo simulator) and the core.

A charger is described by entities another integration provides; a meter is any cumulative
energy sensor. The coordinator only sees the two small interfaces defined here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from homeassistant.const import (
    ATTR_ENTITY_ID,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util

from .charger_status import STATUS_MAP as STATUS_MAP  # re-exported
from .charger_status import map_status as map_status
from .charger_values import Transaction as Transaction  # re-exported
from .charger_values import energy_kwh as energy_kwh
from .charger_values import is_energy_sensor as is_energy_sensor
from .charger_values import power_kw as power_kw
from .charger_values import transaction, vehicle_id
from .const import (
    CONF_CURRENT_ENTITY,
    CONF_ENERGY_ENTITY,
    CONF_MAX_CURRENT,
    CONF_METER_START_ENTITY,
    CONF_MIN_CURRENT,
    CONF_PHASES,
    CONF_POWER_ENTITY,
    CONF_PRESET,
    CONF_SESSION_ENERGY_ENTITY,
    CONF_START_BUTTON,
    CONF_STATUS_ENTITY,
    CONF_STOP_BUTTON,
    CONF_SWITCH_ENTITY,
    CONF_TRANSACTION_ENTITY,
    CONF_VEHICLE_ID_ENTITY,
    CONF_VOLTAGE,
    DEFAULT_MIN_CURRENT_A,
)
from .core.metering import Interval
from .core.session import ChargerStatus
from .core.simulator import DemoEvse
from .presets import (
    CONF_OCPP_DEVID,
    STOP_BUTTON,
    STOP_CURRENT_ZERO,
    STOP_RATE_ZERO,
    STOP_SWITCH,
    control_preset,
)

_LOGGER = logging.getLogger(__name__)

# Charger statuses that say no energy flows (OCPP 1.6's, as lbbrhzn/ocpp shows them).
SUSPENDED_STATUSES = frozenset({"suspendedev", "suspendedevse"})


class ChargerAdapter:
    """What the coordinator needs from a charger."""

    controllable: bool = False
    max_current_a: float = 32.0
    min_current_a: float = 6.0
    phases: int = 1
    voltage: float = 230.0

    def kw_at(self, amps: float) -> float:
        """The power of a current on every phase of the charger."""
        return amps * self.voltage * self.phases / 1000.0

    def max_power_kw(self) -> float:
        """The most the charger can deliver."""
        return self.kw_at(self.max_current_a)

    def min_power_kw(self) -> float:
        """The least it can deliver while charging (IEC 61851: 6 A)."""
        return self.kw_at(self.min_current_a)

    def amps_for(self, power_kw: float) -> int:
        """The largest whole current step that stays within a power cap."""
        return int(power_kw * 1000.0 / (self.voltage * self.phases) + 1e-9)

    def status(self) -> ChargerStatus | None:
        """The charger's status now (None while unknown)."""
        raise NotImplementedError

    def available(self) -> bool:
        """Whether Home Assistant can see the charger now (its status is not unavailable)."""
        return True

    def power_available(self) -> bool:
        """Whether the charging power can be read now (the charger's and its power sensor's)."""
        return self.available()

    def unavailable_reason(self) -> str | None:
        """Why the charger is unavailable, for the log (None while it is available)."""
        return None

    def power_kw(self) -> float | None:
        """Charging power now."""
        return None

    def energy_kwh(self) -> float | None:
        """The charger's own energy register."""
        return None

    def vehicle_id(self) -> str | None:
        """The vehicle ID the charger reports (OCPP id tag, ISO 15118 EVCCID)."""
        return None

    def vehicle_id_changed_at(self) -> datetime | None:
        """When the vehicle ID was last set or changed (Home Assistant's ``last_changed`` of
        its entity); None when the source is live (always the vehicle plugged in now)."""
        return None

    def transaction(self) -> Transaction | None:
        """The charger's transaction registers (None: its integration has none mapped)."""
        return None

    def register_entity(self) -> str | None:
        """The entity of the charger's own cumulative energy register (None: none)."""
        return None

    def async_listen(self, on_change: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``on_change`` whenever something above changes; return the unsubscriber."""
        raise NotImplementedError

    last_via: str | None = None

    async def async_set_enabled(self, enabled: bool) -> None:
        """Allow or stop charging."""

    def escalate_stop(self) -> str | None:
        """A pause was ignored: switch to another way of pausing (None: there is none)."""
        return None

    async def async_set_current(self, amps: float) -> None:
        """Set the current limit."""

    async def async_resume(self, amps: float) -> None:
        """Allow charging again at ``amps``: the current first, then the way it was paused
        undone, so the charger never runs above ``amps`` on the way (not even for a second)."""
        if self.sets_current():
            await self.async_set_current(amps)
        await self.async_set_enabled(True)

    def sets_current(self) -> bool:
        """Whether :meth:`async_set_current` reaches the charger."""
        return False

    # -- power feed (V2H/V2G) --------------------------------------------------------------

    def can_discharge(self) -> bool:
        """Whether the charger can feed the vehicle's battery back (power feed); a charger
        that cannot is never asked to (the planner gets no discharge power for it)."""
        return False

    def max_discharge_kw(self) -> float:
        """The most the charger can feed back (0 when it cannot)."""
        return 0.0

    def describe(self) -> dict[str, Any]:
        """What this adapter drives, for diagnostics."""
        return {}

    def entity_ids(self) -> list[str]:
        """The Home Assistant entities this adapter depends on."""
        return []


class MeterAdapter:
    """What the coordinator needs from an end-use meter."""

    meter_id: str = ""

    def reading(self) -> tuple[datetime, float] | None:
        """The latest register reading (time, kWh)."""
        raise NotImplementedError

    def async_listen_readings(
        self, on_reading: Callable[[datetime, float, str], None]
    ) -> CALLBACK_TYPE:
        """Call ``on_reading(at, kwh, meter_id)`` on each new reading."""
        raise NotImplementedError

    def mark_intervals(self, intervals: list[Interval]) -> list[Interval]:
        """Mark intervals the meter's own status made doubtful (default: unchanged)."""
        return intervals

    def meter_details(self) -> dict[str, Any]:
        """What diagnostics show of the meter itself (default: nothing)."""
        return {}

    def received_reading(self) -> tuple[datetime, float] | None:
        """The latest reading of the meter's received (exported) register, kWh (power feed;
        None: the meter has none)."""
        return None


class EntityCharger(ChargerAdapter):
    """A charger that another integration exposes as entities."""

    def __init__(self, hass: HomeAssistant, config: dict[str, Any]) -> None:
        self.hass = hass
        self.config = config
        self._status_entity: str = config[CONF_STATUS_ENTITY]
        self._unknown_reported: set[str] = set()
        self.control = control_preset(config.get(CONF_PRESET))
        self.controllable = bool(
            config.get(CONF_SWITCH_ENTITY)
            or config.get(CONF_START_BUTTON)
            or config.get(CONF_CURRENT_ENTITY)
            or self.control.rate_service
        )
        # The electrical connection from the charger's form (older entries: 1 phase, 230 V);
        # the current-limit entity's own maximum bounds it.
        self.phases = int(config.get(CONF_PHASES, 1))
        self.voltage = float(config.get(CONF_VOLTAGE, 230.0))
        self.min_current_a = float(config.get(CONF_MIN_CURRENT, DEFAULT_MIN_CURRENT_A))
        configured = config.get(CONF_MAX_CURRENT)
        current = hass.states.get(config.get(CONF_CURRENT_ENTITY) or "")
        entity_max = current.attributes.get("max") if current is not None else None
        if configured is not None and entity_max is not None:
            self.max_current_a = min(float(configured), float(entity_max))
        elif configured is not None:
            self.max_current_a = float(configured)
        elif entity_max is not None:
            self.max_current_a = float(entity_max)
        self._stop_index = 0
        self._paused_by: str | None = None

    def _state(self, key: str) -> State | None:
        entity_id = self.config.get(key)
        return self.hass.states.get(entity_id) if entity_id else None

    def status(self) -> ChargerStatus | None:
        state = self._state(CONF_STATUS_ENTITY)
        if state is None:
            return None
        status = map_status(state.state)
        if status is None and state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            if state.state not in self._unknown_reported:
                self._unknown_reported.add(state.state)
                _LOGGER.warning(
                    "Charger status %r of %s is not known; treating it as plugged in",
                    state.state,
                    self._status_entity,
                )
            return ChargerStatus.PLUGGED
        if status is ChargerStatus.PLUGGED and self._drawing():
            return ChargerStatus.CHARGING
        return status

    def _reachable(self, key: str) -> bool:
        """The mapped entity exists and is not unavailable (an ``unknown`` state is reachable)."""
        state = self._state(key)
        return state is not None and state.state != STATE_UNAVAILABLE

    def available(self) -> bool:
        """The status entity exists and is not unavailable: the charger's state is followed."""
        return self._reachable(CONF_STATUS_ENTITY)

    def power_available(self) -> bool:
        """The charger is available and so is its power sensor (when one is mapped)."""
        return self.available() and (
            not self.config.get(CONF_POWER_ENTITY) or self._reachable(CONF_POWER_ENTITY)
        )

    def unavailable_reason(self) -> str | None:
        if self.available():
            return None
        if self._state(CONF_STATUS_ENTITY) is None:
            return f"{self._status_entity} does not exist"
        return f"{self._status_entity} is unavailable"

    def _drawing(self) -> bool:
        power = self.power_kw()
        return power is not None and power >= 0.1

    def power_kw(self) -> float | None:
        status = self._state(CONF_STATUS_ENTITY)
        if status is not None and status.state.strip().lower() in SUSPENDED_STATUSES:
            # OCPP's suspended states draw nothing; lbbrhzn/ocpp on 2.0.1 keeps showing the
            # last sampled power until the next sample (up to its meter interval).
            return 0.0
        return power_kw(self._state(CONF_POWER_ENTITY))

    def energy_kwh(self) -> float | None:
        return energy_kwh(self._state(CONF_ENERGY_ENTITY))

    def vehicle_id(self) -> str | None:
        ocpp = self.config.get(CONF_PRESET) == "ocpp"
        return vehicle_id(self._state(CONF_VEHICLE_ID_ENTITY), ocpp=ocpp)

    def vehicle_id_changed_at(self) -> datetime | None:
        state = self._state(CONF_VEHICLE_ID_ENTITY)
        return state.last_changed if state is not None else None

    def transaction(self) -> Transaction | None:
        keys = (CONF_TRANSACTION_ENTITY, CONF_METER_START_ENTITY, CONF_SESSION_ENERGY_ENTITY)
        if not any(self.config.get(key) for key in keys):
            return None
        return transaction(
            self._state(CONF_TRANSACTION_ENTITY),
            self._state(CONF_METER_START_ENTITY),
            self._state(CONF_SESSION_ENERGY_ENTITY),
        )

    def register_entity(self) -> str | None:
        energy = self.config.get(CONF_ENERGY_ENTITY)
        if not energy or energy == self.config.get(CONF_SESSION_ENERGY_ENTITY):
            return None  # the session's energy (restarts at 0), not a register
        return str(energy)

    def async_listen(self, on_change: Callable[[], None]) -> CALLBACK_TYPE:
        entities = [
            self.config[key]
            for key in (
                CONF_STATUS_ENTITY,
                CONF_POWER_ENTITY,
                CONF_ENERGY_ENTITY,
                CONF_VEHICLE_ID_ENTITY,
                CONF_SWITCH_ENTITY,
                CONF_TRANSACTION_ENTITY,
                CONF_METER_START_ENTITY,
                CONF_SESSION_ENERGY_ENTITY,
            )
            if self.config.get(key)
        ]

        # An integration writes its entities one after another (lbbrhzn/ocpp: all of a
        # charger's on one update, in no set order; on OCPP 2.0.1 the status says Available
        # in the same update as the transaction's final energy). The change is looked at once
        # they are all written: on the loop's next turn, once per burst.
        pending: asyncio.Handle | None = None

        @callback
        def _run() -> None:
            nonlocal pending
            pending = None
            on_change()

        @callback
        def _changed(event: Event[EventStateChangedData]) -> None:
            nonlocal pending
            if pending is None:
                pending = self.hass.loop.call_soon(_run)

        unsubscribe = async_track_state_change_event(self.hass, entities, _changed)

        @callback
        def _stop() -> None:
            if pending is not None:
                pending.cancel()
            unsubscribe()

        return _stop

    # -- commands ---------------------------------------------------------------------

    def _rate_service(self) -> tuple[str, str] | None:
        service = self.control.rate_service
        if service is None or not self.hass.services.has_service(*service):
            return None
        return service

    def _number_min(self) -> float:
        state = self._state(CONF_CURRENT_ENTITY)
        try:
            return float(state.attributes.get("min", 0)) if state is not None else 0.0
        except TypeError, ValueError:
            return 0.0

    def stop_methods(self) -> list[str]:
        """The ways this charger can be paused, in the preset's order."""
        available = {
            STOP_SWITCH: bool(self.config.get(CONF_SWITCH_ENTITY)),
            STOP_BUTTON: bool(self.config.get(CONF_STOP_BUTTON)),
            STOP_CURRENT_ZERO: bool(
                self.control.zero_amps_stops
                and self.config.get(CONF_CURRENT_ENTITY)
                and self._number_min() <= 0
            ),
            STOP_RATE_ZERO: bool(self.control.zero_amps_stops and self._rate_service()),
        }
        return [m for m in self.control.stop_order if available.get(m)]

    @property
    def stop_method(self) -> str | None:
        """The way the next pause is sent (None: the charger cannot be paused)."""
        methods = self.stop_methods()
        return methods[min(self._stop_index, len(methods) - 1)] if methods else None

    def escalate_stop(self) -> str | None:
        """The last pause was ignored: use the next way from now on (None when none is left)."""
        methods = self.stop_methods()
        if self._stop_index + 1 >= len(methods):
            return None
        self._stop_index += 1
        _LOGGER.info(
            "Charger %s ignored a pause by %s; pausing by %s from now on",
            self._status_entity,
            methods[self._stop_index - 1],
            methods[self._stop_index],
        )
        return methods[self._stop_index]

    async def _call(self, domain: str, service: str, data: dict[str, Any]) -> None:
        await self.hass.services.async_call(domain, service, data, blocking=True)

    async def _press(self, key: str) -> None:
        button = self.config[key]
        await self._call(button.split(".", 1)[0], "press", {ATTR_ENTITY_ID: button})

    async def async_set_enabled(self, enabled: bool) -> None:
        """Resume the way the charger was paused, or pause it by :attr:`stop_method`."""
        switch = self.config.get(CONF_SWITCH_ENTITY)
        if enabled:
            paused_by, self._paused_by = self._paused_by or self.stop_method, None
            if paused_by == STOP_SWITCH or (paused_by is None and switch):
                self.last_via = STOP_SWITCH
                await self._call("switch", "turn_on", {ATTR_ENTITY_ID: switch})
            elif paused_by == STOP_BUTTON and self.config.get(CONF_START_BUTTON):
                self.last_via = STOP_BUTTON
                await self._press(CONF_START_BUTTON)
            else:
                await self.async_set_current(self.max_current_a)
            return
        await self._async_pause()

    async def async_resume(self, amps: float) -> None:
        """The current first (a pause by 0 A ends with it), then the switch or start button
        that paused the charge, if one did."""
        switch = self.config.get(CONF_SWITCH_ENTITY)
        paused_by, self._paused_by = self._paused_by or self.stop_method, None
        if self.sets_current():
            await self.async_set_current(amps)
        if paused_by == STOP_SWITCH or (paused_by is None and switch):
            self.last_via = STOP_SWITCH
            await self._call("switch", "turn_on", {ATTR_ENTITY_ID: switch})
        elif paused_by == STOP_BUTTON and self.config.get(CONF_START_BUTTON):
            self.last_via = STOP_BUTTON
            await self._press(CONF_START_BUTTON)

    async def _async_pause(self) -> None:
        switch = self.config.get(CONF_SWITCH_ENTITY)
        method = self._paused_by = self.stop_method
        self.last_via = method
        if method == STOP_SWITCH:
            await self._call("switch", "turn_off", {ATTR_ENTITY_ID: switch})
        elif method == STOP_BUTTON:
            await self._press(CONF_STOP_BUTTON)
        elif method == STOP_CURRENT_ZERO:
            await self._set_number(0)
        elif method == STOP_RATE_ZERO:
            await self._set_rate(0)
        else:
            # Nothing pauses this charger: the lowest current it takes is the best we can do.
            await self.async_set_current(self.min_current_a)

    def sets_current(self) -> bool:
        return bool(self.config.get(CONF_CURRENT_ENTITY) or self._rate_service())

    async def async_set_current(self, amps: float) -> None:
        if self.config.get(CONF_CURRENT_ENTITY):
            self.last_via = "current"
            await self._set_number(amps)
        elif self._rate_service():
            self.last_via = "rate"
            await self._set_rate(amps)

    async def _set_number(self, amps: float) -> None:
        number = self.config[CONF_CURRENT_ENTITY]
        await self._call(
            number.split(".", 1)[0], "set_value", {ATTR_ENTITY_ID: number, "value": amps}
        )

    async def _set_rate(self, amps: float) -> None:
        service = self._rate_service()
        assert service is not None
        data: dict[str, Any] = {"limit_amps": amps, "conn_id": 0}
        if devid := self.config.get(CONF_OCPP_DEVID):
            data["devid"] = devid
        await self._call(*service, data)

    def entity_ids(self) -> list[str]:
        return [v for k, v in self.config.items() if k.endswith(("entity", "button")) and v]

    def describe(self) -> dict[str, Any]:
        return {
            "type": "entities",
            "entities": {k: v for k, v in self.config.items() if k.endswith(("entity", "button"))},
            "controllable": self.controllable,
            "preset": self.config.get(CONF_PRESET),
            "phases": self.phases,
            "voltage": self.voltage,
            "current_range_a": [self.min_current_a, self.max_current_a],
            "stop_methods": self.stop_methods(),
            "stop_method": self.stop_method,
        }


class SensorMeter(MeterAdapter):
    """An end-use meter that is a cumulative energy sensor (a ZHA summation sensor is one)."""

    def __init__(self, hass: HomeAssistant, entity_id: str, meter_id: str) -> None:
        self.hass = hass
        self.entity_id = entity_id
        self.meter_id = meter_id

    def reading(self) -> tuple[datetime, float] | None:
        state = self.hass.states.get(self.entity_id)
        value = energy_kwh(state)
        if value is None or state is None:
            return None
        return dt_util.utcnow().replace(microsecond=0), value

    def async_listen_readings(
        self, on_reading: Callable[[datetime, float, str], None]
    ) -> CALLBACK_TYPE:
        @callback
        def _changed(event: Event[EventStateChangedData]) -> None:
            value = energy_kwh(event.data["new_state"])
            if value is not None:
                on_reading(dt_util.utcnow(), value, self.meter_id)

        return async_track_state_change_event(self.hass, [self.entity_id], _changed)


class DemoCharger(ChargerAdapter, MeterAdapter):
    """The built-in simulated charger and its meter."""

    controllable = True

    def __init__(self, evse: DemoEvse, meter_id: str) -> None:
        self.evse = evse
        self.meter_id = meter_id
        self.max_current_a = float(evse.max_current_a)
        self.phases = evse.phases
        self.voltage = evse.voltage_v
        self._charger_listeners: list[Callable[[], None]] = []
        self._meter_listeners: list[Callable[[datetime, float, str], None]] = []
        self._last_step: datetime | None = None

    def status(self) -> ChargerStatus:
        return self.evse.status

    def power_kw(self) -> float:
        return self.evse.power_kw

    def energy_kwh(self) -> float:
        return self.evse.register_kwh

    def vehicle_id(self) -> str | None:
        return self.evse.car.pev_id if self.evse.car else None

    def reading(self) -> tuple[datetime, float]:
        return dt_util.utcnow().replace(microsecond=0), self.evse.register_kwh

    def async_listen(self, on_change: Callable[[], None]) -> CALLBACK_TYPE:
        self._charger_listeners.append(on_change)
        return lambda: self._charger_listeners.remove(on_change)

    def async_listen_readings(
        self, on_reading: Callable[[datetime, float, str], None]
    ) -> CALLBACK_TYPE:
        self._meter_listeners.append(on_reading)
        return lambda: self._meter_listeners.remove(on_reading)

    def step(self, now: datetime) -> None:
        """Advance the simulation to ``now`` and tell the listeners."""
        if self._last_step is not None:
            self.evse.step((now - self._last_step).total_seconds())
        self._last_step = now
        self.notify(now)

    def notify(self, now: datetime) -> None:
        """Publish the charger state and a meter reading."""
        for meter_listener in list(self._meter_listeners):
            meter_listener(now, self.evse.register_kwh, self.meter_id)
        for listener in list(self._charger_listeners):
            listener()

    async def async_set_enabled(self, enabled: bool) -> None:
        self.evse.set_enabled(enabled)
        if enabled and self.evse.current_limit_a < 6:
            self.evse.set_current(self.evse.max_current_a)
        self.step(dt_util.utcnow())

    async def async_resume(self, amps: float) -> None:
        self.evse.set_current(amps)
        self.evse.set_enabled(True)
        self.step(dt_util.utcnow())

    async def async_set_current(self, amps: float) -> None:
        self.evse.set_current(amps)
        self.step(dt_util.utcnow())

    def sets_current(self) -> bool:
        return True

    def can_discharge(self) -> bool:
        return self.evse.bidirectional

    def max_discharge_kw(self) -> float:
        return self.max_power_kw() if self.evse.bidirectional else 0.0

    def received_reading(self) -> tuple[datetime, float] | None:
        if not self.evse.bidirectional:
            return None
        return dt_util.utcnow().replace(microsecond=0), self.evse.discharged_kwh

    def describe(self) -> dict[str, Any]:
        return {"type": "demo", "controllable": True}
