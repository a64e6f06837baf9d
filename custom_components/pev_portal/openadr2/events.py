"""OpenADR 2.0b events -> the events the one timeline is built from.

The input is an ``oadrEvent`` as ``openleadr.messaging.parse_message`` gives it (snake_case
keys, datetimes and timedeltas parsed). With xmltodict 1.x (Home Assistant's ``rest``,
``scrape`` and ``fritz`` integrations pin 1.0.4, openleadr pins 0.13.0) some strings arrive as
``{"#text": value}``: they are unwrapped here.

Mapping (docs/utility-profile.md, "OpenADR 2.0b"):

* ``ELECTRICITY_PRICE`` ``price`` -> ``PRICE`` (``currencyPerKWh``/``currencyPerMWh``
  item base: currency and unit); ``priceRelative`` -> the base tariff's price at the interval's
  start plus the value; ``priceMultiplier`` -> times the value (without a base price: skipped).
* ``SIMPLE`` ``level`` 0-3 -> ``SIMPLE`` (the level map decides the cap).
* ``LOAD_DISPATCH`` ``setpoint`` and ``LOAD_CONTROL`` ``x-loadControlSetpoint`` ->
  ``IMPORT_CAPACITY_LIMIT`` (``powerReal`` item base: W, kW or MW; none: kW);
  ``LOAD_CONTROL`` ``x-loadControlCapacity`` (0-1) -> a fraction of the charger's maximum.
  ``delta``, ``multiplier``, ``x-loadControlLevelOffset`` and ``x-loadControlPercentOffset``
  need a baseline the premise does not have: skipped (logged, named in diagnostics).
* Targets: none, the VEN's ``venID``, the premise (``resourceID`` or ``partyID`` = premise
  ID), a ``groupID`` or a ``partyID`` -> every vehicle (the VTN delivers an event only to the
  VENs it targets, so delivery is the grant); ``resourceID`` = a PEV ID -> that vehicle; a
  ``resourceID`` naming neither -> no vehicle.
* ``priority`` 0 means "no priority" (the lowest) in 2.0b; ``tolerance.startafter`` is the
  start randomization; a program listed as mandatory makes its events mandatory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from ..openadr.models import Event, EventInterval, IntervalPeriod

_LOGGER = logging.getLogger(__name__)

STATUS_CANCELLED: Final = "cancelled"
STATUS_COMPLETED: Final = "completed"
CAPACITY_FRACTION: Final = "X_LOAD_CONTROL_CAPACITY"
"""The 3.1-side payload type of ``x-loadControlCapacity``: a fraction of the maximum."""

_POWER_UNITS: Final = {"none": "W", "k": "KW", "M": "MW"}
_PRICE_UNITS: Final = {"currencyPerKWh": "KWH", "currencyPerMWh": "MWH"}

type BasePrice = Callable[[datetime], Decimal | None]


def text(value: Any) -> str | None:
    """A string field, unwrapped from xmltodict 1.x's ``{"#text": ...}``; None if absent."""
    if isinstance(value, Mapping):
        value = value.get("#text")
    if value is None or isinstance(value, (dict, list)):
        return None
    result = str(value).strip()
    return result or None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, Mapping):
        value = value.get("#text")
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _span(value: Any) -> timedelta | None:
    return value if isinstance(value, timedelta) else None


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


@dataclass(frozen=True)
class EventContext:
    """What the VEN knows to read an event: who it is, its vehicles, its programs."""

    ven_name: str
    premise_id: str
    pev_ids: Sequence[str]
    ven_id: str | None = None
    groups: frozenset[str] = frozenset()
    mandatory_programs: frozenset[str] = frozenset()
    base_price: BasePrice | None = None


@dataclass(frozen=True)
class Oadr2Event:
    """One 2.0b event as the VEN keeps it: its descriptor and its 3.1-shaped twin.

    ``event`` is None when nothing in it can be acted on (``skipped`` says why).
    """

    event_id: str
    modification_number: int
    status: str
    market_context: str
    response_required: bool
    test_event: bool
    mandatory: bool
    event: Event | None
    skipped: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def over(self) -> bool:
        """Cancelled or completed: it leaves the timeline."""
        return self.status in (STATUS_CANCELLED, STATUS_COMPLETED)


def _targets(raw: Mapping[str, Any], ctx: EventContext) -> tuple[dict[str, Any], ...]:
    """The event's 2.0b targets as the 3.1 typed targets the timeline's rule reads."""
    found = [t for t in _list(raw.get("targets")) if isinstance(t, Mapping)]
    if not found:
        return ()
    ven_wide = False
    pevs: list[str] = []
    named_other = False
    for target in found:
        for key, value in target.items():
            for item in _list(value):
                name = text(item)
                if name is None:
                    continue
                if key == "ven_id":
                    ven_wide |= name in (ctx.ven_id, ctx.ven_name)
                    named_other |= name not in (ctx.ven_id, ctx.ven_name)
                elif key == "resource_id":
                    if name in ctx.pev_ids:
                        pevs.append(name)
                    elif name == ctx.premise_id:
                        ven_wide = True
                    else:
                        named_other = True
                elif key in ("group_id", "group_name", "party_id"):
                    # Delivered to this VEN: it is in the group / the party's.
                    ven_wide = True
                else:
                    named_other = True
    if ven_wide:
        return ({"type": "VEN_NAME", "values": [ctx.ven_name]},)
    if pevs:
        return ({"type": "RESOURCE_NAME", "values": sorted(set(pevs))},)
    if named_other:  # names only other VENs or resources: no vehicle of ours
        return ({"type": "RESOURCE_NAME", "values": []},)
    return ()


@dataclass
class _Signal:
    payload_type: str
    descriptor: dict[str, Any] | None
    convert: Callable[[Decimal, datetime], Decimal | None]


def _signal(signal: Mapping[str, Any], ctx: EventContext, why: list[str]) -> _Signal | None:
    name = (text(signal.get("signal_name")) or "").upper()
    kind = text(signal.get("signal_type")) or ""
    measurement = signal.get("measurement")
    measurement = measurement if isinstance(measurement, Mapping) else {}
    unit = text(measurement.get("unit"))
    scale = text(measurement.get("scale")) or "none"

    def same(value: Decimal, _at: datetime) -> Decimal | None:
        return value

    if name == "ELECTRICITY_PRICE" and kind in ("price", "priceRelative", "priceMultiplier"):
        units = _PRICE_UNITS.get(text(measurement.get("name")) or "", "KWH")
        descriptor: dict[str, Any] = {"payloadType": "PRICE", "units": units}
        if unit:
            descriptor["currency"] = unit
        if kind == "price":
            return _Signal("PRICE", descriptor, same)
        base = ctx.base_price
        if base is None:
            why.append(f"ELECTRICITY_PRICE {kind}: no base price to apply it to")
            return None

        def relative(value: Decimal, at: datetime) -> Decimal | None:
            price = base(at)
            if price is None:
                return None
            return price + value if kind == "priceRelative" else price * value

        return _Signal("PRICE", {"payloadType": "PRICE", "units": "KWH"}, relative)
    if name == "SIMPLE" and kind == "level":
        return _Signal("SIMPLE", None, same)
    if (name, kind) in (("LOAD_DISPATCH", "setpoint"), ("LOAD_CONTROL", "x-loadControlSetpoint")):
        units = _POWER_UNITS.get(scale, "KW") if unit == "W" else "KW"
        descriptor = {"payloadType": "IMPORT_CAPACITY_LIMIT", "units": units}
        return _Signal("IMPORT_CAPACITY_LIMIT", descriptor, same)
    if name == "LOAD_CONTROL" and kind == "x-loadControlCapacity":

        def fraction(value: Decimal, _at: datetime) -> Decimal | None:
            return value if 0 <= value <= 1 else None

        return _Signal(CAPACITY_FRACTION, None, fraction)
    why.append(f"{name or '?'} {kind or '?'}: not supported (needs a baseline or not for PEVs)")
    return None


def _intervals(
    raw_signal: Mapping[str, Any], start: datetime
) -> Iterable[tuple[datetime, timedelta, Any]]:
    """Each interval's start, duration and payload; a missing start follows the previous end."""
    at = start
    for item in _list(raw_signal.get("intervals")):
        if not isinstance(item, Mapping):
            continue
        duration = _span(item.get("duration"))
        if duration is None or duration < timedelta(0):
            continue
        begins = _when(item.get("dtstart")) or at
        yield begins, duration, item.get("signal_payload")
        at = begins + duration


def to_event(raw: Mapping[str, Any], ctx: EventContext) -> Oadr2Event:
    """One 2.0b event for the VEN (see the module docstring). Raises ValueError when it has no
    ``event_id`` (the caller logs and skips it)."""
    descriptor = raw.get("event_descriptor")
    descriptor = descriptor if isinstance(descriptor, Mapping) else {}
    event_id = text(descriptor.get("event_id"))
    if event_id is None:
        raise ValueError("2.0b event without an eventID")
    number = _number(descriptor.get("modification_number"))
    modification = int(number) if number is not None else 0
    status = (text(descriptor.get("event_status")) or "far").lower()
    context = text(descriptor.get("market_context")) or "oadr://unknown"
    response_required = (text(raw.get("response_required")) or "always") == "always"
    test_event = (text(descriptor.get("test_event")) or "false").lower() in ("true", "1")
    mandatory = context in ctx.mandatory_programs

    def made(event: Event | None, skipped: Sequence[str]) -> Oadr2Event:
        return Oadr2Event(
            event_id=event_id,
            modification_number=modification,
            status=status,
            market_context=context,
            response_required=response_required,
            test_event=test_event,
            mandatory=mandatory,
            event=event,
            skipped=tuple(skipped),
            raw=raw,
        )

    period = raw.get("active_period")
    period = period if isinstance(period, Mapping) else {}
    start = _when(period.get("dtstart"))
    why: list[str] = []
    if start is None:
        return made(None, ["no active period start"])
    tolerance = period.get("tolerance")
    randomize: timedelta | None = None
    if isinstance(tolerance, Mapping):
        tolerate = tolerance.get("tolerate", tolerance)
        if isinstance(tolerate, Mapping):
            randomize = _span(tolerate.get("startafter"))
    intervals: list[EventInterval] = []
    descriptors: list[dict[str, Any]] = []
    for raw_signal in _list(raw.get("event_signals")):
        if not isinstance(raw_signal, Mapping):
            continue
        signal = _signal(raw_signal, ctx, why)
        if signal is None:
            continue
        if signal.descriptor is not None and signal.descriptor not in descriptors:
            descriptors.append(signal.descriptor)
        for begins, duration, payload in _intervals(raw_signal, start):
            number = _number(payload)
            value = signal.convert(number, begins) if number is not None else None
            if value is None:
                why.append(f"{signal.payload_type}: value {payload!r} at {begins} unusable")
                continue
            intervals.append(
                EventInterval(
                    id=len(intervals),
                    period=IntervalPeriod(start=begins, duration=duration, randomize_start=None),
                    payloads={signal.payload_type: [float(value)]},
                )
            )
    priority = _number(descriptor.get("priority"))
    created = _when(descriptor.get("created_date_time"))
    modified = _when(descriptor.get("modification_date_time")) or created
    if not intervals:
        return made(None, why or ["no intervals"])
    comment = text(descriptor.get("vtn_comment"))
    event = Event(
        id=event_id,
        program_id=context,
        name=comment or context,  # 2.0b has no event name: the VTN's comment, else the program
        priority=int(priority) if priority is not None and priority > 0 else None,
        targets=_targets(raw, ctx),
        period=IntervalPeriod(start=start, duration=None, randomize_start=randomize),
        intervals=tuple(intervals),
        payload_descriptors=tuple(descriptors),
        report_descriptors=(),
        modified=modified,
        raw={"id": event_id, "programID": context, "mandatory": mandatory, "oadr2": True},
        created=created,
    )
    for line in why:
        _LOGGER.warning("2.0b event %s: %s", event_id, line)
    return made(event, why)


@dataclass
class EventBook:
    """The VEN's events: each event's newest modification; cancelled and completed ones gone.

    ``oadrDistributeEvent`` carries every active and pending event of the VEN (2.0b), so an
    event missing from one is over.
    """

    events: dict[str, Oadr2Event] = field(default_factory=dict)

    def distribute(
        self, raw_events: Sequence[Any], ctx: EventContext
    ) -> tuple[list[Oadr2Event], list[str]]:
        """Apply a distribution; returns the events that are new or modified (they need an
        answer, cancellations included) and the IDs that left."""
        changed: list[Oadr2Event] = []
        seen: dict[str, Oadr2Event] = {}
        for raw in raw_events:
            if not isinstance(raw, Mapping):
                _LOGGER.warning("2.0b distribution: skipping a malformed event %r", raw)
                continue
            try:
                event = to_event(raw, ctx)
            except ValueError as err:
                _LOGGER.warning("2.0b distribution: skipping an event: %s", err)
                continue
            old = self.events.get(event.event_id)
            if old is not None and event.modification_number < old.modification_number:
                _LOGGER.info(
                    "2.0b event %s: modification %s is older than %s, kept the newer",
                    event.event_id,
                    event.modification_number,
                    old.modification_number,
                )
                seen[event.event_id] = old
                continue
            if old is None or event.modification_number != old.modification_number:
                changed.append(event)
            seen[event.event_id] = event
        gone = [event_id for event_id in self.events if event_id not in seen]
        self.events = {k: v for k, v in seen.items() if not v.over}
        gone.extend(e.event_id for e in seen.values() if e.over and e.event_id not in gone)
        return changed, sorted(set(gone))

    def rebuild(self, ctx: EventContext) -> None:
        """Read every event again (the vehicles, the base tariff or the VEN ID changed)."""
        self.events = {k: to_event(v.raw, ctx) for k, v in self.events.items()}

    def timeline_events(self) -> list[Event]:
        """The 3.1-shaped events for the timeline (those with something to act on)."""
        return [e.event for e in self.events.values() if e.event is not None]
