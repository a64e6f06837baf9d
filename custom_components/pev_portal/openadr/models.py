"""OpenADR 3.1.0 objects as the VEN sees them, parsed tolerantly.

Rules (profile "Tolerance"):

* A single object that cannot be used raises :class:`ValueError` (never anything else); the list
  parsers log and skip such objects so one bad event never hides the others.
* Optional fields that are malformed are dropped (logged) rather than failing the object: a bad
  ``priority`` becomes None, a bad interval is skipped, a bad ``intervalPeriod`` is None.
* Unknown payload types, attributes and extra properties are kept in ``raw`` and otherwise
  ignored.
* Timestamps without a zone are UTC, a space may replace ``T``; everything returned is aware UTC.

Targets: in the 3.1.0 contract a ``target`` is a plain string (``components/schemas/target``), a
label the business logic grants to a VEN or a resource. OpenADR 3.0 used ``{type, values}``
objects (``VEN_NAME``, ``RESOURCE_NAME``, ...); both shapes are accepted and kept as received
(:data:`Target`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from ..core.binding import ValidationAnswer
from .notifications import Notification, camel_key, camelize, parse_notification
from .timefmt import (
    BEGINNING_OF_TIME,
    END_OF_TIME,
    INFINITE,
    add_duration,
    format_datetime,
    format_duration,
    is_infinite,
    is_now_start,
    parse_datetime,
    parse_duration,
)

__all__ = [
    "BEGINNING_OF_TIME",
    "END_OF_TIME",
    "INFINITE",
    "Event",
    "EventInterval",
    "IntervalPeriod",
    "Notification",
    "Program",
    "Resource",
    "Target",
    "add_duration",
    "camel_key",
    "camelize",
    "event_mandatory",
    "format_datetime",
    "format_duration",
    "is_infinite",
    "is_now_start",
    "opt_out_consequence",
    "parse_datetime",
    "parse_duration",
    "parse_event",
    "parse_events",
    "parse_notification",
    "parse_program",
    "parse_programs",
    "parse_resource",
    "parse_resources",
    "target_values",
    "validation_answer",
    "values_map",
]

_LOGGER = logging.getLogger(__name__)

type Target = str | dict[str, Any]
"""A target as received: a 3.1.0 string, or a 3.0-style ``{"type": ..., "values": [...]}``."""

_EXCEPTIONS: Final = (TypeError, KeyError, AttributeError, OverflowError, IndexError, ValueError)

# --------------------------------------------------------------------------- helpers


def _str(value: Any) -> str | None:
    """A non-empty string, ints accepted as their decimal text; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value):
        return int(value)
    return None


def _opt_datetime(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        _LOGGER.warning("ignoring malformed %s %r", what, value)
        return None


def _opt_duration(value: Any, what: str) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError:
        _LOGGER.warning("ignoring malformed %s %r", what, value)
        return None


def _dict_list(value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, dict))


def _targets(value: Any) -> tuple[Target, ...]:
    if not isinstance(value, list):
        return ()
    out: list[Target] = []
    for item in value:
        if (isinstance(item, str) and item) or (
            isinstance(item, dict) and isinstance(item.get("values"), list)
        ):
            out.append(item)
    return tuple(out)


def target_values(target: Target) -> tuple[str | None, tuple[str, ...]]:
    """``(type, values)`` of a target: ``(None, (label,))`` for a 3.1.0 string target."""
    if isinstance(target, str):
        return None, (target,)
    kind = target.get("type")
    values = target.get("values")
    strings: tuple[str, ...] = ()
    if isinstance(values, list):
        strings = tuple(
            str(v) for v in values if isinstance(v, (str, int)) and not isinstance(v, bool)
        )
    return (kind.upper() if isinstance(kind, str) else None), strings


def values_map(value: Any) -> dict[str, list[Any]]:
    """A list of ``valuesMap`` objects (``{type, values}``) as ``type -> values``.

    Malformed entries are skipped; repeated types have their values concatenated. Type names
    are upper-cased.
    """
    out: dict[str, list[Any]] = {}
    if not isinstance(value, list):
        return out
    for item in value:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        values = item.get("values")
        if not isinstance(kind, str) or not kind.strip() or not isinstance(values, list):
            continue
        out.setdefault(kind.strip().upper(), []).extend(values)
    return out


def _as_dict(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{what} is not a JSON object: {type(data).__name__}")
    return data


# --------------------------------------------------------------------------- objects


@dataclass(frozen=True)
class IntervalPeriod:
    """``intervalPeriod``: start (``0001-01-01`` means now), duration, randomizeStart."""

    start: datetime | None
    duration: timedelta | None
    randomize_start: timedelta | None


def _interval_period(value: Any, what: str) -> IntervalPeriod | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        _LOGGER.warning("ignoring malformed %s intervalPeriod %r", what, value)
        return None
    return IntervalPeriod(
        start=_opt_datetime(value.get("start"), f"{what} intervalPeriod.start"),
        duration=_opt_duration(value.get("duration"), f"{what} intervalPeriod.duration"),
        randomize_start=_opt_duration(
            value.get("randomizeStart"), f"{what} intervalPeriod.randomizeStart"
        ),
    )


@dataclass(frozen=True)
class EventInterval:
    """One event interval: ``payloads`` maps the payload type (upper case) to its values."""

    id: int
    period: IntervalPeriod | None
    payloads: dict[str, list[Any]]


def _descriptor(
    descriptors: tuple[dict[str, Any], ...], payload_type: str
) -> dict[str, Any] | None:
    wanted = payload_type.upper()
    for desc in descriptors:
        kind = desc.get("payloadType")
        if isinstance(kind, str) and kind.strip().upper() == wanted:
            return desc
    return None


def _is_true(values: list[Any] | None) -> bool:
    if not values:
        return False
    first = values[0]
    if isinstance(first, str):
        return first.strip().lower() in {"true", "yes", "1"}
    return first is True or (isinstance(first, int) and first == 1)


def _is_false(values: list[Any] | None) -> bool:
    if not values:
        return False
    first = values[0]
    if isinstance(first, str):
        return first.strip().lower() in {"false", "no", "0"}
    return first is False or (isinstance(first, int) and not isinstance(first, bool) and first == 0)


@dataclass(frozen=True)
class Event:
    """An OpenADR event as the VEN uses it; ``raw`` is the object as received."""

    id: str
    program_id: str
    name: str | None
    priority: int | None
    targets: tuple[Target, ...]
    period: IntervalPeriod | None
    intervals: tuple[EventInterval, ...]
    payload_descriptors: tuple[dict[str, Any], ...]
    report_descriptors: tuple[dict[str, Any], ...]
    modified: datetime | None
    raw: dict[str, Any] = field(compare=False, repr=False)
    created: datetime | None = None
    duration: timedelta | None = None
    """``event.duration``: longer than the intervals loops them, shorter truncates them."""

    def payload_descriptor(self, payload_type: str) -> dict[str, Any] | None:
        """The event payload descriptor of a payload type (case-insensitive), if any."""
        return _descriptor(self.payload_descriptors, payload_type)

    @property
    def price_units(self) -> str | None:
        """``units`` of the PRICE payload descriptor (e.g. ``KWH``), if given."""
        desc = self.payload_descriptor("PRICE")
        units = desc.get("units") if desc else None
        return units if isinstance(units, str) else None

    @property
    def price_currency(self) -> str | None:
        """``currency`` of the PRICE payload descriptor (e.g. ``USD``), if given."""
        desc = self.payload_descriptor("PRICE")
        currency = desc.get("currency") if desc else None
        return currency.strip().upper() if isinstance(currency, str) else None

    def units_of(self, payload_type: str) -> str | None:
        """``units`` of any payload type's descriptor, upper case."""
        desc = self.payload_descriptor(payload_type)
        units = desc.get("units") if desc else None
        return units.strip().upper() if isinstance(units, str) else None

    @property
    def usage_report_descriptor(self) -> dict[str, Any] | None:
        """The reportDescriptor asking for ``USAGE``, if the event requests one."""
        return _descriptor(self.report_descriptors, "USAGE")

    @property
    def wants_usage_reports(self) -> bool:
        """Whether a reportDescriptor asks for ``USAGE`` (session reports, profile 'Reports')."""
        return self.usage_report_descriptor is not None

    @property
    def wants_state_reports(self) -> bool:
        """Whether a reportDescriptor asks for ``OPERATING_STATE`` (event participation)."""
        return _descriptor(self.report_descriptors, "OPERATING_STATE") is not None

    @property
    def payload_types(self) -> frozenset[str]:
        """Every payload type used in the event's intervals."""
        return frozenset(t for interval in self.intervals for t in interval.payloads)

    @property
    def mandatory(self) -> bool:
        """Whether the user may not opt out of this event, judged from the event alone.

        The rule (3.1.0 has no opt-out field, so this is the profile's convention):

        * a private extension property ``"mandatory": true`` on the event, or ``"optOut":
          false``;
        * a target label ``MANDATORY`` (string target, or a ``{type: MANDATORY}`` 3.0 target);
        * a grid-emergency payload (``ALERT_GRID_EMERGENCY``): safety comes first.

        See :func:`event_mandatory` to combine with the program's attributes.
        """
        flag = self.raw.get("mandatory")
        if flag is True or self.raw.get("optOut") is False:
            return True
        for target in self.targets:
            kind, values = target_values(target)
            if kind == "MANDATORY" or (kind is None and "MANDATORY" in (v.upper() for v in values)):
                return True
        return "ALERT_GRID_EMERGENCY" in self.payload_types


@dataclass(frozen=True)
class Program:
    """An OpenADR program; ``attributes`` maps attribute type (upper case) to values."""

    id: str
    name: str
    raw: dict[str, Any] = field(compare=False, repr=False)
    period: IntervalPeriod | None = None
    payload_descriptors: tuple[dict[str, Any], ...] = ()
    attributes: dict[str, list[Any]] = field(default_factory=dict)
    targets: tuple[Target, ...] = ()
    modified: datetime | None = None

    @property
    def long_name(self) -> str | None:
        """``PROGRAM_LONG_NAME`` attribute, if any."""
        values = self.attributes.get("PROGRAM_LONG_NAME")
        return values[0] if values and isinstance(values[0], str) else None

    @property
    def program_type(self) -> str | None:
        """``PROGRAM_TYPE`` attribute, if any (e.g. ``TOU``, ``CPP``, ``DLC``)."""
        values = self.attributes.get("PROGRAM_TYPE")
        return values[0] if values and isinstance(values[0], str) else None

    @property
    def mandatory(self) -> bool:
        """Program-level opt-out rule: private attribute ``MANDATORY`` [true] or
        ``OPT_OUT`` [false] makes every event of the program mandatory."""
        return _is_true(self.attributes.get("MANDATORY")) or _is_false(
            self.attributes.get("OPT_OUT")
        )

    def payload_descriptor(self, payload_type: str) -> dict[str, Any] | None:
        """The program's payload descriptor of a payload type, if any."""
        return _descriptor(self.payload_descriptors, payload_type)


def opt_out_consequence(event: Event, program: Program | None = None) -> str | None:
    """What opting out of the event costs the customer, when the program declares it.

    The profile's convention (3.1.0 has no field for it): a private extension property
    ``"optOutConsequence": "<text>"`` on the event, else the program's private attribute
    ``OPT_OUT_CONSEQUENCE`` [text] (e.g. "You forfeit this month's $10 participation credit").
    """
    own = event.raw.get("optOutConsequence")
    if isinstance(own, str) and own.strip():
        return own.strip()
    values = program.attributes.get("OPT_OUT_CONSEQUENCE") if program is not None else None
    if values and isinstance(values[0], str) and values[0].strip():
        return values[0].strip()
    return None


def event_mandatory(event: Event, program: Program | None = None) -> bool:
    """Whether the user may not opt out: :attr:`Event.mandatory` or :attr:`Program.mandatory`."""
    return event.mandatory or (program is not None and program.mandatory)


@dataclass(frozen=True)
class Resource:
    """A VEN resource (one per PEV: ``name`` is the PEV ID)."""

    id: str
    name: str
    ven_id: str
    attributes: dict[str, list[Any]]
    targets: tuple[Target, ...]
    raw: dict[str, Any] = field(compare=False, repr=False)

    @property
    def target_labels(self) -> frozenset[str]:
        """The string targets granted to this resource (3.0 object targets' values too)."""
        return frozenset(v for t in self.targets for v in target_values(t)[1])


# --------------------------------------------------------------------------- parsers


def _parse_interval(data: Any, index: int, event_id: str) -> EventInterval:
    item = _as_dict(data, f"interval {index} of event {event_id}")
    interval_id = _int(item.get("id"))
    if interval_id is None:
        interval_id = index
    payloads = values_map(item.get("payloads"))
    return EventInterval(
        id=interval_id,
        period=_interval_period(item.get("intervalPeriod"), f"event {event_id} interval"),
        payloads=payloads,
    )


def _parse_event(data: Any) -> Event:
    obj = _as_dict(data, "event")
    event_id = _str(obj.get("id"))
    if event_id is None:
        raise ValueError("event without an id")
    program_id = _str(obj.get("programID"))
    if program_id is None:
        raise ValueError(f"event {event_id} without a programID")
    name = obj.get("eventName")
    priority = _int(obj.get("priority"))
    if obj.get("priority") is not None and (priority is None or priority < 0):
        _LOGGER.warning("event %s: ignoring malformed priority %r", event_id, obj.get("priority"))
        priority = None
    intervals: list[EventInterval] = []
    raw_intervals = obj.get("intervals")
    if isinstance(raw_intervals, list):
        for index, item in enumerate(raw_intervals):
            try:
                intervals.append(_parse_interval(item, index, event_id))
            except ValueError as err:
                _LOGGER.warning("event %s: skipping interval: %s", event_id, err)
    elif raw_intervals is not None:
        _LOGGER.warning("event %s: intervals is not a list", event_id)
    return Event(
        id=event_id,
        program_id=program_id,
        name=name.strip() or None if isinstance(name, str) else None,
        priority=priority,
        targets=_targets(obj.get("targets")),
        period=_interval_period(obj.get("intervalPeriod"), f"event {event_id}"),
        intervals=tuple(intervals),
        payload_descriptors=_dict_list(obj.get("payloadDescriptors")),
        report_descriptors=_dict_list(obj.get("reportDescriptors")),
        modified=_opt_datetime(obj.get("modificationDateTime"), "modificationDateTime"),
        raw=obj,
        created=_opt_datetime(obj.get("createdDateTime"), "createdDateTime"),
        duration=_opt_duration(obj.get("duration"), f"event {event_id} duration"),
    )


def _guard[T](func: Callable[[Any], T], data: Any, what: str) -> T:
    """Run a parser and turn any unexpected exception into ValueError."""
    try:
        result = func(data)
    except ValueError:
        raise
    except _EXCEPTIONS as err:  # pragma: no cover - defensive
        raise ValueError(f"unusable {what}: {err!r}") from err
    except RecursionError as err:  # pragma: no cover - defensive
        raise ValueError(f"unusable {what}: nested too deeply") from err
    return result


def parse_event(data: Any) -> Event:
    """Parse one event; :class:`ValueError` if it has no usable id or programID."""
    return _guard(_parse_event, data, "event")


def _parse_list[T](data: Any, parser: Callable[[Any], T], what: str) -> list[T]:
    if isinstance(data, dict):  # a single object where a list was expected
        data = [data]
    if not isinstance(data, list):
        _LOGGER.warning("expected a list of %ss, got %s", what, type(data).__name__)
        return []
    out: list[T] = []
    for item in data:
        try:
            out.append(parser(item))
        except ValueError as err:
            _LOGGER.warning("skipping malformed %s: %s", what, err)
    return out


def parse_events(data: Any) -> list[Event]:
    """Parse a list of events, logging and skipping the unusable ones (never raises)."""
    return _parse_list(data, parse_event, "event")


def _parse_program(data: Any) -> Program:
    obj = _as_dict(data, "program")
    program_id = _str(obj.get("id"))
    if program_id is None:
        raise ValueError("program without an id")
    name = _str(obj.get("programName"))
    if name is None:
        raise ValueError(f"program {program_id} without a programName")
    return Program(
        id=program_id,
        name=name,
        raw=obj,
        period=_interval_period(obj.get("intervalPeriod"), f"program {program_id}"),
        payload_descriptors=_dict_list(obj.get("payloadDescriptors")),
        attributes=values_map(obj.get("attributes")),
        targets=_targets(obj.get("targets")),
        modified=_opt_datetime(obj.get("modificationDateTime"), "modificationDateTime"),
    )


def parse_program(data: Any) -> Program:
    """Parse one program; :class:`ValueError` without a usable id or programName."""
    return _guard(_parse_program, data, "program")


def parse_programs(data: Any) -> list[Program]:
    """Parse a list of programs, skipping (and logging) the unusable ones."""
    return _parse_list(data, parse_program, "program")


def _parse_resource(data: Any) -> Resource:
    obj = _as_dict(data, "resource")
    resource_id = _str(obj.get("id"))
    if resource_id is None:
        raise ValueError("resource without an id")
    name = _str(obj.get("resourceName"))
    if name is None:
        raise ValueError(f"resource {resource_id} without a resourceName")
    return Resource(
        id=resource_id,
        name=name,
        ven_id=_str(obj.get("venID")) or "",
        attributes=values_map(obj.get("attributes")),
        targets=_targets(obj.get("targets")),
        raw=obj,
    )


def parse_resource(data: Any) -> Resource:
    """Parse one resource; :class:`ValueError` without a usable id or resourceName."""
    return _guard(_parse_resource, data, "resource")


def parse_resources(data: Any) -> list[Resource]:
    """Parse a list of resources, skipping (and logging) the unusable ones."""
    return _parse_list(data, parse_resource, "resource")


def _first_str(values: list[Any] | None) -> str | None:
    if not values:
        return None
    return _str(values[0])


def validation_answer(resource: Resource) -> ValidationAnswer | None:
    """The utility's binding answer written on a PEV's resource (profile, binding step 2).

    None while ``BINDING`` is absent (no answer yet). Values are upper-cased and stripped.
    """
    binding = _first_str(resource.attributes.get("BINDING"))
    if binding is None:
        return None
    party = _first_str(resource.attributes.get("BILLING_PARTY"))
    home = _first_str(resource.attributes.get("HOME_UTILITY_ID"))
    return ValidationAnswer(
        binding=binding.upper(),
        billing_party=party.upper() if party else None,
        home_utility_id=home,
    )
