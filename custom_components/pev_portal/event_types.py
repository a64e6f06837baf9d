"""The shapes of the program's events (:mod:`.program_events`): a local event as stored, and
an event, local or the utility's, as the entities, the card, notifications and the Zigbee ESI
read it.

Four kinds: ``price`` (an import price, critical peak), ``load_control`` (a charging limit),
and the power feed's (issue #18) ``export_price`` (what a kWh fed to the grid earns) and
``export_limit`` (how much the premise may export). An export event carries its value in its
own field (``export_price``, ``export_limit_kw``), never in ``price`` or ``limit_kw``, so
nothing that prices or caps charging (the tariff, the planner's caps, the ESI's Price and DRLC
frames) ever reads it as an import price or a charging limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

KIND_PRICE = "price"
KIND_LOAD_CONTROL = "load_control"
KIND_EXPORT_PRICE = "export_price"
KIND_EXPORT_LIMIT = "export_limit"
EXPORT_KINDS = (KIND_EXPORT_PRICE, KIND_EXPORT_LIMIT)
# The kinds a user may opt out of (unless the event is mandatory).
OPT_OUT_KINDS = (KIND_LOAD_CONTROL, KIND_EXPORT_LIMIT)
SOURCE_LOCAL = "local"
SOURCE_UTILITY = "utility"
# Utility timeline entries that limit charging (a load-control event).
CAP_KINDS = ("cap", "level", "alert")
# Utility timeline entries of the power feed (openadr/timeline.py, export_signals.py).
EXPORT_CAP = "export_cap"
EXPORT_PRICE = "export_price"


@dataclass(frozen=True, slots=True)
class LocalEvent:
    """An event the premise added itself (service ``add_local_event``).

    ``price`` is the import price of a ``price`` event and the price per kWh exported of an
    ``export_price`` event; ``limit_kw`` the charging cap of a ``load_control`` event and the
    premise's export limit of an ``export_limit`` event (as stored; :meth:`as_program` puts
    the export values in their own fields).
    """

    event_id: str
    kind: str
    start: datetime
    end: datetime
    name: str
    price: float | None = None
    limit_kw: float | None = None
    pev_id: str | None = None
    """The one vehicle it limits (a commissioning test); None: every charger."""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LocalEvent:
        """From the store's row (``local_events``)."""
        return cls(
            event_id=row["event_id"],
            kind=row["kind"],
            start=row["start"],
            end=row["end"],
            name=row.get("name") or row["kind"],
            price=_finite(row.get("price")),
            limit_kw=_finite(row.get("limit_kw")),
            pev_id=row.get("pev_id") if isinstance(row.get("pev_id"), str) else None,
        )

    @property
    def is_cap(self) -> bool:
        """A load-control event with a limit."""
        return self.kind == KIND_LOAD_CONTROL and self.limit_kw is not None

    def applies(self, pev_id: str | None) -> bool:
        """Whether it concerns a session of this PEV."""
        return self.pev_id is None or self.pev_id == pev_id

    def as_program(self) -> ProgramEvent:
        """As a program event (export values in their own fields)."""
        export = self.kind in EXPORT_KINDS
        return ProgramEvent(
            event_id=self.event_id,
            kind=self.kind,
            name=self.name,
            start=self.start,
            end=self.end,
            source=SOURCE_LOCAL,
            price=None if export else self.price,
            limit_kw=None if export else self.limit_kw,
            applies_to=frozenset({self.pev_id}) if self.pev_id else None,
            export_price=self.price if self.kind == KIND_EXPORT_PRICE else None,
            export_limit_kw=self.limit_kw if self.kind == KIND_EXPORT_LIMIT else None,
        )


@dataclass(frozen=True, slots=True)
class ProgramEvent:
    """An event, local or the utility's, in the one shape entities, card and parts read."""

    event_id: str
    kind: str  # price | load_control | export_price | export_limit
    name: str
    start: datetime
    end: datetime
    source: str  # local | utility
    price: float | None = None
    limit_kw: float | None = None
    level: int | None = None
    mandatory: bool = False
    opt_out_consequence: str | None = None
    applies_to: frozenset[str] | None = None  # PEV IDs; None: every vehicle
    export_price: float | None = None
    """An ``export_price`` event's price per kWh fed to the grid (the program's currency)."""
    export_limit_kw: float | None = None
    """An ``export_limit`` event's limit on the premise's export (kW)."""

    @property
    def opt_out_allowed(self) -> bool:
        """Only load-control and export-limit events that are not mandatory can be opted out
        of (each on its own: see :meth:`.program_events.ProgramEvents.opt_out`)."""
        return self.kind in OPT_OUT_KINDS and not self.mandatory

    @property
    def is_export(self) -> bool:
        """An event of the power feed (an export price or an export limit)."""
        return self.kind in EXPORT_KINDS

    def applies(self, pev_id: str | None) -> bool:
        """Whether it concerns a session of this PEV."""
        return self.applies_to is None or (pev_id is not None and pev_id in self.applies_to)

    def as_dict(self) -> dict[str, Any]:
        """The dashboard's and the entities' shape of an event."""
        return {
            "event_id": self.event_id,
            "kind": self.kind,
            "name": self.name,
            "start": self.start,
            "end": self.end,
            "price": self.price,
            "limit_kw": self.limit_kw,
            "level": self.level,
            "export_price": self.export_price,
            "export_limit_kw": self.export_limit_kw,
            "source": self.source,
            "opt_out_allowed": self.opt_out_allowed,
            "opt_out_consequence": self.opt_out_consequence,
        }


def describe(
    kind: str, export_price: float | None, export_limit_kw: float | None, currency: str | None
) -> str | None:
    """What an export event is, in plain English ("Export price 0.25 EUR/kWh", "Export limit
    3.0 kW"); None for another kind or without its value (the entities' attributes; the
    calendar, card and notifications say it in the user's language)."""
    if kind in (KIND_EXPORT_PRICE, EXPORT_PRICE) and export_price is not None:
        return f"Export price {export_price:g} {currency or ''}/kWh".replace(" /", "/")
    if kind in (KIND_EXPORT_LIMIT, EXPORT_CAP) and export_limit_kw is not None:
        return f"Export limit {export_limit_kw:.1f} kW"
    return None


def _finite(value: Any) -> float | None:
    """A stored number, or None when it is missing or not finite (never NaN downstream)."""
    if value is None:
        return None
    try:
        number = float(value)
    except TypeError, ValueError:
        return None
    return number if math.isfinite(number) else None
