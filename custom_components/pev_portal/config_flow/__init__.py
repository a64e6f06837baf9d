"""Config, options, reconfigure and subentry flows of PEV Portal.

The config entry is the premise (its ID, tariff, metering interval and validation window);
chargers and vehicles are its subentries, so a premise can have several of each (req 2).
The steps live in modules by family: premise, tariff, charger, vehicle, utility, options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import (
    ConfigFlowResult,
    ConfigSubentryData,
    ConfigSubentryFlow,
)
from homeassistant.core import callback

from ..const import (
    CONF_CHARGER_NAME,
    CONF_INTERVAL_MINUTES,
    CONF_PREMISE_ID,
    CONF_PREMISE_NAME,
    CONF_TARIFF,
    CONF_UTILITY,
    DOMAIN,
    SUBENTRY_CHARGER,
    SUBENTRY_VEHICLE,
)
from .charger import ChargerSteps, ChargerSubentryFlow
from .options import PevPortalOptionsFlow
from .premise import _metering_schema, _premise_schema, _validate_metering, _validate_premise
from .tariff import _default_tariff, _tariff_schema, _validate_tariff
from .utility import UtilitySteps
from .vehicle import VehicleSubentryFlow

if TYPE_CHECKING:
    from ..coordinator import PevPortalConfigEntry


class PevPortalConfigFlow(ChargerSteps[ConfigFlowResult], UtilitySteps, domain=DOMAIN):
    """Set up a premise: its identity, tariff and first charger."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._charger: dict[str, Any] = {}
        self._utility: dict[str, Any] | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: PevPortalConfigEntry) -> PevPortalOptionsFlow:
        """The options flow: tariff, metering interval, validation window."""
        return PevPortalOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: PevPortalConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Chargers and vehicles are subentries of the premise."""
        return {SUBENTRY_CHARGER: ChargerSubentryFlow, SUBENTRY_VEHICLE: VehicleSubentryFlow}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The premise: name, ID, metering interval and validation window."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_PREMISE_ID] = user_input[CONF_PREMISE_ID].strip()
            errors = _validate_premise(user_input) | _validate_metering(user_input)
            if not errors:
                await self.async_set_unique_id(user_input[CONF_PREMISE_ID])
                self._abort_if_unique_id_configured()
                self._data = {
                    **user_input,
                    CONF_INTERVAL_MINUTES: int(user_input[CONF_INTERVAL_MINUTES]),
                }
                return await self.async_step_tariff()
        schema = _premise_schema(user_input or {}).extend(_metering_schema(user_input or {}))
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)

    async def async_step_tariff(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The program's tariff and the premise's default rate."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            errors, placeholders = _validate_tariff(user_input)
            if not errors:
                self._data.update(user_input)
                return await self.async_step_utility()
        defaults = user_input or {CONF_TARIFF: _default_tariff(self.hass)}
        return self.async_show_form(
            step_id="tariff",
            data_schema=_tariff_schema(defaults),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_charger_done(self, data: dict[str, Any]) -> ConfigFlowResult:
        premise = {k: self._data[k] for k in (CONF_PREMISE_NAME, CONF_PREMISE_ID)}
        options = {k: v for k, v in self._data.items() if k not in premise}
        entry_data: dict[str, Any] = dict(premise)
        if self._utility is not None:
            entry_data[CONF_UTILITY] = self._utility
        return self.async_create_entry(
            title=premise[CONF_PREMISE_NAME],
            data=entry_data,
            options=options,
            subentries=[
                ConfigSubentryData(
                    subentry_type=SUBENTRY_CHARGER,
                    title=data[CONF_CHARGER_NAME],
                    data=data,
                    unique_id=None,
                )
            ],
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the premise's name and ID (sessions already stored keep theirs)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_PREMISE_ID] = user_input[CONF_PREMISE_ID].strip()
            errors = _validate_premise(user_input)
            if not errors:
                await self.async_set_unique_id(user_input[CONF_PREMISE_ID])
                if user_input[CONF_PREMISE_ID] != entry.unique_id:
                    self._abort_if_unique_id_configured()
                self._data = user_input
                return await self.async_step_reconfigure_utility()
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_premise_schema(user_input or dict(entry.data)),
            errors=errors,
        )
