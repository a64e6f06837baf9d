"""Services: export_sessions, add_local_event and bind_vehicle, and their errors."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import probatio as vol
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pev_portal.const import DOMAIN
from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.io.store import COMMAND_FIELDS, csv_rows, iso

from .common import advance, attrs, setup, state
from .conftest import DEMO_CHARGER, OPTIONS, make_entry

START = "2026-11-22T10:00:00+00:00"
GARAGE = "garage"
HEADER = [
    "session_id",
    "start_utc",
    "end_utc",
    "kwh",
    "pev_id",
    "premise_id",
    "meter_id",
    "quality",
    "meter_epoch",
    "register_end_kwh",
    "exported_kwh",
]


async def plug(hass: HomeAssistant, on: bool, name: str = GARAGE) -> None:
    await hass.services.async_call(
        "switch",
        "turn_on" if on else "turn_off",
        {"entity_id": f"switch.{name}_demo_car_plugged_in"},
        blocking=True,
    )
    await hass.async_block_till_done()


@pytest.fixture
async def coordinator(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> PevPortalCoordinator:
    """The demo premise, set up at 10:00 UTC."""
    freezer.move_to(START)
    return await setup(hass, make_entry())


async def call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def one_session(hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: int) -> str:
    """Plug the demo car in, charge for the given minutes, unplug; the session's ID."""
    await plug(hass, True)
    await advance(hass, freezer, minutes * 60)
    await plug(hass, False)
    found = hass.states.get(f"sensor.{GARAGE}_session_energy")
    assert found is not None
    session_id: str = found.attributes["session_id"]
    return session_id


# -- export_sessions ------------------------------------------------------------------------


async def test_export_csv(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: PevPortalCoordinator
) -> None:
    """The CSV holds a header and one row per stored interval."""
    session_id = await one_session(hass, freezer, 35)
    response = await call(
        hass,
        "export_sessions",
        {"start": "2026-11-22T00:00:00+00:00", "end": "2026-11-23T00:00:00+00:00"},
    )
    path = Path(response["path"])
    assert path.parent == Path(hass.config.path("pev_portal", "exports"))
    assert path.name == "sessions_20261122T000000Z_20261123T000000Z.csv"
    assert response["sessions"] == 1
    assert response["intervals"] == 3
    assert "data" not in response

    text = await hass.async_add_executor_job(path.read_text, "utf-8")
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == HEADER
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert len(rows) == 1 + len(stored)
    assert rows == csv_rows((session_id, i) for i in stored)
    for row, interval in zip(rows[1:], stored, strict=True):
        assert row[0] == session_id
        assert row[1] == iso(interval.start)
        assert row[2] == iso(interval.end)
        assert float(row[3]) == pytest.approx(interval.kwh, abs=1e-6)
        assert row[4] == "PEV-DEMO-0001"
        assert row[5] == "PREMISE-1"
        assert row[7] == "OK"
        assert row[10] == "0.000000"  # a demo car that cannot feed back
    assert [r[1] for r in rows[1:]] == [
        "2026-11-22T10:00:00Z",
        "2026-11-22T10:15:00Z",
        "2026-11-22T10:30:00Z",
    ]
    assert rows[-1][2] == "2026-11-22T10:35:00Z"
    # No temporary file is left behind.
    names = await hass.async_add_executor_job(lambda: sorted(p.name for p in path.parent.iterdir()))
    assert names == [path.name]


async def test_export_json(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: PevPortalCoordinator
) -> None:
    """JSON has the sessions with their summaries and the intervals; the file matches."""
    session_id = await one_session(hass, freezer, 20)
    response = await call(
        hass,
        "export_sessions",
        {
            "start": "2026-11-22T00:00:00+00:00",
            "end": "2026-11-23T00:00:00+00:00",
            "format": "json",
        },
    )
    path = Path(response["path"])
    assert path.suffix == ".json"
    data = response["data"]
    assert json.loads(await hass.async_add_executor_job(path.read_text, "utf-8")) == data
    assert [s["session_id"] for s in data["sessions"]] == [session_id]
    session = data["sessions"][0]
    assert session["state"] == "completed"
    assert session["summary"]["outcome"] == "home"
    stored = await coordinator.store.call(lambda s: s.intervals(session_id))
    assert len(data["intervals"]) == len(stored) == 2
    assert data["intervals"][0] == dict(
        zip(HEADER, csv_rows([(session_id, stored[0])])[1], strict=True)
    )
    total = sum(float(i["kwh"]) for i in data["intervals"])
    assert total == pytest.approx(session["summary"]["energy_kwh"], abs=1e-5)


async def test_export_commands(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: PevPortalCoordinator
) -> None:
    """The command audit trail: in each JSON session, and as CSV with content: commands."""
    await plug(hass, True)
    await advance(hass, freezer, 10)
    await hass.services.async_call(
        "button", "press", {"entity_id": f"button.{GARAGE}_charge_now"}, blocking=True
    )
    await advance(hass, freezer, 60)
    await plug(hass, False)
    session_id = attrs(hass, f"sensor.{GARAGE}_session_energy")["session_id"]
    window = {"start": "2026-11-22T00:00:00+00:00", "end": "2026-11-23T00:00:00+00:00"}

    response = await call(hass, "export_sessions", {**window, "format": "json"})
    assert response["commands"] == 1
    commands = response["data"]["sessions"][0]["commands"]
    assert commands == await coordinator.store.call(lambda s: s.commands(session_id))
    assert [(c["source"], c["enabled"], c["current_a"], c["obeyed"]) for c in commands] == [
        ("user", True, 16, True)
    ]
    assert commands[0]["target_kw"] == pytest.approx(11.04)
    assert commands[0]["measured_kw"] == pytest.approx(11.0, abs=0.1)

    response = await call(hass, "export_sessions", {**window, "content": "commands"})
    path = Path(response["path"])
    assert path.name == "commands_20261122T000000Z_20261123T000000Z.csv"
    rows = list(csv.reader((await hass.async_add_executor_job(path.read_text)).splitlines()))
    assert rows[0] == ["session_id", *COMMAND_FIELDS]
    assert [r[:3] for r in rows[1:]] == [[session_id, commands[0]["at"], "user"]]
    # The intervals export is unchanged by the content option's default.
    response = await call(hass, "export_sessions", window)
    assert Path(response["path"]).name.startswith("sessions_")


async def test_export_date_range(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: PevPortalCoordinator
) -> None:
    """Only sessions that started in [start, end) are exported."""
    first = await one_session(hass, freezer, 16)
    freezer.move_to("2026-11-23T09:00:00+00:00")
    second = await one_session(hass, freezer, 16)
    assert first != second

    async def exported(start: str, end: str) -> list[str]:
        response = await call(
            hass, "export_sessions", {"start": start, "end": end, "format": "json"}
        )
        return [s["session_id"] for s in response["data"]["sessions"]]

    assert await exported("2026-11-22T00:00:00+00:00", "2026-11-24T00:00:00+00:00") == [
        first,
        second,
    ]
    assert await exported("2026-11-22T00:00:00+00:00", "2026-11-23T00:00:00+00:00") == [first]
    assert await exported("2026-11-23T00:00:00+00:00", "2026-11-24T00:00:00+00:00") == [second]
    # The end is exclusive; the start inclusive.
    assert await exported("2026-11-22T09:00:00+00:00", "2026-11-22T10:00:00+00:00") == []
    assert await exported("2026-11-22T10:00:00+00:00", "2026-11-22T10:00:01+00:00") == [first]
    assert await exported("2026-11-25T00:00:00+00:00", "2026-11-26T00:00:00+00:00") == []
    # A time without a zone is local time (the tests' time zone is US/Pacific: UTC-8).
    assert await exported("2026-11-22 01:00:00", "2026-11-22 03:00:00") == [first]


async def test_export_end_before_start(
    hass: HomeAssistant, coordinator: PevPortalCoordinator
) -> None:
    """An export whose end is not after its start is refused."""
    for end in ("2026-11-21T00:00:00+00:00", "2026-11-22T00:00:00+00:00"):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, "export_sessions", {"start": "2026-11-22T00:00:00+00:00", "end": end})
        assert err.value.translation_key == "event_end_before_start"


async def test_export_includes_active_session(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: PevPortalCoordinator
) -> None:
    """A session still charging is exported with the intervals closed so far."""
    await plug(hass, True)
    await advance(hass, freezer, 20 * 60)
    await coordinator.store.call(lambda s: None)
    response = await call(
        hass,
        "export_sessions",
        {
            "start": "2026-11-22T00:00:00+00:00",
            "end": "2026-11-23T00:00:00+00:00",
            "format": "json",
        },
    )
    assert response["sessions"] == 1
    assert response["intervals"] == 1
    assert response["data"]["sessions"][0]["ended_at"] is None


# -- add_local_event ----------------------------------------------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the disabled-by-default sensors
async def test_price_event(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: PevPortalCoordinator
) -> None:
    """A local price event sets the price and the period in its window, and the cost."""
    price_sensor = f"sensor.{GARAGE}_current_price"
    period_sensor = f"sensor.{GARAGE}_tariff_period"
    assert float(state(hass, price_sensor)) == pytest.approx(0.20)
    assert state(hass, period_sensor) == "flat"

    response = await call(
        hass,
        "add_local_event",
        {
            "kind": "price",
            "start": "2026-11-22T10:10:00+00:00",
            "end": "2026-11-22T10:40:00+00:00",
            "price": 0.5,
            "name": "critical_peak",
        },
    )
    assert len(response["event_id"]) == 32
    stored = await coordinator.store.call(
        lambda s: s.local_events(s_time(START), coordinator.premise_id)
    )
    assert [e["event_id"] for e in stored] == [response["event_id"]]
    assert stored[0]["price"] == 0.5
    assert float(state(hass, price_sensor)) == pytest.approx(0.20)

    await plug(hass, True)
    await advance(hass, freezer, 10 * 60)
    energy_before = float(state(hass, f"sensor.{GARAGE}_session_energy"))
    assert float(state(hass, price_sensor)) == pytest.approx(0.5)
    assert state(hass, period_sensor) == "critical_peak"
    assert attrs(hass, price_sensor)["active_event"] == "critical_peak"
    assert attrs(hass, price_sensor)["period"] == "critical_peak"

    await advance(hass, freezer, 30 * 60)
    assert float(state(hass, price_sensor)) == pytest.approx(0.20)
    assert state(hass, period_sensor) == "flat"
    assert attrs(hass, price_sensor)["active_event"] is None
    energy = float(state(hass, f"sensor.{GARAGE}_session_energy"))
    in_event = 11.0 * 0.5  # 30 minutes at 11 kW
    cost = float(state(hass, f"sensor.{GARAGE}_session_cost"))
    expected = in_event * 0.5 + (energy - in_event) * 0.20
    assert energy - in_event == pytest.approx(energy_before, abs=0.01)
    assert cost == pytest.approx(expected, abs=0.005)
    by_period = attrs(hass, f"sensor.{GARAGE}_session_cost")["kwh_by_period"]
    assert by_period["critical_peak"] == pytest.approx(in_event, abs=0.01)


def s_time(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the disabled-by-default sensors
async def test_price_event_starts_while_idle(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: PevPortalCoordinator
) -> None:
    """The price sensors follow an event's start and end even with nothing plugged in."""
    await call(
        hass,
        "add_local_event",
        {
            "kind": "price",
            "start": "2026-11-22T10:15:00+00:00",
            "end": "2026-11-22T10:30:00+00:00",
            "price": 0.9,
        },
    )
    await advance(hass, freezer, 16 * 60)
    assert float(state(hass, f"sensor.{GARAGE}_current_price")) == pytest.approx(0.9)
    assert state(hass, f"sensor.{GARAGE}_tariff_period") == "Price event"  # named after its kind
    await advance(hass, freezer, 15 * 60)
    assert float(state(hass, f"sensor.{GARAGE}_current_price")) == pytest.approx(0.20)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")  # the disabled-by-default sensors
async def test_price_event_survives_reload(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: PevPortalCoordinator
) -> None:
    """Local events are stored and apply again after a reload."""
    await call(
        hass,
        "add_local_event",
        {
            "kind": "price",
            "start": "2026-11-22T09:00:00+00:00",
            "end": "2026-11-22T12:00:00+00:00",
            "price": 0.33,
            "name": "local peak",
        },
    )
    entry = coordinator.config_entry
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert float(state(hass, f"sensor.{GARAGE}_current_price")) == pytest.approx(0.33)
    assert state(hass, f"sensor.{GARAGE}_tariff_period") == "local peak"


async def test_load_control_event(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: PevPortalCoordinator
) -> None:
    """A load-control event is stored and shown as the active event; the price is unchanged."""
    await call(
        hass,
        "add_local_event",
        {
            "kind": "load_control",
            "start": "2026-11-22T10:00:00+00:00",
            "end": "2026-11-22T11:00:00+00:00",
            "limit_kw": 3.7,
            "name": "grid relief",
        },
    )
    assert coordinator.active_event() is not None
    assert coordinator.active_event()["limit_kw"] == 3.7  # type: ignore[index]
    assert attrs(hass, f"sensor.{GARAGE}_current_price")["active_event"] == "grid relief"
    assert float(state(hass, f"sensor.{GARAGE}_current_price")) == pytest.approx(0.20)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"kind": "price"}, "event_needs_price"),
        ({"kind": "load_control"}, "event_needs_limit"),
        ({"kind": "load_control", "price": 0.5}, "event_needs_limit"),
        (
            {"kind": "price", "price": 0.5, "end": "2026-11-22T09:00:00+00:00"},
            "event_end_before_start",
        ),
    ],
)
async def test_local_event_errors(
    hass: HomeAssistant,
    coordinator: PevPortalCoordinator,
    data: dict[str, Any],
    key: str,
) -> None:
    """Events without what their kind needs, or ending before they start, are refused."""
    payload = {"start": "2026-11-22T10:00:00+00:00", "end": "2026-11-22T11:00:00+00:00", **data}
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "add_local_event", payload)
    assert err.value.translation_key == key
    assert coordinator.local_events == []
    assert (
        await coordinator.store.call(
            lambda s: s.local_events(s_time(START), coordinator.premise_id)
        )
        == []
    )


async def test_local_event_schema(hass: HomeAssistant, coordinator: PevPortalCoordinator) -> None:
    """The schema refuses an unknown kind and a negative limit."""
    for data in (
        {"kind": "bogus", "price": 1},
        {"kind": "load_control", "limit_kw": -1},
    ):
        with pytest.raises(vol.Invalid):
            await call(
                hass,
                "add_local_event",
                {"start": "2026-11-22T10:00:00+00:00", "end": "2026-11-22T11:00:00+00:00", **data},
            )


# -- bind_vehicle -------------------------------------------------------------------------


async def test_bind_vehicle_not_a_charger(
    hass: HomeAssistant, coordinator: PevPortalCoordinator
) -> None:
    """bind_vehicle on a vehicle's device, or on no device at all, is refused."""
    registry = dr.async_get(hass)
    vehicle = registry.async_get_device_by_identifier((DOMAIN, "vehicle1"), "premise1")
    assert vehicle is not None
    for device_id in (vehicle.id, "no-such-device"):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN, "bind_vehicle", {"device_id": device_id, "pev_id": "X"}, blocking=True
            )
        assert err.value.translation_key == "not_a_charger"
        assert err.value.translation_placeholders == {"device_id": device_id}


async def test_bind_vehicle_without_session(
    hass: HomeAssistant, coordinator: PevPortalCoordinator
) -> None:
    """bind_vehicle needs a vehicle plugged in."""
    charger = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "charger1"), "premise1")
    assert charger is not None
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "bind_vehicle",
            {"device_id": charger.id, "pev_id": "PEV-DEMO-0001"},
            blocking=True,
        )
    assert err.value.translation_key == "no_session"


async def test_bind_unregistered_vehicle(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coordinator: PevPortalCoordinator
) -> None:
    """Binding a PEV ID the premise does not know makes the session a guest's."""
    await plug(hass, True)
    assert state(hass, f"sensor.{GARAGE}_binding") == "home"
    charger = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "charger1"), "premise1")
    assert charger is not None
    await hass.services.async_call(
        DOMAIN, "bind_vehicle", {"device_id": charger.id, "pev_id": "PEV-STRANGER"}, blocking=True
    )
    await hass.async_block_till_done()
    assert state(hass, f"sensor.{GARAGE}_binding") == "guest_premise_pays"
    assert state(hass, f"select.{GARAGE}_vehicle") == "auto"
    assert float(state(hass, f"sensor.{GARAGE}_current_price")) == pytest.approx(0.40)


# -- without a loaded entry; several entries ------------------------------------------------


async def test_services_without_entry(hass: HomeAssistant) -> None:
    """The services exist as soon as the integration is set up, and say why they fail."""
    assert await async_setup_component(hass, DOMAIN, {})
    for service in ("bind_vehicle", "export_sessions", "add_local_event"):
        assert hass.services.has_service(DOMAIN, service)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "export_sessions",
            {"start": "2026-11-22T00:00:00+00:00", "end": "2026-11-23T00:00:00+00:00"},
        )
    assert err.value.translation_key == "no_entry"
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "add_local_event",
            {
                "kind": "price",
                "price": 1,
                "start": "2026-11-22T10:00:00+00:00",
                "end": "2026-11-22T11:00:00+00:00",
            },
        )
    assert err.value.translation_key == "no_entry"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "bind_vehicle", {"device_id": "x", "pev_id": "y"}, blocking=True
        )
    assert err.value.translation_key == "not_a_charger"


async def test_services_entry_not_loaded(hass: HomeAssistant) -> None:
    """An entry that is unloaded does not serve the services."""
    entry = make_entry()
    await setup(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "export_sessions",
            {"start": "2026-11-22T00:00:00+00:00", "end": "2026-11-23T00:00:00+00:00"},
        )
    assert err.value.translation_key == "no_entry"


def second_premise() -> MockConfigEntry:
    """Another premise (its own charger and no vehicles) in the same Home Assistant."""
    charger = {**DEMO_CHARGER, "charger_name": "Barn"}
    return MockConfigEntry(
        domain=DOMAIN,
        title="Barn",
        unique_id="PREMISE-2",
        data={"premise_name": "Barn", "premise_id": "PREMISE-2"},
        options=OPTIONS,
        subentries_data=[
            ConfigSubentryData(
                subentry_type="charger",
                title="Barn",
                data=charger,
                subentry_id="barn-charger",
                unique_id=None,
            )
        ],
        entry_id="premise2",
    )


async def test_two_premises(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    coordinator: PevPortalCoordinator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With two premises the entry must be chosen; each keeps its own sessions."""
    await plug(hass, True)
    await advance(hass, freezer, 16 * 60)
    session_id = coordinator.chargers["charger1"].session.session_id  # type: ignore[union-attr]

    other = await setup(hass, second_premise())
    await other.store.call(lambda s: None)
    # The second premise leaves the first one's open session alone.
    assert "removed charger" not in caplog.text
    row = await coordinator.store.call(lambda s: s.session(session_id))
    assert row is not None
    assert row.data["ended_at"] is None
    assert state(hass, f"sensor.{GARAGE}_session_state") == "charging"

    await plug(hass, True, "barn")
    await advance(hass, freezer, 16 * 60)
    window = {"start": "2026-11-22T00:00:00+00:00", "end": "2026-11-23T00:00:00+00:00"}
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "export_sessions", window)
    assert err.value.translation_key == "choose_entry"

    for entry_id, premise in (("premise1", "PREMISE-1"), ("premise2", "PREMISE-2")):
        response = await call(
            hass, "export_sessions", {**window, "format": "json", "config_entry_id": entry_id}
        )
        assert response["sessions"] == 1
        assert {s["premise_id"] for s in response["data"]["sessions"]} == {premise}
        assert {i["premise_id"] for i in response["data"]["intervals"]} == {premise}

    # A restart of the second premise does not close the first premise's session either.
    assert await hass.config_entries.async_reload("premise2")
    await hass.async_block_till_done()
    assert "removed charger" not in caplog.text
    row = await coordinator.store.call(lambda s: s.session(session_id))
    assert row is not None
    assert row.data["ended_at"] is None


@pytest.mark.parametrize(
    ("language", "names"),
    [("en", ["Load control", "Price event"]), ("de", ["Laststeuerung", "Preisereignis"])],
)
async def test_local_event_without_name_is_named_after_its_kind(
    hass: HomeAssistant, language: str, names: list[str]
) -> None:
    """A local event added without a name gets its kind's name in Home Assistant's language."""
    coordinator = await setup(hass, make_entry())
    hass.config.language = language
    start = dt_util.utcnow() + timedelta(days=1)
    for kind, extra in (("load_control", {"limit_kw": 3.0}), ("price", {"price": 0.9})):
        await hass.services.async_call(
            DOMAIN,
            "add_local_event",
            {
                "kind": kind,
                "start": start.isoformat(),
                "end": (start + timedelta(hours=1)).isoformat(),
                **extra,
            },
            blocking=True,
        )
    assert [e["name"] for e in coordinator.local_events] == names
