"""Re-identification with a utility link: a visitor's card arrives after the session was bound
from an earlier ID; the session is re-bound through the utility (the local OpenADR 3.1 test
VTN, tests/vtn/server.py) and re-priced from its first interval.

The charge point is test_entity_charger's fake (its ID-tag sensor keeps the last card, as
lbbrhzn/ocpp's does). Time is frozen and moved by the test (``run``); nothing here sleeps: the
bindings are awaited on ``asyncio.Event``s set by the ``pev_portal_session_bound`` event, and
the VTN answers at once (its decisions are set before the resources are created), so only
real I/O on 127.0.0.1 is waited for.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.const import DOMAIN
from tests.vtn.server import TestVtn

from .common import setup, state
from .conftest import HOME_CAR, OPTIONS, PREMISE, make_entry
from .test_entity_charger import CP, DRIVEWAY, SECOND_HOME_CAR, START, ChargePoint, run
from .test_utility import utility_config

VISITOR_CARD = "RFID-0042"
VEHICLES = [HOME_CAR, SECOND_HOME_CAR]  # no default vehicle
IO_TIMEOUT = 30.0  # wall-clock seconds for the utility's answer (real I/O on 127.0.0.1)


@pytest.fixture
def cp(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> ChargePoint:
    freezer.move_to(START)
    point = ChargePoint(hass, "cp", "sensor.meter_energy")
    point.install()
    return point


def linked_entity_entry(vtn: TestVtn) -> MockConfigEntry:
    """The premise with the entity-mapped charge point and a utility link (polling only)."""
    entry = make_entry(charger=CP, vehicles=VEHICLES)
    return MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data={**PREMISE, "utility": utility_config(vtn, None)},
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


class Bindings:
    """The ``pev_portal_session_bound`` events, and an Event per PEV ID to wait on."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.seen: list[dict[str, Any]] = []
        self._waiters: dict[str, asyncio.Event] = {}
        hass.bus.async_listen(f"{DOMAIN}_session_bound", self._bound)

    @callback  # on the event loop (a plain function would run in the executor)
    def _bound(self, event: Event) -> None:
        self.seen.append(dict(event.data))
        self._waiter(str(event.data["pev_id"])).set()

    def _waiter(self, pev_id: str) -> asyncio.Event:
        return self._waiters.setdefault(pev_id, asyncio.Event())

    async def wait(self, hass: HomeAssistant, pev_id: str) -> dict[str, Any]:
        """The binding of a PEV, once the utility answered (its task finished)."""
        # A guard on the wall clock (the loop's clock is frozen): a binding that never comes
        # fails the test instead of hanging it.
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        assert task is not None
        guard = threading.Timer(IO_TIMEOUT, lambda: loop.call_soon_threadsafe(task.cancel))
        guard.start()
        try:
            await self._waiter(pev_id).wait()
        except asyncio.CancelledError as err:
            raise AssertionError(f"{pev_id} not bound within {IO_TIMEOUT} s") from err
        finally:
            guard.cancel()
        await hass.async_block_till_done()
        return next(b for b in reversed(self.seen) if b["pev_id"] == pev_id)


@pytest.mark.parametrize(
    ("visitor_answer", "outcome", "party", "price"),
    [
        # Not enrolled: the premise pays the default rate (0.40) for the whole session.
        ("deny", "not_enrolled", "premise_customer", 0.40),
        # The visitor's own utility customer account pays, at the program's rate (0.20).
        ("approve_pev_customer", "guest_pev_pays", "pev_customer", 0.20),
    ],
)
async def test_visitor_card_rebinds_through_the_utility(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    cp: ChargePoint,
    vtn: TestVtn,
    visitor_answer: str,
    outcome: str,
    party: str,
    price: float,
) -> None:
    """Bound home by the utility from the household's card; the visitor's card read after an
    interval was stored: the utility is asked about the visitor, its answer re-binds the
    session, every interval (the first included) is re-attributed and re-priced, and the
    change is in the session's history and on the bus."""
    vtn.approve(HOME_CAR["pev_id"])
    if visitor_answer == "deny":
        vtn.deny(VISITOR_CARD)
    else:
        vtn.approve(VISITOR_CARD, billing_party="PEV_CUSTOMER")
    bindings = Bindings(hass)
    reidentified: list[dict[str, Any]] = []
    hass.bus.async_listen(
        f"{DOMAIN}_session_reidentified", lambda event: reidentified.append(dict(event.data))
    )
    ended: list[dict[str, Any]] = []
    hass.bus.async_listen(f"{DOMAIN}_session_ended", lambda event: ended.append(dict(event.data)))
    coordinator = await setup(hass, linked_entity_entry(vtn))
    assert coordinator.link is not None

    await cp.status("Preparing")
    await cp.id_tag(HOME_CAR["pev_id"])
    cp.set_power(7200)
    await cp.status("Charging")
    home = await bindings.wait(hass, HOME_CAR["pev_id"])
    assert (home["outcome"], home["program_rate"]) == ("home", True)
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == "home"
    session = coordinator.chargers["charger1"].session
    assert session is not None
    session_id = session.session_id

    await run(hass, freezer, 20, [cp])  # the first 15-minute interval closed and stored
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert [i.pev_id for i in stored] == [HOME_CAR["pev_id"]]
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_cost")) == pytest.approx(2.4 * 0.20)

    # The visitor's card (the cable was swapped between cars without a status change).
    await cp.id_tag(VISITOR_CARD)
    visitor = await bindings.wait(hass, VISITOR_CARD)
    assert (visitor["outcome"], visitor["billing_party"]) == (outcome, party)
    assert visitor["session_id"] == session_id
    # The utility was asked about the visitor: its resource, with the PEV and premise IDs.
    resource = vtn.resource_named(VISITOR_CARD)
    assert resource is not None
    sent = {a["type"]: a["values"] for a in resource["attributes"]}
    assert (sent["PEV_ID"], sent["PREMISE_ID"]) == ([VISITOR_CARD], [PREMISE["premise_id"]])
    assert state(hass, f"sensor.{DRIVEWAY}_binding") == outcome
    assert state(hass, f"sensor.{DRIVEWAY}_billing_party") == party
    # Re-priced from the first interval: 2.4 kWh so far, all at the new rate.
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_cost")) == pytest.approx(2.4 * price)
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert [i.pev_id for i in stored] == [VISITOR_CARD]

    # The history and the bus.
    assert [(r["from_pev_id"], r["to_pev_id"]) for r in session.reidentified] == [
        (HOME_CAR["pev_id"], VISITOR_CARD)
    ]
    assert (
        session.reidentified[0]["from_source"],
        session.reidentified[0]["previous_outcome"],
    ) == (
        "charger",
        "home",
    )
    assert [(e["session_id"], e["pev_id"], e["previous_pev_id"]) for e in reidentified] == [
        (session_id, VISITOR_CARD, HOME_CAR["pev_id"])
    ]
    row = await coordinator.store.call(lambda s: s.session(session_id))
    assert row is not None
    assert row.data["reidentified"][0]["to_pev_id"] == VISITOR_CARD

    await run(hass, freezer, 10, [cp])
    cp.set_power(0)
    await cp.status("Available")
    await hass.async_block_till_done()
    [summary] = ended
    assert (summary["pev_id"], summary["outcome"], summary["billing_party"]) == (
        VISITOR_CARD,
        outcome,
        party,
    )
    assert summary["energy_kwh"] == pytest.approx(3.6, abs=1e-6)
    assert float(summary["cost"]) == pytest.approx(3.6 * price)


async def test_visitor_card_while_the_utility_is_down(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, cp: ChargePoint, vtn: TestVtn
) -> None:
    """The utility is unreachable when the visitor's card arrives: the session is re-bound as
    no communications (req 30: the premise pays the default rate) from its first interval,
    never left billed as the household's car."""
    vtn.approve(HOME_CAR["pev_id"])
    bindings = Bindings(hass)
    coordinator = await setup(hass, linked_entity_entry(vtn))
    await cp.status("Preparing")
    await cp.id_tag(HOME_CAR["pev_id"])
    cp.set_power(7200)
    await cp.status("Charging")
    await bindings.wait(hass, HOME_CAR["pev_id"])
    await run(hass, freezer, 20, [cp])

    await vtn.go_down()  # the port closed: every request is refused at once
    await cp.id_tag(VISITOR_CARD)
    visitor = await bindings.wait(hass, VISITOR_CARD)
    assert (visitor["outcome"], visitor["program_rate"]) == ("no_communications", False)
    assert state(hass, f"sensor.{DRIVEWAY}_billing_party") == "premise_customer"
    assert float(state(hass, f"sensor.{DRIVEWAY}_session_cost")) == pytest.approx(2.4 * 0.40)
    session = coordinator.chargers["charger1"].session
    assert session is not None
    assert session.reidentified[0]["to_pev_id"] == VISITOR_CARD
    await vtn.come_back()
