"""Unit tests for the interval metering ledger (UC133 req 16-19, NF.1, NF.2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from custom_components.pev_portal.core.metering import (
    Anomaly,
    AnomalyKind,
    Interval,
    IntervalLedger,
    MeterReading,
    Quality,
)


def ts(h: int, m: int, s: int = 0, us: int = 0, *, day: int = 10) -> datetime:
    return datetime(2024, 3, day, h, m, s, us, tzinfo=UTC)


def ledger(minutes: int = 15, **kwargs: object) -> IntervalLedger:
    return IntervalLedger(
        interval_minutes=minutes,
        premise_id="premise-1",
        meter_id="meter-A",
        **kwargs,  # type: ignore[arg-type]
    )


def spans(intervals: list[Interval]) -> list[tuple[datetime, datetime]]:
    return [(i.start, i.end) for i in intervals]


# ---------------------------------------------------------------- construction / validation


@pytest.mark.parametrize("minutes", [0, 61, -5, 1.5, True, "15", None])
def test_invalid_interval_length_rejected(minutes: object) -> None:
    with pytest.raises(ValueError, match="interval_minutes"):
        ledger(minutes)  # type: ignore[arg-type]


@pytest.mark.parametrize("minutes", [1, 7, 15, 59, 60])
def test_valid_interval_lengths_accepted(minutes: int) -> None:
    assert ledger(minutes).interval_minutes == minutes


def test_invalid_parameters_rejected() -> None:
    with pytest.raises(ValueError, match="premise_id"):
        IntervalLedger(interval_minutes=5, premise_id="", meter_id="m")
    with pytest.raises(ValueError, match="meter_id"):
        IntervalLedger(interval_minutes=5, premise_id="p", meter_id="")
    with pytest.raises(ValueError, match="max_gap"):
        ledger(5, max_gap=timedelta(0))
    with pytest.raises(ValueError, match="max_power_kw"):
        ledger(5, max_power_kw=0.0)
    with pytest.raises(ValueError, match="max_power_kw"):
        ledger(5, max_power_kw=float("nan"))


def test_naive_datetime_rejected() -> None:
    led = ledger()
    with pytest.raises(ValueError, match="naive"):
        led.add(datetime(2024, 3, 10, 10, 0), 1.0)
    led.add(ts(10, 0), 1.0)
    with pytest.raises(ValueError, match="naive"):
        led.close(datetime(2024, 3, 10, 10, 5))
    assert led.pending() is not None  # the failed close did not close the ledger


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.5])
def test_invalid_register_value_rejected(value: float) -> None:
    led = ledger()
    with pytest.raises(ValueError, match="kwh"):
        led.add(ts(10, 0), value)
    assert led.last_reading is None


def test_non_utc_aware_datetime_is_converted_to_utc() -> None:
    led = ledger(15)
    cet = timezone(timedelta(hours=1))
    led.add(datetime(2024, 3, 10, 11, 10, tzinfo=cet), 100.0)  # 10:10 UTC
    out = led.add(datetime(2024, 3, 10, 11, 20, tzinfo=cet), 102.0)  # 10:20 UTC
    assert spans(out) == [(ts(10, 0), ts(10, 15))]
    assert out[0].start.utcoffset() == timedelta(0)
    assert out[0].kwh == pytest.approx(1.0)


# ---------------------------------------------------------------- splitting


def test_first_reading_only_sets_baseline() -> None:
    led = ledger()
    assert led.add(ts(10, 3), 50.0) == []
    assert led.total_kwh == 0.0
    pending = led.pending()
    assert pending is not None
    assert (pending.start, pending.end, pending.kwh) == (ts(10, 0), ts(10, 15), 0.0)
    assert pending.quality is Quality.OK


def test_boundary_split_hand_computed_15_min() -> None:
    led = ledger(15, pev_id="EV-1")
    led.add(ts(10, 10), 100.0)
    # 10:10 -> 10:20, 2 kWh: 5 min before the 10:15 boundary, 5 min after -> 1.0 / 1.0
    out = led.add(ts(10, 20), 102.0)
    assert out == [
        Interval(
            start=ts(10, 0),
            end=ts(10, 15),
            kwh=pytest.approx(1.0),  # type: ignore[arg-type]
            pev_id="EV-1",
            premise_id="premise-1",
            meter_id="meter-A",
            quality=Quality.OK,
            meter_epoch=0,
            register_end=pytest.approx(101.0),  # type: ignore[arg-type]
        )
    ]
    pending = led.pending()
    assert pending is not None
    assert pending.start == ts(10, 15)
    assert pending.kwh == pytest.approx(1.0)
    assert led.total_kwh == pytest.approx(2.0)
    # 10:20 -> 10:32, 1.2 kWh: 10 min to 10:30 (1.0), 2 min after (0.2)
    out = led.add(ts(10, 32), 103.2)
    assert spans(out) == [(ts(10, 15), ts(10, 30))]
    assert out[0].kwh == pytest.approx(2.0)
    assert out[0].register_end == pytest.approx(103.0)
    assert led.total_kwh == pytest.approx(3.2)


def test_one_minute_intervals() -> None:
    led = ledger(1)
    led.add(ts(10, 0, 30), 0.0)
    # 3 minutes, 3 kWh (60 kW): 0.5 + 1.0 + 1.0 closed, 0.5 open
    out = led.add(ts(10, 3, 30), 3.0)
    assert spans(out) == [
        (ts(10, 0), ts(10, 1)),
        (ts(10, 1), ts(10, 2)),
        (ts(10, 2), ts(10, 3)),
    ]
    assert [i.kwh for i in out] == pytest.approx([0.5, 1.0, 1.0])
    assert [i.register_end for i in out] == pytest.approx([0.5, 1.5, 2.5])
    assert all(i.quality is Quality.OK for i in out)
    pending = led.pending()
    assert pending is not None
    assert pending.kwh == pytest.approx(0.5)


def test_sixty_minute_intervals() -> None:
    led = ledger(60)
    led.add(ts(9, 45), 10.0)
    assert led.add(ts(9, 55), 12.0) == []
    # 9:55 -> 10:25, 6 kWh (12 kW): 5 min before 10:00 (1.0), 25 min after (5.0)
    out = led.add(ts(10, 25), 18.0)
    assert spans(out) == [(ts(9, 0), ts(10, 0))]
    assert out[0].kwh == pytest.approx(3.0)  # 2.0 + 1.0
    assert out[0].register_end == pytest.approx(13.0)
    out = led.add(ts(11, 0), 20.0)
    assert spans(out) == [(ts(10, 0), ts(11, 0))]
    assert out[0].kwh == pytest.approx(7.0)
    assert out[0].register_end == 20.0  # reading exactly on the boundary
    pending = led.pending()
    assert pending is not None
    assert (pending.start, pending.kwh) == (ts(11, 0), 0.0)


def test_seven_minute_intervals_aligned_to_unix_epoch() -> None:
    # 2024-01-01T00:00Z is 1704067200 s = 4057302 * 420 + 360: boundaries ..., 23:54, 00:01, 00:08
    led = ledger(7)
    led.add(datetime(2024, 1, 1, 0, 0, tzinfo=UTC), 10.0)
    out = led.add(datetime(2024, 1, 1, 0, 8, tzinfo=UTC), 10.8)
    assert spans(out) == [
        (datetime(2023, 12, 31, 23, 54, tzinfo=UTC), datetime(2024, 1, 1, 0, 1, tzinfo=UTC)),
        (datetime(2024, 1, 1, 0, 1, tzinfo=UTC), datetime(2024, 1, 1, 0, 8, tzinfo=UTC)),
    ]
    assert [i.kwh for i in out] == pytest.approx([0.1, 0.7])
    assert out[-1].register_end == 10.8


def test_sub_second_readings_split_precisely_but_intervals_have_second_resolution() -> None:
    led = ledger(1)
    led.add(ts(10, 0, 59, 500_000), 0.0)
    out = led.add(ts(10, 1, 0, 500_000), 0.01)  # 1 s, 36 kW, boundary in the middle
    assert len(out) == 1
    assert out[0].kwh == pytest.approx(0.005)
    assert out[0].start.microsecond == 0
    assert out[0].end.microsecond == 0
    closed = led.close(ts(10, 1, 42, 999_999))
    assert [(i.start, i.end) for i in closed] == [(ts(10, 1), ts(10, 1, 42))]
    assert closed[0].end.microsecond == 0
    assert closed[0].kwh == pytest.approx(0.005)


def test_reading_source_can_be_a_meter_reading() -> None:
    led = ledger(5)
    led.add_reading(MeterReading(ts(10, 0), 1.0))
    out = led.add_reading(MeterReading(ts(10, 5), 2.0, "meter-A"))
    assert [i.kwh for i in out] == [1.0]
    assert led.last_reading == MeterReading(ts(10, 5), 2.0, "meter-A")


# ---------------------------------------------------------------- anomalies


def test_out_of_order_and_duplicate_readings() -> None:
    led = ledger(5)
    led.add(ts(10, 0), 1.0)
    led.add(ts(10, 2), 2.0)
    assert led.add(ts(10, 2), 2.0) == []  # exact duplicate: silent
    assert led.anomalies == []
    assert led.add(ts(10, 1), 1.5) == []  # older
    assert led.add(ts(10, 2), 2.5) == []  # same time, other value
    kinds = [a.kind for a in led.anomalies]
    assert kinds == [AnomalyKind.OUT_OF_ORDER, AnomalyKind.OUT_OF_ORDER]
    assert led.anomalies[0].at == ts(10, 1)
    assert (led.anomalies[1].previous, led.anomalies[1].value) == (2.0, 2.5)
    # the ignored readings changed nothing: 10:02 -> 10:06 is 1 kWh from 2.0
    out = led.add(ts(10, 6), 3.0)
    assert [i.kwh for i in out] == pytest.approx([1.75])  # 1.0 + 0.75
    assert out[0].quality is Quality.OK


def test_drain_anomalies() -> None:
    led = ledger(5)
    led.add(ts(10, 0), 1.0)
    led.add(ts(9, 0), 1.0)
    drained = led.drain_anomalies()
    assert [a.kind for a in drained] == [AnomalyKind.OUT_OF_ORDER]
    assert led.anomalies == []
    assert led.drain_anomalies() == []


def test_backwards_register_starts_new_epoch_and_span_is_unknown() -> None:
    led = ledger(5)
    led.add(ts(10, 0), 50.0)
    led.add(ts(10, 3), 53.0)  # 3 kWh in [10:00, 10:05)
    # reset to 0 seen at 10:17: span 10:03 -> 10:17 is unknown
    out = led.add(ts(10, 17), 0.4)
    assert spans(out) == [
        (ts(10, 0), ts(10, 5)),
        (ts(10, 5), ts(10, 10)),
        (ts(10, 10), ts(10, 15)),
    ]
    assert [i.kwh for i in out] == [3.0, 0.0, 0.0]
    assert [i.quality for i in out] == [Quality.ESTIMATED, Quality.MISSING, Quality.MISSING]
    assert [i.billable for i in out] == [True, False, False]
    assert [i.meter_epoch for i in out] == [0, 0, 0]
    assert [i.register_end for i in out] == [None, None, None]
    assert led.meter_epoch == 1
    [anomaly] = led.anomalies
    assert anomaly == Anomaly(AnomalyKind.BACKWARDS, ts(10, 17), 53.0, 0.4, anomaly.message)
    assert "backwards" in anomaly.message
    # new baseline is 0.4 at 10:17: 10:17 -> 10:20 is 0.3 kWh, the 10:15 interval is partly unknown
    out = led.add(ts(10, 20), 0.7)
    assert spans(out) == [(ts(10, 15), ts(10, 20))]
    assert out[0].kwh == pytest.approx(0.3)
    assert out[0].quality is Quality.ESTIMATED
    assert out[0].meter_epoch == 1
    assert out[0].register_end == 0.7
    assert led.total_kwh == pytest.approx(3.3)


def test_meter_change_updates_meter_and_epoch() -> None:
    led = ledger(5)
    led.add(ts(10, 0), 500.0)
    led.add(ts(10, 4), 501.0)
    out = led.add(ts(10, 6), 7.0, "meter-B")
    assert [a.kind for a in led.anomalies] == [AnomalyKind.METER_CHANGED]
    assert spans(out) == [(ts(10, 0), ts(10, 5))]
    assert out[0].meter_id == "meter-A"  # ended before the change was seen
    assert out[0].meter_epoch == 0
    assert out[0].quality is Quality.ESTIMATED
    assert out[0].kwh == 1.0
    assert led.meter_id == "meter-B"
    assert led.meter_epoch == 1
    out = led.add(ts(10, 10), 8.0, "meter-B")
    assert out[0].meter_id == "meter-B"
    assert out[0].meter_epoch == 1
    assert out[0].register_end == 8.0
    assert out[0].quality is Quality.ESTIMATED  # 10:05-10:06 unknown, 10:06-10:10 measured
    assert out[0].kwh == pytest.approx(1.0)
    assert len(led.anomalies) == 1  # same meter again: no anomaly


def test_meter_change_exactly_on_boundary_belongs_to_new_epoch() -> None:
    led = ledger(5)
    led.add(ts(10, 1), 5.0)
    out = led.add(ts(10, 5), 1.0, "meter-B")
    assert out[0].meter_id == "meter-B"
    assert out[0].meter_epoch == 1
    assert out[0].register_end == 1.0
    assert out[0].quality is Quality.MISSING


def test_first_reading_from_other_meter_is_adopted() -> None:
    led = ledger(5)
    assert led.add(ts(10, 0), 1.0, "meter-Z") == []
    assert [a.kind for a in led.anomalies] == [AnomalyKind.METER_CHANGED]
    assert led.anomalies[0].previous is None
    assert (led.meter_id, led.meter_epoch) == ("meter-Z", 1)
    out = led.add(ts(10, 5), 2.0, "meter-Z")
    assert out[0].quality is Quality.OK


def test_jump_is_flagged_and_not_billed() -> None:
    led = ledger(5, max_power_kw=22.0)
    led.add(ts(10, 0), 10.0)
    led.add(ts(10, 2), 10.5)  # 15 kW
    out = led.add(ts(10, 4), 40.0)  # 29.5 kWh in 2 min: 885 kW
    assert out == []
    [anomaly] = led.anomalies
    assert anomaly.kind is AnomalyKind.JUMP
    assert led.meter_epoch == 1
    out = led.add(ts(10, 6), 40.5)
    assert [i.kwh for i in out] == pytest.approx([0.5 + 0.25])
    assert out[0].quality is Quality.ESTIMATED
    assert out[0].meter_epoch == 1
    assert led.total_kwh == pytest.approx(1.0)


def test_gap_energy_spread_and_estimated() -> None:
    led = ledger(5, max_gap=timedelta(minutes=15))
    led.add(ts(10, 0), 0.0)
    led.add(ts(10, 2), 0.2)
    out = led.add(ts(10, 22), 2.2)  # 20 min > 15 min, 2 kWh, 6 kW: plausible
    assert [a.kind for a in led.anomalies] == [AnomalyKind.GAP]
    assert spans(out) == [
        (ts(10, 0), ts(10, 5)),
        (ts(10, 5), ts(10, 10)),
        (ts(10, 10), ts(10, 15)),
        (ts(10, 15), ts(10, 20)),
    ]
    assert [i.kwh for i in out] == pytest.approx([0.5, 0.5, 0.5, 0.5])
    assert all(i.quality is Quality.ESTIMATED for i in out)
    assert [i.register_end for i in out] == pytest.approx([0.5, 1.0, 1.5, 2.0])
    assert led.meter_epoch == 0
    # a reading within max_gap afterwards is OK again, but 10:20-10:22 was gap: ESTIMATED
    out = led.add(ts(10, 26), 2.6)
    assert out[0].quality is Quality.ESTIMATED
    out = led.add(ts(10, 31), 3.1)
    assert out[0].quality is Quality.OK
    assert led.total_kwh == pytest.approx(3.1)


def test_estimated_reading_is_a_gap_whatever_its_length() -> None:
    """A caller with a witness for the energy but not its timing (the charger's transaction
    over the time Home Assistant was down): spread as ESTIMATED, never OK; a backwards or
    implausible reading stays what it is."""
    led = ledger(5)
    led.add(ts(10, 0), 0.0)
    out = led.add(ts(10, 10), 1.0, estimated=True)  # 10 min < max_gap, 6 kW
    assert [a.kind for a in led.anomalies] == [AnomalyKind.GAP]
    assert [i.kwh for i in out] == pytest.approx([0.5, 0.5])
    assert all(i.quality is Quality.ESTIMATED for i in out)
    assert led.meter_epoch == 0
    out = led.add(ts(10, 11), 0.5, estimated=True)
    assert led.anomalies[-1].kind is AnomalyKind.BACKWARDS
    led = ledger(5, max_power_kw=10.0)
    led.add(ts(10, 0), 0.0)
    led.add(ts(10, 1), 5.0, estimated=True)
    assert [a.kind for a in led.anomalies] == [AnomalyKind.JUMP]
    assert led.total_kwh == 0.0


def test_gap_with_zero_delta_is_estimated_zero_not_missing() -> None:
    led = ledger(5)
    led.add(ts(10, 0), 7.0)
    out = led.add(ts(11, 0), 7.0)
    assert len(out) == 12
    assert all(i.quality is Quality.ESTIMATED and i.kwh == 0.0 for i in out)
    assert all(i.billable for i in out)
    assert [a.kind for a in led.anomalies] == [AnomalyKind.GAP]


def test_anomaly_checks_precedence() -> None:
    # backwards over a gap is BACKWARDS, a jump over a gap is JUMP
    led = ledger(5, max_power_kw=10.0)
    led.add(ts(10, 0), 5.0)
    led.add(ts(11, 0), 1.0)
    led.add(ts(12, 0), 100.0)
    assert [a.kind for a in led.anomalies] == [AnomalyKind.BACKWARDS, AnomalyKind.JUMP]


# ---------------------------------------------------------------- close / pev id


def test_close_emits_partial_interval_and_missing_tail() -> None:
    led = ledger(15)
    led.add(ts(10, 2), 0.0)
    led.add(ts(10, 14), 1.2)
    out = led.close(ts(10, 33, 7, 800_000))
    assert spans(out) == [
        (ts(10, 0), ts(10, 15)),
        (ts(10, 15), ts(10, 30)),
        (ts(10, 30), ts(10, 33, 7)),  # partial: ends at close time truncated to the second
    ]
    assert [i.kwh for i in out] == pytest.approx([1.2, 0.0, 0.0])
    assert [i.quality for i in out] == [Quality.OK, Quality.MISSING, Quality.MISSING]
    assert [i.register_end for i in out] == [None, None, None]
    assert led.closed
    assert led.pending() is None
    assert led.total_kwh == pytest.approx(1.2)
    with pytest.raises(RuntimeError):
        led.add(ts(10, 40), 2.0)
    assert led.close(ts(10, 45)) == []


def test_close_right_after_final_reading() -> None:
    led = ledger(15)
    led.add(ts(10, 8), 0.0)
    assert len(led.add(ts(10, 20), 1.2)) == 1
    out = led.close(ts(10, 20, 0, 400_000))
    assert spans(out) == [(ts(10, 15), ts(10, 20))]
    assert out[0].quality is Quality.OK
    assert out[0].kwh == pytest.approx(0.5)
    assert out[0].register_end == 1.2


def test_close_on_boundary_emits_no_empty_interval() -> None:
    led = ledger(15)
    led.add(ts(10, 2), 0.0)
    led.add(ts(10, 15), 1.3)
    assert led.close(ts(10, 15)) == []


def test_close_before_last_reading_is_clamped() -> None:
    led = ledger(15)
    led.add(ts(10, 2), 0.0)
    led.add(ts(10, 7, 30, 250_000), 1.0)
    out = led.close(ts(10, 5))
    assert spans(out) == [(ts(10, 0), ts(10, 7, 31))]
    assert out[0].kwh == 1.0
    assert out[0].register_end == 1.0


def test_close_without_readings() -> None:
    led = ledger(15)
    assert led.close(ts(10, 0)) == []
    with pytest.raises(RuntimeError):
        led.add(ts(10, 1), 1.0)


def test_pev_id_change_applies_to_intervals_closed_afterwards() -> None:
    led = ledger(5)
    led.add(ts(10, 0), 0.0)
    first = led.add(ts(10, 6), 1.2)
    led.pev_id = "EV-42"
    second = led.add(ts(10, 11), 2.2)
    last = led.close(ts(10, 12))
    assert [i.pev_id for i in first] == [None]
    assert [i.pev_id for i in second + last] == ["EV-42", "EV-42"]
    pending_after = led.pending()
    assert pending_after is None


def test_pending_reflects_quality_of_open_interval() -> None:
    led = ledger(15)
    led.add(ts(10, 0), 0.0)
    led.add(ts(10, 1), 0.1)
    led.add(ts(10, 5), 0.0)  # backwards, still inside the open interval
    pending = led.pending()
    assert pending is not None
    assert pending.quality is Quality.ESTIMATED
    assert pending.kwh == pytest.approx(0.1)
    led2 = ledger(15)
    led2.add(ts(10, 0), 5.0)
    led2.add(ts(10, 5), 1.0)
    pending = led2.pending()
    assert pending is not None
    assert pending.quality is Quality.MISSING


# ---------------------------------------------------------------- persistence


def test_snapshot_is_json_and_restore_continues_identically() -> None:
    def feed_first(led: IntervalLedger) -> None:
        led.add(ts(10, 0), 0.0)
        led.add(ts(10, 4, 10, 123_456), 0.7)
        led.add(ts(10, 3), 0.1)  # out of order, stays pending in the anomaly list
        led.pev_id = "EV-7"

    def feed_rest(led: IntervalLedger) -> list[Interval]:
        out = led.add(ts(10, 9), 1.5)
        out += led.add(ts(10, 30), 0.2, "meter-B")
        out += led.add(ts(11, 10), 1.0, "meter-B")
        out += led.close(ts(11, 12, 30))
        return out

    a = ledger(5)
    feed_first(a)
    b = ledger(5)
    feed_first(b)
    data = json.loads(json.dumps(b.snapshot()))
    restored = IntervalLedger.restore(data)
    assert restored.snapshot() == b.snapshot()
    assert feed_rest(restored) == feed_rest(a)
    assert restored.anomalies == a.anomalies
    assert restored.total_kwh == a.total_kwh
    assert restored.snapshot() == a.snapshot()


def test_restore_rejects_malformed_snapshot() -> None:
    data = ledger(5).snapshot()
    with pytest.raises(ValueError, match="version"):
        IntervalLedger.restore({**data, "version": 99})
    broken = dict(data)
    del broken["open_kwh"]
    with pytest.raises(ValueError, match="malformed"):
        IntervalLedger.restore(broken)
    with pytest.raises(ValueError, match="interval_minutes"):
        IntervalLedger.restore({**data, "interval_minutes": 0})
