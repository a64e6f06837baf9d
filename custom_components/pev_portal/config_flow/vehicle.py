"""The vehicle subentry flow (add and reconfigure)."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import (
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.helpers import selector

from ..const import (
    CONF_CAPACITY,
    CONF_DEFAULT_TARGET,
    CONF_DEFAULT_VEHICLE,
    CONF_NAME,
    CONF_PEV_ID,
    CONF_RELATION,
    CONF_SOC_ENTITY,
    CONF_TAGS,
    SUBENTRY_VEHICLE,
)
from ..core.binding import Relation
from .helpers import ID_PATTERN, _box


class VehicleSubentryFlow(ConfigSubentryFlow):
    """Register or change a vehicle."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Register a vehicle."""
        return await self._async_vehicle_form("user", user_input, {})

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a vehicle."""
        subentry = self._get_reconfigure_subentry()
        return await self._async_vehicle_form("reconfigure", user_input, dict(subentry.data))

    async def _async_vehicle_form(
        self, step_id: str, user_input: dict[str, Any] | None, current: dict[str, Any]
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_PEV_ID] = user_input[CONF_PEV_ID].strip()
            own = self._get_reconfigure_subentry().subentry_id if step_id == "reconfigure" else None
            taken = {
                s.data.get(CONF_PEV_ID)
                for s in self._get_entry().subentries.values()
                if s.subentry_type == SUBENTRY_VEHICLE and s.subentry_id != own
            }
            if not ID_PATTERN.match(user_input[CONF_PEV_ID]):
                errors[CONF_PEV_ID] = "invalid_id"
            elif user_input[CONF_PEV_ID] in taken:
                errors[CONF_PEV_ID] = "already_registered"
            if not user_input[CONF_NAME].strip():
                errors[CONF_NAME] = "empty_name"
            target = user_input.get(CONF_DEFAULT_TARGET)
            if target is not None and not 1 <= target <= 100:
                errors[CONF_DEFAULT_TARGET] = "invalid_target"
            if not errors:
                tags = [t.strip() for t in user_input.get(CONF_TAGS, "").split(",") if t.strip()]
                data = {**user_input, CONF_TAGS: tags}
                if step_id == "reconfigure":
                    return self.async_update_and_abort(
                        self._get_entry(),
                        self._get_reconfigure_subentry(),
                        unique_id=data[CONF_PEV_ID],  # else the old ID stays taken
                        title=data[CONF_NAME],
                        data=data,
                    )
                return self.async_create_entry(
                    title=data[CONF_NAME], data=data, unique_id=data[CONF_PEV_ID]
                )
        defaults = user_input or {**current, CONF_TAGS: ", ".join(current.get(CONF_TAGS, []))}
        schema = vol.Schema(
            {
                vol.Required(CONF_PEV_ID, default=defaults.get(CONF_PEV_ID, vol.UNDEFINED)): str,
                vol.Required(CONF_NAME, default=defaults.get(CONF_NAME, vol.UNDEFINED)): str,
                vol.Required(
                    CONF_RELATION, default=defaults.get(CONF_RELATION, Relation.HOME.value)
                ): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[r.value for r in Relation], translation_key=CONF_RELATION
                    )
                ),
                vol.Optional(
                    CONF_CAPACITY, description={"suggested_value": defaults.get(CONF_CAPACITY)}
                ): _box("kWh", 1, 300, "any"),
                vol.Optional(
                    CONF_SOC_ENTITY, description={"suggested_value": defaults.get(CONF_SOC_ENTITY)}
                ): selector.EntitySelector(
                    selector.EntitySelectorConfig(domain="sensor", device_class="battery")
                ),
                vol.Optional(
                    CONF_DEFAULT_TARGET,
                    description={"suggested_value": defaults.get(CONF_DEFAULT_TARGET)},
                ): _box("%", 1, 100, 1),
                vol.Optional(CONF_TAGS, default=defaults.get(CONF_TAGS, "")): str,
                vol.Optional(
                    CONF_DEFAULT_VEHICLE, default=defaults.get(CONF_DEFAULT_VEHICLE, False)
                ): bool,
            }
        )
        return self.async_show_form(step_id=step_id, data_schema=schema, errors=errors)
