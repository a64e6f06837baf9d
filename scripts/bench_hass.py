"""The Home Assistant the benchmarks start: the test harness's core, on 127.0.0.1 only.

Every bench that needs a Home Assistant core uses :func:`bench_home_assistant` (its HTTP server
set up by :func:`async_setup_http`, its URL :func:`base_url`), so that ``scripts/bench`` runs on any
machine beside any other Home Assistant:

- the HTTP server binds 127.0.0.1 on a free port (Home Assistant's default is every interface
  on 8123, which clashes with any other instance on the machine);
- zeroconf is off: Home Assistant's shared HTTP client resolves names through a zeroconf
  instance (mDNS), which needs a multicast-capable interface; the benches talk to 127.0.0.1
  only, so a plain resolver is used instead (as the test harness does).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from unittest.mock import patch


def free_port() -> int:
    """A TCP port free on 127.0.0.1 (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _plain_resolver(*_: Any) -> Any:
    """A DNS resolver without zeroconf (what ``_async_make_resolver`` returns otherwise)."""
    from aiohttp.resolver import AsyncResolver

    resolver = AsyncResolver()
    resolver.real_close = resolver.close  # type: ignore[attr-defined]
    return resolver


@asynccontextmanager
async def bench_home_assistant(config_dir: str) -> AsyncIterator[Any]:
    """A test-harness Home Assistant core with zeroconf off, custom integrations reloaded and
    the HTTP server on 127.0.0.1 and a free port (:func:`base_url`): set up first, because the
    integration's platforms (calendar) depend on ``http``, whose default binds every interface
    on 8123."""
    from homeassistant import loader

    # As in the tests: Home Assistant's utcnow made visible to freezegun (the benches that
    # simulate a day freeze the clock; without this the integration reads the real time).
    from pytest_homeassistant_custom_component import patch_time  # noqa: F401
    from pytest_homeassistant_custom_component.common import async_test_home_assistant

    with patch(
        "homeassistant.helpers.aiohttp_client._async_make_resolver", side_effect=_plain_resolver
    ):
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            await async_setup_http(hass)
            yield hass


_BASE_URL = "pev_portal_bench_base_url"


def base_url(hass: Any) -> str:
    """The base URL of the HTTP server of a :func:`bench_home_assistant` core."""
    url: str = hass.data[_BASE_URL]
    return url


async def async_setup_http(hass: Any) -> str:
    """Set up Home Assistant's HTTP server on 127.0.0.1 and a free port; its base URL."""
    from homeassistant.setup import async_setup_component

    if _BASE_URL in hass.data:
        return base_url(hass)
    port = free_port()
    config = {"http": {"server_host": ["127.0.0.1"], "server_port": port}}
    assert await async_setup_component(hass, "http", config)
    # Home Assistant keeps a new HTTP configuration on trial and restarts to revert it unless it
    # is confirmed in time (a simulated day passes that time): confirm it.
    from homeassistant.components.http.config import async_get_and_load_store

    store = await async_get_and_load_store(hass)
    if store.pending is not None:
        await store.async_promote_pending()
    # The server starts with the frontend or at Home Assistant's start event, neither of which
    # happens in the test harness's core: start it now (bound at setup).
    await hass.http.start()
    await hass.async_block_till_done()
    hass.data[_BASE_URL] = f"http://127.0.0.1:{port}"
    return base_url(hass)
