"""End to end against the test VTN: a program's declared rules read, then the performance,
flexibility and storage reports a reporting event asks for accepted by the VTN (its request
validation sees every body)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from custom_components.pev_portal.core.failsafe import Failsafe, FailsafeRule
from custom_components.pev_portal.core.flexibility import (
    forecast_grid,
    shed_available,
    storage_status,
    usage_forecast,
)
from custom_components.pev_portal.core.planner import ChargerModel, PowerCap, VehicleRequest, plan
from custom_components.pev_portal.core.settlement import (
    EventWindow,
    PlanningInputs,
    counterfactual_plan,
    meter_baseline,
    plan_baseline,
    plan_intervals,
    settle,
)
from custom_components.pev_portal.core.tariff import FlatTariff
from custom_components.pev_portal.openadr.client import VenClient
from custom_components.pev_portal.openadr.program_rules import failsafe_rule, incentive_rules
from custom_components.pev_portal.openadr.reports_flex import (
    flexibility_report,
    performance_report,
    requested_payloads,
    storage_report,
)
from tests.vtn.server import TestVtn

H = timedelta(hours=1)
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def descriptor(payload: str, reading: str, units: str) -> dict[str, str]:
    return {"payloadType": payload, "readingType": reading, "units": units}


async def test_declared_rules_and_reports_through_the_vtn(vtn: TestVtn, client: VenClient) -> None:
    vtn.add_program(
        "EV-PEAK",
        attributes=[
            {"type": "INCENTIVE_PER_KWH", "values": [0.30]},
            {"type": "INCENTIVE_PER_EVENT", "values": [0.50]},
            {"type": "FAILSAFE_CONSUMPTION_LIMIT", "values": [4.2]},
            {"type": "HEARTBEAT_PERIOD", "values": ["PT15M"]},
        ],
        payload_descriptors=[
            {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "PRICE", "currency": "USD"}
        ],
    )
    event = vtn.create_event(
        program="EV-PEAK",
        name="peak-reporting",
        interval_period={"start": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"), "duration": "PT3H"},
        intervals=[{"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [0.0]}]}],
        report_descriptors=[
            descriptor("BASELINE", "ESTIMATED", "KWH"),
            descriptor("DELTA_USAGE", "DIRECT_READ", "KWH"),
            descriptor("USAGE_FORECAST", "FORECAST", "KWH"),
            descriptor("LOAD_SHED_DELTA_AVAILABLE", "FORECAST", "KW"),
            descriptor("STORAGE_CHARGE_LEVEL", "DIRECT_READ", "PERCENT"),
        ],
    )
    [program] = await client.async_programs(["EV-PEAK"])
    rules = incentive_rules(program)
    assert rules is not None
    assert (rules.currency, rules.per_kwh, rules.per_event) == (
        "USD",
        Decimal("0.3"),
        Decimal("0.5"),
    )
    rule = failsafe_rule(program)
    assert rule == FailsafeRule(4.2, timedelta(minutes=15))
    assert Failsafe(rule, NOW).state(NOW + 16 * timedelta(minutes=1)).limit_kw == 4.2
    [seen] = await client.async_events([program.id])
    asked = requested_payloads(seen.report_descriptors)
    assert {"BASELINE", "DELTA_USAGE", "USAGE_FORECAST", "LOAD_SHED_DELTA_AVAILABLE"} <= asked

    # the session: plugged in one hour before the event, 30 kWh by 7 hours later
    plug_in = NOW - H
    window = EventWindow(
        event["id"],
        program.id,
        NOW,
        NOW + 3 * H,
        frozenset({"evt"}),
        limits=((NOW, NOW + 3 * H, 0.0),),
    )
    inputs = PlanningInputs(
        (VehicleRequest("PEV-1", 30.0, plug_in + 7 * H, ChargerModel(max_kw=7.36)),),
        plug_in,
        FlatTariff("USD", Decimal("0.25")),
        caps=(PowerCap(NOW, NOW + 3 * H, 0.0, "evt"),),
        horizon=timedelta(days=1),
    )
    frozen = plan_intervals(counterfactual_plan(inputs, window).vehicles["PEV-1"])
    baseline = plan_baseline(frozen, window, interval_minutes=15)
    measured = ((plug_in, NOW, 7.36), (NOW + 3 * H, NOW + 6 * H, 22.64))
    perf = settle(
        window,
        vehicle_id="PEV-1",
        measured=measured,
        counterfactual=baseline,
        meter=meter_baseline([], window, plug_in=plug_in, interval_minutes=15),
        target_kwh=30.0,
        rules=rules,
    )
    assert perf.delivered_kwh is not None
    assert round(perf.delivered_kwh, 2) == 22.08  # 3 h at 7.36 kW not drawn
    assert perf.compliance == 1.0
    assert perf.target_met is True
    assert perf.incentive == Decimal("7.12")  # 22.08 * 0.30 + 0.50
    assert baseline.intervals is not None
    ids = {"program_id": program.id, "event_id": event["id"], "client_name": "premise-1"}
    created = await client.async_upsert_report(
        performance_report(
            **ids,
            report_name=f"session-9-{event['id']}",
            pev_id="PEV-1",
            baseline=baseline.intervals,
            measured=perf.measured,
        )
    )
    grid = forecast_grid(NOW, NOW + 6 * H, 15)
    live = PlanningInputs(
        inputs.requests, NOW, inputs.tariff, inputs.caps, horizon=timedelta(days=1)
    )
    current = plan(
        live.requests,
        now=NOW,
        tariff=live.tariff,
        caps=live.caps,
        horizon=live.horizon,
        explain=False,
    )
    flex = await client.async_upsert_report(
        flexibility_report(
            **ids,
            report_name="flex-PEV-1",
            pev_id="PEV-1",
            forecast=usage_forecast(current.vehicles["PEV-1"], grid),
            shed=shed_available(live, "PEV-1", grid, current=current),
        )
    )
    status = storage_status(48.0, 64.0)
    assert status is not None
    soc = await client.async_upsert_report(
        storage_report(**ids, report_name="soc-PEV-1", pev_id="PEV-1", at=NOW, storage=status)
    )
    assert len({created["id"], flex["id"], soc["id"]}) == 3
    stored = vtn.reports[created["id"]]
    first = stored["resources"][0]["intervals"][0]["payloads"]
    assert first == [
        {"type": "BASELINE", "values": [1.84]},
        {"type": "DELTA_USAGE", "values": [-1.84]},
    ]
    shed_values = [
        i["payloads"][1]["values"][0] for i in vtn.reports[flex["id"]]["resources"][0]["intervals"]
    ]
    assert all(v <= 0 for v in shed_values)
    assert vtn.requests["POST /reports"] == 3
