"""A program's declared incentive, fail-safe and commissioning rules."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from custom_components.pev_portal.core.failsafe import FailsafeRule
from custom_components.pev_portal.core.settlement import BaselineMethod, IncentiveRules
from custom_components.pev_portal.openadr.models import parse_event, parse_program
from custom_components.pev_portal.openadr.program_rules import (
    commissioning_test,
    failsafe_rule,
    incentive_rules,
    is_test_event,
    response_time,
)
from tests.vtn import schema


def program(
    attributes: list[dict[str, Any]], descriptors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"programName": "ev-dr", "attributes": attributes}
    if descriptors is not None:
        body["payloadDescriptors"] = descriptors
    return body


FULL = program(
    [
        {"type": "INCENTIVE_PER_KWH", "values": [0.30]},
        {"type": "INCENTIVE_PER_EVENT", "values": ["0.50"]},
        {"type": "INCENTIVE_MIN_COMPLIANCE", "values": [0.8]},
        {"type": "BASELINE_METHOD", "values": ["meter"]},
        {"type": "FAILSAFE_CONSUMPTION_LIMIT", "values": [4.2]},
        {"type": "HEARTBEAT_PERIOD", "values": ["PT5M"]},
        {"type": "FAILSAFE_DURATION", "values": ["PT2H"]},
        {"type": "RESPONSE_TIME", "values": ["PT30S"]},
        {"type": "COMMISSIONING_TEST", "values": ["local"]},
    ],
    [
        {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "PRICE", "currency": "USD"},
        {
            "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
            "payloadType": "INCENTIVE_PER_KWH",
            "currency": "eur",
        },
    ],
)


def test_declared_rules_are_read() -> None:
    schema.validate("programRequest", FULL)  # the declaration is a valid 3.1.0 program
    p = parse_program({**FULL, "id": "p1"})
    assert incentive_rules(p) == IncentiveRules(
        "EUR", Decimal("0.3"), Decimal("0.50"), 0.8, BaselineMethod.METER
    )
    assert failsafe_rule(p) == FailsafeRule(4.2, timedelta(minutes=5), timedelta(hours=2))
    assert response_time(p) == timedelta(seconds=30)
    assert commissioning_test(p) == "LOCAL"


def test_defaults_and_malformed_values_are_ignored() -> None:
    bare = parse_program({**program([]), "id": "p2"})
    assert incentive_rules(bare) is None
    assert failsafe_rule(bare) is None
    assert response_time(bare) == timedelta(minutes=1)
    assert commissioning_test(bare) == "UTILITY"
    bad = parse_program(
        {
            **program(
                [
                    {"type": "INCENTIVE_PER_KWH", "values": ["lots"]},
                    {"type": "INCENTIVE_PER_EVENT", "values": [-1]},
                    {"type": "FAILSAFE_CONSUMPTION_LIMIT", "values": [True]},
                    {"type": "HEARTBEAT_PERIOD", "values": ["PT5M"]},
                    {"type": "RESPONSE_TIME", "values": ["soon"]},
                    {"type": "COMMISSIONING_TEST", "values": ["maybe"]},
                ],
            ),
            "id": "p3",
        }
    )
    assert incentive_rules(bad) is None
    assert failsafe_rule(bad) is None
    assert response_time(bad) == timedelta(minutes=1)
    assert commissioning_test(bad) == "UTILITY"
    # a fail-safe needs a finite positive heartbeat; the duration is optional; a per-event amount
    # alone is enough; the currency falls back to the PRICE descriptor's
    partial = parse_program(
        {
            **program(
                [
                    {"type": "INCENTIVE_PER_EVENT", "values": [2]},
                    {"type": "INCENTIVE_MIN_COMPLIANCE", "values": [3]},
                    {"type": "BASELINE_METHOD", "values": ["guess"]},
                    {"type": "FAILSAFE_CONSUMPTION_LIMIT", "values": ["0"]},
                    {"type": "HEARTBEAT_PERIOD", "values": ["P9999Y"]},
                ],
                [
                    {
                        "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                        "payloadType": "PRICE",
                        "currency": "usd",
                    }
                ],
            ),
            "id": "p4",
        }
    )
    assert incentive_rules(partial) == IncentiveRules("USD", None, Decimal(2), 0.0)
    assert failsafe_rule(partial) is None


def _event(extra: dict[str, Any], *payloads: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "evt-1",
        "programID": "prg-1",
        "objectType": "EVENT",
        "createdDateTime": "2030-07-02T17:00:00Z",
        "modificationDateTime": "2030-07-02T17:00:00Z",
        "intervalPeriod": {"start": "2030-07-02T18:00:00Z", "duration": "PT5M"},
        "intervals": [
            {
                "id": 0,
                "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [4.0]}, *payloads],
            }
        ],
        **extra,
    }
    schema.validate("event", body)  # the flags are allowed by the 3.1.0 contract
    return body


@pytest.mark.parametrize(
    ("extra", "payloads", "expected"),
    [
        ({}, [], False),
        ({"testEvent": True}, [], True),
        ({"testEvent": "true"}, [], True),
        ({"testEvent": False}, [], False),
        ({}, [{"type": "TEST_EVENT", "values": [True]}], True),
        ({}, [{"type": "test_event", "values": ["yes"]}], True),
        ({}, [{"type": "TEST_EVENT", "values": [1]}], True),
        ({}, [{"type": "TEST_EVENT", "values": [False]}], False),
        ({}, [{"type": "TEST_EVENT", "values": []}], False),
        ({}, [{"type": "TEST_EVENT", "values": [2]}], False),
    ],
)
def test_a_test_event_is_flagged_by_a_property_or_a_payload(
    extra: dict[str, Any], payloads: list[dict[str, Any]], expected: bool
) -> None:
    assert is_test_event(parse_event(_event(extra, *payloads))) is expected
