"""The OpenADR 2.0b link end to end: Home Assistant, the demo charger and openleadr's own
2.0b VTN (``OpenADRServer``, which validates every message against the 2.0b schema) on
127.0.0.1 (tests/vtn/oadr2.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from openleadr.utils import certificate_fingerprint
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.core.metering import Interval, Quality
from custom_components.pev_portal.openadr2.status import STATUS_SPECIFIER
from custom_components.pev_portal.utility2 import Oadr2Link
from tests.vtn.certs import self_signed
from tests.vtn.oadr2 import Vtn, start_vtn

from .common import setup, state
from .conftest import OPTIONS, PREMISE, make_entry
from .test_utility import GARAGE, plug, wait_for

PEV = "PEV-DEMO-0001"
VEN_ID = f"ven-{PREMISE['premise_id']}"


@pytest.fixture
async def vtn2(socket_enabled: None) -> AsyncIterator[Vtn]:
    server = await start_vtn()
    yield server
    await server.stop()


def entry2(vtn: Vtn, **changes: Any) -> MockConfigEntry:
    """The demo premise with a 2.0b link to the VTN (plain: a lab VTN on HTTP)."""
    entry = make_entry()
    utility = {
        "vtn_url": vtn.url,
        "auth_type": "none",
        "ven_name": PREMISE["premise_id"],
        "programs": [],
        "allow_http": True,
        "protocol": "oadr2",
        "mandatory_programs": ["oadr://emergency"],
        "default_opt": "optIn",
        **changes,
    }
    return MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data={**PREMISE, "utility": utility},
        options=OPTIONS,
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


def link2(coordinator: PevPortalCoordinator) -> Oadr2Link:
    link = coordinator.link
    assert isinstance(link, Oadr2Link)
    return link


async def poll_now(hass: HomeAssistant, link: Oadr2Link) -> None:
    """The poll timer fires (the VTN asked for one every 10 s)."""
    async_fire_time_changed(hass, dt_util.utcnow() + link.poll_interval)
    await hass.async_block_till_done(wait_background_tasks=True)


def dlc(vtn: Vtn, kw: float, *, target: str = PEV, context: str = "oadr://dlc", **kw_: Any) -> str:
    """A LOAD_DISPATCH setpoint event in force now for an hour, at a vehicle's resource."""
    start = datetime.now(UTC) - timedelta(seconds=1)
    return vtn.event(
        VEN_ID,
        signal_name="LOAD_DISPATCH",
        signal_type="setpoint",
        intervals=[{"dtstart": start, "duration": timedelta(hours=1), "signal_payload": kw}],
        targets=[{"resource_id": target}],
        market_context=context,
        **kw_,
    )


async def bound_and_charging(hass: HomeAssistant, coordinator: PevPortalCoordinator) -> Any:
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    runtime = coordinator.chargers["charger1"]
    assert runtime.demo is not None
    runtime.demo.step(dt_util.utcnow())
    assert runtime.demo.evse.current_limit_a == 16
    return runtime


async def test_registration_and_registered_reports(hass: HomeAssistant, vtn2: Vtn) -> None:
    """Set-up registers the VEN, offers the vehicle as a resource of its usage report (the PEV
    ID as resourceID), takes the VTN's report request and polls at the VTN's frequency."""
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    assert link.state.connected
    assert link.state.ven_id == VEN_ID
    assert state(hass, "binary_sensor.test_home_utility_link_utility_connection") == "on"
    assert vtn2.registered == [(VEN_ID, PEV, "RealEnergy"), (VEN_ID, PEV, "Status")]
    assert set(link.usage_requests) == {PEV}
    assert link.poll_interval == timedelta(seconds=10)
    await poll_now(hass, link)
    assert link.polls >= 1
    assert link.state.connected


async def test_a_price_event_prices_the_session(hass: HomeAssistant, vtn2: Vtn) -> None:
    """An ELECTRICITY_PRICE event for the whole VEN becomes the session's price, shown by the
    price sensor and the program calendar."""
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    runtime = await bound_and_charging(hass, coordinator)
    start = datetime.now(UTC) - timedelta(seconds=1)
    vtn2.event(
        VEN_ID,
        signal_name="ELECTRICITY_PRICE",
        signal_type="price",
        intervals=[{"dtstart": start, "duration": timedelta(hours=2), "signal_payload": 0.55}],
        market_context="oadr://tou",
    )
    await poll_now(hass, link)
    assert runtime.session is not None
    tariff = coordinator.events.tariff_of(runtime)
    assert float(tariff.price_at(dt_util.utcnow()).price) == pytest.approx(0.55)
    assert vtn2.answers[-1][2] == "optIn"
    # The same entities and program calendar as a 3.1 link's.
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_current_price") == "0.55")
    assert state(hass, "calendar.test_home_utility_link_program_events") == "on"


async def test_a_dlc_event_curtails_the_session_within_2_s_of_the_poll(
    hass: HomeAssistant, vtn2: Vtn
) -> None:
    """A load-dispatch setpoint at the vehicle's resource caps the charger as soon as the poll
    that delivers it returns (the demo charger gets 10 A for 7 kW); the VEN answers optIn; the
    VTN's cancellation lifts the cap at the next poll."""
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    runtime = await bound_and_charging(hass, coordinator)
    event_id = dlc(vtn2, 7.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await poll_now(hass, link)
    await wait_for(hass, lambda: runtime.cap_kw == 7.0)
    await wait_for(
        hass, lambda: runtime.demo is not None and runtime.demo.evse.current_limit_a == 10
    )
    assert loop.time() - started < 2.0
    assert vtn2.opts == [(VEN_ID, event_id, "optIn")]
    # 2.0b events have no name: the VTN's comment, else their program (market context).
    assert state(hass, "sensor.test_home_utility_link_active_event") == "oadr://dlc"

    vtn2.server.cancel_event(VEN_ID, event_id)
    await poll_now(hass, link)
    await wait_for(hass, lambda: runtime.cap_kw is None)
    await wait_for(
        hass, lambda: runtime.demo is not None and runtime.demo.evse.current_limit_a == 16
    )
    assert vtn2.answers[-1] == (event_id, 1, "optIn")  # the cancellation acknowledged
    assert link.state.events == {}


async def test_opt_out(hass: HomeAssistant, vtn2: Vtn) -> None:
    """The user opts out of an event in force: the cap is lifted and the VTN hears optOut."""
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    runtime = await bound_and_charging(hass, coordinator)
    event_id = dlc(vtn2, 7.0)
    await poll_now(hass, link)
    await wait_for(hass, lambda: runtime.cap_kw == 7.0)
    coordinator.events.opt_out(PEV)
    await wait_for(hass, lambda: runtime.cap_kw is None)
    await wait_for(hass, lambda: vtn2.answers[-1:] == [(event_id, 0, "optOut")])
    assert link.opts.opted_out() == {event_id}


async def test_default_opt_out_and_the_mandatory_event(hass: HomeAssistant, vtn2: Vtn) -> None:
    """With "do not take part" as the default an ordinary event is answered optOut and does
    not cap; an event of a mandatory program is answered optIn, caps, and cannot be opted out
    of."""
    coordinator = await setup(hass, entry2(vtn2, default_opt="optOut"))
    link = link2(coordinator)
    runtime = await bound_and_charging(hass, coordinator)
    ordinary = dlc(vtn2, 5.0)
    await poll_now(hass, link)
    await wait_for(hass, lambda: (VEN_ID, ordinary, "optOut") in vtn2.opts)
    assert runtime.cap_kw is None
    emergency = dlc(vtn2, 3.0, context="oadr://emergency")
    await poll_now(hass, link)
    await wait_for(hass, lambda: (VEN_ID, emergency, "optIn") in vtn2.opts)
    await wait_for(hass, lambda: runtime.cap_kw == 3.0)
    with pytest.raises(ServiceValidationError):
        coordinator.events.opt_out(PEV)
    assert runtime.cap_kw == 3.0


async def test_an_event_for_another_resource_only(hass: HomeAssistant, vtn2: Vtn) -> None:
    """Events targeted at other resources only: the next plug-in binds as not enrolled."""
    dlc(vtn2, 2.0, target="pool-pump")
    coordinator = await setup(hass, entry2(vtn2))
    runtime = coordinator.chargers["charger1"]
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "not_enrolled")
    assert runtime.cap_kw is None


async def test_a_vtn_refusing_the_ven(hass: HomeAssistant, vtn2: Vtn) -> None:
    """A VTN that does not register the VEN: the link is down with the reason, set-up still
    succeeds, and a session is bound as no communications."""
    vtn2.accept = False
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    assert not link.state.connected
    assert "did not register" in str(link.state.last_error)
    assert state(hass, "binary_sensor.test_home_utility_link_utility_connection") == "off"
    coordinator.validation_window = 1.0
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "no_communications")


@pytest.fixture
def ticking() -> Iterator[Any]:
    """A clock that runs at real speed and can jump ahead."""
    with freeze_time(dt_util.utcnow(), tick=True) as factory:
        yield factory


async def advance(hass: HomeAssistant, freezer: Any, seconds: float) -> None:
    remaining = seconds
    while remaining > 0:
        step = min(300.0, remaining)
        freezer.tick(timedelta(seconds=step))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        remaining -= step


async def test_reports_delivered_after_a_vtn_outage(
    hass: HomeAssistant, vtn2: Vtn, ticking: Any
) -> None:
    """A session's TELEMETRY_USAGE made while the VTN is down waits in the outbox and arrives
    completely, each interval once, with a repair while the link is down."""
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    await advance(hass, ticking, 40 * 60)
    await wait_for(hass, lambda: link.state.backlog == 0 and len(vtn2.reports) >= 1)
    await vtn2.stop()
    await advance(hass, ticking, 2 * 3600)
    await plug(hass, on=False)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert link.state.backlog >= 1
    assert ir.async_get(hass).async_get_issue(DOMAIN, "utility_down_premise1") is not None

    await vtn2.start()
    await advance(hass, ticking, 3600)
    await wait_for(hass, lambda: link.state.backlog == 0)
    points = [(start, value) for pev, values in vtn2.reports for start, value in values]
    assert {pev for pev, _ in vtn2.reports} == {PEV}
    starts = [start for start, _ in points]
    assert len(starts) == len(set(starts)), "no interval twice"
    metered = coordinator.chargers["charger1"].last_session.meter_kwh  # type: ignore[union-attr]
    assert sum(float(v) for _, v in points) == pytest.approx(metered, abs=1e-6 * len(points))
    assert ir.async_get(hass).async_get_issue(DOMAIN, "utility_down_premise1") is None


async def test_the_2_0b_security_profile(hass: HomeAssistant, vtn2: Vtn, tmp_path: Path) -> None:
    """Signed both ways: the VEN signs with its certificate and key, the VTN's signed answers
    are checked against its fingerprint; unusable VEN files at start leave the link down with
    the reason (set-up succeeds), and it connects at the next poll once they are fixed."""
    vtn_dir = tmp_path / "vtn"
    vtn_dir.mkdir()
    vtn_cert, vtn_key = self_signed(vtn_dir)
    vtn2.sign_with(vtn_cert.read_bytes(), vtn_key.read_bytes())
    ven_cert, ven_key = tmp_path / "ven.pem", tmp_path / "ven.key"
    coordinator = await setup(
        hass,
        entry2(
            vtn2,
            vtn_fingerprint=certificate_fingerprint(vtn_cert.read_bytes()),
            ven_cert=str(ven_cert),
            ven_key=str(ven_key),
        ),
    )
    link = link2(coordinator)
    assert not link.state.connected
    assert "cannot be used" in str(link.state.last_error)
    made = tmp_path / "made"
    made.mkdir()
    cert, key = self_signed(made)
    ven_cert.write_bytes(cert.read_bytes())
    ven_key.write_bytes(key.read_bytes())
    await poll_now(hass, link)  # makes the client
    await poll_now(hass, link)  # registers
    assert link.state.connected
    assert link.diagnostics()["signed"] is True
    vtn2.sign_with(None, None)  # the VTN stops signing: its answers are refused
    await poll_now(hass, link)
    assert not link.state.connected
    assert "not signed" in str(link.state.last_error)


async def test_the_vtn_lost_the_ven(hass: HomeAssistant, vtn2: Vtn) -> None:
    """A VTN that lost the VEN asks it to register again at the next poll: it does, offers
    its reports again and reads the events; the link stays up."""
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    vtn2.vens.clear()
    vtn2.registered.clear()
    event_id = dlc(vtn2, 6.0)
    await poll_now(hass, link)
    assert list(vtn2.vens) == [VEN_ID]
    assert vtn2.registered == [(VEN_ID, PEV, "RealEnergy"), (VEN_ID, PEV, "Status")]
    assert link.state.connected
    await poll_now(hass, link)
    assert event_id in link.state.events


async def test_diagnostics_of_the_2_0b_link(hass: HomeAssistant, vtn2: Vtn) -> None:
    """Diagnostics name the protocol, the events and answers, and the exchanges (no XML)."""
    from custom_components.pev_portal.diagnostics import async_get_config_entry_diagnostics

    entry = entry2(vtn2)
    coordinator = await setup(hass, entry)
    link = link2(coordinator)
    event_id = dlc(vtn2, 6.0)
    await poll_now(hass, link)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    utility = diagnostics["utility"]
    assert utility["protocol"] == "OpenADR 2.0b"
    assert utility["connected"] is True
    assert utility["poll_seconds"] == 10
    assert utility["answers"] == {event_id: [0, "optIn"]}
    assert any(x["sent"] == "oadrPoll" for x in utility["exchanges"])
    assert "<" not in str(utility["exchanges"])


def _intervals(start: datetime, count: int) -> list[Interval]:
    step = timedelta(minutes=15)
    return [
        Interval(
            start=start + i * step,
            end=start + (i + 1) * step,
            kwh=2.5 + i,
            pev_id=PEV,
            premise_id=PREMISE["premise_id"],
            meter_id="m",
            quality=Quality.OK,
            meter_epoch=0,
            register_end=None,
        )
        for i in range(count)
    ]


async def test_usage_waits_for_the_vtns_request(
    hass: HomeAssistant, vtn2: Vtn, ticking: Any
) -> None:
    """A VTN that has not requested a vehicle's usage: the report waits in the outbox (the link
    is not down for it); once the VTN requests it (here after it lost the VEN and the VEN
    offered its reports again), it is sent."""
    vtn2.request_reports = False
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    assert link.usage_requests == {}
    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    assert await link.async_queue_usage("s1", PEV, _intervals(start, 2)) == 1
    await hass.async_block_till_done(wait_background_tasks=True)
    assert link.state.backlog == 1
    assert link.state.connected
    assert vtn2.reports == []
    row = await coordinator.store.read(
        lambda s: s.outbox_report("usage2:s1", coordinator.premise_id)
    )
    assert row is not None
    assert "has not asked" in row["last_error"]

    vtn2.request_reports = True
    vtn2.vens.clear()
    await poll_now(hass, link)
    assert set(link.usage_requests) == {PEV}
    await advance(hass, ticking, 6 * 60)
    await wait_for(hass, lambda: link.state.backlog == 0)
    assert vtn2.reports == [(PEV, [(start, 2.5), (start + timedelta(minutes=15), 3.5)])]


async def test_a_refused_report_is_dead_lettered_and_resent(hass: HomeAssistant, vtn2: Vtn) -> None:
    """A report the VTN refuses with an OpenADR error is kept, named in a repair issue and
    sent again by pev_portal.resend_report; the next version sends only the new interval."""
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    vtn2.refuse_reports()
    await link.async_queue_usage("s1", PEV, _intervals(start, 1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert link.state.dead_letters == 1
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, "report_dead_letter_premise1") is not None
    assert vtn2.reports == []

    vtn2.refuse_reports(False)
    await hass.services.async_call(DOMAIN, "resend_report", {}, blocking=True)
    await wait_for(hass, lambda: link.state.backlog == 0 and len(vtn2.reports) == 1)
    assert issues.async_get_issue(DOMAIN, "report_dead_letter_premise1") is None
    await link.async_queue_usage("s1", PEV, _intervals(start, 2))
    await wait_for(hass, lambda: len(vtn2.reports) == 2)
    assert vtn2.reports[1] == (PEV, [(start + timedelta(minutes=15), 3.5)])


async def test_reports_survive_a_restart(hass: HomeAssistant, vtn2: Vtn, ticking: Any) -> None:
    """Usage queued while the VTN is down survives Home Assistant's restart (the entry is
    unloaded and set up again on the same store) and is delivered once the VTN is back, each
    interval once."""
    entry = entry2(vtn2)
    coordinator = await setup(hass, entry)
    link = link2(coordinator)
    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    await link.async_queue_usage("s1", PEV, _intervals(start, 1))
    await wait_for(hass, lambda: link.state.backlog == 0 and len(vtn2.reports) == 1)
    await vtn2.stop()
    await link.async_queue_usage("s1", PEV, _intervals(start, 3))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert link.state.backlog == 1
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    await vtn2.start()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    again = link2(entry.runtime_data)
    assert again is not link
    await advance(hass, ticking, 120)  # past the backoff of the failed attempt
    await wait_for(hass, lambda: again.state.backlog == 0 and len(vtn2.reports) == 2)
    points = [start for _, values in vtn2.reports for start, _ in values]
    assert points == [start + i * timedelta(minutes=15) for i in range(3)]


async def test_the_programs_default_binding(hass: HomeAssistant, vtn2: Vtn) -> None:
    """A program whose vehicles count only once the utility names them: no event names the
    vehicle, not enrolled; an event at its resource, home at the next plug-in."""
    coordinator = await setup(hass, entry2(vtn2, default_binding="not_enrolled"))
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "not_enrolled")
    await plug(hass, on=False)
    await hass.async_block_till_done()
    dlc(vtn2, 11.0)
    await plug(hass)
    await wait_for(hass, lambda: state(hass, f"sensor.{GARAGE}_binding") == "home")
    assert coordinator.chargers["charger1"].session is not None


async def test_the_vtn_asks_for_the_status_and_gets_it_after_an_outage(
    hass: HomeAssistant, vtn2: Vtn, ticking: Any
) -> None:
    """TELEMETRY_STATUS end to end: the VEN offers each vehicle's status at registration;
    the VTN asks for it (oadrCreateReport) and gets what the charger shows (online, no
    override, then the load-control limit of a DLC event as oadrCapacity); an unplug during
    a VTN outage waits in the outbox and arrives once the VTN is back, each status once.
    openleadr's VTN validated every message against the 2.0b schema and parsed the
    oadrPayloadResourceStatus it received."""
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    runtime = await bound_and_charging(hass, coordinator)
    assert (VEN_ID, PEV, "Status") in vtn2.registered
    assert vtn2.statuses == []  # not asked for yet

    request_id = vtn2.request_status(VEN_ID, STATUS_SPECIFIER, [PEV])
    await poll_now(hass, link)
    await wait_for(hass, lambda: len(vtn2.statuses) == 1)
    assert vtn2.statuses[0] == (request_id, PEV, {"online": True, "manual_override": False})
    assert link.status_requests == {PEV: request_id}

    dlc(vtn2, 7.0)
    await poll_now(hass, link)
    await wait_for(hass, lambda: runtime.cap_kw == 7.0)
    await poll_now(hass, link)  # the pump sees the change
    await wait_for(hass, lambda: len(vtn2.statuses) == 2)
    assert vtn2.statuses[1][2] == {
        "online": True,
        "manual_override": False,
        "load_control_state": {"capacity": {"current": 7.0}},
    }
    await poll_now(hass, link)
    assert len(vtn2.statuses) == 2, "an unchanged status is not sent again"

    await vtn2.stop()
    await plug(hass, on=False)
    await advance(hass, ticking, 120)
    assert link.state.backlog >= 1
    assert not link.state.connected
    assert len(vtn2.statuses) == 2

    await vtn2.start()
    await advance(hass, ticking, 3600)
    await wait_for(hass, lambda: link.state.backlog == 0)
    assert [s[2]["online"] for s in vtn2.statuses] == [True, True, False]
    assert vtn2.statuses[2][:2] == (request_id, PEV)


async def test_a_status_waits_for_the_vtns_request_and_a_refused_one_is_dead_lettered(
    hass: HomeAssistant, vtn2: Vtn
) -> None:
    """A status queued for a vehicle the VTN no longer asks for waits (not a link failure);
    a status the VTN refuses is kept as a dead letter, not resent in a loop."""
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    await bound_and_charging(hass, coordinator)
    vtn2.request_status(VEN_ID, STATUS_SPECIFIER, [PEV])
    await poll_now(hass, link)
    await wait_for(hass, lambda: len(vtn2.statuses) == 1)

    vtn2.refuse_reports()
    await plug(hass, on=False)
    await poll_now(hass, link)
    await wait_for(hass, lambda: link.state.dead_letters >= 1)
    row = await coordinator.store.read(
        lambda s: s.outbox_report(f"status2:{PEV}", coordinator.premise_id)
    )
    assert row is not None
    assert "452" in str(row["dead_letter"])
    assert link.state.connected

    # A newer status supersedes the refused one; queued, then the VTN's request is gone (as
    # after a restart, whose registration has not been asked for the status yet): it waits.
    vtn2.refuse_reports(False)
    link._pumping = True  # queued, not sent yet
    await plug(hass)
    assert await link._async_queue_statuses()
    link._pumping = False
    link.status_requests.clear()
    await link._async_pump()
    row = await coordinator.store.read(
        lambda s: s.outbox_report(f"status2:{PEV}", coordinator.premise_id)
    )
    assert row is not None
    assert row["dead_letter"] is None
    assert "has not asked" in str(row["last_error"])
    assert row["sent_version"] < row["version"]
    assert link.state.connected


async def test_the_card_names_the_2_0b_link(
    hass: HomeAssistant, vtn2: Vtn, hass_ws_client: WebSocketGenerator
) -> None:
    """The dashboard data names the link's protocol, and says when it cannot reach its VTN."""
    assert await async_setup_component(hass, "websocket_api", {})
    coordinator = await setup(hass, entry2(vtn2))
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "pev_portal/dashboard"})
    [charger] = (await client.receive_json())["result"]["chargers"]
    assert charger["utility"] == {"protocol": "OpenADR 2.0b", "connected": True}

    await vtn2.stop()
    await poll_now(hass, link2(coordinator))
    await client.send_json_auto_id({"type": "pev_portal/dashboard"})
    [charger] = (await client.receive_json())["result"]["chargers"]
    assert charger["utility"] == {"protocol": "OpenADR 2.0b", "connected": False}


async def test_the_vtn_cancels_the_registration(hass: HomeAssistant, vtn2: Vtn) -> None:
    """oadrCancelPartyRegistration: the VEN acknowledges and registers again (its reports
    offered again); when the VTN refuses it, the link is down with a repair issue, and the
    issue goes once a later poll registers it."""
    coordinator = await setup(hass, entry2(vtn2))
    link = link2(coordinator)
    vtn2.registered.clear()
    vtn2.cancel_registration(VEN_ID)
    await poll_now(hass, link)
    assert vtn2.cancelled == [VEN_ID]
    assert link.state.connected
    assert link.state.ven_id == VEN_ID
    assert (VEN_ID, PEV, "RealEnergy") in vtn2.registered
    issue = "utility_registration_cancelled_premise1"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue) is None

    vtn2.accept = False
    vtn2.cancel_registration(VEN_ID)
    await poll_now(hass, link)
    assert vtn2.cancelled == [VEN_ID, VEN_ID]
    assert not link.state.connected
    assert "did not register" in str(link.state.last_error)
    assert link.state.ven_id is None
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue) is not None

    vtn2.accept = True
    await poll_now(hass, link)  # registers again
    assert link.state.connected
    assert link.state.ven_id == VEN_ID
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue) is None
