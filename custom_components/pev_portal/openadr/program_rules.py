"""A program's declared rules for settlement, fail-safe and commissioning (profile section
'Performance, flexibility, fail-safe, commissioning').

Program ``attributes`` (``valuesMap``; 3.1.0 allows private types), all optional:

=============================  ==========================  ====================================
type                           values                      meaning
=============================  ==========================  ====================================
``INCENTIVE_PER_KWH``          [number]                    paid per kWh of delivered reduction
``INCENTIVE_PER_EVENT``        [number]                    paid per event the vehicle took part in
``INCENTIVE_MIN_COMPLIANCE``   [number 0-1]                per-event amount only at or above it
``BASELINE_METHOD``            [``COUNTERFACTUAL``|        the baseline that settles (default
                               ``METER``]                  ``COUNTERFACTUAL``)
``FAILSAFE_CONSUMPTION_LIMIT`` [number, kW]                the premise's chargers' limit when the
                                                           link is lost
``HEARTBEAT_PERIOD``           [ISO 8601 duration]         silence longer than this = link lost
``FAILSAFE_DURATION``          [ISO 8601 duration]         the limit lifts after this long
``RESPONSE_TIME``              [ISO 8601 duration]         a test event's allowed response time
``COMMISSIONING_TEST``         [``UTILITY``|``LOCAL``]     who starts the commissioning test
=============================  ==========================  ====================================

A utility's commissioning *test event* (:func:`is_test_event`; 3.1.0 has no test flag, so this
is the profile's convention, after OpenADR 2.0b's ``testEvent``): an event with the private
extension property ``"testEvent": true``, or with a private payload ``TEST_EVENT`` [true] in
any of its intervals (for VTNs that keep only the contract's properties).

The incentive's currency is the ``currency`` of the program's ``payloadDescriptors`` entry
whose ``payloadType`` is ``INCENTIVE_PER_KWH`` (or ``INCENTIVE_PER_EVENT``), else of its
``PRICE`` descriptor. A fail-safe needs both the limit and the heartbeat; a malformed value
is ignored (the rule is then absent), never fatal.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from ..core.enrollment import DEFAULT_RESPONSE_TIME
from ..core.failsafe import FailsafeRule
from ..core.settlement import BaselineMethod, IncentiveRules
from .models import Event, Program, is_infinite, parse_duration

__all__ = [
    "commissioning_test",
    "failsafe_rule",
    "incentive_rules",
    "is_test_event",
    "response_time",
]

_DEFAULT_TEST: Final = "UTILITY"


def _first(program: Program, name: str) -> Any:
    values = program.attributes.get(name)
    return values[0] if values else None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        out = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return out if out.is_finite() and out >= 0 else None


def _duration(value: Any) -> timedelta | None:
    if not isinstance(value, str):
        return None
    try:
        out = parse_duration(value.strip())
    except ValueError:
        return None
    return out if out > timedelta(0) and not is_infinite(out) else None


def _currency(program: Program) -> str | None:
    for kind in ("INCENTIVE_PER_KWH", "INCENTIVE_PER_EVENT", "PRICE"):
        found = program.payload_descriptor(kind)
        currency = found.get("currency") if found else None
        if isinstance(currency, str) and currency.strip():
            return currency.strip().upper()
    return None


def incentive_rules(program: Program) -> IncentiveRules | None:
    """The program's incentive rules, or ``None`` when it declares no amount."""
    per_kwh = _decimal(_first(program, "INCENTIVE_PER_KWH"))
    per_event = _decimal(_first(program, "INCENTIVE_PER_EVENT"))
    method_raw = _first(program, "BASELINE_METHOD")
    method = BaselineMethod.COUNTERFACTUAL
    if isinstance(method_raw, str) and method_raw.strip().upper() in BaselineMethod.__members__:
        method = BaselineMethod(method_raw.strip().upper())
    if per_kwh is None and per_event is None:
        return None
    minimum = _decimal(_first(program, "INCENTIVE_MIN_COMPLIANCE"))
    compliance = float(minimum) if minimum is not None and minimum <= 1 else 0.0
    return IncentiveRules(_currency(program), per_kwh, per_event, compliance, method)


def failsafe_rule(program: Program) -> FailsafeRule | None:
    """The program's fail-safe, or ``None`` (nothing changes without one)."""
    limit = _decimal(_first(program, "FAILSAFE_CONSUMPTION_LIMIT"))
    heartbeat = _duration(_first(program, "HEARTBEAT_PERIOD"))
    if limit is None or heartbeat is None or not math.isfinite(float(limit)):
        return None
    return FailsafeRule(float(limit), heartbeat, _duration(_first(program, "FAILSAFE_DURATION")))


def response_time(program: Program) -> timedelta:
    """A test event's allowed response time (default one minute)."""
    return _duration(_first(program, "RESPONSE_TIME")) or DEFAULT_RESPONSE_TIME


def commissioning_test(program: Program) -> str:
    """Who starts the commissioning test: ``UTILITY`` (default) or ``LOCAL``."""
    value = _first(program, "COMMISSIONING_TEST")
    if isinstance(value, str) and value.strip().upper() in ("UTILITY", "LOCAL"):
        return value.strip().upper()
    return _DEFAULT_TEST


def _true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return value is True or (type(value) is int and value == 1)


def is_test_event(event: Event) -> bool:
    """Whether the event is a commissioning test (the convention in the module docstring)."""
    if _true(event.raw.get("testEvent")):
        return True
    return any(
        bool(values) and _true(values[0])
        for interval in event.intervals
        for kind, values in interval.payloads.items()
        if kind == "TEST_EVENT"
    )
