"""Hostile input at every edge: no input gives a 500, is stored, or breaks the entry's setup.

Each action's schema is fed inputs drawn by Hypothesis (NaN, infinities, 1e308, huge texts,
dates at the calendar's edges, wrong types, missing and extra fields); every call either
succeeds or is refused with a validation error, and after all of them the entry still loads
and every stored local event is one the validator accepts. The export view answers 400 to
what it cannot use, never 500.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import probatio as vol
import pytest
from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.http import EXPORT_URL
from custom_components.pev_portal.validation import valid_local_event

from .common import setup
from .conftest import HOME_CAR, make_entry

EDGE_DATES = [
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59",
    "2026-02-30T00:00:00",
    "not a date",
]
HOSTILE_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["nan", "inf", "-inf", "1e308", "-1e308", "", "price", "load_control"]),
    st.sampled_from(EDGE_DATES),
    st.text(max_size=20),
    st.text(min_size=150, max_size=2000),
)
HOSTILE = st.one_of(HOSTILE_SCALARS, st.lists(HOSTILE_SCALARS, max_size=3))


def _inputs(fields: dict[str, st.SearchStrategy[Any]], count: int) -> list[dict[str, Any]]:
    """``count`` inputs drawn by Hypothesis: each field missing, valid-looking or hostile."""
    found: list[dict[str, Any]] = []
    strategy = st.fixed_dictionaries(
        {}, optional={k: st.one_of(v, HOSTILE) for k, v in fields.items()} | {"extra": HOSTILE}
    )

    @settings(
        max_examples=count,
        database=None,
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(value: dict[str, Any]) -> None:
        found.append(value)

    collect()
    return found


def _dates() -> st.SearchStrategy[Any]:
    now = dt_util.utcnow()
    return st.one_of(
        st.integers(min_value=-3 * 24, max_value=400 * 24).map(
            lambda h: (now + timedelta(hours=h)).isoformat()
        ),
        st.sampled_from(EDGE_DATES),
    )


async def _premise(hass: HomeAssistant) -> tuple[Any, str]:
    entry = make_entry(vehicles=[HOME_CAR])
    await setup(hass, entry)
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "charger1"), entry.entry_id)
    assert device is not None
    return entry, device.id


def _services(device_id: str) -> dict[str, tuple[dict[str, st.SearchStrategy[Any]], bool]]:
    """Each action: its fields (valid-looking values) and whether it must return a response."""
    device = st.sampled_from([device_id, "nope"])
    settings_fields: dict[str, st.SearchStrategy[Any]] = {
        "device_id": device,
        "departure": st.sampled_from(["07:30", "25:00", "7"]),
        "target": st.floats(allow_nan=True, allow_infinity=True),
        "mode": st.sampled_from(["cheapest", "immediate", "solar", "bogus"]),
    }
    return {
        "add_local_event": (
            {
                "kind": st.sampled_from(["price", "load_control"]),
                "start": _dates(),
                "end": _dates(),
                "price": st.floats(allow_nan=True, allow_infinity=True),
                "limit_kw": st.floats(allow_nan=True, allow_infinity=True),
                "name": st.text(max_size=150),
            },
            False,
        ),
        "export_sessions": (
            {
                "start": _dates(),
                "end": _dates(),
                "format": st.sampled_from(["csv", "json", "xml"]),
                "content": st.sampled_from(["intervals", "commands", "x"]),
            },
            False,
        ),
        "bind_vehicle": ({"device_id": device, "pev_id": st.text(max_size=300)}, False),
        "set_departure_and_target": (settings_fields, False),
        "plan_preview": (settings_fields, True),
        "charge_now": ({"device_id": device}, False),
        "opt_out": ({"device_id": device, "confirm": st.booleans()}, False),
    }


@pytest.mark.parametrize(
    "service",
    [
        "add_local_event",
        "export_sessions",
        "bind_vehicle",
        "set_departure_and_target",
        "plan_preview",
        "charge_now",
        "opt_out",
    ],
)
async def test_no_input_breaks_an_action_or_the_entry(
    hass: HomeAssistant, hass_admin_user: User, service: str
) -> None:
    entry, device_id = await _premise(hass)
    # The car plugged in, so the actions on a session reach their code, not just "no session".
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.garage_demo_car_plugged_in"}, blocking=True
    )
    fields, response = _services(device_id)[service]
    context = Context(user_id=hass_admin_user.id)
    outcomes: set[str] = set()
    for data in _inputs(fields, 60):
        try:
            await hass.services.async_call(
                DOMAIN, service, data, blocking=True, return_response=response, context=context
            )
            outcomes.add("ok")
        except vol.Invalid, HomeAssistantError:
            outcomes.add("refused")  # a validation error: the caller sees a message, not a 500
    assert "refused" in outcomes
    events = await entry.runtime_data.store.read(
        lambda s: s.local_events(
            dt_util.utcnow() - timedelta(days=30), entry.runtime_data.premise_id
        )
    )
    assert [e for e in events if valid_local_event(e)] == []
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", math.nan),
        ("price", "inf"),
        ("price", 1e308),
        ("price", -50),
        ("name", "x" * 1_000_000),
    ],
)
async def test_a_hostile_local_event_is_refused_and_not_stored(
    hass: HomeAssistant, field: str, value: Any
) -> None:
    entry, _ = await _premise(hass)
    start = dt_util.utcnow() + timedelta(hours=1)
    data = {
        "kind": "price",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "price": 0.3,
        field: value,
    }
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(DOMAIN, "add_local_event", data, blocking=True)
    assert entry.runtime_data.local_events == []


@pytest.mark.parametrize(
    "end", ["9999-12-31T23:59:59-05:00", "2099-01-01T00:00:00+00:00", "2020-01-01T00:00:00Z"]
)
async def test_a_local_event_outside_the_window_is_refused(hass: HomeAssistant, end: str) -> None:
    entry, _ = await _premise(hass)
    data = {
        "kind": "load_control",
        "start": dt_util.utcnow().isoformat(),
        "end": end,
        "limit_kw": 2,
    }
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(DOMAIN, "add_local_event", data, blocking=True)
    assert entry.runtime_data.local_events == []


async def test_plan_preview_with_an_infinite_target_is_refused(hass: HomeAssistant) -> None:
    _, device_id = await _premise(hass)
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.garage_demo_car_plugged_in"}, blocking=True
    )
    for target in ("inf", math.nan, 1e308):
        with pytest.raises(vol.Invalid):
            await hass.services.async_call(
                DOMAIN,
                "plan_preview",
                {"device_id": device_id, "target": target},
                blocking=True,
                return_response=True,
            )
    # A % beyond 100 for a vehicle with a capacity: the handler refuses it.
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": "select.garage_vehicle", "option": "Family car"},
        blocking=True,
    )
    with pytest.raises(HomeAssistantError, match="target"):
        await hass.services.async_call(
            DOMAIN,
            "plan_preview",
            {"device_id": device_id, "target": 500},
            blocking=True,
            return_response=True,
        )


@pytest.mark.parametrize(
    "query",
    [
        {"start": "0001-01-01T00:00:00+05:00", "end": "2026-01-01T00:00:00Z"},
        {"start": "2026-01-01T00:00:00Z", "end": "9999-12-31T23:59:59-05:00"},
        {"start": "2026-13-01T00:00:00Z"},
        {"start": "x" * 5000},
        {"session_id": "s" * 5000},
        {"format": "xml"},
    ],
)
async def test_export_view_answers_400_not_500(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, query: dict[str, str]
) -> None:
    assert await async_setup_component(hass, "http", {})
    await _premise(hass)
    client = await hass_client()
    response = await client.get(EXPORT_URL, params=query)
    assert response.status == 400, await response.text()


async def test_export_view_sanitizes_the_session_id_in_its_header(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "http", {})
    await _premise(hass)
    client = await hass_client()
    response = await client.get(EXPORT_URL, params={"session_id": 'a"; filename=evil.exe; x="'})
    assert response.status == 200
    header = response.headers["Content-Disposition"]
    assert header.startswith('attachment; filename="session_a__')
    assert header.count('"') == 2
    assert "filename*=UTF-8''session_a%22%3B%20filename%3Devil.exe" in header
