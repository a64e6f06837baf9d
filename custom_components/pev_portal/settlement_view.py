"""The events' performances as the customer sees them: one entry per event (its sessions added
up), for the sensor, the calendars, the card's event history and the export.

Reads the performances :class:`~.settlement_tracker.SettlementTracker` stored (their shape is
``settlement_tracker._as_dict``); no Home Assistant state of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from .io.store import parse_iso

HISTORY = 10  # events in the card's history


def _sum(values: Iterable[Any]) -> float | None:
    found = [v for v in values if isinstance(v, (int, float))]
    return round(sum(found), 3) if found else None


def _money(values: Iterable[Any]) -> str | None:
    total: Decimal | None = None
    for value in values:
        if value is None:
            continue
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            continue
        if amount.is_finite():
            total = amount if total is None else total + amount
    return None if total is None else str(total.quantize(Decimal("0.01")))


def by_event(performances: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per event, newest first: the sums over the sessions it touched.

    ``compliance`` is the delivered reduction over the asked one (both summed); ``target_met``
    is true when every session met its target (None while one is unknown).
    """
    grouped: dict[str, list[dict[str, Any]]] = {}
    for p in performances:
        grouped.setdefault(p["event_id"], []).append(p)
    out: list[dict[str, Any]] = []
    for event_id, items in grouped.items():
        first = items[0]
        delivered = _sum(p.get("delivered_kwh") for p in items)
        asked = _sum(p.get("asked_kwh") for p in items)
        compliance: float | None = None
        if delivered is not None and asked:
            compliance = round(min(1.0, max(0.0, delivered / asked)), 4)
        elif len(items) == 1:
            compliance = first.get("compliance")
        met = [p.get("target_met") for p in items]
        hours = _hours(first)
        out.append(
            {
                "event_id": event_id,
                "name": first.get("name"),
                "source": first.get("source"),
                "kind": first.get("kind"),
                "start": min(p["start"] for p in items),
                "end": max(p["end"] for p in items),
                "final": all(p.get("final") for p in items),
                "method": first.get("method"),
                "baseline_kwh": _sum(p.get("baseline_kwh") for p in items),
                "counterfactual_kwh": _sum(p.get("counterfactual_kwh") for p in items),
                "meter_kwh": _sum(p.get("meter_kwh") for p in items),
                "measured_kwh": _sum(p.get("measured_kwh") for p in items),
                "delivered_kwh": delivered,
                "delivered_kw": round(delivered / hours, 3) if delivered and hours else None,
                "asked_kwh": asked,
                "compliance": compliance,
                "shifted_kwh": _sum(p.get("shifted_kwh") for p in items)
                if all(p.get("shifted_kwh") is not None for p in items)
                else None,
                "target_met": None if None in met else all(met),
                "incentive": _money(p.get("incentive") for p in items),
                "currency": first.get("currency"),
                "flags": sorted({f for p in items for f in p.get("flags") or ()}),
                "vehicles": sorted({p.get("pev_id") or "" for p in items}),
            }
        )
    out.sort(key=lambda e: (e["end"], e["start"]), reverse=True)
    return out


def _hours(p: dict[str, Any]) -> float:
    return (parse_iso(p["end"]) - parse_iso(p["start"])).total_seconds() / 3600


def history(performances: Iterable[dict[str, Any]], limit: int = HISTORY) -> list[dict[str, Any]]:
    """The card's event history: the last events (newest first), without the intervals."""
    return by_event(performances)[:limit]


def outcome(entry: dict[str, Any], lookup: Callable[..., str] | None = None) -> list[str]:
    """The outcome's parts: shifted (or reduced), target met (or missed), estimated credit.

    ``lookup(key, fallback, **placeholders)`` translates (English without it).
    """

    def text(key: str, fallback: str, **values: str) -> str:
        if lookup is not None:
            return str(lookup(key, fallback, **values))
        return fallback.format(**values)

    parts: list[str] = []
    if entry.get("shifted_kwh") is not None:
        parts.append(
            text("outcome_shifted", "{kwh} kWh shifted", kwh=f"{entry['shifted_kwh']:.1f}")
        )
    elif entry.get("delivered_kwh") is not None:
        parts.append(
            text("outcome_reduced", "{kwh} kWh reduced", kwh=f"{entry['delivered_kwh']:.1f}")
        )
    else:
        parts.append(text("outcome_no_baseline", "no baseline"))
    if entry.get("target_met") is True:
        parts.append(text("outcome_target_met", "target met"))
    elif entry.get("target_met") is False:
        parts.append(text("outcome_target_missed", "target missed"))
    if entry.get("incentive") is not None:
        parts.append(
            text(
                "outcome_credit",
                "estimated credit {amount} {currency}",
                amount=str(entry["incentive"]),
                currency=entry.get("currency") or "",
            ).strip()
        )
    return parts


EVENT_FIELDS = (
    "session_id",
    "event_id",
    "name",
    "source",
    "kind",
    "pev_id",
    "start",
    "end",
    "final",
    "method",
    "baseline_kwh",
    "counterfactual_kwh",
    "meter_kwh",
    "meter_sessions",
    "measured_kwh",
    "delivered_kwh",
    "delivered_kw",
    "asked_kwh",
    "compliance",
    "shifted_kwh",
    "target_kwh",
    "target_met",
    "incentive",
    "currency",
    "flags",
)


def event_csv_rows(performances: Iterable[dict[str, Any]]) -> list[list[str]]:
    """The export's event lines (header first): one per event and session."""
    rows = [list(EVENT_FIELDS)]
    for p in performances:
        row = []
        for name in EVENT_FIELDS:
            value = p.get(name)
            if value is None:
                row.append("")
            elif name == "flags":
                row.append(" ".join(value))
            elif isinstance(value, bool):
                row.append("true" if value else "false")
            else:
                row.append(str(value))
        rows.append(row)
    return rows
