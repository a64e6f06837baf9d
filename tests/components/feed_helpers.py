"""Helpers for the power-feed charger tests: a discharge target in place of the planner's (the
planner's own discharge decisions are another part of issue #18), and recording demo EVSEs."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime

import pytest

from custom_components.pev_portal.charging.controller import SOURCE_PLAN, Target
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.simulator import DemoEvse
from custom_components.pev_portal.runtime import ChargerRuntime

DEMO_V2G = {
    "charger_name": "Garage",
    "charger_type": "demo",
    "meter_source": "demo",
    "demo_bidirectional": True,
}


def feed_targets(
    monkeypatch: pytest.MonkeyPatch,
    coordinator: PevPortalCoordinator,
    feeds: dict[str, float],
    limits: dict[str, float] | None = None,
) -> None:
    """From now on the planner's target for a charger in ``feeds`` is a discharge at that
    power (kW); one in ``limits`` a plain charge limit (kW). The dicts are read at each pass:
    a test changes them to change the targets."""
    real = coordinator.smart.target
    wanted = limits if limits is not None else {}

    def target(runtime: ChargerRuntime, now: datetime) -> Target:
        found = real(runtime, now)
        if (kw := feeds.get(runtime.charger_id)) is not None:
            return replace(found, limit_kw=0.0, discharge_kw=kw, pause_reason=None)
        if (limit := wanted.get(runtime.charger_id)) is not None:
            return Target(runtime.charger_id, limit, SOURCE_PLAN)
        return found

    monkeypatch.setattr(coordinator.smart, "target", target)


def record_evse(runtime: ChargerRuntime, seen: list[tuple[str, str, float]]) -> DemoEvse:
    """Replace the demo charger's EVSE by one that records every command it receives, as
    (charger ID, command, value), into ``seen`` (shared between chargers: the order)."""
    assert runtime.demo is not None
    charger_id = runtime.charger_id

    class RecordingEvse(DemoEvse):
        def set_enabled(self, enabled: bool) -> None:
            seen.append((charger_id, "enabled", float(enabled)))
            super().set_enabled(enabled)

        def set_current(self, amps: float) -> None:
            seen.append((charger_id, "current", float(amps)))
            super().set_current(amps)

        def set_discharge(self, amps: float) -> None:
            seen.append((charger_id, "discharge", float(amps)))
            super().set_discharge(amps)

    evse = runtime.demo.evse
    runtime.demo.evse = RecordingEvse(**{f.name: getattr(evse, f.name) for f in fields(evse)})
    return runtime.demo.evse
