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
    CONF_IN_PROGRAM,
    CONF_INTERVAL_MINUTES,
    CONF_PREMISE_ID,
    CONF_PREMISE_NAME,
    CONF_TARIFF_KIND,
    CONF_UTILITY,
    CONF_VALIDATION_WINDOW,
    DEFAULT_INTERVAL_MINUTES,
    DEFAULT_VALIDATION_WINDOW,
    DOMAIN,
    SUBENTRY_CHARGER,
    SUBENTRY_VEHICLE,
    TARIFF_KIND_ENTITY,
    TARIFF_KIND_FLAT,
    TARIFF_KIND_TOU,
    TARIFF_KIND_YAML,
)
from .charger import ChargerSteps, ChargerSubentryFlow
from .helpers import generated_id
from .options import PevPortalOptionsFlow
from .premise import _premise_schema, _start_schema, _validate_name, _validate_premise
from .tariff import TariffSteps
from .utility import UtilitySteps
from .vehicle import VehicleSubentryFlow

if TYPE_CHECKING:
    from ..coordinator import PevPortalConfigEntry


class PevPortalConfigFlow(
    ChargerSteps[ConfigFlowResult],
    TariffSteps[ConfigFlowResult],
    UtilitySteps,
    domain=DOMAIN,
):
    """Set up a premise: its name, its prices, the utility link in a program, the first charger.

    Forms: the premise (name, in a utility program or not, how prices are given), the prices
    (flat, TOU, a price entity or YAML), in a program the utility step (premise ID and link),
    the charger (name, kind, device), the charger's entities and meter (ZHA meters: one more).
    Without a program the premise ID is generated (editable in Reconfigure).
    """

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._charger: dict[str, Any] = {}
        self._utility: dict[str, Any] | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: PevPortalConfigEntry) -> PevPortalOptionsFlow:
        """The options flow: tariff, metering, notifications, circuit, solar."""
        return PevPortalOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: PevPortalConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Chargers and vehicles are subentries of the premise."""
        return {SUBENTRY_CHARGER: ChargerSubentryFlow, SUBENTRY_VEHICLE: VehicleSubentryFlow}

    def _in_program(self) -> bool:
        return bool(self._data.get(CONF_IN_PROGRAM))

    def _asks_default_price(self) -> bool:
        return self._in_program()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The premise: its name, whether it is in a utility program, how prices are given."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate_name(user_input)
            if not errors:
                self._data = {
                    CONF_PREMISE_NAME: user_input[CONF_PREMISE_NAME].strip(),
                    CONF_IN_PROGRAM: bool(user_input[CONF_IN_PROGRAM]),
                    CONF_INTERVAL_MINUTES: DEFAULT_INTERVAL_MINUTES,
                    CONF_VALIDATION_WINDOW: DEFAULT_VALIDATION_WINDOW,
                }
                step = _TARIFF_STEPS[user_input[CONF_TARIFF_KIND]]
                result: ConfigFlowResult = await getattr(self, step)()
                return result
        return self.async_show_form(
            step_id="user", data_schema=_start_schema(user_input or {}), errors=errors
        )

    async def _async_tariff_done(self, data: dict[str, Any]) -> ConfigFlowResult:
        self._data.update(data)
        if self._in_program():
            return await self.async_step_utility()
        return await self.async_step_charger()

    async def _async_charger_done(self, data: dict[str, Any]) -> ConfigFlowResult:
        if not self._data.get(CONF_PREMISE_ID):
            # No utility program: no ID to type; one is made from the name (Reconfigure edits it).
            self._data[CONF_PREMISE_ID] = generated_id(self._data[CONF_PREMISE_NAME])
            await self.async_set_unique_id(self._data[CONF_PREMISE_ID])
            self._abort_if_unique_id_configured()
        premise_keys = (CONF_PREMISE_NAME, CONF_PREMISE_ID, CONF_IN_PROGRAM)
        entry_data: dict[str, Any] = {k: self._data[k] for k in premise_keys}
        options = {k: v for k, v in self._data.items() if k not in premise_keys}
        if self._utility is not None:
            entry_data[CONF_UTILITY] = self._utility
        return self.async_create_entry(
            title=entry_data[CONF_PREMISE_NAME],
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


# The tariff step of each kind (the first form's choice).
_TARIFF_STEPS = {
    TARIFF_KIND_FLAT: "async_step_tariff_flat",
    TARIFF_KIND_TOU: "async_step_tariff_tou",
    TARIFF_KIND_ENTITY: "async_step_tariff_entity",
    TARIFF_KIND_YAML: "async_step_tariff_yaml",
}
