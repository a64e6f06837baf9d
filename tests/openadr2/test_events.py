"""2.0b events -> the one timeline: each signal, target, modification and malformed input.

Every event here goes through openleadr's own serializer and parser (``create_message`` ->
``parse_message``, the 2.0b schema checked), so the input has the peer's real shape."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from openleadr import objects
from openleadr.messaging import create_message, parse_message, validate_xml_schema

from custom_components.pev_portal.openadr.timeline import Timeline
from custom_components.pev_portal.openadr2.events import (
    EventBook,
    EventContext,
    text,
    to_event,
)
from custom_components.pev_portal.openadr2.opt import OPT_IN, OPT_OUT, OptBook, opt_for

T0 = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PEVS = ("PEV-1", "PEV-2")
CTX = EventContext(
    ven_name="home1",
    premise_id="PREMISE-1",
    pev_ids=PEVS,
    ven_id="ven-1",
    mandatory_programs=frozenset({"oadr://emergency"}),
    base_price=lambda at: Decimal("0.20") if at.hour < 18 else Decimal("0.30"),
)


def _wire(*events: Any) -> list[dict[str, Any]]:
    """Events as the VEN receives them: serialized and parsed by openleadr."""
    message = create_message(
        "oadrDistributeEvent",
        request_id="r1",
        vtn_id="VTN",
        events=list(events),
        response={"response_code": 200, "response_description": "OK", "request_id": "r1"},
    )
    validate_xml_schema(message)
    kind, payload = parse_message(message)
    assert kind == "oadrDistributeEvent"
    return list(payload["events"])


def _event(
    name: str,
    kind: str,
    values: list[float],
    *,
    event_id: str = "ev1",
    targets: list[dict[str, str]] | None = None,
    measurement: Any = None,
    modification: int = 0,
    status: str = "far",
    priority: int = 0,
    context: str = "oadr://program",
    startafter: timedelta | None = None,
    response_required: str = "always",
) -> Any:
    intervals = [
        objects.Interval(dtstart=T0 + i * HOUR, duration=HOUR, signal_payload=v, uid=i)
        for i, v in enumerate(values)
    ]
    event = objects.Event(
        event_descriptor=objects.EventDescriptor(
            event_id=event_id,
            modification_number=modification,
            market_context=context,
            event_status=status,
            created_date_time=T0 - HOUR,
            priority=priority,
        ),
        active_period=objects.ActivePeriod(
            dtstart=T0,
            duration=HOUR * len(values),
            tolerance={"startafter": startafter} if startafter else None,
        ),
        event_signals=[
            objects.EventSignal(
                signal_name=name,
                signal_type=kind,
                signal_id="s1",
                intervals=intervals,
                measurement=measurement,
            )
        ],
        targets=[objects.Target(**t) for t in (targets or [{"ven_id": "ven-1"}])],
        response_required=response_required,
    )
    event.event_descriptor.event_status = status  # openleadr's Event derives it from the time
    return event


def _timeline(*events: Any, ctx: EventContext = CTX) -> Timeline:
    book = EventBook()
    book.distribute(_wire(*events), ctx)
    return Timeline(book.timeline_events(), ven_name="home1", resource_names=PEVS)


def _prices(timeline: Timeline) -> list[float]:
    return [float(o.price) for o in timeline.price_overlays("PEV-1")]


def test_prices_absolute_relative_and_multiplier() -> None:
    """price as is (currency from the item base); priceRelative and priceMultiplier on the base
    tariff's price at each interval's start."""
    eur = objects.Measurement(
        name="currencyPerKWh", description="currencyPerKWh", unit="EUR", scale="none"
    )
    absolute = _timeline(_event("ELECTRICITY_PRICE", "price", [0.5, 0.1], measurement=eur))
    assert _prices(absolute) == [0.5, 0.1]
    assert absolute.events["ev1"].price_currency == "EUR"
    assert _prices(_timeline(_event("ELECTRICITY_PRICE", "priceRelative", [0.05, -0.1]))) == [
        0.25,
        0.2,
    ]
    assert _prices(_timeline(_event("ELECTRICITY_PRICE", "priceMultiplier", [2, 0.5]))) == [
        0.4,
        0.15,
    ]


def test_relative_prices_without_a_base_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    ctx = EventContext(ven_name="home1", premise_id="P", pev_ids=PEVS, ven_id="ven-1")
    event = to_event(_wire(_event("ELECTRICITY_PRICE", "priceRelative", [0.05]))[0], ctx)
    assert event.event is None
    assert "no base price" in event.skipped[0]


def test_simple_levels_and_setpoints_and_capacity() -> None:
    """SIMPLE 0-3 through the level map; setpoints in W, kW (default) and MW; a capacity
    fraction of the charger's maximum."""
    simple = _timeline(_event("SIMPLE", "level", [0, 1, 2, 3]))
    assert [simple.cap_kw("PEV-1", T0 + i * HOUR, 11.0, 1.4) for i in range(4)] == [
        None,
        5.5,
        1.4,
        0.0,
    ]
    kilo = objects.Measurement(
        name="powerReal",
        description="RealPower",
        unit="W",
        scale="k",
        power_attributes=objects.PowerAttributes(),
    )
    watts = objects.Measurement(
        name="powerReal",
        description="RealPower",
        unit="W",
        scale="none",
        power_attributes=objects.PowerAttributes(),
    )
    mega = objects.Measurement(
        name="powerReal",
        description="RealPower",
        unit="W",
        scale="M",
        power_attributes=objects.PowerAttributes(),
    )
    for measurement, value, expected in (
        (kilo, 3.5, 3.5),
        (watts, 4200, 4.2),
        (mega, 0.002, 2.0),
        (None, 6, 6.0),
    ):
        timeline = _timeline(_event("LOAD_DISPATCH", "setpoint", [value], measurement=measurement))
        assert timeline.cap_kw("PEV-1", T0, 11.0, 1.4) == pytest.approx(expected)
    setpoint = _timeline(_event("LOAD_CONTROL", "x-loadControlSetpoint", [2.0]))
    assert setpoint.cap_kw("PEV-2", T0, 11.0, 1.4) == pytest.approx(2.0)
    capacity = _timeline(_event("LOAD_CONTROL", "x-loadControlCapacity", [0.25]))
    assert capacity.cap_kw("PEV-1", T0, 11.0, 1.4) == pytest.approx(2.75)
    assert capacity.cap_kw("PEV-1", T0, 7.4, 1.4) == pytest.approx(1.85)


def test_unsupported_signals_and_values_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    """delta and offsets need a baseline; a capacity above 1 is not a fraction."""
    for name, kind in (
        ("LOAD_DISPATCH", "delta"),
        ("LOAD_CONTROL", "x-loadControlLevelOffset"),
        ("BID_LOAD", "setpoint"),
    ):
        event = to_event(_wire(_event(name, kind, [1.0]))[0], CTX)
        assert event.event is None, kind
        assert "not supported" in event.skipped[0]
    with caplog.at_level(logging.WARNING):
        event = to_event(_wire(_event("LOAD_CONTROL", "x-loadControlCapacity", [1.5, 0.5]))[0], CTX)
    assert event.event is not None
    assert len(event.event.intervals) == 1
    assert "unusable" in caplog.text


@pytest.mark.parametrize(
    ("targets", "pev1", "pev2"),
    [
        ([{"ven_id": "ven-1"}], True, True),
        ([{"group_id": "north"}], True, True),
        ([{"party_id": "customer-7"}], True, True),
        ([{"resource_id": "PREMISE-1"}], True, True),
        ([{"resource_id": "PEV-2"}], False, True),
        ([{"resource_id": "PEV-2"}, {"resource_id": "PEV-1"}], True, True),
        ([{"resource_id": "pool-pump"}], False, False),
        ([{"ven_id": "someone-else"}], False, False),
    ],
)
def test_targets(targets: list[dict[str, str]], pev1: bool, pev2: bool) -> None:
    """VEN, group, party and premise targets reach every vehicle; a vehicle's resource only
    that vehicle; other resources and VENs none."""
    timeline = _timeline(_event("SIMPLE", "level", [3], targets=targets))
    assert (timeline.cap_kw("PEV-1", T0, 11.0, 1.4) is not None) is pev1
    assert (timeline.cap_kw("PEV-2", T0, 11.0, 1.4) is not None) is pev2


def test_priority_randomization_and_mandatory() -> None:
    """Priority 0 is no priority; startafter is the randomization; a mandatory program."""
    event = to_event(
        _wire(
            _event(
                "SIMPLE",
                "level",
                [2],
                priority=0,
                startafter=timedelta(minutes=7),
                context="oadr://emergency",
            )
        )[0],
        CTX,
    )
    assert event.mandatory
    assert event.event is not None
    assert event.event.priority is None
    assert event.event.mandatory
    timeline = Timeline([event.event], ven_name="home1", resource_names=PEVS)
    assert timeline.entries[0].randomize_start == timedelta(minutes=7)
    ranked = to_event(_wire(_event("SIMPLE", "level", [2], priority=3))[0], CTX)
    assert ranked.event is not None
    assert ranked.event.priority == 3
    assert not ranked.mandatory


def test_modifications_cancellations_and_absence() -> None:
    """The newest modification wins (an older one is ignored), a cancelled event leaves, and an
    event missing from a distribution is over."""
    book = EventBook()
    changed, gone = book.distribute(_wire(_event("SIMPLE", "level", [1])), CTX)
    assert [(e.event_id, e.modification_number) for e in changed] == [("ev1", 0)]
    changed, _ = book.distribute(_wire(_event("SIMPLE", "level", [3], modification=2)), CTX)
    assert [e.modification_number for e in changed] == [2]
    changed, _ = book.distribute(_wire(_event("SIMPLE", "level", [1], modification=1)), CTX)
    assert changed == []
    assert book.events["ev1"].modification_number == 2
    changed, gone = book.distribute(
        _wire(_event("SIMPLE", "level", [3], modification=3, status="cancelled")), CTX
    )
    assert [e.status for e in changed] == ["cancelled"]
    assert gone == ["ev1"]
    assert book.timeline_events() == []
    book.distribute(_wire(_event("SIMPLE", "level", [1], event_id="ev2")), CTX)
    _, gone = book.distribute([], CTX)
    assert gone == ["ev2"]


def test_rebuild_reads_the_events_again_for_new_vehicles() -> None:
    book = EventBook()
    ctx = EventContext(ven_name="home1", premise_id="P", pev_ids=(), ven_id="ven-1")
    book.distribute(_wire(_event("SIMPLE", "level", [3], targets=[{"resource_id": "PEV-9"}])), ctx)
    timeline = Timeline(book.timeline_events(), ven_name="home1", resource_names=["PEV-9"])
    assert timeline.cap_kw("PEV-9", T0, 11.0, 1.4) is None
    book.rebuild(EventContext(ven_name="home1", premise_id="P", pev_ids=("PEV-9",)))
    timeline = Timeline(book.timeline_events(), ven_name="home1", resource_names=["PEV-9"])
    assert timeline.cap_kw("PEV-9", T0, 11.0, 1.4) == 0.0


def test_malformed_events_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    """Not a dict, no event ID, no start, no intervals, negative durations: logged, skipped,
    never fatal; the good event beside them is kept."""
    good = _wire(_event("SIMPLE", "level", [3], event_id="good"))[0]
    no_start = {"event_descriptor": {"event_id": "x1"}, "active_period": {}}
    bad_interval = {
        "event_descriptor": {"event_id": "x2", "modification_number": "n/a"},
        "active_period": {"dtstart": T0},
        "event_signals": [
            "junk",
            {
                "signal_name": "SIMPLE",
                "signal_type": "level",
                "intervals": ["junk", {"duration": -HOUR, "signal_payload": 1}],
            },
        ],
    }
    book = EventBook()
    with caplog.at_level(logging.WARNING):
        changed, _ = book.distribute(
            ["junk", {"event_descriptor": {}}, no_start, bad_interval, good], CTX
        )
    assert sorted(e.event_id for e in changed) == ["good", "x1", "x2"]
    assert book.events["x1"].skipped == ("no active period start",)
    assert book.events["x2"].skipped == ("no intervals",)
    assert [e.id for e in book.timeline_events()] == ["good"]
    assert "malformed" in caplog.text
    assert "without an eventID" in caplog.text


def test_xmltodict_1_text_nodes_are_unwrapped() -> None:
    """With xmltodict 1.0.4 (pinned by Home Assistant's rest, scrape and fritz) openleadr's
    parser gives ``{"#text": ...}`` for some strings (measured): they read the same."""
    raw = _wire(_event("SIMPLE", "level", [3], context="oadr://program"))[0]
    raw["event_descriptor"]["market_context"] = {"#text": "oadr://program"}
    raw["targets"] = [{"resource_id": {"#text": "PEV-2"}}]
    event = to_event(raw, CTX)
    assert event.market_context == "oadr://program"
    timeline = Timeline([event.event] if event.event else [], ven_name="home1", resource_names=PEVS)
    assert timeline.cap_kw("PEV-2", T0, 11.0, 1.4) == 0.0
    assert timeline.cap_kw("PEV-1", T0, 11.0, 1.4) is None
    assert text({"#text": " x "}) == "x"
    assert text({"@attr": 1}) is None
    assert text([1]) is None


def test_opt_answers() -> None:
    """Mandatory and cancelled: optIn; opted out: optOut; else the default; each answer once,
    again when the user changes their mind; never when no response is required."""
    plain = to_event(_wire(_event("SIMPLE", "level", [1]))[0], CTX)
    mandatory = to_event(_wire(_event("SIMPLE", "level", [1], context="oadr://emergency"))[0], CTX)
    cancelled = to_event(_wire(_event("SIMPLE", "level", [1], status="cancelled"))[0], CTX)
    silent = to_event(_wire(_event("SIMPLE", "level", [1], response_required="never"))[0], CTX)
    assert opt_for(plain, default=OPT_IN, opted_out=()) == OPT_IN
    assert opt_for(plain, default=OPT_OUT, opted_out=()) == OPT_OUT
    assert opt_for(plain, default=OPT_IN, opted_out={"ev1"}) == OPT_OUT
    assert opt_for(mandatory, default=OPT_OUT, opted_out={"ev1"}) == OPT_IN
    assert opt_for(cancelled, default=OPT_OUT, opted_out={"ev1"}) == OPT_IN
    book = OptBook()
    due = book.due([plain, silent], default=OPT_IN, opted_out=())
    assert [(a.event_id, a.opt_type) for a in due] == [("ev1", OPT_IN)]
    book.acknowledged(due)
    assert book.due([plain], default=OPT_IN, opted_out=()) == []
    changed = book.due([plain], default=OPT_IN, opted_out={"ev1"})
    assert [a.opt_type for a in changed] == [OPT_OUT]
    book.acknowledged(changed)
    assert book.opted_out() == {"ev1"}
    book.forget(["ev1"])
    assert book.opted_out() == set()


def test_binding_from_the_events() -> None:
    """An event at the vehicle's resource: enrolled; at other resources only: not enrolled;
    none (or premise-wide, or over): the program's default."""
    from custom_components.pev_portal.openadr2.binding import binding_answer

    def events(*raw: Any) -> list[Any]:
        return [to_event(r, CTX) for r in _wire(*raw)]

    mine = events(_event("SIMPLE", "level", [1], targets=[{"resource_id": "PEV-1"}]))
    other = events(_event("SIMPLE", "level", [1], targets=[{"resource_id": "PEV-2"}]))
    wide = events(_event("SIMPLE", "level", [1]))
    over = events(
        _event("SIMPLE", "level", [1], targets=[{"resource_id": "PEV-2"}], status="cancelled")
    )
    assert binding_answer("PEV-1", mine)[0].binding == "ENROLLED"
    assert binding_answer("PEV-1", other)[0].binding == "NOT_ENROLLED"
    assert binding_answer("PEV-1", [*other, *mine])[0].binding == "ENROLLED"
    assert binding_answer("PEV-1", wide)[0].binding == "ENROLLED"
    assert binding_answer("PEV-1", over, default="NOT_ENROLLED")[0].binding == "NOT_ENROLLED"
    answer, why = binding_answer("PEV-1", [])
    assert answer.binding == "ENROLLED"
    assert "default" in why
