"""Tolerant parsing of OpenADR objects, timestamps, durations and notifications."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.pev_portal.core.binding import ValidationAnswer
from custom_components.pev_portal.openadr.client import pev_resource_attributes
from custom_components.pev_portal.openadr.models import (
    INFINITE,
    event_mandatory,
    is_infinite,
    opt_out_consequence,
    parse_datetime,
    parse_duration,
    parse_event,
    parse_events,
    parse_notification,
    parse_program,
    parse_programs,
    parse_resource,
    validation_answer,
)

EVENT = {
    "id": "evt-1",
    "programID": "prg-1",
    "eventName": "cpp",
    "priority": 0,
    "createdDateTime": "2030-07-01T10:00:00Z",
    "modificationDateTime": "2030-07-01T11:00:00.123456789Z",
    "objectType": "EVENT",
    "targets": ["grp-A"],
    "payloadDescriptors": [
        {
            "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
            "payloadType": "PRICE",
            "units": "KWH",
            "currency": "usd",
        }
    ],
    "reportDescriptors": [{"payloadType": "USAGE", "readingType": "DIRECT_READ", "units": "KWH"}],
    "intervalPeriod": {
        "start": "2030-07-01T16:00:00Z",
        "duration": "PT1H",
        "randomizeStart": "PT5M",
    },
    "intervals": [
        {
            "id": 0,
            "payloads": [
                {"type": "PRICE", "values": [0.9]},
                {"type": "X_PRIVATE", "values": ["ok"]},
            ],
        }
    ],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-07-01T16:00:00Z", datetime(2030, 7, 1, 16, tzinfo=UTC)),
        ("2030-07-01T16:00:00", datetime(2030, 7, 1, 16, tzinfo=UTC)),
        ("2030-07-01 16:00:00", datetime(2030, 7, 1, 16, tzinfo=UTC)),
        ("2030-07-01t16:00:00z", datetime(2030, 7, 1, 16, tzinfo=UTC)),
        ("2030-07-01T18:00:00+02:00", datetime(2030, 7, 1, 16, tzinfo=UTC)),
        ("2030-07-01T16:00:00.1234567Z", datetime(2030, 7, 1, 16, 0, 0, 123456, tzinfo=UTC)),
        ("0001-01-01", datetime(1, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_datetime(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "bad", ["", "yesterday", "2030-13-01T00:00:00Z", "0001-01-01T00:00:00+01:00", 5, None]
)
def test_parse_datetime_garbage(bad: object) -> None:
    with pytest.raises(ValueError, match=r"timestamp|range"):
        parse_datetime(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT15M", timedelta(minutes=15)),
        ("P1D", timedelta(days=1)),
        ("PT0S", timedelta(0)),
        ("P0S", timedelta(0)),
        ("P1W", timedelta(days=7)),
        ("PT1H30M", timedelta(minutes=90)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("-PT5M", timedelta(minutes=-5)),
        ("P1DT2H", timedelta(days=1, hours=2)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_parse_duration_infinite() -> None:
    assert parse_duration("P9999Y") is INFINITE
    assert is_infinite(parse_duration("P99999Y"))
    assert not is_infinite(parse_duration("P1Y"))


@pytest.mark.parametrize("bad", ["", "P", "PT", "15M", "PT15", "P1H", "PTM", None, 3])
def test_parse_duration_garbage(bad: object) -> None:
    with pytest.raises(ValueError, match=r"ISO 8601 duration"):
        parse_duration(bad)  # type: ignore[arg-type]


def test_parse_event_fields_and_helpers() -> None:
    ev = parse_event(EVENT)
    assert (ev.id, ev.program_id, ev.name, ev.priority) == ("evt-1", "prg-1", "cpp", 0)
    assert ev.targets == ("grp-A",)
    assert ev.period is not None
    assert ev.period.randomize_start == timedelta(minutes=5)
    assert ev.intervals[0].payloads == {"PRICE": [0.9], "X_PRIVATE": ["ok"]}
    assert ev.price_units == "KWH"
    assert ev.price_currency == "USD"
    assert ev.wants_usage_reports
    assert not ev.wants_state_reports
    assert ev.modified == datetime(2030, 7, 1, 11, 0, 0, 123456, tzinfo=UTC)
    assert not ev.mandatory
    assert ev.raw is EVENT


def test_event_tolerates_bad_optional_fields() -> None:
    raw = {
        **EVENT,
        "priority": "high",
        "intervalPeriod": "tomorrow",
        "intervals": [5, {"id": "x", "payloads": [{"type": "PRICE", "values": [1]}, "junk"]}],
        "targets": [None, "ok", {"type": "VEN_NAME", "values": ["v"]}],
        "modificationDateTime": "never",
    }
    ev = parse_event(raw)
    assert ev.priority is None
    assert ev.period is None
    assert ev.modified is None
    assert len(ev.intervals) == 1
    assert ev.intervals[0].id == 1
    assert ev.targets == ("ok", {"type": "VEN_NAME", "values": ["v"]})


@pytest.mark.parametrize(
    "bad", [None, [], "event", {"programID": "p"}, {"id": "e"}, {"id": "", "programID": "p"}]
)
def test_parse_event_unusable(bad: object) -> None:
    with pytest.raises(ValueError, match=r"event"):
        parse_event(bad)


def test_parse_events_skips_bad_items() -> None:
    events = parse_events([EVENT, {"id": "broken"}, 7, {**EVENT, "id": "evt-2"}])
    assert [e.id for e in events] == ["evt-1", "evt-2"]
    assert parse_events({"not": "a list"}) == []
    assert parse_events("junk") == []


def test_mandatory_rules() -> None:
    assert parse_event({**EVENT, "mandatory": True}).mandatory
    assert parse_event({**EVENT, "targets": ["MANDATORY"]}).mandatory
    program = parse_program(
        {"id": "p", "programName": "DLC", "attributes": [{"type": "OPT_OUT", "values": [False]}]}
    )
    assert program.mandatory
    assert event_mandatory(parse_event(EVENT), program)
    assert not event_mandatory(parse_event(EVENT), None)


def test_opt_out_consequence() -> None:
    """The event's own text wins over the program's; blank texts do not count."""
    program = parse_program(
        {
            "id": "p",
            "programName": "DLC",
            "attributes": [{"type": "OPT_OUT_CONSEQUENCE", "values": ["No credit this month."]}],
        }
    )
    plain = parse_event(EVENT)
    assert opt_out_consequence(plain, None) is None
    assert opt_out_consequence(plain, program) == "No credit this month."
    own = parse_event({**EVENT, "optOutConsequence": " A $5 charge. "})
    assert opt_out_consequence(own, program) == "A $5 charge."
    assert opt_out_consequence(parse_event({**EVENT, "optOutConsequence": "  "}), None) is None


def test_parse_programs() -> None:
    good = {
        "id": "prg-1",
        "programName": "RES-TOU",
        "attributes": [
            {"type": "PROGRAM_TYPE", "values": ["TOU"]},
            {"type": "program_long_name", "values": ["Residential TOU"]},
        ],
        "intervalPeriod": {"start": "2030-01-01T00:00:00Z", "duration": "P1Y"},
    }
    programs = parse_programs([good, {"id": "x"}, None])
    assert [p.name for p in programs] == ["RES-TOU"]
    assert programs[0].program_type == "TOU"
    assert programs[0].long_name == "Residential TOU"
    assert programs[0].period is not None
    assert programs[0].period.duration == timedelta(days=365)


def test_validation_answer() -> None:
    base = {"id": "r1", "resourceName": "PEV-1", "venID": "v1"}
    assert validation_answer(parse_resource(base)) is None
    res = parse_resource(
        {
            **base,
            "attributes": [
                {"type": "BINDING", "values": ["enrolled"]},
                {"type": "BILLING_PARTY", "values": ["PEV_CUSTOMER"]},
                {"type": "HOME_UTILITY_ID", "values": ["UTIL-B"]},
            ],
        }
    )
    assert validation_answer(res) == ValidationAnswer("ENROLLED", "PEV_CUSTOMER", "UTIL-B")


def test_parse_notification_shapes() -> None:
    note = {"objectType": "EVENT", "operation": "CREATE", "object": EVENT}
    plain = parse_notification(json.dumps(note).encode())
    assert (plain.object_type, plain.operation, plain.object["id"]) == ("EVENT", "CREATE", "evt-1")
    double = parse_notification(json.dumps(json.dumps(note)))
    assert double == plain
    snake = parse_notification({"object_type": "event", "operation": "put", "object": EVENT})
    assert (snake.object_type, snake.operation) == ("EVENT", "UPDATE")
    inferred = parse_notification(
        {"operation": "DELETE", "object": {"objectType": "RESOURCE", "id": "r"}}
    )
    assert inferred.object_type == "RESOURCE"
    for bad in (
        b"\xff",
        "not json",
        "[]",
        {"objectType": "EVENT", "operation": "CREATE"},
        {"object": {}, "operation": "X"},
    ):
        with pytest.raises(ValueError, match=r"notification"):
            parse_notification(bad)


def snake(value: Any) -> Any:
    """Every key of a contract object in snake_case (``programID`` -> ``program_id``)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = re.sub(r"ID$", "_id", key)
            name = re.sub(r"(?<=[a-z])([A-Z])", lambda m: "_" + m.group(1).lower(), name)
            out[name] = snake(item)
        return out
    if isinstance(value, list):
        return [snake(item) for item in value]
    return value


def test_parse_notification_snake_case_at_any_depth() -> None:
    """Field VTNs send the object as a JSON string with snake_case keys (issue 13)."""
    event = {
        **EVENT,
        "intervalPeriod": {"start": "2026-01-01T00:00:00Z", "duration": "PT1H"},
        "payloadDescriptors": [{"payloadType": "PRICE", "units": "KWH", "currency": "USD"}],
    }
    body = {"object_type": "EVENT", "operation": "UPDATE", "object": json.dumps(snake(event))}
    for shape in (body, json.dumps(body), json.dumps(json.dumps(body)), snake(event)):
        note = parse_notification(shape)
        assert note.object_type == "EVENT"
        assert note.operation == "UPDATE"
        parsed = parse_event(note.object)
        assert parsed.program_id == EVENT["programID"]
        assert parsed.period is not None
        assert parsed.period.duration == timedelta(hours=1)
        assert parsed.price_currency == "USD"
    resource = {"id": "r-1", "resource_name": "PEV-1", "ven_id": "v-1", "targets": ["grp"]}
    note = parse_notification({"operation": "update", "object": resource})
    assert note.object_type == "RESOURCE"
    assert parse_resource(note.object).target_labels == {"grp"}
    ven = parse_notification({"objectType": "VEN", "id": "v-1", "ven_name": "P", "targets": []})
    assert (ven.object_type, ven.operation, ven.object["venName"]) == ("VEN", "UPDATE", "P")


def test_pev_resource_attributes() -> None:
    out = pev_resource_attributes(
        pev_id="PEV-1",
        premise_id="P-9",
        max_power_kw=7,
        connection="premise_dc",
        energy_request_kwh=None,
        departure=datetime(2030, 7, 1, 18, 0, 0, 500, tzinfo=UTC),
    )
    assert out == [
        {"type": "MAX_POWER_CONSUMPTION", "values": [7.0]},
        {"type": "PEV_ID", "values": ["PEV-1"]},
        {"type": "PREMISE_ID", "values": ["P-9"]},
        {"type": "CONNECTION", "values": ["PREMISE_DC"]},
        {"type": "DEPARTURE", "values": ["2030-07-01T18:00:00Z"]},
    ]
    with pytest.raises(ValueError, match=r"connection"):
        pev_resource_attributes(
            pev_id="PEV-1",
            premise_id="P",
            max_power_kw=7,
            connection="WIRELESS",
            energy_request_kwh=None,
            departure=None,
        )
    with pytest.raises(ValueError, match=r"max_power_kw"):
        pev_resource_attributes(
            pev_id="PEV-1",
            premise_id="P",
            max_power_kw=-1,
            connection="PREMISE_DC",
            energy_request_kwh=None,
            departure=None,
        )
