"""A feeding session's plan in the dashboard's shape: its slots with ``feed_kw``, the ``feed``
object (the contract in docs/power-feed.md) and the reason in words (no behaviour)."""

from __future__ import annotations

import itertools
from datetime import datetime, tzinfo
from typing import Any

from .feed_build import FeedResult

_EPS = 1e-6


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600.0


def feed_summary(
    result: FeedResult, charger_id: str, view: dict[str, Any], tz: tzinfo
) -> dict[str, Any]:
    """``view`` (the charging plan's dict) with the feed plan's slots, figures and reason."""
    vp = result.plans[charger_id]
    c = result.candidates[charger_id]
    prices = result.import_price[charger_id]
    bounds = result.bounds
    slots: list[dict[str, Any]] = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        net = (vp.charge_kwh[i] - vp.discharge_kwh[i]) / _hours(a, b)  # never both at once
        row = {
            "start": a.isoformat(),
            "end": b.isoformat(),
            "power_kw": round(max(0.0, net), 3),
            "feed_kw": round(max(0.0, -net), 3),
            "price": round(prices[i], 6),
        }
        last = slots[-1] if slots else None
        if last is not None and all(last[k] == row[k] for k in ("power_kw", "feed_kw", "price")):
            last["end"] = row["end"]
        else:
            slots.append(row)
    charged = [i for i, kwh in enumerate(vp.charge_kwh) if kwh > _EPS]
    ready = bounds[charged[-1] + 1] if charged else bounds[0]
    first = next((s["start"] for s in slots if s["power_kw"] > 0), None)
    view.update(
        slots=slots,
        start=first,
        end=bounds[-1].isoformat(),
        ready_by=ready.isoformat() if vp.reachable else None,
        energy_kwh=round(sum(vp.charge_kwh), 3),
        cost=round(vp.import_cost, 4),
        reachable=vp.reachable,
        feed={
            "energy_kwh": round(sum(vp.discharge_kwh), 3),
            "home_kwh": round(sum(vp.home_kwh), 3),
            "export_kwh": round(sum(vp.export_kwh), 3),
            "credit": round(vp.export_credit + vp.home_saving, 4),
            "wear": round(vp.wear_cost, 4),
            "cycles": round(vp.cycles, 4),
            "floor": c.floor_pct,
            "gap": round(result.gap, 6),
        },
        reason=feed_reason(result, charger_id, tz),
    )
    return view


def feed_reason(result: FeedResult, charger_id: str, tz: tzinfo) -> str:
    """Why and when the session feeds, and when it is ready, e.g. "Feeds the home 17:00–19:00
    (peak 0.47/kWh); ready 80 % by 07:00"."""
    vp = result.plans[charger_id]
    c = result.candidates[charger_id]
    bounds = result.bounds
    windows: list[list[int]] = []
    for i, kwh in enumerate(vp.discharge_kwh):
        if kwh <= _EPS:
            continue
        if windows and windows[-1][-1] == i - 1:
            windows[-1].append(i)
        else:
            windows.append([i])
    parts = []
    for window in windows[:3]:
        home = sum(vp.home_kwh[i] for i in window)
        export = sum(vp.export_kwh[i] for i in window)
        whom = (
            "the home and the grid"
            if home > _EPS and export > _EPS
            else ("the grid" if export > _EPS else "the home")
        )
        value = [result.import_price[charger_id][i] for i in window if vp.home_kwh[i] > _EPS]
        value += [result.export_price[i] for i in window if vp.export_kwh[i] > _EPS]
        start = _clock(bounds[window[0]], tz)
        end = _clock(bounds[window[-1] + 1], tz)
        parts.append(f"Feeds {whom} {start}–{end} (peak {max(value, default=0.0):.2f}/kWh)")
    if not parts:
        parts.append(
            "Does not feed: no price spread beats the battery's losses and wear"
            f" ({c.wear:.2f}/kWh) above the {c.floor_pct:g} % floor"
        )
    departure = _clock(c.departure, tz)
    if vp.reachable:
        parts.append(f"ready {c.target_pct:g} % by {departure}")
    else:
        dep = bounds.index(c.departure)
        reached = 100.0 * vp.soc_kwh[dep] / c.capacity_kwh
        parts.append(f"{reached:.0f} % by {departure}, short of the {c.target_pct:g} % target")
    return "; ".join(parts)


def _clock(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%H:%M")
