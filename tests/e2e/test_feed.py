"""End to end: power feed (V2H/V2G) on the card, in a real Home Assistant and headless Chromium.

In the end-to-end tests' one Home Assistant (harness.py), a premise on a flat 0.30 EUR/kWh with
the demo charger set up as bidirectional (the charger form's choice), the home's consumption
(5 kW, a template sensor) in the options' power feed section, the demo's bidirectional car
plugged in at 50 %, charging cheapest by a departure 10 hours ahead with power feed on (floor
40 %), and a local price event of 0.65 EUR/kWh from 1 to 4 hours ahead: a price spread. The
card's plan chart (tests/e2e/feed.mjs) draws the power fed back below its zero line (the bars
marked data-test="feed-bar"), charging above it, with its legend entry and the plan's feed
line, and the browser's console has no error from the integration. The premise and its
dashboard are removed afterwards. Screenshot: test-output/e2e/card-feed.png (copied to
docs/images/ with PEV_PORTAL_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .harness import (
    DOCS_IMAGES,
    E2E_MARKS,
    OUTPUT,
    SharedHomeAssistant,
    delete_dashboard,
    onboard,
    run_script,
)

pytestmark = E2E_MARKS

ANSWERS = {
    **onboard.CONFIG_FLOW_ANSWERS,
    "charger": {"charger_name": "Driveway", "charger_type": "demo", "demo_bidirectional": True},
}
OPTIONS = {"init": {"power_feed": {"home_load_entity": "sensor.home_power"}}}


def _card_data(api: onboard.Api) -> dict[str, Any]:
    assert api.token is not None
    ws = onboard.WebSocket(api.base_url, api.token)
    try:
        data: dict[str, Any] = ws.call({"type": "pev_portal/dashboard"})["chargers"][0]
        return data
    finally:
        ws.close()


def _wait_for(api: onboard.Api, ready: Any, what: str, timeout: float = 30) -> dict[str, Any]:
    """The charger's card data once ready(data) holds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            data = _card_data(api)
        except onboard.SetupError, IndexError:
            data = {}
        if data and ready(data):
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s: {data}")
        time.sleep(0.5)


def _service(api: onboard.Api, domain: str, name: str, data: dict[str, Any]) -> None:
    api.call("POST", f"/api/services/{domain}/{name}", data)


@pytest.fixture
def feeding_car(e2e_hass: SharedHomeAssistant) -> Iterator[dict[str, Any]]:
    """The bidirectional demo charger's car plugged in, power feed on, a price peak ahead."""
    api = e2e_hass.api
    assert api is not None
    try:
        flow = "/api/config/config_entries/flow"
        first = api.call("POST", flow, {"handler": onboard.DOMAIN, "show_advanced_options": True})
        entry = onboard.run_flow(api, flow, first, ANSWERS, "PEV Portal config flow")["result"]
        vehicle = "/api/config/config_entries/subentries/flow"
        first = api.call("POST", vehicle, {"handler": [entry["entry_id"], "vehicle"]})
        onboard.run_flow(api, vehicle, first, onboard.SUBENTRY_FLOW_ANSWERS, "Vehicle flow")
        options = "/api/config/config_entries/options/flow"
        first = api.call("POST", options, {"handler": entry["entry_id"]})
        onboard.run_flow(api, options, first, OPTIONS, "Options flow")
        dashboard = onboard.create_dashboard(api)
        charger = _wait_for(api, lambda d: "demo_plug" in d["entities"], "the demo charger")
        _service(api, "switch", "turn_on", {"entity_id": charger["entities"]["demo_plug"]})
        entities = _wait_for(
            api, lambda d: "power_feed" in d["entities"], "the plugged-in car's controls"
        )["entities"]
        now = datetime.now(UTC)
        departure = (now + timedelta(hours=10)).strftime("%H:%M:00")
        _service(
            api,
            "select",
            "select_option",
            {"entity_id": entities["charge_mode"], "option": "cheapest"},
        )
        _service(api, "time", "set_value", {"entity_id": entities["departure"], "time": departure})
        _service(api, "switch", "turn_on", {"entity_id": entities["power_feed"]})
        _service(
            api,
            "pev_portal",
            "add_local_event",
            {
                "kind": "price",
                "name": "Evening peak",
                "start": (now + timedelta(hours=1)).isoformat(),
                "end": (now + timedelta(hours=4)).isoformat(),
                "price": 0.65,
            },
        )
        plan = _wait_for(
            api,
            lambda d: ((d.get("plan") or {}).get("feed") or {}).get("energy_kwh", 0) > 0,
            "a plan that feeds",
        )["plan"]
        yield {"hass": e2e_hass, "dashboard": dashboard, "plan": plan}
    finally:
        delete_dashboard(api, onboard.DASHBOARD_URL_PATH)


def test_the_plan_chart_draws_power_fed_back_below_the_axis(feeding_car: dict[str, Any]) -> None:
    """Power fed back at the peak is drawn below the chart's zero line, charging above it; the
    legend and the plan's line name it; no console error from the integration."""
    # What the integration planned (its websocket data): a feed at the peak, to the home.
    feed = feeding_car["plan"]["feed"]
    assert feed["home_kwh"] > 0, feed
    assert feed["floor"] == 40.0, feed

    env = {"PEV_E2E_DASHBOARD": feeding_car["dashboard"]}
    result, run = run_script(feeding_car["hass"], "feed.mjs", env, timeout=180)
    assert result["errors"] == [], result["errors"]
    assert run.returncode == 0, run.stderr[-3000:]

    chart = result["chart"]
    zero = chart["zero_y"]
    assert zero is not None, chart
    assert chart["feed"], chart
    for bar in chart["feed"]:
        # From the zero line downwards (SVG's y grows down).
        assert bar["y"] == pytest.approx(zero), chart
        assert bar["height"] > 0, chart
        assert bar["title"].startswith("Power fed back: "), bar
    assert chart["charge"], chart
    for bar in chart["charge"]:
        assert bar["y"] + bar["height"] <= zero + 0.5, chart  # charging: above the line
    assert result["legend"] == "Power fed back"
    assert result["plan_feed"].startswith("Feeds "), result["plan_feed"]
    assert "€" in result["plan_feed"], result["plan_feed"]

    assert result["console_errors"] == [], result["console_errors"]
    if result["other_console"]:
        print("feed: console errors from Home Assistant's own frontend:", result["other_console"])

    if os.environ.get("PEV_PORTAL_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(OUTPUT / "card-feed.png", DOCS_IMAGES / "card-feed.png")
