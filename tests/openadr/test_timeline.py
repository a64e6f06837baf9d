"""The event timeline: prices, caps, levels, alerts, targets and interval timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from custom_components.pev_portal.core.tariff import FlatTariff, OverlayTariff
from custom_components.pev_portal.openadr.models import END_OF_TIME, Event, parse_event
from custom_components.pev_portal.openadr.timeline import Timeline

T0 = datetime(2030, 7, 1, 16, 0, tzinfo=UTC)
H = timedelta(hours=1)
MAX, MIN = 7.2, 1.4


def ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


_n = iter(range(1, 10_000))


def event(
    payloads: list[list[dict[str, Any]]] | None = None,
    *,
    start: datetime | str | None = T0,
    duration: str | None = "PT1H",
    priority: int | None = None,
    targets: list[Any] | None = None,
    name: str | None = None,
    event_id: str | None = None,
    intervals: list[dict[str, Any]] | None = None,
    event_duration: str | None = None,
    **extra: Any,
) -> Event:
    period: dict[str, Any] = {}
    if start is not None:
        period["start"] = start if isinstance(start, str) else ts(start)
    if duration is not None:
        period["duration"] = duration
    raw: dict[str, Any] = {
        "id": event_id or f"evt-{next(_n)}",
        "programID": "prg-1",
        "createdDateTime": ts(T0 - 2 * H),
        "modificationDateTime": ts(T0 - 2 * H),
        "objectType": "EVENT",
        "intervals": intervals
        if intervals is not None
        else [{"id": i, "payloads": p} for i, p in enumerate(payloads or [])],
    }
    if period:
        raw["intervalPeriod"] = period
    if priority is not None:
        raw["priority"] = priority
    if targets is not None:
        raw["targets"] = targets
    if name is not None:
        raw["eventName"] = name
    if event_duration is not None:
        raw["duration"] = event_duration
    raw.update(extra)
    return parse_event(raw)


def price(*values: float) -> list[dict[str, Any]]:
    return [{"type": "PRICE", "values": list(values)}]


def timeline(*events: Event, **kwargs: Any) -> Timeline:
    kwargs.setdefault("ven_name", "premise-1")
    kwargs.setdefault("resource_names", ["PEV-1", "PEV-2"])
    kwargs.setdefault("now", T0)
    return Timeline(list(events), **kwargs)


# --------------------------------------------------------------------------- prices


def test_price_overlays_lower_priority_number_wins() -> None:
    tou = event([price(0.20), price(0.30), price(0.30), price(0.20)], priority=5, name="tou")
    cpp = event([price(0.90)], start=T0 + H, duration="PT2H", priority=0, name="cpp")
    cheap_low_rank = event([price(0.01)], start=T0, duration="PT4H", name="no priority")
    tl = timeline(tou, cpp, cheap_low_rank)
    overlays = tl.price_overlays(None)
    assert [(o.start, o.end, o.price, o.name) for o in overlays] == [
        (T0, T0 + H, Decimal("0.2"), "tou"),
        (T0 + H, T0 + 3 * H, Decimal("0.9"), "cpp"),
        (T0 + 3 * H, T0 + 4 * H, Decimal("0.2"), "tou"),
    ]
    tariff = OverlayTariff(FlatTariff("USD", Decimal("0.15")), overlays)
    assert tariff.price_at(T0 + 2 * H).price == Decimal("0.9")
    assert tariff.price_at(T0 + 5 * H).price == Decimal("0.15")


def test_same_priority_later_start_wins() -> None:
    a = event([price(0.2)], start=T0, duration="PT3H", priority=1, name="a")
    b = event([price(0.5)], start=T0 + H, duration="PT1H", priority=1, name="b")
    overlays = timeline(a, b).price_overlays(None)
    assert [(o.start, o.price) for o in overlays] == [
        (T0, Decimal("0.2")),
        (T0 + H, Decimal("0.5")),
        (T0 + 2 * H, Decimal("0.2")),
    ]


def test_currency_mismatch_is_ignored_and_units_scaled() -> None:
    eur = event(
        [price(0.3)],
        payloadDescriptors=[
            {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "PRICE", "currency": "EUR"}
        ],
    )
    mwh = event(
        [price(250)],
        start=T0 + H,
        payloadDescriptors=[
            {
                "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                "payloadType": "PRICE",
                "units": "MWH",
                "currency": "USD",
            }
        ],
    )
    tl = timeline(eur, mwh, currency="usd")
    assert [(o.start, o.price) for o in tl.price_overlays(None)] == [(T0 + H, Decimal("0.25"))]
    assert eur.price_currency == "EUR"
    assert mwh.price_units == "MWH"


def test_multi_valued_price_splits_interval() -> None:
    ev = event([price(0.17, 0.03, 0.11)], duration="PT3H")
    assert [(o.start, o.end, o.price) for o in timeline(ev).price_overlays(None)] == [
        (T0, T0 + H, Decimal("0.17")),
        (T0 + H, T0 + 2 * H, Decimal("0.03")),
        (T0 + 2 * H, T0 + 3 * H, Decimal("0.11")),
    ]


# --------------------------------------------------------------------------- caps and levels


def test_import_capacity_limit_caps_and_priority() -> None:
    dlc = event(
        [[{"type": "IMPORT_CAPACITY_LIMIT", "values": [3.0]}]],
        duration="PT2H",
        priority=1,
        name="dlc",
    )
    stop = event(
        [[{"type": "SIMPLE", "values": [3]}]],
        start=T0 + H,
        duration="PT30M",
        priority=0,
        name="stop",
    )
    tl = timeline(dlc, stop)
    assert tl.cap_kw("PEV-1", T0 - H, MAX, MIN) is None
    assert tl.cap_kw("PEV-1", T0, MAX, MIN) == 3.0
    assert tl.cap_kw("PEV-1", T0 + H, MAX, MIN) == 0.0
    assert tl.cap_kw(None, T0 + 90 * timedelta(minutes=1), MAX, MIN) == 3.0
    assert tl.caps("PEV-1", T0 - H, T0 + 3 * H, MAX, MIN) == [
        (T0, T0 + H, 3.0, "dlc"),
        (T0 + H, T0 + 90 * timedelta(minutes=1), 0.0, "stop"),
        (T0 + 90 * timedelta(minutes=1), T0 + 2 * H, 3.0, "dlc"),
    ]


def test_higher_priority_normal_level_lifts_cap() -> None:
    dlc = event([[{"type": "IMPORT_CAPACITY_LIMIT", "values": [2.0]}]], priority=3)
    normal = event([[{"type": "SIMPLE", "values": [0]}]], priority=1)
    assert timeline(dlc, normal).cap_kw("PEV-1", T0, MAX, MIN) is None
    assert timeline(dlc).cap_kw("PEV-1", T0, MAX, MIN) == 2.0


def test_simple_level_mapping_default_and_configured() -> None:
    levels = {lvl: event([[{"type": "SIMPLE", "values": [lvl]}]]) for lvl in range(4)}
    caps = {lvl: timeline(ev).cap_kw("PEV-1", T0, MAX, MIN) for lvl, ev in levels.items()}
    assert caps == {0: None, 1: MAX * 0.5, 2: MIN, 3: 0.0}
    custom = {1: 0.25, 3: "min"}
    assert timeline(levels[1], level_map=custom).cap_kw("PEV-1", T0, MAX, MIN) == MAX * 0.25
    assert timeline(levels[3], level_map=custom).cap_kw("PEV-1", T0, MAX, MIN) == MIN
    bad = event([[{"type": "SIMPLE", "values": [7]}]])
    assert timeline(bad).entries == []


def test_alerts_are_levels_unless_configured() -> None:
    emergency = event(
        [[{"type": "ALERT_GRID_EMERGENCY", "values": ["grid emergency"]}]],
        start="0001-01-01",
        duration="P9999Y",
        priority=0,
    )
    flex = event([[{"type": "ALERT_FLEX_ALERT", "values": ["flex alert"]}]])
    fire = event([[{"type": "ALERT_FIRE", "values": ["fire risk"]}]])
    tl = timeline(emergency)
    entry = tl.entries[0]
    assert (entry.kind, entry.level, entry.text) == ("alert", 3, "grid emergency")
    assert entry.start == T0 - 2 * H  # 'now' = the event's creation
    assert entry.end == END_OF_TIME
    assert tl.cap_kw("PEV-2", T0 + 1000 * H, MAX, MIN) == 0.0
    assert emergency.mandatory
    assert timeline(flex).cap_kw("PEV-1", T0, MAX, MIN) == MIN
    assert (
        timeline(flex, alert_levels={"ALERT_FLEX_ALERT": None}).cap_kw("PEV-1", T0, MAX, MIN)
        is None
    )
    fire_tl = timeline(fire)
    assert fire_tl.cap_kw("PEV-1", T0, MAX, MIN) is None
    assert [e.text for e in fire_tl.alerts(T0)] == ["fire risk"]


def test_available_answers() -> None:
    offer = event(
        [
            [
                {"type": "IMPORT_CAPACITY_AVAILABLE", "values": [6.0]},
                {"type": "PRICE", "values": [0.12]},
            ]
        ],
        targets=["PEV-1"],
    )
    tl = timeline(offer)
    [entry] = tl.available("PEV-1")
    assert (entry.cap_kw, entry.price, entry.applies_to) == (
        6.0,
        Decimal("0.12"),
        frozenset({"PEV-1"}),
    )
    assert tl.available("PEV-2") == []
    assert tl.price_overlays("PEV-1") == []  # an offer is not a tariff price


# --------------------------------------------------------------------------- targets


def test_targets_rule() -> None:
    untargeted = event([price(0.1)])
    to_ven = event([price(0.1)], targets=["premise-1"])
    granted_ven = event([price(0.1)], targets=["grp-ven"])
    granted_pev = event([price(0.1)], targets=["grp-A"])
    by_name = event([price(0.1)], targets=["PEV-2"])
    old_style = event([price(0.1)], targets=[{"type": "RESOURCE_NAME", "values": ["PEV-1"]}])
    old_ven = event([price(0.1)], targets=[{"type": "VEN_NAME", "values": ["premise-1"]}])
    foreign = event([price(0.1)], targets=["grp-Z"])
    tl = timeline(
        untargeted,
        ven_targets=["grp-ven"],
        resource_targets={"PEV-1": ["grp-A"]},
    )
    assert tl.applies(untargeted, None)
    assert tl.applies(untargeted, "PEV-1")
    assert tl.applies(to_ven, None)
    assert tl.applies(to_ven, "PEV-2")
    assert tl.applies(granted_ven, "PEV-2")
    assert tl.applies(granted_pev, "PEV-1")
    assert not tl.applies(granted_pev, "PEV-2")
    assert not tl.applies(granted_pev, None)
    assert tl.applies(by_name, "PEV-2")
    assert not tl.applies(by_name, "PEV-1")
    assert tl.applies(old_style, "PEV-1")
    assert not tl.applies(old_style, "PEV-2")
    assert tl.applies(old_ven, None)
    assert not tl.applies(foreign, "PEV-1")
    assert not tl.applies(foreign, None)

    tl2 = timeline(granted_pev, foreign, ven_targets=[], resource_targets={"PEV-1": ["grp-A"]})
    assert {e.event_id for e in tl2.entries} == {granted_pev.id}
    assert tl2.price_overlays("PEV-1")
    assert not tl2.price_overlays("PEV-2")
    # grants unknown: a targeted event the VTN showed us is taken as granted to the VEN
    assert timeline(foreign).applies(foreign, "PEV-2")


# --------------------------------------------------------------------------- timing


def test_interval_periods_inherited_and_overridden() -> None:
    ev = event(
        intervals=[
            {"id": 0, "payloads": price(0.1)},
            {"id": 1, "payloads": price(0.2)},
            {"id": 2, "intervalPeriod": {"start": ts(T0 + 5 * H)}, "payloads": price(0.3)},
            {"id": 3, "intervalPeriod": {"duration": "PT30M"}, "payloads": price(0.4)},
        ],
        randomizeStart="PT5M",
    )
    spans = [(e.start, e.end, e.price) for e in timeline(ev).entries]
    assert spans == [
        (T0, T0 + H, Decimal("0.1")),
        (T0 + H, T0 + 2 * H, Decimal("0.2")),
        (T0 + 5 * H, T0 + 6 * H, Decimal("0.3")),
        (T0 + 6 * H, T0 + 6 * H + timedelta(minutes=30), Decimal("0.4")),
    ]


def test_randomize_start_kept() -> None:
    ev = event(
        [[{"type": "IMPORT_CAPACITY_LIMIT", "values": [2]}]],
        intervalPeriod={"start": ts(T0), "duration": "PT1H", "randomizeStart": "PT10M"},
    )
    [entry] = timeline(ev).entries
    assert entry.randomize_start == timedelta(minutes=10)
    assert entry.start == T0  # not applied here: the planner does


def test_event_duration_loops_and_truncates() -> None:
    looped = event([price(0.1), price(0.2)], duration="PT1H", event_id="loop", event_duration="P1D")
    tl = timeline(looped)
    starts = [e.start for e in tl.entries]
    assert len(starts) == 24
    assert starts[-1] == T0 + 23 * H
    assert tl.entries[-1].price == Decimal("0.2")
    forever = event([price(0.1)], duration="PT1H", event_duration="P9999Y")
    tl = timeline(forever, horizon=timedelta(hours=5))
    assert len(tl.entries) == 5
    short = event([price(0.1), price(0.2), price(0.3)], duration="PT1H", event_duration="PT90M")
    assert [(e.start, e.end) for e in timeline(short).entries] == [
        (T0, T0 + H),
        (T0 + H, T0 + 90 * timedelta(minutes=1)),
    ]


def test_infinite_and_missing_duration() -> None:
    ev = event([price(0.1)], duration="P9999Y")
    assert timeline(ev).entries[0].end == END_OF_TIME
    no_duration = event([price(0.1)], duration=None)
    assert timeline(no_duration).entries[0].end == END_OF_TIME


def test_modified_event_replaces_old_and_deleted_is_absent() -> None:
    old = event([price(0.5)], event_id="e1", priority=1)
    new = parse_event(
        {
            **old.raw,
            "modificationDateTime": ts(T0),
            "intervals": [{"id": 0, "payloads": price(0.6)}],
        }
    )
    assert [e.price for e in timeline(old, new).entries] == [Decimal("0.6")]
    assert [e.price for e in timeline(new, old).entries] == [Decimal("0.6")]  # older ignored
    assert timeline().entries == []  # a deleted event is simply not passed


def test_active_and_next() -> None:
    a = event([price(0.1)], priority=2)
    b = event([[{"type": "IMPORT_CAPACITY_LIMIT", "values": [1]}]], priority=1)
    c = event([price(0.3)], start=T0 + 2 * H)
    tl = timeline(a, b, c)
    assert [e.kind for e in tl.active(T0)] == ["cap", "price"]
    nxt = tl.next(T0)
    assert nxt is not None
    assert nxt.start == T0 + 2 * H
    assert tl.next(T0 + 3 * H) is None


def test_empty_grant_lists_are_not_knowledge() -> None:
    """A VEN read before the BL granted anything has empty target lists: an event the VTN
    shows under a label is still taken as granted to the VEN (issue 13)."""
    granted_later = event([price(0.1)], targets=["grp-late"])
    tl = timeline(granted_later, ven_targets=[], resource_targets={"PEV-1": []})
    assert not tl.grants_known
    assert tl.applies(granted_later, "PEV-1")
    decision = tl.explain(granted_later, "PEV-1")
    assert decision.scope == "all"
    assert "no grants known yet" in decision.reasons[0]


def test_explain_says_why() -> None:
    """The decision is explainable: which target matched what, for each vehicle."""
    to_pev = event([price(0.1)], targets=["grp-A"])
    foreign = event([price(0.1)], targets=["grp-Z"])
    untargeted = event([price(0.1)])
    tl = timeline(to_pev, foreign, untargeted, resource_targets={"PEV-1": ["grp-A"]})
    yes = tl.explain(to_pev, "PEV-1")
    assert (yes.applies, yes.scope) == (True, "vehicle")
    assert "vehicles ['PEV-1']" in yes.reasons[0]
    no = tl.explain(to_pev, "PEV-2")
    assert (no.applies, no.scope) == (False, "vehicles")
    assert tl.explain(foreign, "PEV-1").as_dict()["reasons"] == [
        "'grp-Z' is granted neither to the VEN nor to a vehicle"
    ]
    assert tl.explain(untargeted, None).scope == "all"
    rows = tl.explain_all()
    assert len(rows) == 3 * (1 + len(tl.resource_names))
    assert {r["event_id"] for r in rows if r["applies"]} == {to_pev.id, untargeted.id}
