"""The client against a VTN that behaves like VTNs in the field (issue 13): grants changed at
any time, 404/410/429 with Retry-After, state lost, programs not visible yet."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest

from custom_components.pev_portal.openadr.client import (
    ClientCredentials,
    VenClient,
    parse_retry_after,
    pev_resource_attributes,
)
from custom_components.pev_portal.openadr.enrollment import (
    ACTIVE,
    PENDING,
    async_program_status,
)
from custom_components.pev_portal.openadr.errors import (
    VtnNotFound,
    VtnRateLimited,
    VtnUnreachable,
)
from tests.vtn.server import TestVtn

ATTRS = pev_resource_attributes(
    pev_id="PEV-1",
    premise_id="P-1",
    max_power_kw=7.0,
    connection="PREMISE_AC_L2",
    energy_request_kwh=None,
    departure=None,
)


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("99999999") == 86400.0


async def test_grants_reread_and_withdrawn(client: VenClient, vtn: TestVtn) -> None:
    """Grants are re-read, not accumulated: a withdrawn grant is forgotten."""
    ven = await client.async_ensure_ven("P-1")
    await client.async_upsert_resource(str(ven["id"]), "PEV-1", ATTRS)
    empty = await client.async_grants("P-1")
    assert (empty.ven_id, empty.ven, empty.resources) == (ven["id"], frozenset(), {"PEV-1": set()})
    vtn.set_ven_targets("P-1", ["grp-ven"])
    vtn.set_resource_targets("PEV-1", ["grp-car"])
    granted = await client.async_grants("P-1")
    assert granted.ven == {"grp-ven"}
    assert granted.resources == {"PEV-1": {"grp-car"}}
    assert client.granted_targets == {"grp-ven", "grp-car"}
    vtn.set_ven_targets("P-1", [])
    assert (await client.async_grants("P-1")).ven == frozenset()
    assert client.granted_targets == {"grp-car"}


async def test_ven_lost_after_restart(client: VenClient, vtn: TestVtn) -> None:
    """A VTN restarted with empty storage has no VEN: grants say so (ven_id None)."""
    await client.async_ensure_ven("P-1")
    await vtn.restart(empty=True)
    assert (await client.async_grants("P-1")).ven_id is None
    assert await client.async_find_ven("P-1") is None


async def test_error_statuses(client: VenClient, vtn: TestVtn) -> None:
    """410 is not found; 429 and 503 carry the VTN's Retry-After."""
    vtn.fail_next("GET /programs", 410)
    with pytest.raises(VtnNotFound) as gone:
        await client.async_programs()
    assert gone.value.status == 410
    vtn.fail_next("GET /programs", 429, retry_after="7")
    with pytest.raises(VtnRateLimited) as slow:
        await client.async_programs()
    assert slow.value.retry_after == 7.0
    vtn.fail_next("GET /programs", 503, retry_after="11")
    with pytest.raises(VtnUnreachable) as down:
        await client.async_programs()
    assert down.value.retry_after == 11.0
    assert await client.async_programs() == []


async def test_subscription_alive(client: VenClient, vtn: TestVtn) -> None:
    sub = await client.async_subscribe("P-1", [], "http://127.0.0.1:9/cb", "secret-token")
    assert await client.async_subscription_alive("P-1", str(sub["id"]))
    await vtn.restart(empty=True)
    assert not await client.async_subscription_alive("P-1", str(sub["id"]))


async def test_enrollment_pending_until_granted(
    vtn: TestVtn, session: aiohttp.ClientSession
) -> None:
    """A program targeted at the premise only is pending until the BL grants the VEN."""
    vtn.add_program("PEV-TOU", targets=["premise-P-1"])
    client = VenClient(session, vtn.base_url, ClientCredentials("ven-client", "ven-secret"))
    status = await async_program_status(client, "P-1", ["PEV-TOU"])
    assert status.status == PENDING
    assert status.missing == ["PEV-TOU"]
    assert status.ven_id is not None, "the VEN is registered so the utility can grant it"
    assert [v["venName"] for v in vtn.vens.values()] == ["P-1"]
    vtn.grant_ven_targets("P-1", ["premise-P-1"])
    status = await async_program_status(client, "P-1", ["PEV-TOU"])
    assert status.status == ACTIVE
    assert [p.name for p in status.programs] == ["PEV-TOU"]
    assert status.granted == {"premise-P-1"}


async def test_bl_writes_ven_targets_over_http(
    client: VenClient, vtn: TestVtn, session: aiohttp.ClientSession
) -> None:
    """The BL's PUT /vens/{id} changes the grants; a VEN's own PUT cannot."""
    ven = await client.async_ensure_ven("P-1")
    bl = VenClient(session, vtn.base_url, ClientCredentials("bl-client", "bl-secret"))
    body = {
        "objectType": "BL_VEN_REQUEST",
        "clientID": "ven-client",
        "venName": "P-1",
        "targets": ["grp"],
    }
    await bl.async_request("PUT", f"/vens/{ven['id']}", json=body)
    assert (await client.async_grants("P-1")).ven == {"grp"}
    await client.async_request("PUT", f"/vens/{ven['id']}", json={**body, "targets": ["mine"]})
    assert (await client.async_grants("P-1")).ven == {"grp"}
