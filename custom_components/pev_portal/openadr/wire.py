"""HTTP to an OpenADR 3.1.0 VTN: authentication, requests, error mapping, paging, diagnostics.

Errors (``errors.py``): VtnUnreachable (connection, timeout, 502/503/504, with the VTN's
``Retry-After``), VtnRateLimited (429, with ``Retry-After``), VtnTlsError, VtnAuthError (401/403
after one token renewal), VtnNotFound (404/410), VtnProtocolError (other 4xx/5xx, non-JSON).
"""

from __future__ import annotations

import asyncio
import collections
import copy
import json as jsonlib
import logging
import ssl as ssllib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import urlencode, urljoin

import aiohttp

from .errors import (
    OpenADRError,
    VtnAuthError,
    VtnNotFound,
    VtnProtocolError,
    VtnRateLimited,
    VtnTlsError,
    VtnUnreachable,
)
from .models import format_datetime

__all__ = [
    "ANSWER_ATTRIBUTES",
    "CONNECTIONS",
    "Auth",
    "BearerToken",
    "ClientCredentials",
    "Exchange",
    "NoAuth",
    "VtnTransport",
    "parse_retry_after",
    "pev_resource_attributes",
    "redact",
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


LOG_LIST_ITEMS: Final = 10
"""Lists in the exchange log keep this many items and say how many more there were: a report
of 1,440 intervals copied twice per request into the log cost more than sending it."""


def redact(value: Any, *, limit: int | None = None) -> Any:
    """A deep copy with every secret-bearing key (tokens, secrets) replaced; with ``limit``,
    lists longer than that are cut to it plus a ``"... N more"`` marker."""
    if isinstance(value, Mapping):
        return {
            k: (
                _REDACTED
                if str(k).lower() in _SECRET_KEYS and v is not None
                else redact(v, limit=limit)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        if limit is not None and len(value) > limit:
            kept = [redact(v, limit=limit) for v in value[:limit]]
            return [*kept, f"... {len(value) - limit} more"]
        return [redact(v, limit=limit) for v in value]
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


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` (RFC 9110 10.2.3) in seconds: delay-seconds or an HTTP date; None if
    absent or unreadable. Capped at a day; a date in the past is 0."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), 86400.0)
    try:
        when = parsedate_to_datetime(text)
    except TypeError, ValueError, IndexError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0.0, delta), 86400.0)


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


class VtnTransport:
    """HTTP to one VTN: authentication, requests, errors, paging, the exchange log."""

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
        self.last_retry_after: float | None = None

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
                request=redact(request, limit=LOG_LIST_ITEMS),
                response=redact(response, limit=LOG_LIST_ITEMS),
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
        """One HTTP exchange; returns (status, parsed JSON or None, raw text).

        The answer's ``Retry-After`` (seconds) is kept in :attr:`last_retry_after`.
        """
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
                self.last_retry_after = parse_retry_after(resp.headers.get("Retry-After"))
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
        if status in (404, 410):
            raise VtnNotFound(
                f"{method.upper()} {path}: not found ({_describe(status, body)})", status=status
            )
        if status == 429:
            raise VtnRateLimited(
                f"the VTN asks to slow down ({_describe(status, body)})",
                status=status,
                retry_after=self.last_retry_after,
            )
        if status in _UNAVAILABLE:
            raise VtnUnreachable(
                f"the VTN is unavailable ({_describe(status, body)})",
                status=status,
                retry_after=self.last_retry_after,
            )
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


class _NotJson:
    """Marker for a body that is not JSON."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
