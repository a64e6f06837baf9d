"""A session's first and last interval from the charger's own transaction registers.

Some charger integrations show what the charger itself counted for a transaction (lbbrhzn/ocpp:
``Energy Meter Start`` from StartTransaction's meterStart, ``Energy Session`` =
meterStop - meterStart from StopTransaction, and ``Transaction Id``, the start's epoch second,
0 after the stop; see docs/chargers.md). Their register sensor misses the energy before the
first and after the last sampled reading of a transaction (up to one sample interval per edge).
When the session's meter is that register:

* at plug-in the session's baseline is the transaction's meterStart, not the register's last
  reading from before (which may still miss the end of the previous transaction): one
  session's energy is never carried into the next;
* at unplug the last interval is closed with the transaction's final energy (meterStart plus
  the transaction's energy).

At unplug the meter's energy is reconciled with the transactions' (whatever the meter is): a
difference beyond 1 Wh plus 0.5 % is an anomaly on the session and a log line.

The functions here are called by :mod:`.sessions` only.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from .adapters import Transaction
from .const import EDGE_TOLERANCE_KWH, EDGE_TOLERANCE_RATIO, VEHICLE_ID_WINDOW_SECONDS
from .core.metering import Anomaly, AnomalyKind, Interval, IntervalLedger
from .core.session import ChargingSession
from .runtime import ChargerRuntime

_LOGGER = logging.getLogger(__name__)

# Register values closer than this are the same (sensor rounding: the emulation's 3 decimals).
_SAME_KWH = 1e-6


def meter_is_register(runtime: ChargerRuntime) -> bool:
    """Whether the session's meter is the charger's own energy register."""
    register = runtime.adapter.register_entity()
    return register is not None and getattr(runtime.meter, "entity_id", None) == register


def fresh_vehicle_id(runtime: ChargerRuntime, since: datetime) -> str | None:
    """The charger's vehicle ID if set or changed since ``since`` (the plug-in) or the
    running transaction's start, less :data:`VEHICLE_ID_WINDOW_SECONDS` (Home Assistant's
    ``last_changed``; a live source always counts); else None: a stale ID (lbbrhzn/ocpp's
    Id tag keeps the last card) is never used."""
    adapter = runtime.adapter
    reported = adapter.vehicle_id()
    if reported is None:
        return None
    changed = adapter.vehicle_id_changed_at()
    if changed is None:
        return reported
    transaction = adapter.transaction()
    if transaction is not None and transaction.running and transaction.started_at:
        since = min(since, transaction.started_at)  # the ID of the transaction running
    if changed >= since - timedelta(seconds=VEHICLE_ID_WINDOW_SECONDS):
        return reported
    return None


def follow_transaction(
    runtime: ChargerRuntime, session: ChargingSession, new_ledger: IntervalLedger
) -> bool:
    """Note a transaction that started in this session (its start and meterStart); the first
    one's meterStart becomes the ledger's baseline when nothing was closed yet. ``new_ledger``
    is an empty ledger for the session, used when the baseline is replaced. True when the
    session changed (to be saved)."""
    found = runtime.adapter.transaction()
    if found is None or not found.running or found.meter_start_kwh is None:
        return False
    started = found.started_at.isoformat() if found.started_at is not None else None
    window = timedelta(seconds=VEHICLE_ID_WINDOW_SECONDS)
    if found.started_at is not None and found.started_at < session.started_at - window:
        return False  # a transaction older than the plug-in: not this session's edges
    entry: dict[str, Any] = {"started_at": started, "meter_start_kwh": found.meter_start_kwh}
    if found.transaction_id is not None:
        entry["transaction_id"] = found.transaction_id  # OCPP 2.0.1: no start time in the ID
    transactions = session.transactions
    if transactions and transactions[-1] == entry:
        return False
    last = transactions[-1] if transactions else {}
    same_id = (
        found.transaction_id is not None and last.get("transaction_id") == found.transaction_id
    )
    if same_id and found.meter_start_kwh >= float(last["meter_start_kwh"]) - _SAME_KWH:
        # The integration restarted and took a later reading for the same transaction's
        # meterStart (lbbrhzn/ocpp on 2.0.1): the first one is the transaction's; the one
        # shown is kept to read the transaction's end against.
        if last.get("shown_meter_start_kwh", last["meter_start_kwh"]) == found.meter_start_kwh:
            return False
        last["shown_meter_start_kwh"] = found.meter_start_kwh
        return True
    if (started is not None and last.get("started_at") == started) or same_id:
        # The same transaction, its meterStart written after its ID (the sensors are written
        # one by one): the later value is the transaction's.
        transactions[-1] = entry
    else:
        transactions.append(entry)
    if len(transactions) == 1 and meter_is_register(runtime):
        _rebase(runtime, session, found.meter_start_kwh, new_ledger)
    return True


def _rebase(
    runtime: ChargerRuntime, session: ChargingSession, start_kwh: float, ledger: IntervalLedger
) -> None:
    """The transaction's meterStart as the session's baseline (at the plug-in), while no
    interval is closed; a reading since the plug-in is kept."""
    old = runtime.ledger
    if old is None or runtime.intervals:
        return
    last = old.last_reading
    ledger.pev_id = session.pev_id
    meter_id = runtime.meter.meter_id
    ledger.add(session.started_at.replace(microsecond=0), start_kwh, meter_id)
    if last is not None and last.at > session.started_at and last.kwh >= start_kwh:
        ledger.add(last.at, last.kwh, last.meter_id or meter_id)
    runtime.ledger = ledger
    session.meter_kwh = ledger.total_kwh


def close_transaction(
    runtime: ChargerRuntime, session: ChargingSession, ledger: IntervalLedger, now: datetime
) -> tuple[datetime, list[Interval]]:
    """At unplug, with the meter on the charger's register: the transaction's final register
    (meterStart + its energy) as the session's last reading. Returns the time to close the
    ledger at and the intervals that reading closed."""
    final = _final_register(runtime, session)
    last = ledger.last_reading
    if final is None or last is None or not meter_is_register(runtime):
        return now, []
    if final <= last.kwh + _SAME_KWH:
        return now, []
    at = max(now.replace(microsecond=0), last.at + timedelta(seconds=1))
    return at, ledger.add(at, final, last.meter_id or runtime.meter.meter_id)


def _final_register(runtime: ChargerRuntime, session: ChargingSession) -> float | None:
    """The register at the end of the session's last transaction (None when not known)."""
    if not session.transactions:
        return None
    found: Transaction | None = runtime.adapter.transaction()
    if found is None or found.energy_kwh is None:
        return None
    latest = session.transactions[-1]
    start = float(latest.get("shown_meter_start_kwh", latest["meter_start_kwh"]))
    if found.meter_start_kwh is not None and abs(found.meter_start_kwh - start) > _SAME_KWH:
        return None  # the registers show another transaction than the session's last
    return start + found.energy_kwh


def reconcile(runtime: ChargerRuntime, session: ChargingSession) -> Anomaly | None:
    """At unplug: the session's meter energy against the charger's transaction energy (from
    the first transaction's meterStart to the last one's end). Kept on the session
    (``energy_check``); beyond the tolerance an anomaly and a warning."""
    final = _final_register(runtime, session)
    if final is None:
        return None
    transaction_kwh = final - float(session.transactions[0]["meter_start_kwh"])
    difference = session.meter_kwh - transaction_kwh
    tolerance = EDGE_TOLERANCE_KWH + EDGE_TOLERANCE_RATIO * abs(transaction_kwh)
    flagged = abs(difference) > tolerance
    session.energy_check = {
        "meter_kwh": round(session.meter_kwh, 6),
        "transaction_kwh": round(transaction_kwh, 6),
        "difference_kwh": round(difference, 6),
        "tolerance_kwh": round(tolerance, 6),
        "transactions": len(session.transactions),
        "flagged": flagged,
    }
    if not flagged:
        return None
    message = (
        f"session energy {session.meter_kwh:.4f} kWh by the meter, {transaction_kwh:.4f} kWh "
        f"by the charger's transactions: {difference * 1000:+.1f} Wh "
        f"(tolerance {tolerance * 1000:.1f} Wh)"
    )
    _LOGGER.warning("Session %s on %s: %s", session.session_id, runtime.name, message)
    at = session.ended_at or session.started_at
    return Anomaly(
        AnomalyKind.TRANSACTION_MISMATCH, at, transaction_kwh, session.meter_kwh, message
    )
