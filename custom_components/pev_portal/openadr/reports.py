"""OpenADR report bodies (``reportRequest``) for PEV charging sessions (profile 'Reports')."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from ..core.metering import Interval, Quality
from .models import format_datetime, format_duration

__all__ = [
    "EXPORT_USAGE",
    "OPERATING_STATES",
    "operating_state_report",
    "usage_report",
]

OPERATING_STATES: Final = frozenset(
    {
        "RUNNING_CURTAILED",
        "IDLE_CURTAILED",
        "RUNNING_OPTED_OUT",
        "IDLE_OPTED_OUT",
        "RUNNING_NORMAL",
        "IDLE_NORMAL",
        "NORMAL",
        "ERROR",
    }
)

_KWH_DECIMALS: Final = 6
EXPORT_USAGE: Final = "EXPORT_USAGE"
"""The profile's private payload (3.1.0 'Private Strings'): energy fed back in the interval."""


def _check(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    if len(value) > 128:
        raise ValueError(f"{name} is longer than 128 characters")
    return value


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _base(program_id: str, event_id: str, client_name: str, report_name: str) -> dict[str, Any]:
    return {
        "programID": _check("program_id", program_id),
        "eventID": _check("event_id", event_id),
        "clientName": _check("client_name", client_name),
        "reportName": _check("report_name", report_name),
    }


def _kwh(value: float) -> float:
    """An energy as reported: not finite or below 0 counts as 0."""
    return value if math.isfinite(value) and value > 0 else 0.0


def usage_report(
    *,
    program_id: str,
    event_id: str,
    client_name: str,
    report_name: str,
    pev_id: str,
    interval_minutes: int,
    intervals: Sequence[Interval],
    export: bool = False,
) -> dict[str, Any]:
    """The session's ``USAGE`` report (one report per session, updated as it goes on).

    ``reportName`` = the session ID, ``clientName`` = the VEN name, one resource named after the
    PEV ID with ``intervalPeriod.duration`` = ``PT{n}M``. One report interval per metering
    interval, sorted by start; its ``id`` is the interval's index counted in whole metering
    intervals from the first interval's start (so it is stable across updates as the session
    grows, and a gap leaves a gap in ids). Each interval carries its own ``intervalPeriod``
    (start in UTC at whole seconds; the duration only when it differs from the default, e.g.
    the partial last interval), payloads ``USAGE`` [kWh, 6 decimals], ``DATA_QUALITY``
    [``OK``|``MISSING``|``ESTIMATED``] and ``READING`` [meter register at the interval's end]
    when known. A MISSING interval reports ``USAGE`` 0 with ``DATA_QUALITY`` MISSING.

    Power feed (profile 'Power feed'): ``USAGE`` stays the energy drawn; the energy fed back
    is the private payload ``EXPORT_USAGE`` [kWh], in every interval once an interval has
    ``exported_kwh`` above 0, or from the start with ``export`` (the event asks for it).

    ``programID`` is included for VTNs that filter by it (an extra property of the request
    schema, allowed by the contract).
    """
    if isinstance(interval_minutes, bool) or not 1 <= interval_minutes <= 60:
        raise ValueError("interval_minutes must be from 1 to 60 (NF.2)")
    report = _base(program_id, event_id, client_name, report_name)
    default_us = interval_minutes * 60
    ordered = sorted(intervals, key=lambda i: i.start)
    first = _utc(ordered[0].start, "interval start") if ordered else None
    export = export or any(_kwh(i.exported_kwh) > 0 for i in ordered)
    out: list[dict[str, Any]] = []
    for item in ordered:
        start = _utc(item.start, "interval start")
        end = _utc(item.end, "interval end")
        assert first is not None
        index = int((start - first).total_seconds() // default_us)
        period: dict[str, Any] = {"start": format_datetime(start)}
        seconds = int((end.replace(microsecond=0) - start.replace(microsecond=0)).total_seconds())
        if seconds != default_us:
            period["duration"] = format_duration(end - start)
        kwh = item.kwh if math.isfinite(item.kwh) else 0.0
        if item.quality is Quality.MISSING:
            kwh = 0.0
        payloads: list[dict[str, Any]] = [
            {"type": "USAGE", "values": [round(kwh, _KWH_DECIMALS)]},
            {"type": "DATA_QUALITY", "values": [Quality(item.quality).value]},
        ]
        if item.register_end is not None and math.isfinite(item.register_end):
            payloads.append(
                {"type": "READING", "values": [round(item.register_end, _KWH_DECIMALS)]}
            )
        if export:
            fed = 0.0 if item.quality is Quality.MISSING else _kwh(item.exported_kwh)
            payloads.append({"type": EXPORT_USAGE, "values": [round(fed, _KWH_DECIMALS)]})
        out.append({"id": index, "intervalPeriod": period, "payloads": payloads})
    report["payloadDescriptors"] = [
        {
            "objectType": "REPORT_PAYLOAD_DESCRIPTOR",
            "payloadType": "USAGE",
            "readingType": "DIRECT_READ",
            "units": "KWH",
        },
        {"objectType": "REPORT_PAYLOAD_DESCRIPTOR", "payloadType": "DATA_QUALITY"},
        {
            "objectType": "REPORT_PAYLOAD_DESCRIPTOR",
            "payloadType": "READING",
            "readingType": "DIRECT_READ",
            "units": "KWH",
        },
    ]
    if export:
        report["payloadDescriptors"].append(
            {
                "objectType": "REPORT_PAYLOAD_DESCRIPTOR",
                "payloadType": EXPORT_USAGE,
                "readingType": "DIRECT_READ",
                "units": "KWH",
            }
        )
    resource: dict[str, Any] = {
        "resourceName": _check("pev_id", pev_id),
        "intervalPeriod": {"duration": f"PT{interval_minutes}M"},
        "intervals": out,
    }
    if first is not None:
        resource["intervalPeriod"]["start"] = format_datetime(first)
    report["resources"] = [resource]
    return report


def operating_state_report(
    *,
    program_id: str,
    event_id: str,
    client_name: str,
    report_name: str,
    pev_id: str,
    states: Sequence[tuple[datetime, datetime, str]],
) -> dict[str, Any]:
    """Event participation: one interval per ``(start, end, state)``, payload ``OPERATING_STATE``.

    States: ``RUNNING_CURTAILED``, ``IDLE_CURTAILED``, ``RUNNING_OPTED_OUT``, ``IDLE_OPTED_OUT``,
    ``RUNNING_NORMAL``, ``IDLE_NORMAL`` (and ``NORMAL``, ``ERROR``); anything else raises
    ValueError. Interval ids are 0, 1, ... in time order.
    """
    report = _base(program_id, event_id, client_name, report_name)
    intervals: list[dict[str, Any]] = []
    for index, (start, end, state) in enumerate(sorted(states, key=lambda s: s[0])):
        name = state.strip().upper() if isinstance(state, str) else ""
        if name not in OPERATING_STATES:
            raise ValueError(f"{state!r} is not an OpenADR operating state")
        s = _utc(start, "state start")
        e = _utc(end, "state end")
        if e < s:
            raise ValueError("state end is before its start")
        intervals.append(
            {
                "id": index,
                "intervalPeriod": {"start": format_datetime(s), "duration": format_duration(e - s)},
                "payloads": [{"type": "OPERATING_STATE", "values": [name]}],
            }
        )
    report["payloadDescriptors"] = [
        {"objectType": "REPORT_PAYLOAD_DESCRIPTOR", "payloadType": "OPERATING_STATE"}
    ]
    report["resources"] = [{"resourceName": _check("pev_id", pev_id), "intervals": intervals}]
    return report
