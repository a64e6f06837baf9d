"""OpenADR 3.1.0 VEN client over aiohttp (no Home Assistant imports).

Endpoints used, as the 3.1.0 contract defines them (``openadr3.yaml``):

* ``GET /auth/server`` -> ``{tokenURL}`` (falls back to ``{base}/auth/token``); ``POST`` the token
  URL with form fields ``grant_type=client_credentials``, ``client_id``, ``client_secret``.
* ``GET /programs``, ``GET /events?programID=``; both with ``skip``/``limit`` paging (limit at
  most 50) and optional repeated ``targets=`` query params.
* ``GET /vens?venName=``, ``POST /vens`` (``VEN_VEN_REQUEST``).
* ``GET /resources?venID=&resourceName=``, ``POST /resources``, ``PUT /resources/{id}``,
  ``GET /resources/{id}`` (``VEN_RESOURCE_REQUEST``); 3.1.0 has no ``/vens/{venID}/resources``
  (3.0 had), which is only tried when ``/resources`` answers 404.
* ``GET /reports?clientName=&eventID=``, ``POST /reports``, ``PUT /reports/{id}``.
* ``GET /subscriptions?clientName=``, ``POST /subscriptions``, ``DELETE /subscriptions/{id}``.

Targets are strings in 3.1.0 and private: a VEN sees a targeted program or event only when it
lists one of the targets granted to it in the ``targets`` query. The client therefore collects
the targets granted on its VEN and resource objects (:attr:`VenClient.granted_targets`) and,
when it has any, asks once without and once with them, merging by id (a VTN may drop untargeted
objects from a targeted query).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import json as jsonlib
import logging
import ssl as ssllib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode, urljoin

import aiohttp

from .errors import (
    OpenADRError,
    UnknownProgram,
    VtnAuthError,
    VtnNotFound,
    VtnProtocolError,
    VtnTlsError,
    VtnUnreachable,
)
from .models import (
    Event,
    Program,
    Resource,
    format_datetime,
    parse_events,
    parse_programs,
    parse_resource,
    target_values,
)

__all__ = [
    "CONNECTIONS",
    "Auth",
    "BearerToken",
    "ClientCredentials",
    "Exchange",
    "NoAuth",
    "VenClient",
    "pev_resource_attributes",
]

_LOGGER = logging.getLogger(__name__)

CONNECTIONS: Final = frozenset({"CORDSET_AC_L1", "PREMISE_AC_L2", "PREMISE_DC"})
ANSWER_ATTRIBUTES: Final = frozenset({"BINDING", "BILLING_PARTY", "HOME_UTILITY_ID"})
"""Attributes the utility writes on a PEV resource (binding step 2)."""

_SECRET_KEYS: Final = frozenset(
    {"authorization", "client_secret", "access_token", "refresh_token", "bearertoken", "token"}
)
_REDACTED: Final = "**REDACTED**"
_MAX_PAGES: Final = 1000
_TOKEN_MARGIN_S: Final = 30.0
_UNAVAILABLE: Final = frozenset({502, 503, 504})


@dataclass(frozen=True)
class ClientCredentials:
    """OAuth 2 client credentials (sent as form fields to the token endpoint)."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class BearerToken:
    """A static bearer token provisioned by the utility."""

    token: str = field(repr=False)


@dataclass(frozen=True)
class NoAuth:
    """No authentication (a tariff-only VTN)."""


type Auth = ClientCredentials | BearerToken | NoAuth


@dataclass
class Exchange:
    """One request and its outcome, for diagnostics; secrets are redacted."""

    at: datetime
    method: str
    url: str
    status: int | None
    request: Any
    response: Any
    error: str | None
    elapsed_ms: float | None = None


def redact(value: Any) -> Any:
    """A deep copy with every secret-bearing key (tokens, secrets) replaced."""
    if isinstance(value, Mapping):
        return {
            k: (_REDACTED if str(k).lower() in _SECRET_KEYS and v is not None else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return copy.copy(value)


def pev_resource_attributes(
    *,
    pev_id: str,
    premise_id: str,
    max_power_kw: float,
    connection: str,
    energy_request_kwh: float | None,
    departure: datetime | None,
) -> list[dict[str, Any]]:
    """The PEV resource's attributes (profile, binding step 1) as ``valuesMap`` objects.

    ``MAX_POWER_CONSUMPTION`` [kW], ``PEV_ID``, ``PREMISE_ID``, ``CONNECTION`` (one of
    :data:`CONNECTIONS`), and when known ``ENERGY_REQUEST`` [kWh] and ``DEPARTURE`` [RFC 3339
    UTC]. ValueError on an unknown connection, a negative or non-finite number, or a naive
    departure.
    """
    conn = connection.strip().upper() if isinstance(connection, str) else ""
    if conn not in CONNECTIONS:
        raise ValueError(f"connection must be one of {sorted(CONNECTIONS)}, got {connection!r}")
    if not pev_id or not premise_id:
        raise ValueError("pev_id and premise_id are required")

    def number(name: str, value: float) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number")
        if value != value or value in (float("inf"), float("-inf")) or value < 0:
            raise ValueError(f"{name} must be a finite, non-negative number")
        return float(value)

    attributes: list[dict[str, Any]] = [
        {"type": "MAX_POWER_CONSUMPTION", "values": [number("max_power_kw", max_power_kw)]},
        {"type": "PEV_ID", "values": [pev_id]},
        {"type": "PREMISE_ID", "values": [premise_id]},
        {"type": "CONNECTION", "values": [conn]},
    ]
    if energy_request_kwh is not None:
        attributes.append(
            {"type": "ENERGY_REQUEST", "values": [number("energy_request_kwh", energy_request_kwh)]}
        )
    if departure is not None:
        if departure.tzinfo is None:
            raise ValueError("departure must be timezone-aware")
        attributes.append({"type": "DEPARTURE", "values": [format_datetime(departure)]})
    return attributes


def _encode_params(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        items = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        for item in items:
            if item is None:
                continue
            if isinstance(item, bool):
                out.append((key, "true" if item else "false"))
            else:
                out.append((key, str(item)))
    return out


def _problem(body: Any) -> tuple[str | None, str | None]:
    if isinstance(body, dict):
        title = body.get("title")
        detail = body.get("detail") or body.get("error_description") or body.get("error")
        return (
            title if isinstance(title, str) else None,
            detail if isinstance(detail, str) else None,
        )
    return None, None


def _describe(status: int, body: Any) -> str:
    title, detail = _problem(body)
    text = ": ".join(x for x in (title, detail) if x)
    return f"HTTP {status}" + (f" ({text})" if text else "")


class VenClient:
    """An OpenADR 3.1.0 VEN talking to one VTN."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        auth: Auth,
        *,
        ssl: ssllib.SSLContext | bool = True,
        timeout: float = 10.0,
        log_size: int = 50,
    ) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._auth = auth
        self._ssl = ssl
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.exchanges: collections.deque[Exchange] = collections.deque(maxlen=log_size)
        self._token: str | None = auth.token if isinstance(auth, BearerToken) else None
        self._token_expires: float | None = None
        self._token_url: str | None = None
        self._token_lock = asyncio.Lock()
        self._resource_paths: tuple[str, ...] | None = None
        self.granted_targets: set[str] = set()
        """Target labels granted to this VEN and its resources (learned from VEN/resources)."""
        self.request_count = 0

    # ------------------------------------------------------------------ logging / errors

    def _log(
        self,
        method: str,
        url: str,
        status: int | None,
        request: Any,
        response: Any,
        error: str | None,
        started: float,
    ) -> None:
        self.exchanges.append(
            Exchange(
                at=datetime.now(UTC),
                method=method,
                url=url,
                status=status,
                request=redact(request),
                response=redact(response),
                error=error,
                elapsed_ms=round((time.monotonic() - started) * 1000, 1),
            )
        )

    @staticmethod
    def _transport_error(err: BaseException, url: str) -> OpenADRError:
        if isinstance(err, (aiohttp.ClientSSLError, ssllib.SSLError)) or isinstance(
            getattr(err, "__cause__", None), ssllib.SSLError
        ):
            return VtnTlsError(f"TLS failure talking to {url}: {err}")
        if isinstance(err, TimeoutError):
            return VtnUnreachable(f"timed out talking to {url}")
        if isinstance(err, aiohttp.InvalidURL):
            return VtnUnreachable(f"invalid VTN URL {url}")
        return VtnUnreachable(f"cannot reach {url}: {err or type(err).__name__}")

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: list[tuple[str, str]] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        token: str | None = None,
        log_request: Any = None,
    ) -> tuple[int, Any, str]:
        """One HTTP exchange; returns (status, parsed JSON or None, raw text)."""
        shown = url + ("?" + urlencode(params) if params else "")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        started = time.monotonic()
        self.request_count += 1
        logged_request = log_request if log_request is not None else json
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                headers=headers,
                ssl=self._ssl,
                timeout=self._timeout,
            ) as resp:
                status = resp.status
                raw = await resp.text(errors="replace")
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as err:
            mapped = self._transport_error(err, shown)
            self._log(method, shown, None, logged_request, None, str(mapped), started)
            raise mapped from err
        body: Any = None
        parsed = True
        if raw.strip():
            try:
                body = jsonlib.loads(raw)
            except ValueError:
                parsed = False
                body = raw[:500]
        self._log(
            method,
            shown,
            status,
            logged_request,
            body,
            None if parsed else "response is not JSON",
            started,
        )
        if not parsed:
            return status, _NotJson(raw), raw
        return status, body, raw

    # ------------------------------------------------------------------ auth

    def _invalidate_token(self) -> None:
        if isinstance(self._auth, ClientCredentials):
            self._token = None
            self._token_expires = None

    async def _discover_token_url(self) -> str:
        if self._token_url is not None:
            return self._token_url
        fallback = f"{self.base_url}/auth/token"
        url = fallback
        status, body, _ = await self._send("GET", f"{self.base_url}/auth/server")
        if status == 200 and isinstance(body, dict) and isinstance(body.get("tokenURL"), str):
            url = urljoin(self.base_url + "/", body["tokenURL"].strip())
        self._token_url = url
        return url

    async def async_token(self) -> str | None:
        """The bearer token to send (None without authentication).

        Client credentials: token URL from ``GET {base}/auth/server`` (``tokenURL``), else
        ``{base}/auth/token``; the token is cached until ``expires_in`` (minus 30 s) when the
        VTN gives one, else until a 401. VtnAuthError when the token endpoint refuses.
        """
        if isinstance(self._auth, NoAuth):
            return None
        if isinstance(self._auth, BearerToken):
            return self._auth.token
        async with self._token_lock:
            if self._token is not None and (
                self._token_expires is None or time.monotonic() < self._token_expires
            ):
                return self._token
            url = await self._discover_token_url()
            form = {
                "grant_type": "client_credentials",
                "client_id": self._auth.client_id,
                "client_secret": self._auth.client_secret,
            }
            status, body, _ = await self._send("POST", url, data=form, log_request=form)
            if status in (400, 401, 403):
                raise VtnAuthError(
                    f"the token endpoint refused the client credentials ({_describe(status, body)})",
                    status=status,
                )
            if status == 404:
                raise VtnNotFound(f"no token endpoint at {url}")
            if status in _UNAVAILABLE:
                raise VtnUnreachable(
                    f"the token endpoint is unavailable ({_describe(status, body)})"
                )
            if status != 200 or not isinstance(body, dict):
                raise VtnProtocolError(
                    f"unexpected token response ({_describe(status, body)})", status=status
                )
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                raise VtnProtocolError("the token response has no access_token", status=status)
            expires = body.get("expires_in")
            if isinstance(expires, str) and expires.strip().isdigit():
                expires = int(expires)
            self._token = token
            self._token_expires = (
                time.monotonic() + max(0.0, float(expires) - _TOKEN_MARGIN_S)
                if isinstance(expires, (int, float))
                and not isinstance(expires, bool)
                and expires > 0
                else None
            )
            return token

    # ------------------------------------------------------------------ requests

    async def async_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send a request to ``{base}{path}`` and return the decoded JSON body (None if empty).

        A 401/403 renews a client-credentials token once and retries. Errors: VtnUnreachable
        (connection, timeout, 502/503/504), VtnTlsError, VtnAuthError, VtnNotFound (404),
        VtnProtocolError (non-JSON body, other 4xx/5xx with the problem's title/detail).
        """
        url = (
            path
            if path.startswith(("http://", "https://"))
            else f"{self.base_url}/{path.lstrip('/')}"
        )
        encoded = _encode_params(params)
        renew = isinstance(self._auth, ClientCredentials)
        for attempt in range(2):
            token = await self.async_token()
            status, body, _raw = await self._send(
                method.upper(), url, params=encoded or None, json=json, token=token
            )
            if status in (401, 403):
                if renew and not attempt:
                    self._invalidate_token()
                    continue
                raise VtnAuthError(
                    f"the VTN refused the request {method.upper()} {path} ({_describe(status, body)})",
                    status=status,
                )
            break
        if isinstance(body, _NotJson):
            if 200 <= status < 300:
                raise VtnProtocolError(
                    f"{method.upper()} {path}: the VTN's answer is not JSON", status=status
                )
            body = None
        title, detail = _problem(body)
        if status == 404:
            raise VtnNotFound(f"{method.upper()} {path}: not found ({_describe(status, body)})")
        if status in _UNAVAILABLE:
            raise VtnUnreachable(f"the VTN is unavailable ({_describe(status, body)})")
        if not 200 <= status < 300:
            raise VtnProtocolError(
                f"{method.upper()} {path}: {_describe(status, body)}",
                status=status,
                title=title,
                detail=detail,
            )
        return body

    async def async_list(
        self, path: str, params: Mapping[str, Any] | None = None, *, page: int = 50
    ) -> list[Any]:
        """GET a list with ``skip``/``limit`` paging until a short page (items deduplicated by id)."""
        page = max(1, min(page, 50))
        out: list[Any] = []
        seen: set[str] = set()
        skip = 0
        previous: list[Any] | None = None
        for _ in range(_MAX_PAGES):
            query = dict(params or {})
            query.update(skip=skip, limit=page)
            body = await self.async_request("GET", path, params=query)
            if not isinstance(body, list):
                raise VtnProtocolError(f"GET {path}: expected a list, got {type(body).__name__}")
            if body == previous:  # the VTN ignores skip
                break
            for item in body:
                key = item.get("id") if isinstance(item, dict) else None
                if isinstance(key, str):
                    if key in seen:
                        continue
                    seen.add(key)
                out.append(item)
            if len(body) < page or len(body) > page:
                break
            previous = body
            skip += len(body)
        return out

    async def _list_targeted(
        self, path: str, params: Mapping[str, Any], targets: Sequence[str] | None
    ) -> list[Any]:
        wanted = sorted(self.granted_targets if targets is None else set(targets))
        items = await self.async_list(path, params)
        if wanted:
            seen = {i.get("id") for i in items if isinstance(i, dict)}
            extra = await self.async_list(path, {**params, "targets": wanted})
            items.extend(i for i in extra if not isinstance(i, dict) or i.get("id") not in seen)
        return items

    def _learn_targets(self, obj: Any) -> None:
        if isinstance(obj, dict) and isinstance(obj.get("targets"), list):
            for target in obj["targets"]:
                if isinstance(target, (str, dict)) and target:
                    self.granted_targets.update(target_values(target)[1])

    # ------------------------------------------------------------------ programs / events

    async def async_programs(
        self, names: Sequence[str] | None = None, *, targets: Sequence[str] | None = None
    ) -> list[Program]:
        """Programs visible to this VEN, filtered to ``names`` when given."""
        programs = parse_programs(await self._list_targeted("/programs", {}, targets))
        if names is None:
            return programs
        wanted = {n.strip().casefold() for n in names}
        return [p for p in programs if p.name.casefold() in wanted]

    async def async_check(self, program_names: Sequence[str]) -> list[Program]:
        """The config-flow live test: authenticate and find every configured program.

        Returns the programs in the order of ``program_names``; UnknownProgram names the ones the
        VTN does not show.
        """
        await self.async_token()
        programs = await self.async_programs()
        by_name = {p.name.casefold(): p for p in programs}
        missing = [n for n in program_names if n.strip().casefold() not in by_name]
        if missing:
            raise UnknownProgram(missing)
        return [by_name[n.strip().casefold()] for n in program_names]

    async def async_events(
        self, program_ids: Sequence[str], *, targets: Sequence[str] | None = None
    ) -> list[Event]:
        """Events of the programs (``GET /events?programID=``, paged), malformed ones skipped."""
        raw: list[Any] = []
        seen: set[Any] = set()
        for program_id in dict.fromkeys(program_ids):
            for item in await self._list_targeted("/events", {"programID": program_id}, targets):
                key = item.get("id") if isinstance(item, dict) else None
                if key is not None and key in seen:
                    continue
                seen.add(key)
                raw.append(item)
        wanted = set(program_ids)
        return [e for e in parse_events(raw) if e.program_id in wanted]

    # ------------------------------------------------------------------ VEN / resources

    async def async_ensure_ven(self, ven_name: str) -> dict[str, Any]:
        """Find this VEN by ``venName``, else create it (``VEN_VEN_REQUEST``); idempotent."""
        for attempt in range(2):
            vens = await self.async_list("/vens", {"venName": ven_name})
            for ven in vens:
                if isinstance(ven, dict) and ven.get("venName") == ven_name and ven.get("id"):
                    self._learn_targets(ven)
                    return ven
            if attempt:
                break
            try:
                created = await self.async_request(
                    "POST", "/vens", json={"objectType": "VEN_VEN_REQUEST", "venName": ven_name}
                )
            except VtnProtocolError as err:
                if err.status == 409:  # created meanwhile: look again
                    continue
                raise
            if not isinstance(created, dict) or not created.get("id"):
                raise VtnProtocolError("POST /vens: the VTN's answer is not a VEN object")
            self._learn_targets(created)
            return created
        raise VtnProtocolError(f"VEN {ven_name!r} exists but the VTN does not show it")

    async def _resource_list(self, ven_id: str, resource_name: str | None) -> tuple[str, list[Any]]:
        params: dict[str, Any] = {"venID": ven_id}
        if resource_name is not None:
            params["resourceName"] = resource_name
        if self._resource_paths is None or self._resource_paths[0] == "/resources":
            try:
                items = await self.async_list("/resources", params)
                self._resource_paths = ("/resources",)
                return "/resources", items
            except VtnNotFound:
                if self._resource_paths is not None:
                    raise
        legacy = f"/vens/{ven_id}/resources"
        items = await self.async_list(legacy, {k: v for k, v in params.items() if k != "venID"})
        self._resource_paths = ("legacy",)
        return legacy, items

    async def async_resources(self, ven_id: str) -> list[Resource]:
        """Every resource of the VEN (learning the targets granted to them)."""
        _, items = await self._resource_list(ven_id, None)
        out: list[Resource] = []
        for item in items:
            try:
                resource = parse_resource(item)
            except ValueError as err:
                _LOGGER.warning("skipping malformed resource: %s", err)
                continue
            if resource.ven_id in ("", ven_id):
                self._learn_targets(item)
                out.append(resource)
        return out

    async def async_upsert_resource(
        self,
        ven_id: str,
        resource_name: str,
        attributes: Sequence[dict[str, Any]],
        *,
        keep_answer: bool = False,
    ) -> Resource:
        """Create or update the resource ``resourceName`` of the VEN (``VEN_RESOURCE_REQUEST``).

        On update our attributes replace those of the same type; other attributes are kept,
        except the utility's answer (``BINDING``, ``BILLING_PARTY``, ``HOME_UTILITY_ID``) which
        is dropped unless ``keep_answer`` - a new plug-in must not read the previous session's
        answer. Targets are the utility's to write and are never sent.
        """
        path, items = await self._resource_list(ven_id, resource_name)
        existing = next(
            (i for i in items if isinstance(i, dict) and i.get("resourceName") == resource_name),
            None,
        )
        ours = [dict(a) for a in attributes]
        body: dict[str, Any] = {
            "objectType": "VEN_RESOURCE_REQUEST",
            "resourceName": resource_name,
            "venID": ven_id,
            "attributes": ours,
        }
        if existing is None or not existing.get("id"):
            result = await self.async_request("POST", path, json=body)
        else:
            types = {str(a.get("type", "")).upper() for a in ours}
            kept = [
                a
                for a in existing.get("attributes") or []
                if isinstance(a, dict)
                and str(a.get("type", "")).upper() not in types
                and (keep_answer or str(a.get("type", "")).upper() not in ANSWER_ATTRIBUTES)
            ]
            body["attributes"] = kept + ours
            result = await self.async_request("PUT", f"{path}/{existing['id']}", json=body)
        try:
            resource = parse_resource(result)
        except ValueError as err:
            raise VtnProtocolError(f"the VTN's resource answer is unusable: {err}") from err
        self._learn_targets(result)
        return resource

    async def async_get_resource(self, ven_id: str, resource_id: str) -> Resource:
        """Read one resource (e.g. to poll for the binding answer)."""
        path = "/resources" if self._resource_paths != ("legacy",) else f"/vens/{ven_id}/resources"
        body = await self.async_request("GET", f"{path}/{resource_id}")
        try:
            resource = parse_resource(body)
        except ValueError as err:
            raise VtnProtocolError(f"the VTN's resource answer is unusable: {err}") from err
        self._learn_targets(body)
        return resource

    # ------------------------------------------------------------------ reports

    async def async_create_report(self, report: dict[str, Any]) -> dict[str, Any]:
        """POST a report; returns the VTN's report object (with its ``id``)."""
        body = await self.async_request("POST", "/reports", json=report)
        if not isinstance(body, dict) or not body.get("id"):
            raise VtnProtocolError("POST /reports: the VTN's answer is not a report object")
        return body

    async def async_update_report(self, report_id: str, report: dict[str, Any]) -> dict[str, Any]:
        """PUT a new version of a report."""
        body = await self.async_request("PUT", f"/reports/{report_id}", json=report)
        if not isinstance(body, dict):
            raise VtnProtocolError("PUT /reports: the VTN's answer is not a report object")
        return body

    async def async_find_report(
        self, client_name: str, report_name: str, event_id: str | None = None
    ) -> dict[str, Any] | None:
        """Our report named ``report_name`` (``GET /reports?clientName=[&eventID=]``), or None.

        ``reportName`` is not a query parameter in 3.1.0, so it is matched here; with several
        matches the most recently modified wins.
        """
        params: dict[str, Any] = {"clientName": client_name}
        if event_id is not None:
            params["eventID"] = event_id
        matches = [
            r
            for r in await self.async_list("/reports", params)
            if isinstance(r, dict)
            and r.get("reportName") == report_name
            and r.get("clientName", client_name) == client_name
            and (event_id is None or r.get("eventID") == event_id)
        ]
        if not matches:
            return None
        return max(matches, key=lambda r: str(r.get("modificationDateTime") or ""))

    async def async_upsert_report(self, report: dict[str, Any]) -> dict[str, Any]:
        """Create the report, or update ours with the same clientName/reportName/eventID."""
        found = await self.async_find_report(
            report["clientName"], report.get("reportName") or "", report.get("eventID")
        )
        if found is None:
            return await self.async_create_report(report)
        return await self.async_update_report(str(found["id"]), report)

    # ------------------------------------------------------------------ subscriptions

    async def async_subscribe(
        self,
        client_name: str,
        program_ids: Sequence[str],
        callback_url: str,
        bearer_token: str,
    ) -> dict[str, Any]:
        """Subscribe to CREATE/UPDATE/DELETE of EVENT and RESOURCE objects on a webhook.

        Our previous subscriptions with the same ``clientName`` are deleted first. The
        subscription carries no ``programID`` (a program-scoped subscription may drop
        RESOURCE notifications, which carry the binding answers): the caller filters
        notified events by ``program_ids`` (logged for diagnostics only).
        """
        for old in await self.async_list("/subscriptions", {"clientName": client_name}):
            if isinstance(old, dict) and old.get("clientName") == client_name and old.get("id"):
                with contextlib.suppress(VtnNotFound):
                    await self.async_delete_subscription(str(old["id"]))
        body = {
            "clientName": client_name,
            "objectOperations": [
                {
                    "objects": ["EVENT", "RESOURCE"],
                    "operations": ["CREATE", "UPDATE", "DELETE"],
                    "callbackUrl": callback_url,
                    "bearerToken": bearer_token,
                }
            ],
        }
        _LOGGER.debug("subscribing %s for programs %s", client_name, list(program_ids))
        created = await self.async_request("POST", "/subscriptions", json=body)
        if not isinstance(created, dict) or not created.get("id"):
            raise VtnProtocolError("POST /subscriptions: the VTN's answer is not a subscription")
        return created

    async def async_delete_subscription(self, subscription_id: str) -> None:
        """Delete a subscription."""
        await self.async_request("DELETE", f"/subscriptions/{subscription_id}")


class _NotJson:
    """Marker for a body that is not JSON."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
