"""Report builders produce contract-valid reportRequest bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.pev_portal.core.metering import Interval, Quality
from custom_components.pev_portal.openadr.reports import operating_state_report, usage_report
from tests.vtn import schema

T0 = datetime(2030, 7, 1, 16, 0, tzinfo=UTC)
M = timedelta(minutes=15)


def interval(
    i: int, quality: Quality = Quality.OK, *, end: datetime | None = None, reg: float | None = 10.0
) -> Interval:
    return Interval(
        T0 + i * M, end or T0 + (i + 1) * M, 1.25, "PEV-1", "P-9", "M-1", quality, 0, reg
    )


def test_usage_report_shape_and_contract() -> None:
    intervals = [
        interval(0),
        interval(1, Quality.ESTIMATED, reg=None),
        interval(3, Quality.MISSING),
        interval(4, end=T0 + 4 * M + timedelta(minutes=7, microseconds=5)),
    ]
    body = usage_report(
        program_id="prg-1",
        event_id="evt-1",
        client_name="premise-1",
        report_name="session-42",
        pev_id="PEV-1",
        interval_minutes=15,
        intervals=intervals,
    )
    schema.validate("reportRequest", body)
    assert (body["reportName"], body["clientName"], body["eventID"]) == (
        "session-42",
        "premise-1",
        "evt-1",
    )
    [resource] = body["resources"]
    assert resource["resourceName"] == "PEV-1"
    assert resource["intervalPeriod"] == {"duration": "PT15M", "start": "2030-07-01T16:00:00Z"}
    ids = [i["id"] for i in resource["intervals"]]
    assert ids == [0, 1, 3, 4]  # index since the session's first interval; a gap stays a gap
    first, estimated, missing, partial = resource["intervals"]
    assert first["intervalPeriod"] == {"start": "2030-07-01T16:00:00Z"}
    assert first["payloads"] == [
        {"type": "USAGE", "values": [1.25]},
        {"type": "DATA_QUALITY", "values": ["OK"]},
        {"type": "READING", "values": [10.0]},
    ]
    assert [p["type"] for p in estimated["payloads"]] == ["USAGE", "DATA_QUALITY"]
    assert estimated["payloads"][1]["values"] == ["ESTIMATED"]
    assert missing["payloads"][0]["values"] == [0.0]
    assert missing["payloads"][1]["values"] == ["MISSING"]
    assert partial["intervalPeriod"] == {"start": "2030-07-01T17:00:00Z", "duration": "PT7M"}
    usage = next(d for d in body["payloadDescriptors"] if d["payloadType"] == "USAGE")
    assert (usage["readingType"], usage["units"]) == ("DIRECT_READ", "KWH")


def test_usage_report_empty_and_limits() -> None:
    body = usage_report(
        program_id="p",
        event_id="e",
        client_name="c",
        report_name="s",
        pev_id="PEV-1",
        interval_minutes=1,
        intervals=[],
    )
    schema.validate("reportRequest", body)
    assert body["resources"][0]["intervals"] == []
    for minutes in (0, 61):
        with pytest.raises(ValueError, match=r"interval_minutes"):
            usage_report(
                program_id="p",
                event_id="e",
                client_name="c",
                report_name="s",
                pev_id="PEV-1",
                interval_minutes=minutes,
                intervals=[],
            )


def test_operating_state_report() -> None:
    body = operating_state_report(
        program_id="prg-1",
        event_id="evt-1",
        client_name="premise-1",
        report_name="session-42-state",
        pev_id="PEV-1",
        states=[
            (T0 + M, T0 + 2 * M, "idle_curtailed"),
            (T0, T0 + M, "RUNNING_CURTAILED"),
            (T0 + 2 * M, T0 + 3 * M, "RUNNING_OPTED_OUT"),
        ],
    )
    schema.validate("reportRequest", body)
    intervals = body["resources"][0]["intervals"]
    assert [i["payloads"][0]["values"][0] for i in intervals] == [
        "RUNNING_CURTAILED",
        "IDLE_CURTAILED",
        "RUNNING_OPTED_OUT",
    ]
    assert intervals[0]["intervalPeriod"] == {"start": "2030-07-01T16:00:00Z", "duration": "PT15M"}
    with pytest.raises(ValueError, match=r"operating state"):
        operating_state_report(
            program_id="p",
            event_id="e",
            client_name="c",
            report_name="s",
            pev_id="PEV-1",
            states=[(T0, T0 + M, "DANCING")],
        )


def test_schema_rejects_broken_report() -> None:
    assert not schema.is_valid("reportRequest", {"clientName": "c", "resources": []})
    assert not schema.is_valid(
        "reportRequest",
        {
            "eventID": "e",
            "clientName": "c",
            "resources": [{"resourceName": "r", "intervals": [{"id": "x", "payloads": []}]}],
        },
    )
