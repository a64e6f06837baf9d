"""Property tests for the interval metering ledger over random reading streams."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.pev_portal.core.metering import (
    AnomalyKind,
    Interval,
    IntervalLedger,
    Quality,
)

US = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EXAMPLES = settings(max_examples=250, deadline=None)


def to_dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def to_us(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


# A reading stream is described by abstract operations; `build` turns them into concrete
# actions with an independent reference model of the rules, so expectations do not come from
# the code under test.

Op = tuple[str, int, float]  # (kind, time step in µs, free parameter in [0, 1])

op_strategy: st.SearchStrategy[Op] = st.tuples(
    st.sampled_from(
        ["normal"] * 8 + ["idle", "reset", "zero", "meter", "jump", "older", "dup", "pev"]
    ),
    st.one_of(
        st.integers(min_value=1 * US, max_value=40 * 60 * US),  # 1 s .. 40 min, µs precision
        st.integers(min_value=1, max_value=2400).map(lambda s: s * US),  # whole seconds
        st.integers(min_value=1, max_value=120).map(lambda s: s * US),  # a busy meter
    ),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
)


@dataclass
class Scenario:
    minutes: int
    max_gap_us: int
    max_power_kw: float
    actions: list[tuple[str, datetime, float, str | None]]  # ("add", at, kwh, meter) | ("pev", ...)
    close_at: datetime
    billable_kwh: float = 0.0
    expected_kinds: list[AnomalyKind] = field(default_factory=list)
    first_us: int | None = None
    last_us: int | None = None


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    minutes = draw(st.integers(min_value=1, max_value=60))
    max_gap_us = draw(st.integers(min_value=1, max_value=30)) * 60 * US
    max_power_kw = draw(st.sampled_from([7.4, 22.0, 100.0]))
    start_us = draw(st.integers(min_value=1_600_000_000, max_value=1_900_000_000)) * US
    start_us += draw(st.sampled_from([0, 0, 250_000, 999_999]))
    ops = draw(st.lists(op_strategy, min_size=0, max_size=50))
    close_after = draw(st.integers(min_value=0, max_value=3 * 3600 * US))

    sc = Scenario(minutes, max_gap_us, max_power_kw, [], to_dt(start_us))
    meters = ["meter-A", "meter-B", "meter-C"]
    # reference model state: last accepted reading
    t_last: int | None = None
    v_last = 0.0
    meter = "meter-A"
    clock = start_us
    for kind, step, p in ops:
        if kind == "pev":
            sc.actions.append(("pev", to_dt(clock), 0.0, f"EV-{int(p * 5)}"))
            continue
        if kind in ("older", "dup") and t_last is not None:
            at = t_last - (0 if kind == "dup" else int(step * p))
            value = v_last if kind == "dup" else v_last + p
            sc.actions.append(("add", to_dt(at), value, None))
            if not (kind == "dup" or (at == t_last and value == v_last)):
                sc.expected_kinds.append(AnomalyKind.OUT_OF_ORDER)
            continue
        clock += step
        hours = step / 3_600_000_000
        meter_arg: str | None = None
        if kind == "reset":
            value = v_last * p * 0.999
        elif kind == "zero":
            value = 0.0
        elif kind == "meter":
            meter_arg = meters[int(p * 2.999)]
            value = p * 50
        elif kind == "jump":
            value = v_last + max_power_kw * hours * (1.5 + 1000 * p) + 0.01
        elif kind == "idle":
            value = v_last
        else:
            value = v_last + max_power_kw * hours * p * 0.999  # below max power
        sc.actions.append(("add", to_dt(clock), value, meter_arg))
        # the model
        if t_last is None:
            sc.first_us = clock
            if meter_arg is not None and meter_arg != meter:
                sc.expected_kinds.append(AnomalyKind.METER_CHANGED)
                meter = meter_arg
        else:
            dt = clock - t_last
            delta = value - v_last
            if meter_arg is not None and meter_arg != meter:
                sc.expected_kinds.append(AnomalyKind.METER_CHANGED)
                meter = meter_arg
            elif delta < 0:
                sc.expected_kinds.append(AnomalyKind.BACKWARDS)
            elif delta / (dt / 3_600_000_000) > max_power_kw:
                sc.expected_kinds.append(AnomalyKind.JUMP)
            else:
                if dt > max_gap_us:
                    sc.expected_kinds.append(AnomalyKind.GAP)
                sc.billable_kwh += delta
        t_last = clock
        v_last = value
    sc.last_us = t_last
    sc.close_at = to_dt(clock + close_after)
    return sc


def make_ledger(sc: Scenario) -> IntervalLedger:
    return IntervalLedger(
        interval_minutes=sc.minutes,
        premise_id="premise-1",
        meter_id="meter-A",
        max_gap=timedelta(microseconds=sc.max_gap_us),
        max_power_kw=sc.max_power_kw,
    )


def apply(
    led: IntervalLedger, actions: list[tuple[str, datetime, float, str | None]]
) -> list[Interval]:
    out: list[Interval] = []
    for kind, at, kwh, extra in actions:
        if kind == "pev":
            led.pev_id = extra
        else:
            out.extend(led.add(at, kwh, extra))
    return out


def run(sc: Scenario) -> tuple[list[Interval], IntervalLedger]:
    led = make_ledger(sc)
    out = apply(led, sc.actions)
    out.extend(led.close(sc.close_at))
    return out, led


@EXAMPLES
@given(scenarios())
def test_intervals_contiguous_aligned_and_non_negative(sc: Scenario) -> None:
    out, _ = run(sc)
    length = sc.minutes * 60 * US
    if sc.first_us is None:
        assert out == []
        return
    assert sc.last_us is not None
    starts = [to_us(i.start) for i in out]
    ends = [to_us(i.end) for i in out]
    close_us = to_us(sc.close_at)
    expected_end = max(close_us - close_us % US, -(-sc.last_us // US) * US)
    first_start = sc.first_us - sc.first_us % length
    if expected_end == first_start:
        assert out == []
        return
    assert starts[0] == first_start
    assert ends[-1] == expected_end
    for i, interval in enumerate(out):
        assert ends[i] > starts[i]
        assert starts[i] % length == 0
        assert interval.start.microsecond == 0
        assert interval.end.microsecond == 0
        assert interval.start.utcoffset() == timedelta(0)
        if i + 1 < len(out):
            assert ends[i] == starts[i + 1]  # contiguous, so no overlap and no hole
            assert ends[i] % length == 0
        else:
            assert ends[i] - starts[i] <= length
        assert interval.kwh >= 0.0
        assert math.isfinite(interval.kwh)
        if interval.quality is Quality.MISSING:
            assert interval.kwh == 0.0
            assert not interval.billable


@EXAMPLES
@given(scenarios())
def test_energy_is_conserved_and_anomalies_match_the_rules(sc: Scenario) -> None:
    out, led = run(sc)
    total = math.fsum(i.kwh for i in out)
    assert math.isclose(total, sc.billable_kwh, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(led.total_kwh, total, rel_tol=1e-9, abs_tol=1e-12)
    assert [a.kind for a in led.anomalies] == sc.expected_kinds
    billable = math.fsum(i.kwh for i in out if i.billable)
    assert billable == total


@EXAMPLES
@given(scenarios())
def test_register_end_is_consistent_with_interval_energy(sc: Scenario) -> None:
    out, _ = run(sc)
    epochs = [i.meter_epoch for i in out]
    assert epochs == sorted(epochs)
    for prev, cur in itertools.pairwise(out):
        if (
            prev.meter_epoch == cur.meter_epoch
            and prev.register_end is not None
            and cur.register_end is not None
        ):
            scale = max(1.0, abs(cur.register_end))
            assert math.isclose(
                cur.register_end - prev.register_end, cur.kwh, rel_tol=1e-9, abs_tol=1e-9 * scale
            )


@EXAMPLES
@given(scenarios(), st.floats(min_value=0.0, max_value=1.0), st.booleans())
def test_snapshot_restore_at_any_point_gives_identical_output(
    sc: Scenario, where: float, with_pending_close: bool
) -> None:
    expected, reference = run(sc)
    split = int(where * len(sc.actions))
    led = make_ledger(sc)
    out = apply(led, sc.actions[:split])
    data = json.loads(json.dumps(led.snapshot()))
    restored = IntervalLedger.restore(data)
    assert restored.snapshot() == led.snapshot()
    assert restored.pending() == led.pending()
    out.extend(apply(restored, sc.actions[split:]))
    if with_pending_close:
        # round trip once more just before closing
        restored = IntervalLedger.restore(json.loads(json.dumps(restored.snapshot())))
    out.extend(restored.close(sc.close_at))
    assert out == expected
    assert restored.anomalies == reference.anomalies
    assert restored.total_kwh == reference.total_kwh
    assert restored.snapshot() == reference.snapshot()
