"""Report bodies for performance and flexibility (profile 'Performance, flexibility, fail-safe').

Additive to :mod:`.reports` (same conventions: ``reportName`` stable, ``clientName`` = the VEN
name, one resource per PEV named after its PEV ID, times in UTC at whole seconds, energy in kWh
with 6 decimals).

Sign convention (both are *deltas*, measured minus reference): ``DELTA_USAGE`` = measured -
``BASELINE`` (negative when the event reduced the load), ``LOAD_SHED_DELTA_AVAILABLE`` = minus
the power that could be shed (negative: a decrease is available).

* :func:`performance_report`: ``BASELINE`` [kWh, ``readingType`` ``ESTIMATED``] and
  ``DELTA_USAGE`` [kWh, ``DIRECT_READ``] per interval of the event window.
* :func:`flexibility_report`: ``USAGE_FORECAST`` [kWh, ``FORECAST``] and, when given,
  ``LOAD_SHED_DELTA_AVAILABLE`` [kW, ``FORECAST``] per forecast interval.
* :func:`storage_report`: ``STORAGE_CHARGE_LEVEL`` [``PERCENT`` as a fraction 0-1, the schema's
  bounds] and ``STORAGE_USABLE_CAPACITY`` [kWh] and, for the power feed,
  ``STORAGE_MAX_CHARGE_POWER`` and ``STORAGE_MAX_DISCHARGE_POWER`` [kW] in one interval
  starting at the reading.
* :func:`flexibility_report` with ``dispatch``: ``STORAGE_DISPATCH_FORECAST`` [kWh,
  ``FORECAST``] per forecast interval, the energy into the battery minus the energy fed back
  (negative: fed back; the sign of the ``USAGE`` family).
* :func:`requested_payloads`: the payload types a reporting event's ``reportDescriptors`` ask.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from ..core.flexibility import ShedInterval, StorageStatus
from ..core.settlement import EnergyInterval
from .models import format_datetime, format_duration
from .reports import _base, _check, _utc

__all__ = [
    "FLEX_PAYLOADS",
    "PERFORMANCE_PAYLOADS",
    "flexibility_report",
    "only_payloads",
    "performance_report",
    "requested_payloads",
    "storage_report",
]

PERFORMANCE_PAYLOADS: Final = frozenset({"BASELINE", "DELTA_USAGE"})
FLEX_PAYLOADS: Final = frozenset(
    {
        "USAGE_FORECAST",
        "LOAD_SHED_DELTA_AVAILABLE",
        "STORAGE_CHARGE_LEVEL",
        "STORAGE_USABLE_CAPACITY",
        "STORAGE_MAX_CHARGE_POWER",
        "STORAGE_MAX_DISCHARGE_POWER",
        "STORAGE_DISPATCH_FORECAST",
    }
)
_DECIMALS: Final = 6


def _descriptor(payload: str, reading: str | None, units: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"objectType": "REPORT_PAYLOAD_DESCRIPTOR", "payloadType": payload}
    if reading is not None:
        out["readingType"] = reading
    if units is not None:
        out["units"] = units
    return out


def _number(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return round(value, _DECIMALS) + 0.0  # no -0.0


def _resource(
    pev_id: str,
    rows: Sequence[tuple[datetime, datetime, list[dict[str, Any]]]],
) -> dict[str, Any]:
    intervals: list[dict[str, Any]] = []
    default: timedelta | None = None
    if rows:
        default = _utc(rows[0][1], "end") - _utc(rows[0][0], "start")
    for index, (start, end, payloads) in enumerate(rows):
        s, e = _utc(start, "interval start"), _utc(end, "interval end")
        if e < s:
            raise ValueError("an interval ends before it starts")
        period: dict[str, Any] = {"start": format_datetime(s)}
        if e - s != default:
            period["duration"] = format_duration(e - s)
        intervals.append({"id": index, "intervalPeriod": period, "payloads": payloads})
    resource: dict[str, Any] = {"resourceName": _check("pev_id", pev_id), "intervals": intervals}
    if rows and default is not None:
        resource["intervalPeriod"] = {
            "start": format_datetime(_utc(rows[0][0], "start")),
            "duration": format_duration(default),
        }
    return resource


def performance_report(
    *,
    program_id: str,
    event_id: str,
    client_name: str,
    report_name: str,
    pev_id: str,
    baseline: Sequence[EnergyInterval],
    measured: Sequence[EnergyInterval],
) -> dict[str, Any]:
    """``BASELINE`` and ``DELTA_USAGE`` per interval of the event window.

    ``baseline`` and ``measured`` are on the same grid (as :class:`~..core.settlement.Baseline`
    and :attr:`~..core.settlement.Performance.measured` are); a grid mismatch raises ValueError.
    """
    if len(baseline) != len(measured) or any(
        (a[0], a[1]) != (b[0], b[1]) for a, b in zip(baseline, measured, strict=True)
    ):
        raise ValueError("baseline and measured intervals must be on the same grid")
    report = _base(program_id, event_id, client_name, report_name)
    rows = [
        (
            s,
            e,
            [
                {"type": "BASELINE", "values": [_number(base, "baseline")]},
                {"type": "DELTA_USAGE", "values": [_number(got - base, "delta")]},
            ],
        )
        for (s, e, base), (_, _, got) in zip(baseline, measured, strict=True)
    ]
    report["payloadDescriptors"] = [
        _descriptor("BASELINE", "ESTIMATED", "KWH"),
        _descriptor("DELTA_USAGE", "DIRECT_READ", "KWH"),
    ]
    report["resources"] = [_resource(pev_id, rows)]
    return report


def flexibility_report(
    *,
    program_id: str,
    event_id: str,
    client_name: str,
    report_name: str,
    pev_id: str,
    forecast: Sequence[EnergyInterval],
    shed: Sequence[ShedInterval] | None = None,
    dispatch: Sequence[EnergyInterval] | None = None,
) -> dict[str, Any]:
    """``USAGE_FORECAST`` [kWh] and, with ``shed``, ``LOAD_SHED_DELTA_AVAILABLE`` [kW, <= 0];
    with ``dispatch`` (on the forecast's grid), ``STORAGE_DISPATCH_FORECAST`` [kWh]."""
    shed_by = {(i.start, i.end): i for i in shed} if shed is not None else {}
    dispatch_by = {(a, b): kwh for a, b, kwh in dispatch} if dispatch is not None else {}
    report = _base(program_id, event_id, client_name, report_name)
    rows: list[tuple[datetime, datetime, list[dict[str, Any]]]] = []
    for s, e, kwh in forecast:
        payloads: list[dict[str, Any]] = [
            {"type": "USAGE_FORECAST", "values": [_number(kwh, "forecast")]}
        ]
        found = shed_by.get((s, e))
        if shed is not None:
            kw = found.shed_kw if found is not None else 0.0
            payloads.append({"type": "LOAD_SHED_DELTA_AVAILABLE", "values": [-_number(kw, "shed")]})
        if dispatch is not None:
            net = _number(dispatch_by.get((s, e), 0.0), "dispatch")
            payloads.append({"type": "STORAGE_DISPATCH_FORECAST", "values": [net]})
        rows.append((s, e, payloads))
    descriptors = [_descriptor("USAGE_FORECAST", "FORECAST", "KWH")]
    if shed is not None:
        descriptors.append(_descriptor("LOAD_SHED_DELTA_AVAILABLE", "FORECAST", "KW"))
    if dispatch is not None:
        descriptors.append(_descriptor("STORAGE_DISPATCH_FORECAST", "FORECAST", "KWH"))
    report["payloadDescriptors"] = descriptors
    report["resources"] = [_resource(pev_id, rows)]
    return report


def storage_report(
    *,
    program_id: str,
    event_id: str,
    client_name: str,
    report_name: str,
    pev_id: str,
    at: datetime,
    storage: StorageStatus | None,
    max_charge_kw: float | None = None,
    max_discharge_kw: float | None = None,
) -> dict[str, Any]:
    """``STORAGE_CHARGE_LEVEL`` (0-1) and ``STORAGE_USABLE_CAPACITY`` (kWh) read at ``at``
    (with ``storage``), ``STORAGE_MAX_CHARGE_POWER`` and ``STORAGE_MAX_DISCHARGE_POWER`` (kW,
    when given); nothing to report raises ValueError."""
    payloads: list[dict[str, Any]] = []
    descriptors: list[dict[str, Any]] = []
    if storage is not None:
        level = _number(storage.charge_level, "charge level")
        if not 0 <= level <= 1:
            raise ValueError("the charge level must be from 0 to 1")
        capacity = _number(storage.usable_capacity_kwh, "capacity")
        payloads += [
            {"type": "STORAGE_CHARGE_LEVEL", "values": [level]},
            {"type": "STORAGE_USABLE_CAPACITY", "values": [capacity]},
        ]
        descriptors += [
            _descriptor("STORAGE_CHARGE_LEVEL", "DIRECT_READ", "PERCENT"),
            _descriptor("STORAGE_USABLE_CAPACITY", "ESTIMATED", "KWH"),
        ]
    for payload, kw in (
        ("STORAGE_MAX_CHARGE_POWER", max_charge_kw),
        ("STORAGE_MAX_DISCHARGE_POWER", max_discharge_kw),
    ):
        if kw is None:
            continue
        value = _number(kw, payload)
        if value < 0:
            raise ValueError(f"{payload} must not be negative")
        payloads.append({"type": payload, "values": [value]})
        descriptors.append(_descriptor(payload, "ESTIMATED", "KW"))
    if not payloads:
        raise ValueError("nothing to report of the storage")
    report = _base(program_id, event_id, client_name, report_name)
    start = _utc(at, "at").replace(microsecond=0)
    report["payloadDescriptors"] = descriptors
    report["resources"] = [
        {
            "resourceName": _check("pev_id", pev_id),
            "intervals": [
                {
                    "id": 0,
                    "intervalPeriod": {"start": format_datetime(start), "duration": "PT0S"},
                    "payloads": payloads,
                }
            ],
        }
    ]
    return report


def requested_payloads(report_descriptors: Iterable[object] | None) -> frozenset[str]:
    """The payload types an event's ``reportDescriptors`` ask for (upper-cased, valid ones)."""
    found: set[str] = set()
    for item in report_descriptors or ():
        if not isinstance(item, Mapping):
            continue
        name = item.get("payloadType")
        if isinstance(name, str) and name.strip():
            found.add(name.strip().upper())
    return frozenset(found)


def only_payloads(report: dict[str, Any], wanted: Iterable[str]) -> dict[str, Any]:
    """The report with only the payload types in ``wanted`` (descriptors and intervals)."""
    keep = frozenset(wanted)
    out = dict(report)
    out["payloadDescriptors"] = [
        d for d in report.get("payloadDescriptors") or () if d.get("payloadType") in keep
    ]
    out["resources"] = [
        {
            **resource,
            "intervals": [
                {**i, "payloads": [p for p in i["payloads"] if p.get("type") in keep]}
                for i in resource.get("intervals") or ()
            ],
        }
        for resource in report.get("resources") or ()
    ]
    return out
