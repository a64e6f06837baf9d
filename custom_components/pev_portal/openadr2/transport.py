"""The 2.0b VEN's exchanges with its VTN (simpleHttp, pull model) on a given aiohttp session.

Messages are built (and signed, with the VEN's certificate and key), validated against the
2.0b schema, checked against the VTN's certificate fingerprint and parsed by
``openleadr.messaging``; that work is blocking (lxml, signxml, template files) and big
distributions take milliseconds, so it is handed to ``run_blocking`` (Home Assistant's
executor in the integration).

Unlike ``openleadr.OpenADRClient`` (which logs and returns ``(None, {})`` on every failure,
keeps its own ClientSession and schedules with APScheduler), every failure here is an
exception the link can act on: :class:`VtnUnreachable` (no answer, a 5xx),
:class:`VtnRefused` (a non-200 OpenADR ``responseCode``, a registration without a
``registrationID``: openleadr's VTN answers a refused VEN that way, with code 200),
:class:`BadMessage` (not 2.0b XML, a wrong signature or fingerprint).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import aiohttp

from ..openadr.errors import OpenADRError, VtnAuthError

type RunBlocking = Callable[[Callable[[], Any]], Awaitable[Any]]

DEFAULT_TIMEOUT_S: Final = 20.0
MAX_BODY_BYTES: Final = 8 * 1024 * 1024
"""A larger answer is refused unread (a distribution of hundreds of events is far smaller)."""
SERVICE_REGISTER: Final = "EiRegisterParty"
SERVICE_EVENT: Final = "EiEvent"
SERVICE_REPORT: Final = "EiReport"
SERVICE_POLL: Final = "OadrPoll"
_KEPT_EXCHANGES: Final = 20
_KEPT_CHARS: Final = 2000
_NOT_AUTHORIZED: Final = 463
_XMLDSIG: Final = "http://www.w3.org/2000/09/xmldsig#"
_OADR: Final = "http://openadr.org/oadr-2.0b/2012/07"
type Transform = Callable[[Any], Any]
"""Changes the rendered ``oadrSignedObject`` (an lxml element) before it is signed."""


class Oadr2Error(OpenADRError):
    """A 2.0b exchange failed."""


class VtnUnreachable(Oadr2Error):
    """No answer (connection refused, timeout) or an HTTP error status."""


class VtnRefused(Oadr2Error):
    """The VTN answered with an OpenADR error (or registered nothing)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class BadMessage(Oadr2Error):
    """The VTN's answer is not valid 2.0b XML, or its signature or fingerprint is wrong."""


class IdentityRefused(Oadr2Error, VtnAuthError):
    """The VEN's identity is refused for good (a :class:`VtnAuthError`: the link starts Home
    Assistant's reauthentication): one of the three kinds below."""


class HttpRefused(VtnUnreachable, IdentityRefused):
    """HTTP 401 or 403: openleadr's VTN answers 403 to a VEN message whose signature or
    signing certificate it refuses (``FingerprintMismatch``, ``InvalidSignature`` in
    ``VTNService.handler``)."""


class CertificateRefused(VtnRefused, IdentityRefused):
    """OpenADR ``responseCode`` 463 (NOT_REGISTERED_OR_AUTHORIZED) with a description about
    the certificate: openleadr's ``authenticate_message`` refuses a TLS client certificate
    whose fingerprint is not the one the VTN has for the VEN that way (HTTP 200)."""


class FingerprintMismatch(BadMessage, IdentityRefused):
    """The VTN's signing certificate no longer matches the configured fingerprint."""


@dataclass(frozen=True)
class Registration:
    """The VTN's answer to ``oadrCreatePartyRegistration``."""

    ven_id: str
    registration_id: str
    poll_interval: timedelta | None
    vtn_id: str | None


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, for diagnostics (the XML cut short, no keys)."""

    at: datetime
    service: str
    message_type: str
    answer_type: str | None
    error: str | None


async def _in_loop(func: Callable[[], Any]) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, func)


def _code(payload: dict[str, Any]) -> tuple[int | None, str]:
    response = payload.get("response")
    if not isinstance(response, dict):
        return None, ""
    raw = response.get("response_code")
    if isinstance(raw, dict):
        raw = raw.get("#text")
    try:
        code = int(str(raw))
    except TypeError, ValueError:
        code = None
    return code, str(response.get("response_description") or "")


class Ven2Client:
    """One VEN's exchanges with one VTN (``vtn_url`` ends before the service name)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        vtn_url: str,
        ven_name: str,
        *,
        ssl: Any = True,
        cert_pem: bytes | None = None,
        key_pem: bytes | None = None,
        passphrase: str | None = None,
        vtn_fingerprint: str | None = None,
        run_blocking: RunBlocking = _in_loop,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.session = session
        self.vtn_url = vtn_url.rstrip("/")
        self.ven_name = ven_name
        self.ssl = ssl
        self.cert_pem = cert_pem
        self.key_pem = key_pem
        self.passphrase = passphrase
        self.vtn_fingerprint = vtn_fingerprint or None
        self.run_blocking = run_blocking
        self.timeout = timeout
        self.ven_id: str | None = None
        self.registration_id: str | None = None
        self.vtn_id: str | None = None
        self.exchanges: deque[Exchange] = deque(maxlen=_KEPT_EXCHANGES)

    # -- the wire ----------------------------------------------------------------------

    def _build(
        self, message_type: str, payload: dict[str, Any], transform: Transform | None = None
    ) -> bytes:
        from openleadr.messaging import create_message

        signed = self.cert_pem is not None and self.key_pem is not None
        if transform is not None:
            return self._build_transformed(message_type, payload, transform, signed=signed)
        message = create_message(
            message_type,
            cert=self.cert_pem if signed else None,
            key=self.key_pem if signed else None,
            passphrase=self.passphrase,
            disable_signature=not signed,
            **payload,
        )
        return str(message).encode("utf-8")

    def _build_transformed(
        self, message_type: str, payload: dict[str, Any], transform: Transform, *, signed: bool
    ) -> bytes:
        """openleadr's message, changed by ``transform`` (what its templates cannot write)
        before it is signed (the same detached XMLDSIG with replay protection)."""
        from lxml import etree
        from openleadr import messaging

        unsigned = messaging.create_message(message_type, disable_signature=True, **payload)
        envelope = etree.fromstring(str(unsigned).encode("utf-8"))
        signed_object = envelope.find(f"{{{_OADR}}}oadrSignedObject")
        if signed_object is None:
            raise ValueError(f"{message_type} has no oadrSignedObject")
        transform(signed_object)
        signature = b""
        if signed:
            from signxml import XMLSigner, methods
            from signxml.algorithms import SignatureMethod

            signer = XMLSigner(
                method=methods.detached,
                c14n_algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
            )
            signer.namespaces["oadr"] = _OADR
            signer.sign_alg = SignatureMethod.from_fragment(  # type: ignore[no-untyped-call]
                messaging.get_signature_algorithm_from_private_key(self.key_pem, self.passphrase)
            )
            signature = etree.tostring(
                signer.sign(
                    signed_object,
                    key=self.key_pem,
                    cert=self.cert_pem.decode() if self.cert_pem else None,
                    passphrase=self.passphrase.encode() if self.passphrase else None,
                    reference_uri="#oadrSignedObject",
                    signature_properties=messaging._create_replay_protect(),
                )
            )
        return bytes(
            b'<?xml version="1.0" encoding="utf-8"?>\n'
            + f'<oadr:oadrPayload xmlns:oadr="{_OADR}">'.encode()
            + signature
            + etree.tostring(signed_object)
            + b"</oadr:oadrPayload>"
        )

    def _parse(self, content: bytes) -> tuple[str, dict[str, Any]]:
        from lxml.etree import XMLSyntaxError
        from openleadr import errors
        from openleadr.messaging import (
            parse_message,
            validate_xml_schema,
            validate_xml_signature,
        )
        from signxml.exceptions import InvalidSignature

        try:
            tree = validate_xml_schema(content)
            if self.vtn_fingerprint:
                if tree.find(f".//{{{_XMLDSIG}}}X509Certificate") is None:
                    # openleadr would fail on it with an AttributeError
                    raise BadMessage(
                        "the VTN's message is not signed, but a VTN fingerprint is set"
                    )
                validate_xml_signature(tree, cert_fingerprint=self.vtn_fingerprint)
            message_type, payload = parse_message(content)
        except BadMessage:
            raise
        except XMLSyntaxError as err:
            raise BadMessage(f"not a valid OpenADR 2.0b message: {err}") from err
        except errors.FingerprintMismatch as err:
            raise FingerprintMismatch(
                f"the VTN's certificate fingerprint does not match: {err}"
            ) from err
        except InvalidSignature as err:
            raise BadMessage(f"the VTN's signature is invalid: {err}") from err
        except Exception as err:  # signxml/openleadr raise many kinds; all mean "unusable"
            raise BadMessage(f"unusable VTN message: {type(err).__name__}: {err}") from err
        if not isinstance(payload, dict):
            raise BadMessage(f"unusable VTN message {message_type}")
        return str(message_type), payload

    async def exchange(
        self,
        service: str,
        message_type: str,
        payload: dict[str, Any],
        *,
        check: bool = True,
        transform: Transform | None = None,
    ) -> tuple[str | None, dict[str, Any]]:
        """Send one message; the answer's type and payload (None, {} for an empty body).

        ``check``: raise :class:`VtnRefused` on a non-200 OpenADR response code.
        """
        answer_type: str | None = None
        try:
            try:
                body = await self.run_blocking(
                    lambda: self._build(message_type, payload, transform)
                )
            except (TypeError, ValueError, KeyError, UnboundLocalError) as err:
                raise Oadr2Error(f"could not build {message_type}: {err}") from err
            try:
                async with asyncio.timeout(self.timeout):
                    async with self.session.post(
                        f"{self.vtn_url}/{service}",
                        data=body,
                        headers={"Content-Type": "application/xml"},
                        ssl=self.ssl,
                    ) as response:
                        status = response.status
                        body_in = bytearray()
                        async for chunk in response.content.iter_chunked(65536):
                            body_in += chunk
                            if len(body_in) > MAX_BODY_BYTES:
                                raise BadMessage(f"the VTN's answer is over {MAX_BODY_BYTES} bytes")
                        content = bytes(body_in)
            except (aiohttp.ClientError, TimeoutError, OSError) as err:
                raise VtnUnreachable(f"{type(err).__name__}: {err}") from err
            if status in (401, 403):
                text = content[:200].decode("utf-8", "replace")
                raise HttpRefused(
                    f"HTTP {status} from the VTN's {service}: it refuses the VEN's identity"
                    f" (certificate or signature): {text}",
                    status=status,
                )
            if status != 200:
                text = content[:200].decode("utf-8", "replace")
                raise VtnUnreachable(f"HTTP {status} from the VTN's {service}: {text}")
            if not content.strip():
                self._log(service, message_type, None, None)
                return None, {}
            answer_type, answer = await self.run_blocking(lambda: self._parse(content))
            if check:
                code, description = _code(answer)
                if code == _NOT_AUTHORIZED and "certificate" in description.lower():
                    raise CertificateRefused(f"{answer_type}: {code} {description}".strip(), code)
                if code is not None and code != 200:
                    raise VtnRefused(f"{answer_type}: {code} {description}".strip(), code)
        except Oadr2Error as err:
            self._log(service, message_type, answer_type, str(err))
            raise
        self._log(service, message_type, answer_type, None)
        if vtn_id := answer.get("vtn_id"):
            self.vtn_id = str(vtn_id.get("#text") if isinstance(vtn_id, dict) else vtn_id)
        return answer_type, answer

    def _log(self, service: str, sent: str, answer: str | None, error: str | None) -> None:
        self.exchanges.append(
            Exchange(
                datetime.now(UTC), service, sent, answer, error[:_KEPT_CHARS] if error else None
            )
        )

    # -- registration ------------------------------------------------------------------

    async def query_registration(self) -> dict[str, Any]:
        """``oadrQueryRegistration``: the VTN is there and speaks 2.0b (the live test)."""
        answer_type, answer = await self.exchange(
            SERVICE_REGISTER, "oadrQueryRegistration", {"request_id": _id()}
        )
        if answer_type != "oadrCreatedPartyRegistration":
            raise BadMessage(f"unexpected answer to oadrQueryRegistration: {answer_type}")
        return answer

    async def register(self) -> Registration:
        """``oadrCreatePartyRegistration`` (pull model); :class:`VtnRefused` when the VTN does
        not register this VEN."""
        answer_type, answer = await self.exchange(
            SERVICE_REGISTER,
            "oadrCreatePartyRegistration",
            {
                "request_id": _id(),
                "ven_name": self.ven_name,
                "ven_id": self.ven_id,
                "http_pull_model": True,
                "xml_signature": self.cert_pem is not None,
                "report_only": False,
                "profile_name": "2.0b",
                "transport_name": "simpleHttp",
                "transport_address": None,
                "registration_id": self.registration_id,
            },
        )
        ven_id = _text(answer.get("ven_id"))
        registration_id = _text(answer.get("registration_id"))
        if answer_type != "oadrCreatedPartyRegistration" or not ven_id or not registration_id:
            raise VtnRefused(f"the VTN did not register VEN {self.ven_name!r}")
        self.ven_id, self.registration_id = ven_id, registration_id
        poll = answer.get("requested_oadr_poll_freq")
        return Registration(
            ven_id, registration_id, poll if isinstance(poll, timedelta) else None, self.vtn_id
        )

    # -- polling and events ------------------------------------------------------------

    async def poll(self) -> tuple[str | None, dict[str, Any]]:
        """``oadrPoll``: the next message the VTN has for this VEN."""
        return await self.exchange(SERVICE_POLL, "oadrPoll", {"ven_id": self.ven_id})

    async def request_events(self) -> list[Any]:
        """``oadrRequestEvent``: every active and pending event of this VEN."""
        answer_type, answer = await self.exchange(
            SERVICE_EVENT, "oadrRequestEvent", {"request_id": _id(), "ven_id": self.ven_id}
        )
        if answer_type != "oadrDistributeEvent":
            return []
        events = answer.get("events")
        return events if isinstance(events, list) else []

    async def created_event(
        self, request_id: str | None, answers: Sequence[tuple[str, int, str]]
    ) -> None:
        """``oadrCreatedEvent``: optIn / optOut per (event ID, modification number)."""
        request_id = request_id or _id()
        await self.exchange(
            SERVICE_EVENT,
            "oadrCreatedEvent",
            {
                "ven_id": self.ven_id,
                "response": _ok(request_id),
                "event_responses": [
                    {
                        **_ok(request_id),
                        "event_id": event_id,
                        "modification_number": number,
                        "opt_type": opt,
                    }
                    for event_id, number, opt in answers
                ],
            },
        )

    async def canceled_registration(self, request_id: str | None) -> None:
        """``oadrCanceledPartyRegistration``: the VEN took the VTN's cancellation (openleadr's
        VTN has no handler for it and answers with an error, which is not a failure here)."""
        await self.exchange(
            SERVICE_REGISTER,
            "oadrCanceledPartyRegistration",
            {
                "ven_id": self.ven_id,
                "registration_id": self.registration_id,
                "response": _ok(request_id or _id()),
            },
            check=False,
        )
        self.registration_id = None

    async def acknowledge(self, service: str, request_id: str | None) -> None:
        """An ``oadrResponse`` (after ``oadrRequestReregistration``)."""
        await self.exchange(
            service, "oadrResponse", {"ven_id": self.ven_id, "response": _ok(request_id or _id())}
        )

    # -- reports -----------------------------------------------------------------------

    async def register_reports(self, reports: Sequence[Any]) -> list[Any]:
        """``oadrRegisterReport``: the VEN's reports; the VTN's report requests."""
        _, answer = await self.exchange(
            SERVICE_REPORT,
            "oadrRegisterReport",
            {
                "request_id": _id(),
                "ven_id": self.ven_id,
                "reports": list(reports),
                "report_request_id": 0,
            },
        )
        requests = answer.get("report_requests")
        return requests if isinstance(requests, list) else []

    async def created_report(
        self, request_id: str | None, report_request_ids: Sequence[str]
    ) -> None:
        """``oadrCreatedReport``: the VEN took these report requests."""
        await self.exchange(
            SERVICE_REPORT,
            "oadrCreatedReport",
            {
                "ven_id": self.ven_id,
                "response": _ok(request_id or _id()),
                "pending_reports": [{"report_request_id": r} for r in report_request_ids],
            },
        )

    async def update_report(
        self, report: Any, transform: Transform | None = None
    ) -> dict[str, Any]:
        """``oadrUpdateReport``: one report; the VTN's answer (``oadrUpdatedReport``).

        ``transform``: changes the rendered message before it is signed (the resource
        status payloads openleadr's template cannot write)."""
        _, answer = await self.exchange(
            SERVICE_REPORT,
            "oadrUpdateReport",
            {"ven_id": self.ven_id, "request_id": _id(), "reports": [report]},
            transform=transform,
        )
        return answer


def _id() -> str:
    return uuid.uuid4().hex


def _ok(request_id: str) -> dict[str, Any]:
    return {"response_code": 200, "response_description": "OK", "request_id": request_id}


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("#text")
    return str(value) if value not in (None, "") else None
