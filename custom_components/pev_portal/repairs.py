"""Repairs issues: what the homeowner must fix for sessions to be metered and charging to be
controlled, and the fix flows of those PEV Portal can fix itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import probatio as vol
from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store

from .const import CONF_PHASES, DOMAIN
from .io.store import AsyncLedgerStore, LedgerStore, OpenReport, StoreStatus
from .validation import valid_local_event

MISSING_ENTITIES = "missing_entities"
METER_STATUS = "meter_status"
THREE_PHASE = "charger_three_phase"
STORE_FAILING = "store_failing"
LEDGER_DAMAGED = "ledger_damaged"
LOCAL_EVENTS_SKIPPED = "local_events_skipped"
PRICE_SOURCE_FAILING = "price_source_failing"


def _issue_id(entry_id: str, charger_id: str) -> str:
    return f"{MISSING_ENTITIES}_{entry_id}_{charger_id}"


def async_check_entities(
    hass: HomeAssistant, entry_id: str, charger_id: str, charger_name: str, entity_ids: list[str]
) -> list[str]:
    """Raise (or clear) the issue that a charger's mapped entities do not exist.

    Returns the missing entity IDs.
    """
    missing = [entity_id for entity_id in entity_ids if hass.states.get(entity_id) is None]
    issue_id = _issue_id(entry_id, charger_id)
    if missing:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=MISSING_ENTITIES,
            translation_placeholders={"charger": charger_name, "entities": ", ".join(missing)},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    return missing


def async_clear_stale(hass: HomeAssistant, entry_id: str, charger_ids: set[str]) -> None:
    """Remove the issues of chargers the premise no longer has."""
    registry = ir.async_get(hass)
    for kind in (MISSING_ENTITIES, METER_STATUS, THREE_PHASE):
        prefix = f"{kind}_{entry_id}_"
        for domain, issue_id in list(registry.issues):
            if (
                domain == DOMAIN
                and issue_id.startswith(prefix)
                and issue_id.removeprefix(prefix) not in charger_ids
            ):
                ir.async_delete_issue(hass, DOMAIN, issue_id)


def async_meter_status(
    hass: HomeAssistant, entry_id: str, charger_id: str, charger_name: str, alarms: list[str]
) -> None:
    """Raise (or clear) the issue that a Zigbee meter reports check meter, tamper, power
    failure or service disconnect (its intervals are marked meanwhile)."""
    issue_id = f"{METER_STATUS}_{entry_id}_{charger_id}"
    if alarms:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=METER_STATUS,
            translation_placeholders={"charger": charger_name, "status": ", ".join(alarms)},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id)


def async_three_phase_issue(
    hass: HomeAssistant, entry_id: str, charger_id: str, charger_name: str
) -> None:
    """Raise the fixable issue that a charger set up as one-phase draws on three phases."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{THREE_PHASE}_{entry_id}_{charger_id}",
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=THREE_PHASE,
        translation_placeholders={"charger": charger_name},
        data={"entry_id": entry_id, "charger_id": charger_id},
    )


def async_price_source_failing(
    hass: HomeAssistant, entry_id: str, entity_id: str, error: str
) -> None:
    """Raise the issue that the price entity's prices cannot be read (the last are kept)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{PRICE_SOURCE_FAILING}_{entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=PRICE_SOURCE_FAILING,
        translation_placeholders={"entity": entity_id, "error": error},
    )


def async_price_source_ok(hass: HomeAssistant, entry_id: str) -> None:
    """Clear the price-source issue (the prices are read again)."""
    ir.async_delete_issue(hass, DOMAIN, f"{PRICE_SOURCE_FAILING}_{entry_id}")


# -- the ledger's health ---------------------------------------------------------------------


def async_store_failing(
    hass: HomeAssistant,
    entry_id: str,
    since: datetime,
    error: str,
    *,
    path: str = "",
    pending: int = 0,
) -> None:
    """Raise the issue that the ledger cannot be written (its writes are kept meanwhile)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{STORE_FAILING}_{entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=STORE_FAILING,
        translation_placeholders={
            "path": path,
            "since": since.isoformat(timespec="seconds"),
            "error": error[:200],
            "pending": str(pending),
        },
    )


def async_store_recovered(hass: HomeAssistant, entry_id: str) -> None:
    """Clear the issue: the ledger is written again (the kept writes are saved)."""
    ir.async_delete_issue(hass, DOMAIN, f"{STORE_FAILING}_{entry_id}")


def async_ledger_opened(
    hass: HomeAssistant, entry_id: str, path: Path | str, report: OpenReport
) -> None:
    """Raise the issue that a damaged (or emptied) ledger was replaced by a fresh one.

    Persistent: the fresh ledger does not remember it, so the issue stays until dismissed.
    """
    if not report.damaged:
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{LEDGER_DAMAGED}_{entry_id}",
        is_fixable=False,
        is_persistent=True,
        severity=ir.IssueSeverity.ERROR,
        translation_key=LEDGER_DAMAGED,
        translation_placeholders={
            "path": str(path),
            "reason": report.reason or "",
            "kept": str(report.moved_aside) if report.moved_aside else "-",
        },
    )


def async_local_events_skipped(
    hass: HomeAssistant, entry_id: str, skipped: Sequence[tuple[str, str]]
) -> None:
    """Raise (or clear) the issue naming stored local events that were skipped on load.

    ``skipped``: (event ID or name, reason) pairs, from :func:`.validation.valid_local_event`.
    """
    issue_id = f"{LOCAL_EVENTS_SKIPPED}_{entry_id}"
    if not skipped:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=LOCAL_EVENTS_SKIPPED,
        translation_placeholders={
            "events": "; ".join(f"{name[:60]} ({reason})" for name, reason in skipped[:10])
        },
    )


def store_status_listener(
    hass: HomeAssistant, entry_id: str, path: Path | str
) -> Callable[[StoreStatus], None]:
    """The ``on_status`` of an entry's :class:`AsyncLedgerStore`: raises the issue when its
    writes start failing and clears it when they work again (the store logs both once)."""

    def listener(status: StoreStatus) -> None:
        if status.failing_since is not None:
            async_store_failing(
                hass,
                entry_id,
                status.failing_since,
                status.error or "",
                path=str(path),
                pending=status.pending,
            )
        else:
            async_store_recovered(hass, entry_id)

    return listener


async def async_open_ledger(
    hass: HomeAssistant, entry_id: str, store: AsyncLedgerStore
) -> OpenReport:
    """Open the entry's ledger expecting the history it had, and report a replaced one."""
    report = await store.open(expect_history=await async_ledger_has_history(hass, store.path))
    async_ledger_opened(hass, entry_id, store.path, report)
    await async_remember_ledger(hass, store.path)
    return report


def filter_local_events(
    hass: HomeAssistant,
    entry_id: str,
    store: AsyncLedgerStore,
    events: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The stored local events that can be used; the others are flagged in the store (kept
    for inspection) and named in a repair issue. Never raises for a bad row."""
    usable: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for event in events:
        reason = valid_local_event(event)
        if reason is None:
            usable.append(dict(event))
            continue
        event_id = str(event.get("event_id"))
        name = event.get("name")
        skipped.append((name if isinstance(name, str) and name else event_id, reason))
        if event.get("skipped") != reason:
            store.submit(partial(_flag, event_id=event_id, reason=reason))
    async_local_events_skipped(hass, entry_id, skipped)
    return usable


def _flag(store: LedgerStore, *, event_id: str, reason: str) -> None:
    store.flag_local_event(event_id, reason)


_HISTORY_KEY = f"{DOMAIN}.ledger_history"


async def async_ledger_has_history(hass: HomeAssistant, path: Path | str) -> bool:
    """Whether this ledger file was opened before (Home Assistant's own storage remembers
    it), so an empty or missing file means lost history: ``open(expect_history=...)``."""
    data = await Store[dict[str, Any]](hass, 1, _HISTORY_KEY).async_load() or {}
    return str(path) in data.get("ledgers", [])


async def async_remember_ledger(hass: HomeAssistant, path: Path | str) -> None:
    """Remember that this ledger file exists and holds the premise's history."""
    store = Store[dict[str, Any]](hass, 1, _HISTORY_KEY)
    data = await store.async_load() or {}
    ledgers = list(data.get("ledgers", []))
    if str(path) not in ledgers:
        ledgers.append(str(path))
        await store.async_save({"ledgers": ledgers})


class ThreePhaseFlow(RepairsFlow):
    """Set the charger's electrical connection to three phases (then the entry reloads)."""

    def __init__(self, entry_id: str, charger_id: str, charger_name: str) -> None:
        self.entry_id = entry_id
        self.charger_id = charger_id
        self.charger_name = charger_name

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Confirm."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Store three phases in the charger's data."""
        if user_input is None:
            return self.async_show_form(
                step_id="confirm",
                data_schema=vol.Schema({}),
                description_placeholders={"charger": self.charger_name},
            )
        entry = self.hass.config_entries.async_get_entry(self.entry_id)
        subentry = entry.subentries.get(self.charger_id) if entry is not None else None
        if entry is None or subentry is None:
            return self.async_abort(reason="charger_gone")
        self.hass.config_entries.async_update_subentry(
            entry, subentry, data={**subentry.data, CONF_PHASES: 3}
        )
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The fix flow of a fixable issue."""
    assert data is not None
    assert issue_id.startswith(THREE_PHASE)
    entry = hass.config_entries.async_get_entry(str(data["entry_id"]))
    charger_id = str(data["charger_id"])
    subentry = entry.subentries.get(charger_id) if entry is not None else None
    name = subentry.title if subentry is not None else charger_id
    return ThreePhaseFlow(str(data["entry_id"]), charger_id, name)
