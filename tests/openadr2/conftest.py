"""Fixtures: openleadr's own OpenADR 2.0b VTN on 127.0.0.1 (tests/vtn/oadr2.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.vtn.oadr2 import Vtn, start_vtn


@pytest.fixture
async def vtn(socket_enabled: None) -> AsyncIterator[Vtn]:
    """openleadr's VTN accepting every VEN (``vtn.accept = False`` refuses them)."""
    server = await start_vtn()
    yield server
    await server.stop()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session
