"""The vehicle subentry flow (add and reconfigure).

Without a utility program the vehicle's ID is made from its name (the utility gives one in a
program, so it is asked there); NFC tags are picked from Home Assistant's tags (or typed), and a
tag scanned while the form is open (Home Assistant's ``tag_scanned`` event: the app, an ESPHome
reader) is added to the vehicle on submit; the default target is in % only with a battery capacity (the planner reads it as a state of charge
then), else in kWh to add; the two are refused together (one target is stored). A second
step for the % was not chosen: it would add a form to every vehicle with a capacity.
"""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.components.tag import TAG_DATA
from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import selector

from ..const import (
    CONF_CAPACITY,
    CONF_DEFAULT_TARGET,
    CONF_DEFAULT_TARGET_KWH,
    CONF_DEFAULT_VEHICLE,
    CONF_IN_PROGRAM,
    CONF_NAME,
    CONF_PEV_ID,
    CONF_RELATION,
    CONF_SOC_ENTITY,
    CONF_SOH_ENTITY,
    CONF_TAGS,
    CONF_UTILITY,
    SUBENTRY_VEHICLE,
)
from ..core.binding import Relation
from .helpers import ID_PATTERN, Range, _box, entity_picker, generated_id, range_errors

VEHICLE_RANGES = {
    CONF_CAPACITY: Range(1, 300, "invalid_capacity"),
    CONF_DEFAULT_TARGET: Range(1, 100, "invalid_target"),
    CONF_DEFAULT_TARGET_KWH: Range(1, 300, "invalid_target_kwh"),
}
TAG_DOMAIN = "tag"
# Home Assistant's tag integration fires it for every scan (homeassistant/components/tag
# ``async_scan_tag``: the app's ``scan_tag`` webhook, ESPHome and other readers).
EVENT_TAG_SCANNED = "tag_scanned"


def known_tags(hass: HomeAssistant) -> dict[str, str]:
    """Home Assistant's tags (the ``tag`` integration's storage collection): ID -> name.

    Core keeps a tag's name on its ``tag`` entity (the collection's websocket reads it there,
    homeassistant/components/tag/__init__.py ``TagDictStorageCollectionWebsocket``); a tag
    without one is shown by its ID.
    """
    collection = hass.data.get(TAG_DATA)
    ids = [str(item["id"]) for item in collection.async_items()] if collection else []
    registry = er.async_get(hass)
    names: dict[str, str] = {}
    for tag_id in ids:
        entity_id = registry.async_get_entity_id(TAG_DOMAIN, TAG_DOMAIN, tag_id)
        entry = registry.async_get(entity_id) if entity_id else None
        names[tag_id] = (entry.name or entry.original_name if entry else None) or tag_id
    return names


def _tag_list(value: Any) -> list[str]:
    """Tags as stored: a list of IDs (a comma-separated text is split, as older forms sent)."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return [str(t).strip() for t in items if str(t).strip()]


def in_program(entry_data: Any) -> bool:
    """Whether the premise is in a utility program (entries from before the choice count so)."""
    return bool(entry_data.get(CONF_IN_PROGRAM, True) or entry_data.get(CONF_UTILITY))


class VehicleSubentryFlow(ConfigSubentryFlow):
    """Register or change a vehicle."""

    def __init__(self) -> None:
        self._scanned: list[str] = []
        self._unlisten: CALLBACK_TYPE | None = None

    def _listen_for_scans(self) -> None:
        """From the form's first showing on, a tag scanned is remembered for this vehicle."""
        if self._unlisten is None:
            self._unlisten = self.hass.bus.async_listen(EVENT_TAG_SCANNED, self._tag_scanned)

    @callback
    def _tag_scanned(self, event: Event) -> None:
        tag_id = str(event.data.get("tag_id") or "").strip()
        if tag_id and tag_id not in self._scanned:
            self._scanned.append(tag_id)

    @callback
    def async_remove(self) -> None:
        """The flow ended (created, aborted or closed): stop listening for scans."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Register a vehicle."""
        return await self._async_vehicle_form("user", user_input, {})

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a vehicle."""
        subentry = self._get_reconfigure_subentry()
        return await self._async_vehicle_form("reconfigure", user_input, dict(subentry.data))

    def _taken_ids(self, own: str | None) -> set[str]:
        return {
            str(s.data[CONF_PEV_ID])
            for s in self._get_entry().subentries.values()
            if s.subentry_type == SUBENTRY_VEHICLE
            and s.subentry_id != own
            and s.data.get(CONF_PEV_ID)
        }

    def _validate(
        self, user_input: dict[str, Any], asks_id: bool, taken: set[str]
    ) -> dict[str, str]:
        errors = range_errors(user_input, VEHICLE_RANGES)
        if asks_id:
            if not ID_PATTERN.match(user_input[CONF_PEV_ID]):
                errors[CONF_PEV_ID] = "invalid_id"
            elif user_input[CONF_PEV_ID] in taken:
                errors[CONF_PEV_ID] = "already_registered"
        if not user_input[CONF_NAME].strip():
            errors[CONF_NAME] = "empty_name"
        if user_input.get(CONF_DEFAULT_TARGET) is not None:
            if not user_input.get(CONF_CAPACITY):
                errors.setdefault(CONF_DEFAULT_TARGET, "target_percent_needs_capacity")
            elif user_input.get(CONF_DEFAULT_TARGET_KWH) is not None:
                # Both would be one stored target: refuse rather than drop one unsaid.
                errors.setdefault(CONF_DEFAULT_TARGET_KWH, "target_one_of_two")
        return errors

    async def _async_vehicle_form(
        self, step_id: str, user_input: dict[str, Any] | None, current: dict[str, Any]
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        asks_id = in_program(self._get_entry().data)
        own = self._get_reconfigure_subentry().subentry_id if step_id == "reconfigure" else None
        taken = self._taken_ids(own)
        if user_input is not None:
            if asks_id:
                user_input[CONF_PEV_ID] = user_input[CONF_PEV_ID].strip()
            errors = self._validate(user_input, asks_id, taken)
            if not errors:
                data = self._vehicle_data(user_input, current, asks_id, taken)
                data[CONF_TAGS] += [t for t in self._scanned if t not in data[CONF_TAGS]]
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
        defaults = user_input or _form_values(current)
        self._listen_for_scans()
        return self.async_show_form(
            step_id=step_id,
            data_schema=self._schema(defaults, asks_id),
            errors=errors,
        )

    @staticmethod
    def _vehicle_data(
        user_input: dict[str, Any], current: dict[str, Any], asks_id: bool, taken: set[str]
    ) -> dict[str, Any]:
        data = {k: v for k, v in user_input.items() if k != CONF_DEFAULT_TARGET_KWH}
        data[CONF_TAGS] = _tag_list(user_input.get(CONF_TAGS))
        if not asks_id:
            # Generated once from the name; a renamed vehicle keeps its ID (its sessions have it).
            data[CONF_PEV_ID] = current.get(CONF_PEV_ID) or generated_id(
                user_input[CONF_NAME], taken, suffix=False
            )
        capacity = user_input.get(CONF_CAPACITY)
        kwh = user_input.get(CONF_DEFAULT_TARGET_KWH)
        data.pop(CONF_DEFAULT_TARGET, None)
        if user_input.get(CONF_DEFAULT_TARGET) is not None:
            data[CONF_DEFAULT_TARGET] = user_input[CONF_DEFAULT_TARGET]  # % (with a capacity)
        elif kwh is not None:
            # With a capacity the planner reads the target as %; without, as kWh to add.
            data[CONF_DEFAULT_TARGET] = (
                min(100.0, round(kwh / capacity * 100, 1)) if capacity else kwh
            )
        return data

    def _schema(self, defaults: dict[str, Any], asks_id: bool) -> vol.Schema:
        tags = known_tags(self.hass)
        chosen = _tag_list(defaults.get(CONF_TAGS))
        options = [selector.SelectOptionDict(value=k, label=v) for k, v in tags.items()]
        options += [selector.SelectOptionDict(value=t, label=t) for t in chosen if t not in tags]
        fields: dict[vol.Marker, Any] = {}
        if asks_id:
            fields[vol.Required(CONF_PEV_ID, default=defaults.get(CONF_PEV_ID, vol.UNDEFINED))] = (
                str
            )
        fields.update(
            {
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
                ): _box("kWh", "any"),
                vol.Optional(
                    CONF_SOC_ENTITY, description={"suggested_value": defaults.get(CONF_SOC_ENTITY)}
                ): entity_picker(self.hass, "sensor", "battery"),
                # The battery's state of health (%), where the car's integration has one.
                vol.Optional(
                    CONF_SOH_ENTITY, description={"suggested_value": defaults.get(CONF_SOH_ENTITY)}
                ): entity_picker(self.hass, "sensor"),
                vol.Optional(
                    CONF_DEFAULT_TARGET,
                    description={"suggested_value": defaults.get(CONF_DEFAULT_TARGET)},
                ): _box("%", 1),
                vol.Optional(
                    CONF_DEFAULT_TARGET_KWH,
                    description={"suggested_value": defaults.get(CONF_DEFAULT_TARGET_KWH)},
                ): _box("kWh", "any"),
                vol.Optional(CONF_TAGS, default=chosen): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=options,
                        multiple=True,
                        custom_value=True,
                        mode=selector.SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Optional(
                    CONF_DEFAULT_VEHICLE, default=defaults.get(CONF_DEFAULT_VEHICLE, False)
                ): bool,
            }
        )
        return vol.Schema(fields)


def _form_values(current: dict[str, Any]) -> dict[str, Any]:
    """A stored vehicle as its form shows it: the target in % with a capacity, else in kWh."""
    values = dict(current)
    target = values.pop(CONF_DEFAULT_TARGET, None)
    if target is not None:
        values[CONF_DEFAULT_TARGET if current.get(CONF_CAPACITY) else CONF_DEFAULT_TARGET_KWH] = (
            target
        )
    return values
