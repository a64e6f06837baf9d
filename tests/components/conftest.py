"""Fixtures for the Home Assistant tests: a premise with the demo charger, or a mapped one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from unittest.mock import PropertyMock, patch

import pytest
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.const import DOMAIN
from tests.vtn.server import TestVtn

PROGRAM = "PEV-TOU"
PREMISE = {"premise_name": "Test home", "premise_id": "PREMISE-1"}
OPTIONS = {
    "interval_minutes": 15,
    "validation_window": 60,
    "tariff": {"type": "flat", "currency": "EUR", "price": "0.20"},
    "default_price": 0.40,
}
DEMO_CHARGER = {"charger_name": "Garage", "charger_type": "demo", "meter_source": "demo"}
HOME_CAR = {
    "pev_id": "PEV-DEMO-0001",
    "name": "Family car",
    "relation": "home",
    "capacity_kwh": 60,
    "tags": ["tag-family"],
    "default_vehicle": False,
}
GUEST_CAR = {
    "pev_id": "PEV-GUEST-1",
    "name": "Visitor",
    "relation": "guest",
    "tags": ["tag-visitor"],
    "default_vehicle": False,
}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components."""


@pytest.fixture(autouse=True)
def isolated_config_dir(hass: HomeAssistant, tmp_path: Path) -> None:
    """Give every test its own config directory, so its session store starts empty."""
    hass.config.config_dir = str(tmp_path)


def make_entry(
    charger: dict[str, Any] | None = None,
    vehicles: list[dict[str, Any]] | None = None,
    options: dict[str, Any] | None = None,
    extra_chargers: list[dict[str, Any]] | None = None,
) -> MockConfigEntry:
    """A premise entry with chargers and the given vehicles as subentries.

    The first charger is ``charger1``; ``extra_chargers`` become ``charger2``, ``charger3``...
    """
    subentries = [
        ConfigSubentryData(
            subentry_type="charger",
            title=data["charger_name"],
            data=data,
            subentry_id=f"charger{index + 1}",
            unique_id=None,
        )
        for index, data in enumerate([charger or DEMO_CHARGER, *(extra_chargers or [])])
    ]
    for index, vehicle in enumerate(vehicles if vehicles is not None else [HOME_CAR]):
        subentries.append(
            ConfigSubentryData(
                subentry_type="vehicle",
                title=vehicle["name"],
                data=vehicle,
                subentry_id=f"vehicle{index + 1}",
                unique_id=vehicle["pev_id"],
            )
        )
    return MockConfigEntry(
        domain=DOMAIN,
        title=PREMISE["premise_name"],
        unique_id=PREMISE["premise_id"],
        data=PREMISE,
        options=options or OPTIONS,
        subentries_data=subentries,
        entry_id="premise1",
    )


@pytest.fixture
def demo_entry() -> MockConfigEntry:
    """A premise with the demo charger and one home vehicle."""
    return make_entry()


@pytest.fixture
async def loaded_demo(hass: HomeAssistant, demo_entry: MockConfigEntry) -> MockConfigEntry:
    """The demo premise, set up."""
    demo_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(demo_entry.entry_id)
    await hass.async_block_till_done()
    return demo_entry


@pytest.fixture
async def vtn(socket_enabled: None) -> AsyncIterator[TestVtn]:
    """A running test VTN on 127.0.0.1 with the customer's program."""
    server = TestVtn()
    await server.start()
    server.add_program(PROGRAM)
    yield server
    await server.stop()
    assert server.violations == [], server.violations


@pytest.fixture
async def callback_base(hass: HomeAssistant, aiohttp_client: Callable[..., Any]) -> str:
    """Home Assistant's HTTP server on 127.0.0.1, where the VTN pushes to."""
    assert await async_setup_component(hass, "http", {})
    assert await async_setup_component(hass, DOMAIN, {})  # serves the push endpoint
    assert await async_setup_component(hass, "calendar", {})  # its views, before the freeze
    client = await aiohttp_client(hass.http.app)
    return str(client.make_url("")).rstrip("/")


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Entities disabled by default are enabled (as in Home Assistant core's tests)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield
