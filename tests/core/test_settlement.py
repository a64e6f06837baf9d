"""Settlement of an event on a session: baselines, reduction, compliance, shift, incentive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.pev_portal.core.planner import ChargerModel, PowerCap, VehicleRequest
from custom_components.pev_portal.core.settlement import (
    Baseline,
    BaselineMethod,
    EventWindow,
    IncentiveRules,
    PastSession,
    PlanningInputs,
    counterfactual_plan,
    energy_in,
    event_grid,
    meter_baseline,
    plan_baseline,
    plan_intervals,
    settle,
    without_event,
)
from custom_components.pev_portal.core.tariff import CppEvent, FlatTariff, OverlayTariff

H = timedelta(hours=1)
TUE = datetime(2030, 7, 2, 16, tzinfo=UTC)  # a Tuesday
EVENT = EventWindow(
    "evt-1",
    "prg-1",
    TUE + H,
    TUE + 4 * H,
    cap_names=frozenset({"evt-1"}),
    limits=((TUE + H, TUE + 4 * H, 2.0),),
)
RULES = IncentiveRules(
    currency="USD", per_kwh=Decimal("0.30"), per_event=Decimal("0.50"), min_compliance=0.5
)


def hourly(start: datetime, kwh: list[float]) -> tuple[tuple[datetime, datetime, float], ...]:
    return tuple((start + i * H, start + (i + 1) * H, v) for i, v in enumerate(kwh))


# The counterfactual: 6 kW from 16:00 to 19:00. Measured: 6 kWh before the event, held at the
# 2 kW limit during it, 6 kWh after it.
PLANNED = hourly(TUE, [6, 6, 6])
MEASURED = hourly(TUE, [6, 2, 2, 2, 6])


def test_hand_computed_counterfactual_settlement() -> None:
    cf = plan_baseline(PLANNED, EVENT, interval_minutes=60)
    assert cf.intervals == hourly(TUE + H, [6, 6, 0])
    assert cf.energy_kwh == 12
    assert cf.after_kwh == 0
    perf = settle(
        EVENT,
        vehicle_id="PEV-1",
        measured=MEASURED,
        counterfactual=cf,
        meter=Baseline(BaselineMethod.METER, None, reason="none"),
        target_kwh=18,
        rules=RULES,
    )
    assert perf.method is BaselineMethod.COUNTERFACTUAL
    assert perf.measured_kwh == 6
    assert perf.delivered_kwh == pytest.approx(6)  # 12 - 6
    assert perf.delivered_kw == pytest.approx(2)  # over 3 h
    assert perf.asked_kwh == pytest.approx(8)  # (6-2) + (6-2) + 0
    assert perf.compliance == pytest.approx(0.75)
    assert perf.shifted_kwh == pytest.approx(6)
    assert perf.target_met is True
    assert perf.incentive == Decimal("2.30")  # 6 * 0.30 + 0.50
    assert perf.currency == "USD"
    assert perf.flags == ()
    assert perf.delivered_by_method == {BaselineMethod.COUNTERFACTUAL: pytest.approx(6)}


def history() -> list[PastSession]:
    mon = datetime(2030, 7, 1, 16, 30, tzinfo=UTC)
    thu = datetime(2030, 6, 27, 15, 10, tzinfo=UTC)
    return [
        PastSession(mon, mon + 3 * H, ((mon, mon + 2 * H, 10.0),)),  # 5 kW for 2 h
        PastSession(thu, thu + 3 * H, ((thu, thu + 2 * H, 8.0),)),  # 4 kW for 2 h
        # not comparable: weekend, 2 h later, an event day, after this plug-in
        PastSession(TUE - 3 * 24 * H, TUE - 3 * 24 * H + H, hourly(TUE - 72 * H, [7])),
        PastSession(TUE - 6 * 24 * H + 2 * H, TUE - 6 * 24 * H + 3 * H, hourly(TUE, [7])),
        PastSession(TUE - 4 * 24 * H, TUE - 4 * 24 * H + H, hourly(TUE - 96 * H, [7]), True),
        PastSession(TUE + H, TUE + 2 * H, hourly(TUE + H, [7])),
    ]


def test_hand_computed_meter_baseline() -> None:
    mb = meter_baseline(history(), EVENT, plug_in=TUE, interval_minutes=60, session_end=TUE + 6 * H)
    assert mb.sessions == 2
    # 17-18 is 1-2 h after plug-in: Monday 17:30-18:30 (5 kWh), Thursday 16:10-17:10 (4 kWh)
    assert mb.intervals == hourly(TUE + H, [4.5, 0, 0])
    assert mb.after_kwh == 0
    perf = settle(
        EVENT,
        vehicle_id="PEV-1",
        measured=MEASURED,
        counterfactual=plan_baseline(PLANNED, EVENT, interval_minutes=60),
        meter=mb,
        rules=IncentiveRules(
            currency="USD", per_event=Decimal(1), baseline_method=BaselineMethod.METER
        ),
    )
    assert perf.method is BaselineMethod.METER
    assert perf.delivered_kwh == pytest.approx(-1.5)  # it drew more than the usual sessions
    assert perf.asked_kwh == pytest.approx(2.5)
    assert perf.compliance == 0.0
    assert perf.flags == ("increased_load",)
    assert perf.incentive == Decimal("0.00")
    assert perf.target_met is None
    assert perf.delivered_by_method[BaselineMethod.COUNTERFACTUAL] == pytest.approx(6)


def test_meter_baseline_needs_two_sessions_and_reads_local_time() -> None:
    one = meter_baseline(history()[:1], EVENT, plug_in=TUE, interval_minutes=60)
    assert one.intervals is None
    assert one.energy_kwh is None
    assert one.reason is not None
    no_end = meter_baseline(history(), EVENT, plug_in=TUE, interval_minutes=60)
    assert no_end.after_kwh is None
    perf = settle(
        EVENT,
        vehicle_id="v",
        measured=MEASURED,
        counterfactual=Baseline(BaselineMethod.COUNTERFACTUAL, None),
        meter=no_end,
    )
    assert perf.method is BaselineMethod.METER
    assert perf.shifted_kwh is None
    assert perf.flags[0] == "fallback_meter"
    assert "1 comparable session " in one.reason
    # In Los Angeles, 16:00 UTC on Tuesday is 09:00 local; Monday 16:30 UTC is 09:30 local.
    la = meter_baseline(
        history(), EVENT, plug_in=TUE, interval_minutes=60, tz=ZoneInfo("America/Los_Angeles")
    )
    assert la.sessions == 2
    # across midnight: 23:30 and 00:20 are 50 minutes apart
    late = datetime(2030, 7, 2, 23, 30, tzinfo=UTC)
    past = [
        PastSession(
            datetime(2030, 6, 27, 0, 20, tzinfo=UTC), datetime(2030, 6, 27, 1, tzinfo=UTC), ()
        ),
        PastSession(
            datetime(2030, 6, 26, 0, 20, tzinfo=UTC), datetime(2030, 6, 26, 1, tzinfo=UTC), ()
        ),
    ]
    ev = EventWindow("e", "p", late, late + H)
    assert meter_baseline(past, ev, plug_in=late, interval_minutes=15).sessions == 2


def test_at_most_five_most_recent_sessions() -> None:
    past = [
        PastSession(
            TUE - d * 24 * H,
            TUE - d * 24 * H + 2 * H,
            hourly(TUE - d * 24 * H, [float(d), float(d)]),
        )
        for d in range(1, 15)
    ]
    past = [s for s in past if s.plug_in.weekday() < 5]
    mb = meter_baseline(past, EventWindow("e", "p", TUE, TUE + H), plug_in=TUE, interval_minutes=60)
    assert mb.sessions == 5
    used = sorted((s for s in past), key=lambda s: s.plug_in, reverse=True)[:5]
    assert mb.energy_kwh == pytest.approx(sum(s.intervals[0][2] for s in used) / 5)


def test_price_event_nothing_asked_and_no_baseline() -> None:
    price = EventWindow("cpp", "prg", TUE + H, TUE + 4 * H, price_names=frozenset({"cpp"}))
    cf = plan_baseline(PLANNED, price, interval_minutes=30)
    perf = settle(
        price,
        vehicle_id="v",
        measured=MEASURED,
        counterfactual=cf,
        meter=Baseline(BaselineMethod.METER, None),
        rules=RULES,
    )
    assert perf.compliance is None
    assert perf.flags == ("price_event",)
    assert perf.incentive == Decimal("2.30")  # 6 kWh * 0.30 + 0.50 (a price event has no ask)
    assert len(cf.intervals or ()) == 6
    # the vehicle would not have drawn above the limit: nothing asked
    idle = plan_baseline(hourly(TUE + 5 * H, [6]), EVENT, interval_minutes=60)
    perf = settle(
        EVENT,
        vehicle_id="v",
        measured=(),
        counterfactual=idle,
        meter=Baseline(BaselineMethod.METER, None),
    )
    assert (perf.compliance, perf.flags, perf.incentive) == (None, ("nothing_asked",), None)
    none = settle(
        EVENT,
        vehicle_id="v",
        measured=MEASURED,
        counterfactual=Baseline(BaselineMethod.COUNTERFACTUAL, None),
        meter=Baseline(BaselineMethod.METER, None),
        rules=RULES,
    )
    assert none.method is None
    assert none.delivered_kwh is None
    assert none.flags == ("no_baseline",)
    assert none.measured_kwh == 6


def test_fallback_to_the_other_baseline_and_exceeded_ask() -> None:
    cf = plan_baseline(PLANNED, EVENT, interval_minutes=60)
    perf = settle(
        EVENT,
        vehicle_id="v",
        measured=hourly(TUE, [6, 0, 0, 0, 12]),
        counterfactual=cf,
        meter=Baseline(BaselineMethod.METER, None),
        target_kwh=30,
        rules=IncentiveRules(baseline_method=BaselineMethod.METER),
    )
    assert perf.method is BaselineMethod.COUNTERFACTUAL
    assert perf.flags == ("fallback_counterfactual", "exceeded_ask")
    assert perf.compliance == 1.0
    assert perf.target_met is False
    assert perf.incentive is None


def test_counterfactual_plan_removes_the_event_only() -> None:
    charger = ChargerModel(max_kw=7.36)
    request = VehicleRequest("v", 20.0, TUE + 12 * H, charger)
    other = PowerCap(TUE + 8 * H, TUE + 9 * H, 1.0, "user limit")
    inputs = PlanningInputs(
        (request,),
        TUE,
        OverlayTariff(
            FlatTariff("USD", Decimal("0.20")),
            [CppEvent(TUE + H, TUE + 4 * H, Decimal("1.0"), "evt-1")],
        ),
        caps=(PowerCap(TUE + H, TUE + 4 * H, 0.0, "evt-1"), other),
        horizon=timedelta(days=1),
    )
    stripped = without_event(inputs, EVENT)
    assert stripped.caps == (other,)
    assert isinstance(stripped.tariff, OverlayTariff)  # only price_names are stripped
    p = counterfactual_plan(inputs, EVENT)
    vp = p.vehicles["v"]
    assert vp.energy_between(TUE, TUE + H) == pytest.approx(7.36)
    assert vp.energy_between(TUE + H, TUE + 4 * H) == 0  # the event's price is still there
    both = EventWindow(
        "evt-1", "p", TUE + H, TUE + 4 * H, frozenset({"evt-1"}), frozenset({"evt-1"})
    )
    assert without_event(inputs, both).tariff == FlatTariff("USD", Decimal("0.20"))
    vp = counterfactual_plan(inputs, both).vehicles["v"]
    assert vp.energy_between(TUE + H, TUE + 4 * H) == pytest.approx(12.64)
    intervals = plan_intervals(vp)
    assert sum(k for _, _, k in intervals) == pytest.approx(20)
    base = plan_baseline(intervals, EVENT, interval_minutes=15, session_end=TUE + 12 * H)
    assert base.energy_kwh == pytest.approx(12.64)
    assert base.after_kwh == pytest.approx(0)


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError, match="end after"):
        EventWindow("e", "p", TUE, TUE)
    with pytest.raises(ValueError, match="aware"):
        EventWindow("e", "p", datetime(2030, 1, 1), TUE)
    with pytest.raises(ValueError, match="limit"):
        EventWindow("e", "p", TUE, TUE + H, limits=((TUE, TUE + H, float("nan")),))
    with pytest.raises(ValueError, match="energy"):
        plan_baseline(((TUE, TUE + H, float("nan")),), EVENT, interval_minutes=60)
    with pytest.raises(ValueError, match="energy"):
        plan_baseline(((TUE, TUE + H, -1.0),), EVENT, interval_minutes=60)
    with pytest.raises(ValueError, match="ends before"):
        plan_baseline(((TUE + H, TUE, 1.0),), EVENT, interval_minutes=60)
    with pytest.raises(ValueError, match="minutes"):
        event_grid(TUE, TUE + H, 0)
    with pytest.raises(ValueError, match="target"):
        settle(
            EVENT,
            vehicle_id="v",
            measured=(),
            counterfactual=Baseline(BaselineMethod.COUNTERFACTUAL, None),
            meter=Baseline(BaselineMethod.METER, None),
            target_kwh=float("inf"),
        )
    with pytest.raises(ValueError, match="per_kwh"):
        IncentiveRules(per_kwh=Decimal("NaN"))
    with pytest.raises(ValueError, match="min_compliance"):
        IncentiveRules(min_compliance=1.5)
    assert energy_in(((TUE, TUE, 1.0),), TUE - H, TUE + H) == 0.0  # zero-length: no overlap
    # overlapping intervals (ends not sorted) are all counted
    overlapping = ((TUE, TUE + 4 * H, 4.0), (TUE + H, TUE + 2 * H, 1.0))
    cf = plan_baseline(
        overlapping, EventWindow("e", "p", TUE + H, TUE + 2 * H), interval_minutes=60
    )
    assert cf.energy_kwh == pytest.approx(2.0)
    assert energy_in(overlapping, TUE + H, TUE + 2 * H) == pytest.approx(2.0)


kwh_lists = st.lists(st.floats(0, 20, allow_nan=False), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    baseline=kwh_lists,
    measured=kwh_lists,
    limit=st.floats(0, 10, allow_nan=False),
    shift=st.integers(-3, 3),
    minutes=st.sampled_from([5, 15, 30, 60]),
)
def test_properties_reduction_and_compliance(
    baseline: list[float], measured: list[float], limit: float, shift: int, minutes: int
) -> None:
    event = EventWindow(
        "e", "p", TUE, TUE + 3 * H, frozenset({"e"}), limits=((TUE, TUE + 3 * H, limit),)
    )
    cf = plan_baseline(hourly(TUE + shift * H, baseline), event, interval_minutes=minutes)
    perf = settle(
        event,
        vehicle_id="v",
        measured=hourly(TUE - H, measured),
        counterfactual=cf,
        meter=Baseline(BaselineMethod.METER, None),
        rules=RULES,
    )
    assert cf.energy_kwh is not None
    assert perf.delivered_kwh is not None
    assert perf.delivered_kwh <= cf.energy_kwh + 1e-9  # never above the baseline's energy
    if perf.compliance is not None:
        assert 0.0 <= perf.compliance <= 1.0
        assert perf.asked_kwh is not None
        raw = perf.delivered_kwh / perf.asked_kwh
        if not 0.0 <= raw <= 1.0:
            assert set(perf.flags) & {"increased_load", "exceeded_ask"}
    else:
        assert perf.flags
    assert perf.shifted_kwh is not None
    assert 0.0 <= perf.shifted_kwh <= max(perf.delivered_kwh, 0) + 1e-9
    assert perf.incentive is not None
    assert perf.incentive >= 0
