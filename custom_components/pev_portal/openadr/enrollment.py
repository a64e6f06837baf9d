"""Enrollment status: which configured programs this VEN can see yet.

A program targeted only at the premise is private until the utility's business logic grants
the VEN one of its targets (Definition.md, Object Privacy), which it can only do once the VEN
object exists. So set-up registers the VEN first and accepts missing programs as *pending*
("waiting for the utility"); the link keeps checking and becomes active by itself when the grant
arrives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from .client import VenClient
from .models import Program

__all__ = ["ACTIVE", "PENDING", "ProgramStatus", "async_program_status", "program_status"]

ACTIVE: Final = "active"
"""Every configured program is visible to the VEN."""
PENDING: Final = "pending"
"""Some configured program is not visible yet: waiting for the utility to grant it."""


@dataclass(frozen=True)
class ProgramStatus:
    """``status`` (:data:`ACTIVE` or :data:`PENDING`), the programs found (in the configured
    order), the configured names not visible yet, and the VEN's ID at the VTN."""

    status: str
    programs: list[Program]
    missing: list[str]
    ven_id: str | None = None
    granted: frozenset[str] = field(default_factory=frozenset)

    @property
    def pending(self) -> bool:
        """Whether the VEN still waits for the utility."""
        return self.status == PENDING


def program_status(
    programs: Sequence[Program], names: Sequence[str], ven_id: str | None = None
) -> ProgramStatus:
    """Match configured program names (case-insensitive) against the programs the VEN sees."""
    by_name = {p.name.casefold(): p for p in programs}
    found = [by_name[n.strip().casefold()] for n in names if n.strip().casefold() in by_name]
    missing = [n for n in names if n.strip().casefold() not in by_name]
    return ProgramStatus(ACTIVE if not missing else PENDING, found, missing, ven_id)


async def async_program_status(
    client: VenClient, ven_name: str, program_names: Sequence[str]
) -> ProgramStatus:
    """The set-up check: authenticate, register the VEN (find or create it, so the utility can
    grant it targets), read its grants and match the programs it can see.

    Raises the client's errors (VtnAuthError, VtnUnreachable, ...) when the VTN cannot be used
    at all; a program that is not visible yet is *not* an error (:data:`PENDING`).
    """
    await client.async_token()
    await client.async_ensure_ven(ven_name)
    grants = await client.async_grants(ven_name)
    programs = await client.async_programs()
    status = program_status(programs, program_names, grants.ven_id)
    return ProgramStatus(
        status.status,
        status.programs,
        status.missing,
        grants.ven_id,
        frozenset(client.granted_targets),
    )
