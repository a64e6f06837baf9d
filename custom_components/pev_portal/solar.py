"""Solar forecast for the ``solar`` charge mode, from the energy platform of a forecast integration.

Home Assistant's energy dashboard reads solar forecasts from any integration whose ``energy``
platform has ``async_get_solar_forecast(hass, config_entry_id)`` (Forecast.Solar, Solcast and
others), which answers ``{"wh_hours": {ISO start: Wh in the period}}``. PEV Portal reads the
same, for the config entry the user picked in the options, and turns it into the planner's
:class:`core.planner.SolarForecast`: the surplus in each period is the forecast production minus
the home's base load (an option, default 0.5 kW), never below zero. Periods are the gaps between
consecutive timestamps (an hour when there is only one).

The forecast is read at start (once Home Assistant runs) and every :data:`REFRESH` after; a
forecast integration that is not loaded or that fails gives no forecast (the ``solar`` mode is
then planned like ``cheapest``), with one warning until it works again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.loader import Integration, async_get_integration, async_get_integrations
from homeassistant.util import dt as dt_util

from .core.planner import SolarForecast

_LOGGER = logging.getLogger(__name__)

REFRESH: Final = timedelta(minutes=30)
PLATFORM: Final = "energy"


async def async_forecast_entries(hass: HomeAssistant) -> dict[str, str]:
    """Loaded config entries that can provide a solar forecast: entry ID -> label."""
    entries = [
        e
        for e in hass.config_entries.async_entries()
        if e.state is ConfigEntryState.LOADED and e.domain != "pev_portal"
    ]
    integrations = await async_get_integrations(hass, {e.domain for e in entries})
    found: dict[str, str] = {}
    for entry in entries:
        integration = integrations.get(entry.domain)
        if isinstance(integration, Integration) and integration.platforms_exists([PLATFORM]):
            found[entry.entry_id] = f"{entry.title} ({entry.domain})"
    return found


def forecast_from_wh_hours(
    wh_hours: dict[str, Any], base_load_kw: float, now: datetime
) -> SolarForecast | None:
    """The surplus forecast from an energy platform's ``wh_hours`` (periods still to come)."""
    stamps: list[tuple[datetime, float]] = []
    for key, value in wh_hours.items():
        at = dt_util.parse_datetime(str(key))
        if at is None or not isinstance(value, int | float):
            continue
        stamps.append((dt_util.as_utc(at), float(value)))
    stamps.sort()
    points: list[tuple[datetime, datetime, float]] = []
    for index, (start, wh) in enumerate(stamps):
        end = stamps[index + 1][0] if index + 1 < len(stamps) else start + timedelta(hours=1)
        if end <= now or end <= start:
            continue
        hours = (end - start).total_seconds() / 3600.0
        surplus = max(0.0, wh / 1000.0 / hours - base_load_kw)
        if surplus > 0:
            points.append((start, end, round(surplus, 3)))
    return SolarForecast(tuple(points)) if points else None


class SolarSource:
    """Reads one forecast integration's solar forecast for the planner."""

    def __init__(self, hass: HomeAssistant, entry_id: str, base_load_kw: float) -> None:
        self.hass = hass
        self.entry_id = entry_id
        self.base_load_kw = base_load_kw
        self.forecast: SolarForecast | None = None
        self.last_error: str | None = None

    async def async_update(self) -> bool:
        """Read the forecast again; True when it changed."""
        before = self.forecast
        try:
            self.forecast = await self._async_read()
        except Exception as err:  # another integration's code: it never breaks planning
            self._fail(f"{type(err).__name__}: {err}")
            self.forecast = None
        return self.forecast != before

    async def _async_read(self) -> SolarForecast | None:
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            self._fail("the forecast integration is not loaded")
            return None
        integration = await async_get_integration(self.hass, entry.domain)
        platform = await integration.async_get_platform(PLATFORM)
        reader = getattr(platform, "async_get_solar_forecast", None)
        if reader is None:
            self._fail(f"{entry.domain} provides no solar forecast")
            return None
        data = await reader(self.hass, self.entry_id)
        if not isinstance(data, dict) or not isinstance(data.get("wh_hours"), dict):
            self._fail("the forecast is empty")
            return None
        if self.last_error is not None:
            _LOGGER.info("Solar forecast from %s available again", entry.title)
            self.last_error = None
        return forecast_from_wh_hours(data["wh_hours"], self.base_load_kw, dt_util.utcnow())

    def _fail(self, message: str) -> None:
        if self.last_error is None:
            _LOGGER.warning(
                "No solar forecast (%s): the solar mode is planned like cheapest", message
            )
        self.last_error = message

    def diagnostics(self) -> dict[str, Any]:
        """What the source has, for diagnostics."""
        return {
            "entry_id": self.entry_id,
            "base_load_kw": self.base_load_kw,
            "periods": len(self.forecast.points) if self.forecast else 0,
            "last_error": self.last_error,
        }
