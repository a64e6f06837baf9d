"""OpenADR 3.1.0 VEN for PEV Portal: client, models, event timeline and report builders.

Home-Assistant-free (aiohttp and the standard library only). The profile it implements is
``shared/design/openadr-pev-profile.md``.
"""

from __future__ import annotations

from .client import (
    CONNECTIONS,
    Auth,
    BearerToken,
    ClientCredentials,
    Exchange,
    Grants,
    NoAuth,
    VenClient,
    pev_resource_attributes,
    redact,
)
from .enrollment import ProgramStatus, async_program_status
from .errors import (
    OpenADRError,
    UnknownProgram,
    VtnAuthError,
    VtnNotFound,
    VtnProtocolError,
    VtnRateLimited,
    VtnTlsError,
    VtnUnreachable,
)
from .models import (
    INFINITE,
    Event,
    EventInterval,
    IntervalPeriod,
    Notification,
    Program,
    Resource,
    Target,
    event_mandatory,
    parse_datetime,
    parse_duration,
    parse_event,
    parse_events,
    parse_notification,
    parse_program,
    parse_programs,
    parse_resource,
    parse_resources,
    validation_answer,
)
from .reports import operating_state_report, usage_report
from .targets import TargetDecision, TargetRule
from .timeline import DEFAULT_LEVEL_MAP, MIN_CHARGING, Timeline, TimelineEntry

__all__ = [
    "CONNECTIONS",
    "DEFAULT_LEVEL_MAP",
    "INFINITE",
    "MIN_CHARGING",
    "Auth",
    "BearerToken",
    "ClientCredentials",
    "Event",
    "EventInterval",
    "Exchange",
    "Grants",
    "IntervalPeriod",
    "NoAuth",
    "Notification",
    "OpenADRError",
    "Program",
    "ProgramStatus",
    "Resource",
    "Target",
    "TargetDecision",
    "TargetRule",
    "Timeline",
    "TimelineEntry",
    "UnknownProgram",
    "VenClient",
    "VtnAuthError",
    "VtnNotFound",
    "VtnProtocolError",
    "VtnRateLimited",
    "VtnTlsError",
    "VtnUnreachable",
    "async_program_status",
    "event_mandatory",
    "operating_state_report",
    "parse_datetime",
    "parse_duration",
    "parse_event",
    "parse_events",
    "parse_notification",
    "parse_program",
    "parse_programs",
    "parse_resource",
    "parse_resources",
    "pev_resource_attributes",
    "redact",
    "usage_report",
    "validation_answer",
]
