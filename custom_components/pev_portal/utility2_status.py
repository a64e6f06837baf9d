"""The 2.0b link's TELEMETRY_STATUS: each requested vehicle's status from what the charger
shows, queued in the crash-safe outbox on change (or when the VTN asks) and sent from it.

One outbox row per vehicle (``status2:<PEV ID>``) holds the newest status: a status queued
while an older one is on its way is a new version (sent next); each version is sent once
unless the process dies between the VTN's answer and the acknowledgement's write.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from homeassistant.util import dt as dt_util

from .io.store import LedgerStore
from .openadr2.status import ResourceStatus, put_statuses, status_report
from .openadr2.transport import IdentityRefused, Oadr2Error, VtnRefused
from .utility_outbox import backoff

if TYPE_CHECKING:
    from .utility2 import Oadr2Link

KIND_STATUS2: Final = "status2"
NO_REQUEST_WAIT: Final = timedelta(minutes=5)
"""A report the VTN has not asked for (yet) is tried again after this."""


def resource_status(link: Oadr2Link, pev_id: str) -> ResourceStatus:
    """The vehicle's status as the charger shows it: online while plugged in at a
    charger that is available, manually overridden while the user opts out of an
    active event, the charger's load-control limit (kW) when one is in force."""
    runtime = next(
        (
            r
            for r in link.premise.chargers.values()
            if r.session is not None and r.session.pev_id == pev_id
        ),
        None,
    )
    opted_out = link.events_view.opted_out if link.events_view is not None else set()
    override = any(
        e.event_id in opted_out and not e.over and not e.mandatory
        for e in link.book.events.values()
    )
    if runtime is None:
        return ResourceStatus(online=False, manual_override=override)
    available = runtime.availability is None or runtime.availability[0]
    return ResourceStatus(bool(available), override, runtime.cap_kw)


async def queue_statuses(link: Oadr2Link, force: set[str] | frozenset[str] = frozenset()) -> bool:
    """Put each requested vehicle's status in the outbox when it changed (or is forced:
    the VTN asked for it); True when one was queued."""
    queued = False
    now = dt_util.utcnow()
    for pev_id in sorted(link.status_requests):
        status = link.resource_status(pev_id)
        if pev_id not in force and link._statuses.get(pev_id) == status:
            continue
        link._statuses[pev_id] = status
        key, body = f"{KIND_STATUS2}:{pev_id}", {"pev_id": pev_id, "at": now.isoformat()}
        body.update(status.as_body())

        def put(store: LedgerStore, key: str = key, body: dict[str, Any] = body) -> None:
            store.outbox_put(
                report_key=key,
                session_id="",
                event_id="",
                program_id="",
                report_name=f"status {body['pev_id']}",
                kind=KIND_STATUS2,
                body=body,
                now=now,
                premise_id=link.premise.premise_id,
            )  # a newer status leaves a refused older one's dead letter (outbox_put)

        await link.premise.store.call(put)
        queued = True
    if queued:
        await link._refresh_backlog()
    return queued


async def send_status(link: Oadr2Link, row: dict[str, Any]) -> bool:
    """Send one vehicle's newest status (a status queued while it was on its way is a
    new version: sent next). Returns False to stop the pump run."""
    assert link.client2 is not None
    key, version, body = row["report_key"], row["version"], row["body"]
    pev_id = str(body.get("pev_id"))
    request_id = link.status_requests.get(pev_id)
    if request_id is None:
        retry = dt_util.utcnow() + NO_REQUEST_WAIT
        reason = f"the VTN has not asked for {pev_id}'s status yet"
        await link.premise.store.call(
            partial(
                LedgerStore.outbox_fail,
                report_key=key,
                error=reason,
                next_attempt=retry,
                premise_id=link.premise.premise_id,
            )
        )
        return True
    statuses = {pev_id: ResourceStatus.from_body(body)}
    at = datetime.fromisoformat(str(body.get("at")))
    try:
        await link.client2.update_report(
            status_report(request_id, at, statuses), partial(put_statuses, statuses=statuses)
        )
    except VtnRefused as err:
        if isinstance(err, IdentityRefused):  # the VEN is refused, not this status: kept
            await link._async_retry_later(key, err, backoff(row["attempts"], link._rng))
            return False
        await link._async_dead_letter(row, str(err))
        return True
    except Oadr2Error as err:
        await link._async_retry_later(key, err, backoff(row["attempts"], link._rng))
        return False
    now = dt_util.utcnow()
    premise_id = link.premise.premise_id
    await link.premise.store.call(lambda s: s.outbox_ack(key, version, None, now, premise_id))
    link._succeeded()
    return True
