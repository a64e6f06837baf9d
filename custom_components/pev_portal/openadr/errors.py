"""Errors of the OpenADR 3.1.0 VEN client; every message is readable by a user."""

from __future__ import annotations

__all__ = [
    "OpenADRError",
    "UnknownProgram",
    "VtnAuthError",
    "VtnNotFound",
    "VtnProtocolError",
    "VtnRateLimited",
    "VtnTlsError",
    "VtnUnreachable",
]


class OpenADRError(Exception):
    """Base class of every error raised by the OpenADR package."""


class VtnUnreachable(OpenADRError):
    """The VTN could not be reached: DNS failure, connection refused, timeout, 502-504.

    ``retry_after`` is the VTN's ``Retry-After`` in seconds when it sent one (503).
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class VtnRateLimited(VtnUnreachable):
    """429 Too Many Requests; ``retry_after`` (seconds) when the VTN said how long to wait."""


class VtnTlsError(OpenADRError):
    """The TLS handshake failed, e.g. the VTN's certificate could not be verified."""


class VtnAuthError(OpenADRError):
    """401/403 after one token renewal, or the token endpoint refused the credentials."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class VtnNotFound(OpenADRError):
    """The VTN answered 404 Not Found (or 410 Gone: ``status``)."""

    def __init__(self, message: str, *, status: int = 404) -> None:
        super().__init__(message)
        self.status = status


class VtnProtocolError(OpenADRError):
    """Malformed JSON, an unexpected shape, or an error status with (maybe) a problem body.

    ``status`` is the HTTP status (None when the body was the problem), ``title`` and
    ``detail`` come from the OpenADR ``problem`` object when the VTN sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.detail = detail


class UnknownProgram(OpenADRError):
    """Configured program names the VTN does not know (or does not let this VEN see)."""

    def __init__(self, names: list[str]) -> None:
        self.names = list(names)
        shown = ", ".join(repr(n) for n in self.names)
        super().__init__(f"the VTN does not know (or does not show this client) program(s) {shown}")
