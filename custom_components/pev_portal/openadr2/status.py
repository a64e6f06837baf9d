"""The 2.0b VEN's ``TELEMETRY_STATUS`` report: each vehicle's resource status.

The VEN offers one ``METADATA_TELEMETRY_STATUS`` report (``reportSpecifierID``
:data:`STATUS_SPECIFIER`) with one data point per vehicle (``rID`` ``<PEV ID>``, report type
``x-resourceStatus``, reading type ``x-notApplicable``, sent on change). A status is an
``oadrPayloadResourceStatus`` (``oadrOnline``, ``oadrManualOverride`` and, when the charger
has a load-control limit, ``oadrLoadControlState/oadrCapacity/oadrCurrent`` in kW).

openleadr (0.5.36) has no template for that payload: its ``oadrUpdateReport`` template writes
every ``oadrReportPayload`` as a ``payloadFloat``. :func:`status_report` builds the report
with a placeholder float per vehicle and :func:`put_statuses` swaps each placeholder for the
``oadrPayloadResourceStatus`` element (the schema's substitute for ``ei:payloadBase``) in
the rendered message before it is signed; openleadr's VTN validates it against the 2.0b
schema and parses it into ``report_payload.oadr_payload_resource_status``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from openleadr import enums, objects

from .reports import metadata_report

STATUS_SPECIFIER: Final = "PEV_PORTAL_TELEMETRY_STATUS"
_OADR: Final = "http://openadr.org/oadr-2.0b/2012/07"
_EI: Final = "http://docs.oasis-open.org/ns/energyinterop/201110"


@dataclass(frozen=True)
class ResourceStatus:
    """One vehicle's status as the charger shows it."""

    online: bool
    manual_override: bool
    capacity_kw: float | None = None

    def as_body(self) -> dict[str, Any]:
        """The outbox body's form (JSON)."""
        return {
            "online": self.online,
            "manual_override": self.manual_override,
            "capacity_kw": self.capacity_kw,
        }

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ResourceStatus:
        """Back from the outbox body (a capacity that is not a finite number is left out)."""
        capacity = body.get("capacity_kw")
        if not isinstance(capacity, int | float) or not math.isfinite(capacity):
            capacity = None
        return cls(bool(body.get("online")), bool(body.get("manual_override")), capacity)


def metadata_status_report(pev_ids: Iterable[str], interval: timedelta) -> Any:
    """The ``METADATA_TELEMETRY_STATUS`` report offered at registration (None: no vehicle)."""
    return metadata_report(
        STATUS_SPECIFIER,
        enums.REPORT_NAME.METADATA_TELEMETRY_STATUS,
        pev_ids,
        interval,
        on_change=True,
        market_context=None,
        reading_type=enums.READING_TYPE.X_NOT_APPLICABLE,
        report_type=enums.REPORT_TYPE.X_RESOURCE_STATUS,
    )


def status_report(
    report_request_id: str, at: datetime, statuses: Mapping[str, ResourceStatus]
) -> Any:
    """A ``TELEMETRY_STATUS`` report, one interval per vehicle at ``at`` (placeholders that
    :func:`put_statuses` replaces)."""
    return objects.Report(
        report_specifier_id=STATUS_SPECIFIER,
        report_name=enums.REPORT_NAME.TELEMETRY_STATUS,
        report_request_id=report_request_id,
        dtstart=at,
        intervals=[
            objects.ReportInterval(
                dtstart=at, report_payload=objects.ReportPayload(r_id=pev_id, value=0.0)
            )
            for pev_id in sorted(statuses)
        ],
    )


def _bool(value: bool) -> str:
    return "true" if value else "false"


def put_statuses(signed_object: Any, statuses: Mapping[str, ResourceStatus]) -> int:
    """Replace each status report payload's placeholder float (an lxml element tree of the
    ``oadrSignedObject``) with its ``oadrPayloadResourceStatus``; how many were replaced."""
    from lxml import etree

    replaced = 0
    for payload in signed_object.iter(f"{{{_OADR}}}oadrReportPayload"):
        status = statuses.get(payload.findtext(f"{{{_EI}}}rID") or "")
        placeholder = payload.find(f"{{{_EI}}}payloadFloat")
        if status is None or placeholder is None:
            continue
        element = etree.Element(f"{{{_OADR}}}oadrPayloadResourceStatus", nsmap={"oadr": _OADR})
        etree.SubElement(element, f"{{{_OADR}}}oadrOnline").text = _bool(status.online)
        etree.SubElement(element, f"{{{_OADR}}}oadrManualOverride").text = _bool(
            status.manual_override
        )
        if status.capacity_kw is not None and math.isfinite(status.capacity_kw):
            state = etree.SubElement(element, f"{{{_OADR}}}oadrLoadControlState")
            capacity = etree.SubElement(state, f"{{{_OADR}}}oadrCapacity")
            etree.SubElement(capacity, f"{{{_OADR}}}oadrCurrent").text = repr(
                float(status.capacity_kw)
            )
        payload.replace(placeholder, element)
        replaced += 1
    return replaced
