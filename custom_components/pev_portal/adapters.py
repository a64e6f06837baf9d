"""Adapters between Home Assistant entities (or the demo simulator) and the core.

A charger is described by entities another integration provides; a meter is any cumulative
energy sensor. The coordinator only sees the two small interfaces of :mod:`.adapter_base`
(re-exported here, with the demo charger of :mod:`.demo_charger`).

Power feed: an entity-mapped charger can discharge when it names a discharge-power number
(``CONF_DISCHARGE_ENTITY``: W or kW by its unit, its ``max`` the range), or, with the Wallbox
preset, when its current number goes below zero (the core ``wallbox`` integration gives a
bidirectional Quasar's number a ``min`` of minus its maximum current; a negative value is its
discharge command: docs/power-feed.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

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

from .adapter_base import ChargerAdapter as ChargerAdapter  # re-exported
from .adapter_base import MeterAdapter as MeterAdapter
from .charger_status import STATUS_MAP as STATUS_MAP  # re-exported
from .charger_status import map_status as map_status
from .charger_values import Transaction as Transaction  # re-exported
from .charger_values import energy_kwh as energy_kwh
from .charger_values import is_energy_sensor as is_energy_sensor
from .charger_values import power_kw as power_kw
from .charger_values import transaction, vehicle_id
from .const import (
    CONF_CURRENT_ENTITY,
    CONF_DISCHARGE_ENTITY,
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
from .core.session import ChargerStatus
from .demo_charger import DemoCharger as DemoCharger  # re-exported
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
# A discharge-power number's unit: watts per unit of its value.
DISCHARGE_UNITS: Final = {"W": 1.0, "kW": 1000.0}
VIA_DISCHARGE: Final = "discharge"  # the audit's ``via`` of a discharge-power number


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
        paused_by, self._paused_by = self._paused_by or self.stop_method, None
        if self.sets_current():
            await self.async_set_current(amps)
        await self._undo_pause(paused_by)

    async def _undo_pause(self, paused_by: str | None) -> None:
        switch = self.config.get(CONF_SWITCH_ENTITY)
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

    # -- power feed (V2H/V2G) ---------------------------------------------------------

    def _feeds_by_current(self) -> bool:
        """A Wallbox whose current number goes below zero (a bidirectional Quasar)."""
        return (
            self.config.get(CONF_PRESET) == "wallbox"
            and bool(self.config.get(CONF_CURRENT_ENTITY))
            and self._number_min() < 0
        )

    def _discharge_number(self) -> tuple[float, float] | None:
        """The discharge-power number's (watts per unit, maximum); None: none, or not W/kW."""
        state = self._state(CONF_DISCHARGE_ENTITY)
        if state is None:
            return None
        scale = DISCHARGE_UNITS.get(str(state.attributes.get("unit_of_measurement")))
        try:
            top = float(state.attributes.get("max", 0))
        except TypeError, ValueError:
            return None
        return (scale, top) if scale is not None and top > 0 else None

    def can_discharge(self) -> bool:
        if self.config.get(CONF_DISCHARGE_ENTITY):
            return self._discharge_number() is not None
        return self._feeds_by_current()

    def max_discharge_kw(self) -> float:
        """The discharge number's maximum, or the Wallbox's ``-min`` amperes; at most the
        charger's own maximum (the same wiring carries both directions)."""
        if self.config.get(CONF_DISCHARGE_ENTITY):
            number = self._discharge_number()
            if number is None:
                return 0.0
            return min(number[0] * number[1] / 1000.0, self.max_power_kw())
        if self._feeds_by_current():
            return self.kw_at(min(-self._number_min(), self.max_current_a))
        return 0.0

    async def async_set_discharge(self, amps: float) -> None:
        """Feed back at ``amps``: the discharge number at that power (in its unit), or the
        Wallbox's current number at ``-amps``; then the way it was paused undone. 0: the
        discharge number to 0 and the charger paused (a Wallbox: paused, its number stays)."""
        number = self._discharge_number() if self.config.get(CONF_DISCHARGE_ENTITY) else None
        if amps <= 0:
            if number is not None:
                self.last_via = VIA_DISCHARGE
                await self._set_discharge_power(0.0, number)
            await self._async_pause()
            return
        paused_by, self._paused_by = self._paused_by or self.stop_method, None
        if number is not None:
            await self._set_discharge_power(self.kw_at(amps), number)
            via = VIA_DISCHARGE
        else:
            await self._set_number(-amps)
            via = "current"
        await self._undo_pause(paused_by)
        self.last_via = via

    async def _set_discharge_power(self, kw: float, number: tuple[float, float]) -> None:
        scale, top = number
        value = min(kw * 1000.0 / scale, top)
        entity = self.config[CONF_DISCHARGE_ENTITY]
        await self._call(
            entity.split(".", 1)[0],
            "set_value",
            {ATTR_ENTITY_ID: entity, "value": round(value, 3 if scale > 1 else 0)},
        )

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
            "discharge_range_kw": round(self.max_discharge_kw(), 3),  # 0: cannot discharge
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
