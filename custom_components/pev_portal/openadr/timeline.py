"""One timeline of prices, power caps, levels and alerts from the OpenADR events in force.

Interval timing (User Guide 'intervalPeriod', 'event.duration'):

* An interval's own ``intervalPeriod`` wins over the event's, field by field (start,
  duration, randomizeStart).
* The first interval without its own start begins at the event's start; every later interval
  without its own start begins when the previous one ends (equal to ``event start + i *
  duration`` for uniform intervals).
* A start of ``0001-01-01`` means 'now': the event's ``createdDateTime`` (then
  ``modificationDateTime``, then the timeline's ``now``), so the entry is stable across
  rebuilds.
* A missing duration, or ``P9999Y``, is infinite: the entry ends at
  :data:`~.models.END_OF_TIME`.
* ``event.duration`` (other than ``PT0S``) longer than the intervals loops them, up to
  ``now + horizon``; shorter truncates them.
* A payload with several values (``PRICE: [0.17, 0.03, 0.11]``) splits its interval into as
  many equal sub-intervals (User Guide 'multi-valued payloads').
* ``randomizeStart`` is kept on the entry; the planner applies it.

Targets (profile 'Prices and events'): an event applies when it has no targets, or a target
names the VEN (its ``venName`` or a label granted to the VEN) - then it applies to every PEV -
or names a PEV resource (its ``resourceName`` = PEV ID, or a label granted to that resource) -
then it applies to those PEVs only. When the grants are unknown (no label in ``ven_targets`` nor
in ``resource_targets``: an empty grant list is not knowledge) a string target that names neither the VEN nor a PEV is read as
granted to the VEN: a 3.1.0 VTN only shows a targeted event to a VEN holding one of its
targets. 3.0-style ``{type: VEN_NAME|RESOURCE_NAME, values}``
targets are honoured by type; other typed targets are read as labels.

Power feed (issue #18): EXPORT_PRICE and EXPORT_CAPACITY_LIMIT become ``export_price`` and
``export_cap`` entries with their own fields, so nothing that prices or caps charging reads
them; :meth:`Timeline.export_prices` and :meth:`Timeline.export_limits` answer for the
premise (whether the event targets the VEN or one of its vehicles: the export is the site's).

Priority: lower number wins; an event without priority ranks below every numbered one
(:data:`NO_PRIORITY`). Within one priority the most restrictive cap wins, and for prices the
entry that started later (then the event modified later) wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, Final

from ..core.tariff import CppEvent
from .models import Event
from .targets import TargetDecision, TargetRule
from .timeline_build import NO_PRIORITY, TimelineBuilder, TimelineEntry

__all__ = [
    "ALERT_LEVELS",
    "DEFAULT_LEVEL_MAP",
    "MIN_CHARGING",
    "NO_PRIORITY",
    "TargetDecision",
    "Timeline",
    "TimelineEntry",
]

_LOGGER = logging.getLogger(__name__)

MIN_CHARGING: Final = "min"
"""Level-map value meaning 'limit to the minimum charging current' (``min_power_kw``)."""

DEFAULT_LEVEL_MAP: Final[Mapping[int, float | str | None]] = {
    0: None,
    1: 0.5,
    2: MIN_CHARGING,
    3: 0.0,
}
"""SIMPLE level -> fraction of max power; None = no cap; :data:`MIN_CHARGING`."""

ALERT_LEVELS: Final[Mapping[str, int | None]] = {
    "ALERT_GRID_EMERGENCY": 3,
    "ALERT_FLEX_ALERT": 2,
}
"""Alerts treated as a SIMPLE level (profile); other alerts are shown only."""

_CAP_KINDS: Final = frozenset({"cap", "level", "alert"})


def _rank(entry: TimelineEntry) -> int:
    return entry.priority


class Timeline(TimelineBuilder):
    """Prices and power caps per vehicle from the events in force.

    ``events`` as read or notified (a repeated id keeps the newest by ``modificationDateTime``,
    then the later one in the sequence: a modified event replaces the old one). ``ven_name``,
    ``resource_names`` (the PEV IDs), ``ven_targets`` and ``resource_targets`` (labels granted
    by the utility, per PEV ID) decide which events apply. ``level_map`` overrides
    :data:`DEFAULT_LEVEL_MAP`, ``alert_levels`` overrides :data:`ALERT_LEVELS`. With
    ``currency`` set, PRICE payloads in another currency are ignored (logged). ``now`` (default:
    the current time) anchors 'do it now' events and ``horizon`` bounds looping events.
    """

    def __init__(
        self,
        events: Sequence[Event],
        *,
        ven_name: str,
        resource_names: Sequence[str],
        level_map: Mapping[int, float | str | None] | None = None,
        currency: str | None = None,
        ven_targets: Collection[str] | None = None,
        resource_targets: Mapping[str, Collection[str]] | None = None,
        alert_levels: Mapping[str, int | None] | None = None,
        now: datetime | None = None,
        horizon: timedelta = timedelta(days=7),
    ) -> None:
        self.ven_name = ven_name
        self.resource_names: tuple[str, ...] = tuple(resource_names)
        self.level_map: dict[int, float | str | None] = dict(DEFAULT_LEVEL_MAP)
        if level_map:
            self.level_map.update(level_map)
        self.alert_levels: dict[str, int | None] = dict(ALERT_LEVELS)
        if alert_levels:
            self.alert_levels.update({k.upper(): v for k, v in alert_levels.items()})
        self.currency = currency.strip().upper() if currency else None
        self.rule = TargetRule.of(
            ven_name,
            self.resource_names,
            ven_targets=ven_targets,
            resource_targets=resource_targets,
        )
        self.grants_known = self.rule.grants_known
        self.ven_targets = self.rule.ven_targets
        self.resource_targets = self.rule.resource_targets
        self.now = (now or datetime.now(UTC)).astimezone(UTC)
        self.horizon = horizon
        self.events: dict[str, Event] = {}
        for event in events:
            old = self.events.get(event.id)
            if (
                old is not None
                and old.modified is not None
                and event.modified is not None
                and event.modified < old.modified
            ):
                continue
            self.events[event.id] = event
        self.entries: list[TimelineEntry] = []
        for event in self.events.values():
            applies_to = self._applies_to(event)
            if applies_to is not None and not applies_to:
                continue
            try:
                self.entries.extend(self._event_entries(event, applies_to))
            except (ValueError, OverflowError, TypeError) as err:  # pragma: no cover
                _LOGGER.warning("event %s: ignored, cannot place it in time: %s", event.id, err)
        self.entries.sort(key=lambda e: (e.start, e.priority, e.event_id, e.kind))

    # ------------------------------------------------------------------ targets

    def _applies_to(self, event: Event) -> frozenset[str] | None:
        ven_wide, pevs, _ = self.rule.scope(event)
        return None if ven_wide else frozenset(pevs)

    def applies(self, event: Event, pev_id: str | None) -> bool:
        """Whether an event applies to a PEV (profile targets rule, see module docstring).

        ``pev_id`` None asks whether it applies to the whole premise (untargeted or targeted
        at the VEN).
        """
        return self.rule.explain(event, pev_id).applies

    def explain(self, event: Event, pev_id: str | None) -> TargetDecision:
        """Whether an event applies to a PEV, and why (:meth:`TargetRule.explain`)."""
        return self.rule.explain(event, pev_id)

    def explain_all(self) -> list[dict[str, Any]]:
        """Every event's decision for the premise and each vehicle, as plain data."""
        return [
            self.rule.explain(event, pev_id).as_dict()
            for event in self.events.values()
            for pev_id in (None, *self.resource_names)
        ]

    # ------------------------------------------------------------------ queries

    def for_pev(self, pev_id: str | None) -> list[TimelineEntry]:
        """Entries applying to a PEV (None: those applying to the whole premise)."""
        return [e for e in self.entries if e.applies_to_pev(pev_id)]

    def price_overlays(self, pev_id: str | None, exclude: Collection[str] = ()) -> list[CppEvent]:
        """PRICE entries as non-overlapping :class:`CppEvent` overlays for ``OverlayTariff``.

        Overlaps are resolved here (lower priority number wins; same priority: the later start,
        then the later modification), so the OverlayTariff's own rule never has to choose. The
        overlay's period name is the event name (else ``event <id>``). Infinite prices end at
        :data:`~.models.END_OF_TIME`. The events whose IDs are in ``exclude`` are left out.
        """
        prices = [
            e
            for e in self.for_pev(pev_id)
            if e.kind == "price" and e.price is not None and e.event_id not in exclude
        ]
        if not prices:
            return []
        bounds = sorted({e.start for e in prices} | {e.end for e in prices})
        min_dt = datetime.min.replace(tzinfo=UTC)
        out: list[CppEvent] = []
        for a, b in pairwise(bounds):
            covering = [e for e in prices if e.start <= a and e.end >= b]
            if not covering:
                continue
            winner = min(
                covering,
                key=lambda e: (e.priority, -_ts(e.start), -_ts(e.modified or min_dt)),
            )
            assert winner.price is not None
            name = winner.label
            if out and out[-1].end == a and out[-1].price == winner.price and out[-1].name == name:
                out[-1] = CppEvent(out[-1].start, b, winner.price, name)
            else:
                out.append(CppEvent(a, b, winner.price, name))
        return out

    def _cap_of(
        self, entry: TimelineEntry, max_power_kw: float, min_power_kw: float
    ) -> float | None:
        if entry.kind == "cap":
            return entry.cap_kw
        if entry.fraction is not None:
            return max(0.0, min(1.0, entry.fraction)) * max_power_kw
        if entry.level is None:
            return None
        mapped = self.level_map.get(entry.level)
        if mapped is None:
            return None
        if isinstance(mapped, str):
            return min_power_kw if mapped.lower().startswith("min") else None
        return max(0.0, min(1.0, float(mapped))) * max_power_kw

    def _binding(
        self,
        pev_id: str | None,
        at: datetime,
        max_power_kw: float,
        min_power_kw: float,
        exclude: Collection[str] = (),
    ) -> tuple[float, TimelineEntry] | None:
        active = [
            e
            for e in self.entries
            if e.kind in _CAP_KINDS
            and e.start <= at < e.end
            and e.applies_to_pev(pev_id)
            and e.event_id not in exclude
        ]
        active = [e for e in active if e.kind != "alert" or e.level is not None]
        if not active:
            return None
        best = min(e.priority for e in active)
        result: tuple[float, TimelineEntry] | None = None
        for e in active:
            if e.priority != best:
                continue
            cap = self._cap_of(e, max_power_kw, min_power_kw)
            if cap is not None and (result is None or cap < result[0]):
                result = (cap, e)
        return result

    def cap_kw(
        self,
        pev_id: str | None,
        at: datetime,
        max_power_kw: float,
        min_power_kw: float,
        exclude: Collection[str] = (),
    ) -> float | None:
        """The binding charging-power cap at an instant, in kW; None = no cap.

        IMPORT_CAPACITY_LIMIT caps, SIMPLE levels and level-like alerts mapped through the level
        map compete; the lowest priority number wins (an entry of that priority with no cap,
        e.g. SIMPLE 0, means no cap); within it the most restrictive cap. The events whose IDs
        are in ``exclude`` (opted out of) are left out.
        """
        found = self.binding(pev_id, at, max_power_kw, min_power_kw, exclude)
        return None if found is None else found[0]

    def binding(
        self,
        pev_id: str | None,
        at: datetime,
        max_power_kw: float,
        min_power_kw: float,
        exclude: Collection[str] = (),
    ) -> tuple[float, TimelineEntry] | None:
        """The binding cap at an instant and the entry it comes from (see :meth:`cap_kw`)."""
        return self._binding(pev_id, at.astimezone(UTC), max_power_kw, min_power_kw, exclude)

    def caps(
        self,
        pev_id: str | None,
        start: datetime,
        end: datetime,
        max_power_kw: float,
        min_power_kw: float,
        exclude: Collection[str] = (),
    ) -> list[tuple[datetime, datetime, float, str]]:
        """Piecewise caps over ``[start, end)``: ``(start, end, cap_kw, event label)``.

        Pieces without a cap are left out; touching pieces with the same cap and event merge.
        The events whose IDs are in ``exclude`` (opted out of) are left out.
        """
        s, e = start.astimezone(UTC), end.astimezone(UTC)
        if e <= s:
            return []
        bounds = {s, e}
        for entry in self.entries:
            if entry.kind in _CAP_KINDS and entry.applies_to_pev(pev_id):
                bounds.update(t for t in (entry.start, entry.end) if s < t < e)
        out: list[tuple[datetime, datetime, float, str]] = []
        for a, b in pairwise(sorted(bounds)):
            found = self._binding(pev_id, a, max_power_kw, min_power_kw, exclude)
            if found is None:
                continue
            cap, winner = found
            if out and out[-1][1] == a and out[-1][2] == cap and out[-1][3] == winner.label:
                out[-1] = (out[-1][0], b, cap, winner.label)
            else:
                out.append((a, b, cap, winner.label))
        return out

    def active(self, at: datetime) -> list[TimelineEntry]:
        """Every entry in force at an instant (all PEVs), by priority."""
        t = at.astimezone(UTC)
        return sorted((e for e in self.entries if e.start <= t < e.end), key=_rank)

    def next(self, at: datetime) -> TimelineEntry | None:
        """The next entry to start after an instant (all PEVs), or None."""
        t = at.astimezone(UTC)
        upcoming = [e for e in self.entries if e.start > t]
        return min(upcoming, key=lambda e: (e.start, e.priority)) if upcoming else None

    def cap_window(self, pev_id: str | None) -> tuple[datetime, datetime] | None:
        """The span of the cap-like entries applying to a PEV (None: there are none).

        Caps asked for over this span (:meth:`caps`) do not change as time passes, so a
        planner given them does not see new inputs at every tick.
        """
        spans = [
            (e.start, e.end)
            for e in self.entries
            if e.kind in _CAP_KINDS and e.applies_to_pev(pev_id)
        ]
        if not spans:
            return None
        return min(s for s, _ in spans), max(e for _, e in spans)

    def alerts(self, at: datetime | None = None) -> list[TimelineEntry]:
        """Alert entries (in force at ``at`` when given)."""
        return [
            e
            for e in self.entries
            if e.kind == "alert" and (at is None or e.start <= at.astimezone(UTC) < e.end)
        ]

    def available(self, pev_id: str | None) -> list[TimelineEntry]:
        """The utility's IMPORT_CAPACITY_AVAILABLE (+PRICE) answers applying to a PEV."""
        return [e for e in self.for_pev(pev_id) if e.kind == "available"]

    # ------------------------------------------------------------------ power feed

    def export_prices(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime, Decimal]]:
        """EXPORT_PRICE over ``[start, end)``, piecewise: ``(start, end, price per kWh)``.

        The premise's export is one meter's: an entry applies whether it targets the VEN or
        one of its vehicles. Overlaps as for PRICE: the lowest priority number wins, then the
        later start, then the later modification. Times no entry covers are left out.
        """
        min_dt = datetime.min.replace(tzinfo=UTC)

        def pick(covering: list[TimelineEntry]) -> Decimal | None:
            winner = min(
                covering,
                key=lambda e: (e.priority, -_ts(e.start), -_ts(e.modified or min_dt)),
            )
            return winner.export_price

        entries = [e for e in self.entries if e.kind == "export_price"]
        return _piecewise(entries, start, end, pick)

    def export_limits(
        self, start: datetime, end: datetime, exclude: Collection[str] = ()
    ) -> list[tuple[datetime, datetime, float]]:
        """EXPORT_CAPACITY_LIMIT over ``[start, end)``, piecewise: ``(start, end, kW)``.

        As for IMPORT_CAPACITY_LIMIT: the lowest priority number wins, within it the smallest
        limit. The events in ``exclude`` (opted out of) are left out; an entry applies
        whether it targets the VEN or one of its vehicles (the limit is the site's).
        """

        def pick(covering: list[TimelineEntry]) -> float | None:
            best = min(e.priority for e in covering)
            return min(
                e.export_kw for e in covering if e.priority == best and e.export_kw is not None
            )

        entries = [e for e in self.entries if e.kind == "export_cap" and e.event_id not in exclude]
        return _piecewise(entries, start, end, pick)


def _piecewise[V: (Decimal, float)](
    entries: Sequence[TimelineEntry],
    start: datetime,
    end: datetime,
    pick: Callable[[list[TimelineEntry]], V | None],
) -> list[tuple[datetime, datetime, V]]:
    """The value ``pick`` chooses among the entries covering each piece of ``[start, end)``;
    touching pieces with the same value merge; uncovered pieces are left out."""
    s, e = start.astimezone(UTC), end.astimezone(UTC)
    if e <= s or not entries:
        return []
    bounds = sorted({s, e} | {t for x in entries for t in (x.start, x.end) if s < t < e})
    out: list[tuple[datetime, datetime, V]] = []
    for a, b in pairwise(bounds):
        covering = [x for x in entries if x.start <= a and x.end >= b]
        value = pick(covering) if covering else None
        if value is None:
            continue
        if out and out[-1][1] == a and out[-1][2] == value:
            out[-1] = (out[-1][0], b, value)
        else:
            out.append((a, b, value))
    return out


def _ts(value: datetime) -> float:
    return (value - datetime.min.replace(tzinfo=UTC)).total_seconds()
