"""A premise's rows in the store every config entry shares (see :mod:`.io.premises`).

At an entry's start (:func:`async_claim`): the entry takes its rows along when its premise ID
was changed, and claims the rows stored before they carried a premise when it is the only
entry of the integration. When the user deletes an entry (:func:`async_forget`, from
``async_remove_entry``): its local events, enrollments and settings are deleted, so they
reach no other premise; its sessions, intervals, commands, settlements and reports stay
(billing records), found again when the same premise ID is added back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant

from .const import CONF_PREMISE_ID, DOMAIN, STORE_FILENAME, SUBENTRY_CHARGER
from .io.ledger import BUSY_TIMEOUT_S
from .io.store import AsyncLedgerStore, LedgerStore

_LOGGER = logging.getLogger(__name__)

FORGET_GRACE_S = 10.0  # how long deleting a premise retries a store it cannot write


async def async_claim(hass: HomeAssistant, entry: ConfigEntry, store: AsyncLedgerStore) -> None:
    """Bring the entry's rows to its premise ID (see the module's docstring)."""
    premise_id = entry.data[CONF_PREMISE_ID]
    sole = len(hass.config_entries.async_entries(DOMAIN, include_ignore=False)) == 1
    found = await store.call(
        partial(
            LedgerStore.claim_premise, entry_id=entry.entry_id, premise_id=premise_id, sole=sole
        )
    )
    if found["renamed_from"]:
        _LOGGER.info(
            "Premise ID changed from %s to %s: its local events, settings and reports follow",
            found["renamed_from"],
            premise_id,
        )
    if found["claimed"]:
        _LOGGER.info(
            "%d stored row(s) from before premises were kept apart now belong to %s",
            found["claimed"],
            premise_id,
        )
    if found["unscoped"]:
        _LOGGER.warning(
            "%d stored row(s) from before premises were kept apart belong to no premise (the "
            "store has several); they are kept and not used",
            found["unscoped"],
        )


async def async_forget(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """The entry is deleted: its local events, enrollments and settings go, its records stay.

    A store that cannot be written (locked, read-only, full) is retried for
    :data:`FORGET_GRACE_S`, then given up with an error: the rows stay under the deleted
    premise's ID, read by no other premise. Deleting the entry never fails or hangs on it.
    """
    premise_id = entry.data[CONF_PREMISE_ID]
    store = AsyncLedgerStore(
        Path(hass.config.path(STORE_FILENAME)),
        close_grace_s=FORGET_GRACE_S,
        busy_timeout_s=min(FORGET_GRACE_S, BUSY_TIMEOUT_S),
    )
    try:
        await store.open()
        written = store.submit(
            partial(
                LedgerStore.forget_premise,
                entry_id=entry.entry_id,
                premise_id=premise_id,
                charger_ids=_charger_ids(entry.subentries),
            )
        )
        await store.close()  # waits for the write (retried for the grace time)
        removed = await written
    except Exception as err:
        await store.close()
        _LOGGER.error(
            "Premise %s deleted, but its local events and settings could not be removed from "
            "the store (%s); they stay under its premise ID, used by no other premise",
            premise_id,
            err,
        )
        return
    _LOGGER.info(
        "Premise %s deleted: %s removed; its sessions and reports are kept",
        premise_id,
        ", ".join(f"{count} {kind}" for kind, count in removed.items()),
    )


def _charger_ids(subentries: Mapping[str, ConfigSubentry]) -> list[str]:
    return [s.subentry_id for s in subentries.values() if s.subentry_type == SUBENTRY_CHARGER]
