"""Live prices from another integration's price entity: the program's base tariff, kept current.

The options name a price entity (``price_entity``) and optionally a separate forecast entity
(``price_forecast_entity``), chosen in the config flow. At start and on every state change of
either, the tariff is computed with :func:`~.core.price_source.price_entity_tariff` (the
entity's forecast attributes as real-time prices over the flat fallback kept at set-up,
``options["tariff"]``) and handed to :meth:`~.program_events.ProgramEvents.set_base_tariff`,
which tells smart charging only when the prices really changed (the tariff's fingerprint).

Integrations that publish their forecast through an action rather than attributes are asked
through it, with ``return_response=True`` (the integration is the entity's registry
``platform``): Tibber's ``tibber.get_prices``, EnergyZero's ``energyzero.get_energy_prices``
and core Nord Pool's ``nordpool.get_prices_for_date`` (today and tomorrow, per MWh). The
response shapes are described in :mod:`.core.price_source`.

Prices that cannot be read (a unit that is not a price per energy, a failing action) keep the
last tariff (at first, the flat fallback) and raise a repair issue naming the entity; it is
cleared once the prices are read again. An entity that is unavailable or gone keeps the last
tariff silently (its integration is restarting; the missing price is not an error of ours).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Final

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util

from . import repairs
from .const import CONF_PRICE_ENTITY, CONF_PRICE_FORECAST_ENTITY, CONF_TARIFF
from .core.price_source import PriceSourceError, price_entity_tariff, unit_scale
from .core.tariff import tariff_from_dict
from .ports import Premise
from .program_events import ProgramEvents

_LOGGER = logging.getLogger(__name__)

TIBBER: Final = "tibber"
ENERGYZERO: Final = "energyzero"
NORDPOOL: Final = "nordpool"
# The action each integration publishes its prices through.
ACTIONS: Final = {
    TIBBER: "get_prices",
    ENERGYZERO: "get_energy_prices",
    NORDPOOL: "get_prices_for_date",
}
# An action that has not answered by then counts as failing (the last prices are kept).
ACTION_TIMEOUT: Final = 30.0


class PriceFeed:
    """Keeps :attr:`ProgramEvents.base_tariff` to a price entity's prices (see the module)."""

    def __init__(self, premise: Premise, events: ProgramEvents, options: Mapping[str, Any]):
        self.premise = premise
        self.events = events
        self.entity_id: str = options[CONF_PRICE_ENTITY]
        self.forecast_id: str | None = options.get(CONF_PRICE_FORECAST_ENTITY) or None
        self.fallback: dict[str, Any] = dict(options[CONF_TARIFF])
        self.error: str | None = None
        self._lock = asyncio.Lock()
        self._unsubscribe: CALLBACK_TYPE | None = None
        self._stopped = False

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopped

    @property
    def entity_ids(self) -> list[str]:
        """The entities followed."""
        return [self.entity_id, *([self.forecast_id] if self.forecast_id else [])]

    async def async_start(self) -> None:
        """Read the prices now and follow every change."""
        self._unsubscribe = async_track_state_change_event(
            self.premise.hass, self.entity_ids, self._on_change
        )
        await self.async_refresh()

    @callback
    def stop(self) -> None:
        """Stop following (at unload)."""
        self._stopped = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @callback
    def _on_change(self, _event: Event[EventStateChangedData]) -> None:
        # Tied to the entry: cancelled at unload; one refresh at a time (the lock), each
        # reading the states as they are when it runs.
        self.premise.entry.async_create_task(
            self.premise.hass, self.async_refresh(), "pev_portal price feed"
        )

    async def async_refresh(self) -> None:
        """Compute the tariff from the entities' states and replace the base tariff."""
        async with self._lock:
            if self._stopped:
                return
            hass = self.premise.hass
            state = hass.states.get(self.entity_id)
            if state is None or state.state == STATE_UNAVAILABLE:
                return  # keep the last prices until the entity is back
            forecast = hass.states.get(self.forecast_id) if self.forecast_id else None
            unit = state.attributes.get("unit_of_measurement")
            try:
                response, response_unit = await self._async_action_prices(unit)
                data = price_entity_tariff(
                    unit,
                    state.state,
                    state.attributes,
                    self.fallback,
                    now=dt_util.utcnow(),
                    forecast_attributes=forecast.attributes if forecast is not None else None,
                    response=response,
                    response_unit=response_unit,
                )
                tariff = tariff_from_dict(data)
            except (PriceSourceError, HomeAssistantError, ValueError, TimeoutError) as err:
                self._failed(str(err) or type(err).__name__)
                return
            if self.stopped:  # unloaded while the action was answering
                return
            if self.error is not None:
                _LOGGER.info("Prices from %s are read again", self.entity_id)
                self.error = None
                repairs.async_price_source_ok(hass, self.premise.entry.entry_id)
            if self.events.set_base_tariff(tariff):
                _LOGGER.debug("Prices from %s changed", self.entity_id)

    def _failed(self, error: str) -> None:
        """Keep the last tariff; say once what is wrong (a repair issue naming the entity)."""
        if self.error != error:
            _LOGGER.warning(
                "Prices from %s cannot be read (%s); the last prices are kept",
                self.entity_id,
                error,
            )
        self.error = error
        repairs.async_price_source_failing(
            self.premise.hass, self.premise.entry.entry_id, self.entity_id, error
        )

    async def _async_action_prices(
        self, unit: str | None
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The integration's action response (and its unit) for those that publish their
        forecast only that way; (None, None) for the others."""
        hass = self.premise.hass
        entry = er.async_get(hass).async_get(self.entity_id)
        if entry is None or entry.platform not in ACTIONS:
            return None, None
        domain, action = entry.platform, ACTIONS[entry.platform]
        if not hass.services.has_service(domain, action):
            return None, None  # e.g. the HACS Nord Pool (same domain, attributes instead)
        today = dt_util.start_of_local_day()
        if domain == TIBBER:
            return await self._async_call(domain, action, _window(today)), None
        if domain == ENERGYZERO:
            data = {"config_entry": entry.config_entry_id, "incl_vat": True, **_window(today)}
            return await self._async_call(domain, action, data), None
        # Core Nord Pool: one date per call, prices per MWh in the entry's currency.
        currency = unit_scale(unit)[1] or str(self.fallback.get("currency") or "EUR")
        base: dict[str, Any] = {"config_entry": entry.config_entry_id}
        if area := _nordpool_area(entry.unique_id):
            base["areas"] = [area]
        days: dict[str, Any] = {}
        for key, day in (("today", today.date()), ("tomorrow", today.date() + timedelta(1))):
            try:
                days[key] = await self._async_call(domain, action, {**base, "date": _iso(day)})
            except HomeAssistantError:
                if key == "today":
                    raise
                # Tomorrow's prices are published in the early afternoon; not yet is no error.
        return days, f"{currency}/MWh"

    async def _async_call(self, domain: str, action: str, data: dict[str, Any]) -> dict[str, Any]:
        async with asyncio.timeout(ACTION_TIMEOUT):
            response = await self.premise.hass.services.async_call(
                domain, action, data, blocking=True, return_response=True
            )
        return dict(response or {})


def _window(today: datetime) -> dict[str, str]:
    """Today and tomorrow, as the actions' start and end."""
    return {"start": today.isoformat(), "end": (today + timedelta(days=2)).isoformat()}


def _iso(day: date) -> str:
    return day.isoformat()


def _nordpool_area(unique_id: str) -> str | None:
    """The delivery area in a core Nord Pool sensor's unique ID (``SE3-current_price``, or
    ``<block>-SE3-<key>`` for block prices), so the action answers for that area only."""
    for part in unique_id.split("-")[:2]:
        if part and part.isalnum() and part.upper() == part and not part.isdigit():
            return part
    return None
