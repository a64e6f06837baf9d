"""The tariff steps, shared by the config flow and the options flow.

A flat price (one field), a time-of-use builder (off-peak and peak prices, the peak hours and
days, optionally a season with its own peak price), a price entity of another integration
(core/price_source.py reads its forecast), or YAML (the advanced option). Each builds the same
tariff dict the YAML would (core/tariff.py ``tariff_from_dict``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import probatio as vol
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import selector
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import dump, parse_yaml

from ..const import (
    CONF_DEFAULT_PRICE,
    CONF_OFF_PEAK_PRICE,
    CONF_PEAK_DAYS,
    CONF_PEAK_END,
    CONF_PEAK_PRICE,
    CONF_PEAK_START,
    CONF_PRICE,
    CONF_PRICE_ENTITY,
    CONF_PRICE_FORECAST_ENTITY,
    CONF_SEASON_END,
    CONF_SEASON_PEAK_PRICE,
    CONF_SEASON_START,
    CONF_TARIFF,
    CONF_TARIFF_YAML,
    DEFAULT_PRICE,
    SECTION_SEASON,
)
from ..core.price_source import PriceSourceError, current_price, parse_prices, unit_scale
from ..core.tariff import PriceSegment, TariffError, tariff_from_dict
from .helpers import Range, _box, entity_picker, own_entities, range_errors

PRICE_RANGE = Range(0, None, "invalid_price")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
# Keys a tariff step writes into the entry's options (the others are left as they are).
TARIFF_KEYS = (CONF_TARIFF, CONF_DEFAULT_PRICE, CONF_PRICE_ENTITY, CONF_PRICE_FORECAST_ENTITY)


def _default_tariff(hass: HomeAssistant) -> dict[str, Any]:
    return {"type": "flat", "currency": _currency(hass), "price": "0.30"}


def _currency(hass: HomeAssistant) -> str:
    return hass.config.currency or "EUR"


def _price_text(value: float) -> str:
    """A price as the tariff stores it: exact decimal text without float noise."""
    return format(Decimal(str(value)).normalize(), "f")


def _plain(value: Any) -> Any:
    """YAML's values as JSON types (dates as ISO text), so the options can store them."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bool | int | float) or value is None:
        return value
    return str(value)


def parse_tariff_yaml(text: str) -> tuple[dict[str, Any] | None, dict[str, str], dict[str, str]]:
    """The tariff dict in a YAML text, or the error (on the field) and its detail."""
    try:
        raw = parse_yaml(text)
    except HomeAssistantError as err:
        detail = " ".join(str(err).split())
        return None, {CONF_TARIFF_YAML: "invalid_yaml"}, {"error": detail}
    if not isinstance(raw, Mapping):
        return None, {CONF_TARIFF_YAML: "invalid_tariff"}, {"error": "the tariff must be a mapping"}
    data = _plain(raw)
    try:
        tariff_from_dict(data)
    except TariffError as err:
        return None, {CONF_TARIFF_YAML: "invalid_tariff"}, {"error": str(err)}
    return data, {}, {"error": ""}


def _month_day(text: Any) -> date | None:
    match = _MONTH_DAY.match(str(text or "").strip())
    if match is None:
        return None
    try:
        return date(2024, int(match[1]), int(match[2]))  # a leap year: 02-29 exists
    except ValueError:
        return None


def _hhmm(value: Any, *, end: bool) -> str:
    text = str(value)[:5]
    return "24:00" if end and text == "00:00" else text


def tou_tariff(hass: HomeAssistant, form: Mapping[str, Any]) -> dict[str, Any]:
    """The TOU builder's tariff: off-peak all the time but the peak hours of the peak days."""
    season = form.get(SECTION_SEASON) or {}
    days = list(form[CONF_PEAK_DAYS])

    def peak(price: float) -> dict[str, Any]:
        return {
            "period": "on_peak",
            "days": days,
            "start": _hhmm(form[CONF_PEAK_START], end=False),
            "end": _hhmm(form[CONF_PEAK_END], end=True),
            "price": _price_text(price),
        }

    seasons: list[dict[str, Any]]
    first = _month_day(season.get(CONF_SEASON_START))
    last = _month_day(season.get(CONF_SEASON_END))
    if season.get(CONF_SEASON_PEAK_PRICE) is not None and first and last:  # validated before
        seasons = [
            {
                "name": "season",
                "start": first.strftime("%m-%d"),
                "end": last.strftime("%m-%d"),
                "periods": [peak(season[CONF_SEASON_PEAK_PRICE])],
            },
            {
                "name": "rest_of_year",
                "start": (last + timedelta(days=1)).strftime("%m-%d"),
                "end": (first - timedelta(days=1)).strftime("%m-%d"),
                "periods": [peak(form[CONF_PEAK_PRICE])],
            },
        ]
    else:
        seasons = [
            {
                "name": "all_year",
                "start": "01-01",
                "end": "12-31",
                "periods": [peak(form[CONF_PEAK_PRICE])],
            }
        ]
    return {
        "type": "tou",
        "currency": _currency(hass),
        "timezone": hass.config.time_zone,
        "default_period": "off_peak",
        "default_price": _price_text(form[CONF_OFF_PEAK_PRICE]),
        "seasons": seasons,
    }


def _validate_tou(form: Mapping[str, Any]) -> dict[str, str]:
    errors = range_errors(form, {CONF_OFF_PEAK_PRICE: PRICE_RANGE, CONF_PEAK_PRICE: PRICE_RANGE})
    if not form.get(CONF_PEAK_DAYS):
        errors[CONF_PEAK_DAYS] = "peak_days_required"
    if _hhmm(form[CONF_PEAK_START], end=False) == _hhmm(form[CONF_PEAK_END], end=False):
        errors[CONF_PEAK_END] = "peak_empty"
    season = form.get(SECTION_SEASON) or {}
    if season.get(CONF_SEASON_PEAK_PRICE) is not None:
        if not PRICE_RANGE.accepts(season[CONF_SEASON_PEAK_PRICE]):
            errors[SECTION_SEASON] = "invalid_price"
        first = _month_day(season.get(CONF_SEASON_START))
        last = _month_day(season.get(CONF_SEASON_END))
        after = last + timedelta(days=1) if last is not None else None
        if first is None or after is None or (after.month, after.day) == (first.month, first.day):
            errors[SECTION_SEASON] = "invalid_season"
    return errors


def price_entities(hass: HomeAssistant) -> list[str]:
    """Sensors and input numbers whose unit is money per energy (``EUR/kWh``, ``c/kWh``...),
    PEV Portal's own left out: the price entities of the homeowner's price integrations."""
    own = set(own_entities(hass))
    found = []
    for state in hass.states.async_all(["sensor", "input_number"]):
        unit = state.attributes.get("unit_of_measurement")
        if state.entity_id in own or not isinstance(unit, str) or not unit.strip():
            continue
        try:
            unit_scale(unit)
        except PriceSourceError:
            continue
        found.append(state.entity_id)
    return sorted(found)


def price_entity_picker(hass: HomeAssistant, chosen: str | None) -> selector.EntitySelector:
    """The current-price picker: only price entities (not every sensor, e.g. a backup's
    timestamps), plus the one chosen before; every sensor when none has a price unit (a price
    sensor without a unit is read as per kWh)."""
    prices = price_entities(hass)
    if not prices:
        return entity_picker(hass, ["sensor", "input_number"])
    if chosen and chosen not in prices:
        prices.append(chosen)
    return selector.EntitySelector(
        selector.EntitySelectorConfig(domain=["sensor", "input_number"], include_entities=prices)
    )


def price_entity_check(
    hass: HomeAssistant, entity_id: str, forecast_id: str | None
) -> tuple[dict[str, str], Decimal | None, str]:
    """Errors for a price entity (and its forecast entity), its current price and currency.

    The entity must exist with a unit of money per energy (or none), and its state be a price
    or its attributes (or the forecast entity's) hold prices core/price_source.py can read.
    """
    state = hass.states.get(entity_id)
    if state is None:
        return {CONF_PRICE_ENTITY: "entity_not_found"}, None, ""
    try:
        scale, currency = unit_scale(state.attributes.get("unit_of_measurement"))
    except PriceSourceError:
        return {CONF_PRICE_ENTITY: "not_price_entity"}, None, ""
    currency = currency or _currency(hass)
    price = current_price(state.state, scale)
    forecast_state = hass.states.get(forecast_id) if forecast_id else state
    if forecast_state is None:
        return {CONF_PRICE_FORECAST_ENTITY: "entity_not_found"}, None, currency
    forecast = parse_prices(forecast_state.attributes, scale=scale)
    if price is None and forecast:
        now = dt_util.utcnow()
        price = next((p.price for p in forecast if p.start <= now < p.end), forecast[0].price)
    if price is None:
        return {CONF_PRICE_ENTITY: "no_price_yet"}, None, currency
    return {}, price, currency


class TariffSteps[ResultT]:
    """The tariff steps. The flow provides ``_async_tariff_done`` (what comes next) and
    ``_asks_default_price`` (the guests' rate is asked in a utility program's set-up only;
    otherwise it is the tariff's highest price, or the price entity's at set-up)."""

    hass: HomeAssistant

    async def _async_tariff_done(self, data: dict[str, Any]) -> ResultT:
        raise NotImplementedError

    def _asks_default_price(self) -> bool:
        return False

    def _current_tariff(self) -> dict[str, Any]:
        return _default_tariff(self.hass)

    if TYPE_CHECKING:

        def async_show_form(self, **kwargs: Any) -> ResultT: ...

    def _default_price_field(self, defaults: Mapping[str, Any]) -> dict[vol.Marker, Any]:
        if not self._asks_default_price():
            return {}
        return {
            vol.Required(
                CONF_DEFAULT_PRICE, default=defaults.get(CONF_DEFAULT_PRICE, DEFAULT_PRICE)
            ): _box(f"{_currency(self.hass)}/kWh", "any")
        }

    def _default_price_errors(self, user_input: Mapping[str, Any]) -> dict[str, str]:
        if not self._asks_default_price():
            return {}
        return range_errors(user_input, {CONF_DEFAULT_PRICE: PRICE_RANGE})

    def _with_default_price(
        self, user_input: Mapping[str, Any], fallback: Decimal | float
    ) -> float:
        if self._asks_default_price():
            return float(user_input[CONF_DEFAULT_PRICE])
        return float(fallback)

    async def async_step_tariff_flat(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """One price per kWh."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = range_errors(user_input, {CONF_PRICE: PRICE_RANGE})
            errors |= self._default_price_errors(user_input)
            if not errors:
                price = float(user_input[CONF_PRICE])
                tariff = {
                    "type": "flat",
                    "currency": _currency(self.hass),
                    "price": _price_text(price),
                }
                return await self._async_tariff_done(
                    {
                        CONF_TARIFF: tariff,
                        CONF_DEFAULT_PRICE: self._with_default_price(user_input, price),
                    }
                )
        defaults = user_input or {}
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_PRICE, description={"suggested_value": defaults.get(CONF_PRICE)}
                ): _box(f"{_currency(self.hass)}/kWh", "any"),
                **self._default_price_field(defaults),
            }
        )
        return self.async_show_form(step_id="tariff_flat", data_schema=schema, errors=errors)

    async def async_step_tariff_tou(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """Off-peak and peak prices, the peak hours and days, optionally a season."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate_tou(user_input) | self._default_price_errors(user_input)
            if not errors:
                tariff = tou_tariff(self.hass, user_input)
                highest = max(
                    float(user_input[CONF_PEAK_PRICE]),
                    float(user_input[CONF_OFF_PEAK_PRICE]),
                    float((user_input.get(SECTION_SEASON) or {}).get(CONF_SEASON_PEAK_PRICE) or 0),
                )
                return await self._async_tariff_done(
                    {
                        CONF_TARIFF: tariff,
                        CONF_DEFAULT_PRICE: self._with_default_price(user_input, highest),
                    }
                )
        defaults = user_input or {}
        season = defaults.get(SECTION_SEASON) or {}
        season_shown = {
            CONF_SEASON_START: season.get(CONF_SEASON_START, "06-01"),
            CONF_SEASON_END: season.get(CONF_SEASON_END, "09-30"),
        }
        if season.get(CONF_SEASON_PEAK_PRICE) is not None:
            season_shown[CONF_SEASON_PEAK_PRICE] = season[CONF_SEASON_PEAK_PRICE]
        unit = f"{_currency(self.hass)}/kWh"
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_OFF_PEAK_PRICE,
                    description={"suggested_value": defaults.get(CONF_OFF_PEAK_PRICE)},
                ): _box(unit, "any"),
                vol.Required(
                    CONF_PEAK_PRICE, description={"suggested_value": defaults.get(CONF_PEAK_PRICE)}
                ): _box(unit, "any"),
                vol.Required(
                    CONF_PEAK_START, default=defaults.get(CONF_PEAK_START, "16:00:00")
                ): selector.TimeSelector(),
                vol.Required(
                    CONF_PEAK_END, default=defaults.get(CONF_PEAK_END, "21:00:00")
                ): selector.TimeSelector(),
                vol.Required(
                    CONF_PEAK_DAYS, default=list(defaults.get(CONF_PEAK_DAYS, ["weekday"]))
                ): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=["weekday", "weekend"],
                        multiple=True,
                        translation_key=CONF_PEAK_DAYS,
                    )
                ),
                **self._default_price_field(defaults),
                # The section's own default holds the dates: the frontend fills the section
                # from it (an empty one would show the required dates empty).
                vol.Required(SECTION_SEASON, default=season_shown): section(
                    vol.Schema(
                        {
                            vol.Required(
                                CONF_SEASON_START, default=season_shown[CONF_SEASON_START]
                            ): str,
                            vol.Required(
                                CONF_SEASON_END, default=season_shown[CONF_SEASON_END]
                            ): str,
                            vol.Optional(
                                CONF_SEASON_PEAK_PRICE,
                                description={"suggested_value": season.get(CONF_SEASON_PEAK_PRICE)},
                            ): _box(unit, "any"),
                        }
                    ),
                    {"collapsed": not season.get(CONF_SEASON_PEAK_PRICE)},
                ),
            }
        )
        return self.async_show_form(step_id="tariff_tou", data_schema=schema, errors=errors)

    async def async_step_tariff_entity(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """A price entity of another integration; its forecast from its (or another's) attributes."""
        errors: dict[str, str] = {}
        if user_input is not None:
            forecast_id = user_input.get(CONF_PRICE_FORECAST_ENTITY) or None
            errors, price, currency = price_entity_check(
                self.hass, user_input[CONF_PRICE_ENTITY], forecast_id
            )
            errors |= self._default_price_errors(user_input)
            if not errors and price is not None:
                data: dict[str, Any] = {
                    # The fallback where the entity publishes no price: its price at set-up.
                    CONF_TARIFF: {"type": "flat", "currency": currency, "price": str(price)},
                    CONF_DEFAULT_PRICE: self._with_default_price(user_input, price),
                    CONF_PRICE_ENTITY: user_input[CONF_PRICE_ENTITY],
                }
                if forecast_id:
                    data[CONF_PRICE_FORECAST_ENTITY] = forecast_id
                return await self._async_tariff_done(data)
        defaults = user_input or {}
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_PRICE_ENTITY,
                    description={"suggested_value": defaults.get(CONF_PRICE_ENTITY)},
                ): price_entity_picker(self.hass, defaults.get(CONF_PRICE_ENTITY)),
                vol.Optional(
                    CONF_PRICE_FORECAST_ENTITY,
                    description={"suggested_value": defaults.get(CONF_PRICE_FORECAST_ENTITY)},
                ): entity_picker(self.hass, ["sensor", "event"]),
                **self._default_price_field(defaults),
            }
        )
        return self.async_show_form(step_id="tariff_entity", data_schema=schema, errors=errors)

    async def async_step_tariff_yaml(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """The tariff as YAML (flat, TOU with seasons, RTP, CPP): the text is kept on errors."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            data, errors, placeholders = parse_tariff_yaml(user_input.get(CONF_TARIFF_YAML, ""))
            errors |= self._default_price_errors(user_input)
            if not errors and data is not None:
                highest = max(
                    (s.price for s in _sample_prices(data)), default=Decimal(str(DEFAULT_PRICE))
                )
                return await self._async_tariff_done(
                    {
                        CONF_TARIFF: data,
                        CONF_DEFAULT_PRICE: self._with_default_price(user_input, highest),
                    }
                )
        text = (user_input or {}).get(CONF_TARIFF_YAML) or dump(self._current_tariff())
        schema = vol.Schema(
            {
                vol.Required(CONF_TARIFF_YAML, default=text): selector.TextSelector(
                    selector.TextSelectorConfig(multiline=True)
                ),
                **self._default_price_field(user_input or {}),
            }
        )
        return self.async_show_form(
            step_id="tariff_yaml",
            data_schema=schema,
            errors=errors,
            description_placeholders=placeholders,
        )


def _sample_prices(data: Mapping[str, Any]) -> list[PriceSegment]:
    """The tariff's prices over the coming week (for the guests' rate without a program)."""
    tariff = tariff_from_dict(data)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return tariff.segments(start, start + timedelta(days=7))
