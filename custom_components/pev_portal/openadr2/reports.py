"""The 2.0b VEN's reports: what it offers (``oadrRegisterReport``) and what it sends.

The VEN offers one ``METADATA_TELEMETRY_USAGE`` report (``reportSpecifierID``
:data:`USAGE_SPECIFIER`, the same across restarts) with one data point per vehicle: ``rID``
``<PEV ID>`` whose ``reportDataSource`` and ``reportSubject`` are the resource ``<PEV ID>``,
``energyReal`` in kWh at the metering interval. The VTN's report requests name the rIDs it
wants; each session's intervals are sent as ``TELEMETRY_USAGE`` reports under the request's
``reportRequestID`` (one interval per metering interval, its start, duration and kWh).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from openleadr import enums, objects

USAGE_SPECIFIER: Final = "PEV_PORTAL_TELEMETRY_USAGE"


def metadata_report(
    specifier: str,
    name: str,
    pev_ids: Iterable[str],
    interval: timedelta,
    *,
    on_change: bool,
    **description: Any,
) -> Any:
    """A metadata ``oadrReport`` offered at registration: one description per vehicle (its
    resource is its subject and source), sampled every ``interval``; ``description``: the
    report type's own fields (reading and report type, market context, measurement). None
    when there is no vehicle."""
    report = objects.Report(
        report_specifier_id=specifier,
        report_name=name,
        duration=interval,
        data_collection_mode="full",
    )
    assert report.report_descriptions is not None
    for pev_id in sorted(set(pev_ids)):
        target = objects.Target(resource_id=pev_id)
        report.report_descriptions.append(
            objects.ReportDescription(
                r_id=pev_id,
                report_subject=target,
                report_data_source=target,
                sampling_rate=objects.SamplingRate(
                    min_period=interval, max_period=interval, on_change=on_change
                ),
                **description,
            )
        )
    return report if report.report_descriptions else None


def metadata_reports(
    pev_ids: Iterable[str], interval: timedelta, market_context: str | None = None
) -> list[Any]:
    """The ``oadrReport`` objects offered at registration (one resource per vehicle)."""
    report = metadata_report(
        USAGE_SPECIFIER,
        enums.REPORT_NAME.METADATA_TELEMETRY_USAGE,
        pev_ids,
        interval,
        on_change=False,
        market_context=market_context,
        reading_type=enums.READING_TYPE.DIRECT_READ,
        report_type=enums.REPORT_TYPE.USAGE,
        measurement=objects.Measurement(
            name="energyReal", description="RealEnergy", unit="Wh", scale="k"
        ),
    )
    return [report] if report is not None else []


@dataclass(frozen=True)
class UsageRequest:
    """The VTN asked for the usage of these vehicles under this report request."""

    report_request_id: str
    pev_ids: frozenset[str]
    granularity: timedelta | None


def _get(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(key)
    return getattr(value, key, None)


def _str(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("#text")
    return str(value) if value not in (None, "") else None


def usage_requests(
    report_requests: Sequence[Any], specifier_id: str = USAGE_SPECIFIER
) -> list[UsageRequest]:
    """The report requests that ask for the vehicles' usage (others are ignored);
    ``specifier_id``: those of another report the VEN offers (the status report)."""
    out: list[UsageRequest] = []
    for request in report_requests:
        specifier = _get(request, "report_specifier")
        request_id = _str(_get(request, "report_request_id"))
        if request_id is None or _str(_get(specifier, "report_specifier_id")) != specifier_id:
            continue
        payloads = _get(specifier, "specifier_payloads")
        payloads = payloads if isinstance(payloads, list) else [payloads]
        pev_ids = frozenset(
            r for r in (_str(_get(p, "r_id")) for p in payloads if p is not None) if r
        )
        granularity = _get(specifier, "granularity")
        out.append(
            UsageRequest(
                request_id,
                pev_ids,
                granularity if isinstance(granularity, timedelta) else None,
            )
        )
    return out


def usage_report(
    report_request_id: str,
    pev_id: str,
    intervals: Sequence[tuple[datetime, datetime, float]],
) -> Any:
    """A ``TELEMETRY_USAGE`` report of one vehicle's intervals (start, end, kWh)."""
    return objects.Report(
        report_specifier_id=USAGE_SPECIFIER,
        report_name=enums.REPORT_NAME.TELEMETRY_USAGE,
        report_request_id=report_request_id,
        dtstart=min((s for s, _, _ in intervals), default=None),
        intervals=[
            objects.ReportInterval(
                dtstart=start,
                duration=end - start,
                report_payload=objects.ReportPayload(r_id=pev_id, value=round(kwh, 6)),
            )
            for start, end, kwh in intervals
        ],
    )
