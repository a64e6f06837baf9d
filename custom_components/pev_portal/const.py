"""Constants of the PEV Portal integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "pev_portal"

# Config entry (the premise)
CONF_PREMISE_NAME: Final = "premise_name"
CONF_PREMISE_ID: Final = "premise_id"
CONF_INTERVAL_MINUTES: Final = "interval_minutes"
CONF_VALIDATION_WINDOW: Final = "validation_window"
CONF_TARIFF: Final = "tariff"
CONF_DEFAULT_PRICE: Final = "default_price"

# Charger subentry
SUBENTRY_CHARGER: Final = "charger"
CONF_CHARGER_NAME: Final = "charger_name"
CONF_CHARGER_TYPE: Final = "charger_type"
CHARGER_TYPE_DEMO: Final = "demo"
CHARGER_TYPE_ENTITIES: Final = "entities"
CONF_PRESET: Final = "preset"
CONF_DEVICE: Final = "device"
CONF_STATUS_ENTITY: Final = "status_entity"
CONF_SWITCH_ENTITY: Final = "switch_entity"
CONF_START_BUTTON: Final = "start_button"
CONF_STOP_BUTTON: Final = "stop_button"
CONF_CURRENT_ENTITY: Final = "current_entity"
CONF_POWER_ENTITY: Final = "power_entity"
CONF_ENERGY_ENTITY: Final = "energy_entity"
CONF_VEHICLE_ID_ENTITY: Final = "vehicle_id_entity"
CONF_METER_SOURCE: Final = "meter_source"
CONF_METER_ENTITY: Final = "meter_entity"
METER_SOURCE_DEMO: Final = "demo"
METER_SOURCE_SENSOR: Final = "sensor"
METER_SOURCE_CHARGER: Final = "charger"

# Vehicle subentry
SUBENTRY_VEHICLE: Final = "vehicle"
CONF_PEV_ID: Final = "pev_id"
CONF_NAME: Final = "name"
CONF_RELATION: Final = "relation"
CONF_CAPACITY: Final = "capacity_kwh"
CONF_SOC_ENTITY: Final = "soc_entity"
CONF_DEFAULT_TARGET: Final = "default_target"
CONF_TAGS: Final = "tags"
CONF_DEFAULT_VEHICLE: Final = "default_vehicle"

DEFAULT_INTERVAL_MINUTES: Final = 15
DEFAULT_VALIDATION_WINDOW: Final = 60
DEFAULT_PRICE: Final = 0.30

# How long a scanned NFC tag identifies the next plug-in.
TAG_MEMORY_SECONDS: Final = 300
# The running sum is made durable at least this often (section 6 issue 5: at least every minute).
CHECKPOINT_SECONDS: Final = 30
TICK_SECONDS: Final = 5

EVENT_SESSION_STARTED: Final = f"{DOMAIN}_session_started"
EVENT_SESSION_BOUND: Final = f"{DOMAIN}_session_bound"
EVENT_SESSION_ENDED: Final = f"{DOMAIN}_session_ended"

SELECT_AUTO: Final = "auto"
STORE_FILENAME: Final = "pev_portal.db"
