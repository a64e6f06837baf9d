"""Prices from another integration: its attribute (or action response) shapes -> an RTP series.

Pure Python (standard library only), no Home Assistant imports. The config flow uses it to
check a price entity; ``price_feed.py`` turns the entity's attributes into the program's
real-time tariff with :func:`rtp_tariff_dict` on every state change of the entity.

The shapes read (each integration's own code, read for this module; nothing copied):

* **Nord Pool** (HACS ``custom-components/nordpool``, ``custom_components/nordpool/sensor.py``
  at 4f5a8a4b714cc1d004bdc10c107ee82c40fcdcfc, ``extra_state_attributes`` and ``_add_raw``):
  ``raw_today`` / ``raw_tomorrow`` are lists of ``{"start": datetime, "end": datetime,
  "value": float}`` in the sensor's unit (``"EUR/kWh"``, ``"NOK/MWh"``...; with
  ``price_in_cents`` true the value is in the currency's cents).
* **Energi Data Service** (HACS ``MTrab/energidataservice``, as read by EV Smart Charging's
  ``helpers/price_adaptor.py``, jonasbkarlsson/ev_smart_charging at
  067c5420ac3933b61db5e63a4d60bba45a1dbbfc): ``raw_today`` / ``raw_tomorrow`` with ``hour`` and
  ``price`` keys (an hour long).
* **ENTSO-e** (HACS ``JaccoR/hass-entso-e``, ``coordinator.py`` ``get_timestamped_prices``):
  ``prices_today`` / ``prices_tomorrow`` / ``prices``, lists of ``{"time": str(datetime),
  "price": float}`` (the interval ends where the next begins; hourly or 15 minutes).
* **Amber Electric** (core ``homeassistant/components/amberelectric/sensor.py`` at
  83155e1dfd1c0f06d3f84a14f324baf0248b3c93, ``AmberForecastSensor``): the *Forecast* sensor's
  ``forecasts``, a list of ``{"start_time", "end_time", "per_kwh" ($/kWh), "duration", ...}``;
  the *Price* sensor itself carries one interval's ``start_time`` / ``end_time`` / ``per_kwh``.
* **Octopus Energy** (HACS ``BottlecapDave/HomeAssistant-OctopusEnergy``,
  ``electricity/rates_current_day.py`` and ``utils/rate_information.py``
  ``private_rates_to_public_rates``): the *Current Day Rates* / *Next Day Rates* event entities'
  ``rates``, lists of ``{"start", "end", "value_inc_vat" (GBP/kWh), "is_capped"}``.
* **Tibber** (core ``homeassistant/components/tibber/services.py`` at
  69c4ac9e5c5b6300b898689a277221914944493f): the price sensor has no forecast attributes; the
  ``tibber.get_prices`` action answers ``{"prices": {"<home>": [{"start_time", "price",
  "level"}]}}``.
* **EnergyZero** (core ``homeassistant/components/energyzero/services.py`` at
  a95e0f3801f3a6e918077b738d28ca9a1aabded7): no forecast attributes; the
  ``energyzero.get_energy_prices`` action answers ``{"prices": [{"timestamp", "price"}]}``.
* **Nord Pool, core** (``homeassistant/components/nordpool/services.py`` at
  0e0866078373e15cc0613fa0b05b1f3252dce415): ``nordpool.get_prices_for_date`` answers
  ``{"<area>": [{"start", "end", "price"}]}`` per MWh.

:func:`parse_prices` reads any of these shapes (attributes or an action's response); a price
entity's unit (``unit_of_measurement``) gives the scale to the currency per kWh
(:func:`unit_scale`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

__all__ = [
    "PricePoint",
    "PriceSourceError",
    "current_price",
    "parse_prices",
    "price_entity_tariff",
    "rtp_tariff_dict",
    "unit_scale",
]

# Attribute (or response) keys holding lists of price intervals, in the order they are read.
LIST_KEYS: Final = (
    "raw_today",
    "raw_tomorrow",
    "prices_today",
    "prices_tomorrow",
    "prices",
    "forecasts",
    "forecast",
    "rates",
    "today",
    "tomorrow",
)
_START_KEYS: Final = ("start", "start_time", "time", "hour", "timestamp", "valid_from", "from")
_END_KEYS: Final = ("end", "end_time", "valid_to", "till", "to")
_PRICE_KEYS: Final = ("value", "price", "per_kwh", "value_inc_vat", "total", "price_ct_per_kwh")
# Subunits: the price is in hundredths of the currency.
_CENTS: Final = {"c", "ct", "cent", "cents", "¢", "öre", "ore", "øre", "p", "snt", "gr"}
_SUBUNIT_CURRENCY: Final = {"öre": "SEK", "ore": "SEK", "øre": "NOK", "p": "GBP", "snt": "EUR"}
_SYMBOLS: Final = {"€": "EUR", "£": "GBP", "¥": "JPY", "zł": "PLN", "kr": None, "$": None}
_ENERGY: Final = {"wh": Decimal(1000), "kwh": Decimal(1), "mwh": Decimal("0.001")}


class PriceSourceError(ValueError):
    """The entity's unit or values cannot be read as prices per kWh."""


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One interval's price, in the currency per kWh."""

    start: datetime
    end: datetime
    price: Decimal


def unit_scale(unit: str | None) -> tuple[Decimal, str | None]:
    """The factor from a price entity's unit to the currency per kWh, and the currency if named.

    ``"EUR/kWh"`` -> (1, "EUR"); ``"SEK/MWh"`` -> (0.001, "SEK"); ``"c/kWh"`` -> (0.01, None);
    ``"öre/kWh"`` -> (0.01, "SEK"); ``"$/kWh"`` -> (1, None). No unit is read as per kWh.
    Raises :class:`PriceSourceError` for a unit that is not money per energy.
    """
    if unit is None or not unit.strip():
        return Decimal(1), None
    match = re.fullmatch(r"\s*([^/]+?)\s*/\s*([a-zA-Z]+)\s*", unit)
    if match is None:
        raise PriceSourceError(f"'{unit}' is not a price per energy (e.g. EUR/kWh)")
    money, energy = match.group(1), match.group(2).lower()
    if energy not in _ENERGY:
        raise PriceSourceError(f"'{unit}' is not a price per Wh, kWh or MWh")
    factor = _ENERGY[energy]
    lowered = money.lower()
    if lowered in _CENTS:
        return factor / 100, _SUBUNIT_CURRENCY.get(lowered)
    if money in _SYMBOLS:
        return factor, _SYMBOLS[money]
    if re.fullmatch(r"[A-Za-z]{3}", money):
        return factor, money.upper()
    raise PriceSourceError(f"'{money}' in '{unit}' is not a currency")


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def current_price(state: object, scale: Decimal = Decimal(1)) -> Decimal | None:
    """The entity's state as a price per kWh (None when it is not a finite number)."""
    number = _number(state)
    return None if number is None else number * scale


def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None  # a wall time without a zone cannot be placed
    return parsed


def _first(item: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if key in item and item[key] is not None:
            return item[key]
    return None


def _items(node: object) -> list[Mapping[str, Any]]:
    """Interval dicts found in attributes or an action's response (nested one or two deep)."""
    found: list[Mapping[str, Any]] = []
    if isinstance(node, Mapping):
        if _first(node, _START_KEYS) is not None and _first(node, _PRICE_KEYS) is not None:
            return [node]  # one interval (Amber's current price sensor)
        lists = [node[key] for key in LIST_KEYS if key in node]
        if not lists:  # an action's response keyed by area or home
            lists = [value for value in node.values() if isinstance(value, list | Mapping)]
        for value in lists:
            found.extend(_items(value))
    elif isinstance(node, list | tuple):
        for item in node:
            if isinstance(item, Mapping):
                if _first(item, _START_KEYS) is not None:
                    found.append(item)
                else:
                    found.extend(_items(item))
    return found


def parse_prices(
    data: Mapping[str, Any],
    *,
    scale: Decimal = Decimal(1),
    default_step: timedelta = timedelta(hours=1),
) -> list[PricePoint]:
    """The price intervals in attributes or an action's response, sorted, in currency per kWh.

    ``scale`` is the unit's factor (:func:`unit_scale`). An interval without an end ends where
    the next one starts (the last one lasts as long as the one before it, else
    ``default_step``). Items without a zoned start or a finite price are skipped; of two
    intervals with the same start the first read wins; an interval overlapping the one before
    it is cut at that one's end.
    """
    raw: dict[datetime, tuple[datetime | None, Decimal]] = {}
    for item in _items(data):
        start = _instant(_first(item, _START_KEYS))
        price = _number(_first(item, _PRICE_KEYS))
        if start is None or price is None or start in raw:
            continue
        raw[start] = (_instant(_first(item, _END_KEYS)), price * scale)
    starts = sorted(raw)
    points: list[PricePoint] = []
    step = default_step
    for index, start in enumerate(starts):
        end, price = raw[start]
        if end is None:
            if index + 1 < len(starts):
                end = starts[index + 1]
                step = end - start
            else:
                end = start + step
        if points and start < points[-1].end:
            continue  # overlaps the one before: the earlier interval stands
        if end <= start:
            continue
        points.append(PricePoint(start, end, price))
    return points


def rtp_tariff_dict(
    points: Sequence[PricePoint], currency: str, fallback: Mapping[str, Any]
) -> dict[str, Any]:
    """The tariff dict (``core.tariff.tariff_from_dict``) of real-time prices over a fallback.

    ``fallback`` (a tariff dict, e.g. the flat price kept from set-up) prices the times no
    point covers; its currency must be ``currency``.
    """
    return {
        "type": "rtp",
        "currency": currency,
        "points": [
            {"start": p.start.isoformat(), "end": p.end.isoformat(), "price": str(p.price)}
            for p in points
        ],
        "fallback": dict(fallback),
    }


def price_entity_tariff(
    unit: str | None,
    state: object,
    attributes: Mapping[str, Any],
    fallback: Mapping[str, Any],
    *,
    now: datetime,
    forecast_attributes: Mapping[str, Any] | None = None,
    response: Mapping[str, Any] | None = None,
    response_unit: str | None = None,
) -> dict[str, Any]:
    """The program tariff from a price entity's state: its forecast as real-time prices.

    ``attributes`` are the price entity's, ``forecast_attributes`` a separate forecast
    entity's (Amber's forecast sensor, Octopus Energy's day-rates events) and ``response`` an
    action's answer (``tibber.get_prices``, ``energyzero.get_energy_prices``,
    ``nordpool.get_prices_for_date``); all read with the entity's unit, the response with
    ``response_unit`` when given (core Nord Pool answers per MWh). Where no interval is
    published, the entity's current price prices the current hour (when no interval covers
    ``now``) and ``fallback`` (the tariff kept at set-up) the rest. Raises
    :class:`PriceSourceError` for a unit that is not a price per energy.
    """
    scale, currency = unit_scale(unit)
    currency = currency or str(fallback.get("currency") or "EUR")
    response_scale = unit_scale(response_unit)[0] if response_unit else scale
    points: dict[datetime, PricePoint] = {}
    for source, factor in (
        (attributes, scale),
        (forecast_attributes or {}, scale),
        (response or {}, response_scale),
    ):
        for point in parse_prices(source, scale=factor):
            points.setdefault(point.start, point)
    ordered: list[PricePoint] = []
    for point in sorted(points.values(), key=lambda p: p.start):
        if not ordered or point.start >= ordered[-1].end:
            ordered.append(point)
    price = current_price(state, scale)
    if price is not None and not any(p.start <= now < p.end for p in ordered):
        hour = now.replace(minute=0, second=0, microsecond=0)
        end = hour + timedelta(hours=1)
        if not any(p.start < end and hour < p.end for p in ordered):
            ordered.append(PricePoint(hour, end, price))
            ordered.sort(key=lambda p: p.start)
    return rtp_tariff_dict(ordered, currency, {**fallback, "currency": currency})
