"""Permissions as Home Assistant's conventions say.

* ``export_sessions`` (every session: personal data) and ``add_local_event`` (persistent) are
  admin actions: an ordinary user gets ``Unauthorized``.
* The actions on a charger or a vehicle (bind, departure and target, plan preview, charge now,
  opt out) need control of the integration's entities: a read-only user gets ``Unauthorized``,
  an ordinary user may call them (as they may use the entities).
* The export download is for administrators; the card's websocket data stays open (it only
  reads).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.auth.models import User
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.http import EXPORT_URL

from .common import setup
from .conftest import HOME_CAR, make_entry


@pytest.fixture
async def ordinary_user(hass: HomeAssistant) -> User:
    """A user who is neither an administrator nor read-only (nor the owner)."""
    users = await hass.auth.async_get_group(GROUP_ID_USER)
    assert users is not None
    user: User = MockUser(name="Household", groups=[users]).add_to_hass(hass)
    assert not user.is_admin
    return user


async def _loaded(hass: HomeAssistant) -> str:
    """Set up the demo premise; return the charger's device ID."""
    entry = make_entry(vehicles=[HOME_CAR])
    await setup(hass, entry)
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "charger1"), entry.entry_id)
    assert device is not None
    return device.id


def _event() -> dict[str, Any]:
    start = dt_util.utcnow() + timedelta(hours=1)
    return {
        "kind": "price",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "price": 0.5,
    }


ADMIN_ONLY: list[tuple[str, dict[str, Any]]] = [
    ("export_sessions", {"start": "2026-01-01T00:00:00+00:00", "end": "2026-02-01T00:00:00+00:00"}),
    ("add_local_event", {}),
]


@pytest.mark.parametrize(("service", "data"), ADMIN_ONLY)
async def test_admin_actions_refuse_an_ordinary_user(
    hass: HomeAssistant,
    ordinary_user: User,
    hass_admin_user: User,
    service: str,
    data: dict[str, Any],
) -> None:
    await _loaded(hass)
    data = data or _event()
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN, service, data, blocking=True, context=Context(user_id=ordinary_user.id)
        )
    response = await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert response


CONTROLLED = [
    ("bind_vehicle", {"pev_id": "PEV-DEMO-0001"}, False),
    ("set_departure_and_target", {"target": 80}, False),
    ("plan_preview", {}, True),
    ("charge_now", {}, False),
    ("opt_out", {}, False),
]


@pytest.mark.parametrize(("service", "data", "response"), CONTROLLED)
async def test_charger_actions_need_control(
    hass: HomeAssistant,
    hass_read_only_user: User,
    ordinary_user: User,
    service: str,
    data: dict[str, Any],
    response: bool,
) -> None:
    """A read-only user cannot act on a charger; an ordinary user gets past the permission
    check (the action may still refuse for its own reasons, e.g. no vehicle plugged in)."""
    device_id = await _loaded(hass)
    data = {"device_id": device_id, **data}
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            service,
            data,
            blocking=True,
            return_response=response,
            context=Context(user_id=hass_read_only_user.id),
        )
    refusal: str | None = None
    try:
        await hass.services.async_call(
            DOMAIN,
            service,
            data,
            blocking=True,
            return_response=response,
            context=Context(user_id=ordinary_user.id),
        )
    except ServiceValidationError as err:
        refusal = err.translation_key
    assert refusal in (None, "no_session", "no_active_event", "no_vehicle")


async def _token(hass: HomeAssistant, user: User) -> str:
    refresh = await hass.auth.async_create_refresh_token(user, "https://example.com/")
    return hass.auth.async_create_access_token(refresh)


async def test_export_download_is_for_administrators(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_admin_user: User,
    ordinary_user: User,
) -> None:
    assert await async_setup_component(hass, "http", {})
    await _loaded(hass)
    refused = await hass_client(await _token(hass, ordinary_user))
    assert (await refused.get(EXPORT_URL)).status == 401
    allowed = await hass_client(await _token(hass, hass_admin_user))
    assert (await allowed.get(EXPORT_URL)).status == 200


async def test_the_cards_data_stays_open(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    """The card's websocket commands only read: a read-only user gets the dashboard."""
    await _loaded(hass)
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id({"type": "pev_portal/dashboard"})
    result = await client.receive_json()
    assert result["success"], result
    await client.send_json_auto_id({"type": "pev_portal/session_intervals", "session_id": "x"})
    result = await client.receive_json()
    assert result["error"]["code"] == "not_found"
    await client.send_json_auto_id(
        {"type": "pev_portal/session_intervals", "session_id": "x" * 10_000}
    )
    result = await client.receive_json()
    assert result["error"]["code"] == "invalid_format"
