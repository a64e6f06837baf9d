"""Names, units and identifiers as lbbrhzn/ocpp 0.8.0 uses them.

Read from lbbrhzn/ocpp at commit a37fed39d852d393312d107cf915fea546df5088 (manifest version
0.8.0), ``custom_components/ocpp/const.py`` and ``enums.py``. Our own code; nothing is copied.
"""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "ocpp"
DATA_UPDATED: Final = "ocpp_data_updated"

# Config entry data (const.py: CONF_*): the central system's settings and, under "cpids", a
# list of {charge point ID: charger settings}.
CONF_CPIDS: Final = "cpids"
CONF_CPID: Final = "cpid"
CONF_CSID: Final = "csid"
CONF_HOST: Final = "host"
CONF_PORT: Final = "port"
CONF_MAX_CURRENT: Final = "max_current"
CONF_METER_INTERVAL: Final = "meter_interval"
CONF_MONITORED_VARIABLES: Final = "monitored_variables"
CONF_NUM_CONNECTORS: Final = "num_connectors"

DEFAULT_MAX_CURRENT: Final = 32  # const.py
DEFAULT_METER_INTERVAL: Final = 60  # const.py: the MeterValueSampleInterval it configures
DEFAULT_IDLE_INTERVAL: Final = 900  # const.py: ClockAlignedDataInterval

# enums.py: HAChargerStatuses / HAChargerDetails / HAChargerSession (metric names).
STATUS: Final = "Status"
STATUS_CONNECTOR: Final = "Status.Connector"
ERROR_CODE: Final = "Error.Code"
ERROR_CODE_CONNECTOR: Final = "Error.Code.Connector"
HEARTBEAT: Final = "Heartbeat"
STOP_REASON: Final = "Stop.Reason"
ID_TAG: Final = "Id.Tag"
IDENTIFIER: Final = "ID"
CONNECTORS: Final = "Connectors"
FEATURES: Final = "Features"
TRANSACTION_ID: Final = "Transaction.Id"
SESSION_TIME: Final = "Time.Session"
SESSION_ENERGY: Final = "Energy.Session"
METER_START: Final = "Energy.Meter.Start"

# The measurand lbbrhzn treats as the energy register (const.py: DEFAULT_MEASURAND).
EAIR: Final = "Energy.Active.Import.Register"
POWER_ACTIVE_IMPORT: Final = "Power.Active.Import"
CURRENT_IMPORT: Final = "Current.Import"
CURRENT_OFFERED: Final = "Current.Offered"
# chargepoint-v16 _zero_flow_measurands: cleared at StopTransaction and SuspendedEV(SE).
FLOW_MEASURANDS: Final = (
    "Current.Import",
    POWER_ACTIVE_IMPORT,
    "Power.Reactive.Import",
    "Current.Export",
    "Power.Active.Export",
    "Power.Reactive.Export",
)

# sensor.py: charger-level metrics (on the charger's device), then per-connector ones (on the
# charger's device for one connector, on "<cpid> Connector <n>" devices for several).
CHARGER_ONLY: Final = (
    STATUS,
    ERROR_CODE,
    HEARTBEAT,
    ID_TAG,
    IDENTIFIER,
    CONNECTORS,
    FEATURES,
)
CONNECTOR_ONLY: Final = (
    STATUS_CONNECTOR,
    ERROR_CODE_CONNECTOR,
    STOP_REASON,
    TRANSACTION_ID,
    SESSION_TIME,
    SESSION_ENERGY,
    METER_START,
)

# const.py UNITS_OCCP_TO_HA: lbbrhzn converts Wh to kWh and W to kW before storing.
HA_ENERGY_UNIT: Final = "kWh"
HA_POWER_UNIT: Final = "kW"

# enums.py Profiles (IntFlag): CORE=1, FW=2, SMART=4, RES=8, REM=16, AUTH=32.
PROFILE_BITS: Final = {
    "Core": 1,
    "FirmwareManagement": 2,
    "SmartCharging": 4,
    "Reservation": 8,
    "RemoteTrigger": 16,
    "LocalAuthListManagement": 32,
}
SMART: Final = 4
REM: Final = 16


def metric_key(metric: str) -> str:
    """sensor.py _mk_desc: the entity description key ("Status.Connector" -> "status_connector")."""
    return metric.strip().lower().replace(".", "_")


def sensor_unique_id(cpid: str, metric: str, connector_id: int | None = None) -> str:
    """const.py sensor_unique_id: ``ocpp.<cpid>[.conn<n>].<key>.sensor``."""
    parts = [DOMAIN, cpid, metric_key(metric), "sensor"]
    if connector_id is not None:
        parts.insert(2, f"conn{connector_id}")
    return ".".join(parts)
