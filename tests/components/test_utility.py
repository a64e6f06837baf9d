"""The utility link end to end: Home Assistant, the demo charger and a real test VTN.

Scenarios of UC133 (3.1-3.5, req 30) and L3, DLC curtailment mid-session, pushes, polling,
reauthentication and the report outbox. The VTN is a real HTTP server on 127.0.0.1; Home
Assistant's own HTTP server receives its pushes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from homeassistant.components.calendar import DATA_COMPONENT as CALENDARS
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.utility import UtilityLink
from tests.vtn.server import TestVtn, now_utc

from .common import attrs, setup, state
from .conftest import GUEST_CAR, HOME_CAR, OPTIONS, PREMISE, PROGRAM, make_entry

GARAGE = "garage"


def utility_config(vtn: TestVtn, callback: str | None, **changes: Any) -> dict[str, Any]:
    """The entry's utility-link data for the test VTN."""
    return {
        "vtn_url": vtn.base_url,
        "auth_type": "client_credentials",
        "client_id": "ven-client",
        "client_secret": "ven-secret",
        "ven_name": PREMISE["premise_id"],
        "programs": [PROGRAM],
        "utility_id": "UTIL-A",
        "allow_http": True,
        **({"callback_url": callback} if callback else {}),
        **changes,
    }


def linked_entry(
    vtn: TestVtn,
    callback: str | None,
    vehicles: list[dict[str, Any]] | None = None,
    *,
    options: dict[str, Any] | None = None,
    charger: dict[str, Any] | None = None,
    **changes: Any,
) -> MockConfigEntry:
    """The demo premise with a utility link (``changes``: to the link's settings; ``charger``:
    the first charger's form, the plain demo charger when not given)."""
    entry = make_entry(charger=charger, vehicles=vehicles)
    data = {**PREMISE, "utility": utility_config(vtn, callback, **changes)}
    return MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data=data,
        options=options or OPTIONS,
        subentries_data=[
            {
                "subentry_type": s.subentry_type,
                "title": s.title,
                "data": dict(s.data),
                "subentry_id": s.subentry_id,
                "unique_id": s.unique_id,
            }
            for s in entry.subentries.values()
        ],
        entry_id="premise1",
    )


async def wait_for(
    hass: HomeAssistant, predicate: Callable[[], bool], timeout: float = 30.0
) -> float:
    """Wait (real time) until predicate() holds; return the seconds it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not predicate():
        if loop.time() - start > timeout:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
        await hass.async_block_till_done()
    return loop.time() - start


async def plug(hass: HomeAssistant, on: bool = True) -> None:
    """Plug the demo car in (or out)."""
    await hass.services.async_call(
        "switch",
        "turn_on" if on else "turn_off",
        {"entity_id": f"switch.{GARAGE}_demo_car_plugged_in"},
        blocking=True,
    )


def link_of(coordinator: PevPortalCoordinator) -> UtilityLink:
    link = coordinator.link
    assert link is not None
    return link


# -- binding scenarios -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vehicles", "answer", "outcome", "party", "program_rate"),
    [
        # UC133 3.1: home
        ([HOME_CAR], ("approve", "PREMISE_CUSTOMER", None), "home", "premise_customer", True),
        # 3.2: guest, premise pays (the car is not registered here)
        ([], ("approve", "PREMISE_CUSTOMER", None), "guest_premise_pays", "premise_customer", True),
        # 3.3: guest, PEV customer pays
        ([GUEST_CAR], ("approve", "PEV_CUSTOMER", None), "guest_pev_pays", "pev_customer", True),
        # 3.4 / L3: roaming PEV of another utility, through the clearinghouse
        ([], ("approve", "PEV_CUSTOMER", "UTIL-B"), "roaming", "clearinghouse", True),
        # 3.5: not enrolled
        ([HOME_CAR], ("deny", None, None), "not_enrolled", "premise_customer", False),
    ],
)
async def test_binding_scenarios(
    hass: HomeAssistant,
    vtn: TestVtn,
    callback_base: str,
    vehicles: list[dict[str, Any]],
    answer: tuple[str, str | None, str | None],
    outcome: str,
    party: str,
    program_rate: bool,
) -> None:
    """The utility's answer decides the outcome, the billing party and the rate."""
    kind, billing, home_utility = answer
    if kind == "approve":
        vtn.approve("PEV-DEMO-0001", billing_party=billing or "", home_utility_id=home_utility)
    else:
        vtn.deny("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base, vehicles=vehicles))
    assert state(hass, "binary_sensor.test_home_utility_link_utility_connection") == "on"

    await plug(hass)
    assert state(hass, f"sensor.{GARAGE}_binding") in ("pending", outcome)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == outcome)
    assert state(hass, f"sensor.{GARAGE}_billing_party") == party
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    assert runtime.session.decision.program_rate is program_rate

    resource = vtn.resource_named("PEV-DEMO-0001")
    assert resource is not None
    sent = {a["type"]: a["values"] for a in resource["attributes"]}
    assert sent["PEV_ID"] == ["PEV-DEMO-0001"]
    assert sent["PREMISE_ID"] == [PREMISE["premise_id"]]
    assert sent["CONNECTION"] == ["PREMISE_AC_L2"]
    assert sent["MAX_POWER_CONSUMPTION"] == [pytest.approx(11.04)]


async def test_no_communications(hass: HomeAssistant, vtn: TestVtn, callback_base: str) -> None:
    """Req 30: with the VTN down, the session is bound as no communications and charges."""
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await vtn.go_down()
    coordinator.validation_window = 1.0  # the test does not wait a minute
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "no_communications")
    assert state(hass, f"sensor.{GARAGE}_billing_party") == "premise_customer"
    runtime = coordinator.chargers["charger1"]
    assert runtime.session is not None
    assert runtime.session.decision.program_rate is False
    assert runtime.adapter.status().value in ("plugged", "charging")
    assert state(hass, "binary_sensor.test_home_utility_link_utility_connection") == "off"


async def test_late_answer(hass: HomeAssistant, vtn: TestVtn, callback_base: str) -> None:
    """An answer after the validation window does not count: no communications."""
    vtn.answer_after(3.0)
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    coordinator.validation_window = 1.0
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "no_communications")


async def test_answer_by_polling_without_push(hass: HomeAssistant, vtn: TestVtn) -> None:
    """Without a callback URL the answer is read by polling the resource."""
    vtn.answer_after(0.5)
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, None))
    assert link_of(coordinator).state.push_active is False
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")


# -- events ------------------------------------------------------------------------------


async def test_dlc_curtails_mid_session(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A load-control event pushed mid-session caps the charger within about a second."""
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    runtime.demo.step(now_utc())
    assert runtime.demo.evse.current_limit_a == 16

    event = vtn.create_dlc_event(7.0, now_utc() - timedelta(seconds=1), timedelta(hours=1))
    took = await wait_for(hass, lambda: runtime.demo is not None and runtime.cap_kw == 7.0)
    assert took < 2.0
    await wait_for(
        hass, lambda: runtime.demo is not None and runtime.demo.evse.current_limit_a == 10
    )
    assert state(hass, "sensor.test_home_utility_link_active_event") == "load control"
    assert attrs(hass, "sensor.test_home_utility_link_active_event")["cap_kw"] == 7.0
    # The charging-plan calendar shows the utility's cap the planner sees.
    calendar = hass.data[CALENDARS].get_entity("calendar.test_home_charging_plan")
    assert calendar is not None
    window = (now_utc() - timedelta(hours=1), now_utc() + timedelta(hours=2))

    async def caps() -> list[str]:
        events = await calendar.async_get_events(hass, *window)
        return [f"{e.summary} / {e.description}" for e in events if "≤" in e.summary]

    for _ in range(100):
        if await caps():
            break
        await asyncio.sleep(0.05)
        await hass.async_block_till_done()
    [cap] = await caps()
    assert cap.endswith("≤ 7 kW / Utility load-control event on Garage")

    vtn.cancel_event(event["id"])
    await wait_for(hass, lambda: runtime.cap_kw is None)
    await wait_for(
        hass, lambda: runtime.demo is not None and runtime.demo.evse.current_limit_a == 16
    )
    assert state(hass, "sensor.test_home_utility_link_active_event") == "unknown"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the disabled-by-default sensors
async def test_cpp_price_applies_to_enrolled_session(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A critical-peak PRICE event sets the session's price; the calendar shows it."""
    vtn.approve("PEV-DEMO-0001")
    await setup(hass, linked_entry(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    vtn.create_cpp_event(0.95, now_utc() - timedelta(minutes=1), timedelta(hours=2), currency="EUR")
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_current_price") == "0.95")
    assert state(hass, f"sensor.{GARAGE}_tariff_period") == "critical peak"
    assert state(hass, "sensor.test_home_utility_link_utility_price") == "0.95"
    assert state(hass, "calendar.test_home_utility_link_program_events") == "on"


async def test_malformed_push_is_skipped_and_polled(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, aiohttp_client: Callable[..., Any]
) -> None:
    """A malformed or unauthenticated push is refused or skipped; the echo probe answers."""
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    link = link_of(coordinator)
    client = await aiohttp_client(hass.http.app)
    url = f"/api/pev_portal/notify/{link.webhook_id}"
    echo = await client.get(f"{url}/echo", params={"echo": "ping-42"})
    assert echo.status == 200
    assert await echo.text() == "ping-42"
    refused = await client.post(url, data=b"{}", headers={"Authorization": "Bearer wrong"})
    assert refused.status == 401
    assert (await client.post("/api/pev_portal/notify/unknown", data=b"{}")).status == 404
    polls = vtn.requests.copy()
    bad = await client.post(
        url, data=b"not json", headers={"Authorization": f"Bearer {link.bearer}"}
    )
    assert bad.status == 200
    await wait_for(hass, lambda: sum(vtn.requests.values()) > sum(polls.values()))
    # A double-encoded snake_case notification is understood.
    event = vtn.create_simple_event(3, now_utc() - timedelta(minutes=1), timedelta(hours=1))
    await vtn.settle()
    await wait_for(hass, lambda: event["id"] in link.state.events)


# -- health, reauthentication ------------------------------------------------------------


async def test_auth_failure_starts_reauth(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """A VTN that refuses the credentials raises a repair and a reauthentication flow."""
    vtn.fail_auth(True)
    entry = linked_entry(vtn, callback_base)
    await setup(hass, entry)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "utility_auth_premise1")
    assert issue is not None
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]

    vtn.fail_auth(False)
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {"client_id": "ven-client", "client_secret": "ven-secret"}
    )
    await hass.async_block_till_done()
    assert result["type"] == "abort"
    assert result["reason"] == "reauth_successful"
    assert entry.state is ConfigEntryState.LOADED
    assert ir.async_get(hass).async_get_issue(DOMAIN, "utility_auth_premise1") is None


# -- reports and the outbox ---------------------------------------------------------------


@pytest.fixture
def ticking() -> Iterator[Any]:
    """A clock that runs at real speed (so real I/O and waits work) and can jump ahead."""
    with freeze_time(now_utc(), tick=True) as factory:
        yield factory


async def advance(hass: HomeAssistant, freezer: Any, seconds: float) -> None:
    """Move the clock in 5-minute steps, letting the demo charger and the link run."""
    remaining = seconds
    while remaining > 0:
        step = min(300.0, remaining)
        freezer.tick(timedelta(seconds=step))
        async_fire_time_changed(hass)
        # Polls, pumps and report queueing run as background tasks: let them finish before
        # the clock jumps again (a jump during a request would time it out).
        await hass.async_block_till_done(wait_background_tasks=True)
        remaining -= step


def usage_intervals(report: dict[str, Any]) -> list[tuple[str, float]]:
    """(interval start, kWh) of a USAGE report."""
    found = []
    for resource in report["resources"]:
        for interval in resource["intervals"]:
            start = (interval.get("intervalPeriod") or resource.get("intervalPeriod"))["start"]
            usage = next(p for p in interval["payloads"] if p["type"] == "USAGE")
            found.append((start, usage["values"][0]))
    return found


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the disabled-by-default sensors
async def test_usage_report_updated_in_place(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """One USAGE report per session, named after it, updated while charging and at unplug."""
    vtn.approve("PEV-DEMO-0001")
    event = vtn.create_price_event(
        [0.2] * 48, now_utc() - timedelta(hours=1), timedelta(hours=1), report_usage=True
    )
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    session_id = coordinator.chargers["charger1"].session.session_id  # type: ignore[union-attr]

    await advance(hass, ticking, 50 * 60)
    await wait_for(
        hass,
        lambda: (
            len(vtn.reports) == 1 and len(usage_intervals(next(iter(vtn.reports.values())))) >= 2
        ),
    )
    report = next(iter(vtn.reports.values()))
    assert report["reportName"] == session_id
    assert report["clientName"] == PREMISE["premise_id"]
    assert report["eventID"] == event["id"]
    first = usage_intervals(report)
    assert len(first) >= 2

    await plug(hass, on=False)
    await wait_for(
        hass,
        lambda: (
            len(vtn.report_versions[report["id"]]) >= 2
            and len(usage_intervals(vtn.reports[report["id"]])) > len(first)
        ),
    )
    await wait_for(hass, lambda: link_of(coordinator).state.backlog == 0)
    final = usage_intervals(vtn.reports[report["id"]])
    assert len(vtn.reports) == 1, "updated in place, never a second report"
    starts = [start for start, _ in final]
    assert len(starts) == len(set(starts)), "no interval twice"
    metered = coordinator.chargers["charger1"].last_session.meter_kwh  # type: ignore[union-attr]
    # Each reported interval is rounded to 1 Wh / 1000 (6 decimals).
    assert sum(kwh for _, kwh in final) == pytest.approx(metered, abs=1e-6 * len(final))
    assert state(hass, "sensor.test_home_utility_link_reports_waiting") == "0"
    assert state(hass, "sensor.test_home_utility_link_last_report_acknowledged") != "unknown"


async def test_backlog_after_two_day_outage(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """Reports made during a two-day outage wait in the outbox and arrive completely, once."""
    vtn.approve("PEV-DEMO-0001")
    vtn.create_price_event(
        [0.2] * 96, now_utc() - timedelta(hours=1), timedelta(hours=1), report_usage=True
    )
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    link = link_of(coordinator)
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    await vtn.go_down()
    await advance(hass, ticking, 2 * 24 * 3600)
    await plug(hass, on=False)
    await hass.async_block_till_done()
    assert vtn.reports == {}
    assert link.state.backlog >= 1
    assert state(hass, "binary_sensor.test_home_utility_link_utility_connection") == "off"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "utility_down_premise1")
    assert issue is not None, "a repair after an hour down"

    await vtn.come_back()
    await advance(hass, ticking, 3600)  # the backoff is at most an hour
    await wait_for(hass, lambda: link.state.backlog == 0)
    assert len(vtn.reports) == 1
    report = next(iter(vtn.reports.values()))
    intervals = usage_intervals(report)
    starts = [start for start, _ in intervals]
    assert len(starts) == len(set(starts))
    metered = coordinator.chargers["charger1"].last_session.meter_kwh  # type: ignore[union-attr]
    assert sum(kwh for _, kwh in intervals) == pytest.approx(metered, abs=1e-6 * len(intervals))
    assert ir.async_get(hass).async_get_issue(DOMAIN, "utility_down_premise1") is None


async def test_diagnostics_show_exchanges_without_secrets(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """Diagnostics carry the last exchanges with the VTN; no token or secret is in them."""
    from custom_components.pev_portal.diagnostics import (
        async_get_config_entry_diagnostics,
    )

    entry = linked_entry(vtn, callback_base)
    coordinator = await setup(hass, entry)
    link = link_of(coordinator)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = str(diagnostics)
    utility = diagnostics["utility"]
    assert utility["connected"] is True
    assert any("/programs" in x["url"] for x in utility["exchanges"])
    assert "ven-secret" not in text
    assert link.bearer not in text
    assert link.webhook_id not in text
    assert link.client is not None
    token = link.client._token
    assert token is None or token not in text
    assert diagnostics["entry"]["data"]["utility"]["client_secret"] == "**REDACTED**"


def operating_states(report: dict[str, Any]) -> list[str]:
    """The OPERATING_STATE values of a report, interval by interval."""
    return [
        payload["values"][0]
        for resource in report["resources"]
        for interval in resource["intervals"]
        for payload in interval["payloads"]
        if payload["type"] == "OPERATING_STATE"
    ]


async def test_charger_ignoring_a_cap_is_reported_as_error(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """A cap the charger ignores: OPERATING_STATE ERROR reaches the utility while it happens,
    and the report at unplug keeps the curtailed intervals apart from the failing ones."""
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    event = vtn.create_dlc_event(
        7.0, now_utc() - timedelta(seconds=1), timedelta(hours=2), report_state=True
    )
    await wait_for(hass, lambda: runtime.cap_kw == 7.0)
    await advance(hass, ticking, 20 * 60)  # obeyed: curtailed intervals
    assert runtime.demo.evse.current_limit_a == 10  # 7 kW at 230 V x 3 phases
    assert not vtn.reports

    # The charger stops obeying; a deeper cap (a second, more urgent event) is ignored.
    runtime.demo.evse.ignore_commands = True
    vtn.create_dlc_event(5.0, now_utc() - timedelta(seconds=1), timedelta(hours=1), priority=0)
    await wait_for(hass, lambda: runtime.cap_kw == 5.0)
    await advance(hass, ticking, 30)
    await wait_for(hass, lambda: any(operating_states(r) for r in vtn.reports.values()))
    (report,) = vtn.reports.values()
    assert report["eventID"] == event["id"]
    early = operating_states(report)
    assert early[-1] == "ERROR"
    assert "RUNNING_CURTAILED" in early
    issue_id = f"charger_ignores_commands_{coordinator.config_entry.entry_id}_charger1"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    await advance(hass, ticking, 10 * 60)
    await plug(hass, on=False)
    await wait_for(hass, lambda: len(vtn.report_versions[report["id"]]) >= 2)
    await wait_for(hass, lambda: link_of(coordinator).state.backlog == 0)
    final = operating_states(vtn.reports[report["id"]])
    assert len(vtn.reports) == 1, "updated in place"
    assert final[0] == "RUNNING_CURTAILED"
    first_error = final.index("ERROR")
    assert set(final[first_error:]) == {"ERROR"}, "ERROR from the ignored command on"


def resource_attributes(vtn: TestVtn, pev_id: str) -> dict[str, list[Any]]:
    """The attributes of the PEV's resource at the VTN, by type."""
    resource = vtn.resource_named(pev_id)
    assert resource is not None
    return {a["type"]: a["values"] for a in resource["attributes"]}


async def test_energy_request_and_departure_on_the_resource(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """UC133 step 4: the PEV's resource carries the energy wanted and the departure; a change
    of the target or departure updates it and keeps the utility's answer."""
    await hass.config.async_set_time_zone("UTC")
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    for domain, service, entity, data in (
        ("select", "select_option", "select.family_car_charge_mode", {"option": "cheapest"}),
        ("number", "set_value", "number.family_car_charge_target", {"value": 80}),
        ("time", "set_value", "time.family_car_departure", {"time": "07:30:00"}),
    ):
        await hass.services.async_call(
            domain, service, {"entity_id": entity, **data}, blocking=True
        )
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    attributes = resource_attributes(vtn, "PEV-DEMO-0001")
    # The demo car is at 30 %: 50 % of 60 kWh to reach 80 %.
    assert attributes["ENERGY_REQUEST"] == [pytest.approx(30.0)]
    (departure,) = attributes["DEPARTURE"]
    assert departure.endswith("07:30:00Z")

    await hass.services.async_call(
        "time",
        "set_value",
        {"entity_id": "time.family_car_departure", "time": "06:00:00"},
        blocking=True,
    )
    await wait_for(
        hass,
        lambda: resource_attributes(vtn, "PEV-DEMO-0001")["DEPARTURE"][0].endswith("06:00:00Z"),
    )
    attributes = resource_attributes(vtn, "PEV-DEMO-0001")
    assert attributes["BINDING"] == ["ENROLLED"], "the utility's answer is kept"
    assert coordinator.chargers["charger1"].session is not None


CONSEQUENCE = "You forfeit this month's $10 participation credit."


async def test_opt_out_consequence_shown_before_confirming(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """The program says what opting out costs: the card, the switch and the action show it,
    and the opt-out only happens once confirmed."""
    program = next(p for p in vtn.programs.values() if p["programName"] == PROGRAM)
    program["attributes"] = [{"type": "OPT_OUT_CONSEQUENCE", "values": [CONSEQUENCE]}]
    vtn.approve("PEV-DEMO-0001")
    coordinator = await setup(hass, linked_entry(vtn, callback_base))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    runtime = coordinator.chargers["charger1"]
    event = vtn.create_dlc_event(7.0, now_utc() - timedelta(seconds=1), timedelta(hours=1))
    await wait_for(hass, lambda: runtime.cap_kw == 7.0)

    active = coordinator.active_event()
    assert active is not None
    assert active["opt_out_allowed"] is True
    assert active["opt_out_consequence"] == CONSEQUENCE
    switch = f"switch.{GARAGE}_opt_out_of_event"
    await hass.async_block_till_done()
    assert attrs(hass, switch)["consequence"] == CONSEQUENCE

    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "charger1"), "premise1")
    assert device is not None
    for call in (
        hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True),
        hass.services.async_call(
            DOMAIN, "opt_out", {"device_id": device.id}, blocking=True, return_response=True
        ),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await call
        assert err.value.translation_key == "opt_out_needs_confirmation"
        assert err.value.translation_placeholders == {"consequence": CONSEQUENCE}
    assert coordinator.opted_out == set()
    assert runtime.cap_kw == 7.0

    response = await hass.services.async_call(
        DOMAIN,
        "opt_out",
        {"device_id": device.id, "confirm": True},
        blocking=True,
        return_response=True,
    )
    assert response == {"event_ids": [event["id"]], "consequences": [CONSEQUENCE]}
    await wait_for(hass, lambda: runtime.cap_kw is None)
    assert state(hass, switch) == "on"


async def test_link_diagnostic_entities(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str
) -> None:
    """The link's connectivity and its report outbox are diagnostic; the last acknowledged
    report is disabled by default."""
    await setup(hass, linked_entry(vtn, callback_base))
    registry = er.async_get(hass)
    prefix = "test_home_utility_link"
    for entity_id in (
        f"binary_sensor.{prefix}_utility_connection",
        f"sensor.{prefix}_reports_waiting",
        f"sensor.{prefix}_last_report_acknowledged",
    ):
        entry = registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert entry.entity_category is EntityCategory.DIAGNOSTIC
    ack = registry.async_get(f"sensor.{prefix}_last_report_acknowledged")
    assert ack is not None
    assert ack.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert state(hass, f"sensor.{prefix}_reports_waiting") == "0"
    for key in ("program", "active_event", "next_event", "utility_price"):
        entry = registry.async_get(f"sensor.{prefix}_{key}")
        assert entry is not None, key
        assert entry.entity_category is None
        assert entry.disabled_by is None
