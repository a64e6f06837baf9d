"""openleadr's own OpenADR 2.0b VTN (``OpenADRServer``) on 127.0.0.1, for the 2.0b tests.

The peer is the real package (openleadr 0.5.36, the integration's requirement), not a fake.
Its quirks, read from its code (openleadr/server.py, openleadr/service/*.py of the installed
0.5.36): a refused registration is an ``oadrCreatedPartyRegistration`` with code 200 and no
registrationID; on Python 3.14 its VTN answers every message with HTTP 500 as shipped
(``VTNService._create_message`` is a class attribute holding a ``functools.partial``, which
3.14 binds as a method: ``create_message() got multiple values for argument 'cert'``), so
:func:`start_vtn` puts it back as a ``staticmethod``; ``VTNService`` keeps ``ven_lookup`` and
the message signer on the class, so every server in the process shares them (each start sets
its own); only the first ``oadrCreatedEvent`` per event reaches the event's callback (every
answer is recorded from its ``before_handle`` hook instead); ``objects.Event`` derives the
event status from the time (a cancelled event goes through ``cancel_event``).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from openleadr import OpenADRServer, errors, hooks, objects
from openleadr.messaging import create_message
from openleadr.service import VTNService


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Vtn:
    """The running VTN and what it heard."""

    server: OpenADRServer
    url: str
    accept: bool = True
    vens: dict[str, dict[str, Any]] = field(default_factory=dict)
    opts: list[tuple[str, str, str]] = field(default_factory=list)
    answers: list[tuple[str, int, str]] = field(default_factory=list)
    registered: list[tuple[str, str | None, str]] = field(default_factory=list)
    reports: list[tuple[str, list[tuple[Any, Any]]]] = field(default_factory=list)
    running: bool = True
    request_reports: bool = True
    """False: the VTN requests none of the reports the VEN offers."""
    statuses: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    """Each resource status received: (reportRequestID, rID, the parsed
    ``payload_resource_status``)."""
    queued: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    refusing: tuple[int, str] | None = None
    """Set by :meth:`refuse_identity`: how the VTN refuses the VEN's messages."""
    cancelled: list[str] = field(default_factory=list)
    """The VENs that acknowledged a cancellation (oadrCanceledPartyRegistration; openleadr's
    VTN has no handler for it and answers with an error)."""

    def cancel_registration(self, ven_id: str) -> None:
        """Queue an ``oadrCancelPartyRegistration`` (delivered at the VEN's next poll)."""
        registration_id = self.vens.get(ven_id, {}).get("registration_id", "unknown")
        self.queued.setdefault(ven_id, []).append(
            (
                "oadrCancelPartyRegistration",
                {"request_id": "cancel-1", "ven_id": ven_id, "registration_id": registration_id},
            )
        )

    def request_status(self, ven_id: str, specifier_id: str, r_ids: list[str]) -> str:
        """Queue an ``oadrCreateReport`` asking for these rIDs of a report the VEN offered
        (delivered at the VEN's next poll); its reportRequestID."""
        request_id = f"rr-status-{len(self.statuses)}-{len(self.queued.get(ven_id, []))}"
        request = objects.ReportRequest(
            report_request_id=request_id,
            report_specifier=objects.ReportSpecifier(
                report_specifier_id=specifier_id,
                granularity=timedelta(0),
                report_back_duration=timedelta(0),
                specifier_payloads=[
                    objects.SpecifierPayload(r_id=r, reading_type="x-notApplicable") for r in r_ids
                ],
            ),
        )
        self.queued.setdefault(ven_id, []).append(
            (
                "oadrCreateReport",
                {"request_id": request_id, "ven_id": ven_id, "report_requests": [request]},
            )
        )
        return request_id

    async def stop(self) -> None:
        if self.running:
            await self.server.stop()
            self.running = False

    async def start(self) -> None:
        if not self.running:
            await self.server.run()
            self.running = True

    def sign_with(self, cert: bytes | None, key: bytes | None) -> None:
        """Sign the VTN's messages with this certificate and key (None: plain)."""
        VTNService._create_message = staticmethod(
            partial(create_message, cert=cert, key=key, passphrase=None)
        )

    def refuse_reports(self, refuse: bool = True) -> None:
        """Answer ``oadrUpdateReport`` with an OpenADR error (452 INVALID ID), as openleadr's
        VTN does when a handler raises ``InvalidIdError``; False: accept them again."""
        service = self.server.services["report_service"]
        if refuse:

            def refused(payload: dict[str, Any]) -> None:
                raise errors.InvalidIdError("unknown report request")

            service.handlers["oadrUpdateReport"] = refused
        else:
            service.handlers["oadrUpdateReport"] = service.update_report

    def refuse_identity(self, how: str | None = "403") -> None:
        """Refuse every registration and poll as openleadr's VTN refuses a VEN's identity:
        ``"403"``: HTTP 403 ``Invalid Signature`` (its answer to a signature or signing
        certificate it refuses); ``"463"``: an OpenADR 463 NOT_REGISTERED_OR_AUTHORIZED whose
        description names the certificate (``authenticate_message``'s answer to a TLS client
        certificate with another fingerprint; both raised from the handler, which openleadr's
        ``VTNService.handler`` turns into those answers; reports too). None: accept again."""
        self.refusing = None if how is None else (int(how), "")
        service = self.server.services["report_service"]
        if how is None:
            service.handlers["oadrUpdateReport"] = service.update_report
        else:

            async def refused(payload: dict[str, Any]) -> Any:
                self.check_identity()
                return await service.update_report(payload)  # pragma: no cover

            service.handlers["oadrUpdateReport"] = refused

    def check_identity(self) -> None:
        """Raise what openleadr's VTN raises for a refused VEN identity (see above)."""
        if self.refusing is None:
            return
        if self.refusing[0] == 403:
            raise errors.HTTPError(403, "Invalid Signature")
        raise errors.NotRegisteredOrAuthorizedError(
            "The fingerprint of your HTTPS certificate 'AA:BB' does not match the expected"
            " fingerprint 'CC:DD'"
        )

    def event(self, ven_id: str, **kwargs: Any) -> str:
        """Queue an event for a VEN (its first opt answer lands in ``opts``)."""

        def answered(ven_id: str, event_id: str, opt_type: str) -> None:
            self.opts.append((ven_id, event_id, opt_type))

        kwargs.setdefault("callback", answered)
        return str(self.server.add_event(ven_id=ven_id, **kwargs))


async def start_vtn(poll: timedelta = timedelta(seconds=10)) -> Vtn:
    """openleadr's VTN accepting every VEN (``vtn.accept = False`` refuses them)."""
    port = free_port()
    server = OpenADRServer(
        vtn_id="PEV_TEST_VTN",
        http_host="127.0.0.1",
        http_port=port,
        requested_poll_freq=poll,
        show_fingerprint=False,
        ven_lookup=lambda ven_id: None,
    )
    vtn = Vtn(server, f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b")

    def lookup(ven_id: str) -> dict[str, Any] | None:
        return vtn.vens.get(ven_id)

    def register(payload: dict[str, Any]) -> tuple[str, str] | bool:
        vtn.check_identity()
        if not vtn.accept:
            return False
        ven_id = f"ven-{payload['ven_name']}"
        vtn.vens[ven_id] = {"ven_id": ven_id, "registration_id": f"reg-{ven_id}"}
        return ven_id, f"reg-{ven_id}"

    def on_register_report(
        ven_id: str,
        resource_id: str | None,
        measurement: str,
        unit: str | None,
        scale: str | None,
        min_sampling_interval: timedelta,
        max_sampling_interval: timedelta,
    ) -> tuple[Any, timedelta] | None:
        vtn.registered.append((ven_id, resource_id, measurement))
        if not vtn.request_reports or measurement == "Status":
            # The status is asked for by oadrCreateReport (request_status): openleadr's own
            # report callbacks take only float payloads (report_payload['value']).
            return None

        def receive(values: list[tuple[Any, Any]]) -> None:
            vtn.reports.append((str(resource_id), values))

        return receive, min_sampling_interval

    async def heard(message_type: str, payload: dict[str, Any]) -> None:
        if message_type == "oadrUpdateReport":
            for report in payload.get("reports") or []:
                for interval in report.get("intervals") or []:
                    value = interval["report_payload"]
                    if "payload_resource_status" in value:
                        vtn.statuses.append(
                            (
                                report["report_request_id"],
                                value["r_id"],
                                value["payload_resource_status"],
                            )
                        )
        if message_type == "oadrCanceledPartyRegistration":
            vtn.cancelled.append(str(payload.get("ven_id")))
        if message_type == "oadrCreatedEvent":
            for answer in payload.get("event_responses") or []:
                vtn.answers.append(
                    (answer["event_id"], int(answer["modification_number"]), answer["opt_type"])
                )

    poll_service = server.services["poll_service"]
    shipped_poll = poll_service.handlers["oadrPoll"]

    async def poll(payload: dict[str, Any]) -> Any:
        vtn.check_identity()
        queue = vtn.queued.get(payload["ven_id"])
        if queue:
            return queue.pop(0)
        return await shipped_poll(payload)

    poll_service.handlers["oadrPoll"] = poll
    server.add_handler("on_create_party_registration", register)
    server.add_handler("on_register_report", on_register_report)
    VTNService.ven_lookup = staticmethod(lookup)
    vtn.sign_with(None, None)
    hooks.HOOKS["before_handle"][:] = [heard]
    await server.run()
    return vtn
