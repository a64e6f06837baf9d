"""The fail-safe limit of the utility link, kept for the premise (a part of
:class:`~.utility.UtilityLink`; the rule itself is :mod:`.core.failsafe`).

* The rule comes from the programs read (``FAILSAFE_CONSUMPTION_LIMIT`` and
  ``HEARTBEAT_PERIOD``, :func:`~.openadr.program_rules.failsafe_rule`; several programs: the
  strictest). Without one, nothing changes, ever.
* :meth:`LinkFailsafe.heard` on every successful exchange with the VTN (the link's
  ``_succeeded``: polls, pushes, acknowledged reports, resource writes);
  :meth:`LinkFailsafe.programs_read` after a complete read of the programs and events.
* One timer wakes at the next moment the state can change by itself (the heartbeat's end, the
  fail-safe duration's end); :attr:`LinkFailsafe.listeners` hear every change of the state in
  force (smart charging replans with the limit as the premise's circuit limit, the entities
  update). Half a heartbeat after the last contact it also asks the VTN for the programs and
  events (a keep-alive): a heartbeat shorter than the polling interval must not make a healthy
  link look silent.
* Kept in the store (meta ``failsafe``: the rule, the last contact, since when the fail-safe
  holds), so a restart while the VTN is silent keeps the limit: the last contact is written at
  most every :data:`HEARD_WRITE_EVERY` (after a crash the limit may start that much early), and
  at every change of the state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from .core.failsafe import Failsafe, FailsafeReason, FailsafeRule, FailsafeState, strictest
from .io.premises import meta_key
from .openadr.models import Program
from .openadr.program_rules import failsafe_rule

if TYPE_CHECKING:
    from .ports import Premise

_LOGGER = logging.getLogger(f"{__package__}.utility")

META_KEY: Final = "failsafe"
HEARD_WRITE_EVERY: Final = timedelta(minutes=1)
"""The last contact is written to the store at most this often (and at every state change)."""


def _rule_dict(rule: FailsafeRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "limit_kw": rule.limit_kw,
        "heartbeat_s": rule.heartbeat.total_seconds(),
        "duration_s": rule.duration.total_seconds() if rule.duration is not None else None,
    }


def _rule_from(data: Any) -> FailsafeRule | None:
    """A stored rule; anything unusable is no rule (logged)."""
    if not isinstance(data, dict):
        return None
    try:
        duration = data.get("duration_s")
        return FailsafeRule(
            float(data["limit_kw"]),
            timedelta(seconds=float(data["heartbeat_s"])),
            timedelta(seconds=float(duration)) if duration is not None else None,
        )
    except KeyError, TypeError, ValueError, OverflowError:
        _LOGGER.warning("The stored fail-safe rule is unusable and was ignored: %r", data)
        return None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


class LinkFailsafe:
    """The premise's fail-safe tracker (see the module docstring)."""

    def __init__(self, hass: HomeAssistant, premise: Premise) -> None:
        self.hass = hass
        self.premise = premise
        self.tracker = Failsafe(None, dt_util.utcnow())
        self.listeners: list[Callable[[], None]] = []
        self.request_events: Callable[[], None] | None = None
        """Asks the link to read programs and events again (heard back while waiting for them)."""
        self._shown: FailsafeState = self.tracker.state(dt_util.utcnow())
        self._timer: CALLBACK_TYPE | None = None
        self._timer_at: datetime | None = None
        self._written_heard: datetime | None = None
        self._has_record = False  # without a rule nothing is written (nor kept)
        self._kept_alive_for: datetime | None = None  # the last contact a keep-alive followed
        self._stopped = False

    # -- life cycle -----------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the rule and the last contact kept before a restart (nothing: a heartbeat's
        grace from now)."""
        key = meta_key(META_KEY, self.premise.premise_id)
        stored = await self.premise.store.read(lambda s: s.get_meta(key))
        if not isinstance(stored, dict):
            return
        self._has_record = True
        rule = _rule_from(stored.get("rule"))
        heard = _time(stored.get("last_heard"))
        now = dt_util.utcnow()
        self.tracker = Failsafe(
            rule,
            min(heard, now) if heard is not None else now,
            _time(stored.get("last_synced")),
            _time(stored.get("lost_since")),
        )
        self._written_heard = self.tracker.last_heard
        self._evaluate(write=False)

    def stop(self) -> None:
        """Stop the timer (at unload); the state is written as it is."""
        self._stopped = True
        if self._timer is not None:
            self._timer()
            self._timer = None
        self._write()

    # -- what the link tells ----------------------------------------------------------------

    def heard(self, at: datetime | None = None) -> None:
        """A successful exchange with the VTN."""
        at = at or dt_util.utcnow()
        self.tracker = self.tracker.heard(at)
        self._evaluate(write=self._heard_write_due(at))

    def programs_read(self, programs: Sequence[Program], at: datetime | None = None) -> None:
        """Programs and events were read completely: the rule is theirs, the events known."""
        at = at or dt_util.utcnow()
        rules = [r for r in (failsafe_rule(p) for p in programs) if r is not None]
        rule = strictest(rules)
        if rule != self.tracker.rule:
            if rule is None:
                _LOGGER.info("No program declares a fail-safe limit any more")
            else:
                _LOGGER.info(
                    "Fail-safe: %.2f kW for the premise's chargers after %s without the utility",
                    rule.limit_kw,
                    rule.heartbeat,
                )
            # The heartbeat counts from now for a rule just learned (never retroactively).
            self.tracker = Failsafe(rule, at, self.tracker.last_synced, None)
        self.tracker = self.tracker.synced(at)
        self._evaluate(write=True)

    # -- what the others read -----------------------------------------------------------------

    def state(self, now: datetime | None = None) -> FailsafeState:
        """The fail-safe limit in force now (``limit_kw`` None: none)."""
        return self.tracker.state(now or dt_util.utcnow())

    @property
    def rule(self) -> FailsafeRule | None:
        """The rule in force (None: no program declares one)."""
        return self.tracker.rule

    def attributes(self, now: datetime | None = None) -> dict[str, Any]:
        """The state as the entities show it."""
        state = self.state(now)
        rule = self.tracker.rule
        return {
            "limit_kw": state.limit_kw,
            "reason": state.reason.value,
            "since": state.since.isoformat() if state.since else None,
            "until": state.until.isoformat() if state.until else None,
            "declared_limit_kw": rule.limit_kw if rule is not None else None,
            "heartbeat_s": rule.heartbeat.total_seconds() if rule is not None else None,
            "last_heard": self.tracker.last_heard.isoformat(),
        }

    # -- inside ---------------------------------------------------------------------------

    def _heard_write_due(self, at: datetime) -> bool:
        if self.tracker.rule is None:
            return False
        written = self._written_heard
        return written is None or at - written >= HEARD_WRITE_EVERY

    def _evaluate(self, *, write: bool) -> None:
        """Tell the listeners when the state in force changed; re-arm the timer."""
        now = dt_util.utcnow()
        state = self.tracker.state(now)
        before = self._shown
        changed = (state.limit_kw, state.reason) != (before.limit_kw, before.reason)
        self._shown = state
        if changed:
            self._log(before, state)
            write = True
        if write:
            self._write()
        self._arm(now)
        if changed:
            if state.reason is FailsafeReason.AWAITING_EVENTS and self.request_events is not None:
                self.request_events()  # back: the events are read again at once, not at the poll
            for listener in list(self.listeners):
                listener()

    def _log(self, before: FailsafeState, state: FailsafeState) -> None:
        if state.active and not before.active:
            _LOGGER.warning(
                "Fail-safe limit of %.2f kW in force for the premise's chargers: %s since %s",
                state.limit_kw,
                "the utility link is silent"
                if state.reason is FailsafeReason.LINK_SILENT
                else "waiting for the utility's events",
                state.since,
            )
        elif before.active and not state.active:
            _LOGGER.warning("Fail-safe limit lifted (%s)", state.reason.value)

    def _next_change(self, now: datetime) -> datetime | None:
        rule = self.tracker.rule
        if rule is None:
            return None
        times = [self.tracker.last_heard + rule.heartbeat]
        if self._kept_alive_for != self.tracker.last_heard:
            times.append(self.tracker.last_heard + rule.heartbeat / 2)
        state = self.tracker.state(now)
        if state.until is not None:
            times.append(state.until)
        later = [t for t in times if t > now]
        # The state turns at the first instant strictly after the deadline.
        return min(later) + timedelta(microseconds=1) if later else None

    def _arm(self, now: datetime) -> None:
        wake = self._next_change(now)
        if self._stopped or wake is None:
            return
        if self._timer is not None and self._timer_at is not None and self._timer_at <= wake:
            return  # the armed timer comes first; it re-arms for what is due then
        if self._timer is not None:
            self._timer()
        self._timer_at = wake
        self._timer = async_track_point_in_utc_time(self.hass, self._on_timer, wake)

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._timer = None
        self._timer_at = None
        self._keep_alive(dt_util.utcnow())
        self._evaluate(write=False)

    def _keep_alive(self, now: datetime) -> None:
        """Half a heartbeat without a word: ask the VTN now (the programs and events), so that
        a heartbeat shorter than the polling interval does not make a healthy link 'silent'."""
        rule, heard = self.tracker.rule, self.tracker.last_heard
        if rule is None or self._kept_alive_for == heard or now < heard + rule.heartbeat / 2:
            return
        self._kept_alive_for = heard
        if self.request_events is not None:
            _LOGGER.debug("Nothing heard from the VTN for half the fail-safe heartbeat: asking")
            self.request_events()

    def _write(self) -> None:
        tracker = self.tracker
        if tracker.rule is None and not self._has_record:
            return  # no program declares a fail-safe: nothing to keep
        self._has_record = tracker.rule is not None
        data = {
            "rule": _rule_dict(tracker.rule),
            "last_heard": tracker.last_heard.isoformat(),
            "last_synced": tracker.last_synced.isoformat() if tracker.last_synced else None,
            "lost_since": tracker.lost_since.isoformat() if tracker.lost_since else None,
        }
        self._written_heard = tracker.last_heard
        key = meta_key(META_KEY, self.premise.premise_id)
        self.premise.submit(lambda s: s.set_meta(key, data), "fail-safe state")
