"""The emulation's entries are made by the tests; the flow only declares the entry version.

lbbrhzn/ocpp's config_flow.py (a37fed39d852d393312d107cf915fea546df5088) is at version 2.2.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import DOMAIN


class OcppEmulationFlow(ConfigFlow, domain=DOMAIN):
    VERSION = 2
    MINOR_VERSION = 2

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return self.async_abort(reason="not_supported")
