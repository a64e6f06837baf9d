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

Priority: lower number wins; an event without priority ranks below every numbered one
(:data:`NO_PRIORITY`). Within one priority the most restrictive cap wins, and for prices the
entry that started later (then the event modified later) wins.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any, Final

from ..core.tariff import CppEvent
from .models import (
    END_OF_TIME,
    Event,
    EventInterval,
    add_duration,
    is_infinite,
    is_now_start,
)
from .targets import TargetDecision, TargetRule

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

NO_PRIORITY: Final = 2**31
"""Rank of an event without ``priority`` (below every numbered priority)."""

_SCALAR_TYPES: Final = frozenset(
    {
        "PRICE",
        "SIMPLE",
        "IMPORT_CAPACITY_LIMIT",
        "IMPORT_CAPACITY_AVAILABLE",
        "IMPORT_CAPACITY_AVAILABLE_PRICE",
    }
)
_POWER_SCALE: Final = {"KW": 1.0, "W": 0.001, "MW": 1000.0}
_PRICE_SCALE: Final = {"KWH": Decimal(1), "WH": Decimal("0.001"), "MWH": Decimal(1000)}
"""Price per unit / this = price per kWh."""
_CAP_KINDS: Final = frozenset({"cap", "level", "alert"})
_MAX_LOOPS: Final = 10_000


@dataclass(frozen=True)
class TimelineEntry:
    """One thing in force over ``[start, end)`` (UTC).

    ``kind``: ``price`` (``price`` per kWh), ``cap`` (``cap_kw``), ``level`` (SIMPLE
    ``level``), ``alert`` (``level`` it is treated as, or None; ``text``), ``available``
    (IMPORT_CAPACITY_AVAILABLE ``cap_kw`` with its ``price``). ``applies_to`` is the PEV IDs
    it applies to, None for all.
    """

    start: datetime
    end: datetime
    event_id: str
    program_id: str
    kind: str
    price: Decimal | None
    cap_kw: float | None
    level: int | None
    priority: int
    name: str | None
    randomize_start: timedelta | None
    applies_to: frozenset[str] | None
    payload_type: str | None = None
    text: str | None = None
    interval_id: int | None = None
    modified: datetime | None = None

    def applies_to_pev(self, pev_id: str | None) -> bool:
        """Whether it applies to a PEV (None: only entries applying to all)."""
        return self.applies_to is None or (pev_id is not None and pev_id in self.applies_to)

    @property
    def label(self) -> str:
        """The event name, else ``event <id>``."""
        return self.name or f"event {self.event_id}"


def _rank(entry: TimelineEntry) -> int:
    return entry.priority


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _float(value: Any) -> float | None:
    number = _decimal(value)
    if number is None:
        return None
    result = float(number)
    return result if result == result and abs(result) != float("inf") else None


def _level(value: Any) -> int | None:
    number = _decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    level = int(number)
    return level if 0 <= level <= 3 else None


class Timeline:
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

    # ------------------------------------------------------------------ building

    def _now_start(self, event: Event) -> datetime:
        return event.created or event.modified or self.now

    def _interval_spans(
        self, event: Event
    ) -> list[tuple[EventInterval, datetime, datetime, timedelta | None]]:
        default = event.period
        spans: list[tuple[EventInterval, datetime, datetime, timedelta | None]] = []
        previous_end: datetime | None = None
        for index, interval in enumerate(event.intervals):
            own = interval.period
            start: datetime | None = own.start if own is not None else None
            if start is None or is_now_start(start):
                if index == 0 or previous_end is None:
                    start = default.start if default is not None else None
                    if start is None or is_now_start(start):
                        start = self._now_start(event)
                else:
                    start = previous_end
            duration = own.duration if own is not None and own.duration is not None else None
            if duration is None and default is not None:
                duration = default.duration
            randomize = own.randomize_start if own is not None else None
            if randomize is None and default is not None:
                randomize = default.randomize_start
            if duration is not None and duration < timedelta(0):
                _LOGGER.warning("event %s interval %s: negative duration", event.id, interval.id)
                continue
            end = END_OF_TIME if duration is None else add_duration(start, duration)
            spans.append((interval, start, end, randomize))
            previous_end = end
        return spans

    def _looped(
        self, event: Event
    ) -> Iterable[tuple[EventInterval, datetime, datetime, timedelta | None]]:
        spans = self._interval_spans(event)
        if not spans:
            return []
        if event.duration is None or event.duration <= timedelta(0):
            return spans
        first = min(s[1] for s in spans)
        last = max(s[2] for s in spans)
        span_end = add_duration(first, event.duration)
        cycle = last - first
        if span_end <= last or last >= END_OF_TIME or cycle <= timedelta(0):
            return [(i, s, min(e, span_end), r) for i, s, e, r in spans if s < span_end]
        limit = (
            min(span_end, self.now + self.horizon)
            if not is_infinite(event.duration)
            else (self.now + self.horizon)
        )
        out = list(spans)
        offset = cycle
        loops = 0
        while first + offset < min(limit, span_end) and loops < _MAX_LOOPS:
            for interval, start, end, randomize in spans:
                s, e = start + offset, min(end + offset, span_end)
                if s < span_end:
                    out.append((interval, s, e, randomize))
            offset += cycle
            loops += 1
        return out

    def _event_entries(
        self, event: Event, applies_to: frozenset[str] | None
    ) -> list[TimelineEntry]:
        priority = event.priority if event.priority is not None else NO_PRIORITY
        price_ok = True
        if self.currency and event.price_currency and event.price_currency != self.currency:
            _LOGGER.warning(
                "event %s: PRICE in %s ignored (tariff currency %s)",
                event.id,
                event.price_currency,
                self.currency,
            )
            price_ok = False
        price_scale = _PRICE_SCALE.get(event.price_units or "KWH", Decimal(1))
        cap_scale = _POWER_SCALE.get(event.units_of("IMPORT_CAPACITY_LIMIT") or "KW", 1.0)
        avail_scale = _POWER_SCALE.get(event.units_of("IMPORT_CAPACITY_AVAILABLE") or "KW", 1.0)
        out: list[TimelineEntry] = []

        def entry(
            kind: str,
            start: datetime,
            end: datetime,
            interval: EventInterval,
            randomize: timedelta | None,
            *,
            price: Decimal | None = None,
            cap_kw: float | None = None,
            level: int | None = None,
            payload_type: str | None = None,
            text: str | None = None,
        ) -> None:
            if end <= start:
                return
            out.append(
                TimelineEntry(
                    start=start,
                    end=end,
                    event_id=event.id,
                    program_id=event.program_id,
                    kind=kind,
                    price=price,
                    cap_kw=cap_kw,
                    level=level,
                    priority=priority,
                    name=event.name,
                    randomize_start=randomize,
                    applies_to=applies_to,
                    payload_type=payload_type,
                    text=text,
                    interval_id=interval.id,
                    modified=event.modified,
                )
            )

        for interval, start, end, randomize in self._looped(event):
            payloads = interval.payloads
            for sub_start, sub_end, values in self._split(start, end, payloads):
                available = _float(values.get("IMPORT_CAPACITY_AVAILABLE"))
                price = _decimal(values.get("PRICE"))
                if price is not None:
                    price = price / price_scale
                if available is not None:
                    avail_price = price
                    if avail_price is None:
                        avail_price = _decimal(values.get("IMPORT_CAPACITY_AVAILABLE_PRICE"))
                    entry(
                        "available",
                        sub_start,
                        sub_end,
                        interval,
                        randomize,
                        price=avail_price if price_ok else None,
                        cap_kw=available * avail_scale,
                        payload_type="IMPORT_CAPACITY_AVAILABLE",
                    )
                elif price is not None and price_ok:
                    entry(
                        "price",
                        sub_start,
                        sub_end,
                        interval,
                        randomize,
                        price=price,
                        payload_type="PRICE",
                    )
                cap = _float(values.get("IMPORT_CAPACITY_LIMIT"))
                if cap is not None:
                    entry(
                        "cap",
                        sub_start,
                        sub_end,
                        interval,
                        randomize,
                        cap_kw=max(0.0, cap * cap_scale),
                        payload_type="IMPORT_CAPACITY_LIMIT",
                    )
                if "SIMPLE" in values:
                    level = _level(values["SIMPLE"])
                    if level is None:
                        _LOGGER.warning("event %s: ignoring SIMPLE %r", event.id, values["SIMPLE"])
                    else:
                        entry(
                            "level",
                            sub_start,
                            sub_end,
                            interval,
                            randomize,
                            level=level,
                            payload_type="SIMPLE",
                        )
            for kind, raw_values in payloads.items():
                if not kind.startswith("ALERT_"):
                    continue
                text = "; ".join(str(v) for v in raw_values if isinstance(v, (str, int, float)))
                entry(
                    "alert",
                    start,
                    end,
                    interval,
                    randomize,
                    level=self.alert_levels.get(kind),
                    payload_type=kind,
                    text=text or None,
                )
        return out

    @staticmethod
    def _split(
        start: datetime, end: datetime, payloads: Mapping[str, list[Any]]
    ) -> list[tuple[datetime, datetime, dict[str, Any]]]:
        """Sub-intervals of a multi-valued scalar payload, with one value per type each."""
        scalar = {k: v for k, v in payloads.items() if k in _SCALAR_TYPES and v}
        if not scalar:
            return []
        count = max(len(v) for v in scalar.values())
        if count == 1 or end >= END_OF_TIME:
            return [(start, end, {k: v[0] for k, v in scalar.items()})]
        step = (end - start) / count
        out: list[tuple[datetime, datetime, dict[str, Any]]] = []
        for i in range(count):
            sub_start = start + step * i
            sub_end = end if i == count - 1 else start + step * (i + 1)
            values = {
                k: (v[i] if len(v) == count else v[min(i, len(v) - 1)]) for k, v in scalar.items()
            }
            out.append((sub_start, sub_end, values))
        return out

    # ------------------------------------------------------------------ queries

    def for_pev(self, pev_id: str | None) -> list[TimelineEntry]:
        """Entries applying to a PEV (None: those applying to the whole premise)."""
        return [e for e in self.entries if e.applies_to_pev(pev_id)]

    def price_overlays(self, pev_id: str | None) -> list[CppEvent]:
        """PRICE entries as non-overlapping :class:`CppEvent` overlays for ``OverlayTariff``.

        Overlaps are resolved here (lower priority number wins; same priority: the later start,
        then the later modification), so the OverlayTariff's own rule never has to choose. The
        overlay's period name is the event name (else ``event <id>``). Infinite prices end at
        :data:`~.models.END_OF_TIME`.
        """
        prices = [e for e in self.for_pev(pev_id) if e.kind == "price" and e.price is not None]
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


def _ts(value: datetime) -> float:
    return (value - datetime.min.replace(tzinfo=UTC)).total_seconds()
