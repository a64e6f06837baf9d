"""The VEN client against the real test VTN over 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from custom_components.pev_portal.core.metering import Interval, Quality
from custom_components.pev_portal.openadr.client import (
    BearerToken,
    ClientCredentials,
    NoAuth,
    VenClient,
    pev_resource_attributes,
)
from custom_components.pev_portal.openadr.errors import (
    UnknownProgram,
    VtnAuthError,
    VtnNotFound,
    VtnProtocolError,
    VtnTlsError,
    VtnUnreachable,
)
from custom_components.pev_portal.openadr.models import parse_notification, validation_answer
from custom_components.pev_portal.openadr.reports import usage_report
from tests.vtn import schema
from tests.vtn.certs import self_signed
from tests.vtn.server import TestVtn

T0 = datetime(2030, 7, 1, 16, 0, tzinfo=UTC)


def attrs(pev: str = "PEV-1") -> list[dict[str, object]]:
    return pev_resource_attributes(
        pev_id=pev,
        premise_id="PREMISE-9",
        max_power_kw=7.2,
        connection="PREMISE_AC_L2",
        energy_request_kwh=20.0,
        departure=T0 + timedelta(hours=10),
    )


# --------------------------------------------------------------------------- auth


async def test_token_from_auth_server_is_cached(vtn: TestVtn, client: VenClient) -> None:
    vtn.add_program("RES-TOU")
    await client.async_programs()
    await client.async_programs()
    assert vtn.requests["GET /auth/server"] == 1
    assert vtn.requests["POST /auth/token"] == 1
    assert vtn.token_requests[0]["grant_type"] == "client_credentials"
    assert vtn.token_requests[0]["client_id"] == "ven-client"
    assert vtn.requests["GET /programs"] == 2


async def test_token_url_fallback_when_auth_server_missing(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    async with TestVtn(auth_server=False, expires_in=None) as vtn:
        client = VenClient(session, vtn.base_url, ClientCredentials("ven-client", "ven-secret"))
        assert await client.async_token()
        ven = await client.async_ensure_ven("premise-1")
        assert ven["venName"] == "premise-1"
        assert vtn.requests["GET /auth/server"] == 1
        assert vtn.requests["POST /auth/token"] == 1
        assert vtn.violations == []


async def test_expired_token_is_renewed_once(vtn: TestVtn, client: VenClient) -> None:
    vtn.add_program("RES-TOU")
    await client.async_programs()
    vtn.expire_tokens()
    programs = await client.async_programs()
    assert [p.name for p in programs] == ["RES-TOU"]
    assert vtn.requests["POST /auth/token"] == 2


async def test_bad_credentials_raise_auth_error(
    vtn: TestVtn, session: aiohttp.ClientSession
) -> None:
    client = VenClient(session, vtn.base_url, ClientCredentials("ven-client", "wrong"))
    with pytest.raises(VtnAuthError, match="refused the client credentials"):
        await client.async_check(["RES-TOU"])


async def test_fail_auth_everywhere_raises_auth_error(vtn: TestVtn, client: VenClient) -> None:
    await client.async_ensure_ven("premise-1")
    vtn.fail_auth(True)
    with pytest.raises(VtnAuthError):
        await client.async_programs()
    vtn.fail_auth(False)
    assert await client.async_programs() == []


async def test_static_bearer_token(socket_enabled: None, session: aiohttp.ClientSession) -> None:
    async with TestVtn(auth="bearer", static_tokens={"static-123": "ven-client"}) as vtn:
        vtn.add_program("RES-TOU")
        good = VenClient(session, vtn.base_url, BearerToken("static-123"))
        assert [p.name for p in await good.async_check(["RES-TOU"])] == ["RES-TOU"]
        bad = VenClient(session, vtn.base_url, BearerToken("nope"))
        with pytest.raises(VtnAuthError):
            await bad.async_programs()
        assert vtn.requests["POST /auth/token"] == 0


async def test_no_auth(socket_enabled: None, session: aiohttp.ClientSession) -> None:
    async with TestVtn(auth="none") as vtn:
        vtn.add_program("TARIFF")
        client = VenClient(session, vtn.base_url, NoAuth())
        assert await client.async_token() is None
        assert [p.name for p in await client.async_check(["TARIFF"])] == ["TARIFF"]
        assert vtn.requests["GET /auth/server"] == 0


# --------------------------------------------------------------------------- errors


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_closed_port_is_unreachable(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    client = VenClient(session, f"http://127.0.0.1:{_free_port()}/oadr", NoAuth(), timeout=3)
    with pytest.raises(VtnUnreachable, match="cannot reach"):
        await client.async_programs()
    assert client.exchanges[-1].status is None
    assert client.exchanges[-1].error


async def test_go_down_and_come_back(vtn: TestVtn, client: VenClient) -> None:
    vtn.add_program("RES-TOU")
    await client.async_programs()
    await vtn.go_down()
    with pytest.raises(VtnUnreachable):
        await client.async_programs()
    await vtn.come_back()
    assert len(await client.async_programs()) == 1
    await vtn.go_down("503")
    with pytest.raises(VtnUnreachable, match="unavailable"):
        await client.async_programs()
    await vtn.come_back()
    assert len(await client.async_programs()) == 1


async def test_tls_self_signed_fails_then_user_ca_bundle_works(
    socket_enabled: None, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    async with TestVtn(ssl_context=server_ctx) as vtn:
        vtn.add_program("RES-TOU")
        assert vtn.base_url.startswith("https://")
        default = VenClient(session, vtn.base_url, ClientCredentials("ven-client", "ven-secret"))
        with pytest.raises(VtnTlsError, match="TLS"):
            await default.async_check(["RES-TOU"])
        trusted = ssl.create_default_context(cafile=str(cert))
        user_ca = VenClient(
            session, vtn.base_url, ClientCredentials("ven-client", "ven-secret"), ssl=trusted
        )
        assert [p.name for p in await user_ca.async_check(["RES-TOU"])] == ["RES-TOU"]


@pytest.mark.parametrize("mode", ["text", "shape"])
async def test_malformed_answers_raise_protocol_error(
    vtn: TestVtn, client: VenClient, mode: str
) -> None:
    await client.async_token()
    vtn.malformed(mode)
    with pytest.raises(VtnProtocolError):
        await client.async_programs()
    with pytest.raises(VtnProtocolError):
        await client.async_ensure_ven("premise-1")
    vtn.malformed(False)
    assert await client.async_programs() == []


async def test_problem_body_is_kept(vtn: TestVtn, client: VenClient) -> None:
    with pytest.raises(VtnProtocolError) as info:
        await client.async_request("POST", "/vens", json={"objectType": "NOPE"})
    assert info.value.status == 400
    assert info.value.title == "Bad Request"
    assert info.value.detail
    assert vtn.violations  # the bad request was recorded ...
    vtn.violations.clear()  # ... on purpose here


async def test_not_found(vtn: TestVtn, client: VenClient) -> None:
    ven = await client.async_ensure_ven("premise-1")
    with pytest.raises(VtnNotFound):
        await client.async_get_resource(ven["id"], "res-404")


async def test_unknown_program_names_the_missing_ones(vtn: TestVtn, client: VenClient) -> None:
    vtn.add_program("RES-TOU")
    vtn.add_program("SECRET", targets=["grp-x"])  # not granted to us
    with pytest.raises(UnknownProgram) as info:
        await client.async_check(["RES-TOU", "CPP", "SECRET"])
    assert info.value.names == ["CPP", "SECRET"]
    assert "CPP" in str(info.value)
    assert [p.name for p in await client.async_check(["res-tou"])] == ["RES-TOU"]


# --------------------------------------------------------------------------- listing


async def test_paging_across_three_pages(vtn: TestVtn, client: VenClient) -> None:
    program = vtn.add_program("RTP")
    for i in range(120):
        vtn.create_price_event([0.1 + i / 1000], T0 + timedelta(hours=i), program="RTP")
    events = await client.async_events([program["id"]])
    assert len(events) == 120
    assert len({e.id for e in events}) == 120
    assert vtn.requests["GET /events"] == 3
    skips = [dict(q)["skip"] for m, p, q in vtn.request_log if p == "/events"]
    assert skips == ["0", "50", "100"]


async def test_privacy_and_targets(
    vtn: TestVtn, client: VenClient, session: aiohttp.ClientSession
) -> None:
    program = vtn.add_program("DLC")
    open_event = vtn.create_dlc_event(3.0, T0, timedelta(hours=1), program="DLC")
    pev_event = vtn.create_dlc_event(
        1.5, T0, timedelta(hours=1), program="DLC", targets=["grp-A", "grp-other"]
    )
    other_event = vtn.create_dlc_event(
        1.0, T0, timedelta(hours=1), program="DLC", targets=["grp-B"]
    )
    ven = await client.async_ensure_ven("premise-1")
    assert [e.id for e in await client.async_events([program["id"]])] == [open_event["id"]]

    vtn.approve("PEV-1", targets=["grp-A"])
    resource = await client.async_upsert_resource(ven["id"], "PEV-1", attrs())
    assert resource.target_labels == {"grp-A"}
    assert client.granted_targets == {"grp-A"}
    events = {e.id: e for e in await client.async_events([program["id"]])}
    assert set(events) == {open_event["id"], pev_event["id"]}
    assert events[pev_event["id"]].targets == ("grp-A",)  # target hiding
    assert other_event["id"] not in events

    # another VEN of another client sees neither our VEN, nor our resources, nor pev_event
    vtn.clients["neighbour"] = "pw"
    neighbour = VenClient(session, vtn.base_url, ClientCredentials("neighbour", "pw"))
    assert [e.id for e in await neighbour.async_events([program["id"]], targets=["grp-A"])] == [
        open_event["id"]
    ]
    assert await neighbour.async_list("/vens") == []
    assert await neighbour.async_list("/resources") == []


# --------------------------------------------------------------------------- VEN / resources


async def test_ensure_ven_finds_else_creates(vtn: TestVtn, client: VenClient) -> None:
    first = await client.async_ensure_ven("premise-1")
    second = await client.async_ensure_ven("premise-1")
    assert first["id"] == second["id"]
    assert vtn.requests["POST /vens"] == 1
    assert list(vtn.vens) == [first["id"]]
    assert first["clientID"] == "ven-client"


async def test_upsert_resource_create_then_update(vtn: TestVtn, client: VenClient) -> None:
    ven = await client.async_ensure_ven("premise-1")
    created = await client.async_upsert_resource(ven["id"], "PEV-1", attrs())
    assert created.name == "PEV-1"
    assert created.ven_id == ven["id"]
    assert created.attributes["MAX_POWER_CONSUMPTION"] == [7.2]
    assert created.attributes["CONNECTION"] == ["PREMISE_AC_L2"]
    updated = await client.async_upsert_resource(
        ven["id"],
        "PEV-1",
        pev_resource_attributes(
            pev_id="PEV-1",
            premise_id="PREMISE-9",
            max_power_kw=11.0,
            connection="PREMISE_AC_L2",
            energy_request_kwh=None,
            departure=None,
        ),
    )
    assert updated.id == created.id
    assert updated.attributes["MAX_POWER_CONSUMPTION"] == [11.0]
    assert updated.attributes["ENERGY_REQUEST"] == [20.0]  # kept: not in the new list
    assert vtn.requests["POST /resources"] == 1
    assert vtn.requests["PUT /resources/{id}"] == 1
    assert len(vtn.resources) == 1


async def test_binding_answers_read_back(vtn: TestVtn, client: VenClient) -> None:
    ven = await client.async_ensure_ven("premise-1")
    vtn.approve("PEV-HOME")
    vtn.approve("PEV-GUEST", billing_party="PEV_CUSTOMER")
    vtn.approve("PEV-ROAM", home_utility_id="UTIL-B")
    vtn.deny("PEV-X")
    results = {}
    for pev in ("PEV-HOME", "PEV-GUEST", "PEV-ROAM", "PEV-X", "PEV-UNKNOWN"):
        res = await client.async_upsert_resource(ven["id"], pev, attrs(pev))
        res = await client.async_get_resource(ven["id"], res.id)
        results[pev] = validation_answer(res)
    assert results["PEV-HOME"] is not None
    assert (results["PEV-HOME"].binding, results["PEV-HOME"].billing_party) == (
        "ENROLLED",
        "PREMISE_CUSTOMER",
    )
    assert results["PEV-GUEST"] is not None
    assert results["PEV-GUEST"].billing_party == "PEV_CUSTOMER"
    assert results["PEV-ROAM"] is not None
    assert results["PEV-ROAM"].home_utility_id == "UTIL-B"
    assert results["PEV-X"] is not None
    assert results["PEV-X"].binding == "NOT_ENROLLED"
    assert results["PEV-UNKNOWN"] is None


async def test_late_answer_and_stale_answer_dropped(vtn: TestVtn, client: VenClient) -> None:
    ven = await client.async_ensure_ven("premise-1")
    vtn.answer_after(0.2)
    vtn.approve("PEV-1")
    res = await client.async_upsert_resource(ven["id"], "PEV-1", attrs())
    assert validation_answer(res) is None
    await asyncio.sleep(0.3)
    res = await client.async_get_resource(ven["id"], res.id)
    assert validation_answer(res) is not None
    # a new plug-in: the previous answer is not sent back, so it must be answered anew
    del vtn.decisions["PEV-1"]
    res = await client.async_upsert_resource(ven["id"], "PEV-1", attrs())
    assert validation_answer(res) is None
    await vtn.settle()


# --------------------------------------------------------------------------- reports


def _intervals(n: int) -> list[Interval]:
    return [
        Interval(
            T0 + timedelta(minutes=15 * i),
            T0 + timedelta(minutes=15 * (i + 1)),
            1.5,
            "PEV-1",
            "PREMISE-9",
            "M-1",
            Quality.OK if i % 2 == 0 else Quality.ESTIMATED,
            0,
            100.0 + 1.5 * (i + 1),
        )
        for i in range(n)
    ]


async def test_report_create_find_update_never_duplicates(vtn: TestVtn, client: VenClient) -> None:
    program = vtn.add_program("RES-TOU")
    event = vtn.create_price_event([0.2], T0, program="RES-TOU", report_usage=True)
    args = {
        "program_id": program["id"],
        "event_id": event["id"],
        "client_name": "premise-1",
        "report_name": "session-42",
        "pev_id": "PEV-1",
        "interval_minutes": 15,
    }
    assert await client.async_find_report("premise-1", "session-42", event["id"]) is None
    first = await client.async_upsert_report(usage_report(**args, intervals=_intervals(2)))
    found = await client.async_find_report("premise-1", "session-42", event["id"])
    assert found is not None
    assert found["id"] == first["id"]
    second = await client.async_upsert_report(usage_report(**args, intervals=_intervals(4)))
    assert second["id"] == first["id"]
    again = await client.async_update_report(
        first["id"], usage_report(**args, intervals=_intervals(5))
    )
    assert again["id"] == first["id"]
    assert len(vtn.reports) == 1
    versions = vtn.report_versions[first["id"]]
    assert [len(v["resources"][0]["intervals"]) for v in versions] == [2, 4, 5]
    assert versions[-1]["reportName"] == "session-42"
    assert vtn.requests["POST /reports"] == 1
    assert await client.async_find_report("premise-1", "other-session") is None


# --------------------------------------------------------------------------- subscriptions


@pytest.fixture
async def receiver(
    socket_enabled: None,
) -> AsyncIterator[tuple[str, list[tuple[str | None, bytes]]]]:
    """A local webhook receiver: (callback URL, received (authorization, body))."""
    received: list[tuple[str | None, bytes]] = []

    async def handle(request: web.Request) -> web.Response:
        received.append((request.headers.get("Authorization"), await request.read()))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/api/pev_portal/notify/{hook}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/api/pev_portal/notify/hook-1", received
    await runner.cleanup()


async def test_subscription_delivers_with_bearer_token(
    vtn: TestVtn,
    client: VenClient,
    receiver: tuple[str, list[tuple[str | None, bytes]]],
) -> None:
    url, received = receiver
    program = vtn.add_program("CPP")
    ven = await client.async_ensure_ven("premise-1")
    await client.async_subscribe("premise-1", [program["id"]], url, "hook-secret")
    sub = await client.async_subscribe("premise-1", [program["id"]], url, "hook-secret")
    assert list(vtn.subscriptions) == [sub["id"]]  # replaced, not added

    event = vtn.create_cpp_event(0.9, T0, timedelta(hours=2), program="CPP")
    vtn.modify_event(event["id"], priority=0, eventName="critical peak (moved)")
    vtn.approve("PEV-1")
    await client.async_upsert_resource(ven["id"], "PEV-1", attrs())
    vtn.cancel_event(event["id"])
    await vtn.settle()

    assert all(auth == "Bearer hook-secret" for auth, _ in received)
    notes = [parse_notification(body) for _, body in received]
    kinds = [(n.object_type, n.operation) for n in notes]
    assert kinds[:2] == [("EVENT", "CREATE"), ("EVENT", "UPDATE")]
    assert ("RESOURCE", "UPDATE") in kinds
    assert kinds[-1] == ("EVENT", "DELETE")
    assert notes[1].object["eventName"] == "critical peak (moved)"
    resource_note = next(n for n in notes if n.object_type == "RESOURCE")
    assert resource_note.object["resourceName"] == "PEV-1"
    for _, body in received:
        assert schema.is_valid("notification", json.loads(body))

    await client.async_delete_subscription(sub["id"])
    assert vtn.subscriptions == {}
    before = len(received)
    vtn.create_cpp_event(0.9, T0, timedelta(hours=2), program="CPP")
    await vtn.settle()
    assert len(received) == before


async def test_targeted_event_not_notified_to_others(
    vtn: TestVtn,
    client: VenClient,
    receiver: tuple[str, list[tuple[str | None, bytes]]],
) -> None:
    url, received = receiver
    vtn.add_program("DLC")
    await client.async_ensure_ven("premise-1")
    await client.async_subscribe("premise-1", [], url, "tok")
    vtn.create_dlc_event(1.0, T0, timedelta(hours=1), program="DLC", targets=["grp-B"])
    await vtn.settle()
    assert received == []


# --------------------------------------------------------------------------- diagnostics


async def test_exchange_log_has_no_secrets(
    vtn: TestVtn,
    client: VenClient,
    receiver: tuple[str, list[tuple[str | None, bytes]]],
) -> None:
    url, _ = receiver
    vtn.add_program("RES-TOU")
    await client.async_check(["RES-TOU"])
    vtn.expire_tokens()
    await client.async_ensure_ven("premise-1")
    await client.async_subscribe("premise-1", [], url, "hook-secret-xyz")
    dump = repr(list(client.exchanges))
    assert "ven-secret" not in dump
    assert "hook-secret-xyz" not in dump
    for token in vtn.tokens:
        assert token not in dump
    assert "client_id" in dump  # the rest is kept for diagnostics
    methods = [(e.method, e.status) for e in client.exchanges]
    assert ("POST", 201) in methods
    assert ("GET", 401) in methods  # the renewal is visible


async def test_exchange_log_is_bounded(vtn: TestVtn, session: aiohttp.ClientSession) -> None:
    client = VenClient(
        session, vtn.base_url, ClientCredentials("ven-client", "ven-secret"), log_size=3
    )
    for _ in range(5):
        await client.async_programs()
    assert len(client.exchanges) == 3


async def test_client_bodies_validate_against_contract(vtn: TestVtn, client: VenClient) -> None:
    ven = await client.async_ensure_ven("premise-1")
    await client.async_upsert_resource(ven["id"], "PEV-1", attrs())
    await client.async_upsert_resource(ven["id"], "PEV-1", attrs())
    assert schema.is_valid(
        "resourceRequest",
        {
            "objectType": "VEN_RESOURCE_REQUEST",
            "resourceName": "PEV-1",
            "venID": ven["id"],
            "attributes": attrs(),
        },
    )
    # the VTN validated every request body and every answer: no violation recorded
    assert vtn.violations == []
    assert not schema.is_valid("resourceRequest", {"resourceName": "PEV-1"})
    _ = dt
