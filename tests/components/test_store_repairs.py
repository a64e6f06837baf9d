"""The ledger's repair issues: writes failing, a ledger replaced, local events skipped."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.io.store import AsyncLedgerStore, OpenReport, StoreStatus
from custom_components.pev_portal.repairs import (
    async_ledger_has_history,
    async_ledger_opened,
    async_local_events_skipped,
    async_open_ledger,
    async_remember_ledger,
    async_store_failing,
    async_store_recovered,
    filter_local_events,
)

SINCE = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


async def _texts(hass: HomeAssistant) -> dict[str, str]:
    return await async_get_translations(hass, "en", "issues", [DOMAIN])


async def test_store_failing_then_recovered(
    hass: HomeAssistant, issue_registry: ir.IssueRegistry
) -> None:
    async_store_failing(
        hass, "entry1", SINCE, "database is locked", path="/config/pev_portal.db", pending=3
    )
    issue = issue_registry.async_get_issue(DOMAIN, "store_failing_entry1")
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders == {
        "path": "/config/pev_portal.db",
        "since": "2026-11-22T10:00:00+00:00",
        "error": "database is locked",
        "pending": "3",
    }
    description = (await _texts(hass))[f"component.{DOMAIN}.issues.store_failing.description"]
    assert "{pending}" in description
    async_store_recovered(hass, "entry1")
    assert issue_registry.async_get_issue(DOMAIN, "store_failing_entry1") is None


async def test_a_replaced_ledger_is_a_persistent_issue(
    hass: HomeAssistant, issue_registry: ir.IssueRegistry, tmp_path: Path
) -> None:
    async_ledger_opened(hass, "entry1", tmp_path / "l.db", OpenReport())
    assert issue_registry.async_get_issue(DOMAIN, "ledger_damaged_entry1") is None
    kept = tmp_path / "l.db.damaged-20261122T100000Z"
    report = OpenReport(reason="not a SQLite database", moved_aside=kept)
    async_ledger_opened(hass, "entry1", tmp_path / "l.db", report)
    issue = issue_registry.async_get_issue(DOMAIN, "ledger_damaged_entry1")
    assert issue is not None
    assert issue.is_persistent
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["kept"] == str(kept)
    assert issue.translation_placeholders["reason"] == "not a SQLite database"


async def test_skipped_local_events_are_named(
    hass: HomeAssistant, issue_registry: ir.IssueRegistry
) -> None:
    async_local_events_skipped(hass, "entry1", [("Grid peak", "price 'nan' is not a finite price")])
    issue = issue_registry.async_get_issue(DOMAIN, "local_events_skipped_entry1")
    assert issue is not None
    assert issue.translation_placeholders == {
        "events": "Grid peak (price 'nan' is not a finite price)"
    }
    async_local_events_skipped(hass, "entry1", [])
    assert issue_registry.async_get_issue(DOMAIN, "local_events_skipped_entry1") is None


async def test_ledger_history_is_remembered(hass: HomeAssistant, tmp_path: Path) -> None:
    path = tmp_path / "pev_portal.db"
    assert not await async_ledger_has_history(hass, path)
    await async_remember_ledger(hass, path)
    await async_remember_ledger(hass, path)
    assert await async_ledger_has_history(hass, path)


async def test_the_store_status_raises_and_clears_the_issue(
    hass: HomeAssistant, issue_registry: ir.IssueRegistry, tmp_path: Path
) -> None:
    """Wired as the coordinator should: on_status -> the issue, through a real failure."""
    path = tmp_path / "pev_portal.db"

    def on_status(status: StoreStatus) -> None:
        if status.failing_since is not None:
            async_store_failing(
                hass,
                "entry1",
                status.failing_since,
                status.error or "",
                path=str(path),
                pending=status.pending,
            )
        else:
            async_store_recovered(hass, "entry1")

    store = AsyncLedgerStore(
        path, on_status=on_status, retry_first_s=0.01, retry_max_s=0.05, busy_timeout_s=0.02
    )
    await store.open()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    written = store.submit(lambda s: s.set_meta("k", 1))
    while store.status.failing_since is None:
        await hass.async_add_executor_job(lambda: None)
    assert issue_registry.async_get_issue(DOMAIN, "store_failing_entry1") is not None
    blocker.execute("ROLLBACK")
    blocker.close()
    await written
    while store.status.failing_since is not None:
        await hass.async_add_executor_job(lambda: None)
    assert issue_registry.async_get_issue(DOMAIN, "store_failing_entry1") is None
    await store.close()


async def test_open_ledger_expects_the_history_it_had(
    hass: HomeAssistant, issue_registry: ir.IssueRegistry, tmp_path: Path
) -> None:
    """The first open remembers the ledger; emptied afterwards, it is reported, not silent."""
    path = tmp_path / "pev_portal.db"
    store = AsyncLedgerStore(path)
    assert not (await async_open_ledger(hass, "entry1", store)).damaged
    await store.call(lambda s: s.set_meta("utility_push:PREMISE-1", {"bearer": "b"}))
    await store.close()
    assert issue_registry.async_get_issue(DOMAIN, "ledger_damaged_entry1") is None

    await hass.async_add_executor_job(path.write_bytes, b"")
    for side in ("-wal", "-shm"):
        (tmp_path / f"pev_portal.db{side}").unlink(missing_ok=True)
    store = AsyncLedgerStore(path)
    report = await async_open_ledger(hass, "entry1", store)
    assert report.damaged
    assert "empty" in (report.reason or "")
    assert issue_registry.async_get_issue(DOMAIN, "ledger_damaged_entry1") is not None
    await store.close()


async def test_filter_local_events_skips_flags_and_names(
    hass: HomeAssistant, issue_registry: ir.IssueRegistry, tmp_path: Path
) -> None:
    store = AsyncLedgerStore(tmp_path / "pev_portal.db")
    await store.open()
    start = SINCE
    end = start.replace(hour=11)
    await store.call(
        lambda s: s.add_local_event(
            "bad", "price", start, end, {"name": "Peak", "price": math.nan}, "P1"
        )
    )
    await store.call(lambda s: s.add_local_event("good", "price", start, end, {"price": 0.2}, "P1"))
    events = await store.read(lambda s: s.local_events(start, "P1"))
    usable = filter_local_events(hass, "entry1", store, events)
    assert [e["event_id"] for e in usable] == ["good"]
    issue = issue_registry.async_get_issue(DOMAIN, "local_events_skipped_entry1")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["events"].startswith("Peak (price")
    stored = await store.call(lambda s: s.local_events(start, "P1"))
    assert next(e for e in stored if e["event_id"] == "bad")["skipped"]
    await store.close()
