"""Zigbee Smart Energy through ZHA: the one place that reaches into ZHA and zigpy.

Everything that touches ZHA's gateway or zigpy objects goes through the functions here. ZHA may
be absent (not installed: ImportError), not loaded yet (``get_zha_gateway`` raises ValueError),
or changed in a later release (KeyError, AttributeError, TypeError); every function turns that
into :class:`ZhaUnavailable`, and the callers fall back to ZHA's summation sensor entity.

zigpy and ZHA are imported lazily, inside the functions: importing this package never needs them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

if TYPE_CHECKING:
    from ..ports import Premise
    from ..program_events import ProgramEvents

_LOGGER = logging.getLogger(__name__)

ZHA_DOMAIN: Final = "zha"
METERING_CLUSTER: Final = 0x0702
ESI_DATA: Final = "pev_portal_zigbee_esi"  # hass.data: entry_id -> running ESI
MAX_FACTOR: Final = 0xFFFFFF  # Multiplier and Divisor are 24-bit
# What a missing, unloaded or changed ZHA raises.
ZHA_ERRORS: Final = (ImportError, ValueError, KeyError, AttributeError, TypeError)


class ZhaUnavailable(Exception):
    """ZHA or the device cannot be reached through ZHA's gateway now."""


@dataclass(frozen=True, slots=True)
class ZhaMeterDevice:
    """A ZHA device with a Metering cluster, as offered in the config flow."""

    device_id: str
    ieee: str
    name: str


def zigpy_application(hass: HomeAssistant) -> Any:
    """The zigpy ControllerApplication of ZHA's gateway (ZhaUnavailable if there is none).

    Nothing is imported unless ZHA is loaded: importing ZHA and zigpy would block the event loop.
    """
    if ZHA_DOMAIN not in hass.config.components:
        raise ZhaUnavailable("ZHA is not loaded")
    try:
        from homeassistant.components.zha.helpers import get_zha_gateway

        return get_zha_gateway(hass).application_controller
    except ZHA_ERRORS as err:
        raise ZhaUnavailable(f"ZHA is not available: {err!r}") from err


def metering_cluster(hass: HomeAssistant, ieee: str) -> Any:
    """The zigpy Metering server cluster of the device with this IEEE address."""
    app = zigpy_application(hass)
    try:
        from zigpy.types import EUI64

        device = app.get_device(ieee=EUI64.convert(ieee))
        for endpoint_id, endpoint in device.endpoints.items():
            if endpoint_id == 0:
                continue  # ZDO
            if METERING_CLUSTER in endpoint.in_clusters:
                return endpoint.in_clusters[METERING_CLUSTER]
    except ZHA_ERRORS as err:
        raise ZhaUnavailable(f"device {ieee} is not reachable through ZHA: {err!r}") from err
    raise ZhaUnavailable(f"device {ieee} has no Metering cluster")


def ieee_of_device(hass: HomeAssistant, device_id: str) -> str | None:
    """The IEEE address of a ZHA device in Home Assistant's device registry."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return None
    for domain, identifier in device.identifiers:
        if domain == ZHA_DOMAIN:
            return str(identifier).lower()
    for kind, value in getattr(device, "connections", ()):
        if kind == dr.CONNECTION_ZIGBEE:
            return str(value).lower()
    return None


def metering_devices(hass: HomeAssistant) -> list[ZhaMeterDevice]:
    """The ZHA devices with a Metering cluster ([] when ZHA is not available)."""
    try:
        app = zigpy_application(hass)
        coordinator_ieee = str(app.state.node_info.ieee)
        candidates = [
            str(ieee)
            for ieee, device in list(app.devices.items())
            if str(ieee) != coordinator_ieee
            and any(
                METERING_CLUSTER in endpoint.in_clusters
                for endpoint_id, endpoint in device.endpoints.items()
                if endpoint_id != 0
            )
        ]
    except (ZhaUnavailable, *ZHA_ERRORS) as err:
        _LOGGER.debug("No ZHA metering devices: %r", err)
        return []
    registry = dr.async_get(hass)
    zha_entries = [entry.entry_id for entry in hass.config_entries.async_entries(ZHA_DOMAIN)]
    found = []
    for ieee in candidates:
        # ZHA registers each device with the identifier ("zha", ieee) under its config entry.
        device = next(
            (
                entry
                for entry_id in zha_entries
                if (entry := registry.async_get_device_by_identifier((ZHA_DOMAIN, ieee), entry_id))
                is not None
            ),
            None,
        )
        if device is not None:
            found.append(
                ZhaMeterDevice(device.id, ieee, device.name_by_user or device.name or ieee)
            )
    return found


def summation_entity(hass: HomeAssistant, device_id: str) -> str | None:
    """ZHA's summation-delivered energy sensor of a device, the fallback when ZHA is changed."""
    candidates = [
        entry
        for entry in er.async_entries_for_device(er.async_get(hass), device_id)
        if entry.platform == ZHA_DOMAIN
        and entry.domain == "sensor"
        and (entry.original_device_class or entry.device_class) == "energy"
    ]
    candidates.sort(key=lambda e: ("summation_delivered" not in e.unique_id, e.entity_id))
    return candidates[0].entity_id if candidates else None


def meter_form_fields(defaults: dict[str, Any]) -> dict[Any, Any]:
    """The meter step's fields for a ZHA meter: the device, scaling overrides, the ESI."""
    import probatio as vol
    from homeassistant.helpers import selector

    from ..const import CONF_METER_DIVISOR, CONF_METER_MULTIPLIER, CONF_ZHA_DEVICE, CONF_ZIGBEE_ESI

    def suggested(key: str) -> dict[str, Any]:
        return {"suggested_value": defaults.get(key)}

    factor = selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=1, max=MAX_FACTOR, step=1, mode=selector.NumberSelectorMode.BOX
        )
    )
    return {
        vol.Optional(CONF_ZHA_DEVICE, description=suggested(CONF_ZHA_DEVICE)): (
            selector.DeviceSelector(
                selector.DeviceSelectorConfig(
                    filter=selector.DeviceFilterSelectorConfig(integration=ZHA_DOMAIN)
                )
            )
        ),
        vol.Optional(CONF_METER_MULTIPLIER, description=suggested(CONF_METER_MULTIPLIER)): factor,
        vol.Optional(CONF_METER_DIVISOR, description=suggested(CONF_METER_DIVISOR)): factor,
        vol.Optional(CONF_ZIGBEE_ESI, default=bool(defaults.get(CONF_ZIGBEE_ESI))): bool,
    }


def validate_meter_form(
    hass: HomeAssistant, user_input: dict[str, Any]
) -> tuple[dict[str, str], dict[str, Any]]:
    """Errors for the meter step with meter_source "zha", else the charger data to keep."""
    from ..const import (
        CONF_METER_DIVISOR,
        CONF_METER_MULTIPLIER,
        CONF_ZHA_DEVICE,
        CONF_ZHA_IEEE,
        CONF_ZIGBEE_ESI,
    )

    meters = {meter.device_id: meter for meter in metering_devices(hass)}
    device_id = user_input.get(CONF_ZHA_DEVICE)
    if not meters:
        return {"base": "zha_unavailable"}, {}
    if not device_id:
        return {CONF_ZHA_DEVICE: "zha_device_required"}, {}
    if device_id not in meters:
        return {CONF_ZHA_DEVICE: "not_zha_meter"}, {}
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        CONF_ZHA_DEVICE: device_id,
        CONF_ZHA_IEEE: meters[device_id].ieee,
        CONF_ZIGBEE_ESI: bool(user_input.get(CONF_ZIGBEE_ESI)),
    }
    for key in (CONF_METER_MULTIPLIER, CONF_METER_DIVISOR):
        value = user_input.get(key)
        if value in (None, ""):
            continue
        if (
            not isinstance(value, int | float)
            or value != int(value)
            or not 1 <= value <= MAX_FACTOR
        ):
            errors[key] = "invalid_scaling"
        else:
            data[key] = int(value)
    return errors, data


ZHA_METER_KEYS: Final = (
    "zha_device",
    "zha_ieee",
    "meter_multiplier",
    "meter_divisor",
    "zigbee_esi",
)


def async_setup_esi(
    premise: Premise,
    events: ProgramEvents,
    listen: Callable[[Callable[[], None]], Callable[[], None]],
) -> Callable[[], None] | None:
    """Start the experimental Energy Services Interface if a charger enables it."""
    from ..const import CONF_ZIGBEE_ESI, SUBENTRY_CHARGER

    if not any(
        s.subentry_type == SUBENTRY_CHARGER and s.data.get(CONF_ZIGBEE_ESI)
        for s in premise.entry.subentries.values()
    ):
        return None
    if ZHA_DOMAIN not in premise.hass.config.components:
        _LOGGER.warning("Zigbee ESI is off: ZHA is not loaded")
        return None
    try:
        from .esi import EnergyServicesInterface
    except ImportError as err:
        _LOGGER.warning("Zigbee ESI is off: zigpy is not installed (%s)", err)
        return None

    esi = EnergyServicesInterface(premise.hass, premise, events, listen)
    running: dict[str, Any] = premise.hass.data.setdefault(ESI_DATA, {})
    running[premise.entry_id] = esi
    esi.async_start()

    def _stop() -> None:
        esi.async_stop()
        running.pop(premise.entry_id, None)

    return _stop
