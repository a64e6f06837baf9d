"""Fixtures: a real test VTN on 127.0.0.1 and a VEN client talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from custom_components.pev_portal.openadr.client import ClientCredentials, VenClient
from tests.vtn.server import TestVtn


@pytest.fixture
async def vtn(socket_enabled: None) -> AsyncIterator[TestVtn]:
    """A running test VTN (client credentials ven-client / ven-secret)."""
    server = TestVtn()
    await server.start()
    yield server
    await server.stop()
    assert server.violations == [], server.violations


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp session for the VEN."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def client(vtn: TestVtn, session: aiohttp.ClientSession) -> VenClient:
    """A VEN client with valid client credentials."""
    return VenClient(session, vtn.base_url, ClientCredentials("ven-client", "ven-secret"))
