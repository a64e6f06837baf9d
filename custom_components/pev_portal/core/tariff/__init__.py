"""Electricity tariffs: flat, time-of-use, real-time pricing and critical-peak overlays.

Pure Python (standard library only), no Home Assistant imports.

Conventions
-----------
* Money is :class:`decimal.Decimal` in the tariff's currency (ISO 4217 code), prices
  are per kWh. Energy is ``float`` kWh.
* Every public method takes timezone-aware datetimes (naive ones raise
  ``ValueError``); everything returned is in UTC.
* Time-of-use rules are written in the tariff's local wall-clock time and converted
  to UTC instants at the edges.

DST handling of :class:`TouTariff` (the choices made)
-----------------------------------------------------
* A rule boundary is the UTC instant at which the local wall clock shows that time.
* Spring forward (gap): a boundary whose wall time does not exist that day (e.g.
  02:30 in New York on the spring-forward Sunday) takes effect at the instant of the
  clock jump. A period lying entirely inside the gap therefore disappears that day.
* Fall back (fold): a boundary whose wall time happens twice takes effect at its
  *first* occurrence. The time between two consecutive boundaries belongs to the
  earlier boundary's period, so the repeated hour is charged at whatever period was
  in force when it began and that period is one hour longer that day.

Day types and wrapping
----------------------
* Each local calendar day has exactly one day type: ``holiday`` if listed in the
  holidays, else ``weekend`` on Saturday/Sunday, else ``weekday``.
* A rule with ``start > end`` (e.g. 21:00-07:00) is read per calendar day: it covers
  ``[start, 24:00)`` and ``[00:00, end)`` of every day of its day types. Likewise a
  season only decides which rules apply to a given local calendar day.
"""

from __future__ import annotations

from .base import (
    DEFAULT_PRECISION,
    CostBreakdown,
    DayType,
    FlatTariff,
    PeriodCost,
    PeriodName,
    PriceSegment,
    Tariff,
    TariffError,
)
from .parse import (
    default_tou_example,
    tariff_from_dict,
)
from .tou import (
    PeriodRule,
    Season,
    TouTariff,
)
from .windowed import (
    CppEvent,
    OverlayTariff,
    RtpTariff,
)

__all__ = [
    "DEFAULT_PRECISION",
    "CostBreakdown",
    "CppEvent",
    "DayType",
    "FlatTariff",
    "OverlayTariff",
    "PeriodCost",
    "PeriodName",
    "PeriodRule",
    "PriceSegment",
    "RtpTariff",
    "Season",
    "Tariff",
    "TariffError",
    "TouTariff",
    "default_tou_example",
    "tariff_from_dict",
]
