"""Energy delivered while Home Assistant was down, when the charger's transaction vouches for it.

A session metered on the charger's own register (lbbrhzn/ocpp's ``Energy Active Import
Register``) resumes after a restart with the ledger's last reading from before it. The charger's
integration restores the register's old value at the start: fed to the ledger it would say
"no energy" for the offline minutes (OK), and the charger's first new reading would then be a
jump of all the offline energy within seconds (not billed). So, while the resumed session's
offline span is undecided (:class:`~.runtime.OfflineSpan`):

* a reading equal to the last one before the restart is the restored value: no news, held;
* the first changed reading is held until the charger's transaction registers decide:

  - vouched when the transaction running is the one from before the restart (same
    transaction ID; on OCPP 1.6 the same start), the register rose by no more than the
    charger's maximum power over the time since the last reading, and the transaction's own
    figure (its meterStart plus its energy, as shown) has reached the held reading (within
    1 Wh + 0.5 %). The offline energy is then spread over the offline intervals as
    ``ESTIMATED`` (a ``gap`` anomaly on the session), never OK;
  - refused when there is no such witness: no transaction registers, another transaction (or
    none running), an increase above the maximum power, a register going backwards, or a
    transaction figure that is not a number. The readings are then fed as they came (the
    restored one first): the offline energy is a jump, flagged and not billed, as before;
  - undecided while the transaction's sensors have not caught up (they are written after the
    register): decided on their next change, at the next reading (undecided is refused), or
    at unplug.

Called by :mod:`.sessions` only.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from .const import EDGE_TOLERANCE_KWH, EDGE_TOLERANCE_RATIO
from .core.metering import Interval, IntervalLedger, MeterReading
from .core.session import ChargingSession
from .runtime import ChargerRuntime, OfflineSpan
from .session_edges import meter_is_register

_LOGGER = logging.getLogger(__name__)

_SAME_KWH = 1e-6


def note_restart(runtime: ChargerRuntime, session: ChargingSession) -> None:
    """A session resumed at start-up: its offline span is open when its meter is the charger's
    register and the session knows the transaction it was in (by ID or start)."""
    runtime.offline = None
    ledger = runtime.ledger
    last = ledger.last_reading if ledger is not None else None
    if last is None or not session.transactions or not meter_is_register(runtime):
        return
    entry = session.transactions[-1]
    key = (entry.get("transaction_id"), entry.get("started_at"))
    if key == (None, None):
        return
    runtime.offline = OfflineSpan(last, key)


def add_reading(
    runtime: ChargerRuntime,
    session: ChargingSession,
    ledger: IntervalLedger,
    at: datetime,
    kwh: float,
    meter_id: str,
    since: datetime | None = None,
) -> list[Interval]:
    """A meter reading into the ledger, or held while the offline span is undecided; returns
    the intervals closed. ``since``: the meter's previous reading, when the ledger sampled the
    register in between (the ledger's JUMP rule)."""
    span = runtime.offline
    if span is None or not 0.0 <= kwh < math.inf:
        # a bad value: the ledger's error, span kept
        return ledger.add(at, kwh, meter_id, since=since)
    reading = MeterReading(at, kwh, meter_id)
    if span.held is not None:
        if at <= span.held.at:
            span.held = reading  # a later value in the same second
            return []
        # A newer reading: the witness had its time (undecided is refused).
        closed = _settle(runtime, ledger, span, _witness(runtime, session, span) is True)
        return closed + ledger.add(at, kwh, meter_id)
    if abs(kwh - span.last.kwh) <= _SAME_KWH and meter_id == span.last.meter_id:
        if span.restored is None:
            span.restored = reading  # the value restored at the start: no news
        return []
    span.held = reading
    verdict = _witness(runtime, session, span)
    if verdict is None:
        return []
    return _settle(runtime, ledger, span, verdict)


def settle(runtime: ChargerRuntime, session: ChargingSession, *, final: bool) -> list[Interval]:
    """The charger's registers changed (or, ``final``, the session ends): decide the held
    reading if they now can; returns the intervals closed."""
    span, ledger = runtime.offline, runtime.ledger
    if span is None or ledger is None:
        return []
    if span.held is None:
        if not final:
            return []
        runtime.offline = None
        if span.restored is None:
            return []
        return ledger.add(span.restored.at, span.restored.kwh, span.restored.meter_id)
    verdict = _witness(runtime, session, span)
    if verdict is None and not final:
        return []
    return _settle(runtime, ledger, span, verdict is True)


def _settle(
    runtime: ChargerRuntime, ledger: IntervalLedger, span: OfflineSpan, vouched: bool
) -> list[Interval]:
    held = span.held
    assert held is not None
    runtime.offline = None
    if vouched:
        _LOGGER.info(
            "%s: %.4f kWh delivered while Home Assistant was down, vouched for by the charger's "
            "transaction, billed as estimated",
            runtime.name,
            held.kwh - span.last.kwh,
        )
        return ledger.add(held.at, held.kwh, held.meter_id, estimated=True)
    closed: list[Interval] = []
    if span.restored is not None:
        restored = span.restored
        closed = ledger.add(restored.at, restored.kwh, restored.meter_id)
    return closed + ledger.add(held.at, held.kwh, held.meter_id)


def _witness(runtime: ChargerRuntime, session: ChargingSession, span: OfflineSpan) -> bool | None:
    """Whether the charger's transaction vouches for the held reading (None: not yet known)."""
    held = span.held
    assert held is not None
    increase = held.kwh - span.last.kwh
    hours = (held.at - span.last.at).total_seconds() / 3600.0
    if increase <= 0.0 or hours <= 0.0:
        return False
    max_kw = runtime.adapter.max_power_kw()
    if not math.isfinite(max_kw) or increase > max_kw * hours + _SAME_KWH:
        return False  # more than the charger can deliver in that time
    found = runtime.adapter.transaction()
    if found is None or found.running is False:
        return False
    if found.running is None:
        return None  # the transaction's sensors not yet known again
    transaction_id, started = span.transaction
    if transaction_id is not None:
        if found.transaction_id != transaction_id:
            return False
    elif found.started_at is None or found.started_at.isoformat() != started:
        return False
    start, energy = found.meter_start_kwh, found.energy_kwh
    if start is None or energy is None:
        return None
    if not (math.isfinite(start) and math.isfinite(energy)):
        return False
    first = float(session.transactions[0]["meter_start_kwh"])
    if held.kwh < first - _SAME_KWH:
        return False  # the register below the transaction's start
    tolerance = EDGE_TOLERANCE_KWH + EDGE_TOLERANCE_RATIO * increase
    if start + energy < held.kwh - tolerance:
        return None  # the transaction's figure not yet caught up with the register
    return True
