"""The one owner of every charger command.

Every current limit, enable/disable, stop button or charge-rate service call that PEV Portal
sends to a charger goes through :meth:`ChargerController.async_apply`. It takes, per charger,
the *effective limit* (:class:`Target`: the smallest of the plan, the load-control limits in
force, the circuit's share and the user's choice, decided by :mod:`.planning`) and:

* sends nothing when the charger already has that command;
* applies the changes in a safe order: chargers being turned down before those being turned
  up, so a shared circuit never carries the sum of the old and the new;
* resumes a paused charger straight at its target current (the current first, then the
  switch/start), never through its maximum: at no instant is a charger allowed more than its
  effective limit;
* records a command's new state only once the charger accepted it. A command that fails is
  kept in the audit trail with its error, the recorded state is rolled back (the next pass
  sends the whole command again), it is retried with backoff (5 s doubling to 5 minutes), and
  after :data:`FAILURES_FOR_ISSUE` failures in a row a repair issue names the charger and the
  error (cleared by the next command that goes through); a *pause* the charger refuses (the
  command raises) moves on at once to the preset's next way of pausing
  (:meth:`~..adapters.ChargerAdapter.escalate_stop`; each refusal audited), and only when no
  way is left does it fail as above;
* finishes (or, at unload, cancels and audits as such) every command in flight before the
  store closes.

Power feed (V2H/V2G): a target's ``discharge_kw`` becomes the charger's discharge command
(:attr:`Command.discharge_a`, sent by :meth:`~..adapters.ChargerAdapter.async_set_discharge`).
A discharge lowers the premise's import, so it is ordered with the turn-downs; stopping a feed
comes before any charger's import is raised; a charger leaving a feed is first told to stop
feeding (which leaves it paused) and only then given its charge command. A charger whose
discharge state is not known (no command yet, a failed one) is told to stop feeding before it
is told to charge. A feed is stopped when its session ends and at unload (nothing watches the
car's floor then). A charger that cannot discharge (``adapter.can_discharge()`` False), or a
feed below the charger's least current, is never sent one: the target is taken as 0 kW
(paused), logged once per charger. Discharge commands are verified, rolled back, retried and
audited as any other (see :mod:`.audit`: the trail shows them with a negative current and
power).

Idle chargers on a shared circuit are parked at their minimum current (:meth:`async_park`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from homeassistant.core import CALLBACK_TYPE, HassJob, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from ..const import DOMAIN, ISSUE_COMMAND_FAILING
from ..core.session import PauseReason
from ..ports import Premise
from ..runtime import ChargerRuntime
from .audit import CommandAudit

_LOGGER = logging.getLogger(__name__)

SOURCE_PLAN = "plan"
SOURCE_EVENT = "event"
SOURCE_USER = "user"
SOURCE_FAILSAFE = "failsafe"  # the utility's fail-safe limit (the link is silent)

# A failed command is retried after 5 s, doubling to at most 5 minutes.
RETRY_BASE_S = 5.0
RETRY_MAX_S = 300.0
# Failures in a row after which a repair issue is raised.
FAILURES_FOR_ISSUE = 3


@dataclass(frozen=True, slots=True)
class Command:
    """What a charger was told: charging allowed, and at which current; or feeding back
    (``discharge_a`` > 0: the discharge current; ``enabled`` then True and ``amps`` 0)."""

    enabled: bool
    amps: int
    discharge_a: int = 0


# After a failed command the charger's state is not known: nothing equals it, so the next
# pass sends the whole command again.
UNKNOWN = Command(False, -1)
PAUSED = Command(False, 0)


@dataclass(frozen=True, slots=True)
class Target:
    """What a charger with a session is allowed now (decided by :mod:`.planning`)."""

    charger_id: str
    limit_kw: float  # the effective limit
    source: str  # plan | event | user | failsafe: what holds it there
    pause_reason: PauseReason | None = None  # why charging is stopped (limit below minimum)
    cap_kw: float | None = None  # the load-control limit in force (shown by the entities)
    force: bool = False  # a user's action: sent (and audited) even when nothing changes
    # Power feed: the power (kW, > 0) the charger is told to feed back now (then ``limit_kw``
    # is 0). Only ever set for a charger that can discharge (``adapter.can_discharge()``).
    discharge_kw: float = 0.0


class ChargerController:
    """Sends every charger command (see the module docstring)."""

    def __init__(self, premise: Premise, audit: CommandAudit) -> None:
        self.premise = premise
        self.audit = audit
        self.commanded: dict[str, Command] = {}
        self.parked: dict[str, int] = {}
        self.failures: dict[str, int] = {}
        self.errors: dict[str, str] = {}
        self.retry_at: dict[str, datetime] = {}  # a failed charger waits for its retry
        self.retry: Callable[[], None] | None = None  # asks for another pass (the planner's)
        self._retry_unsub: CALLBACK_TYPE | None = None
        self._lock = asyncio.Lock()
        self._in_flight: asyncio.Task[None] | None = None
        self._closed = False
        self._no_feed_logged: set[str] = set()  # chargers told once why they are not fed

    # -- what a charger is told -----------------------------------------------------------

    @staticmethod
    def command_for(runtime: ChargerRuntime, limit_kw: float, discharge_kw: float = 0.0) -> Command:
        """The command that allows at most ``limit_kw`` (stopped below the minimum), or that
        feeds back ``discharge_kw`` (at the charger's current steps, at most its discharge
        range; stopped when it cannot discharge or the feed is below its least current)."""
        adapter = runtime.adapter
        if discharge_kw > 0:
            if not adapter.can_discharge():
                return PAUSED
            amps = min(adapter.amps_for(discharge_kw), adapter.amps_for(adapter.max_discharge_kw()))
            return Command(True, 0, amps) if amps >= max(1.0, adapter.min_current_a) else PAUSED
        if limit_kw <= 0 or limit_kw < adapter.min_power_kw() - 1e-6:
            return PAUSED
        return Command(True, min(adapter.amps_for(limit_kw), int(adapter.max_current_a)))

    def known(self, runtime: ChargerRuntime) -> Command:
        """What the charger does without a command from here: what it was last told, else
        parked at its minimum (idle on a shared circuit), else full current (not known for a
        charger that can discharge: it may be feeding)."""
        if (command := self.commanded.get(runtime.charger_id)) is not None:
            return command
        if (parked := self.parked.get(runtime.charger_id)) is not None:
            return Command(True, parked)
        if runtime.adapter.can_discharge():
            return UNKNOWN
        return Command(True, int(runtime.adapter.max_current_a))

    def allowed_kw(self, runtime: ChargerRuntime) -> float:
        """The power the charger is allowed now (its full power when not known)."""
        command = self.known(runtime)
        if command == UNKNOWN:
            return runtime.adapter.max_power_kw()
        return runtime.adapter.kw_at(command.amps) if command.enabled else 0.0

    # -- applying -------------------------------------------------------------------------

    async def async_apply(self, targets: Sequence[Target], now: datetime) -> dict[str, str]:
        """Apply the targets, turning down before turning up; the errors by charger ID."""
        if self._closed:
            return {}
        chargers = self.premise.chargers

        def order(target: Target) -> tuple[int, float]:
            """Turn-downs of the premise's import (a feed started or raised among them) first,
            then feeds being stopped or lowered, then the rest; each by the change of the
            charger's net power (its import less its feed)."""
            runtime = chargers[target.charger_id]
            feeding = runtime.adapter.kw_at(self.known(runtime).discharge_a)
            change = (target.limit_kw - target.discharge_kw) - (self.allowed_kw(runtime) - feeding)
            if change < 0:
                return 0, change
            if feeding > 0 and target.discharge_kw < feeding:
                return 1, change
            return 2, change

        errors: dict[str, str] = {}
        async with self._lock:
            for target in sorted(targets, key=order):
                runtime = chargers.get(target.charger_id)
                if runtime is None or runtime.session is None or self._closed:
                    continue
                task = asyncio.current_task()
                self._in_flight = task
                try:
                    error = await self._async_send(runtime, target, now)
                finally:
                    self._in_flight = None
                if error is not None:
                    errors[target.charger_id] = error
        return errors

    async def _async_send(
        self, runtime: ChargerRuntime, target: Target, now: datetime
    ) -> str | None:
        session, adapter = runtime.session, runtime.adapter
        assert session is not None
        runtime.cap_kw = target.cap_kw
        target = self._feedable(runtime, target)
        desired = self.command_for(runtime, target.limit_kw, target.discharge_kw)
        last = self.known(runtime)
        if desired == last and not target.force:
            self._settle(runtime, target, now)
            return None
        waiting = self.retry_at.get(runtime.charger_id)
        if waiting is not None and now < waiting and not target.force:
            return self.errors.get(runtime.charger_id)  # backing off: the retry timer sends it
        source = target.source
        previous = self.audit.last(session)
        held = (SOURCE_EVENT, SOURCE_FAILSAFE)
        if source == SOURCE_PLAN and previous is not None and previous["source"] in held:
            source = previous["source"]  # the end of a load-control or fail-safe limit
        _LOGGER.debug(
            "%s: %s command enabled=%s current=%s A discharge=%s A",
            runtime.name,
            source,
            *_parts(desired),
        )
        # Leaving a feed (or not knowing whether it feeds): told to stop feeding first, which
        # leaves it paused; then the charge command as from a pause.
        stop_feed = desired.discharge_a == 0 and (
            last.discharge_a > 0 or (last == UNKNOWN and adapter.can_discharge())
        )
        stopped = False  # the stop of the feed was all it took (a pause)
        while True:
            try:
                if stop_feed:
                    await adapter.async_set_discharge(0)
                    stop_feed, last, stopped = False, PAUSED, desired == PAUSED
                if stopped:
                    pass
                elif desired.discharge_a > 0:
                    await adapter.async_set_discharge(desired.discharge_a)
                elif not desired.enabled:
                    await adapter.async_set_enabled(False)
                elif last.enabled and last != UNKNOWN:
                    await adapter.async_set_current(desired.amps)
                else:
                    # Straight to the target current, then allowed to charge: never through
                    # the charger's maximum.
                    await adapter.async_resume(desired.amps)
            except asyncio.CancelledError:
                self.commanded[runtime.charger_id] = UNKNOWN
                self._record(runtime, source, desired, now, error="cancelled at unload")
                raise
            except Exception as err:  # any integration's error: charging goes on as it is
                if not desired.enabled and self._escalated(runtime, source, now, err):
                    continue  # a refused pause: the next way of pausing, at once
                return self._failed(runtime, desired, source, now, err)
            break
        self.commanded[runtime.charger_id] = desired
        self.parked.pop(runtime.charger_id, None)
        self._succeeded(runtime)
        self._record(runtime, source, desired, now)
        self._settle(runtime, target, now)
        return None

    def _record(
        self,
        runtime: ChargerRuntime,
        source: str,
        command: Command,
        now: datetime,
        *,
        error: str | None = None,
    ) -> None:
        self.audit.record(
            runtime,
            source,
            command.enabled,
            command.amps,
            now,
            error=error,
            discharge_a=command.discharge_a,
        )

    def _feedable(self, runtime: ChargerRuntime, target: Target) -> Target:
        """The target, or 0 kW (paused) when its feed cannot be sent (logged once)."""
        if target.discharge_kw <= 0:
            return target
        if self.command_for(runtime, 0.0, target.discharge_kw).discharge_a > 0:
            self._no_feed_logged.discard(runtime.charger_id)
            return target
        if runtime.charger_id not in self._no_feed_logged:
            self._no_feed_logged.add(runtime.charger_id)
            why = (
                "it cannot discharge"
                if not runtime.adapter.can_discharge()
                else "it is below the charger's least current"
            )
            _LOGGER.warning(
                "%s: not told to feed back %.2f kW (%s); paused instead",
                runtime.name,
                target.discharge_kw,
                why,
            )
        pause = target.pause_reason or PauseReason.PLAN
        return replace(target, limit_kw=0.0, discharge_kw=0.0, pause_reason=pause)

    def _settle(self, runtime: ChargerRuntime, target: Target, now: datetime) -> None:
        """The session's pause state follows what the charger was told (once it was told)."""
        session = runtime.session
        assert session is not None
        if target.pause_reason is not None:
            if session.pause_reason is not target.pause_reason:
                session.pause(target.pause_reason, now)
                self._changed(runtime)
        elif session.pause_reason is not None:
            session.resume(now)
            self._changed(runtime)

    def _changed(self, runtime: ChargerRuntime) -> None:
        runtime.dirty = True
        self.premise.changed()

    # -- failures -------------------------------------------------------------------------

    def _failed(
        self, runtime: ChargerRuntime, desired: Command, source: str, now: datetime, err: Exception
    ) -> str:
        charger_id = runtime.charger_id
        message = str(err) or type(err).__name__
        count = self.failures.get(charger_id, 0) + 1
        self.failures[charger_id] = count
        self.errors[charger_id] = message
        self.commanded[charger_id] = UNKNOWN  # rolled back: sent whole next time
        self._record(runtime, source, desired, now, error=message)
        delay = min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (count - 1))
        self.retry_at[charger_id] = now + timedelta(seconds=delay)
        _LOGGER.warning(
            "%s: command (enabled=%s, %s A, discharge %s A) failed (%s); retried in %.0f s",
            runtime.name,
            *_parts(desired),
            message,
            delay,
        )
        self._schedule_retry(delay)
        if count >= FAILURES_FOR_ISSUE:
            ir.async_create_issue(
                self.premise.hass,
                DOMAIN,
                self._issue_id(runtime),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_COMMAND_FAILING,
                translation_placeholders={
                    "charger": runtime.name,
                    "count": str(count),
                    "error": message[:200],
                },
            )
        return message

    def _escalated(
        self, runtime: ChargerRuntime, source: str, now: datetime, err: Exception
    ) -> bool:
        """A pause the charger refused: audited with its error, and the preset's next way of
        pausing chosen (False when there is none left: the usual failure path follows)."""
        refused_via = runtime.adapter.last_via
        via = runtime.adapter.escalate_stop()
        if via is None:
            return False
        message = str(err) or type(err).__name__
        self.audit.record(
            runtime, source, False, 0, now, error=f"{message} (pausing by {via} instead)"
        )
        _LOGGER.warning(
            "%s refused a pause by %s (%s); pausing by %s instead",
            runtime.name,
            refused_via,
            message,
            via,
        )
        return True

    def _succeeded(self, runtime: ChargerRuntime) -> None:
        self.retry_at.pop(runtime.charger_id, None)
        if self.failures.pop(runtime.charger_id, 0):
            self.errors.pop(runtime.charger_id, None)
            _LOGGER.info("%s: commands go through again", runtime.name)
            ir.async_delete_issue(self.premise.hass, DOMAIN, self._issue_id(runtime))

    def _issue_id(self, runtime: ChargerRuntime) -> str:
        return f"{ISSUE_COMMAND_FAILING}_{self.premise.entry_id}_{runtime.charger_id}"

    def _schedule_retry(self, delay: float) -> None:
        if self._retry_unsub is not None or self._closed:
            return

        @callback
        def _again(_now: datetime) -> None:
            self._retry_unsub = None
            if self.retry is not None and not self._closed:
                self.retry()

        self._retry_unsub = async_call_later(
            self.premise.hass, timedelta(seconds=delay), HassJob(_again, cancel_on_shutdown=True)
        )

    # -- idle chargers, end of sessions, unload ---------------------------------------------

    async def async_park(self, runtime: ChargerRuntime) -> None:
        """On a shared circuit an idle charger waits at its minimum current: a car plugging in
        then starts small, on top of the others, until the plan (a second later) gives it its
        share, instead of at the charger's full current. A charger that cannot take a current
        limit, or refuses one while idle, is left alone."""
        adapter = runtime.adapter
        if self._closed or runtime.session is not None or not adapter.sets_current():
            return
        amps = max(1, int(adapter.min_current_a))
        async with self._lock:
            try:
                await adapter.async_set_current(amps)
            except Exception as err:  # any integration's error: left alone
                _LOGGER.debug("%s: not parked at %s A (%s)", runtime.name, amps, err)
                return
        # Also when a car plugged in meanwhile: what was commanded since (if anything) wins.
        self.parked[runtime.charger_id] = amps
        _LOGGER.debug("%s: idle on a shared circuit, parked at %s A", runtime.name, amps)

    @callback
    def session_ended(self, runtime: ChargerRuntime) -> None:
        """The session ended: what the charger was told is forgotten (it starts afresh); a
        feed it was told is stopped, so that the next car does not start feeding."""
        told = self.commanded.pop(runtime.charger_id, None)
        runtime.cap_kw = None
        if told is not None and told.discharge_a > 0 and not self._closed:
            self.premise.entry.async_create_task(
                self.premise.hass, self._async_end_feed(runtime), "pev_portal_end_feed"
            )

    async def _async_end_feed(self, runtime: ChargerRuntime) -> str | None:
        """Stop a feed no command follows (the session ended, or at unload): it leaves the
        charger paused. The error, when the charger refused or did not answer in time."""
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await runtime.adapter.async_set_discharge(0)
        except Exception as err:  # any integration's error (or the timeout): logged
            message = str(err) or type(err).__name__
            _LOGGER.warning("%s: its feed could not be stopped (%s)", runtime.name, message)
            return message
        _LOGGER.debug("%s: feed stopped (no command follows)", runtime.name)
        return None

    @callback
    def forget(self, runtime: ChargerRuntime) -> None:
        """The charger must be told again (a pause ignored, phases corrected)."""
        self.commanded[runtime.charger_id] = UNKNOWN

    async def async_close(self) -> None:
        """At unload: let the command in flight finish (a few seconds at most), else cancel
        it (audited as such); then stop every feed (nothing watches the car's floor while
        Home Assistant is down; audited); no command is sent after this."""
        self._closed = True
        if self._retry_unsub is not None:
            self._retry_unsub()
            self._retry_unsub = None
        task = self._in_flight
        if task is not None and not task.done() and task is not asyncio.current_task():
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await asyncio.shield(task)
            except TimeoutError:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            except Exception:  # its own failure is handled (and audited) by it
                pass
        for runtime in list(self.premise.chargers.values()):
            told = self.commanded.get(runtime.charger_id)
            if told is None or told.discharge_a <= 0 or task is asyncio.current_task():
                continue
            error = await self._async_end_feed(runtime)
            self.commanded[runtime.charger_id] = UNKNOWN if error else PAUSED
            self._record(runtime, SOURCE_PLAN, PAUSED, dt_util.utcnow(), error=error)


# How long an unload waits for a command in flight before cancelling it.
CLOSE_TIMEOUT_S = 10.0


def _parts(command: Command) -> tuple[bool, int, int]:
    return command.enabled, command.amps, command.discharge_a
