"""Which events touch a session, and the planner's inputs without one of them (settlement).

An event *touches* an open session when it is not over yet, starts within the plan's horizon
and concerns the session's vehicle:

* a local load-control event with a limit (every charger), a local price event (sessions on
  the program rate); not a commissioning test (a local event for one vehicle: it is verified
  by the enrollment, not settled);
* a utility event with load-control entries (``IMPORT_CAPACITY_LIMIT``, ``SIMPLE``, alerts)
  that apply to the vehicle, unless it is a commissioning test event
  (:func:`~.openadr.program_rules.is_test_event`: the enrollment verifies and reports it); a utility price event only for a session on the program rate and
  only when one of its prices is above the base tariff's at its start (a critical peak: a
  real-time price program's ordinary prices are not events to settle).

:func:`counterfactual_inputs` builds :class:`~.core.settlement.PlanningInputs` of every plugged-in
session in which the event's own caps and price overlays carry a name unique to the event
(``settlement:<event ID>``), and every other event is as the planner sees it: stripping that
name (:func:`~.core.settlement.without_event`) gives exactly the inputs without the event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from .const import PLAN_HORIZON_HOURS
from .core.planner import PowerCap
from .core.settlement import EventWindow, PlanningInputs
from .core.summary import tariff_for
from .core.tariff import CppEvent, OverlayTariff, Tariff
from .openadr.program_rules import is_test_event
from .openadr.timeline_build import TimelineEntry
from .program_events import (
    CAP_KINDS,
    KIND_LOAD_CONTROL,
    KIND_PRICE,
    SOURCE_LOCAL,
    SOURCE_UTILITY,
    ProgramEvents,
)
from .runtime import ChargerRuntime

if TYPE_CHECKING:
    from .charging import SmartCharging

LOCAL_PROGRAM = "local"
HORIZON = timedelta(hours=PLAN_HORIZON_HOURS)


@dataclass(frozen=True, slots=True)
class Touch:
    """An event as it touches sessions (local or the utility's)."""

    event_id: str
    program_id: str
    source: str
    kind: str
    name: str
    start: datetime
    end: datetime
    limit_kw: float | None = None  # a local load-control event's limit
    price: float | None = None  # a local price event's price

    @property
    def unique_name(self) -> str:
        """The name of its caps and overlays in the counterfactual's inputs."""
        return f"settlement:{self.event_id}"

    def as_dict(self) -> dict[str, object]:
        """Its stored description (the row's ``event`` column adds the rest)."""
        return {
            "source": self.source,
            "kind": self.kind,
            "limit_kw": self.limit_kw,
            "price": self.price,
        }


def touching(events: ProgramEvents, pev_id: str, program_rate: bool, now: datetime) -> list[Touch]:
    """The events touching an open session of ``pev_id`` (see the module docstring)."""
    horizon = now + HORIZON
    found: list[Touch] = []
    for e in events.local:
        if e.end <= now or e.start >= horizon or e.pev_id is not None:
            continue  # over, too far, or a commissioning test (verified, not settled)
        if (e.kind == KIND_LOAD_CONTROL and e.is_cap) or (
            e.kind == KIND_PRICE and e.price is not None and program_rate
        ):
            found.append(
                Touch(
                    e.event_id,
                    LOCAL_PROGRAM,
                    SOURCE_LOCAL,
                    e.kind,
                    e.name,
                    e.start,
                    e.end,
                    e.limit_kw,
                    e.price,
                )
            )
    link = events.link
    if link is None:
        return found
    by_event: dict[str, list[TimelineEntry]] = {}
    for entry in link.timeline.entries:
        if (entry.kind in CAP_KINDS or entry.kind == "price") and entry.applies_to_pev(pev_id):
            by_event.setdefault(entry.event_id, []).append(entry)
    for event_id, entries in by_event.items():
        event = link.state.events.get(event_id)
        if event is not None and is_test_event(event):
            continue  # a commissioning test: verified and reported by the enrollment
        start = min(e.start for e in entries)
        end = max(e.end for e in entries)
        if end <= now or start >= horizon:
            continue
        load_control = any(e.kind != "price" for e in entries)
        if not load_control:
            if not program_rate:
                continue
            if not any(
                e.price is not None and e.price > events.base_tariff.price_at(e.start).price
                for e in entries
            ):
                continue
        first = entries[0]
        found.append(
            Touch(
                event_id,
                first.program_id,
                SOURCE_UTILITY,
                KIND_LOAD_CONTROL if load_control else KIND_PRICE,
                first.label,
                start,
                end,
            )
        )
    return found


def event_limits(
    events: ProgramEvents, touch: Touch, runtime: ChargerRuntime | None, pev_id: str | None
) -> tuple[tuple[datetime, datetime, float], ...]:
    """The event's power limits on the vehicle, ``(start, end, kW)`` (none for a price event)."""
    if touch.kind != KIND_LOAD_CONTROL:
        return ()
    if touch.source == SOURCE_LOCAL:
        return () if touch.limit_kw is None else ((touch.start, touch.end, touch.limit_kw),)
    if runtime is None:
        return ()
    return tuple((s, e, kw) for s, e, kw, _ in _own_caps(events, touch, runtime, pev_id))


def event_window(
    touch: Touch,
    start: datetime,
    end: datetime,
    limits: tuple[tuple[datetime, datetime, float], ...],
) -> EventWindow:
    """The event as it touched the session over ``[start, end)``, under its unique name."""
    name = frozenset({touch.unique_name})
    return EventWindow(
        touch.event_id,
        touch.program_id,
        start,
        end,
        cap_names=name if touch.kind == KIND_LOAD_CONTROL else frozenset(),
        price_names=name if touch.kind == KIND_PRICE else frozenset(),
        limits=limits,
    )


def _others(events: ProgramEvents, touch: Touch) -> set[str]:
    link = events.link
    if link is None:
        return set()
    return {e.event_id for e in link.timeline.entries if e.event_id != touch.event_id}


def _own_caps(
    events: ProgramEvents, touch: Touch, runtime: ChargerRuntime, pev_id: str | None
) -> list[tuple[datetime, datetime, float, str]]:
    """A utility event's own caps on the vehicle (the other events left out)."""
    link = events.link
    if link is None:
        return []
    adapter = runtime.adapter
    return link.timeline.caps(
        pev_id,
        touch.start,
        touch.end,
        adapter.max_power_kw(),
        adapter.min_power_kw(),
        exclude=_others(events, touch),
    )


def _own_overlays(events: ProgramEvents, touch: Touch, pev_id: str | None) -> list[CppEvent]:
    """A price event's own price overlays, under the event's unique name."""
    if touch.kind != KIND_PRICE:
        return []
    if touch.source == SOURCE_LOCAL:
        if touch.price is None:
            return []
        return [CppEvent(touch.start, touch.end, Decimal(str(touch.price)), touch.unique_name)]
    link = events.link
    if link is None:
        return []
    return [
        replace(o, name=touch.unique_name)
        for o in link.timeline.price_overlays(pev_id, _others(events, touch))
    ]


def _with(tariff: Tariff, overlays: Iterable[CppEvent]) -> Tariff:
    found = list(overlays)
    return OverlayTariff(tariff, found) if found else tariff


def counterfactual_inputs(
    smart: SmartCharging, events: ProgramEvents, touch: Touch, now: datetime
) -> PlanningInputs:
    """Every plugged-in session's planner inputs with the event under its unique name."""
    base, _ = smart.build_inputs(now)
    runtimes = smart.premise.chargers
    caps: list[PowerCap] = []
    requests = []
    local_added = False
    for request in base.requests:
        runtime = runtimes[request.vehicle_id]
        session = runtime.session
        if session is None:  # pragma: no cover - build_inputs only lists plugged-in sessions
            continue
        adapter = runtime.adapter
        for cap in events.caps(
            session.pev_id,
            runtime.charger_id,
            adapter.max_power_kw(),
            adapter.min_power_kw(),
            exclude=(touch.event_id,),
        ):
            if cap.vehicle_ids is None and local_added:
                continue
            caps.append(cap)
        local_added = True
        if touch.source == SOURCE_UTILITY and touch.kind == KIND_LOAD_CONTROL:
            caps.extend(
                PowerCap(s, e, kw, touch.unique_name, frozenset({runtime.charger_id}))
                for s, e, kw, _ in _own_caps(events, touch, runtime, session.pev_id)
            )
        program = events.tariff_for(session.pev_id, exclude=touch.event_id)
        tariff = tariff_for(session, program, events.default_tariff)
        if tariff is program:  # the program rate: the event's prices apply
            tariff = _with(tariff, _own_overlays(events, touch, session.pev_id))
        requests.append(replace(request, tariff=tariff))
    if touch.source == SOURCE_LOCAL and touch.limit_kw is not None:
        caps.append(PowerCap(touch.start, touch.end, float(touch.limit_kw), touch.unique_name))
    premise_tariff = _with(
        events.tariff_for(None, exclude=touch.event_id), _own_overlays(events, touch, None)
    )
    return PlanningInputs(
        requests=tuple(requests),
        now=now,
        tariff=premise_tariff,
        caps=tuple(caps),
        circuit_kw=base.circuit_kw,
        solar=base.solar,
        horizon=HORIZON,
    )
