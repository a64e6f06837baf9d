"""The export download of the card: GET /api/pev_portal/export, authenticated."""

from __future__ import annotations

import csv
import json

import pytest
from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.http import EXPORT_URL
from custom_components.pev_portal.io.store import command_csv_rows, csv_rows

from .common import advance, setup
from .conftest import make_entry

START = "2026-11-22T10:00:00+00:00"
RANGE = {"start": "2026-11-22T00:00:00+00:00", "end": "2026-11-23T00:00:00+00:00"}


async def plug(hass: HomeAssistant, on: bool) -> None:
    await hass.services.async_call(
        "switch",
        "turn_on" if on else "turn_off",
        {"entity_id": "switch.garage_demo_car_plugged_in"},
        blocking=True,
    )
    await hass.async_block_till_done()


@pytest.fixture
async def coordinator(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> PevPortalCoordinator:
    """The demo premise at 10:00 UTC with Home Assistant's HTTP server (so the view exists)."""
    freezer.move_to(START)
    assert await async_setup_component(hass, "http", {})
    return await setup(hass, make_entry())


async def login(hass: HomeAssistant, user: User, hass_client: ClientSessionGenerator) -> TestClient:
    """A client with an access token of now (frozen time moves past a token's lifetime)."""
    refresh = await hass.auth.async_create_refresh_token(user, "https://example.com/")
    client: TestClient = await hass_client(hass.auth.async_create_access_token(refresh))
    return client


async def one_session(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> str:
    await plug(hass, True)
    await advance(hass, freezer, 35 * 60)
    await plug(hass, False)
    found = hass.states.get("sensor.garage_session_energy")
    assert found is not None
    session_id: str = found.attributes["session_id"]
    return session_id


async def test_csv_download(
    hass: HomeAssistant,
    coordinator: PevPortalCoordinator,
    freezer: FrozenDateTimeFactory,
    hass_admin_user: User,
    hass_client: ClientSessionGenerator,
) -> None:
    """The same rows as the export action, as an attachment."""
    session_id = await one_session(hass, freezer)
    client = await login(hass, hass_admin_user, hass_client)
    response = await client.get(EXPORT_URL, params=RANGE)
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="sessions_20261122T000000Z_20261123T000000Z.csv"; '
        "filename*=UTF-8''sessions_20261122T000000Z_20261123T000000Z.csv"
    )
    rows = list(csv.reader((await response.text()).splitlines()))
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert rows == csv_rows((session_id, i) for i in stored)
    assert len(rows) == 4

    # Without a range: the last 30 days.
    response = await client.get(EXPORT_URL)
    assert response.status == 200
    assert len((await response.text()).splitlines()) == 4


async def test_json_download_of_one_session(
    hass: HomeAssistant,
    coordinator: PevPortalCoordinator,
    freezer: FrozenDateTimeFactory,
    hass_admin_user: User,
    hass_client: ClientSessionGenerator,
) -> None:
    """JSON for one session only, named after it."""
    first = await one_session(hass, freezer)
    await one_session(hass, freezer)
    client = await login(hass, hass_admin_user, hass_client)
    response = await client.get(
        EXPORT_URL,
        params={**RANGE, "format": "json", "session_id": first, "entry_id": "premise1"},
    )
    assert response.status == 200
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=\"session_{first}.json\"; filename*=UTF-8''session_{first}.json"
    )
    data = json.loads(await response.text())
    assert [s["session_id"] for s in data["sessions"]] == [first]
    assert {i["session_id"] for i in data["intervals"]} == {first}


async def test_commands_download(
    hass: HomeAssistant,
    coordinator: PevPortalCoordinator,
    freezer: FrozenDateTimeFactory,
    hass_admin_user: User,
    hass_client: ClientSessionGenerator,
) -> None:
    """content=commands: the command audit trail as CSV (also of one session)."""
    await plug(hass, True)
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.garage_charge_now"}, blocking=True
    )
    session_id = await one_session(hass, freezer)
    client = await login(hass, hass_admin_user, hass_client)
    response = await client.get(EXPORT_URL, params={**RANGE, "content": "commands"})
    assert response.status == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="commands_20261122T000000Z_20261123T000000Z.csv"; '
        "filename*=UTF-8''commands_20261122T000000Z_20261123T000000Z.csv"
    )
    rows = list(csv.reader((await response.text()).splitlines()))
    stored = await coordinator.store.call(lambda s: s.commands(session_id))
    assert rows == command_csv_rows((session_id, c) for c in stored)
    assert [r[2] for r in rows[1:]] == ["user"]

    response = await client.get(
        EXPORT_URL, params={**RANGE, "content": "commands", "session_id": session_id}
    )
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="commands_{session_id}.csv"; '
        f"filename*=UTF-8''commands_{session_id}.csv"
    )
    response = await client.get(EXPORT_URL, params={**RANGE, "format": "json"})
    data = json.loads(await response.text())
    assert data["sessions"][0]["commands"] == stored


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"format": "xml"}, "format must be csv or json"),
        ({"content": "anomalies"}, "content must be intervals, commands or events"),
        ({"start": "yesterday"}, "not a date and time: yesterday"),
        ({**RANGE, "end": "2026-11-21T00:00:00"}, "end must be after start"),
        ({"entry_id": "nope"}, "not set up"),
    ],
)
async def test_bad_requests(
    hass: HomeAssistant,
    coordinator: PevPortalCoordinator,
    hass_client: ClientSessionGenerator,
    params: dict[str, str],
    message: str,
) -> None:
    """Wrong parameters are answered 400 with the reason."""
    client = await hass_client()
    response = await client.get(EXPORT_URL, params=params)
    assert response.status == 400
    assert message in (await response.json())["message"]


async def test_needs_a_login(
    hass: HomeAssistant,
    coordinator: PevPortalCoordinator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Nobody downloads the sessions without logging in."""
    client = await hass_client_no_auth()
    response = await client.get(EXPORT_URL)
    assert response.status == 401


async def test_no_view_without_http(hass: HomeAssistant) -> None:
    """Without Home Assistant's HTTP server there is nothing to register."""
    from custom_components.pev_portal.http import async_setup_http

    assert getattr(hass, "http", None) is None
    async_setup_http(hass)  # no error
