"""Flexibility: forecast, sheddable load (slack bound, verified), battery, refresh rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.pev_portal.core.flexibility import (
    ShedInterval,
    forecast_grid,
    refresh_due,
    shed_available,
    storage_status,
    usage_forecast,
)
from custom_components.pev_portal.core.planner import (
    REACHABLE_TOL_KWH,
    ChargeMode,
    ChargerModel,
    PowerCap,
    VehicleRequest,
    plan,
)
from custom_components.pev_portal.core.settlement import PlanningInputs
from custom_components.pev_portal.core.tariff import FlatTariff

H = timedelta(hours=1)
NOW = datetime(2030, 7, 2, 16, tzinfo=UTC)
FLAT = FlatTariff("USD", Decimal("0.20"))
CHARGER = ChargerModel(max_kw=7.36)  # 32 A single phase


def inputs(*requests: VehicleRequest, circuit_kw: float | None = None) -> PlanningInputs:
    return PlanningInputs(
        tuple(requests), NOW, FLAT, circuit_kw=circuit_kw, horizon=timedelta(days=1)
    )


def run(i: PlanningInputs, extra: tuple[PowerCap, ...] = ()):  # type: ignore[no-untyped-def]
    return plan(
        i.requests,
        now=i.now,
        tariff=i.tariff,
        caps=i.caps + extra,
        circuit_kw=i.circuit_kw,
        horizon=i.horizon,
        explain=False,
    )


def test_grid_and_forecast() -> None:
    grid = forecast_grid(NOW + timedelta(minutes=7), NOW + H, 15)
    assert grid[0] == (NOW, NOW + timedelta(minutes=15))
    assert len(grid) == 4
    with pytest.raises(ValueError, match="minutes"):
        forecast_grid(NOW, NOW + H, 61)
    with pytest.raises(ValueError, match="aware"):
        forecast_grid(datetime(2030, 1, 1), NOW, 15)
    i = inputs(VehicleRequest("v", 22.08, NOW + 6 * H, CHARGER))
    vp = run(i).vehicles["v"]
    forecast = usage_forecast(vp, forecast_grid(NOW, NOW + 6 * H, 60))
    assert [round(k, 6) for _, _, k in forecast] == [7.36, 7.36, 7.36, 0, 0, 0]


def test_loose_target_every_planned_interval_can_be_shed() -> None:
    # 22.08 kWh by 22:00: 3 h at 7.36 kW planned from 16:00, 3 h to spare (slack 22.08 kWh)
    i = inputs(VehicleRequest("v", 22.08, NOW + 6 * H, CHARGER))
    shed = shed_available(i, "v", forecast_grid(NOW, NOW + 6 * H, 60))
    assert [(round(s.planned_kw, 6), round(s.shed_kw, 6)) for s in shed] == [
        (7.36, 7.36),
        (7.36, 7.36),
        (7.36, 7.36),
        (0, 0),
        (0, 0),
        (0, 0),
    ]


def test_tight_target_sheds_only_the_slack() -> None:
    # 40 kWh by 22:00 of at most 44.16: slack 4.16 kWh
    i = inputs(VehicleRequest("v", 40.0, NOW + 6 * H, CHARGER))
    grid = forecast_grid(NOW, NOW + 6 * H, 60)
    shed = shed_available(i, "v", grid)
    assert shed[5].planned_kw == pytest.approx(3.2)
    assert shed[5].shed_kw == 0  # the last hour cannot move anywhere: every other one is full
    for s in shed[:5]:
        assert 3.5 < s.shed_kw <= 4.16 + 1e-9  # the bound (4.16) rounded down to current steps
        vp = run(
            i, (PowerCap(s.start, s.end, s.planned_kw - s.shed_kw, "probe", frozenset({"v"})),)
        )
        assert vp.vehicles["v"].shortfall_kwh <= REACHABLE_TOL_KWH


def test_nothing_to_shed_when_out_of_reach_off_or_unknown() -> None:
    grid = forecast_grid(NOW, NOW + 3 * H, 60)
    far = shed_available(inputs(VehicleRequest("v", 50.0, NOW + 3 * H, CHARGER)), "v", grid)
    assert [s.shed_kw for s in far] == [0, 0, 0]
    assert far[0].planned_kw == pytest.approx(7.36)
    off = shed_available(
        inputs(VehicleRequest("v", 5.0, NOW + 3 * H, CHARGER, ChargeMode.OFF)), "v", grid
    )
    assert [s.shed_kw for s in off] == [0, 0, 0]
    with pytest.raises(KeyError):
        shed_available(inputs(VehicleRequest("v", 5.0, NOW + 3 * H, CHARGER)), "w", grid)
    # intervals before now are clipped to now
    past = shed_available(
        inputs(VehicleRequest("v", 5.0, NOW + 3 * H, CHARGER)), "v", [(NOW - H, NOW)]
    )
    assert past == [ShedInterval(NOW, NOW, 0.0, 0.0)]


def test_shared_circuit_bound_is_verified() -> None:
    # Two cars on one 7.36 kW circuit: each alone has slack, together they do not (the other
    # car taking over the hour is no shed for the premise).
    a = VehicleRequest("a", 14.72, NOW + 4 * H, CHARGER)
    b = VehicleRequest("b", 14.72, NOW + 4 * H, CHARGER)
    i = inputs(a, b, circuit_kw=7.36)
    grid = forecast_grid(NOW, NOW + 4 * H, 60)
    for vid in ("a", "b"):
        for s in shed_available(i, vid, grid):
            assert s.shed_kw == pytest.approx(0, abs=0.2)


@settings(max_examples=40, deadline=None)
@given(
    energy=st.floats(0.5, 45),
    hours=st.integers(2, 8),
    cap=st.floats(0, 7.36),
    circuit=st.sampled_from([None, 7.36, 11.0]),
    second=st.floats(0, 20),
)
def test_property_every_shed_keeps_the_target(
    energy: float, hours: int, cap: float, circuit: float | None, second: float
) -> None:
    requests = [VehicleRequest("v", energy, NOW + hours * H, CHARGER)]
    if second > 0:
        requests.append(
            VehicleRequest("w", second, NOW + 8 * H, ChargerModel(max_kw=11.04, phases=3, max_a=16))
        )
    i = replace(
        inputs(*requests, circuit_kw=circuit), caps=(PowerCap(NOW + H, NOW + 2 * H, cap, "event"),)
    )
    reachable = run(i).vehicles["v"].shortfall_kwh <= REACHABLE_TOL_KWH
    for s in shed_available(i, "v", forecast_grid(NOW, NOW + hours * H, 60)):
        assert 0 <= s.shed_kw <= s.planned_kw + 1e-9
        if not reachable:
            assert s.shed_kw == 0
        elif s.shed_kw > 0:
            probe = PowerCap(s.start, s.end, s.planned_kw - s.shed_kw, "probe", frozenset({"v"}))
            assert run(i, (probe,)).vehicles["v"].shortfall_kwh <= REACHABLE_TOL_KWH


def test_storage_status() -> None:
    status = storage_status(55.0, 60.0)
    assert status is not None
    assert (status.charge_level, status.usable_capacity_kwh) == (0.55, 60.0)
    for soc, cap in (
        (None, 60.0),
        (50.0, None),
        (float("nan"), 60.0),
        (101.0, 60.0),
        (50.0, 0.0),
        (-1.0, 60.0),
        (50.0, float("inf")),
    ):
        assert storage_status(soc, cap) is None


def test_refresh_rule() -> None:
    assert refresh_due(None, NOW, changed=False)
    assert not refresh_due(NOW, NOW + timedelta(minutes=4), changed=True)
    assert refresh_due(NOW, NOW + timedelta(minutes=5), changed=True)
    assert not refresh_due(NOW, NOW + timedelta(minutes=59), changed=False)
    assert refresh_due(NOW, NOW + H, changed=False)
