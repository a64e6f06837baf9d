"""One store, several premises: what one premise keeps never reaches another.

Every config entry opens the same ledger file (``pev_portal.db``). Local events, vehicle
settings, the demo's state, the push secrets, the fail-safe state, the enrollments and the
report outbox belong to a premise: two premises side by side each see their own, and a premise
set up after another was deleted starts clean, while the deleted premise's sessions (billing
records) stay, found again when the same premise ID is added back.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal import premise_store
from custom_components.pev_portal.const import DOMAIN, STORE_FILENAME
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.io.store import LedgerStore
from tests.test_store import session
from tests.test_store_durability import Lock
from tests.test_store_scope import _back_to_version_6

from .common import advance, setup
from .conftest import DEMO_CHARGER, HOME_CAR, OPTIONS


def premise(n: int) -> MockConfigEntry:
    """Premise ``n``: its own entry, premise ID, demo charger and home car."""
    car = {**HOME_CAR, "pev_id": f"PEV-{n}", "name": f"Car {n}"}
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Home {n}",
        unique_id=f"PREMISE-{n}",
        data={"premise_name": f"Home {n}", "premise_id": f"PREMISE-{n}"},
        options=OPTIONS,
        subentries_data=[
            ConfigSubentryData(
                subentry_type="charger",
                title=f"Garage {n}",
                data={**DEMO_CHARGER, "charger_name": f"Garage {n}"},
                subentry_id=f"p{n}charger",
                unique_id=None,
            ),
            ConfigSubentryData(
                subentry_type="vehicle",
                title=car["name"],
                data=car,
                subentry_id=f"p{n}vehicle",
                unique_id=car["pev_id"],
            ),
        ],
        entry_id=f"entry{n}",
    )


def _read(hass: HomeAssistant, func: Any) -> Any:
    store = LedgerStore(Path(hass.config.path(STORE_FILENAME)))
    try:
        return func(store)
    finally:
        store.close()


async def _plug(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    registry = er.async_get(hass)
    [entity_id] = [
        e.entity_id
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.unique_id.endswith("demo_plug")
    ]
    await hass.services.async_call("switch", "turn_on", {"entity_id": entity_id}, blocking=True)


async def _evening_peak(coordinator: PevPortalCoordinator) -> str:
    now = dt_util.utcnow()
    return await coordinator.async_add_local_event(
        "load_control", now, now + timedelta(hours=2), limit_kw=0, name="Evening peak"
    )


async def test_two_premises_side_by_side(hass: HomeAssistant) -> None:
    """A local event, the vehicle settings and the outbox of one premise stay its own, also
    after both reload."""
    one, two = premise(1), premise(2)
    first, second = await setup(hass, one), await setup(hass, two)
    await _evening_peak(first)
    assert [e["name"] for e in first.local_events] == ["Evening peak"]
    assert second.local_events == []

    for entry in (one, two):
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
    first, second = one.runtime_data, two.runtime_data
    assert [e["name"] for e in first.local_events] == ["Evening peak"]
    assert second.local_events == []
    rows = await hass.async_add_executor_job(
        _read, hass, lambda s: s.local_events(dt_util.utcnow(), "PREMISE-1")
    )
    assert [r["name"] for r in rows] == ["Evening peak"]


async def test_deleted_premise_reaches_no_new_one(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The issue's case: a premise deleted, another set up: the new one sees none of the old
    one's local events and its car is not capped by them; the old one's sessions stay in the
    store and come back with its premise ID."""
    one = premise(1)
    first = await setup(hass, one)
    await _plug(hass, one)
    await advance(hass, freezer, 10)
    await _evening_peak(first)
    assert first.chargers["p1charger"].session is not None
    await hass.services.async_call(
        "number", "set_value", {"entity_id": "number.car_1_charge_target", "value": 55}, True
    )
    assert first.smart.settings["p1vehicle"].target == 55
    await hass.config_entries.async_remove(one.entry_id)
    await hass.async_block_till_done()

    three = premise(3)
    third = await setup(hass, three)
    assert third.local_events == []
    await _plug(hass, three)
    await advance(hass, freezer, 30)
    runtime = third.chargers["p3charger"]
    assert runtime.demo is not None
    assert runtime.demo.evse.enabled is True  # no "Evening peak" of premise 1 caps it

    # Premise 1's session is a billing record: kept, and found again under its premise ID.
    sessions = await hass.async_add_executor_job(_read, hass, lambda s: s.recent_sessions(limit=10))
    assert {s.data["premise_id"] for s in sessions} == {"PREMISE-1", "PREMISE-3"}
    again = await setup(hass, premise(1))
    assert again.chargers["p1charger"].last_session is not None
    assert again.local_events == []  # deleted with its premise
    assert again.smart.settings["p1vehicle"].target != 55  # its settings too


async def test_changed_premise_id_keeps_its_local_events(hass: HomeAssistant) -> None:
    """Reconfigured to another premise ID, the entry still has its local events."""
    one = premise(1)
    await _evening_peak(await setup(hass, one))
    hass.config_entries.async_update_entry(
        one, data={**one.data, "premise_id": "PREMISE-1B"}, unique_id="PREMISE-1B"
    )
    assert await hass.config_entries.async_reload(one.entry_id)
    await hass.async_block_till_done()
    assert one.runtime_data.premise_id == "PREMISE-1B"
    assert [e["name"] for e in one.runtime_data.local_events] == ["Evening peak"]


async def test_deleting_a_premise_while_the_store_is_locked(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection holds the store's write lock: the deletion is not held up (the
    write is retried for the grace time, then given up with an error), and the rows it could
    not delete stay the deleted premise's, shown to no other premise."""
    monkeypatch.setattr(premise_store, "FORGET_GRACE_S", 0.3)
    one = premise(1)
    await _evening_peak(await setup(hass, one))
    assert await hass.config_entries.async_unload(one.entry_id)
    lock = Lock(Path(hass.config.path(STORE_FILENAME)))  # quick: nobody else holds it
    try:
        await hass.config_entries.async_remove(one.entry_id)
        await hass.async_block_till_done()
    finally:
        lock.release()
    assert "could not be removed from the store" in caplog.text
    rows = await hass.async_add_executor_job(
        _read, hass, lambda s: s.local_events(dt_util.utcnow(), "PREMISE-1")
    )
    assert [r["name"] for r in rows] == ["Evening peak"]
    assert (await setup(hass, premise(2))).local_events == []


async def test_deleting_a_premise_logs_what_went(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """The deletion names what it removed and what it kept."""
    one = premise(1)
    await _evening_peak(await setup(hass, one))
    await hass.config_entries.async_remove(one.entry_id)
    await hass.async_block_till_done()
    assert "Premise PREMISE-1 deleted: 1 local_events, 0 enrollments" in caplog.text
    rows = await hass.async_add_executor_job(
        _read, hass, lambda s: s.local_events(dt_util.utcnow(), "PREMISE-1")
    )
    assert rows == []


def _version_6_store(hass: HomeAssistant, premises: tuple[str, ...]) -> None:
    """A store as version 6 left it: sessions of ``premises``, a local event and the
    fail-safe state without a premise."""
    path = Path(hass.config.path(STORE_FILENAME))
    store = LedgerStore(path)
    for n, premise_id in enumerate(premises):
        ended = "2026-11-22T11:00:00+00:00"  # a closed session: a billing record
        store.save_session(session(f"old{n}", premise_id=premise_id, ended_at=ended), None)
    now = dt_util.utcnow()
    store.add_local_event(
        "old-peak",
        "load_control",
        now,
        now + timedelta(hours=2),
        {"name": "Old peak", "limit_kw": 7.0},
        "x",
    )
    store.close()
    _back_to_version_6(path, {"failsafe": {"rule": None}})


async def test_upgrade_of_a_one_premise_store_keeps_its_local_events(
    hass: HomeAssistant,
) -> None:
    """A version-6 store of one premise: its local event is shown by that premise."""
    await hass.async_add_executor_job(_version_6_store, hass, ("PREMISE-1",))
    first = await setup(hass, premise(1))
    assert [e["name"] for e in first.local_events] == ["Old peak"]


async def test_upgrade_of_a_two_premise_store_guesses_nothing(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """A version-6 store with sessions of two premises, both set up: the local event of
    unknown premise is shown by neither (kept, logged); once one premise is left, it is its."""
    await hass.async_add_executor_job(_version_6_store, hass, ("PREMISE-1", "PREMISE-2"))
    one, two = premise(1), premise(2)
    one.add_to_hass(hass)
    two.add_to_hass(hass)
    # Both entries exist before either starts (setting up the integration starts both).
    assert await hass.config_entries.async_setup(one.entry_id)
    await hass.async_block_till_done()
    assert two.state is ConfigEntryState.LOADED
    first, second = one.runtime_data, two.runtime_data
    assert first.local_events == second.local_events == []
    assert "2 stored row(s) from before premises were kept apart belong to no premise" in (
        caplog.text
    )
    await hass.config_entries.async_remove(two.entry_id)
    assert await hass.config_entries.async_reload(one.entry_id)
    await hass.async_block_till_done()
    assert [e["name"] for e in one.runtime_data.local_events] == ["Old peak"]
    assert "2 stored row(s) from before premises were kept apart now belong to PREMISE-1" in (
        caplog.text
    )
