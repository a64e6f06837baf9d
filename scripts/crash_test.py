"""Crash test: a real Home Assistant killed with SIGKILL mid-session, and its ledger locked.

Starts the venv's ``hass`` on 127.0.0.1 (a free port, a fresh configuration folder), onboards
it (scripts/onboard.py) and sets PEV Portal up on a charger mapped to two REST sensors this
script posts (``POST /api/states/...``): the charger's status and an external energy meter
whose register rises by exactly 1 Wh per tick. Then one session:

1. plug-in (the meter held still around it), the register rising at 7.2 kW;
2. ``--kills`` SIGKILLs: at random moments, right after a one-minute interval boundary (while
   the closed interval is being written), and the last one 0-50 ms after the unplug; Home
   Assistant is started again after each and the script's sensors come back;
3. a store outage: another connection holds the ledger's write lock across an interval
   boundary for ``--outage`` seconds (what a backup or a stuck process does); the writes made
   meanwhile must be kept and written when it ends;
4. unplug (the meter held still), a clean stop, and the checks on the ledger (SQLite):
   the session's intervals tile it (no gap, overlap or duplicate) and add up to the
   register's rise exactly; every interval that closed during the outage is stored.

With ``--meter demo`` the same runs on the demo charger and its simulated register (its
register is read from the ledger before the plug-in and after the stop).

Prints: kills survived, intervals checked, energy difference (target 0.000 kWh), intervals
lost during the store outage (target 0). Exit status 1 when a check fails.

    scripts/crash-test [--kills 6] [--outage 20] [--meter external|demo|both] [--seed N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import onboard  # noqa: E402

HASS = Path(sys.executable).with_name("hass")
METER = "sensor.crash_test_meter"
STATUS = "sensor.crash_test_charger_status"
TICK_S = 0.5  # the meter posts every tick; 1 Wh a tick while charging (7.2 kW)
INTERVAL_S = 60  # the premise meters one-minute intervals
LEDGER = "pev_portal.db"

CONFIGURATION = """\
homeassistant:
  name: PEV Portal crash test
  time_zone: UTC
  latitude: 52.52
  longitude: 13.405
  elevation: 34
  unit_system: metric
  currency: EUR
  country: DE

http:
  server_host: 127.0.0.1
  server_port: {port}

logger:
  default: warning
"""

# A homeowner without a utility program, one flat price (the set-up a newcomer meets); the
# 1-minute metering interval is set afterwards in the options, as a user would.
PREMISE_ANSWERS: dict[str, dict[str, Any]] = {
    "user": {"premise_name": "Crash test", "in_program": False, "tariff_kind": "flat"},
    "tariff_flat": {"price": 0.30},
}
EXTERNAL_ANSWERS: dict[str, dict[str, Any]] = {
    **PREMISE_ANSWERS,
    "charger": {"charger_name": "Crash charger", "charger_type": "entities"},
    "charger_entities": {
        "status_entity": STATUS,
        "meter_source": "sensor",
        "meter_entity": METER,
        "electrical": {},
    },
}
DEMO_ANSWERS: dict[str, dict[str, Any]] = {
    **PREMISE_ANSWERS,
    "charger": {"charger_name": "Crash demo", "charger_type": "demo"},
}
OPTIONS_ANSWERS: dict[str, dict[str, Any]] = {
    "init": {"interval_minutes": 1, "validation_window": 60, "tariff_kind": "keep"},
}


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Home:
    """One Home Assistant configuration, started, killed and started again."""

    def __init__(self, folder: Path) -> None:
        self.config = folder / "config"
        self.config.mkdir(parents=True)
        self.port = free_port()
        (self.config / "configuration.yaml").write_text(CONFIGURATION.format(port=self.port))
        (self.config / "custom_components").symlink_to(ROOT / "custom_components")
        self.log_path = folder / "home-assistant.log"
        self.api = onboard.Api(f"http://127.0.0.1:{self.port}")
        self.process: subprocess.Popen[bytes] | None = None
        self.credentials: dict[str, Any] = {}
        self.starts = 0

    @property
    def ledger(self) -> Path:
        return self.config / LEDGER

    def start(self) -> None:
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [str(HASS), "-c", str(self.config), "--skip-pip-packages", "PyMetno,radios"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.starts += 1
        onboard.wait_until_up(self.api, self.process.pid, timeout=300)

    def wait_loaded(self, timeout: float = 120) -> None:
        """Until PEV Portal's entry is loaded (after a restart)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                entries = self.api.call(
                    "GET", f"/api/config/config_entries/entry?domain={onboard.DOMAIN}"
                )
                if entries and entries[0]["state"] == "loaded":
                    return
            except onboard.SetupError, OSError:
                pass
            if time.monotonic() > deadline:
                raise onboard.SetupError("PEV Portal did not load")
            time.sleep(0.25)

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Meter(threading.Thread):
    """Posts the charger's status and the meter's register every tick (a REST sensor)."""

    def __init__(self, home: Home) -> None:
        super().__init__(daemon=True, name="crash-test-meter")
        self.home = home
        self.wh = 1_000_000  # the register: 1,000.000 kWh
        self.rising = False
        self.status = "unplugged"
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(TICK_S):
            with self.lock:
                if self.rising:
                    self.wh += 1
                wh, status = self.wh, self.status
            self._post(STATUS, status, {"friendly_name": "Crash test charger status"})
            self._post(
                METER,
                f"{wh / 1000:.3f}",
                {
                    "device_class": "energy",
                    "state_class": "total_increasing",
                    "unit_of_measurement": "kWh",
                    "friendly_name": "Crash test meter",
                },
            )

    def _post(self, entity_id: str, state: str, attributes: dict[str, Any]) -> None:
        token = self.home.api.token
        request = urllib.request.Request(
            f"{self.home.api.base_url}/api/states/{entity_id}",
            data=json.dumps({"state": state, "attributes": attributes}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=2):
                pass
        except urllib.error.URLError, OSError:
            pass  # Home Assistant is down (killed) or starting: the next tick posts again

    def hold(self) -> int:
        """Stop the register; return it."""
        with self.lock:
            self.rising = False
            return self.wh

    def rise(self) -> None:
        with self.lock:
            self.rising = True


@dataclass
class Result:
    meter: str
    kills: int = 0
    intervals: int = 0
    energy_diff_kwh: float = 0.0
    outage_intervals: int = 0
    outage_lost: int = 0
    estimated: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and abs(self.energy_diff_kwh) < 5e-7 and self.outage_lost == 0


def demo_plug(home: Home, on: bool) -> None:
    home.api.call(
        "POST",
        f"/api/services/switch/turn_{'on' if on else 'off'}",
        {"entity_id": "switch.crash_demo_demo_car_plugged_in"},
    )


def demo_register(home: Home) -> float:
    db = sqlite3.connect(home.ledger, timeout=30)
    try:
        rows = db.execute("SELECT value FROM meta WHERE key LIKE 'demo:%'").fetchall()
    finally:
        db.close()
    assert len(rows) == 1, rows
    return float(json.loads(rows[0][0])["register_kwh"])


def open_sessions(home: Home) -> int:
    db = sqlite3.connect(home.ledger, timeout=30)
    try:
        return int(db.execute("SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL").fetchone()[0])
    finally:
        db.close()


def seen(home: Home, entity_id: str, value: str, timeout: float = 60) -> None:
    """Until Home Assistant's state of the entity is ``value`` (polled every 10 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = home.api.call("GET", f"/api/states/{entity_id}", ok=(200, 404))
        except onboard.SetupError, OSError:
            state = None
        if isinstance(state, dict) and state.get("state") == value:
            return
        time.sleep(0.01)
    raise onboard.SetupError(f"{entity_id} never became {value!r}")


def wait_boundary(offset: float) -> None:
    """Sleep until ``offset`` seconds after the next interval boundary (wall clock)."""
    now = time.time()
    target = (now // INTERVAL_S + 1) * INTERVAL_S + offset
    if target - INTERVAL_S > now + 1:  # an offset before the boundary still ahead
        target -= INTERVAL_S
    time.sleep(max(0.0, target - now))


def restart(home: Home, result: Result) -> None:
    home.start()
    home.wait_loaded()
    result.kills += 1


def run(meter_kind: str, kills: int, outage: float, seed: int, keep: bool) -> Result:
    rng = random.Random(seed)
    result = Result(meter_kind)
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix=f"pev-crash-{meter_kind}-"))
    home = Home(folder)
    meter = Meter(home)
    demo = meter_kind == "demo"
    try:
        log(f"{meter_kind}: setting up Home Assistant in {folder}")
        home.start()
        onboard.onboard(home.api, home.credentials, folder / "credentials.json")
        onboard.confirm_http_config(home.api)
        if not demo:
            meter.start()
            time.sleep(2 * TICK_S)  # the sensors exist before the flow checks them
        resource = "/api/config/config_entries/flow"
        first = home.api.call("POST", resource, {"handler": onboard.DOMAIN})
        created = onboard.run_flow(
            home.api, resource, first, DEMO_ANSWERS if demo else EXTERNAL_ANSWERS, "PEV Portal"
        )
        home.wait_loaded()
        options = "/api/config/config_entries/options/flow"
        entry_id = created["result"]["entry_id"]
        first = home.api.call("POST", options, {"handler": entry_id})
        onboard.run_flow(home.api, options, first, OPTIONS_ANSWERS, "PEV Portal options")
        home.wait_loaded()
        home.stop()  # a clean stop: the onboarding and the entry are saved
        home.start()
        home.wait_loaded()

        # Plug in, the register still; then it rises.
        if demo:
            register_before = demo_register(home)
            demo_plug(home, True)
        else:
            start_wh = meter.hold()
            seen(home, METER, f"{start_wh / 1000:.3f}")
            meter.status = "charging"
            seen(home, STATUS, "charging")
            time.sleep(2 * TICK_S)
            meter.rise()
        log(f"{meter_kind}: plugged in")

        kinds = ["random", "boundary"] * kills
        for kind in kinds[: max(0, kills - 1)]:
            if kind == "random":
                time.sleep(rng.uniform(3, 15))
            else:
                wait_boundary(rng.uniform(0.0, 0.6))  # the closed interval is being written
            home.kill()
            log(f"{meter_kind}: killed ({kind})")
            restart(home, result)
            if demo and open_sessions(home) == 0:
                result.problems.append("the demo session did not survive the kill")

        # The store outage: the ledger's write lock held across an interval boundary.
        if outage > 0:
            wait_boundary(-outage / 2)
            blocker = sqlite3.connect(home.ledger, timeout=30, isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")
            locked_at = time.time()
            log(f"{meter_kind}: ledger locked for {outage:.0f} s")
            time.sleep(outage)
            unlocked_at = time.time()
            blocker.execute("ROLLBACK")
            blocker.close()
            first = int(locked_at // INTERVAL_S + 1) * INTERVAL_S
            boundaries = list(range(first, int(unlocked_at) + 1, INTERVAL_S))
            result.outage_intervals = len(boundaries)
            log(f"{meter_kind}: ledger unlocked; {len(boundaries)} interval(s) closed meanwhile")
            outage_ends = [datetime.fromtimestamp(b, UTC) for b in boundaries]
            # The kept writes land within the store's backoff (at most 30 s later).
            deadline = time.monotonic() + 45
            while time.monotonic() < deadline:
                if _stored_ends(home.ledger) >= set(outage_ends):
                    break
                time.sleep(0.5)
            result.outage_lost = len(set(outage_ends) - _stored_ends(home.ledger))

        # Unplug, the register still, and a kill 0-50 ms after it.
        if demo:
            demo_plug(home, False)
        else:
            end_wh = meter.hold()
            seen(home, METER, f"{end_wh / 1000:.3f}")  # Home Assistant has the last reading
            time.sleep(TICK_S)
            meter.status = "unplugged"
            seen(home, STATUS, "unplugged")
            time.sleep(rng.uniform(0, 0.05))
        if kills > 0:
            home.kill()
            log(f"{meter_kind}: killed (unplug)")
            restart(home, result)
        deadline = time.monotonic() + 30
        while open_sessions(home) and time.monotonic() < deadline:
            if demo:
                demo_plug(home, False)
            time.sleep(1)
        home.stop()
        meter.stopped.set()

        expected = demo_register(home) - register_before if demo else (end_wh - start_wh) / 1000
        check(home.ledger, expected, result)
    finally:
        meter.stopped.set()
        if meter.is_alive():
            meter.join()
        home.stop()
        result.seconds = time.monotonic() - started
        if not keep and result.ok:
            subprocess.run(["rm", "-rf", str(folder)], check=False)
        else:
            log(f"{meter_kind}: kept {folder}")
    return result


def _stored_ends(ledger: Path) -> set[datetime]:
    db = sqlite3.connect(ledger, timeout=30)
    try:
        rows = db.execute("SELECT end FROM intervals").fetchall()
    finally:
        db.close()
    return {datetime.fromisoformat(r[0].replace("Z", "+00:00")) for r in rows}


def check(ledger: Path, expected_kwh: float, result: Result) -> None:
    """The intervals tile each session and add up to the register's rise."""
    db = sqlite3.connect(ledger)
    try:
        sessions = db.execute(
            "SELECT session_id, started_at, ended_at FROM sessions ORDER BY started_at"
        ).fetchall()
        total = 0.0
        for session_id, _started, ended in sessions:
            if ended is None:
                result.problems.append(f"session {session_id} never ended")
            rows = db.execute(
                "SELECT start, end, kwh, quality FROM intervals WHERE session_id = ? "
                "ORDER BY start",
                (session_id,),
            ).fetchall()
            result.intervals += len(rows)
            starts = [r[0] for r in rows]
            if len(set(starts)) != len(starts):
                result.problems.append(f"{session_id}: duplicate intervals")
            for before, after in itertools.pairwise(rows):
                if before[1] != after[0]:
                    result.problems.append(
                        f"{session_id}: {'gap' if before[1] < after[0] else 'overlap'} "
                        f"between {before[1]} and {after[0]}"
                    )
            total += sum(r[2] for r in rows)
            result.estimated += sum(1 for r in rows if r[3] != "OK")
        if len(sessions) != 1:
            result.problems.append(f"{len(sessions)} sessions instead of one")
    finally:
        db.close()
    result.energy_diff_kwh = total - expected_kwh


def report(result: Result) -> None:
    print(
        f"crash test ({result.meter} meter): kills survived {result.kills}, "
        f"intervals checked {result.intervals} ({result.estimated} estimated), "
        f"energy difference {round(result.energy_diff_kwh, 3) + 0.0:.3f} kWh (target 0.000), "
        f"intervals lost during a store outage {result.outage_lost} of "
        f"{result.outage_intervals} (target 0), {result.seconds:.0f} s"
        + ("" if result.ok else f"  FAILED: {'; '.join(result.problems) or 'energy'}"),
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=6, help="SIGKILLs (the last at unplug)")
    parser.add_argument("--outage", type=float, default=20.0, help="seconds the ledger is locked")
    parser.add_argument("--meter", choices=["external", "demo", "both"], default="both")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the configuration folders")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    log(f"seed {seed}")
    kinds = ["external", "demo"] if args.meter == "both" else [args.meter]
    results = [run(kind, args.kills, args.outage, seed, args.keep) for kind in kinds]
    for result in results:
        report(result)
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {k: v for k, v in vars(r).items() if k != "problems"}
                    | {"problems": r.problems, "ok": r.ok}
                    for r in results
                ],
                indent=2,
            )
        )
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
