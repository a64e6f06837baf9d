"""The store every premise shares: each premise's rows apart, the upgrade from version 6
(rows without a premise) losing nothing, a premise ID changed, a premise deleted."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from custom_components.pev_portal.io.schema import OUTBOX_COLUMNS
from custom_components.pev_portal.io.store import SCHEMA_VERSION, LedgerStore
from tests.test_store import T0, interval, session

P1, P2 = "PREMISE-1", "PREMISE-2"
LATER = T0 + timedelta(hours=1)


def _event(store: LedgerStore, event_id: str, premise_id: str) -> None:
    store.add_local_event(
        event_id, "load_control", T0, T0 + timedelta(hours=2), {"name": event_id}, premise_id
    )


def _put(store: LedgerStore, key: str, session_id: str, premise_id: str) -> None:
    store.outbox_put(
        report_key=key,
        session_id=session_id,
        event_id="e1",
        program_id="p1",
        report_name=key,
        kind="usage",
        body={"n": key},
        now=T0,
        premise_id=premise_id,
    )


def _names(store: LedgerStore, premise_id: str) -> list[str]:
    return [e["event_id"] for e in store.local_events(T0, premise_id)]


def _due(store: LedgerStore, premise_id: str) -> list[str]:
    return sorted(r["report_key"] for r in store.outbox_due(LATER, premise_id))


@pytest.fixture
def store(tmp_path: Path) -> Any:
    ledger = LedgerStore(tmp_path / "ledger.db")
    yield ledger
    ledger.close()


def test_two_premises_keep_their_rows_apart(store: LedgerStore) -> None:
    """Local events, reports (due, counted, dead-lettered, resent) and enrollments (the same
    vehicle enrolled at both) are each premise's own."""
    _event(store, "peak-1", P1)
    _event(store, "peak-2", P2)
    assert _names(store, P1) == ["peak-1"]
    assert _names(store, P2) == ["peak-2"]

    _put(store, "a", "s1", P1)
    _put(store, "b", "s2", P2)
    assert _due(store, P1) == ["a"]
    assert _due(store, P2) == ["b"]
    store.outbox_dead_letter("a", "HTTP 422", P1)
    assert store.outbox_stats(P1)["dead"] == 1
    assert store.outbox_stats(P2)["dead"] == 0
    assert store.outbox_stats(P2)["backlog"] == 1
    assert store.outbox_dead_letters(P2) == []
    assert store.outbox_resend(None, LATER, P2) == 0, "premise 2 cannot resend premise 1's"
    assert [r["report_key"] for r in store.outbox_dead_letters(P1)] == ["a"]
    assert store.outbox_resend(None, LATER, P1) == 1

    # The same vehicle's status at both premises: one key, two reports, each acked apart.
    _put(store, "status2:PEV-1", "", P1)
    _put(store, "status2:PEV-1", "", P2)
    store.outbox_ack("status2:PEV-1", 1, "r2", LATER, P2)
    store.outbox_fail("status2:PEV-1", "HTTP 503", LATER, P1)
    assert _due(store, P1) == ["a", "status2:PEV-1"]
    assert _due(store, P2) == ["b"]
    mine, theirs = (store.outbox_report("status2:PEV-1", p) for p in (P1, P2))
    assert mine is not None
    assert theirs is not None
    assert (mine["attempts"], mine["vtn_report_id"]) == (1, None)
    assert (theirs["attempts"], theirs["vtn_report_id"]) == (0, "r2")

    store.save_enrollment("PEV-1", "TOU", "active", {"n": 1}, P1)
    store.save_enrollment("PEV-1", "TOU", "pending", {"n": 2}, P2)
    assert [r["data"] for r in store.enrollments(P1)] == [{"n": 1}]
    assert [r["data"] for r in store.enrollments(P2)] == [{"n": 2}]
    store.save_enrollment("PEV-1", "TOU", "verified", {"n": 3}, P1)  # replaces its own row
    assert [r["data"] for r in store.enrollments(P1)] == [{"n": 3}]
    assert [r["data"] for r in store.enrollments(P2)] == [{"n": 2}]


def _back_to_version_6(path: Path, meta: dict[str, Any]) -> None:
    """The file as version 6 wrote it: no premise on local events, outbox and enrollments;
    the fail-safe state and push secrets under their unscoped keys."""
    old = sqlite3.connect(path)
    with old:
        old.execute("ALTER TABLE local_events DROP COLUMN premise_id")
        old.execute("ALTER TABLE outbox RENAME TO outbox_7")
        old.execute(
            """CREATE TABLE outbox (report_key TEXT PRIMARY KEY, session_id TEXT NOT NULL,
                   event_id TEXT NOT NULL, program_id TEXT NOT NULL, report_name TEXT NOT NULL,
                   kind TEXT NOT NULL, body TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1,
                   sent_version INTEGER NOT NULL DEFAULT 0, vtn_report_id TEXT,
                   attempts INTEGER NOT NULL DEFAULT 0, next_attempt TEXT NOT NULL,
                   last_error TEXT, acked_at TEXT, updated_at TEXT NOT NULL, dead_letter TEXT)"""
        )
        names = ", ".join(OUTBOX_COLUMNS)
        old.execute(f"INSERT INTO outbox ({names}) SELECT {names} FROM outbox_7")
        old.execute("DROP TABLE outbox_7")
        old.execute("CREATE INDEX outbox_due ON outbox (next_attempt)")
        old.execute("ALTER TABLE enrollments RENAME TO enrollments_7")
        old.execute(
            """CREATE TABLE enrollments (pev_id TEXT NOT NULL, program TEXT NOT NULL,
                   state TEXT NOT NULL, data TEXT NOT NULL, updated_at TEXT NOT NULL,
                   PRIMARY KEY (pev_id, program))"""
        )
        old.execute(
            "INSERT INTO enrollments SELECT pev_id, program, state, data, updated_at"
            " FROM enrollments_7"
        )
        old.execute("DROP TABLE enrollments_7")
        old.execute("DELETE FROM meta WHERE key LIKE 'failsafe:%' OR key LIKE 'utility_push:%'")
        old.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [(key, json.dumps(value)) for key, value in meta.items()],
        )
        old.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    for table in ("local_events", "outbox", "enrollments"):
        assert "premise_id" not in {r[1] for r in old.execute(f"PRAGMA table_info({table})")}
    old.close()


LEGACY = {"failsafe": {"rule": None}, "utility_push": {"webhook_id": "w", "bearer": "b"}}


def _fill(path: Path, premises: tuple[str, ...]) -> None:
    store = LedgerStore(path)
    for n, premise_id in enumerate(premises):
        store.save_session(session(f"s{n}", premise_id=premise_id), None)
        _put(store, f"usage:s{n}", f"s{n}", premise_id)
    _event(store, "evening-peak", "whoever")
    _put(store, "status2:PEV-1", "", "whoever")  # a report of no session
    store.save_enrollment("PEV-1", "TOU", "active", {"n": 1}, "whoever")
    store.close()
    _back_to_version_6(path, LEGACY)


def test_opening_a_version_6_file_of_one_premise_gives_it_every_row(tmp_path: Path) -> None:
    """The stored sessions are all of one premise: every row and value without a premise is
    its own; nothing is lost; a second open migrates nothing."""
    path = tmp_path / "ledger.db"
    _fill(path, (P1,))
    store = LedgerStore(path)
    try:
        assert store.get_meta("schema_version") == SCHEMA_VERSION == 7
        assert _names(store, P1) == ["evening-peak"]
        assert _due(store, P1) == ["status2:PEV-1", "usage:s0"]
        assert [r["pev_id"] for r in store.enrollments(P1)] == ["PEV-1"]
        assert store.get_meta("failsafe:PREMISE-1") == LEGACY["failsafe"]
        assert store.get_meta("utility_push:PREMISE-1") == LEGACY["utility_push"]
        assert store.get_meta("failsafe") is None
        assert store.session("s0") is not None
        store.save_enrollment("PEV-1", "TOU", "verified", {"n": 2}, P1)
        assert [r["data"] for r in store.enrollments(P1)] == [{"n": 2}], "replaced, not added"
        _put(store, "usage:s0", "s0", P2)  # the rebuilt outbox: keyed by premise and key
        assert _due(store, P1) == ["status2:PEV-1", "usage:s0"]
        assert _due(store, P2) == ["usage:s0"]
        indexes = store._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        assert "outbox_due" in {row[0] for row in indexes}
    finally:
        store.close()
    again = LedgerStore(path)
    try:
        assert again.get_meta("schema_version") == SCHEMA_VERSION
        assert _names(again, P1) == ["evening-peak"]
    finally:
        again.close()


def test_opening_a_version_6_file_of_two_premises_guesses_nothing(tmp_path: Path) -> None:
    """Sessions of two premises: each report follows its session; the rest stays without a
    premise (read by nobody, kept) until a premise is the only entry and claims it."""
    path = tmp_path / "ledger.db"
    _fill(path, (P1, P2))
    store = LedgerStore(path)
    try:
        assert _due(store, P1) == ["usage:s0"]
        assert _due(store, P2) == ["usage:s1"]
        assert _names(store, P1) == _names(store, P2) == []
        assert store.get_meta("failsafe") == LEGACY["failsafe"], "kept as it was"
        found = store.claim_premise("entry2", P2, sole=False)
        assert found == {"renamed_from": None, "claimed": 0, "unscoped": 5}
        assert _names(store, P2) == []
        found = store.claim_premise("entry2", P2, sole=True)  # premise 1 was deleted since
        assert found == {"renamed_from": None, "claimed": 5, "unscoped": 0}
        assert _names(store, P2) == ["evening-peak"]
        assert _due(store, P2) == ["status2:PEV-1", "usage:s1"]
        assert [r["pev_id"] for r in store.enrollments(P2)] == ["PEV-1"]
        assert store.get_meta("utility_push:PREMISE-2") == LEGACY["utility_push"]
    finally:
        store.close()


def test_a_legacy_value_never_overwrites_a_scoped_one(store: LedgerStore) -> None:
    """The premise already has its own value: the unscoped one stays as it was."""
    store.set_meta("failsafe", {"old": True})
    store.set_meta("failsafe:PREMISE-1", {"new": True})
    assert store.claim_premise("entry1", P1, sole=True)["claimed"] == 0
    assert store.get_meta("failsafe:PREMISE-1") == {"new": True}
    assert store.get_meta("failsafe") == {"old": True}


def test_a_changed_premise_id_takes_its_rows_along(store: LedgerStore) -> None:
    """Reconfigured to another premise ID: its local events, reports, enrollments and
    settings follow the entry; another premise's stay."""
    assert store.claim_premise("entry1", P1, sole=False)["renamed_from"] is None
    _event(store, "mine", P1)
    _event(store, "theirs", P2)
    _put(store, "a", "s1", P1)
    store.save_enrollment("PEV-1", "TOU", "active", {}, P1)
    store.set_meta("smart_charging:PREMISE-1", {"v1": {"target": 80}})
    store.set_meta("utility_push:PREMISE-1", {"bearer": "b"})
    found = store.claim_premise("entry1", "PREMISE-NEW", sole=False)
    assert found["renamed_from"] == P1
    assert _names(store, "PREMISE-NEW") == ["mine"]
    assert _names(store, P1) == []
    assert _names(store, P2) == ["theirs"]
    assert _due(store, "PREMISE-NEW") == ["a"]
    assert [r["pev_id"] for r in store.enrollments("PREMISE-NEW")] == ["PEV-1"]
    assert store.get_meta("smart_charging:PREMISE-NEW") == {"v1": {"target": 80}}
    assert store.get_meta("utility_push:PREMISE-NEW") == {"bearer": "b"}
    assert store.get_meta("smart_charging:PREMISE-1") is None
    assert store.claim_premise("entry1", "PREMISE-NEW", sole=False)["renamed_from"] is None


def test_a_deleted_premise_keeps_its_records_and_loses_its_settings(store: LedgerStore) -> None:
    """Its local events, enrollments, settings, fail-safe state, push secrets and demo state
    go; its sessions and reports stay; the other premise loses nothing."""
    store.claim_premise("entry1", P1, sole=False)
    store.save_session(session("s1", premise_id=P1), None)
    _event(store, "mine", P1)
    _event(store, "theirs", P2)
    _put(store, "a", "s1", P1)
    store.save_enrollment("PEV-1", "TOU", "active", {}, P1)
    store.save_enrollment("PEV-1", "TOU", "active", {}, P2)
    for name in ("smart_charging", "failsafe", "utility_push"):
        store.set_meta(f"{name}:{P1}", {"x": 1})
        store.set_meta(f"{name}:{P2}", {"x": 2})
    store.set_meta("demo:charger1", {"register": 5.0})
    store.set_meta("demo:charger2", {"register": 6.0})

    removed = store.forget_premise("entry1", P1, ["charger1"])
    assert removed == {"local_events": 1, "enrollments": 1, "meta": 5}
    assert _names(store, P1) == []
    assert store.enrollments(P1) == []
    assert store.get_meta(f"smart_charging:{P1}") is None
    assert store.get_meta("demo:charger1") is None
    assert store.get_meta("premise_of:entry1") is None
    assert store.session("s1") is not None, "a billing record is kept"
    assert _due(store, P1) == ["a"], "its reports are kept, sent when it is added back"
    assert _names(store, P2) == ["theirs"]
    assert len(store.enrollments(P2)) == 1
    assert store.get_meta(f"failsafe:{P2}") == {"x": 2}
    assert store.get_meta("demo:charger2") == {"register": 6.0}


def test_a_row_the_premise_already_has_is_kept_apart(store: LedgerStore) -> None:
    """Renamed onto a premise ID that already queued the same report: both rows are kept
    (the former one under the former ID), the claim does not fail."""
    store.claim_premise("entry1", P1, sole=False)
    _put(store, "status2:PEV-1", "", P1)
    _put(store, "status2:PEV-1", "", P2)
    assert store.claim_premise("entry1", P2, sole=False)["renamed_from"] == P1
    assert _due(store, P1) == ["status2:PEV-1"]
    assert _due(store, P2) == ["status2:PEV-1"]


def test_commands_and_interval_counts_are_the_premises_own(store: LedgerStore) -> None:
    """The open sessions' command trails and the interval count (diagnostics) of one premise
    leave the other's out."""
    store.save_session(session("s1", premise_id=P1), None, [interval(0)])
    store.save_session(session("s2", premise_id=P2, charger_id="charger2"), None)
    store.save_commands(
        "s2", [{"at": "x", "source": "plan", "enabled": True, "current_a": 6, "target_kw": 1.4}]
    )
    assert store.open_commands(P1) == {}
    assert list(store.open_commands(P2)) == ["s2"]
    assert store.interval_count(P1) == 1
    assert store.interval_count(P2) == 0
    assert store.interval_count() == 1
