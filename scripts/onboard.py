"""Onboard the development Home Assistant and set PEV Portal up in it, over its HTTP API.

It also confirms the HTTP settings of configuration.yaml and adds the "EV charging" dashboard
with PEV Portal's card on the demo charger (over the websocket API).

Used by scripts/develop; standard library only. Idempotent: each step is skipped when Home
Assistant reports it done, and the owner's credentials are kept in a JSON file (mode 600) so
later runs log in again instead of onboarding.

    python scripts/onboard.py --credentials .develop/credentials.json [--hass-pid PID]

The answers given to the integration's config flow and to its vehicle subentry flow are the
dictionaries right below, keyed by step id; change them there when the flows change.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import socket
import string
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

DOMAIN = "pev_portal"

# Answers for the config flow (POST /api/config/config_entries/flow), by step id.
# A "menu" step takes {"next_step_id": "..."}.
CONFIG_FLOW_ANSWERS: dict[str, dict[str, Any]] = {
    # A homeowner without a utility program: no premise ID to type, one flat price, no utility
    # step (in a program the "utility" step would ask the premise ID and test the link live).
    "user": {"premise_name": "Demo home", "in_program": False, "tariff_kind": "flat"},
    "tariff_flat": {"price": 0.30},
    "charger": {"charger_name": "Demo charger", "charger_type": "demo"},
}

# Subentry type and the answers for its flow (POST /api/config/config_entries/subentries/flow).
SUBENTRY_TYPE = "vehicle"
SUBENTRY_FLOW_ANSWERS: dict[str, dict[str, Any]] = {
    "user": {
        "name": "Demo car",
        "relation": "home",
        "capacity_kwh": 60,
        "default_target": 80,
    },
}

ONBOARDING_STEPS = ("user", "core_config", "analytics", "integration")
OWNER = {"name": "Owner", "username": "owner", "language": "en"}


class SetupError(Exception):
    """A step failed; the message says which and why."""


class Api:
    """Minimal JSON client for Home Assistant's HTTP API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = f"{self.base_url}/"
        self.redirect_uri = f"{self.base_url}/?auth_callback=1"
        self.token: str | None = None

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        form: dict[str, str] | None = None,
        auth: bool = True,
        ok: tuple[int, ...] = (200, 201),
    ) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        text = raw.decode(errors="replace")
        try:
            payload = json.loads(text) if text else None
        except json.JSONDecodeError:
            payload = text
        if status not in ok:
            raise SetupError(f"{method} {path} answered HTTP {status}: {text[:2000]}")
        return payload


# --- credentials ----------------------------------------------------------------------------


def load_credentials(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def save_credentials(path: Path, credentials: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(credentials, file, indent=2)
        file.write("\n")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def new_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(16))


# --- steps ----------------------------------------------------------------------------------


def wait_until_up(api: Api, hass_pid: int | None, timeout: float) -> None:
    """Wait until /api/onboarding answers (the first start installs the frontend: minutes)."""
    start = last_note = time.monotonic()
    while True:
        try:
            # 404: onboarding is finished, Home Assistant then drops these views.
            api.call("GET", "/api/onboarding", auth=False, ok=(200, 404))
            return
        except SetupError, OSError:
            pass
        if hass_pid is not None and not pid_alive(hass_pid):
            raise SetupError("Home Assistant exited while starting; see its log")
        now = time.monotonic()
        if now - start > timeout:
            raise SetupError(f"{api.base_url} did not answer within {timeout:.0f} s")
        if now - last_note >= 15:
            print(f"  ... still waiting for Home Assistant ({now - start:.0f} s)", flush=True)
            last_note = now
        time.sleep(1)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child that exited but was not reaped yet is a zombie; treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def onboarding_status(api: Api) -> dict[str, bool]:
    """Which onboarding steps are done; all of them when the onboarding API is gone (404)."""
    status = api.call("GET", "/api/onboarding", auth=False, ok=(200, 404))
    if not isinstance(status, list):
        return dict.fromkeys(ONBOARDING_STEPS, True)
    return {item["step"]: item["done"] for item in status}


def fetch_tokens(api: Api, code: str) -> dict[str, Any]:
    form = {"grant_type": "authorization_code", "code": code, "client_id": api.client_id}
    return api.call("POST", "/auth/token", form=form, auth=False)


def log_in(api: Api, credentials: dict[str, Any]) -> None:
    """Get an access token: from the stored refresh token, else with username and password."""
    if refresh := credentials.get("refresh_token"):
        form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": api.client_id}
        try:
            api.token = api.call("POST", "/auth/token", form=form, auth=False)["access_token"]
            return
        except SetupError:
            print("  stored refresh token refused; logging in with the password", flush=True)
    username = credentials.get("username", OWNER["username"])
    password = credentials.get("password") or os.environ.get("PEV_PORTAL_PASSWORD")
    if not password:
        raise SetupError(
            "Home Assistant is already onboarded but no password is known: set "
            "PEV_PORTAL_PASSWORD, or start over with scripts/develop --reset"
        )
    flow = api.call(
        "POST",
        "/auth/login_flow",
        {
            "client_id": api.client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": api.redirect_uri,
        },
        auth=False,
    )
    result = api.call(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        {"client_id": api.client_id, "username": username, "password": password},
        auth=False,
    )
    if result.get("type") != "create_entry":
        raise SetupError(f"login as {username!r} failed: {result.get('errors') or result}")
    tokens = fetch_tokens(api, result["result"])
    api.token = tokens["access_token"]
    credentials.update(username=username, password=password, refresh_token=tokens["refresh_token"])


def onboard(api: Api, credentials: dict[str, Any], path: Path) -> None:
    status = onboarding_status(api)
    if not status.get("user"):
        password = os.environ.get("PEV_PORTAL_PASSWORD") or new_password()
        print(f"Onboarding: creating the owner user {OWNER['username']!r}", flush=True)
        credentials.update(
            url=api.base_url, username=OWNER["username"], password=password, client_id=api.client_id
        )
        save_credentials(path, credentials)  # before anything else can fail
        answer = api.call(
            "POST",
            "/api/onboarding/users",
            {**OWNER, "client_id": api.client_id, "password": password},
            auth=False,
        )
        tokens = fetch_tokens(api, answer["auth_code"])
        api.token = tokens["access_token"]
        credentials["refresh_token"] = tokens["refresh_token"]
        save_credentials(path, credentials)
    else:
        log_in(api, credentials)
        save_credentials(path, credentials)

    steps = {
        "core_config": {},
        "analytics": {},
        "integration": {"client_id": api.client_id, "redirect_uri": api.redirect_uri},
    }
    for step, body in steps.items():
        if not status.get(step):
            print(f"Onboarding: {step}", flush=True)
            api.call("POST", f"/api/onboarding/{step}", body, ok=(200, 403))  # 403: already done

    if api.call("GET", "/api/").get("message") != "API running.":
        raise SetupError("the access token does not work on /api/")


def fit_answers(
    answers: dict[str, Any], schema: list[dict[str, Any]], where: str
) -> dict[str, Any]:
    """The answers for the fields this form has, shaped the way the form wants them.

    Answers for a section (an "expandable" field) may be nested under its name or given flat.
    A dict or list answer for a text field is sent as JSON text.
    """
    fields: dict[str, dict[str, Any]] = {}

    def collect(schema: list[dict[str, Any]]) -> None:
        for field in schema:
            if field.get("type") == "expandable":
                collect(field["schema"])
            fields[field["name"]] = field

    def fit(schema: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in schema:
            name = field["name"]
            if field.get("type") == "expandable":
                nested = answers.get(name)
                if inner := fit(field["schema"], nested if isinstance(nested, dict) else answers):
                    out[name] = inner
            elif name in answers:
                value = answers[name]
                is_text = field.get("type") == "string" or "text" in (field.get("selector") or {})
                out[name] = (
                    json.dumps(value) if is_text and isinstance(value, dict | list) else value
                )
            elif field.get("required") and "default" not in field:
                print(f"  warning: {where} needs '{name}', which has no answer", flush=True)
        return out

    collect(schema)
    for name in sorted(set(answers) - set(fields)):
        print(f"  warning: {where} has no field '{name}'; not sent", flush=True)
    return fit(schema, answers)


def run_flow(
    api: Api, resource: str, result: dict[str, Any], answers: dict[str, dict[str, Any]], what: str
) -> dict[str, Any]:
    """Answer each step of a data entry flow until it creates its entry."""
    answered: set[str] = set()
    while True:
        kind, step = result.get("type"), result.get("step_id")
        if kind == "create_entry":
            print(f"{what}: created '{result.get('title')}'", flush=True)
            return result
        if kind == "abort":
            raise SetupError(
                f"{what} aborted: {result.get('reason')} {result.get('description_placeholders') or ''}"
            )
        if kind not in ("form", "menu"):
            raise SetupError(
                f"{what}: step {step!r} is of type {kind!r}, which this script cannot answer"
            )
        if step in answered and result.get("errors"):
            raise SetupError(
                f"{what}: step {step!r} rejected {json.dumps(answers.get(step))}: {result['errors']}"
            )
        if step not in answers:
            shown = result.get("data_schema") if kind == "form" else result.get("menu_options")
            raise SetupError(
                f"{what}: no answers for step {step!r} (update scripts/onboard.py). "
                f"The form asks for:\n{json.dumps(shown, indent=2)}"
            )
        if kind == "menu":
            payload = answers[step]
        else:
            payload = fit_answers(answers[step], result.get("data_schema") or [], f"step {step!r}")
        print(f"{what}: step {step!r}", flush=True)
        answered.add(step)
        result = api.call("POST", f"{resource}/{result['flow_id']}", payload)


def set_up_integration(api: Api, credentials: dict[str, Any]) -> None:
    entries = api.call("GET", f"/api/config/config_entries/entry?domain={DOMAIN}")
    if entries:
        entry = entries[0]
        print(f"PEV Portal: already set up ('{entry['title']}', {entry['state']})", flush=True)
    else:
        handlers = api.call("GET", "/api/config/config_entries/flow_handlers")
        if DOMAIN not in handlers:
            print(
                f"PEV Portal: no config flow for '{DOMAIN}' is available yet (config_flow/, "
                "manifest.json config_flow: true); skipped setting it up",
                flush=True,
            )
            return
        resource = "/api/config/config_entries/flow"
        first = api.call("POST", resource, {"handler": DOMAIN, "show_advanced_options": True})
        result = run_flow(api, resource, first, CONFIG_FLOW_ANSWERS, "PEV Portal config flow")
        entry = result["result"]
        if entry.get("state") != "loaded":
            print(
                f"  warning: the entry is {entry.get('state')!r}: {entry.get('reason')}", flush=True
            )
    credentials["entry_id"] = entry["entry_id"]

    if credentials.get("vehicle_entry_id") == entry["entry_id"]:
        return
    if SUBENTRY_TYPE not in (entry.get("supported_subentry_types") or {}):
        print(
            f"PEV Portal: the entry has no '{SUBENTRY_TYPE}' subentry type yet; no vehicle added",
            flush=True,
        )
        return
    resource = "/api/config/config_entries/subentries/flow"
    first = api.call("POST", resource, {"handler": [entry["entry_id"], SUBENTRY_TYPE]})
    run_flow(api, resource, first, SUBENTRY_FLOW_ANSWERS, "Vehicle subentry flow")
    credentials["vehicle_entry_id"] = entry["entry_id"]


# --- the dashboard ---------------------------------------------------------------------------

DASHBOARD_URL_PATH = "pev-portal"
DASHBOARD_VIEW_PATH = "charging"


class WebSocket:
    """Minimal client for Home Assistant's websocket API (RFC 6455 text frames; stdlib only)."""

    def __init__(self, base_url: str, token: str, timeout: float = 60) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme != "http" or parsed.hostname is None:
            raise SetupError(f"the websocket client only speaks plain http, not {base_url}")
        self.sock = socket.create_connection((parsed.hostname, parsed.port or 80), timeout)
        self.reader = self.sock.makefile("rb")
        self.next_id = 1
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /api/websocket HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        status = self.reader.readline()
        if b" 101 " not in status:
            raise SetupError(f"websocket upgrade refused: {status!r}")
        while self.reader.readline() not in (b"\r\n", b""):
            pass
        if self.receive().get("type") != "auth_required":
            raise SetupError("the websocket did not ask for authentication")
        self.send({"type": "auth", "access_token": token})
        if (answer := self.receive()).get("type") != "auth_ok":
            raise SetupError(f"websocket authentication failed: {answer}")

    def send(self, message: dict[str, Any]) -> None:
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x81, 0x80 | size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read(self, size: int) -> bytes:
        data = self.reader.read(size)
        if len(data) != size:
            raise SetupError("the websocket closed")
        return data

    def receive(self) -> dict[str, Any]:
        message = b""
        while True:
            first, second = self._read(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._read(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if second & 0x80 else b""
            data = self._read(size)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            opcode = first & 0x0F
            if opcode == 0x8:
                raise SetupError("the websocket closed")
            if opcode == 0x9:  # ping: answer with a (masked) pong
                pong_mask = os.urandom(4)
                body = bytes(b ^ pong_mask[i % 4] for i, b in enumerate(data))
                self.sock.sendall(struct.pack("!BB", 0x8A, 0x80 | len(data)) + pong_mask + body)
                continue
            if opcode in (0x0, 0x1, 0x2):
                message += data
                if first & 0x80:
                    decoded: dict[str, Any] = json.loads(message)
                    return decoded

    def call(self, message: dict[str, Any]) -> Any:
        """Send a command and return its result (raise SetupError when it fails)."""
        msg_id = self.next_id
        self.next_id += 1
        self.send({**message, "id": msg_id})
        while True:
            answer = self.receive()
            if answer.get("id") == msg_id and answer.get("type") == "result":
                if not answer.get("success"):
                    raise SetupError(f"{message['type']} failed: {answer.get('error')}")
                return answer.get("result")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def confirm_http_config(api: Api) -> None:
    """Keep the HTTP settings of configuration.yaml (127.0.0.1, the port).

    Home Assistant moves them to storage as a trial it reverts after a few minutes (a restart
    on the defaults) unless a user confirms them; this confirms them.
    """
    if api.token is None:
        raise SetupError("log in before confirming the HTTP settings")
    ws = WebSocket(api.base_url, api.token)
    try:
        try:
            config = ws.call({"type": "http/config"})
        except SetupError:
            return  # an older Home Assistant: nothing to confirm
        if config.get("pending") and config.get("revert_at"):
            print("HTTP settings: confirming them (no revert to the defaults)", flush=True)
            ws.call({"type": "http/config/promote"})
    finally:
        ws.close()


def dashboard_config(device_id: str | None) -> dict[str, Any]:
    """The PEV Portal dashboard: one sections view with the card on the charger."""
    card: dict[str, Any] = {"type": "custom:pev-portal-card"}
    if device_id:
        card["device_id"] = device_id
    return {
        "title": "EV charging",
        "views": [
            {
                "title": "Charging",
                "path": DASHBOARD_VIEW_PATH,
                "icon": "mdi:ev-station",
                "type": "sections",
                "max_columns": 2,
                "sections": [{"type": "grid", "cards": [card]}],
            }
        ],
    }


def wait_for_chargers(ws: WebSocket, timeout: float = 30) -> list[dict[str, Any]]:
    """PEV Portal's chargers (its card data), once the entry is loaded (after its reload)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            chargers: list[dict[str, Any]] = ws.call({"type": "pev_portal/dashboard"})["chargers"]
        except SetupError:
            chargers = []
        if chargers or time.monotonic() > deadline:
            return chargers
        time.sleep(0.5)


def create_dashboard(api: Api) -> str:
    """Add the 'EV charging' dashboard with the card (kept if it exists); return its path."""
    if api.token is None:
        raise SetupError("log in before creating the dashboard")
    ws = WebSocket(api.base_url, api.token)
    try:
        dashboards = ws.call({"type": "lovelace/dashboards/list"})
        if not any(d.get("url_path") == DASHBOARD_URL_PATH for d in dashboards):
            print("Dashboard: creating 'EV charging'", flush=True)
            ws.call(
                {
                    "type": "lovelace/dashboards/create",
                    "url_path": DASHBOARD_URL_PATH,
                    "title": "EV charging",
                    "icon": "mdi:ev-station",
                    "show_in_sidebar": True,
                    "require_admin": False,
                }
            )
        try:
            ws.call({"type": "lovelace/config", "url_path": DASHBOARD_URL_PATH})
        except SetupError:  # no configuration yet: the card on the first charger
            chargers = wait_for_chargers(ws)
            device_id = chargers[0]["device_id"] if chargers else None
            ws.call(
                {
                    "type": "lovelace/config/save",
                    "url_path": DASHBOARD_URL_PATH,
                    "config": dashboard_config(device_id),
                }
            )
    finally:
        ws.close()
    return f"/{DASHBOARD_URL_PATH}/{DASHBOARD_VIEW_PATH}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--credentials", type=Path, required=True)
    parser.add_argument("--hass-pid", type=int, help="fail early if this process exits")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for startup")
    parser.add_argument("--skip-integration", action="store_true")
    args = parser.parse_args()

    api = Api(args.url)
    credentials = load_credentials(args.credentials)
    try:
        print(f"Waiting for Home Assistant at {api.base_url} ...", flush=True)
        wait_until_up(api, args.hass_pid, args.timeout)
        onboard(api, credentials, args.credentials)
        confirm_http_config(api)
        if not args.skip_integration:
            set_up_integration(api, credentials)
            credentials["dashboard"] = create_dashboard(api)
    except SetupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        if credentials:
            save_credentials(args.credentials, credentials)

    print()
    print("Home Assistant is ready:")
    print(f"  URL:      {api.base_url}")
    if credentials.get("dashboard"):
        print(f"  card:     {api.base_url}{credentials['dashboard']}")
    print(f"  username: {credentials['username']}")
    print(f"  password: {credentials['password']}")
    print(f"  (kept in {args.credentials})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
