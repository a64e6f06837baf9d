"""The end-to-end tests' one Home Assistant (harness.py): started by the first test that asks
for it, stopped after the last end-to-end test of this process (not left idle while the rest of
the suite runs); started again if another end-to-end test comes later."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest
import pytest_socket

from .harness import SharedHomeAssistant

_SHARED: list[SharedHomeAssistant] = []


@pytest.fixture(scope="session")
def _e2e_home_assistant(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SharedHomeAssistant]:
    shared = SharedHomeAssistant(tmp_path_factory.mktemp("e2e-hass"))
    _SHARED.append(shared)
    try:
        yield shared
    finally:
        shared.stop()
        _SHARED.remove(shared)


@pytest.fixture
def e2e_hass(_e2e_home_assistant: SharedHomeAssistant, socket_enabled: None) -> SharedHomeAssistant:
    """The running Home Assistant with no PEV Portal premise and no store, as a homeowner's that
    has never set it up (what a test left behind is removed before and after it)."""
    # Sockets to 127.0.0.1 for the set-up too (each test asks for socket_enabled as well).
    pytest_socket.enable_socket()
    _e2e_home_assistant.ensure_started()
    _e2e_home_assistant.reset()
    yield _e2e_home_assistant
    if _e2e_home_assistant.running:
        _e2e_home_assistant.reset()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    """After the last end-to-end test in a row (its fixtures torn down), Home Assistant stops."""
    try:
        return (yield)
    finally:
        if nextitem is None or nextitem.path.parent != item.path.parent:
            for shared in _SHARED:
                shared.stop()
