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

import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import (
    UnknownProgram,
    VtnNotFound,
    VtnProtocolError,
)
from .models import (
    Event,
    Program,
    Resource,
    parse_events,
    parse_programs,
    parse_resource,
    target_values,
)
from .wire import (
    ANSWER_ATTRIBUTES,
    CONNECTIONS,
    Auth,
    BearerToken,
    ClientCredentials,
    Exchange,
    NoAuth,
    VtnTransport,
    parse_retry_after,
    pev_resource_attributes,
    redact,
)

__all__ = [
    "CONNECTIONS",
    "Auth",
    "BearerToken",
    "ClientCredentials",
    "Exchange",
    "Grants",
    "NoAuth",
    "VenClient",
    "parse_retry_after",
    "pev_resource_attributes",
    "redact",
]

_LOGGER = logging.getLogger(__name__)


class VenClient(VtnTransport):
    """An OpenADR 3.1.0 VEN talking to one VTN."""

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

    async def async_find_ven(self, ven_name: str) -> dict[str, Any] | None:
        """This VEN's object by ``venName`` (``GET /vens?venName=``), or None if the VTN has
        none (a VTN restarted with empty storage)."""
        for ven in await self.async_list("/vens", {"venName": ven_name}):
            if isinstance(ven, dict) and ven.get("venName") == ven_name and ven.get("id"):
                return ven
        return None

    async def async_grants(self, ven_name: str) -> Grants:
        """Re-read what the business logic has granted: the VEN's targets and each resource's.

        Replaces :attr:`granted_targets` (a grant the BL withdrew is forgotten). ``ven_id`` is
        None when the VTN no longer has this VEN (its state was lost).
        """
        ven = await self.async_find_ven(ven_name)
        if ven is None:
            return Grants(ven_id=None, ven=frozenset(), resources={})
        ven_id = str(ven["id"])
        resources = await self.async_resources(ven_id, learn=False)
        grants = Grants(
            ven_id=ven_id,
            ven=frozenset(v for t in _targets_of(ven) for v in target_values(t)[1]),
            resources={r.name: r.target_labels for r in resources},
            resource_ids={r.name: r.id for r in resources},
        )
        self.granted_targets = set(grants.ven).union(*grants.resources.values())
        return grants

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

    async def async_resources(self, ven_id: str, *, learn: bool = True) -> list[Resource]:
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
                if learn:
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
        """Subscribe to CREATE/UPDATE/DELETE of PROGRAM, EVENT, VEN and RESOURCE objects (VEN and
        RESOURCE pushes carry the targets the business logic grants) on a webhook.

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
                    "objects": ["PROGRAM", "EVENT", "VEN", "RESOURCE"],
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

    async def async_subscription_alive(self, client_name: str, subscription_id: str) -> bool:
        """Whether the VTN still has our subscription (``GET /subscriptions?clientName=``)."""
        return any(
            isinstance(s, dict) and str(s.get("id")) == subscription_id
            for s in await self.async_list("/subscriptions", {"clientName": client_name})
        )

    async def async_delete_subscription(self, subscription_id: str) -> None:
        """Delete a subscription."""
        await self.async_request("DELETE", f"/subscriptions/{subscription_id}")


@dataclass(frozen=True)
class Grants:
    """Targets the business logic granted: to the VEN, and per resource name (PEV ID)."""

    ven_id: str | None
    ven: frozenset[str]
    resources: dict[str, frozenset[str]]
    resource_ids: dict[str, str] = field(default_factory=dict)


def _targets_of(obj: Mapping[str, Any]) -> list[Any]:
    targets = obj.get("targets")
    return (
        [t for t in targets if isinstance(t, (str, dict)) and t]
        if isinstance(targets, list)
        else []
    )
