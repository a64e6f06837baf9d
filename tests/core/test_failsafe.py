"""The fail-safe limit: a link that goes silent mid-event, comes back, and the events re-read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.pev_portal.core.failsafe import (
    Failsafe,
    FailsafeReason,
    FailsafeRule,
    FailsafeState,
    circuit_with_failsafe,
    strictest,
)

T0 = datetime(2030, 7, 2, 17, tzinfo=UTC)
M = timedelta(minutes=1)
RULE = FailsafeRule(limit_kw=4.2, heartbeat=5 * M, duration=120 * M)


def test_no_rule_changes_nothing() -> None:
    fs = Failsafe(None, T0)
    for later in (T0, T0 + 1000 * M):
        state = fs.state(later)
        assert state == FailsafeState(None, FailsafeReason.NOT_DECLARED)
        assert not state.active
    assert fs.heard(T0 + 10 * M).state(T0 + 100 * M).reason is FailsafeReason.NOT_DECLARED
    assert circuit_with_failsafe(11.0, fs.state(T0)) == 11.0


def test_link_silent_mid_event_then_back_then_synced() -> None:
    fs = Failsafe(RULE, T0).synced(T0)
    assert fs.state(T0 + 5 * M).reason is FailsafeReason.LINK_OK  # exactly the heartbeat: fine
    assert fs.heard(T0 + 4 * M).state(T0 + 8 * M).reason is FailsafeReason.LINK_OK
    silent = fs.state(T0 + 5 * M + timedelta(seconds=1))
    assert silent.active
    assert (silent.limit_kw, silent.reason, silent.since) == (
        4.2,
        FailsafeReason.LINK_SILENT,
        T0 + 5 * M,
    )
    assert silent.until == T0 + 125 * M
    # the link comes back at 17:30: still limited until the events are read again
    back = fs.heard(T0 + 30 * M)
    waiting = back.state(T0 + 31 * M)
    assert (waiting.limit_kw, waiting.reason, waiting.since) == (
        4.2,
        FailsafeReason.AWAITING_EVENTS,
        T0 + 5 * M,
    )
    # silent again before the read: still the first fail-safe
    assert back.state(T0 + 40 * M).since == T0 + 5 * M
    synced = back.synced(T0 + 32 * M)
    assert synced.state(T0 + 33 * M) == FailsafeState(None, FailsafeReason.LINK_OK)
    assert synced.last_synced == T0 + 32 * M
    # a complete read straight after the silence clears at once
    assert fs.synced(T0 + 30 * M).state(T0 + 30 * M).reason is FailsafeReason.LINK_OK


def test_duration_over_and_circuit() -> None:
    fs = Failsafe(RULE, T0)
    assert fs.state(T0 + 124 * M).active
    over = fs.state(T0 + 125 * M)
    assert (over.limit_kw, over.reason) == (None, FailsafeReason.DURATION_OVER)
    assert circuit_with_failsafe(None, fs.state(T0 + 10 * M)) == 4.2
    assert circuit_with_failsafe(3.0, fs.state(T0 + 10 * M)) == 3.0
    assert circuit_with_failsafe(7.4, fs.state(T0 + 10 * M)) == 4.2
    forever = Failsafe(FailsafeRule(0.0, 5 * M), T0)
    assert forever.state(T0 + 10_000 * M).limit_kw == 0.0
    # an old heard time never moves the last contact back
    assert fs.heard(T0 - 10 * M).last_heard == T0


def test_rules_validated_and_combined() -> None:
    for bad in (
        lambda: FailsafeRule(float("nan"), 5 * M),
        lambda: FailsafeRule(-1.0, 5 * M),
        lambda: FailsafeRule(1.0, timedelta(0)),
        lambda: FailsafeRule(1.0, M, timedelta(0)),
    ):
        with pytest.raises(ValueError, match="must be"):
            bad()
    assert strictest([]) is None
    combined = strictest([RULE, FailsafeRule(6.0, 2 * M, 60 * M)])
    assert combined == FailsafeRule(4.2, 2 * M, 120 * M)
    assert strictest([RULE, FailsafeRule(6.0, 2 * M)]) == FailsafeRule(4.2, 2 * M, None)
