"""A real OpenADR 3.1.0 VTN for tests: aiohttp on 127.0.0.1, random port.

It implements what the PEV profile uses - ``/auth/server``, ``/auth/token``, ``/programs``,
``/events``, ``/vens``, ``/resources``, ``/reports``, ``/subscriptions`` - with object privacy
(3.1.0 string targets, target hiding), paging, and real webhook notifications. Every request body
from the VEN and every response body it sends are validated against the contract
(:mod:`tests.vtn.schema`); violations are answered 400 (requests) and always recorded in
:attr:`TestVtn.violations` (tests assert it stays empty).

The utility's business logic is driven by methods: :meth:`TestVtn.add_program`,
:meth:`TestVtn.approve`, :meth:`TestVtn.deny`, :meth:`TestVtn.answer_after`,
:meth:`TestVtn.grant_ven_targets`, the ``create_*_event`` methods, :meth:`TestVtn.modify_event`,
:meth:`TestVtn.cancel_event`; failures by :meth:`TestVtn.go_down` / :meth:`TestVtn.come_back`,
:meth:`TestVtn.fail_auth`, :meth:`TestVtn.malformed`, :meth:`TestVtn.expire_tokens`.

Field behaviours (issue 13): :meth:`TestVtn.restart` (optionally with empty storage),
:meth:`TestVtn.set_ven_targets` / :meth:`TestVtn.set_resource_targets` (grants changed at any
time; the BL's ``PUT /vens/{id}`` does the same over HTTP), :attr:`TestVtn.notification_style`
(snake_case objects, JSON-string objects, bare objects), :meth:`TestVtn.fail_next` (e.g. 404 on a
PUT, 429 with ``Retry-After``), :meth:`TestVtn.delete_report`.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from . import schema

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ANONYMOUS = "anonymous"


def now_utc() -> datetime:
    return datetime.now(UTC)


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds % 86400 == 0 and seconds:
        return f"P{seconds // 86400}D"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if secs or out == "PT":
        out += f"{secs}S"
    return out


@dataclass
class Delivery:
    """One webhook notification the VTN sent."""

    url: str
    authorization: str | None
    body: dict[str, Any]
    status: int | None
    error: str | None = None


@dataclass
class Decision:
    """The BL's answer for a PEV."""

    binding: str
    billing_party: str | None
    home_utility_id: str | None
    targets: list[str] = field(default_factory=list)


class TestVtn:
    """The test VTN. Use ``async with TestVtn() as vtn:``; ``vtn.base_url`` is its URL."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        *,
        auth: str = "client_credentials",
        clients: dict[str, str] | None = None,
        static_tokens: dict[str, str] | None = None,
        auth_server: bool = True,
        expires_in: int | None = 3600,
        token_url: str | None = None,
        base_path: str = "/openadr3/3.1.0",
        ssl_context: Any = None,
    ) -> None:
        if auth not in ("client_credentials", "bearer", "none"):
            raise ValueError(auth)
        self.auth = auth
        self.clients = clients if clients is not None else {"ven-client": "ven-secret"}
        self.static_tokens = static_tokens or {}
        self.auth_server = auth_server
        self.expires_in = expires_in
        self.custom_token_url = token_url
        self.base_path = base_path.rstrip("/")
        self.ssl_context = ssl_context
        self.tokens: dict[str, str] = {}
        self.programs: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.vens: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        self.report_versions: dict[str, list[dict[str, Any]]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.deliveries: list[Delivery] = []
        self.violations: list[str] = []
        self.requests: Counter[str] = Counter()
        self.request_log: list[tuple[str, str, list[tuple[str, str]]]] = []
        self.token_requests: list[dict[str, str]] = []
        self.decisions: dict[str, Decision] = {}
        self.bl_clients: dict[str, str] = {"bl-client": "bl-secret"}
        self.probe_callbacks = False
        """Definition.md (Webhooks): the VTN MUST check a subscription's callback URL with a GET
        carrying an ``echo`` challenge and refuse the subscription unless the answer is 200 with
        the challenge as its body. Off by default (many tests subscribe with a dead URL)."""
        self.probes: list[tuple[str, bool]] = []
        """Each echo probe sent: (callback URL, passed)."""
        self.notification_style = "object"
        """How pushes are written: ``object`` (the contract), ``snake`` (snake_case keys at any
        depth), ``json-string`` (the object as a JSON string of snake_case keys), ``bare`` (the
        object alone, without the envelope). The contract body is validated before it is
        deformed."""
        self._failures: list[list[Any]] = []
        self._ids = itertools.count(1)
        self._down: str | None = None
        self._refusing = False
        self._fail_auth = False
        self._malformed: str | None = None
        self._answer_delay = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._session: ClientSession | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{self.base_path}"

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        p = self.base_path
        r = app.router
        r.add_get(f"{p}/auth/server", self._auth_server)
        r.add_post(f"{p}/auth/token", self._token)
        r.add_get(f"{p}/programs", self._list_programs)
        r.add_get(f"{p}/programs/{{id}}", self._get_program)
        r.add_get(f"{p}/events", self._list_events)
        r.add_get(f"{p}/events/{{id}}", self._get_event)
        r.add_get(f"{p}/vens", self._list_vens)
        r.add_post(f"{p}/vens", self._create_ven)
        r.add_get(f"{p}/vens/{{id}}", self._get_ven)
        r.add_put(f"{p}/vens/{{id}}", self._update_ven)
        r.add_get(f"{p}/resources", self._list_resources)
        r.add_post(f"{p}/resources", self._create_resource)
        r.add_get(f"{p}/resources/{{id}}", self._get_resource)
        r.add_put(f"{p}/resources/{{id}}", self._update_resource)
        r.add_get(f"{p}/reports", self._list_reports)
        r.add_post(f"{p}/reports", self._create_report)
        r.add_get(f"{p}/reports/{{id}}", self._get_report)
        r.add_put(f"{p}/reports/{{id}}", self._update_report)
        r.add_delete(f"{p}/reports/{{id}}", self._delete_report)
        r.add_get(f"{p}/subscriptions", self._list_subscriptions)
        r.add_post(f"{p}/subscriptions", self._create_subscription)
        r.add_delete(f"{p}/subscriptions/{{id}}", self._delete_subscription)
        return app

    async def start(self) -> str:
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        await self._bind()
        self._session = ClientSession(timeout=ClientTimeout(total=5))
        return self.base_url

    async def _bind(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(
            self._runner, "127.0.0.1", self.port, ssl_context=self.ssl_context, reuse_address=True
        )
        await self._site.start()
        if not self.port:
            server = self._site._server
            assert server is not None
            sockets = getattr(server, "sockets", None)
            assert sockets
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> TestVtn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def settle(self) -> None:
        """Wait until every pending notification and delayed answer has run."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ failure modes

    async def go_down(self, mode: str = "refused") -> None:
        """Stop answering: ``refused`` closes the port, ``503`` answers Service Unavailable."""
        if mode == "refused":
            if self._site is not None:
                await self._site.stop()
                self._site = None
            self._down = None
            self._refusing = True  # kept-alive connections are cut too
        else:
            self._down = mode

    async def come_back(self) -> None:
        """Answer again (same port)."""
        self._down = None
        self._refusing = False
        if self._site is None:
            await self._bind()

    def fail_auth(self, on: bool = True) -> None:
        """401 on every request, the token endpoint included."""
        self._fail_auth = on

    def malformed(self, on: bool | str = True) -> None:
        """Answer API requests with non-JSON (``True``/``"text"``) or wrong shapes (``"shape"``)."""
        self._malformed = None if on is False else ("text" if on is True else on)

    def expire_tokens(self) -> None:
        """Forget every issued token (the next request with one gets 401)."""
        self.tokens.clear()

    async def restart(self, *, empty: bool = True) -> None:
        """Restart on the same port; ``empty``: with empty storage (every program, event, VEN,
        resource, report, subscription and token is gone; the BL's decisions are kept)."""
        await self.go_down()
        if empty:
            for store in (
                self.programs,
                self.events,
                self.vens,
                self.resources,
                self.reports,
                self.report_versions,
                self.subscriptions,
                self.tokens,
            ):
                store.clear()
        await self.come_back()

    def fail_next(
        self, route: str, status: int, *, times: int = 1, retry_after: str | None = None
    ) -> None:
        """Answer the next ``times`` requests to ``route`` (e.g. ``"PUT /reports/{id}"``) with
        ``status`` (a problem body), with a ``Retry-After`` header when given."""
        self._failures.append([route, status, times, retry_after])

    def answer_after(self, seconds: float) -> None:
        """The BL writes its binding answers only this long after the resource appears."""
        self._answer_delay = seconds

    # ------------------------------------------------------------------ helpers

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def _meta(self, prefix: str, object_type: str) -> dict[str, Any]:
        stamp = ts(now_utc())
        return {
            "id": self._new_id(prefix),
            "createdDateTime": stamp,
            "modificationDateTime": stamp,
            "objectType": object_type,
        }

    def _check_response(self, name: str, body: Any, *, array: bool = False) -> None:
        problems = schema.errors(name, body, array=array)
        if problems:
            self.violations.append(f"response {name}: {problems[:3]}")

    def _json(
        self, body: Any, *, status: int = 200, name: str | None = None, array: bool = False
    ) -> web.Response:
        if name is not None:
            self._check_response(name, body, array=array)
        return web.json_response(body, status=status)

    def _problem(self, status: int, title: str, detail: str | None = None) -> web.Response:
        body: dict[str, Any] = {"title": title, "status": status}
        if detail:
            body["detail"] = detail
        return self._json(body, status=status, name="problem")

    def _request_invalid(self, name: str, body: Any) -> web.Response | None:
        problems = schema.errors(name, body)
        if problems:
            self.violations.append(f"request {name}: {problems[:3]}")
            return self._problem(400, "Bad Request", "; ".join(problems[:3]))
        return None

    async def _body(self, request: web.Request) -> Any:
        try:
            return await request.json()
        except json.JSONDecodeError, UnicodeDecodeError:
            return None

    @staticmethod
    def _page(request: web.Request, items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        try:
            skip = int(request.query.get("skip", "0"))
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            return None
        if skip < 0 or not 0 <= limit <= 50:
            return None
        return items[skip : skip + limit]

    # ------------------------------------------------------------------ auth

    def _client_of(self, request: web.Request) -> str | None:
        if self.auth == "none":
            return ANONYMOUS
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        token = header[7:]
        if self.auth == "bearer":
            return self.static_tokens.get(token)
        return self.tokens.get(token)

    def _is_bl(self, request: web.Request) -> bool:
        return request.get("client") in self.bl_clients

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else request.path
        key = f"{request.method} {name.removeprefix(self.base_path)}"
        self.requests[key] += 1
        self.request_log.append(
            (request.method, request.path.removeprefix(self.base_path), list(request.query.items()))
        )
        if self._refusing and request.transport is not None:
            request.transport.close()
            return web.Response(status=503)
        if self._down is not None:
            return self._problem(503, "Service Unavailable", "the VTN is down")
        if self._fail_auth:
            return self._problem(401, "Unauthorized", "authentication is failing")
        for failure in self._failures:
            route, status, times, retry_after = failure
            if route == key and times > 0:
                failure[2] -= 1
                answer = self._problem(status, "Injected failure", f"{key} answered {status}")
                if retry_after is not None:
                    answer.headers["Retry-After"] = retry_after
                return answer
        path = request.path.removeprefix(self.base_path)
        if not path.startswith("/auth/"):
            client = self._client_of(request)
            if client is None:
                return self._problem(401, "Unauthorized", "missing or unknown bearer token")
            request["client"] = client
            if self._malformed == "text":
                return web.Response(text="<html>oops</html>", content_type="text/html")
            if self._malformed == "shape":
                return web.json_response(
                    {"unexpected": ["shape"]} if request.method == "GET" else [1]
                )
        return await handler(request)

    async def _auth_server(self, request: web.Request) -> web.Response:
        if not self.auth_server:
            return self._problem(404, "Not Found", "no auth server info")
        url = self.custom_token_url or f"{self.base_url}/auth/token"
        return self._json({"tokenURL": url}, name="authServerInfo")

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append(
            {k: ("***" if k == "client_secret" else v) for k, v in form.items()}
        )
        if invalid := self._request_invalid("clientCredentialRequest", form):
            return invalid
        known = {**self.clients, **self.bl_clients}
        if (
            self.auth != "client_credentials"
            or known.get(form["client_id"]) != form["client_secret"]
        ):
            body = {"error": "invalid_client", "error_description": "unknown client or secret"}
            self._check_response("authError", body)
            return web.json_response(body, status=401)
        token = secrets.token_urlsafe(16)
        self.tokens[token] = form["client_id"]
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
        if self.expires_in is not None:
            answer["expires_in"] = self.expires_in
        return self._json(answer, name="clientCredentialResponse")

    # ------------------------------------------------------------------ privacy

    def _vens_of(self, client: str) -> list[dict[str, Any]]:
        return [v for v in self.vens.values() if v.get("clientID") == client]

    def granted(self, client: str) -> set[str]:
        """Targets granted to a client's VEN objects and their resources."""
        ven_ids = {v["id"] for v in self._vens_of(client)}
        out: set[str] = set()
        for ven in self._vens_of(client):
            out.update(ven.get("targets") or [])
        for res in self.resources.values():
            if res["venID"] in ven_ids:
                out.update(res.get("targets") or [])
        return out

    def _visible(
        self, obj: dict[str, Any], client: str, query: Iterable[str] | None
    ) -> dict[str, Any] | None:
        """The object as the client may see it (targets hidden), or None."""
        targets = obj.get("targets") or []
        if not targets:
            return obj
        allowed = set(query or ()) & self.granted(client) & set(targets)
        if not allowed:
            return None
        shown = copy.deepcopy(obj)
        shown["targets"] = [t for t in targets if t in allowed]
        return shown

    # ------------------------------------------------------------------ programs / events

    async def _list_programs(self, request: web.Request) -> web.Response:
        client = request["client"]
        query = request.query.getall("targets", [])
        items = [v for p in self.programs.values() if (v := self._visible(p, client, query))]
        page = self._page(request, items)
        if page is None:
            return self._problem(400, "Bad Request", "bad skip/limit")
        return self._json(page, name="program", array=True)

    async def _get_program(self, request: web.Request) -> web.Response:
        obj = self.programs.get(request.match_info["id"])
        shown = obj and self._visible(obj, request["client"], request.query.getall("targets", []))
        if not shown:
            return self._problem(404, "Not Found", "no such program")
        return self._json(shown, name="program")

    async def _list_events(self, request: web.Request) -> web.Response:
        client = request["client"]
        query = request.query.getall("targets", [])
        program_id = request.query.get("programID")
        items = [
            v
            for e in self.events.values()
            if (program_id is None or e["programID"] == program_id)
            and (v := self._visible(e, client, query))
        ]
        page = self._page(request, items)
        if page is None:
            return self._problem(400, "Bad Request", "bad skip/limit")
        return self._json(page, name="event", array=True)

    async def _get_event(self, request: web.Request) -> web.Response:
        obj = self.events.get(request.match_info["id"])
        shown = obj and self._visible(obj, request["client"], request.query.getall("targets", []))
        if not shown:
            return self._problem(404, "Not Found", "no such event")
        return self._json(shown, name="event")

    # ------------------------------------------------------------------ vens / resources

    async def _list_vens(self, request: web.Request) -> web.Response:
        name = request.query.get("venName")
        items = [
            v for v in self._vens_of(request["client"]) if name is None or v["venName"] == name
        ]
        page = self._page(request, items)
        if page is None:
            return self._problem(400, "Bad Request", "bad skip/limit")
        return self._json(page, name="ven", array=True)

    async def _get_ven(self, request: web.Request) -> web.Response:
        ven = self.vens.get(request.match_info["id"])
        if ven is None or ven.get("clientID") != request["client"]:
            return self._problem(404, "Not Found", "no such ven")
        return self._json(ven, name="ven")

    async def _create_ven(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if invalid := self._request_invalid("venRequest", body):
            return invalid
        if any(v["venName"] == body["venName"] for v in self.vens.values()):
            return self._problem(409, "Conflict", "venName exists")
        ven = self._meta("ven", "VEN")
        ven.update(
            clientID=request["client"],
            venName=body["venName"],
            attributes=body.get("attributes") or [],
            targets=[],
        )
        self.vens[ven["id"]] = ven
        return self._json(ven, status=201, name="ven")

    async def _update_ven(self, request: web.Request) -> web.Response:
        """A VEN updates its own object (its targets are kept); the BL writes targets too."""
        ven = self.vens.get(request.match_info["id"])
        bl = self._is_bl(request)
        if ven is None or not (bl or ven.get("clientID") == request["client"]):
            return self._problem(404, "Not Found", "no such ven")
        body = await self._body(request)
        if invalid := self._request_invalid("venRequest", body):
            return invalid
        ven["venName"] = body["venName"]
        ven["attributes"] = body.get("attributes") or []
        if bl and body.get("targets") is not None:
            ven["targets"] = list(body["targets"])
        if bl and body.get("clientID"):
            ven["clientID"] = body["clientID"]
        ven["modificationDateTime"] = ts(now_utc())
        self._check_response("ven", ven)
        self._notify("VEN", "UPDATE", ven)
        return self._json(ven, name="ven")

    def _owned_resource(self, request: web.Request, resource_id: str) -> dict[str, Any] | None:
        res = self.resources.get(resource_id)
        ven = self.vens.get(res["venID"]) if res else None
        if res is None or ven is None or ven.get("clientID") != request["client"]:
            return None
        return res

    async def _list_resources(self, request: web.Request) -> web.Response:
        ven_ids = {v["id"] for v in self._vens_of(request["client"])}
        ven_id = request.query.get("venID")
        name = request.query.get("resourceName")
        items = [
            r
            for r in self.resources.values()
            if r["venID"] in ven_ids
            and (ven_id is None or r["venID"] == ven_id)
            and (name is None or r["resourceName"] == name)
        ]
        page = self._page(request, items)
        if page is None:
            return self._problem(400, "Bad Request", "bad skip/limit")
        return self._json(page, name="resource", array=True)

    async def _get_resource(self, request: web.Request) -> web.Response:
        res = self._owned_resource(request, request.match_info["id"])
        if res is None:
            return self._problem(404, "Not Found", "no such resource")
        return self._json(res, name="resource")

    async def _create_resource(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if invalid := self._request_invalid("resourceRequest", body):
            return invalid
        ven = self.vens.get(body["venID"])
        if ven is None or ven.get("clientID") != request["client"]:
            return self._problem(404, "Not Found", "no such ven")
        if any(
            r["venID"] == ven["id"] and r["resourceName"] == body["resourceName"]
            for r in self.resources.values()
        ):
            return self._problem(409, "Conflict", "resourceName exists for this ven")
        res = self._meta("res", "RESOURCE")
        res.update(
            clientID=ven["clientID"],
            resourceName=body["resourceName"],
            venID=ven["id"],
            attributes=body.get("attributes") or [],
            targets=[],
        )
        self.resources[res["id"]] = res
        self._schedule_answer(res["resourceName"])
        return self._json(res, status=201, name="resource")

    async def _update_resource(self, request: web.Request) -> web.Response:
        res = self._owned_resource(request, request.match_info["id"])
        if res is None:
            return self._problem(404, "Not Found", "no such resource")
        body = await self._body(request)
        if invalid := self._request_invalid("resourceRequest", body):
            return invalid
        res["attributes"] = body.get("attributes") or []
        res["resourceName"] = body["resourceName"]
        res["modificationDateTime"] = ts(now_utc())
        self._schedule_answer(res["resourceName"])
        return self._json(res, name="resource")

    # ------------------------------------------------------------------ reports

    async def _list_reports(self, request: web.Request) -> web.Response:
        q = request.query
        items = [
            r
            for r in self.reports.values()
            if r["clientID"] == request["client"]
            and all(q.get(k) in (None, r.get(k)) for k in ("clientName", "eventID", "programID"))
        ]
        page = self._page(request, items)
        if page is None:
            return self._problem(400, "Bad Request", "bad skip/limit")
        return self._json(page, name="report", array=True)

    async def _get_report(self, request: web.Request) -> web.Response:
        rep = self.reports.get(request.match_info["id"])
        if rep is None or rep["clientID"] != request["client"]:
            return self._problem(404, "Not Found", "no such report")
        return self._json(rep, name="report")

    async def _create_report(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if invalid := self._request_invalid("reportRequest", body):
            return invalid
        if body["eventID"] not in self.events:
            return self._problem(404, "Not Found", "no such event")
        rep = self._meta("rep", "REPORT")
        rep.update(body)  # parsed for this request alone: nothing else holds it
        rep["clientID"] = request["client"]
        self.reports[rep["id"]] = rep
        # A version is a shallow copy: a later update replaces the top-level keys, never
        # changes what they hold (copying 1,440 intervals three times made backlogs slow).
        self.report_versions[rep["id"]] = [dict(rep)]
        return self._echo_report(rep, status=201)

    async def _update_report(self, request: web.Request) -> web.Response:
        rep = self.reports.get(request.match_info["id"])
        if rep is None or rep["clientID"] != request["client"]:
            return self._problem(404, "Not Found", "no such report")
        body = await self._body(request)
        if invalid := self._request_invalid("reportRequest", body):
            return invalid
        keep = {k: rep[k] for k in ("id", "createdDateTime", "objectType", "clientID")}
        rep.clear()
        rep.update(body, **keep, modificationDateTime=ts(now_utc()))
        self.report_versions[rep["id"]].append(dict(rep))
        return self._echo_report(rep)

    def _echo_report(self, rep: dict[str, Any], status: int = 200) -> web.Response:
        """The answer to a report write: the request's body (validated in full as the request)
        with the VTN's metadata. It is validated as a ``report`` with each resource cut to its
        first interval: validating the same thousands of intervals a second time is what made
        a 30-day backlog slow (0.4 s per 1,440-interval report with jsonschema)."""
        sample = {
            **rep,
            "resources": [
                {**r, "intervals": r["intervals"][:1]} if isinstance(r, dict) else r
                for r in rep.get("resources") or []
            ],
        }
        self._check_response("report", sample)
        return web.json_response(rep, status=status)

    async def _delete_report(self, request: web.Request) -> web.Response:
        rep = self.reports.get(request.match_info["id"])
        if rep is None or not (self._is_bl(request) or rep["clientID"] == request["client"]):
            return self._problem(404, "Not Found", "no such report")
        del self.reports[rep["id"]]
        return self._json(rep, name="report")

    # ------------------------------------------------------------------ subscriptions

    async def _list_subscriptions(self, request: web.Request) -> web.Response:
        q = request.query
        items = [
            s
            for s in self.subscriptions.values()
            if s["clientID"] == request["client"]
            and all(q.get(k) in (None, s.get(k)) for k in ("clientName", "programID"))
        ]
        page = self._page(request, items)
        if page is None:
            return self._problem(400, "Bad Request", "bad skip/limit")
        return self._json(page, name="subscription", array=True)

    async def _create_subscription(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if invalid := self._request_invalid("subscriptionRequest", body):
            return invalid
        if self.probe_callbacks:
            for op in body.get("objectOperations") or []:
                if not await self._echo_probe(op["callbackUrl"]):
                    return self._problem(
                        400, "Bad Request", "the callback URL did not answer the echo challenge"
                    )
        sub = self._meta("sub", "SUBSCRIPTION")
        sub.update(copy.deepcopy(body))
        sub["clientID"] = request["client"]
        self.subscriptions[sub["id"]] = sub
        return self._json(sub, status=201, name="subscription")

    async def _echo_probe(self, url: str) -> bool:
        """GET ``url?echo=<challenge>``: passed when answered 200 with the challenge."""
        assert self._session is not None
        challenge = secrets.token_urlsafe(16)
        try:
            async with self._session.get(url, params={"echo": challenge}) as resp:
                passed = resp.status == 200 and await resp.text() == challenge
        except Exception:
            passed = False
        self.probes.append((url, passed))
        return passed

    async def _delete_subscription(self, request: web.Request) -> web.Response:
        sub = self.subscriptions.get(request.match_info["id"])
        if sub is None or sub["clientID"] != request["client"]:
            return self._problem(404, "Not Found", "no such subscription")
        del self.subscriptions[sub["id"]]
        return self._json(sub, name="subscription")

    # ------------------------------------------------------------------ notifications

    def _notify(self, object_type: str, operation: str, obj: dict[str, Any]) -> None:
        for sub in list(self.subscriptions.values()):
            client = sub["clientID"]
            if sub.get("programID") and obj.get("programID") not in (None, sub["programID"]):
                continue
            if object_type in ("EVENT", "PROGRAM"):
                shown = self._visible(obj, client, self.granted(client))
            elif object_type in ("VEN", "RESOURCE"):
                shown = obj if obj.get("clientID") == client else None
            else:
                shown = obj if obj.get("clientID") == client else None
            if shown is None:
                continue
            for op in sub.get("objectOperations") or []:
                if object_type in op.get("objects", []) and operation in op.get("operations", []):
                    body = {"objectType": object_type, "operation": operation, "object": shown}
                    self._check_response("notification", body)
                    self._spawn(self._deliver(op["callbackUrl"], op.get("bearerToken"), body))

    def _deform(self, body: dict[str, Any]) -> Any:
        style = self.notification_style
        if style == "snake":
            return snake_case(body)
        if style == "json-string":
            return {**snake_case(body), "object": json.dumps(snake_case(body["object"]))}
        if style == "bare":
            return body["object"]
        return body

    async def _deliver(self, url: str, token: str | None, body: dict[str, Any]) -> None:
        assert self._session is not None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        delivery = Delivery(url, headers.get("Authorization"), copy.deepcopy(body), None)
        self.deliveries.append(delivery)
        try:
            sent = self._deform(body)
            async with self._session.post(url, json=sent, headers=headers) as resp:
                delivery.status = resp.status
        except Exception as err:
            delivery.error = repr(err)

    # ------------------------------------------------------------------ business logic

    def add_program(
        self,
        name: str,
        *,
        targets: Sequence[str] | None = None,
        attributes: Sequence[dict[str, Any]] | None = None,
        payload_descriptors: Sequence[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """BL: create a program (returns the stored object)."""
        program = self._meta("prg", "PROGRAM")
        program["programName"] = name
        if targets:
            program["targets"] = list(targets)
        if attributes:
            program["attributes"] = list(attributes)
        if payload_descriptors:
            program["payloadDescriptors"] = list(payload_descriptors)
        self._check_response("program", program)
        self.programs[program["id"]] = program
        self._notify("PROGRAM", "CREATE", program)
        return program

    def _program_id(self, program: str | None) -> str:
        if program is None:
            if not self.programs:
                return str(self.add_program("DEFAULT")["id"])
            return next(iter(self.programs))
        if program in self.programs:
            return program
        for p in self.programs.values():
            if p["programName"] == program:
                return str(p["id"])
        return str(self.add_program(program)["id"])

    def grant_ven_targets(self, ven_name: str, targets: Sequence[str]) -> None:
        """BL: grant targets to a VEN object (added to those it has; notifies VEN UPDATE)."""
        for ven in self.vens.values():
            if ven["venName"] == ven_name:
                self.set_ven_targets(ven_name, sorted(set(ven.get("targets") or []) | set(targets)))

    def set_ven_targets(self, ven_name: str, targets: Sequence[str]) -> None:
        """BL: replace a VEN object's targets (a grant may be withdrawn); notifies VEN UPDATE."""
        for ven in self.vens.values():
            if ven["venName"] == ven_name:
                ven["targets"] = list(targets)
                ven["modificationDateTime"] = ts(now_utc())
                self._check_response("ven", ven)
                self._notify("VEN", "UPDATE", ven)

    def set_resource_targets(self, pev_id: str, targets: Sequence[str]) -> None:
        """BL: replace the targets of a PEV's resource; notifies RESOURCE UPDATE."""
        res = self.resource_named(pev_id)
        if res is not None:
            res["targets"] = list(targets)
            res["modificationDateTime"] = ts(now_utc())
            self._check_response("resource", res)
            self._notify("RESOURCE", "UPDATE", res)

    def delete_report(self, report_id: str) -> None:
        """BL: delete a report (the VEN's next PUT to it gets 404)."""
        self.reports.pop(report_id, None)

    def create_event(
        self,
        *,
        program: str | None = None,
        intervals: Sequence[dict[str, Any]],
        interval_period: dict[str, Any] | None = None,
        name: str | None = None,
        priority: int | None = None,
        targets: Sequence[str] | None = None,
        payload_descriptors: Sequence[dict[str, Any]] | None = None,
        report_descriptors: Sequence[dict[str, Any]] | None = None,
        duration: str | None = None,
    ) -> dict[str, Any]:
        """BL: create any event; notifies subscribers (CREATE)."""
        event = self._meta("evt", "EVENT")
        event["programID"] = self._program_id(program)
        if name is not None:
            event["eventName"] = name
        if priority is not None:
            event["priority"] = priority
        if targets:
            event["targets"] = list(targets)
        if interval_period is not None:
            event["intervalPeriod"] = interval_period
        if payload_descriptors:
            event["payloadDescriptors"] = list(payload_descriptors)
        if report_descriptors:
            event["reportDescriptors"] = list(report_descriptors)
        if duration is not None:
            event["duration"] = duration
        event["intervals"] = list(intervals)
        self._check_response("event", event)
        self.events[event["id"]] = event
        self._notify("EVENT", "CREATE", event)
        return event

    def create_price_event(
        self,
        prices: Sequence[float],
        start: datetime,
        interval: timedelta = timedelta(hours=1),
        *,
        program: str | None = None,
        priority: int | None = None,
        name: str | None = "prices",
        currency: str = "USD",
        targets: Sequence[str] | None = None,
        report_usage: bool = False,
    ) -> dict[str, Any]:
        """BL: consecutive PRICE intervals from ``start`` (TOU / RTP)."""
        return self.create_event(
            program=program,
            name=name,
            priority=priority,
            targets=targets,
            interval_period={"start": ts(start), "duration": iso_duration(interval)},
            payload_descriptors=[
                {
                    "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                    "payloadType": "PRICE",
                    "units": "KWH",
                    "currency": currency,
                }
            ],
            report_descriptors=_usage_descriptor() if report_usage else None,
            intervals=[
                {"id": i, "payloads": [{"type": "PRICE", "values": [p]}]}
                for i, p in enumerate(prices)
            ],
        )

    def create_cpp_event(
        self,
        price: float,
        start: datetime,
        duration: timedelta,
        *,
        program: str | None = None,
        priority: int = 0,
        name: str | None = "critical peak",
        currency: str = "USD",
        targets: Sequence[str] | None = None,
        report_usage: bool = False,
    ) -> dict[str, Any]:
        """BL: one high-priority PRICE interval (critical peak)."""
        return self.create_price_event(
            [price],
            start,
            duration,
            program=program,
            priority=priority,
            name=name,
            currency=currency,
            targets=targets,
            report_usage=report_usage,
        )

    def create_dlc_event(
        self,
        cap_kw: float,
        start: datetime,
        duration: timedelta,
        *,
        program: str | None = None,
        priority: int | None = 1,
        name: str | None = "load control",
        targets: Sequence[str] | None = None,
        randomize_start: timedelta | None = None,
        report_state: bool = False,
    ) -> dict[str, Any]:
        """BL: an IMPORT_CAPACITY_LIMIT cap in kW."""
        period: dict[str, Any] = {"start": ts(start), "duration": iso_duration(duration)}
        if randomize_start is not None:
            period["randomizeStart"] = iso_duration(randomize_start)
        return self.create_event(
            program=program,
            name=name,
            priority=priority,
            targets=targets,
            interval_period=period,
            payload_descriptors=[
                {
                    "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
                    "payloadType": "IMPORT_CAPACITY_LIMIT",
                    "units": "KW",
                }
            ],
            report_descriptors=[{"payloadType": "OPERATING_STATE"}] if report_state else None,
            intervals=[
                {"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [cap_kw]}]}
            ],
        )

    def create_simple_event(
        self,
        level: int,
        start: datetime,
        duration: timedelta,
        *,
        program: str | None = None,
        priority: int | None = 1,
        name: str | None = "simple",
        targets: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """BL: a SIMPLE level 0-3."""
        return self.create_event(
            program=program,
            name=name,
            priority=priority,
            targets=targets,
            interval_period={"start": ts(start), "duration": iso_duration(duration)},
            intervals=[{"id": 0, "payloads": [{"type": "SIMPLE", "values": [level]}]}],
        )

    def create_alert_event(
        self,
        kind: str,
        text: str,
        *,
        program: str | None = None,
        priority: int | None = 0,
        targets: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """BL: a 'do it now' alert (start 0001-01-01, duration P9999Y)."""
        return self.create_event(
            program=program,
            name=kind.lower(),
            priority=priority,
            targets=targets,
            interval_period={"start": "0001-01-01T00:00:00Z", "duration": "P9999Y"},
            intervals=[{"id": 0, "payloads": [{"type": kind, "values": [text]}]}],
        )

    def modify_event(self, event_id: str, **changes: Any) -> dict[str, Any]:
        """BL: change event fields (contract names, e.g. ``priority=0``, ``intervals=[...]``)."""
        event = self.events[event_id]
        event.update(changes)
        event["modificationDateTime"] = ts(now_utc() + timedelta(seconds=1))
        self._check_response("event", event)
        self._notify("EVENT", "UPDATE", event)
        return event

    def cancel_event(self, event_id: str) -> None:
        """BL: delete an event and notify subscribers (DELETE)."""
        event = self.events.pop(event_id)
        self._notify("EVENT", "DELETE", event)

    def resource_named(self, pev_id: str) -> dict[str, Any] | None:
        """The resource whose resourceName is a PEV ID."""
        return next((r for r in self.resources.values() if r["resourceName"] == pev_id), None)

    def approve(
        self,
        pev_id: str,
        billing_party: str = "PREMISE_CUSTOMER",
        home_utility_id: str | None = None,
        targets: Sequence[str] = (),
    ) -> None:
        """BL: answer ENROLLED for a PEV (now if its resource exists, else on creation)."""
        self.decisions[pev_id] = Decision("ENROLLED", billing_party, home_utility_id, list(targets))
        self._schedule_answer(pev_id)

    def deny(self, pev_id: str) -> None:
        """BL: answer NOT_ENROLLED for a PEV."""
        self.decisions[pev_id] = Decision("NOT_ENROLLED", None, None)
        self._schedule_answer(pev_id)

    def _schedule_answer(self, pev_id: str) -> None:
        if pev_id not in self.decisions or self.resource_named(pev_id) is None:
            return
        if self._answer_delay <= 0:
            self._write_answer(pev_id)
            return

        async def later() -> None:
            await asyncio.sleep(self._answer_delay)
            self._write_answer(pev_id)

        self._spawn(later())

    def _write_answer(self, pev_id: str) -> None:
        decision = self.decisions.get(pev_id)
        res = self.resource_named(pev_id)
        if decision is None or res is None:
            return
        answer = {"BINDING", "BILLING_PARTY", "HOME_UTILITY_ID"}
        attrs = [a for a in res.get("attributes") or [] if a.get("type") not in answer]
        attrs.append({"type": "BINDING", "values": [decision.binding]})
        if decision.billing_party:
            attrs.append({"type": "BILLING_PARTY", "values": [decision.billing_party]})
        if decision.home_utility_id:
            attrs.append({"type": "HOME_UTILITY_ID", "values": [decision.home_utility_id]})
        res["attributes"] = attrs
        if decision.targets:
            res["targets"] = sorted(set(res.get("targets") or []) | set(decision.targets))
        res["modificationDateTime"] = ts(now_utc())
        self._check_response("resource", res)
        self._notify("RESOURCE", "UPDATE", res)


def snake_case(value: Any) -> Any:
    """Every object key in snake_case, at any depth (``programID`` -> ``program_id``)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = re.sub(r"ID$", "_id", key)
            name = re.sub(r"(?<=[a-z])([A-Z])", lambda m: "_" + m.group(1).lower(), name)
            out[name] = snake_case(item)
        return out
    if isinstance(value, list):
        return [snake_case(item) for item in value]
    return value


def _usage_descriptor() -> list[dict[str, Any]]:
    return [{"payloadType": "USAGE", "readingType": "DIRECT_READ", "units": "KWH"}]
