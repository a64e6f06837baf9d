"""Snapshots of every platform's entities (``snapshot_platform``), one test per platform.

As Home Assistant's platinum integrations do (peblar, homewizard): each test sets up only one
platform (``PLATFORMS`` patched) and snapshots every entity registry entry of the premise with
its state: unique IDs, translation keys, device classes, units, entity categories and states.
Disabled-by-default entities are enabled, so they are snapshotted too. Nothing is excluded:
time is fixed (freezer), session and local-event IDs come from a counter, the test VTN numbers
its objects itself.

Three premise shapes: the demo charger with a home and a guest vehicle (every platform); an
entity-mapped charge point (the platforms whose entities depend on the charger type); and the
demo premise with a utility link to a real test VTN on 127.0.0.1, a load-control event in force
and a critical-peak price event ahead (the platforms showing the link and its events).
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from types import SimpleNamespace
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.pev_portal.core.simulator import DemoCar
from tests.vtn.server import TestVtn

from .common import advance, setup
from .conftest import GUEST_CAR, HOME_CAR, make_entry
from .test_entity_charger import CP, ChargePoint, run
from .test_utility import linked_entry

PLUG = "switch.garage_demo_car_plugged_in"
START = "2026-11-22T10:00:00+00:00"
ALL_PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's snapshot format, stored in tests/components/snapshots/."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    """Set up only the parametrized platform."""
    only: Platform = request.param
    with patch("custom_components.pev_portal.PLATFORMS", [only]):
        yield only


@pytest.fixture(autouse=True)
def fixed_ids() -> Iterator[None]:
    """Session IDs and local-event IDs from a counter instead of random UUIDs."""
    counter = itertools.count(1)
    fixed = SimpleNamespace(uuid4=lambda: uuid.UUID(int=next(counter)))
    with (
        patch("custom_components.pev_portal.core.session.uuid", fixed),
        patch("custom_components.pev_portal.program_events.uuid", fixed),
    ):
        yield


async def plug_demo_car(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Plug the demo car in: with its switch when the switch platform is set up, else as the
    switch does (``switch.DemoPlugSwitch.async_turn_on``)."""
    if hass.states.get(PLUG) is not None:
        await hass.services.async_call("switch", "turn_on", {"entity_id": PLUG}, blocking=True)
        return
    demo = entry.runtime_data.chargers["charger1"].demo
    assert demo is not None
    demo.evse.plug(DemoCar())
    demo.step(dt_util.utcnow())
    await hass.async_block_till_done()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("platform", ALL_PLATFORMS, indirect=True)
async def test_demo_premise(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """The demo premise, a home and a guest vehicle, the demo car charging for a minute."""
    freezer.move_to(START)
    entry = make_entry(vehicles=[HOME_CAR, GUEST_CAR])
    await setup(hass, entry)
    await plug_demo_car(hass, entry)
    await advance(hass, freezer, 60)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "platform", [Platform.BUTTON, Platform.SENSOR, Platform.SWITCH], indirect=True
)
async def test_entity_charger(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """An OCPP-like charge point mapped from entities, the home car charging for 20 minutes
    (no demo-plug switch; the charger's own register beside the end-use meter)."""
    freezer.move_to(START)
    cp = ChargePoint(hass, "cp", "sensor.meter_energy")
    cp.install()
    entry = make_entry(charger=CP, vehicles=[HOME_CAR, GUEST_CAR])
    await setup(hass, entry)
    await cp.id_tag("PEV-DEMO-0001")  # HOME_CAR
    await cp.status("Preparing")
    cp.set_power(7200)
    await cp.status("Charging")
    await run(hass, freezer, 20, [cp], register_share=0.98)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def _until(hass: HomeAssistant, done: Callable[[], bool]) -> None:
    """Let the link's exchanges with the VTN run until ``done()``, the clock standing still.

    The event loop's clock is frozen too, so this waits in an executor thread (real time) while
    the loop serves the sockets; at most 30 s.
    """
    for _ in range(600):
        if done():
            return
        await hass.async_add_executor_job(time.sleep, 0.05)
        await hass.async_block_till_done()
    raise AssertionError("the link did not get there in 30 s")


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "platform", [Platform.BINARY_SENSOR, Platform.CALENDAR, Platform.SENSOR], indirect=True
)
async def test_utility_link(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
    vtn: TestVtn,
    callback_base: str,
) -> None:
    """The demo premise linked to a utility: the home car enrolled and charging for 10 s under a
    7 kW load-control event, a critical-peak price event in two hours."""
    freezer.move_to(START)
    now = dt_util.utcnow()
    vtn.approve("PEV-DEMO-0001")  # HOME_CAR
    vtn.create_dlc_event(7.0, now - timedelta(minutes=5), timedelta(hours=1))
    vtn.create_cpp_event(0.95, now + timedelta(hours=2), timedelta(hours=1), currency="EUR")
    entry = linked_entry(vtn, callback_base, vehicles=[HOME_CAR, GUEST_CAR])
    coordinator = await setup(hass, entry)
    await plug_demo_car(hass, entry)
    runtime = coordinator.chargers["charger1"]
    await _until(
        hass,
        lambda: runtime.session is not None and runtime.session.bound and runtime.cap_kw == 7.0,
    )
    # 10 s, under the link's 15-second report pump: a pump in flight when the entry unloads
    # fails with "store is closed" (UtilityLink.async_stop does not wait for it).
    await advance(hass, freezer, 10)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
    # Unload while the clock is still frozen: when the freezer lets go, the loop's clock jumps
    # ahead and every timer (the pump's too) would fire at once during the teardown.
    assert await hass.config_entries.async_unload(entry.entry_id)
