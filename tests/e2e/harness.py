"""What the end-to-end tests share: one real Home Assistant and the browser scripts' runner.

:class:`SharedHomeAssistant` starts the venv's ``hass`` on 127.0.0.1 (a free port, a fresh
configuration folder), onboards it over HTTP (scripts/onboard.py) and keeps it for every test
of tests/e2e (the ``e2e_hass`` fixture in conftest.py): starting it is the slow part. Each test
finds it without PEV Portal set up and without its store (:meth:`SharedHomeAssistant.reset`,
before and after each test), sets up its own premise and removes its own dashboards, so no test
sees another's state. Its configuration serves every
test: a Nord Pool-shaped price sensor (a template sensor) for the set-up walk, the tag and
mobile app integrations for its NFC scans, the home's consumption (5 kW, a template sensor) for
the power feed.

:func:`run_script` runs one of the node scripts (playwright-core driving Debian's Chromium) with
the base URL, fresh tokens, the output folder and the browser in its environment, and returns the
one JSON object it prints. Skipped (``E2E_MARKS``) when Chromium or the node packages are
missing (scripts/ensure-e2e-deps installs them) or when PEV_PORTAL_SKIP_E2E=1.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("PEV_E2E_CHROMIUM", "/usr/bin/chromium"))
PLAYWRIGHT = ROOT / "frontend" / "node_modules" / "playwright-core"
OUTPUT = ROOT / "test-output" / "e2e"
DOCS_IMAGES = ROOT / "docs" / "images"
HASS = Path(sys.executable).with_name("hass")

sys.path.insert(0, str(ROOT / "scripts"))
import onboard  # noqa: E402

# Every end-to-end test: skipped without its tools; one xdist worker runs them all (scripts/test
# distributes with --dist loadgroup), so they share one Home Assistant.
E2E_MARKS = [
    pytest.mark.skipif(
        os.environ.get("PEV_PORTAL_SKIP_E2E") == "1", reason="PEV_PORTAL_SKIP_E2E=1"
    ),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no {CHROMIUM} (scripts/ensure-e2e-deps)"),
    pytest.mark.skipif(
        not PLAYWRIGHT.exists() or shutil.which("node") is None,
        reason="no node or frontend/node_modules (scripts/ensure-e2e-deps)",
    ),
    pytest.mark.skipif(not HASS.exists(), reason=f"no {HASS}"),
    pytest.mark.xdist_group("e2e"),
]

CONFIGURATION = """\
homeassistant:
  name: PEV Portal end-to-end test
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

frontend:
config:
history:
logbook:
energy:
tag:
mobile_app:

# The homeowner's prices from another integration: a sensor shaped as Nord Pool's (HACS) one,
# its price in EUR/kWh and today's hourly prices in raw_today.
template:
  - sensor:
      - name: Nord Pool price
        unique_id: walk_nord_pool_price
        unit_of_measurement: EUR/kWh
        state: "0.25"
        attributes:
          raw_today: >-
            {{% set day = today_at('00:00') %}}
            [{{% for h in range(24) %}}{{"start": "{{{{ (day + timedelta(hours=h)).isoformat() }}}}",
            "end": "{{{{ (day + timedelta(hours=h + 1)).isoformat() }}}}", "value": 0.25}}{{% if not loop.last %}},{{% endif %}}{{% endfor %}}]
      # The home's consumption (what a vehicle's power feed may cover, V2H).
      - name: Home power
        unique_id: e2e_home_power
        unit_of_measurement: W
        device_class: power
        state_class: measurement
        state: "5000"

logger:
  default: warning
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_until_running(api: onboard.Api, timeout: float = 240) -> None:
    """Until Home Assistant has started (template sensors render then)."""
    deadline = time.monotonic() + timeout
    while api.call("GET", "/api/config").get("state") != "RUNNING":
        if time.monotonic() > deadline:
            raise AssertionError("Home Assistant did not finish starting")
        time.sleep(0.5)


class SharedHomeAssistant:
    """One running, onboarded Home Assistant without PEV Portal set up; started when a test
    asks for it (:meth:`ensure_started`), stopped after the last end-to-end test (conftest.py)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None
        self.config: Path | None = None
        self.api: onboard.Api | None = None
        self.credentials: dict[str, Any] = {}
        self.setup_s = 0.0
        self.starts = 0
        # What a test set up once for this start (e.g. the walk's phone), gone with a restart.
        self.once: dict[str, Any] = {}

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ensure_started(self) -> onboard.Api:
        if self.running and self.api is not None:
            return self.api
        self.stop()
        self.once = {}
        self.starts += 1
        config = self.config = self.folder / f"config-{self.starts}"
        config.mkdir(parents=True)
        port = free_port()
        (config / "configuration.yaml").write_text(CONFIGURATION.format(port=port))
        (config / "custom_components").symlink_to(ROOT / "custom_components")
        OUTPUT.mkdir(parents=True, exist_ok=True)
        with (OUTPUT / "home-assistant.log").open("wb" if self.starts == 1 else "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(HASS),
                    "-c",
                    str(config),
                    "--skip-pip-packages",
                    "PyMetno,radios,pycountry,gTTS",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        started = time.monotonic()
        api = onboard.Api(f"http://127.0.0.1:{port}")
        self.credentials = {}
        onboard.wait_until_up(api, self.process.pid, timeout=240)
        onboard.onboard(api, self.credentials, config / "credentials.json")
        onboard.confirm_http_config(api)
        wait_until_running(api)
        self.api = api
        self.setup_s = round(time.monotonic() - started, 1)
        return api

    def tokens(self) -> dict[str, Any]:
        """Fresh tokens for a browser (the frontend takes them from localStorage)."""
        assert self.api is not None
        tokens = self.api.call(
            "POST",
            "/auth/token",
            form={
                "grant_type": "refresh_token",
                "refresh_token": self.credentials["refresh_token"],
                "client_id": self.api.client_id,
            },
            auth=False,
        )
        return {
            "access_token": tokens["access_token"],
            "expires_in": tokens["expires_in"],
            "refresh_token": self.credentials["refresh_token"],
        }

    def reset(self) -> None:
        """No PEV Portal premise, and no store: the premises removed (unloaded, their store
        closed; their local events and settings deleted, so nothing of them reaches another
        premise: tests/components/test_premise_scope.py), then the store file, which keeps a
        removed premise's billing records under its ID (a premise set up again with the same
        ID finds its sessions, by design): each test starts from an empty history."""
        assert self.api is not None
        assert self.config is not None
        delete_premises(self.api)
        for path in self.config.glob(f"{STORE_FILENAME}*"):
            path.unlink()

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
        self.process = None
        self.api = None


STORE_FILENAME = "pev_portal.db"  # const.STORE_FILENAME, in the configuration folder


def delete_premises(api: onboard.Api) -> None:
    """Every PEV Portal premise removed (with its chargers, vehicles and their devices)."""
    for entry in api.call("GET", "/api/config/config_entries/entry?domain=pev_portal"):
        api.call("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")


def delete_dashboard(api: onboard.Api, url_path: str) -> None:
    """The dashboard at url_path removed, if there is one."""
    assert api.token is not None
    ws = onboard.WebSocket(api.base_url, api.token)
    try:
        for dashboard in ws.call({"type": "lovelace/dashboards/list"}):
            if dashboard.get("url_path") == url_path:
                ws.call({"type": "lovelace/dashboards/delete", "dashboard_id": dashboard["id"]})
    finally:
        ws.close()


def run_script(
    hass: SharedHomeAssistant, script: str, env: dict[str, str], timeout: float
) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    """Run tests/e2e/<script> with node; the JSON object it printed last, and the run."""
    assert hass.api is not None
    run = subprocess.run(
        ["node", str(ROOT / "tests" / "e2e" / script)],
        env={
            **os.environ,
            "PEV_E2E_URL": hass.api.base_url,
            "PEV_E2E_TOKENS": json.dumps(hass.tokens()),
            "PEV_E2E_OUTPUT": str(OUTPUT),
            "PEV_E2E_CHROMIUM": str(CHROMIUM),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert run.stdout.strip(), f"no result from {script}: {run.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result, run
