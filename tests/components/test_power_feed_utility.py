"""The power feed's whole chain with the utility (issue #18): the test VTN on 127.0.0.1 (every
request and answer checked against the 3.1.0 contract) sends EXPORT_PRICE and
EXPORT_CAPACITY_LIMIT events; Home Assistant plans the feed (part B), the single command owner
tells the demo charger set up as bidirectional on its form (part A, ``DEMO_V2G``), the received
register is metered (part C), and the reports go back to the VTN (part D); opting out (part F).

What is asserted is what the demo EVSE measured: its discharged-energy register between clock
steps, never the plan.

The set-up: the program's PRICE event (which also asks for USAGE reports) prices import at
0.20/kWh until five hours after the current hour and 0.10 after it; a home drawing 0.5 kW (a
power sensor in W); no export rate in the options, so export pays only in the utility's
EXPORT_PRICE window of 90 minutes at 0.18/kWh: 0.18 x 0.92 x 0.92 = 0.152 beats the cheapest
replacement plus wear (0.10 + 0.04 x 0.92 = 0.137), the planner's rule. The car at 80 %, floor
40 %, target 50 % by a departure eight hours after the current hour, so the floor and the target
never hold the feed back in the window, and the feed there is the charger's full 7.36 kW
(32 A) unless an export limit holds it. A 2 kW EXPORT_CAPACITY_LIMIT covers the middle half
hour of the window.

The clock: ``ticking``, as test_utility.py's (started at 13:07 UTC of the next day, so the
windows fall at the same time of day in every run): it runs at real speed and the test jumps it
a minute at a time, or to the next quarter hour when that is sooner. The freezer's frozen clock
does not do here: the VTN, Home Assistant's HTTP server and the link's requests need real time
to run (their timeouts and the VTN's timestamps would stand still), while the demo EVSE
simulates by the time between its steps, so a minute's jump is a minute of feed. Each jump
waits for Home Assistant's background tasks (polls, reports, the feed plan in the executor)
before the next one, so no request is cut by a jump, and every wait is for a condition
(``wait_for``, ``Chain.step_until``), never a fixed sleep. Jumping onto the quarter hours puts
the planner's timer where the slots and the event windows change, as the real clock would; the
only real time in the measurement is the few milliseconds between a jump and the command it
triggers (``SLACK_KW``, ``NEAR``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from freezegun import freeze_time
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.pev_portal.const import DOMAIN, TICK_SECONDS
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.simulator import DemoEvse, bidirectional_car
from custom_components.pev_portal.runtime import ChargerRuntime
from tests.vtn.server import TestVtn, now_utc

from .common import setup, state
from .conftest import OPTIONS
from .feed_helpers import DEMO_V2G
from .test_power_feed_plan import HOME
from .test_smart_charging import _call, _cheapest, utc
from .test_utility import GARAGE, link_of, linked_entry, wait_for
from .test_utility_export import export_event
from .test_utility_feed_reports import FEED
from .test_utility_flex import PEV, named, reporting_event, values

__all__ = ["utc"]  # a fixture, used by name

HOME_KW = 0.5
LIMIT_KW = 2.0
EXPORT_PRICE = 0.18
IMPORT_PRICE = 0.20
NIGHT_PRICE = 0.10
Q = timedelta(minutes=15)
FULL_KW = 32 * 230 / 1000  # the bidirectional demo's 32 A on one phase
# A command follows the jump that triggers it by milliseconds of real time, fed at the old power.
SLACK_KW = 0.05
NEAR = timedelta(seconds=2)  # samples are taken at the jumps; a step ending on a boundary


@pytest.fixture
def ticking() -> Iterator[Any]:
    """test_utility's clock at real speed that the test jumps ahead, started at 13:07 UTC of
    the next day (always ahead of the real time), so where the windows fall in the hour and
    the day is the same in every run."""
    start = (now_utc() + timedelta(days=1)).replace(hour=13, minute=7, second=0, microsecond=0)
    with freeze_time(start, tick=True) as factory:
        yield factory


def quarter_after(at: datetime) -> datetime:
    """The first quarter hour at least 20 minutes after ``at`` (the flex report's rate limit
    lets the dispatch forecast through before it)."""
    at = (at + timedelta(minutes=20)).replace(second=0, microsecond=0)
    return at + timedelta(minutes=(-at.minute) % 15)


@dataclass
class Chain:
    """The linked premise with the demo car feeding, and the EVSE's register per step."""

    coordinator: PevPortalCoordinator
    runtime: ChargerRuntime
    evse: DemoEvse
    window: tuple[datetime, datetime]  # the EXPORT_PRICE event
    limit: tuple[datetime, datetime]  # the EXPORT_CAPACITY_LIMIT event
    limit_event: dict[str, Any]
    samples: list[tuple[datetime, float]] = field(default_factory=list)
    ended: list[Event] = field(default_factory=list)

    async def run_until(self, hass: HomeAssistant, ticking: Any, until: datetime) -> None:
        """Step the clock a minute at a time to ``until``, sampling the discharged register."""
        while (now := dt_util.utcnow()) < until:
            # A minute on, or to the next quarter hour (where slots, intervals and the events'
            # windows begin) when that is sooner: the planner's timer fires there, not late.
            quarter = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            quarter += timedelta(minutes=(-quarter.minute) % 15)
            jump = min(now + timedelta(minutes=1), quarter, until)
            ticking.move_to(jump)
            async_fire_time_changed(hass)  # the demo steps to the jump (and milliseconds)
            await hass.async_block_till_done(wait_background_tasks=True)
            # The register as of the jump: the real time Home Assistant took to handle the
            # jump (more on a busy machine) is no time the demo simulated.
            self.samples.append((jump, self.evse.discharged_kwh))

    async def step_until(
        self, hass: HomeAssistant, ticking: Any, done: Callable[[], Any], minutes: int = 15
    ) -> None:
        """Step the clock a minute at a time, sampling, until ``done()`` holds."""
        for _ in range(minutes):
            if done():
                return
            await self.run_until(hass, ticking, dt_util.utcnow() + timedelta(minutes=1))
        assert done(), f"not within {minutes} minutes"

    def powers(self, start: datetime, end: datetime) -> list[float]:
        """The measured feed (kW) of each step inside [start, end)."""
        return [
            (e1 - e0) / ((t1 - t0).total_seconds() / 3600)
            for (t0, e0), (t1, e1) in zip(self.samples, self.samples[1:], strict=False)
            if start <= t0 and t1 <= end + NEAR
        ]

    def at(self, when: datetime) -> float:
        """The discharged register at the first sample at or after ``when``."""
        return next(e for t, e in self.samples if t >= when)

    def fed(self, start: datetime, end: datetime) -> float:
        """The energy fed (kWh) from ``start`` to ``end``, as sampled at those steps."""
        return self.at(end) - self.at(start)


async def chain(
    hass: HomeAssistant,
    vtn: TestVtn,
    callback_base: str,
    *,
    window_start: datetime | None = None,
    limit_offset: timedelta = 2 * Q,
    limit_length: timedelta = 2 * Q,
) -> Chain:
    """The VTN's events first (the PRICE event asking for USAGE, a reporting event asking for
    the STORAGE_* payloads, the export price and the export limit), then the premise linked to
    it, power feed on, and the bidirectional car plugged in and bound."""
    start = window_start or quarter_after(now_utc())
    window = (start, start + 6 * Q)
    limit = (start + limit_offset, start + limit_offset + limit_length)
    hass.states.async_set(HOME, str(HOME_KW * 1000), {"unit_of_measurement": "W"})
    vtn.approve(PEV)
    hour = now_utc().replace(minute=0, second=0, microsecond=0)
    vtn.create_price_event(
        [IMPORT_PRICE] * 6 + [NIGHT_PRICE] * 42,
        hour - timedelta(hours=1),
        timedelta(hours=1),
        currency="EUR",
        report_usage=True,
    )
    reporting_event(vtn, FEED)
    export_event(vtn, "EXPORT_PRICE", [EXPORT_PRICE], window[0], window[1] - window[0])
    limit_event = export_event(
        vtn,
        "EXPORT_CAPACITY_LIMIT",
        [LIMIT_KW * 1000],
        limit[0],
        limit[1] - limit[0],
        units="W",
        name="export cap",
    )
    options = {**OPTIONS, "home_load_entity": HOME}
    coordinator = await setup(
        hass, linked_entry(vtn, callback_base, options=options, charger=DEMO_V2G)
    )
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    found = Chain(coordinator, runtime, runtime.demo.evse, window, limit, limit_event)
    hass.bus.async_listen("pev_portal_session_ended", found.ended.append)
    await _cheapest(hass, target=50)
    departure = (hour + timedelta(hours=8)).strftime("%H:%M:00")
    await _call(hass, "time", "set_value", "time.family_car_departure", time=departure)
    vehicle = coordinator.smart.premise.vehicles["vehicle1"]
    coordinator.smart.update_settings(vehicle, power_feed=True, floor=40.0)
    found.evse.plug(bidirectional_car(PEV, soc=0.8))
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    await wait_for(hass, lambda: coordinator.events.export_limits(*limit) == [(*limit, LIMIT_KW)])
    found.samples.append((dt_util.utcnow(), found.evse.discharged_kwh))
    return found


def by_start(report: dict[str, Any], payload: str) -> dict[datetime, float]:
    """A report's values of one payload by their interval's start."""
    return {
        datetime.fromisoformat(i["intervalPeriod"]["start"].replace("Z", "+00:00")): p["values"][0]
        for resource in report["resources"]
        for i in resource["intervals"]
        for p in i["payloads"]
        if p["type"] == payload
    }


async def test_export_limit_holds_the_measured_feed_metered_credited_and_reported(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """In the export-price window the charger feeds more than home + limit before and after
    the 2 kW EXPORT_CAPACITY_LIMIT and never more inside it (measured on the EVSE's
    discharged register); the flex report's STORAGE_DISPATCH_FORECAST shows the planned feed
    in the window and STORAGE_MAX_DISCHARGE_POWER the charger's; the session's intervals
    carry the register's energy, the summary its credit at the event's price, and the USAGE
    report the VTN keeps carries EXPORT_USAGE per interval."""
    feed = await chain(hass, vtn, callback_base)
    coordinator, evse = feed.coordinator, feed.evse
    link = link_of(coordinator)
    # 3. The STORAGE reports asked by the reporting event, before the window.
    await wait_for(hass, lambda: named(vtn, f"storage-{PEV}") and named(vtn, f"flex-{PEV}"))
    storage = named(vtn, f"storage-{PEV}")
    assert storage is not None
    assert values(storage, "STORAGE_MAX_DISCHARGE_POWER") == [pytest.approx(FULL_KW)]

    def dispatch() -> dict[datetime, float]:
        flex = named(vtn, f"flex-{PEV}")
        return by_start(flex, "STORAGE_DISPATCH_FORECAST") if flex else {}

    # The flex report follows a new plan at most every few minutes (rate-limited): the clock runs.
    await feed.step_until(hass, ticking, lambda: any(v < 0 for v in dispatch().values()))
    planned = dispatch()
    in_window = {t: v for t, v in planned.items() if feed.window[0] <= t < feed.window[1]}
    in_limit = {t: v for t, v in planned.items() if feed.limit[0] <= t < feed.limit[1]}
    assert len(in_window) == 6
    assert all(v < 0 for v in in_window.values()), planned
    # 15 minutes at most at the home's load plus the limit while it holds, more around it
    assert all(-v <= (HOME_KW + LIMIT_KW) / 4 + 1e-6 for v in in_limit.values())
    assert min(in_window.values()) < -(HOME_KW + LIMIT_KW) / 4

    # 1. The feed, measured.
    await feed.run_until(hass, ticking, feed.window[1] + Q)
    before = feed.powers(feed.window[0], feed.limit[0])
    held = feed.powers(*feed.limit)
    after = feed.powers(feed.limit[1], feed.window[1])
    assert held
    assert max(held) <= HOME_KW + LIMIT_KW + SLACK_KW, held
    assert max(held) > 0, "it still feeds the home and exports up to the limit"
    assert max(before) > HOME_KW + LIMIT_KW + 1.0, before
    assert max(after) > HOME_KW + LIMIT_KW + 1.0, after
    fed_before = feed.fed(feed.window[0], feed.limit[0])
    fed_held = feed.fed(*feed.limit)
    fed_after = feed.fed(feed.limit[1], feed.window[1])
    assert fed_held < fed_before
    assert fed_before + fed_held + fed_after == pytest.approx(evse.discharged_kwh, abs=0.01)

    # 2. Metered, credited and reported.
    session = feed.runtime.session
    assert session is not None
    session_id = session.session_id
    evse.unplug()
    await wait_for(hass, lambda: feed.runtime.session is None and bool(feed.ended))
    fed = evse.discharged_kwh
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert sum(i.exported_kwh for i in stored) == pytest.approx(fed, abs=1e-6)
    # each interval: the register across it (sampled milliseconds after its boundaries)
    sampled = [i for i in stored if feed.samples[0][0] <= i.start and i.end <= feed.samples[-1][0]]
    assert len(sampled) >= 6
    for interval in sampled:
        across = feed.at(interval.end) - feed.at(interval.start)
        assert interval.exported_kwh == pytest.approx(across, abs=1e-3), interval
    summary = feed.ended[0].data
    assert summary["exported_kwh"] == pytest.approx(fed, abs=1e-6)

    def price(start: datetime) -> float:
        return EXPORT_PRICE if feed.window[0] <= start < feed.window[1] else 0.0

    assert all(i.exported_kwh == 0 or i.end <= feed.window[1] + Q for i in stored)
    credit = Decimal(summary["export_credit"])
    exact = sum(Decimal(str(i.exported_kwh)) * Decimal(str(price(i.start))) for i in stored)
    assert credit == exact.quantize(credit, rounding=ROUND_HALF_EVEN)
    assert Decimal(summary["net_cost"]) == Decimal(summary["cost"]) - credit
    await wait_for(hass, lambda: link.state.backlog == 0 and named(vtn, session_id) is not None)
    report = named(vtn, session_id)
    assert report is not None
    exported = by_start(report, "EXPORT_USAGE")
    assert exported == {
        i.start: pytest.approx(i.exported_kwh, abs=1e-6) for i in stored if i.billable
    }
    assert sum(exported.values()) == pytest.approx(fed, abs=1e-6 * len(exported))
    assert "EXPORT_USAGE" in {d["payloadType"] for d in report["payloadDescriptors"]}
    print(
        f"fed {fed:.4f} kWh: {fed_before:.4f} before the limit, {fed_held:.4f} under it,"
        f" {fed_after:.4f} after; max held {max(held):.3f} kW, before {max(before):.3f} kW;"
        f" credit {credit}, cost {summary['cost']}, net {summary['net_cost']};"
        f" dispatch in the window {[round(v, 4) for v in in_window.values()]}"
    )


def quarter_now() -> datetime:
    """The quarter hour we are in (an event window already in force)."""
    now = now_utc().replace(second=0, microsecond=0)
    return now - timedelta(minutes=now.minute % 15)


async def opt_out(hass: HomeAssistant) -> list[str]:
    """The opt-out action on the charger's device, of the export limits in force: their IDs."""
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "charger1"), "premise1")
    assert device is not None
    response = await hass.services.async_call(
        DOMAIN,
        "opt_out",
        {"device_id": device.id, "export_limit": True},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    ids = response["event_ids"]
    assert isinstance(ids, list)
    return [str(i) for i in ids]


async def test_opting_out_of_the_export_limit_and_a_mandatory_one(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """The export limit in force over the whole window holds the measured feed; opted out of
    (the program allows it), the feed rises above home + limit; a second limit that the
    utility makes mandatory holds it again and refuses the opt-out."""
    feed = await chain(
        hass,
        vtn,
        callback_base,
        window_start=quarter_now(),
        limit_offset=timedelta(0),
        limit_length=6 * Q,
    )
    limit = HOME_KW + LIMIT_KW
    now = dt_util.utcnow()
    await feed.step_until(hass, ticking, lambda: feed.evse.discharged_kwh > 0)
    await feed.run_until(hass, ticking, dt_util.utcnow() + timedelta(minutes=3))
    held = feed.powers(now, dt_util.utcnow())
    assert 0 < max(held) <= limit + SLACK_KW, held

    assert await opt_out(hass) == [feed.limit_event["id"]]
    opted = dt_util.utcnow()
    await feed.step_until(hass, ticking, lambda: feed.evse.discharge_kw() > limit)
    await feed.run_until(hass, ticking, dt_util.utcnow() + timedelta(minutes=3))
    free = feed.powers(opted, dt_util.utcnow())
    assert max(free) > limit + 1.0, free
    assert feed.coordinator.events.export_limits(*feed.window) == []

    start = dt_util.utcnow().replace(microsecond=0) - timedelta(seconds=1)
    mandatory = export_event(
        vtn, "EXPORT_CAPACITY_LIMIT", [LIMIT_KW], start, 2 * Q, units="KW", name="grid emergency"
    )
    vtn.modify_event(mandatory["id"], mandatory=True)
    events = feed.coordinator.events
    await wait_for(
        hass,
        lambda: any(
            e.event_id == mandatory["id"] and e.mandatory
            for e in events.export_limits_in_force(now_utc())
        ),
    )
    await feed.step_until(hass, ticking, lambda: feed.evse.discharge_kw() <= limit)
    again = dt_util.utcnow()
    with pytest.raises(ServiceValidationError) as refused:
        await opt_out(hass)
    assert refused.value.translation_key == "event_mandatory"
    await feed.run_until(hass, ticking, dt_util.utcnow() + timedelta(minutes=5))
    held_again = feed.powers(again, dt_util.utcnow())
    assert 0 < max(held_again) <= limit + SLACK_KW, held_again
    print(
        f"held {max(held):.3f} kW, opted out {max(free):.3f} kW, mandatory {max(held_again):.3f} kW"
    )


async def test_vtn_down_during_the_feed_reports_arrive_once_complete(
    hass: HomeAssistant, vtn: TestVtn, callback_base: str, ticking: Any
) -> None:
    """The VTN goes down before the window: the car still feeds within the limit, the session's
    USAGE report (with EXPORT_USAGE) waits in the outbox, and once the VTN is back it arrives
    once, complete: every interval, the energy fed the register's."""
    feed = await chain(hass, vtn, callback_base)
    link = link_of(feed.coordinator)
    await wait_for(hass, lambda: link.state.backlog == 0)
    await vtn.go_down()
    await feed.run_until(hass, ticking, feed.window[1] + Q)
    assert max(feed.powers(*feed.limit)) <= HOME_KW + LIMIT_KW + SLACK_KW
    assert max(feed.powers(feed.window[0], feed.limit[0])) > HOME_KW + LIMIT_KW + 1.0
    session = feed.runtime.session
    assert session is not None
    feed.evse.unplug()
    await wait_for(hass, lambda: feed.runtime.session is None and bool(feed.ended))
    assert named(vtn, session.session_id) is None
    assert link.state.backlog >= 1
    stored = await feed.coordinator.store.call(lambda s: s.intervals(session.session_id))

    await vtn.come_back()
    await feed.step_until(hass, ticking, lambda: link.state.backlog == 0, minutes=90)
    reports = [r for r in vtn.reports.values() if r["reportName"] == session.session_id]
    assert len(reports) == 1
    exported = by_start(reports[0], "EXPORT_USAGE")
    assert exported == {
        i.start: pytest.approx(i.exported_kwh, abs=1e-6) for i in stored if i.billable
    }
    fed = feed.evse.discharged_kwh
    assert sum(exported.values()) == pytest.approx(fed, abs=1e-6 * len(exported))
    print(f"fed {fed:.4f} kWh while the VTN was down; {len(exported)} intervals reported after")


@pytest.mark.parametrize("bad", ["nan", "unavailable"])
async def test_home_load_unknown_mid_feed(
    hass: HomeAssistant,
    vtn: TestVtn,
    callback_base: str,
    ticking: Any,
    caplog: pytest.LogCaptureFixture,
    bad: str,
) -> None:
    """The export limit in force over the window, the home's load sensor turns NaN or
    unavailable while the car feeds home + limit: nothing breaks, and from then on the
    measured feed stays within the export limit alone (the home's load is not known)."""
    feed = await chain(
        hass,
        vtn,
        callback_base,
        window_start=quarter_now(),
        limit_offset=timedelta(0),
        limit_length=6 * Q,
    )
    start = dt_util.utcnow()
    await feed.step_until(hass, ticking, lambda: feed.evse.discharged_kwh > 0)
    await feed.run_until(hass, ticking, dt_util.utcnow() + timedelta(minutes=3))
    assert 0 < max(feed.powers(start, dt_util.utcnow())) <= HOME_KW + LIMIT_KW + SLACK_KW
    hass.states.async_set(HOME, bad, {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    # The coordinator's next tick (every TICK_SECONDS) reads the planner's inputs again.
    await feed.run_until(hass, ticking, dt_util.utcnow() + timedelta(seconds=TICK_SECONDS))
    broke = dt_util.utcnow()
    await feed.run_until(hass, ticking, broke + timedelta(minutes=20))
    after = feed.powers(broke, dt_util.utcnow())
    assert max(after) <= LIMIT_KW + SLACK_KW, after
    assert feed.runtime.session is not None
    assert feed.evse.discharge_kw() > 0, "still feeding, within the limit"
    assert not [r for r in caplog.records if r.levelname == "ERROR" and "pev_portal" in r.name]
    print(f"home {bad}: at most {max(after):.3f} kW after")
