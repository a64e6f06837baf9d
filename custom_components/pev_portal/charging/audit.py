"""The audit trail of every charger command, and its verification against what was measured.

Every command (source ``plan``, ``event`` or ``user``) is kept with the power measured by the
charger afterwards: a command is obeyed once the power is at or below the commanded power (plus
a tolerance); still above it :data:`VERIFY_SECONDS` later, the charger ignored it and a repairs
issue is raised (cleared by the next obeyed command). Without a power sensor the meter's
register tells (:func:`meter_power_kw`). A command that could not be sent at all is kept too,
with its error (``obeyed`` false, ``measured_by`` ``"failed"``).

A discharge command (power feed) is kept with a negative current and a negative target power
(the discharge current and the power to feed back: the sign is its direction, in the trail as in
its export). It is obeyed once the charger's power reads below zero (more than
:data:`FEED_MIN_KW` fed back); still not within :data:`VERIFY_SECONDS`, it was ignored (its own
repairs issue text). An import meter cannot show a feed: without a power sensor only a draw on
the meter disproves one, else the command is left unverified.

The trail is kept in memory while the session runs and with the session in the store's
``commands`` table (written at each command and each verification; read back for the open
sessions after a restart).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from ..adapters import EntityCharger
from ..const import (
    DOMAIN,
    ISSUE_IGNORES_COMMANDS,
    ISSUE_IGNORES_DISCHARGE,
    METER_MIN_SPAN_SECONDS,
    METER_QUIET_MAX_SECONDS,
    METER_SETTLE_SECONDS,
    METER_UNVERIFIED_SECONDS,
    METER_VERIFY_SECONDS,
    VERIFY_SECONDS,
    VERIFY_TOLERANCE_KW,
)
from ..core.session import ChargingSession
from ..ports import Premise
from ..repairs import async_three_phase_issue
from ..runtime import ChargerRuntime

if TYPE_CHECKING:
    from ..io.store import LedgerStore

_LOGGER = logging.getLogger(__name__)

MEASURED_FAILED = "failed"  # the command could not be sent (``error`` says why)
# A feed is seen once the charger's power reads below minus this (kW): above a sensor's noise.
FEED_MIN_KW = 0.1

type IgnoredListener = Callable[[ChargerRuntime, dict[str, Any]], None]


def meter_power_kw(
    runtime: ChargerRuntime, since: datetime, now: datetime, *, quiet_is_idle: bool = True
) -> float | None:
    """The power the meter's register shows since ``since`` (plus a settling time).

    Its slope over the readings after that, once they span METER_MIN_SPAN_SECONDS. A
    register that has not moved twice by then is idle (0 kW) once METER_VERIFY_SECONDS
    have passed, or three of the meter's usual reading intervals if it reports more slowly
    (a meter reports when its register moves, or on its own period). None while it is too
    early to tell, or across a meter change or reset (and for a quiet register unless
    ``quiet_is_idle``: a slowly reporting meter is not an idle charger when it matters).
    """
    if not runtime.readings:
        return None
    start = since + timedelta(seconds=METER_SETTLE_SECONDS)
    meter_id = runtime.readings[-1][2]
    mine = [(at, kwh) for at, kwh, mid in runtime.readings if mid == meter_id]
    points = [(at, kwh) for at, kwh in mine if at >= start]
    if len(points) >= 2:
        (t0, k0), (t1, k1) = points[0], points[-1]
        span = (t1 - t0).total_seconds()
        if k1 < k0:
            return None  # a reset or rollover: not a measurement
        if span >= METER_MIN_SPAN_SECONDS:
            return (k1 - k0) * 3600.0 / span
    before = [at for at, _ in mine if at < start][-9:]
    gaps = sorted((b - a).total_seconds() for a, b in pairwise(before))
    usual = gaps[len(gaps) // 2] if gaps else 0.0
    quiet_after = min(max(METER_VERIFY_SECONDS, 3 * usual), METER_QUIET_MAX_SECONDS)
    if quiet_is_idle and len(points) < 2 and (now - start).total_seconds() >= quiet_after:
        return 0.0
    return None


class CommandAudit:
    """Each session's command trail, verified against the measured power."""

    def __init__(self, premise: Premise) -> None:
        self.premise = premise
        self.trails: dict[str, list[dict[str, Any]]] = {}
        self.changes = 0  # counts the trail's changes (commands and their verification)
        # Told when a charger ignores a command (notifications, the utility's ERROR state).
        self.on_ignored: list[IgnoredListener] = []
        # Told when a command was ignored and should be sent again another way.
        self.on_retry: list[Callable[[ChargerRuntime], None]] = []

    async def async_load(self) -> None:
        """The trails of the sessions still open (after a restart)."""
        premise_id = self.premise.premise_id
        self.trails = await self.premise.store.call(lambda s: s.open_commands(premise_id))

    def record(
        self,
        runtime: ChargerRuntime,
        source: str,
        enabled: bool,
        amps: float,
        now: datetime | None = None,
        *,
        error: str | None = None,
        discharge_a: int = 0,
    ) -> None:
        """Add a command to the session's trail (verified a few seconds later); a discharge
        (``discharge_a`` > 0) with its current and power negative."""
        session = runtime.session
        if session is None:
            return
        adapter = runtime.adapter
        target_kw = adapter.kw_at(amps) if enabled else 0.0
        if enabled and amps < adapter.min_current_a:
            target_kw = 0.0
        if discharge_a > 0:
            amps, target_kw = -discharge_a, -adapter.kw_at(discharge_a)
        self.trails.setdefault(session.session_id, []).append(
            {
                "at": (now or dt_util.utcnow()).isoformat(),
                "source": source,
                "enabled": enabled,
                "current_a": amps if enabled or discharge_a > 0 else 0,
                "via": adapter.last_via,
                "target_kw": round(target_kw, 3),
                "measured_kw": None,
                "obeyed": False if error is not None else None,
                "response_s": None,
                "escalated_to": None,
                "measured_by": MEASURED_FAILED if error is not None else None,
                "error": error,
            }
        )
        self._save(session.session_id)

    def _save(self, session_id: str) -> None:
        """Store the session's trail (a copy, written on the store's thread)."""
        self.changes += 1  # what the entities show of the trail changed
        frozen = [dict(c) for c in self.trails.get(session_id, ())]
        self.premise.submit(partial(_save_audit, session_id, frozen), "command audit trail")

    def forget(self, session: ChargingSession) -> None:
        """The session ended: its trail is in the store."""
        self.trails.pop(session.session_id, None)

    def trail(self, runtime: ChargerRuntime) -> list[dict[str, Any]]:
        """The active session's command audit trail."""
        session = runtime.session
        return list(self.trails.get(session.session_id, ())) if session is not None else []

    def last(self, session: ChargingSession) -> dict[str, Any] | None:
        """The session's last command."""
        trail = self.trails.get(session.session_id)
        return trail[-1] if trail else None

    def error_windows(
        self, session: ChargingSession, until: datetime
    ) -> list[tuple[datetime, datetime]]:
        """When the charger was ignoring commands: from each ignored command to the next obeyed
        one (or ``until``). A command that could not be sent is not the charger ignoring it."""
        windows: list[tuple[datetime, datetime]] = []
        since: datetime | None = None
        for command in self.trails.get(session.session_id, ()):
            at = datetime.fromisoformat(command["at"])
            if command.get("measured_by") == MEASURED_FAILED:
                continue
            if command["obeyed"] is False and command.get("escalated_to") is None:
                since = since or at
            elif command["obeyed"] is True and since is not None:
                windows.append((since, at))
                since = None
        if since is not None:
            windows.append((since, until))
        return windows

    def verify(self, chargers: list[ChargerRuntime], now: datetime) -> None:
        """Compare the measured power with each unverified command."""
        for runtime in chargers:
            session = runtime.session
            if session is None:
                continue
            trail = self.trails.get(session.session_id) or []
            pending = [c for c in trail if c["obeyed"] is None and c.get("measured_by") != "none"]
            if pending and self._verify(runtime, pending, now):
                self._save(session.session_id)

    def _verify(
        self, runtime: ChargerRuntime, pending: list[dict[str, Any]], now: datetime
    ) -> bool:
        charger_kw = runtime.adapter.power_kw()
        changed = False
        for command in pending:
            at = datetime.fromisoformat(command["at"])
            age = (now - at).total_seconds()
            if age <= 0:
                continue
            feeding = command["target_kw"] < 0
            if charger_kw is not None:
                measured, measured_by, deadline = charger_kw, "charger", VERIFY_SECONDS
            else:
                # No power sensor (or it is unavailable): the meter's register tells (for a
                # feed only a draw: an import register does not move while feeding).
                meter_kw = meter_power_kw(runtime, at, now)
                if meter_kw is None or (feeding and meter_kw <= VERIFY_TOLERANCE_KW):
                    if age >= METER_UNVERIFIED_SECONDS:
                        command["measured_by"] = "none"  # nothing measures this charger
                        changed = True
                    continue
                # The meter's answer is final: no deadline to wait for.
                measured, measured_by, deadline = round(meter_kw, 3), "meter", 0
            limit = command["target_kw"] * 1.05 + VERIFY_TOLERANCE_KW
            if feeding:
                limit = -FEED_MIN_KW
            if measured <= limit:
                command.update(
                    obeyed=True,
                    measured_kw=measured,
                    measured_by=measured_by,
                    response_s=round(age, 1),
                )
                changed = True
                self._issue(runtime, None)
            elif age >= deadline:
                command.update(obeyed=False, measured_kw=measured, measured_by=measured_by)
                changed = True
                self._ignored(runtime, command, measured)
        return changed

    def _ignored(self, runtime: ChargerRuntime, command: dict[str, Any], measured: float) -> None:
        if self._three_phase(runtime, command, measured):
            # Not disobedience: the amps were right, the phases wrong. Commanded again as
            # three-phase at once (see _three_phase).
            command["escalated_to"] = "three_phase"
            self._retry(runtime)
            return
        if (
            not command["enabled"]
            and command["target_kw"] >= 0
            and (via := runtime.adapter.escalate_stop())
        ):
            # The pause was ignored: the preset's next way of pausing is tried.
            command["escalated_to"] = via
            self._retry(runtime)
            return
        _LOGGER.warning(
            "%s ignored a command (%s: %.2f kW allowed, %s kW measured)",
            runtime.name,
            command["source"],
            command["target_kw"],
            measured,
        )
        self._issue(runtime, command)

    def _retry(self, runtime: ChargerRuntime) -> None:
        for listener in self.on_retry:
            listener(runtime)

    def _three_phase(
        self, runtime: ChargerRuntime, command: dict[str, Any], measured: float
    ) -> bool:
        """A charger set up as one phase drawing three times the power of the current it was
        given is a three-phase charger: treat it as one from now on and ask the user to fix it.

        Only a current limit above the charger's minimum tells this (a pause does not), and
        only a ratio near 3 (2.6-3.4). A one-phase charger ignoring a limit of a third of its
        power also draws three times it, at its full power: a draw near its full one-phase power
        (within 10 %) is therefore not taken for three phases, unless it is more than one phase
        can carry.
        """
        adapter = runtime.adapter
        if (
            not isinstance(adapter, EntityCharger)
            or adapter.phases != 1
            or not command["enabled"]
            or command["target_kw"] <= 0
            or not 2.6 <= measured / command["target_kw"] <= 3.4
        ):
            return False
        full = adapter.max_power_kw()
        if abs(measured - full) <= 0.1 * full:
            return False  # as likely a one-phase charger ignoring the limit at full power
        adapter.phases = 3
        _LOGGER.warning(
            "%s draws %.2f kW at %s A: it is three-phase, not one-phase as set up; treated as "
            "three-phase until its electrical connection is corrected",
            runtime.name,
            measured,
            command["current_a"],
        )
        async_three_phase_issue(
            self.premise.hass, self.premise.entry_id, runtime.charger_id, runtime.name
        )
        return True

    def _issue(self, runtime: ChargerRuntime, command: dict[str, Any] | None) -> None:
        hass = self.premise.hass
        issue_id = f"{ISSUE_IGNORES_COMMANDS}_{self.premise.entry_id}_{runtime.charger_id}"
        if command is None:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
            return
        first = not ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
        for listener in self.on_ignored:
            listener(runtime, {**command, "first": first})
        feeding = command["target_kw"] < 0  # an ignored discharge: its own text, same issue
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_IGNORES_DISCHARGE if feeding else ISSUE_IGNORES_COMMANDS,
            translation_placeholders={
                "charger": runtime.name,
                "target": f"{abs(command['target_kw']):.2f}",
                "measured": f"{command['measured_kw'] or 0:.2f}",
            },
        )


def _save_audit(session_id: str, trail: list[dict[str, Any]], store: LedgerStore) -> None:
    """Store a session's command audit trail (on the store's thread)."""
    store.save_commands(session_id, trail)
