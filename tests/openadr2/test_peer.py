"""The 2.0b VEN's exchanges against openleadr's own VTN on 127.0.0.1 (a real 2.0b peer that
validates every message against the 2.0b XML schema)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from openleadr.messaging import create_message
from openleadr.service import VTNService
from openleadr.utils import certificate_fingerprint

from custom_components.pev_portal.openadr.timeline import Timeline
from custom_components.pev_portal.openadr2.events import EventBook, EventContext
from custom_components.pev_portal.openadr2.opt import OPT_IN, OptBook
from custom_components.pev_portal.openadr2.reports import (
    USAGE_SPECIFIER,
    metadata_reports,
    usage_report,
    usage_requests,
)
from custom_components.pev_portal.openadr2.transport import (
    BadMessage,
    Ven2Client,
    VtnRefused,
    VtnUnreachable,
)
from tests.vtn.certs import self_signed
from tests.vtn.oadr2 import Vtn, free_port

PEVS = ("PEV-1", "PEV-2")


def _ctx(ven_id: str | None) -> EventContext:
    return EventContext(ven_name="home1", premise_id="PREMISE-1", pev_ids=PEVS, ven_id=ven_id)


async def _registered(vtn: Vtn, session: aiohttp.ClientSession) -> Ven2Client:
    client = Ven2Client(session, vtn.url, "home1")
    await client.query_registration()
    registration = await client.register()
    assert registration.ven_id == "ven-home1"
    assert registration.registration_id == "reg-ven-home1"
    assert registration.poll_interval == timedelta(seconds=10)
    assert registration.vtn_id == "PEV_TEST_VTN"
    return client


async def test_a_dlc_event_reaches_the_timeline_and_the_answer_reaches_the_vtn(
    vtn: Vtn, session: aiohttp.ClientSession
) -> None:
    """Registration, an empty poll, a poll that delivers a capacity event targeted at one
    vehicle's resource: the timeline caps that vehicle only; the user's opt-out reaches the
    VTN's callback."""
    client = await _registered(vtn, session)
    kind, _ = await client.poll()
    assert kind == "oadrResponse"
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    event_id = vtn.event(
        "ven-home1",
        signal_name="LOAD_CONTROL",
        signal_type="x-loadControlCapacity",
        intervals=[{"dtstart": start, "duration": timedelta(minutes=30), "signal_payload": 0.5}],
        targets=[{"resource_id": "PEV-1"}],
        market_context="oadr://dlc",
    )
    kind, payload = await client.poll()
    assert kind == "oadrDistributeEvent"
    book = EventBook()
    changed, gone = book.distribute(payload["events"], _ctx(client.ven_id))
    assert [e.event_id for e in changed] == [event_id]
    assert gone == []
    timeline = Timeline(book.timeline_events(), ven_name="home1", resource_names=PEVS)
    during = start + timedelta(minutes=5)
    assert timeline.cap_kw("PEV-1", during, 11.0, 1.4) == pytest.approx(5.5)
    assert timeline.cap_kw("PEV-2", during, 11.0, 1.4) is None
    assert timeline.cap_kw("PEV-1", start - timedelta(seconds=1), 11.0, 1.4) is None

    opts = OptBook()
    due = opts.due(changed, default=OPT_IN, opted_out={event_id})
    await client.created_event(
        payload.get("request_id"), [(a.event_id, a.modification_number, a.opt_type) for a in due]
    )
    opts.acknowledged(due)
    assert vtn.opts == [("ven-home1", event_id, "optOut")]
    assert opts.due(changed, default=OPT_IN, opted_out={event_id}) == []


async def test_a_cancellation_is_acknowledged_and_leaves_the_timeline(
    vtn: Vtn, session: aiohttp.ClientSession
) -> None:
    """The VTN cancels a price event: the next poll carries it cancelled, the book drops it,
    the VEN acknowledges with optIn and the VTN forgets it."""
    client = await _registered(vtn, session)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    event_id = vtn.event(
        "ven-home1",
        signal_name="ELECTRICITY_PRICE",
        signal_type="price",
        intervals=[{"dtstart": start, "duration": timedelta(hours=1), "signal_payload": 0.42}],
        response_required="never",
    )
    book = EventBook()
    _, payload = await client.poll()
    changed, _ = book.distribute(payload["events"], _ctx(client.ven_id))
    timeline = Timeline(book.timeline_events(), ven_name="home1", resource_names=PEVS)
    assert [float(o.price) for o in timeline.price_overlays("PEV-2")] == [0.42]
    assert OptBook().due(changed, default=OPT_IN, opted_out=()) == []  # responseRequired never

    vtn.server.cancel_event("ven-home1", event_id)
    kind, payload = await client.poll()
    assert kind == "oadrDistributeEvent"
    changed, gone = book.distribute(payload["events"], _ctx(client.ven_id))
    assert gone == [event_id]
    assert book.timeline_events() == []


async def test_reports_offer_each_vehicle_and_deliver_its_usage(
    vtn: Vtn, session: aiohttp.ClientSession
) -> None:
    """METADATA_TELEMETRY_USAGE with each PEV ID as resourceID; the VTN's request; a session's
    TELEMETRY_USAGE intervals reach the VTN's callback under that vehicle."""
    client = await _registered(vtn, session)
    requests = await client.register_reports(metadata_reports(PEVS, timedelta(minutes=15)))
    assert sorted(r for _, r, _ in vtn.registered) == list(PEVS)
    usage = usage_requests(requests)
    assert len(usage) == 1
    assert usage[0].pev_ids == frozenset(PEVS)
    assert usage[0].granularity == timedelta(minutes=15)
    await client.created_report(None, [usage[0].report_request_id])
    t0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    quarter = timedelta(minutes=15)
    answer = await client.update_report(
        usage_report(
            usage[0].report_request_id,
            "PEV-1",
            [(t0, t0 + quarter, 2.75), (t0 + quarter, t0 + 2 * quarter, 2.5)],
        )
    )
    assert answer["response"]["response_code"] == 200
    assert vtn.reports == [("PEV-1", [(t0, 2.75), (t0 + quarter, 2.5)])]
    assert USAGE_SPECIFIER in str(requests)


async def test_a_vtn_refusing_the_ven(vtn: Vtn, session: aiohttp.ClientSession) -> None:
    """openleadr's VTN refuses with code 200 and no registrationID: that is a refusal."""
    vtn.accept = False
    client = Ven2Client(session, vtn.url, "home1")
    with pytest.raises(VtnRefused, match="did not register"):
        await client.register()
    assert client.ven_id is None
    assert client.exchanges[-1].answer_type == "oadrCreatedPartyRegistration"


async def test_a_vtn_outage_and_its_return(vtn: Vtn, session: aiohttp.ClientSession) -> None:
    """A VTN that is down is VtnUnreachable; once back, polling works again."""
    client = await _registered(vtn, session)
    await vtn.stop()
    with pytest.raises(VtnUnreachable):
        await client.poll()
    await vtn.start()
    kind, _ = await client.poll()
    assert kind == "oadrResponse"


async def test_an_unknown_ven_is_asked_to_register_again(
    vtn: Vtn, session: aiohttp.ClientSession
) -> None:
    """A VTN that lost the VEN answers a poll with oadrRequestReregistration."""
    client = await _registered(vtn, session)
    vtn.vens.clear()
    kind, _ = await client.poll()
    assert kind == "oadrRequestReregistration"
    await client.register()
    kind, _ = await client.poll()
    assert kind == "oadrResponse"


@pytest.fixture
async def junk_vtn(socket_enabled: None) -> AsyncIterator[str]:
    """A server answering every 2.0b service with something that is not 2.0b."""
    answers = iter(
        [
            (200, "<notOpenADR/>"),
            (503, "busy"),
            (200, "not xml at all"),
            (200, "<x>" + "y" * (9 * 1024 * 1024) + "</x>"),
        ]
    )

    async def handler(_request: web.Request) -> web.Response:
        status, body = next(answers)
        return web.Response(status=status, text=body, content_type="application/xml")

    app = web.Application()
    app.router.add_post("/{service}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_vtn_answering_junk(junk_vtn: str, session: aiohttp.ClientSession) -> None:
    """Invalid XML is BadMessage, an HTTP error is VtnUnreachable, an answer over 8 MiB is
    BadMessage unread; each is logged."""
    client = Ven2Client(session, junk_vtn, "home1")
    with pytest.raises(BadMessage):
        await client.poll()
    with pytest.raises(VtnUnreachable, match="HTTP 503"):
        await client.poll()
    with pytest.raises(BadMessage):
        await client.query_registration()
    with pytest.raises(BadMessage, match="over"):
        await client.poll()
    assert [x.error is not None for x in client.exchanges] == [True, True, True, True]


async def test_signed_messages_and_the_vtn_fingerprint(
    vtn: Vtn, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """The 2.0b security profile's message signatures: the VEN signs with its certificate and
    key (the VTN validates the signed XML against the schema), the VTN signs its answers and
    the VEN checks them against the VTN's fingerprint; a wrong fingerprint is BadMessage."""
    vtn_cert, vtn_key = self_signed(tmp_path)
    VTNService._create_message = staticmethod(
        partial(
            create_message, cert=vtn_cert.read_bytes(), key=vtn_key.read_bytes(), passphrase=None
        )
    )
    ven_dir = tmp_path / "ven"
    ven_dir.mkdir()
    ven_cert, ven_key = self_signed(ven_dir)
    fingerprint = certificate_fingerprint(vtn_cert.read_bytes())
    client = Ven2Client(
        session,
        vtn.url,
        "home1",
        cert_pem=ven_cert.read_bytes(),
        key_pem=ven_key.read_bytes(),
        vtn_fingerprint=fingerprint,
    )
    registration = await client.register()
    assert registration.ven_id == "ven-home1"
    kind, _ = await client.poll()
    assert kind == "oadrResponse"
    wrong = Ven2Client(session, vtn.url, "home1", vtn_fingerprint="00:" * 9 + "00")
    with pytest.raises(BadMessage, match="fingerprint"):
        await wrong.register()
