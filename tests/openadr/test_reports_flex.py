"""Performance and flexibility report bodies: the 3.1.0 contract and its payload enumerations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from custom_components.pev_portal.core.flexibility import (
    ShedInterval,
    StorageStatus,
    forecast_grid,
    shed_available,
    storage_status,
    usage_forecast,
)
from custom_components.pev_portal.core.planner import ChargerModel, VehicleRequest, plan
from custom_components.pev_portal.core.settlement import (
    Baseline,
    BaselineMethod,
    EventWindow,
    PlanningInputs,
    plan_baseline,
    settle,
)
from custom_components.pev_portal.core.tariff import FlatTariff
from custom_components.pev_portal.openadr.reports_flex import (
    flexibility_report,
    only_payloads,
    performance_report,
    requested_payloads,
    storage_report,
)
from tests.vtn import schema

H = timedelta(hours=1)
T0 = datetime(2030, 7, 2, 16, tzinfo=UTC)
IDS = {"program_id": "prg-1", "event_id": "rep-1", "client_name": "premise-1"}


@cache
def payload_validators() -> dict[str, Draft202012Validator]:
    path = schema._spec_path().parent / "enumerations" / "report-payloads.schema.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        name: Draft202012Validator({k: v for k, v in body.items() if k != "$id"})
        for name, body in data["definitions"].items()
        if "$ref" not in str(body)
    }


def check(body: dict[str, Any]) -> None:
    """The body is a valid reportRequest and every payload matches its enumeration schema."""
    schema.validate("reportRequest", body)
    validators = payload_validators()
    declared = {d["payloadType"] for d in body["payloadDescriptors"]}
    for resource in body["resources"]:
        for interval in resource["intervals"]:
            for payload in interval["payloads"]:
                assert payload["type"] in declared
                validators[payload["type"]].validate(payload["values"])


def test_performance_report_from_a_settlement() -> None:
    event = EventWindow("evt-1", "prg-1", T0 + H, T0 + 3 * H, limits=((T0 + H, T0 + 3 * H, 0.0),))
    planned = ((T0, T0 + 3 * H, 21.0),)
    measured = ((T0, T0 + H, 7.0), (T0 + 3 * H, T0 + 5 * H, 14.0))
    perf = settle(
        event,
        vehicle_id="PEV-1",
        measured=measured,
        counterfactual=plan_baseline(planned, event, interval_minutes=30),
        meter=Baseline(BaselineMethod.METER, None),
    )
    assert perf.counterfactual.intervals is not None
    body = performance_report(
        **IDS,
        report_name="perf-evt-1-session-9",
        pev_id="PEV-1",
        baseline=perf.counterfactual.intervals,
        measured=perf.measured,
    )
    check(body)
    [resource] = body["resources"]
    assert resource["intervalPeriod"] == {"start": "2030-07-02T17:00:00Z", "duration": "PT30M"}
    assert len(resource["intervals"]) == 4
    assert resource["intervals"][0]["payloads"] == [
        {"type": "BASELINE", "values": [3.5]},
        {"type": "DELTA_USAGE", "values": [-3.5]},
    ]
    assert "duration" not in resource["intervals"][0]["intervalPeriod"]
    with pytest.raises(ValueError, match="same grid"):
        performance_report(
            **IDS,
            report_name="r",
            pev_id="PEV-1",
            baseline=perf.counterfactual.intervals,
            measured=(),
        )
    with pytest.raises(ValueError, match="finite"):
        performance_report(
            **IDS,
            report_name="r",
            pev_id="PEV-1",
            baseline=((T0, T0 + H, float("nan")),),
            measured=((T0, T0 + H, 1.0),),
        )


def test_flexibility_report_from_a_plan() -> None:
    request = VehicleRequest("PEV-1", 22.08, T0 + 6 * H, ChargerModel(max_kw=7.36))
    inputs = PlanningInputs(
        (request,), T0, FlatTariff("USD", Decimal("0.2")), horizon=timedelta(days=1)
    )
    p = plan(inputs.requests, now=T0, tariff=inputs.tariff, horizon=inputs.horizon, explain=False)
    grid = forecast_grid(T0, T0 + 6 * H, 15)
    forecast = usage_forecast(p.vehicles["PEV-1"], grid)
    shed = shed_available(inputs, "PEV-1", grid, current=p)
    body = flexibility_report(
        **IDS, report_name="flex-PEV-1", pev_id="PEV-1", forecast=forecast, shed=shed
    )
    check(body)
    first = body["resources"][0]["intervals"][0]["payloads"]
    assert first == [
        {"type": "USAGE_FORECAST", "values": [1.84]},
        {"type": "LOAD_SHED_DELTA_AVAILABLE", "values": [-7.36]},
    ]
    last = body["resources"][0]["intervals"][-1]["payloads"]
    assert last[1]["values"] == [0.0]
    assert [d["units"] for d in body["payloadDescriptors"]] == ["KWH", "KW"]
    only = flexibility_report(**IDS, report_name="f", pev_id="PEV-1", forecast=forecast[:2])
    check(only)
    assert [d["payloadType"] for d in only["payloadDescriptors"]] == ["USAGE_FORECAST"]
    empty = flexibility_report(**IDS, report_name="f", pev_id="PEV-1", forecast=[], shed=[])
    check(empty)
    # a partial last interval carries its own duration; an unmatched shed interval reads 0
    odd = flexibility_report(
        **IDS,
        report_name="f",
        pev_id="PEV-1",
        forecast=[(T0, T0 + H, 1.0), (T0 + H, T0 + H + timedelta(minutes=20), 0.5)],
        shed=[ShedInterval(T0 + 5 * H, T0 + 6 * H, 1.0, 1.0)],
    )
    check(odd)
    assert odd["resources"][0]["intervals"][1]["intervalPeriod"]["duration"] == "PT20M"
    assert odd["resources"][0]["intervals"][0]["payloads"][1]["values"] == [0.0]


def test_storage_report() -> None:
    status = storage_status(62.5, 58.0)
    assert status is not None
    body = storage_report(
        **IDS,
        report_name="soc-PEV-1",
        pev_id="PEV-1",
        at=T0 + timedelta(microseconds=7),
        storage=status,
    )
    check(body)
    [interval] = body["resources"][0]["intervals"]
    assert interval["intervalPeriod"] == {"start": "2030-07-02T16:00:00Z", "duration": "PT0S"}
    assert interval["payloads"] == [
        {"type": "STORAGE_CHARGE_LEVEL", "values": [0.625]},
        {"type": "STORAGE_USABLE_CAPACITY", "values": [58.0]},
    ]
    with pytest.raises(ValueError, match="0 to 1"):
        storage_report(
            **IDS, report_name="s", pev_id="PEV-1", at=T0, storage=StorageStatus(62.5, 58.0)
        )
    with pytest.raises(ValueError, match="aware"):
        storage_report(
            **IDS, report_name="s", pev_id="PEV-1", at=datetime(2030, 1, 1), storage=status
        )
    with pytest.raises(ValueError, match="pev_id"):
        storage_report(**IDS, report_name="s", pev_id=" ", at=T0, storage=status)


def test_requested_payloads() -> None:
    assert requested_payloads(None) == frozenset()
    assert requested_payloads(
        [
            {"payloadType": "baseline "},
            {"payloadType": "DELTA_USAGE"},
            {"payloadType": ""},
            "junk",
            {"x": 1},
        ]
    ) == {"BASELINE", "DELTA_USAGE"}


def test_only_the_payloads_asked_for() -> None:
    """A reporting event that asks only for DELTA_USAGE gets a valid report with only that."""
    grid = ((T0, T0 + H, 2.0), (T0 + H, T0 + 2 * H, 3.0))
    body = performance_report(
        **IDS,
        report_name="s-1-evt-1",
        pev_id="PEV-1",
        baseline=grid,
        measured=((T0, T0 + H, 1.0), (T0 + H, T0 + 2 * H, 3.5)),
    )
    only = only_payloads(body, {"DELTA_USAGE"})
    check(only)
    assert [d["payloadType"] for d in only["payloadDescriptors"]] == ["DELTA_USAGE"]
    values = [i["payloads"] for i in only["resources"][0]["intervals"]]
    assert values == [
        [{"type": "DELTA_USAGE", "values": [-1.0]}],
        [{"type": "DELTA_USAGE", "values": [0.5]}],
    ]
    assert body["payloadDescriptors"][0]["payloadType"] == "BASELINE"  # the original is kept
