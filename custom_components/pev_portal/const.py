"""Constants of the PEV Portal integration."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Final

DOMAIN: Final = "pev_portal"

# Config entry (the premise)
CONF_PREMISE_NAME: Final = "premise_name"
CONF_PREMISE_ID: Final = "premise_id"
CONF_INTERVAL_MINUTES: Final = "interval_minutes"
CONF_VALIDATION_WINDOW: Final = "validation_window"
CONF_TARIFF: Final = "tariff"
CONF_DEFAULT_PRICE: Final = "default_price"
# Amps per phase shared by all the premise's chargers (optional; see charging.SmartCharging)
CONF_CIRCUIT_LIMIT: Final = "circuit_limit_a"

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
# A mapped charger's electrical connection (the "electrical" section of its entities step)
SECTION_ELECTRICAL: Final = "electrical"
CONF_PHASES: Final = "phases"
CONF_VOLTAGE: Final = "voltage"
CONF_MAX_CURRENT: Final = "max_current_a"
CONF_MIN_CURRENT: Final = "min_current_a"
DEFAULT_MIN_CURRENT_A: Final = 6.0  # IEC 61851
DEFAULT_MAX_CURRENT_A: Final = 32.0
CONF_POWER_ENTITY: Final = "power_entity"
CONF_ENERGY_ENTITY: Final = "energy_entity"
CONF_VEHICLE_ID_ENTITY: Final = "vehicle_id_entity"
# The charger's own transaction registers (optional; OCPP: meterStart, meterStop - meterStart,
# the transaction's ID as its start's epoch second, 0 when none runs). See docs/chargers.md.
CONF_METER_START_ENTITY: Final = "meter_start_entity"
CONF_SESSION_ENERGY_ENTITY: Final = "session_energy_entity"
CONF_TRANSACTION_ENTITY: Final = "transaction_entity"
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
# A charger's vehicle ID counts only when it was set or changed at most this long before the
# plug-in (or the charger's transaction start), or during the session: an older one is stale.
VEHICLE_ID_WINDOW_SECONDS: Final = 120
# The session's meter energy and the charger's transaction energy may differ by this much at
# unplug (1 Wh plus 0.5 %) before the difference is flagged.
EDGE_TOLERANCE_KWH: Final = 0.001
EDGE_TOLERANCE_RATIO: Final = 0.005
# The running sum is made durable at least this often (section 6 issue 5: at least every minute).
CHECKPOINT_SECONDS: Final = 30
TICK_SECONDS: Final = 5

EVENT_SESSION_STARTED: Final = f"{DOMAIN}_session_started"
EVENT_SESSION_BOUND: Final = f"{DOMAIN}_session_bound"
EVENT_SESSION_ENDED: Final = f"{DOMAIN}_session_ended"
EVENT_SESSION_REIDENTIFIED: Final = f"{DOMAIN}_session_reidentified"

SELECT_AUTO: Final = "auto"
STORE_FILENAME: Final = "pev_portal.db"

# Utility link (OpenADR 3.1 VTN), kept in the entry's data under CONF_UTILITY
CONF_UTILITY: Final = "utility"
CONF_VTN_URL: Final = "vtn_url"
CONF_AUTH_TYPE: Final = "auth_type"
AUTH_CLIENT_CREDENTIALS: Final = "client_credentials"
AUTH_TOKEN: Final = "token"
AUTH_NONE: Final = "none"
CONF_CLIENT_ID: Final = "client_id"
CONF_CLIENT_SECRET: Final = "client_secret"
CONF_TOKEN: Final = "token"
CONF_VEN_NAME: Final = "ven_name"
CONF_PROGRAMS: Final = "programs"
CONF_UTILITY_ID: Final = "utility_id"
CONF_CA_BUNDLE: Final = "ca_bundle"
CONF_ALLOW_HTTP: Final = "allow_http"
CONF_CALLBACK_URL: Final = "callback_url"
CONF_POLL_MINUTES: Final = "poll_minutes"
CONF_REPORT_MINUTES: Final = "report_minutes"
DEFAULT_POLL_MINUTES: Final = 5
DEFAULT_REPORT_MINUTES: Final = 15
LINK_DOWN_REPAIR_AFTER: Final = timedelta(hours=1)
# The link's protocol (CONF_UTILITY): OpenADR 3.1 (the default) or 2.0b, and 2.0b's settings:
# the VTN's certificate fingerprint, the VEN's certificate and key files (the 2.0b security
# profile; none: plain, for lab VTNs), the programs (market contexts) whose events are
# mandatory, and the answer to the others (optIn / optOut).
CONF_PROTOCOL: Final = "protocol"
PROTOCOL_OADR3: Final = "oadr3"
PROTOCOL_OADR2: Final = "oadr2"
CONF_VTN_FINGERPRINT: Final = "vtn_fingerprint"
CONF_VEN_CERT: Final = "ven_cert"
CONF_VEN_KEY: Final = "ven_key"
CONF_MANDATORY_PROGRAMS: Final = "mandatory_programs"
CONF_DEFAULT_OPT: Final = "default_opt"
CONF_DEFAULT_BINDING: Final = "default_binding"
"""2.0b: a vehicle no event names is ``enrolled`` (the default) or ``not_enrolled``."""

# Zigbee Smart Energy meter through ZHA (charger subentry, meter_source "zha")
METER_SOURCE_ZHA: Final = "zha"
CONF_ZHA_DEVICE: Final = "zha_device"
CONF_ZHA_IEEE: Final = "zha_ieee"
CONF_METER_MULTIPLIER: Final = "meter_multiplier"
CONF_METER_DIVISOR: Final = "meter_divisor"
CONF_ZIGBEE_ESI: Final = "zigbee_esi"

# Smart charging (charging.py)
DEFAULT_DEPARTURE: Final = time(7, 0)
DEFAULT_ENERGY_KWH: Final = 60.0
PLAN_HORIZON_HOURS: Final = 48
# The start of a planned charge at a price or event boundary is spread by a random delay of up
# to this many minutes (an event's randomizeStart wins), so homes do not all start at once.
CONF_START_DELAY: Final = "start_delay_minutes"
DEFAULT_START_DELAY_MINUTES: Final = 10
# A vehicle that draws less than planned is planned at what it draws for this long, then the
# charger's full power is tried again.
LEARNED_LIMIT_MINUTES: Final = 15
# The solar mode's forecast: a config entry whose energy platform forecasts solar production
# (as the Energy dashboard uses), minus the home's base load.
CONF_SOLAR_FORECAST: Final = "solar_forecast_entry"
CONF_SOLAR_BASE_LOAD: Final = "solar_base_load_kw"
DEFAULT_SOLAR_BASE_LOAD_KW: Final = 0.5
VERIFY_SECONDS: Final = 10
# Without a power reading from the charger, a command is verified on the meter's register: its
# slope over the readings from METER_SETTLE_SECONDS after the command; a register that has not
# moved by METER_VERIFY_SECONDS (or three of the meter's usual reading intervals, at most
# METER_QUIET_MAX_SECONDS) is idle (0 kW). A command nothing can measure within
# METER_UNVERIFIED_SECONDS is left unverified. See charging.SmartCharging._verify.
METER_SETTLE_SECONDS: Final = 5
METER_MIN_SPAN_SECONDS: Final = 20
METER_VERIFY_SECONDS: Final = 90
METER_QUIET_MAX_SECONDS: Final = 900
METER_UNVERIFIED_SECONDS: Final = 1800
CIRCUIT_LIMIT_MIN_A: Final = 6  # below this no charger can charge (IEC 61851)
CIRCUIT_LIMIT_MAX_A: Final = 1000
VERIFY_TOLERANCE_KW: Final = 0.3
ISSUE_IGNORES_COMMANDS: Final = "charger_ignores_commands"
ISSUE_COMMAND_FAILING: Final = "charger_command_failing"
CHARGE_MODES: Final = ["immediate", "cheapest", "solar", "off"]
# The name of the 0 kW cap that holds a start back by the random start delay
RANDOM_START_CAP: Final = "random start delay"

# Notifications (notifications.py), in the entry's options
CONF_NOTIFY_TARGET: Final = "notify_target"
CONF_NOTIFY_KINDS: Final = "notify_kinds"
NOTIFY_PLUGGED_NOT_BOUND: Final = "plugged_not_bound"
NOTIFY_TARGET_UNREACHABLE: Final = "target_unreachable"
NOTIFY_EVENT_STARTING: Final = "event_starting"
NOTIFY_CHARGER_IGNORING: Final = "charger_ignoring"
NOTIFY_KINDS: Final = [
    NOTIFY_PLUGGED_NOT_BOUND,
    NOTIFY_TARGET_UNREACHABLE,
    NOTIFY_EVENT_STARTING,
    NOTIFY_CHARGER_IGNORING,
]

# Set-up for homeowners (config_flow/): no utility program means no premise or vehicle IDs to
# type (generated), and the tariff from a form (flat, TOU builder, another integration's price
# entity) or YAML.
CONF_IN_PROGRAM: Final = "in_program"
CONF_TARIFF_KIND: Final = "tariff_kind"
TARIFF_KIND_KEEP: Final = "keep"  # options: leave the tariff as it is
TARIFF_KIND_FLAT: Final = "flat"
TARIFF_KIND_TOU: Final = "tou"
TARIFF_KIND_ENTITY: Final = "price_entity"
TARIFF_KIND_YAML: Final = "yaml"
TARIFF_KINDS: Final = [TARIFF_KIND_FLAT, TARIFF_KIND_TOU, TARIFF_KIND_ENTITY, TARIFF_KIND_YAML]
CONF_PRICE: Final = "price"
CONF_TARIFF_YAML: Final = "tariff_yaml"
CONF_OFF_PEAK_PRICE: Final = "off_peak_price"
CONF_PEAK_PRICE: Final = "peak_price"
CONF_PEAK_START: Final = "peak_start"
CONF_PEAK_END: Final = "peak_end"
CONF_PEAK_DAYS: Final = "peak_days"
SECTION_SEASON: Final = "season"
CONF_SEASON_START: Final = "season_start"
CONF_SEASON_END: Final = "season_end"
CONF_SEASON_PEAK_PRICE: Final = "season_peak_price"
# A price entity of another integration (Nord Pool, Tibber, ENTSO-e, Amber, Octopus...), in the
# entry's options; its forecast is read from its attributes (or from the forecast entity's),
# see core/price_source.py. The tariff (CONF_TARIFF) then holds the flat fallback price.
CONF_PRICE_ENTITY: Final = "price_entity"
CONF_PRICE_FORECAST_ENTITY: Final = "price_forecast_entity"
# The utility step's collapsed section (VEN name, utility ID, CA bundle, HTTP, callback, timing)
SECTION_ADVANCED: Final = "advanced"
# Vehicle form: the default target as energy to add when no battery capacity is known
CONF_DEFAULT_TARGET_KWH: Final = "default_target_kwh"

# Power feed (V2H/V2G, issue #18; docs/power-feed.md).
# Charger form: a number entity that sets the discharge power (W or kW, entity-mapped
# chargers) and the charger's discharged-energy register (its received register, kWh).
CONF_DISCHARGE_ENTITY: Final = "discharge_entity"
CONF_DISCHARGED_ENERGY_ENTITY: Final = "discharged_energy_entity"
# Premise options: the tariff's export (feed-in) rate per kWh, the premise's export limit
# (kW; 0: no export, V2H only), a price integration's feed-in price sensor, and the home's
# consumption power sensor (what V2H may cover).
CONF_EXPORT_RATE: Final = "export_rate"
CONF_EXPORT_LIMIT: Final = "export_limit_kw"
CONF_FEED_IN_ENTITY: Final = "feed_in_price_entity"
CONF_HOME_LOAD_ENTITY: Final = "home_load_entity"
# Per vehicle defaults (the user's "power feed" settings, charging/settings.py)
DEFAULT_SOC_FLOOR: Final = 40.0  # % never fed below
DEFAULT_CYCLES_PER_DAY: Final = 1.0  # equivalent full cycles fed per day at most
# Vehicle form: the car integration's battery state-of-health sensor (%), shown beside the
# battery's use (optional).
CONF_SOH_ENTITY: Final = "soh_entity"
# Power feed, the charger part (issue #18): an ignored discharge command's repairs text (the
# same issue as an ignored command), and the demo charger's bidirectional mode (off by default).
ISSUE_IGNORES_DISCHARGE: Final = "charger_ignores_discharge"
CONF_DEMO_BIDIRECTIONAL: Final = "demo_bidirectional"
