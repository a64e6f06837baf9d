"""The utility link's state as the entities show it, and its health: connected or down, the
repair issues of a link that is down or refused, reauthentication (a part of
:class:`~.utility.UtilityLink`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import CONF_VTN_URL, DOMAIN, LINK_DOWN_REPAIR_AFTER
from .openadr.errors import OpenADRError, VtnAuthError
from .openadr.models import Event, Program

if TYPE_CHECKING:
    from .ports import Premise
    from .utility_failsafe import LinkFailsafe

# The link's log lines keep the logger of the module they came from.
_LOGGER = logging.getLogger(f"{__package__}.utility")

ENROLLMENT_ACTIVE = "active"
ENROLLMENT_PENDING = "pending"


@dataclass
class LinkState:
    """What the entities show of the link."""

    connected: bool = False
    last_error: str | None = None
    last_contact: datetime | None = None
    down_since: datetime | None = None
    ven_id: str | None = None
    programs: list[Program] = field(default_factory=list)
    events: dict[str, Event] = field(default_factory=dict)
    backlog: int = 0
    last_ack: datetime | None = None
    push_active: bool = False
    enrollment: str = ENROLLMENT_ACTIVE
    """``pending`` while a configured program is not visible to the VEN yet (the utility has
    not granted it), then ``active``."""
    missing_programs: list[str] = field(default_factory=list)
    dead_letters: int = 0
    push_source: str | None = None
    """Where the push URL came from: ``typed`` (the link's setting), ``internal``,
    ``external`` (Home Assistant's URL settings) or ``detected`` (its local IP or cloud URL)."""
    polling_because: str | None = None
    """Why the link only polls (no URL for pushes, or the VTN refused the subscription)."""
    echo_probe_at: datetime | None = None
    """When the VTN last checked the callback URL with its echo challenge."""
    last_rebuild: datetime | None = None
    rebuilt: list[str] = field(default_factory=list)


class LinkHealth:
    """Connected or down: a mixin of :class:`~.utility.UtilityLink`, which sets these."""

    hass: HomeAssistant
    premise: Premise
    config: dict[str, Any]
    state: LinkState
    failsafe: LinkFailsafe
    _auth_failed: bool

    def _succeeded(self) -> None:
        self.failsafe.heard()  # every successful exchange: the fail-safe's heartbeat
        first = not self.state.connected
        changed = first or self.state.last_error is not None or self._auth_failed
        self.state.connected = True
        self.state.last_error = None
        self.state.last_contact = dt_util.utcnow()
        self.state.down_since = None
        if first:
            _LOGGER.info("Connected to the utility's VTN at %s", self.config[CONF_VTN_URL])
        ir.async_delete_issue(self.hass, DOMAIN, self._issue("utility_down"))
        if first or self._auth_failed:
            # Accepted credentials (also after a reauthentication and its reload).
            self._auth_failed = False
            ir.async_delete_issue(self.hass, DOMAIN, self._issue("utility_auth"))
        if changed:
            # Only when something shown changed: a 30-day backlog acknowledges hundreds of
            # reports, and every update rebuilds each entity (the calendars' events too).
            self.premise.changed()

    def _failed(self, err: OpenADRError) -> None:
        now = dt_util.utcnow()
        if self.state.connected or self.state.down_since is None:
            _LOGGER.warning("The utility's VTN is not available: %s", err)
            self.state.down_since = self.state.down_since or now
        self.state.connected = False
        self.state.last_error = str(err)
        if isinstance(err, VtnAuthError) and not self._auth_failed:
            self._auth_failed = True
            _LOGGER.error(
                "The utility's VTN at %s refuses the link's credentials (reauthentication"
                " started): %s",
                self.config[CONF_VTN_URL],
                err,
            )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self._issue("utility_auth"),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="utility_auth",
                translation_placeholders={"url": self.config[CONF_VTN_URL]},
            )
            self.premise.entry.async_start_reauth(self.hass)
        if now - self.state.down_since >= LINK_DOWN_REPAIR_AFTER:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self._issue("utility_down"),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="utility_down",
                translation_placeholders={
                    "url": self.config[CONF_VTN_URL],
                    "since": self.state.down_since.isoformat(timespec="minutes"),
                    "error": str(err),
                },
            )
        self.premise.changed()

    def _issue(self, kind: str) -> str:
        return f"{kind}_{self.premise.entry.entry_id}"
