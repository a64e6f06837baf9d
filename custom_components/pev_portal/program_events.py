"""One view of the program's events: the premise's local events and the utility's timeline.

Every question about events is answered here, once: which event is in force or next, which
load-control limits bind a session now and over the plan's horizon, what opting out is allowed
and costs, and the program tariff (the base tariff with the price events as overlays). One
timer wakes the premise at the next event boundary.

Listeners (smart charging, notifications, the entities) hear of two things:

* ``changed``: the events themselves changed (a local event added, the utility's events
  updated, an opt-out). :attr:`ProgramEvents.version` moves; the plan's inputs may differ.
* ``boundary``: an event started or ended. The plan's inputs are the same (the caps are given
  with their own fixed windows, never clipped at "now"), so nothing is replanned; the limit in
  force is applied to the chargers.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .core.planner import PowerCap
from .core.summary import tariff_for
from .core.tariff import CppEvent, OverlayTariff, Tariff
from .event_types import (
    CAP_KINDS,
    EXPORT_CAP,
    EXPORT_PRICE,
    KIND_EXPORT_LIMIT,
    KIND_EXPORT_PRICE,
    KIND_LOAD_CONTROL,
    KIND_PRICE,
    SOURCE_LOCAL,
    SOURCE_UTILITY,
    LocalEvent,
    ProgramEvent,
)
from .export_signals import ExportSignals
from .openadr.models import event_mandatory, opt_out_consequence
from .ports import Premise
from .runtime import ChargerRuntime
from .texts import async_texts, text

if TYPE_CHECKING:
    from .openadr.timeline import Timeline, TimelineEntry
    from .utility import UtilityLink

__all__ = [
    "CAP_KINDS",
    "KIND_EXPORT_LIMIT",
    "KIND_EXPORT_PRICE",
    "KIND_LOAD_CONTROL",
    "KIND_PRICE",
    "SOURCE_LOCAL",
    "SOURCE_UTILITY",
    "LocalEvent",
    "ProgramEvent",
    "ProgramEvents",
]

_LOGGER = logging.getLogger(__name__)

REASON_CHANGED = "changed"
REASON_BOUNDARY = "boundary"

type EventsListener = Callable[[str], None]
_EXPORT_KINDS = {EXPORT_PRICE: KIND_EXPORT_PRICE, EXPORT_CAP: KIND_EXPORT_LIMIT}


def _is_export(entry: TimelineEntry) -> bool:
    return entry.kind in _EXPORT_KINDS


class ProgramEvents:
    """The events of the premise's program (see the module docstring)."""

    def __init__(self, premise: Premise, base_tariff: Tariff, default_tariff: Tariff) -> None:
        self.premise = premise
        self.base_tariff = base_tariff
        self.default_tariff = default_tariff
        self.link: UtilityLink | None = None
        self.local: list[LocalEvent] = []
        self.opted_out: set[str] = set()
        self.version = 0
        self._tariffs: dict[str | None, Tariff] = {}
        self._listeners: list[EventsListener] = []
        self._timer: CALLBACK_TYPE | None = None
        self._timer_at: datetime | None = None
        self.export = ExportSignals(
            premise.hass, {**premise.entry.data, **premise.entry.options}, self._changed
        )

    # -- life cycle ---------------------------------------------------------------------

    def load(self, rows: Sequence[dict[str, Any]]) -> None:
        """The stored local events (those not over)."""
        self.local = sorted((LocalEvent.from_row(r) for r in rows), key=lambda e: e.start)
        self._changed(notify=False)

    @callback
    def add_listener(self, listener: EventsListener) -> CALLBACK_TYPE:
        """Hear of changes and boundaries (see the module docstring)."""
        self._listeners.append(listener)

        @callback
        def _remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return _remove

    @callback
    def start(self) -> None:
        """Start the boundary timer (and follow the feed-in price sensor)."""
        self._schedule_boundary()
        self.export.start()

    @callback
    def stop(self) -> None:
        """Stop the boundary timer (at unload)."""
        self.export.stop()
        if self._timer is not None:
            self._timer()
            self._timer = None
        self._timer_at = None

    # -- changes ------------------------------------------------------------------------

    @callback
    def timeline_changed(self) -> None:
        """The utility's events changed (a push, a poll, a binding)."""
        self._changed()

    @callback
    def set_base_tariff(self, tariff: Tariff) -> bool:
        """Replace the base tariff (a price entity published new prices).

        Only a tariff whose :attr:`~.core.tariff.Tariff.fingerprint` differs counts as a change:
        the cached program tariffs are dropped, the version moves and the listeners hear
        ``changed`` (the plan replans); an equal one is ignored. Returns whether it changed.
        """
        if tariff.fingerprint == self.base_tariff.fingerprint:
            return False
        self.base_tariff = tariff
        self._changed()
        return True

    def _changed(self, *, notify: bool = True) -> None:
        self.version += 1
        self._tariffs.clear()
        self._schedule_boundary()
        if notify:
            self._notify(REASON_CHANGED)

    def _notify(self, reason: str) -> None:
        for listener in list(self._listeners):
            listener(reason)

    def _schedule_boundary(self) -> None:
        """One timer, at the next start or end of any event (local or the utility's)."""
        now = dt_util.utcnow()
        upcoming = [t for t in self.boundaries() if t > now]
        wake = min(upcoming) if upcoming else None
        if wake == self._timer_at and self._timer is not None:
            return
        if self._timer is not None:
            self._timer()
            self._timer = None
        self._timer_at = wake
        if wake is not None and self.premise.hass.is_running:
            self._timer = async_track_point_in_utc_time(self.premise.hass, self._on_boundary, wake)

    @callback
    def _on_boundary(self, _now: datetime) -> None:
        self._timer = None
        self._timer_at = None
        self._schedule_boundary()
        self._notify(REASON_BOUNDARY)

    def boundaries(self) -> list[datetime]:
        """Every start and end of the events known (local and the utility's)."""
        times = [t for e in self.local for t in (e.start, e.end)]
        if self.link is not None:
            times.extend(t for e in self.link.timeline.entries for t in (e.start, e.end))
        return times

    async def async_add_local(
        self,
        kind: str,
        start: datetime,
        end: datetime,
        *,
        price: float | None = None,
        limit_kw: float | None = None,
        name: str | None = None,
        pev_id: str | None = None,
    ) -> str:
        """Add a local price, load-control, export-price or export-limit event (programs
        without a utility link); with ``pev_id`` it limits that vehicle's sessions only (a
        commissioning test). An export event's value is ``price`` (per kWh exported) or
        ``limit_kw`` (the premise's export limit)."""
        if end <= start:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="event_end_before_start"
            )
        if kind in (KIND_PRICE, KIND_EXPORT_PRICE) and price is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="event_needs_price"
            )
        if kind in (KIND_LOAD_CONTROL, KIND_EXPORT_LIMIT) and limit_kw is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="event_needs_limit"
            )
        event_id = uuid.uuid4().hex
        if not name:  # named after its kind, in Home Assistant's language
            name = text(
                await async_texts(self.premise.hass), f"local_event_name_{kind}", default=kind
            )
        data: dict[str, Any] = {"name": name, "price": price, "limit_kw": limit_kw}
        if pev_id is not None:
            data["pev_id"] = pev_id
        start_utc, end_utc = dt_util.as_utc(start), dt_util.as_utc(end)
        premise_id = self.premise.premise_id
        await self.premise.store.call(
            lambda s: s.add_local_event(event_id, kind, start_utc, end_utc, data, premise_id)
        )
        event = LocalEvent(event_id, kind, start_utc, end_utc, name, price, limit_kw, pev_id)
        self.local = sorted([*self.local, event], key=lambda e: e.start)
        self._changed()
        return event_id

    # -- tariffs --------------------------------------------------------------------------

    @property
    def program_tariff(self) -> Tariff:
        """The program tariff for the premise as a whole."""
        return self.tariff_for(None)

    def tariff_for(self, pev_id: str | None, *, exclude: str | None = None) -> Tariff:
        """The program tariff with local price events and the utility's prices for a PEV.

        The same object until the events change (cheap to compare). ``exclude``: without that
        event's prices (what the tariff would be without it; not cached).
        """
        if exclude is None and pev_id in self._tariffs:
            return self._tariffs[pev_id]
        overlays = [
            CppEvent(e.start, e.end, Decimal(str(e.price)), e.name)
            for e in self.local
            if e.kind == KIND_PRICE and e.price is not None and e.event_id != exclude
        ]
        if self.link is not None:
            overlays.extend(
                self.link.timeline.price_overlays(pev_id, () if exclude is None else (exclude,))
            )
        tariff = OverlayTariff(self.base_tariff, overlays) if overlays else self.base_tariff
        if exclude is None:
            self._tariffs[pev_id] = tariff
        return tariff

    def tariff_of(self, runtime: ChargerRuntime) -> Tariff:
        """The tariff the charger's session is priced on (the program's when idle)."""
        if runtime.session is None:
            return self.program_tariff
        return tariff_for(
            runtime.session, self.tariff_for(runtime.session.pev_id), self.default_tariff
        )

    # -- events in force ----------------------------------------------------------------

    def active(self, now: datetime | None = None) -> ProgramEvent | None:
        """The event in force now: a local one, else the utility's (lowest priority number).

        An event of the power feed (export price or limit) is shown only when no price or
        load-control event is in force (charging's events come first), as what it is.
        """
        now = now or dt_util.utcnow()
        local = [self._local(e) for e in self.local if e.start <= now < e.end]
        if local:
            return min(local, key=lambda e: e.is_export)
        if self.link is not None:
            active = sorted(
                self.link.timeline.active(now), key=lambda e: (_is_export(e), e.priority)
            )
            if active:
                return self._utility(active[0])
        return None

    def next(self, now: datetime | None = None) -> ProgramEvent | None:
        """The next event to start, local or the utility's (at one start, charging's first)."""
        now = now or dt_util.utcnow()
        found = [self._local(e) for e in self.local if e.start > now]
        if self.link is not None:
            upcoming = [e for e in self.link.timeline.entries if e.start > now]
            if upcoming:
                found.append(
                    self._utility(min(upcoming, key=lambda e: (e.start, _is_export(e), e.priority)))
                )
        return min(found, key=lambda e: (e.start, e.is_export)) if found else None

    def local_events(self) -> list[ProgramEvent]:
        """The local events known (not over), as program events."""
        return [self._local(e) for e in self.local]

    def load_control_in_force(self, pev_id: str | None, now: datetime) -> list[ProgramEvent]:
        """The load-control events in force on a session of this PEV (opted out or not)."""
        found: dict[str, ProgramEvent] = {}
        if self.link is not None:
            for entry in self.link.timeline.active(now):
                if entry.kind in CAP_KINDS and entry.applies_to_pev(pev_id):
                    found.setdefault(entry.event_id, self._utility(entry))
        for e in self.local:
            if e.kind == KIND_LOAD_CONTROL and e.start <= now < e.end and e.applies(pev_id):
                found.setdefault(e.event_id, self._local(e))
        return list(found.values())

    def export_limits_in_force(self, now: datetime) -> list[ProgramEvent]:
        """The export-limit events in force on the premise (opted out or not)."""
        found: dict[str, ProgramEvent] = {}
        if self.link is not None:
            for entry in self.link.timeline.active(now):
                if entry.kind == EXPORT_CAP:
                    found.setdefault(entry.event_id, self._utility(entry))
        for e in self.local:
            if e.kind == KIND_EXPORT_LIMIT and e.start <= now < e.end:
                found.setdefault(e.event_id, self._local(e))
        return list(found.values())

    def _in_force(self, pev_id: str | None, now: datetime, export: bool) -> list[ProgramEvent]:
        if export:
            return self.export_limits_in_force(now)
        return self.load_control_in_force(pev_id, now)

    def announced(self, now: datetime) -> list[ProgramEvent]:
        """Load-control and critical-peak price events in force now (for notifications).

        A utility price event counts as critical peak when its price is above the base tariff's
        price at its start (a real-time price program's ordinary prices are not announced).
        """
        found = [self._local(e) for e in self.local if e.start <= now < e.end]
        link = self.link
        if link is None:
            return found
        found.extend(self.export.announced(link.timeline, now))
        kinds = (*CAP_KINDS, "price")
        active = {e.event_id for e in link.timeline.active(now) if e.kind in kinds}
        for event_id in sorted(active):
            entries = [
                e for e in link.timeline.entries if e.event_id == event_id and e.kind in kinds
            ]
            start = min(e.start for e in entries)
            caps = [e.cap_kw for e in entries if e.kind == "cap" and e.cap_kw is not None]
            prices = [e.price for e in entries if e.kind == "price" and e.price is not None]
            load_control = any(e.kind != "price" for e in entries)
            price = float(prices[0]) if prices else None
            if not load_control:
                base = float(self.base_tariff.price_at(start).price)
                if price is None or price <= base:
                    continue
            applies_to: frozenset[str] | None = frozenset()
            for entry in entries:
                if entry.applies_to is None or applies_to is None:
                    applies_to = None
                else:
                    applies_to |= entry.applies_to
            found.append(
                ProgramEvent(
                    event_id=event_id,
                    kind=KIND_LOAD_CONTROL if load_control else KIND_PRICE,
                    name=entries[0].label,
                    start=start,
                    end=max(e.end for e in entries),
                    source=SOURCE_UTILITY,
                    price=price,
                    limit_kw=min(caps) if caps else None,
                    applies_to=applies_to,
                )
            )
        return found

    # -- power feed: export prices and limits (issue #18) ---------------------------------

    def export_prices(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime, float]]:
        """The price paid per kWh fed to the grid over ``start .. end``, piecewise and sorted
        (a time no segment covers: no export price known, export is worth nothing then).

        The utility's EXPORT_PRICE events over the feed-in price sensor over the tariff's
        export rate (:mod:`.export_signals`).
        """
        local = self._local_export(KIND_EXPORT_PRICE)
        return self.export.prices(start, end, self._timeline(), local)

    def export_limits(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime, float]]:
        """The premise's export limit (kW) over ``start .. end``, piecewise and sorted (a time
        no segment covers: no limit).

        The smaller of the configured limit and the utility's EXPORT_CAPACITY_LIMIT events
        (those opted out of left out; :mod:`.export_signals`).
        """
        return self.export.limits(
            start, end, self._timeline(), self.opted_out, self._local_export(KIND_EXPORT_LIMIT)
        )

    def _timeline(self) -> Timeline | None:
        return self.link.timeline if self.link is not None else None

    def _local_export(self, kind: str) -> list[tuple[datetime, datetime, float]]:
        """The local export events of a kind as pieces (those opted out of left out)."""
        return [
            (e.start, e.end, value)
            for e in self.local
            if e.kind == kind
            and e.event_id not in self.opted_out
            and (value := e.price if kind == KIND_EXPORT_PRICE else e.limit_kw) is not None
        ]

    # -- load-control limits --------------------------------------------------------------

    def caps(
        self,
        pev_id: str | None,
        charger_id: str,
        max_kw: float,
        min_kw: float,
        *,
        exclude: Collection[str] = (),
    ) -> list[PowerCap]:
        """The load-control limits on a session over time, for the planner.

        Local limits (for every charger) and the utility's (this charger's vehicle), the events
        opted out of (and those in ``exclude``) left out, each with its own fixed window: the
        list only changes when the events do.
        """
        left_out = self.opted_out.union(exclude)
        caps = [
            PowerCap(
                e.start,
                e.end,
                float(e.limit_kw),
                e.name,
                frozenset({charger_id}) if e.pev_id is not None else None,
            )
            for e in self.local
            if e.is_cap
            and e.limit_kw is not None
            and e.event_id not in left_out
            and e.applies(pev_id)
        ]
        link = self.link
        if link is not None and (window := link.timeline.cap_window(pev_id)) is not None:
            caps.extend(
                PowerCap(start, end, cap, name, frozenset({charger_id}))
                for start, end, cap, name in link.timeline.caps(
                    pev_id, window[0], window[1], max_kw, min_kw, exclude=left_out
                )
            )
        return caps

    def limit_now(
        self, pev_id: str | None, now: datetime, max_kw: float, min_kw: float
    ) -> tuple[float, ProgramEvent] | None:
        """The load-control limit in force on a session now (kW) and the event it comes from.

        The smallest of the local limits in force and the utility's binding cap; events opted
        out of do not count. None: nothing limits the session.
        """
        best: tuple[float, ProgramEvent] | None = None
        for e in self.local:
            if (
                e.is_cap
                and e.start <= now < e.end
                and e.event_id not in self.opted_out
                and e.applies(pev_id)
            ):
                assert e.limit_kw is not None
                if best is None or e.limit_kw < best[0]:
                    best = (e.limit_kw, self._local(e))
        if self.link is not None:
            found = self.link.timeline.binding(pev_id, now, max_kw, min_kw, self.opted_out)
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], self._utility(found[1]))
        return best

    # -- opting out -----------------------------------------------------------------------

    def opted_out_now(
        self, pev_id: str | None, now: datetime | None = None, *, export: bool = False
    ) -> bool:
        """True when the user opted out of every load-control event in force on the session
        (``export``: of every export limit in force)."""
        events = self._in_force(pev_id, now or dt_util.utcnow(), export)
        return bool(events) and all(e.event_id in self.opted_out for e in events)

    def consequences(
        self, pev_id: str | None, now: datetime | None = None, *, export: bool = False
    ) -> list[str]:
        """What opting out of the events in force costs, as their programs declare it."""
        events = self._in_force(pev_id, now or dt_util.utcnow(), export)
        return list(dict.fromkeys(e.opt_out_consequence for e in events if e.opt_out_consequence))

    @callback
    def opt_out(
        self, pev_id: str | None, *, confirm: bool = False, export: bool = False
    ) -> list[str]:
        """Opt a session out of the load-control events in force (not of mandatory ones);
        ``export``: the premise out of the export limits in force instead.

        Each on its own: opting out of a charging limit (to charge) leaves an export limit in
        force, and opting out of an export limit (to feed more) leaves a charging limit in
        force. When a program declares what opting out costs, the customer must have seen it:
        without ``confirm`` the opt-out is refused with the consequence in the message.
        """
        now = dt_util.utcnow()
        events = self._in_force(pev_id, now, export)
        if not events:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="no_active_event"
            )
        if any(e.mandatory for e in events):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="event_mandatory"
            )
        if (consequences := self.consequences(pev_id, now, export=export)) and not confirm:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="opt_out_needs_confirmation",
                translation_placeholders={"consequence": " ".join(consequences)},
            )
        ids = [e.event_id for e in events]
        self.opted_out.update(ids)
        self._changed()
        return ids

    # -- utility details --------------------------------------------------------------------

    def start_spread(self, at: datetime) -> timedelta | None:
        """The ``randomizeStart`` of a utility event with a boundary at ``at``, if any."""
        if self.link is None:
            return None
        spreads = [
            e.randomize_start
            for e in self.link.timeline.entries
            if e.randomize_start is not None and at in (e.start, e.end)
        ]
        return max(spreads) if spreads else None

    def _local(self, event: LocalEvent) -> ProgramEvent:
        return event.as_program()

    def _utility(self, entry: TimelineEntry) -> ProgramEvent:
        """A utility timeline entry as a program event."""
        assert self.link is not None
        event = self.link.state.events.get(entry.event_id)
        program = next(
            (p for p in self.link.state.programs if event and p.id == event.program_id), None
        )
        mandatory = event is None or event_mandatory(event, program)
        kind = KIND_PRICE if entry.price is not None else KIND_LOAD_CONTROL
        if entry.kind in _EXPORT_KINDS:
            kind = _EXPORT_KINDS[entry.kind]
        return ProgramEvent(
            event_id=entry.event_id,
            kind=kind,
            name=entry.name or entry.label,
            start=entry.start,
            end=entry.end,
            source=SOURCE_UTILITY,
            price=float(entry.price) if entry.price is not None else None,
            limit_kw=entry.cap_kw,
            level=entry.level,
            mandatory=mandatory,
            opt_out_consequence=(
                opt_out_consequence(event, program) if event is not None else None
            ),
            applies_to=entry.applies_to,
            export_price=float(entry.export_price) if entry.export_price is not None else None,
            export_limit_kw=entry.export_kw,
        )

    def diagnostics(self) -> dict[str, Any]:
        """The view's state, for diagnostics (no identifiers)."""
        return {
            "version": self.version,
            "local_events": len(self.local),
            "opted_out": len(self.opted_out),
            "next_boundary": self._timer_at.isoformat() if self._timer_at else None,
        }
