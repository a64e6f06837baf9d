"""The ledger's repair issues: writes failing, a ledger replaced, local events skipped."""

from __future__ import annotations

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
    async_remember_ledger,
    async_store_failing,
    async_store_recovered,
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
