"""The settlement's figures as Home Assistant stores and shows them (settlement_figures.py):
whatever the metered intervals hold (NaN, infinities, negative energy, an interval before the
plug-in), the performance is finite or None, never NaN, and its JSON reads back.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from custom_components.pev_portal.core.metering import Interval, Quality
from custom_components.pev_portal.core.settlement import EventWindow
from custom_components.pev_portal.settlement_figures import as_dict, compute, measured_energy

T0 = datetime(2026, 11, 23, 20, 45, tzinfo=UTC)
M = timedelta(minutes=15)
EVENT = EventWindow(
    "evt", "local", T0 + M, T0 + 5 * M, frozenset({"x"}), limits=((T0 + M, T0 + 5 * M, 6.9),)
)
ROW: dict[str, Any] = {
    "session_id": "s",
    "charger_id": "c",
    "pev_id": "PEV-1",
    "name": "Peak",
    "source": "local",
    "kind": "load_control",
    "event": {"target_kwh": 20.0},
    "counterfactual": [
        [(T0 + i * M).isoformat(), (T0 + (i + 1) * M).isoformat(), 2.76] for i in range(8)
    ],
}
energies = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 5, allow_nan=False),
)


def _interval(i: int, kwh: float, quality: Quality) -> Interval:
    return Interval(T0 + i * M, T0 + (i + 1) * M, kwh, "PEV-1", "P", "M", quality, 0, None)


def _finite_or_none(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_finite_or_none(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite_or_none(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


@settings(max_examples=150, deadline=None)
@given(
    kwh=st.lists(energies, min_size=1, max_size=8),
    quality=st.sampled_from(list(Quality)),
    final=st.booleans(),
)
@example(kwh=[0.0, 1.9974368165136843e305], quality=Quality.OK, final=False)  # overflowed
def test_never_a_nan(kwh: list[float], quality: Quality, final: bool) -> None:
    intervals = [_interval(i, k, quality) for i, k in enumerate(kwh)]
    measured, flags = measured_energy(intervals, EVENT.start, EVENT.end, T0 + timedelta(minutes=3))
    assert all(math.isfinite(k) and k >= 0 for _, _, k in measured)
    if any(not (math.isfinite(k) and 0 <= k <= 1000) for k in kwh[1:5]):
        assert "meter_gap" in flags
    unplug = T0 + 8 * M if final else None
    perf = compute(
        ROW,
        EVENT,
        plug_in=T0,
        unplug=unplug,
        minutes=15,
        measured=measured,
        past=[],
        tz=UTC,
        target=20.0,
        rules=None,
    )
    shown = as_dict(perf, ROW, final, 20.0, flags)
    assert _finite_or_none(shown)
    assert json.loads(json.dumps(shown, allow_nan=False)) == shown
    assert shown["delivered_kwh"] is not None
    assert shown["delivered_kwh"] <= shown["counterfactual_kwh"] + 1e-9


def test_the_first_interval_is_spread_from_the_plug_in() -> None:
    """Plugged in at 20:50 in the 20:45-21:00 interval: its energy counts from 20:50 on."""
    intervals = [_interval(0, 0.9, Quality.OK)]
    measured, _ = measured_energy(intervals, T0, T0 + M, T0 + timedelta(minutes=5))
    assert measured == [(T0 + timedelta(minutes=5), T0 + M, 0.9)]
