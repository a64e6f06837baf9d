"""The test VTN's fast schema check agrees with jsonschema (the reference) on valid bodies and
on every one-leaf mutation of them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.pev_portal.core.metering import Interval, Quality
from custom_components.pev_portal.openadr.reports import usage_report
from tests.vtn import schema
from tests.vtn.server import TestVtn

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def report() -> dict[str, Any]:
    intervals = [
        Interval(
            T0 + timedelta(minutes=m),
            T0 + timedelta(minutes=m + 1),
            0.1,
            "P",
            "B",
            "M",
            Quality.OK,
            0,
            None,
        )
        for m in range(3)
    ]
    return usage_report(
        program_id="prg-1",
        event_id="evt-1",
        client_name="P-1",
        report_name="s-1",
        pev_id="P",
        interval_minutes=1,
        intervals=intervals,
    )


def event() -> dict[str, Any]:
    vtn = TestVtn()
    vtn.add_program("PEV-TOU")
    dlc = vtn.create_dlc_event(7.0, T0, timedelta(hours=1), targets=["grp"], report_state=True)
    return copy.deepcopy(dlc)


def subscription() -> dict[str, Any]:
    return {
        "clientName": "P-1",
        "objectOperations": [
            {
                "objects": ["EVENT", "VEN"],
                "operations": ["CREATE"],
                "callbackUrl": "http://127.0.0.1/cb",
                "bearerToken": "t",
            }
        ],
    }


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key)
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*path, index)
            yield from leaves(item, (*path, index))


def mutated(body: Any, path: tuple[Any, ...], new: Any) -> Any:
    copied = copy.deepcopy(body)
    target = copied
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copied


@pytest.mark.parametrize(
    ("name", "make"),
    [("reportRequest", report), ("event", event), ("subscriptionRequest", subscription)],
)
def test_fast_check_agrees_with_jsonschema(name: str, make: Any) -> None:
    body = make()
    assert schema.errors(name, body) == schema.slow_errors(name, body) == []
    checked = 0
    for path in leaves(body):
        for new in (None, "x", "2026-13-01", -1, 1.5, True, {}, [], ["x"]):
            candidate = mutated(body, path, new)
            fast = schema.errors(name, candidate)
            slow = schema.slow_errors(name, candidate)
            assert bool(fast) == bool(slow), (path, new, slow)
            assert fast == slow
            checked += 1
    assert checked > 50
