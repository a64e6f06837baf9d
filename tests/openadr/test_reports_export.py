"""The power feed's report bodies (issue #18): USAGE with the private EXPORT_USAGE beside it,
STORAGE_MAX_CHARGE_POWER / STORAGE_MAX_DISCHARGE_POWER and STORAGE_DISPATCH_FORECAST; each
valid against the 3.1.0 contract, and accepted by the test VTN (which validates every
request)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from custom_components.pev_portal.core.flexibility import StorageStatus
from custom_components.pev_portal.core.metering import Quality
from custom_components.pev_portal.openadr.client import VenClient
from custom_components.pev_portal.openadr.reports import usage_report
from custom_components.pev_portal.openadr.reports_flex import (
    flexibility_report,
    requested_payloads,
    storage_report,
)
from tests.openadr.test_reports import T0, M, interval
from tests.openadr.test_reports_flex import IDS, check
from tests.vtn import schema
from tests.vtn.server import TestVtn


def usage(**kwargs: Any) -> dict[str, Any]:
    return usage_report(
        program_id="prg-1",
        event_id="evt-1",
        client_name="premise-1",
        report_name="session-42",
        pev_id="PEV-1",
        interval_minutes=15,
        **kwargs,
    )


def payloads(body: dict[str, Any], kind: str) -> list[Any]:
    return [
        p["values"][0]
        for i in body["resources"][0]["intervals"]
        for p in i["payloads"]
        if p["type"] == kind
    ]


def test_usage_with_export_once_the_session_fed_back() -> None:
    """USAGE stays the energy drawn; EXPORT_USAGE (a private payload, declared) the energy
    fed back, in every interval once one fed; a MISSING or NaN one counts 0."""
    fed = [
        interval(0),
        replace(interval(1), kwh=0.0, exported_kwh=1.7),
        replace(interval(2), kwh=0.2, exported_kwh=0.4),
        replace(interval(3, Quality.MISSING), exported_kwh=2.0),
        replace(interval(4), exported_kwh=math.nan),
    ]
    body = usage(intervals=fed)
    schema.validate("reportRequest", body)
    assert payloads(body, "USAGE") == [1.25, 0.0, 0.2, 0.0, 1.25]
    assert payloads(body, "EXPORT_USAGE") == [0.0, 1.7, 0.4, 0.0, 0.0]
    assert {
        "objectType": "REPORT_PAYLOAD_DESCRIPTOR",
        "payloadType": "EXPORT_USAGE",
        "readingType": "DIRECT_READ",
        "units": "KWH",
    } in body["payloadDescriptors"]
    # every other payload still matches its enumeration
    check({**body, "resources": [_without(body["resources"][0], "EXPORT_USAGE")]})


def _without(resource: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        **resource,
        "intervals": [
            {**i, "payloads": [p for p in i["payloads"] if p["type"] != kind]}
            for i in resource["intervals"]
        ],
    }


def test_usage_without_export_is_as_before_unless_asked() -> None:
    plain = usage(intervals=[interval(0), interval(1)])
    assert payloads(plain, "EXPORT_USAGE") == []
    assert all(d["payloadType"] != "EXPORT_USAGE" for d in plain["payloadDescriptors"])
    asked = usage(intervals=[interval(0), interval(1)], export=True)
    schema.validate("reportRequest", asked)
    assert payloads(asked, "EXPORT_USAGE") == [0.0, 0.0]
    negative = usage(intervals=[replace(interval(0), exported_kwh=-3.0)])
    assert payloads(negative, "EXPORT_USAGE") == []


def test_storage_max_powers_alone_or_with_the_battery() -> None:
    """The charger's maximum power each way: without a state of charge too; with it, the
    four payloads in one reading; all four in the 3.1.0 enumerations."""
    alone = storage_report(
        **IDS,
        report_name="storage-PEV-1",
        pev_id="PEV-1",
        at=T0,
        storage=None,
        max_charge_kw=7.4,
        max_discharge_kw=0.0,
    )
    check(alone)
    [reading] = alone["resources"][0]["intervals"]
    assert reading["payloads"] == [
        {"type": "STORAGE_MAX_CHARGE_POWER", "values": [7.4]},
        {"type": "STORAGE_MAX_DISCHARGE_POWER", "values": [0.0]},
    ]
    assert {d["units"] for d in alone["payloadDescriptors"]} == {"KW"}
    full = storage_report(
        **IDS,
        report_name="storage-PEV-1",
        pev_id="PEV-1",
        at=T0,
        storage=StorageStatus(0.5, 60.0),
        max_discharge_kw=7.4,
    )
    check(full)
    assert [p["type"] for p in full["resources"][0]["intervals"][0]["payloads"]] == [
        "STORAGE_CHARGE_LEVEL",
        "STORAGE_USABLE_CAPACITY",
        "STORAGE_MAX_DISCHARGE_POWER",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "nothing to report"),
        ({"max_discharge_kw": -1.0}, "must not be negative"),
        ({"max_charge_kw": math.nan}, "finite"),
    ],
)
def test_storage_bad_input_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        storage_report(**IDS, report_name="s", pev_id="PEV-1", at=T0, storage=None, **kwargs)


def test_dispatch_forecast_beside_the_usage_forecast() -> None:
    """Charge 2 kWh, then feed 1.5 kWh back: the dispatch is their net (negative: fed)."""
    grid = [(T0 + i * M, T0 + (i + 1) * M) for i in range(3)]
    forecast = [(a, b, kwh) for (a, b), kwh in zip(grid, [2.0, 0.0, 0.0], strict=True)]
    dispatch = [(a, b, kwh) for (a, b), kwh in zip(grid, [2.0, -1.5, 0.0], strict=True)]
    body = flexibility_report(
        **IDS, report_name="flex-PEV-1", pev_id="PEV-1", forecast=forecast, dispatch=dispatch
    )
    check(body)
    assert payloads(body, "STORAGE_DISPATCH_FORECAST") == [2.0, -1.5, 0.0]
    assert payloads(body, "USAGE_FORECAST") == [2.0, 0.0, 0.0]
    assert {
        "objectType": "REPORT_PAYLOAD_DESCRIPTOR",
        "payloadType": "STORAGE_DISPATCH_FORECAST",
        "readingType": "FORECAST",
        "units": "KWH",
    } in body["payloadDescriptors"]
    with pytest.raises(ValueError, match="finite"):
        flexibility_report(
            **IDS,
            report_name="flex-PEV-1",
            pev_id="PEV-1",
            forecast=forecast,
            dispatch=[(grid[0][0], grid[0][1], math.inf)],
        )


async def test_the_vtn_takes_the_power_feed_reports(vtn: TestVtn, client: VenClient) -> None:
    """An event asking for EXPORT_USAGE and the storage payloads: the bodies are accepted
    (the VTN validates every request against the 3.1.0 contract) and stored as sent."""
    vtn.add_program("V2G")
    event = vtn.create_event(
        program="V2G",
        name="v2g",
        interval_period={"start": "2030-07-01T16:00:00Z", "duration": "PT4H"},
        intervals=[{"id": 0, "payloads": [{"type": "EXPORT_PRICE", "values": [0.3]}]}],
        report_descriptors=[
            {"payloadType": "USAGE", "readingType": "DIRECT_READ", "units": "KWH"},
            {"payloadType": "EXPORT_USAGE", "readingType": "DIRECT_READ", "units": "KWH"},
            {"payloadType": "STORAGE_MAX_DISCHARGE_POWER", "units": "KW"},
            {"payloadType": "STORAGE_DISPATCH_FORECAST", "units": "KWH"},
        ],
    )
    [program] = await client.async_programs(["V2G"])
    [seen] = await client.async_events([program.id])
    asked = requested_payloads(seen.report_descriptors)
    assert {"EXPORT_USAGE", "STORAGE_MAX_DISCHARGE_POWER", "STORAGE_DISPATCH_FORECAST"} <= asked
    ids = {"program_id": program.id, "event_id": event["id"], "client_name": "premise-1"}
    body = usage_report(
        **ids,
        report_name="session-7",
        pev_id="PEV-1",
        interval_minutes=15,
        intervals=[interval(0), replace(interval(1), kwh=0.0, exported_kwh=1.85)],
        export="EXPORT_USAGE" in asked,
    )
    created = await client.async_upsert_report(body)
    storage = await client.async_upsert_report(
        storage_report(
            **ids,
            report_name="storage-PEV-1",
            pev_id="PEV-1",
            at=T0,
            storage=None,
            max_discharge_kw=7.4,
        )
    )
    grid = [(T0, T0 + M, -1.85)]
    flex = await client.async_upsert_report(
        flexibility_report(
            **ids, report_name="flex-PEV-1", pev_id="PEV-1", forecast=grid, dispatch=grid
        )
    )
    assert payloads(vtn.reports[created["id"]], "EXPORT_USAGE") == [0.0, 1.85]
    assert payloads(vtn.reports[storage["id"]], "STORAGE_MAX_DISCHARGE_POWER") == [7.4]
    assert payloads(vtn.reports[flex["id"]], "STORAGE_DISPATCH_FORECAST") == [-1.85]
    assert vtn.requests["POST /reports"] == 3
