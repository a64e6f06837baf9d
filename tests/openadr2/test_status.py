"""The TELEMETRY_STATUS report's messages, checked by openleadr's own parser: the 2.0b XML
schema (``validate_xml_schema``), the XMLDSIG signature and ``parse_message``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from openleadr.messaging import (
    create_message,
    parse_message,
    validate_xml_schema,
    validate_xml_signature,
)
from openleadr.utils import certificate_fingerprint

from custom_components.pev_portal.openadr2.status import (
    ResourceStatus,
    metadata_status_report,
    put_statuses,
    status_report,
)
from custom_components.pev_portal.openadr2.transport import Ven2Client
from tests.vtn.certs import self_signed

AT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
STATUSES = {
    "PEV-1": ResourceStatus(online=True, manual_override=False, capacity_kw=7.4),
    "PEV-2": ResourceStatus(online=False, manual_override=True),
}


def _message(client: Ven2Client) -> bytes:
    return client._build(
        "oadrUpdateReport",
        {"ven_id": "ven-1", "request_id": "r1", "reports": [status_report("rr1", AT, STATUSES)]},
        partial(put_statuses, statuses=STATUSES),
    )


def test_the_status_report_is_valid_2_0b_and_parsed_by_openleadr() -> None:
    body = _message(Ven2Client(None, "http://127.0.0.1", "ven"))  # type: ignore[arg-type]
    validate_xml_schema(body)
    kind, payload = parse_message(body)
    assert kind == "oadrUpdateReport"
    (report,) = payload["reports"]
    assert report["report_name"] == "TELEMETRY_STATUS"
    assert report["report_request_id"] == "rr1"
    got = {i["report_payload"]["r_id"]: i["report_payload"] for i in report["intervals"]}
    assert got["PEV-1"]["payload_resource_status"] == {
        "online": True,
        "manual_override": False,
        "load_control_state": {"capacity": {"current": 7.4}},
    }
    assert got["PEV-2"]["payload_resource_status"] == {"online": False, "manual_override": True}
    assert "value" not in got["PEV-1"], "no placeholder float left"


def test_a_signed_status_report_verifies(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    client = Ven2Client(
        None,  # type: ignore[arg-type]
        "http://127.0.0.1",
        "ven",
        cert_pem=cert.read_bytes(),
        key_pem=key.read_bytes(),
    )
    tree = validate_xml_schema(_message(client))
    validate_xml_signature(tree, cert_fingerprint=certificate_fingerprint(cert.read_bytes()))


def test_the_offered_status_report() -> None:
    assert metadata_status_report([], timedelta(minutes=15)) is None
    report = metadata_status_report(["PEV-2", "PEV-1", "PEV-1"], timedelta(minutes=15))
    message = str(
        create_message(
            "oadrRegisterReport",
            request_id="1",
            ven_id="ven-1",
            reports=[report],
            report_request_id=0,
        )
    )
    validate_xml_schema(message)
    _, payload = parse_message(message.encode())
    (offered,) = payload["reports"]
    assert offered["report_name"] == "METADATA_TELEMETRY_STATUS"
    assert [d["r_id"] for d in offered["report_descriptions"]] == ["PEV-1", "PEV-2"]
    assert {d["report_type"] for d in offered["report_descriptions"]} == {"x-resourceStatus"}


def test_a_status_from_a_broken_outbox_body() -> None:
    """A capacity that is not a finite number (NaN, a string) is left out, not sent."""
    assert ResourceStatus.from_body({"online": 1, "capacity_kw": float("nan")}) == (
        ResourceStatus(online=True, manual_override=False)
    )
    assert ResourceStatus.from_body({"capacity_kw": "7"}).capacity_kw is None
    status = ResourceStatus(True, False, 3.0)
    assert ResourceStatus.from_body(status.as_body()) == status


def test_only_known_vehicles_payloads_are_replaced() -> None:
    from lxml import etree

    client = Ven2Client(None, "http://127.0.0.1", "ven")  # type: ignore[arg-type]
    body = client._build(
        "oadrUpdateReport",
        {"ven_id": "v", "request_id": "r", "reports": [status_report("rr", AT, STATUSES)]},
    )
    tree = etree.fromstring(body)
    assert put_statuses(tree, {"PEV-3": ResourceStatus(True, False)}) == 0
    assert put_statuses(tree, STATUSES) == 2
    assert put_statuses(tree, STATUSES) == 0  # nothing left to replace
