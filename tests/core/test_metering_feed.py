"""The received (exported) register beside the import register (core/metering_feed.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.pev_portal.core.metering import IntervalLedger
from custom_components.pev_portal.core.metering_feed import (
    RECEIVED_PREFIX,
    ReceivedRegister,
    with_export,
)
from custom_components.pev_portal.core.metering_types import AnomalyKind, Interval, Quality

T0 = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def pair(*, interval_minutes: int = 15) -> tuple[IntervalLedger, ReceivedRegister]:
    ledger = IntervalLedger(
        interval_minutes=interval_minutes, premise_id="P1", meter_id="M1", pev_id="PEV-1"
    )
    return ledger, ReceivedRegister.like(ledger)


def run(
    ledger: IntervalLedger,
    received: ReceivedRegister,
    samples: list[tuple[float, float, float | None]],
    close: float | None = None,
) -> list[Interval]:
    """Feed (minute, import kWh, received kWh) samples to both, as the session does."""
    out: list[Interval] = []
    for minute, imported, fed in samples:
        produced = ledger.add(at(minute), imported)
        received.sample(at(minute), fed, "M1")
        out += received.merge(produced)
    if close is not None:
        received.sample(at(close), samples[-1][2], "M1")
        received.close(at(close))
        out += received.merge(ledger.close(at(close)))
    return out


def test_feeding_then_charging_carries_both_energies() -> None:
    """Import and export per interval, each as its register counted it; OK throughout."""
    ledger, received = pair()
    samples = [(m, 10.0 + max(0.0, m - 30) * 0.1, 5.0 + min(m, 30) * 0.1) for m in range(0, 46, 5)]
    out = run(ledger, received, samples, close=45)
    assert [(i.start, i.end) for i in out] == [(at(0), at(15)), (at(15), at(30)), (at(30), at(45))]
    assert [round(i.kwh, 6) for i in out] == [0.0, 0.0, 1.5]
    assert [round(i.exported_kwh, 6) for i in out] == [1.5, 1.5, 0.0]
    assert {i.quality for i in out} == {Quality.OK}
    assert received.total_kwh == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("bad", "kind"),
    [(4.0, AnomalyKind.BACKWARDS), (500.0, AnomalyKind.JUMP)],
    ids=["backwards", "jump"],
)
def test_a_received_register_going_backwards_or_jumping_is_flagged(
    bad: float, kind: AnomalyKind
) -> None:
    """The span is unknown: not counted as fed, its intervals ESTIMATED (the import energy is
    kept), the anomaly says it is the received register's."""
    ledger, received = pair()
    samples = [(0, 10.0, 5.0), (5, 10.0, 5.5), (10, 10.0, bad), (20, 10.0, bad + 1.0)]
    out = run(ledger, received, samples, close=30)
    first, second = out
    # 0.5 before the bad reading, none over the unknown span, half of the next 1.0
    assert (first.quality, first.exported_kwh) == (Quality.ESTIMATED, pytest.approx(1.0))
    assert (second.quality, second.exported_kwh) == (Quality.OK, pytest.approx(0.5))
    [anomaly] = received.drain_anomalies()
    assert anomaly.kind is kind
    assert anomaly.message.startswith(RECEIVED_PREFIX)
    assert ledger.anomalies == []  # the import register was fine


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, None], ids=["nan", "inf", "neg", "none"])
def test_a_received_register_without_a_usable_value_is_flagged_and_nothing_lost(
    bad: float | None,
) -> None:
    """The spell's intervals are ESTIMATED (never OK with 0); what was fed during the spell is
    counted in full at the next usable value; one anomaly for the spell."""
    ledger, received = pair()
    samples = [
        (0, 10.0, 5.0),
        (5, 10.0, 5.5),
        (10, 10.0, bad),
        (16, 10.0, bad),
        (20, 10.0, bad),
        (25, 10.0, 7.0),
        (28, 10.0, 7.3),
    ]
    out = run(ledger, received, samples, close=30)
    assert [i.quality for i in out] == [Quality.ESTIMATED, Quality.ESTIMATED]
    assert sum(i.exported_kwh for i in out) == pytest.approx(2.3)
    assert not any(math.isnan(i.exported_kwh) for i in out)
    anomalies = received.drain_anomalies()
    assert [a.kind for a in anomalies] == [AnomalyKind.INVALID]
    assert received.doubtful is False


def test_no_received_interval_is_flagged_not_silently_zero() -> None:
    """An import interval whose received interval never came is ESTIMATED with 0 fed."""
    imported = Interval(at(0), at(15), 1.0, "PEV-1", "P1", "M1", Quality.OK, 0, 11.0)
    merged = with_export(imported, None)
    assert (merged.exported_kwh, merged.quality) == (0.0, Quality.ESTIMATED)
    missing = Interval(at(0), at(15), 0.0, "PEV-1", "P1", "M1", Quality.MISSING, 1, None)
    assert with_export(imported, missing).quality is Quality.ESTIMATED
    assert with_export(missing, imported).quality is Quality.MISSING  # stays unbillable


def test_a_doubtful_first_sample_and_a_register_that_recovers() -> None:
    """No value at plug-in: nothing to hold; the first usable value is the baseline."""
    ledger, received = pair()
    out = run(ledger, received, [(0, 10.0, None), (5, 10.0, 5.0), (10, 10.0, 5.4)], close=15)
    [only] = out
    assert only.exported_kwh == pytest.approx(0.4)
    assert only.quality is Quality.ESTIMATED  # the spell at the start touched it
    assert [a.kind for a in received.drain_anomalies()] == [AnomalyKind.INVALID]


def test_same_second_samples_and_stale_ready_intervals() -> None:
    """A sample at or before the last is ignored; merged-past received intervals are dropped."""
    _ledger, received = pair()
    received.sample(at(0), 1.0)
    received.sample(at(0), 9.0)
    received.sample(at(16), 1.5)  # closes 18:00-18:15 on the received side only
    assert received.merge([]) == []
    later = Interval(at(15), at(30), 0.0, "PEV-1", "P1", "M1", Quality.OK, 0, None)
    [merged] = received.merge([later])
    assert merged.quality is Quality.ESTIMATED  # its received interval is still open
    assert received.snapshot()["ready"] == []  # the older one went


def test_snapshot_round_trip_and_malformed() -> None:
    """A resumed session's received register carries on where it was."""
    ledger, received = pair()
    run(ledger, received, [(0, 10.0, 5.0), (5, 10.0, 5.5), (10, 10.0, None)])
    received.sample(at(16), 6.0)
    data = received.snapshot()
    restored = ReceivedRegister.restore(data)
    assert restored.snapshot() == data
    assert restored.doubtful is False
    produced = ledger.add(at(16), 10.0)
    [merged] = restored.merge(produced)
    assert merged.exported_kwh == pytest.approx(received.merge(produced)[0].exported_kwh)
    for broken in ({}, {**data, "doubtful": "yes"}, {**data, "ready": [{"start": 1}]}):
        with pytest.raises(ValueError, match="malformed"):
            ReceivedRegister.restore(broken)


def test_pending_shows_the_energy_fed_so_far() -> None:
    """The live summary's open interval has the received energy so far."""
    ledger, received = pair()
    run(ledger, received, [(0, 10.0, 5.0), (5, 10.0, 5.7)])
    pending = ledger.pending()
    assert pending is not None
    assert received.pending(pending).exported_kwh == pytest.approx(0.7)
    other = Interval(at(60), at(75), 0.0, "PEV-1", "P1", "M1", Quality.OK, 0, None)
    assert received.pending(other).quality is Quality.ESTIMATED


def test_a_stepping_register_sampled_between_its_steps_is_no_jump() -> None:
    """A sensor that steps 0.125 kWh a minute (7.5 kW), sampled at other times (the import
    readings, a second after a step now and then): judged over the time between its steps,
    never a JUMP; a real jump still is."""
    ledger, received = pair()
    samples: list[tuple[float, float, float | None]] = []
    for second in range(0, 15 * 60, 7):
        steps = second // 60
        samples.append((second / 60, 10.0, 5.0 + 0.125 * steps))
    out = run(ledger, received, samples, close=15)
    assert received.drain_anomalies() == []
    assert [(i.quality, round(i.exported_kwh, 3)) for i in out] == [(Quality.OK, 1.75)]
    ledger, received = pair()
    run(ledger, received, [(0, 10.0, 5.0), (10, 10.0, 5.0), (10.02, 10.0, 505.0)])
    assert [a.kind for a in received.drain_anomalies()] == [AnomalyKind.JUMP]
