"""Fuzz: random JSON and mutated valid objects never break the parsers or the timeline."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.pev_portal.openadr.models import (
    parse_event,
    parse_events,
    parse_notification,
    parse_program,
    parse_programs,
)
from custom_components.pev_portal.openadr.timeline import Timeline

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        ["PT1H", "P9999Y", "0001-01-01", "2030-07-01T16:00:00Z", "PRICE", "SIMPLE", "-PT5M"]
    ),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=6)
    ),
    max_leaves=30,
)

VALID_EVENT: dict[str, Any] = {
    "id": "evt-ok",
    "programID": "prg-1",
    "priority": 1,
    "createdDateTime": "2030-07-01T10:00:00Z",
    "modificationDateTime": "2030-07-01T10:00:00Z",
    "objectType": "EVENT",
    "intervalPeriod": {
        "start": "2030-07-01T16:00:00Z",
        "duration": "PT1H",
        "randomizeStart": "PT1M",
    },
    "payloadDescriptors": [
        {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "PRICE", "currency": "USD"}
    ],
    "duration": "PT4H",
    "intervals": [
        {"id": 0, "payloads": [{"type": "PRICE", "values": [0.2, 0.3]}]},
        {
            "id": 1,
            "payloads": [
                {"type": "IMPORT_CAPACITY_LIMIT", "values": [3]},
                {"type": "SIMPLE", "values": [2]},
            ],
        },
        {
            "id": 2,
            "intervalPeriod": {"start": "0001-01-01"},
            "payloads": [{"type": "ALERT_FLEX_ALERT", "values": ["x"]}],
        },
    ],
}
VALID_PROGRAM: dict[str, Any] = {
    "id": "prg-ok",
    "programName": "TOU",
    "attributes": [{"type": "PROGRAM_TYPE", "values": ["TOU"]}],
}
VALID_NOTE: dict[str, Any] = {"objectType": "EVENT", "operation": "UPDATE", "object": VALID_EVENT}

paths = st.lists(
    st.sampled_from(
        [
            "intervals",
            0,
            1,
            2,
            "intervalPeriod",
            "payloads",
            "values",
            "start",
            "duration",
            "priority",
            "targets",
            "id",
            "type",
            "object",
            "programID",
            "attributes",
        ]
    ),
    min_size=1,
    max_size=4,
)


def mutate(obj: Any, path: list[Any], value: Any) -> Any:
    """Replace (or add) the value at a path, as far as the path exists."""
    root = copy.deepcopy(obj)
    node = root
    for key in path[:-1]:
        if (isinstance(node, dict) and key in node) or (
            isinstance(node, list) and isinstance(key, int) and key < len(node)
        ):
            node = node[key]
        else:
            break
    last = path[-1]
    if (isinstance(node, dict) and isinstance(last, str)) or (
        isinstance(node, list) and isinstance(last, int) and last < len(node)
    ):
        node[last] = value
    return root


def exercise(timeline: Timeline) -> None:
    at = datetime(2030, 7, 1, 17, tzinfo=UTC)
    for pev in (None, "PEV-1"):
        timeline.price_overlays(pev)
        timeline.cap_kw(pev, at, 7.2, 1.4)
        timeline.caps(pev, at.replace(hour=0), at.replace(hour=23), 7.2, 1.4)
        timeline.available(pev)
    timeline.active(at)
    timeline.next(at)


def build(events: list[Any]) -> Timeline:
    return Timeline(
        parse_events(events),
        ven_name="premise-1",
        resource_names=["PEV-1"],
        currency="USD",
        now=datetime(2030, 7, 1, 12, tzinfo=UTC),
    )


@SETTINGS
@given(json_values)
def test_random_json_single_objects_raise_only_value_error(data: Any) -> None:
    for parser in (parse_event, parse_program, parse_notification):
        with contextlib.suppress(ValueError):
            parser(data)
    with contextlib.suppress(ValueError):
        parse_notification(json.dumps(data, allow_nan=True))


@SETTINGS
@given(st.lists(json_values, max_size=6))
def test_random_json_lists_never_raise(items: list[Any]) -> None:
    assert isinstance(parse_events(items), list)
    assert isinstance(parse_programs(items), list)
    exercise(build(items))


@SETTINGS
@given(paths, json_values, st.lists(json_values, max_size=3))
def test_mutated_events_keep_the_valid_ones(path: list[Any], value: Any, junk: list[Any]) -> None:
    broken = mutate(VALID_EVENT, path, value)
    with contextlib.suppress(ValueError):
        parse_event(broken)
    events = parse_events([*junk, broken, VALID_EVENT])
    assert events[-1].id == "evt-ok"
    assert events[-1].intervals == parse_event(VALID_EVENT).intervals
    exercise(build([*junk, broken, {**VALID_EVENT, "id": "evt-ok-2"}]))
    timeline = build([{**VALID_EVENT, "id": "evt-ok-2"}, *junk])
    assert any(e.event_id == "evt-ok-2" for e in timeline.entries)


@SETTINGS
@given(paths, json_values)
def test_mutated_programs_and_notifications(path: list[Any], value: Any) -> None:
    programs = parse_programs([mutate(VALID_PROGRAM, path, value), VALID_PROGRAM])
    assert programs[-1].id == "prg-ok"
    note = mutate(VALID_NOTE, path, value)
    for body in (note, json.dumps(note), json.dumps(json.dumps(note))):
        try:
            parsed = parse_notification(body)
        except ValueError:
            continue
        assert parsed.object_type
        assert parsed.operation
        assert isinstance(parsed.object, dict)
