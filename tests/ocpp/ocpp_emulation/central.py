"""The OCPP 1.6J central system of the emulation: what lbbrhzn/ocpp does with a charge point.

Every behaviour below is read from lbbrhzn/ocpp 0.8.0 at commit
a37fed39d852d393312d107cf915fea546df5088 and cited by file (``custom_components/ocpp/...``);
this is our own, smaller code that reproduces it, written with the ``ocpp`` library it uses.
OCPP 2.0.1 is in central_v201.py (chosen by the negotiated subprotocol, as api.py does).
What it leaves out: SSL, authorization lists, discovery of unknown charge points,
firmware/diagnostics/data-transfer services, the entry reload after post-connect (the
emulation takes the measurands and the connector count from the entry), latency pings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
from ocpp.routing import on
from ocpp.v16 import ChargePoint as OcppChargePoint
from ocpp.v16 import call, call_result
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    AvailabilityType,
    ChargePointStatus,
    ChargingProfileStatus,
    RegistrationStatus,
    RemoteStartStopStatus,
)
from websockets.asyncio.server import Server, ServerConnection

from .central_v201 import ChargePointHandler201
from .const import (
    CONF_CPID,
    CONF_CPIDS,
    CONF_CSID,
    CONF_HOST,
    CONF_MAX_CURRENT,
    CONF_METER_INTERVAL,
    CONF_MONITORED_VARIABLES,
    CONF_NUM_CONNECTORS,
    CONF_PORT,
    CONNECTORS,
    DATA_UPDATED,
    DEFAULT_IDLE_INTERVAL,
    DEFAULT_MAX_CURRENT,
    DEFAULT_METER_INTERVAL,
    DOMAIN,
    EAIR,
    ERROR_CODE,
    ERROR_CODE_CONNECTOR,
    FEATURES,
    FLOW_MEASURANDS,
    HA_ENERGY_UNIT,
    HA_POWER_UNIT,
    HEARTBEAT,
    ID_TAG,
    IDENTIFIER,
    METER_START,
    PROFILE_BITS,
    REM,
    SESSION_ENERGY,
    SESSION_TIME,
    SMART,
    STATUS,
    STATUS_CONNECTOR,
    STOP_REASON,
    TRANSACTION_ID,
    sensor_unique_id,
)

_LOGGER = logging.getLogger(__name__)

STATE_OK = "ok"  # chargepoint.py: status after a successful connection
# chargepoint.py: ChargePoint.__init__ passes a 10 s response timeout to the ocpp library.
RESPONSE_TIMEOUT = 10
# api.py get_available: the connector statuses that keep its entities available.
OK_STATUSES = frozenset(
    {
        "available",
        "preparing",
        "charging",
        "suspendedev",
        "suspendedevse",
        "finishing",
        "occupied",
        "reserved",
        "unavailable",
    }
)


@dataclass
class Metric:
    """chargepoint.py Metric: a value, its OCPP unit and extra attributes."""

    value: Any = None
    unit: str | None = None
    extra_attr: dict[str, Any] = field(default_factory=dict)

    @property
    def ha_unit(self) -> str | None:
        """const.py UNITS_OCCP_TO_HA (the units this emulation meets are the same in HA)."""
        return self.unit


@dataclass
class ChargerSettings:
    """const.py ChargerSystemSettings (the fields the emulation uses)."""

    cpid: str
    max_current: int = DEFAULT_MAX_CURRENT
    meter_interval: int = DEFAULT_METER_INTERVAL
    monitored_variables: str = EAIR
    num_connectors: int = 1


def charger_settings(entry: ConfigEntry) -> dict[str, ChargerSettings]:
    """The configured charge points by charge point ID (entry.data["cpids"])."""
    found: dict[str, ChargerSettings] = {}
    for item in entry.data[CONF_CPIDS]:
        for cp_id, cfg in item.items():
            found[cp_id] = ChargerSettings(
                cpid=cfg[CONF_CPID],
                max_current=int(cfg.get(CONF_MAX_CURRENT, DEFAULT_MAX_CURRENT)),
                meter_interval=int(cfg.get(CONF_METER_INTERVAL, DEFAULT_METER_INTERVAL)),
                monitored_variables=str(cfg.get(CONF_MONITORED_VARIABLES, EAIR)),
                num_connectors=int(cfg.get(CONF_NUM_CONNECTORS, 1)),
            )
    return found


class ChargePointHandler(OcppChargePoint):  # type: ignore[misc]
    """One connected charge point, as chargepoint.py + ocppv16.py handle it."""

    version = "1.6"

    def __init__(
        self,
        cp_id: str,
        connection: ServerConnection,
        hass: HomeAssistant,
        settings: ChargerSettings,
    ) -> None:
        super().__init__(cp_id, connection, RESPONSE_TIMEOUT)
        self.hass = hass
        self.settings = settings
        self.status = "init"
        self.metrics: dict[tuple[int, str], Metric] = {}
        self.metric(0, IDENTIFIER).value = cp_id
        self.supported_features = 0
        self.num_connectors = settings.num_connectors
        self.active_tx: dict[int, int] = {}
        self.ended_tx: dict[int, int] = {}
        self.charger_reports_session_energy = False
        # chargepoint.py __init__: a random 16-character tag for remote starts.
        alphabet = string.ascii_uppercase + string.digits
        self.remote_id_tag = "".join(secrets.choice(alphabet) for _ in range(16))
        self._tasks: set[asyncio.Task[Any]] = set()

    def metric(self, connector: int, name: str) -> Metric:
        """chargepoint.py _ConnectorAwareMetrics: a missing key reads as an empty metric."""
        return self.metrics.setdefault((connector, name), Metric())

    # -- connection --------------------------------------------------------------------------

    async def run(self) -> None:
        """chargepoint.py start/run: read messages while post-connect set-up runs beside."""
        self.status = STATE_OK
        # lbbrhzn runs it beside the reader with asyncio.ensure_future; a tracked task here, so
        # that the tests' async_block_till_done waits for it.
        post = self.hass.async_create_task(self.post_connect(), "ocpp post_connect")
        try:
            await self.start()
        except websockets.ConnectionClosed:
            pass
        finally:
            post.cancel()
            self.status = STATE_UNAVAILABLE  # chargepoint.py stop(): entities go unavailable
            self.update()

    async def reconnect(self, connection: ServerConnection) -> None:
        """chargepoint.py reconnect: the same object (and its metrics) on a new socket."""
        self._connection = connection
        await self.run()

    async def post_connect(self) -> None:
        """chargepoint.py post_connect, for OCPP 1.6 (ocppv16.py)."""
        with contextlib.suppress(Exception):
            self.supported_features = await self.get_supported_features()
            self.metric(0, FEATURES).value = self.supported_features
            self.num_connectors = await self.get_number_of_connectors()
            self.metric(0, CONNECTORS).value = self.num_connectors
            for conn in range(1, self.num_connectors + 1):
                # chargepoint.py _init_connector_slots: units of the session metrics.
                self.metric(conn, SESSION_TIME).unit = "min"
                self.metric(conn, SESSION_ENERGY).unit = HA_ENERGY_UNIT
                self.metric(conn, METER_START).unit = HA_ENERGY_UNIT
            await self.call(call.GetConfiguration(key=["HeartbeatInterval"]))
            await self.call(
                call.ChangeConfiguration(
                    key="MeterValuesSampledData", value=self.settings.monitored_variables
                )
            )
            # ocppv16.py set_standard_configuration: the sampling interval is the entry's.
            await self.call(
                call.ChangeConfiguration(
                    key="MeterValueSampleInterval", value=str(self.settings.meter_interval)
                )
            )
            await self.call(
                call.ChangeConfiguration(
                    key="ClockAlignedDataInterval", value=str(DEFAULT_IDLE_INTERVAL)
                )
            )
            await self.call(
                call.ChangeAvailability(connector_id=0, type=AvailabilityType.operative)
            )
            if self.supported_features & REM:
                await self.call(call.TriggerMessage(requested_message="StatusNotification"))
        self.update()

    async def get_supported_features(self) -> int:
        """ocppv16.py get_supported_features: SupportedFeatureProfiles to flags."""
        resp = await self.call(call.GetConfiguration(key=["SupportedFeatureProfiles"]))
        try:
            names = str(resp.configuration_key[0]["value"]).split(",")
        except IndexError, KeyError, TypeError:
            names = ["Core"]
        features = 0
        for name in names:
            features |= PROFILE_BITS.get(name.strip().replace(" ", ""), 0)
        return features

    async def get_number_of_connectors(self) -> int:
        """ocppv16.py get_number_of_connectors: NumberOfConnectors, else 1."""
        resp = await self.call(call.GetConfiguration(key=["NumberOfConnectors"]))
        for item in getattr(resp, "configuration_key", None) or []:
            if item.get("key") == "NumberOfConnectors":
                with contextlib.suppress(TypeError, ValueError):
                    return max(1, int(str(item.get("value")).strip()))
        return 1

    def update(self) -> None:
        """chargepoint.py update: refresh this charger's entities (all of them here)."""
        async_dispatcher_send(self.hass, DATA_UPDATED, None)

    def get_ha_metric(self, name: str, connector: int) -> str | None:
        """chargepoint.py get_ha_metric: a metric's value as Home Assistant shows it."""
        unique_id = sensor_unique_id(
            self.settings.cpid, name, connector if self.num_connectors > 1 else None
        )
        entity_id = er.async_get(self.hass).async_get_entity_id("sensor", DOMAIN, unique_id)
        state = self.hass.states.get(entity_id) if entity_id else None
        if state is None or state.state in ("unknown", STATE_UNAVAILABLE):
            return None
        return state.state

    # -- handlers (ocppv16.py) ---------------------------------------------------------------

    @on(Action.boot_notification)
    def on_boot_notification(self, **kwargs: Any) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            interval=3600,
            status=RegistrationStatus.accepted,
        )

    @on(Action.heartbeat)
    def on_heartbeat(self, **kwargs: Any) -> call_result.Heartbeat:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.metric(0, HEARTBEAT).value = now
        return call_result.Heartbeat(current_time=now)

    @on(Action.status_notification)
    def on_status_notification(
        self, connector_id: int, error_code: str, status: str, **kwargs: Any
    ) -> call_result.StatusNotification:
        """Connector 0 is the charger's status, the others their connector's."""
        if not connector_id:
            self.metric(0, STATUS).value = status
            self.metric(0, ERROR_CODE).value = error_code
        else:
            self.metric(connector_id, STATUS_CONNECTOR).value = status
            self.metric(connector_id, ERROR_CODE_CONNECTOR).value = error_code
            if status in (ChargePointStatus.suspended_ev, ChargePointStatus.suspended_evse):
                self._zero_flow(connector_id)
        self.update()
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **kwargs: Any) -> call_result.Authorize:
        """The charger-level Id tag is set here and never cleared (the stale-tag quirk)."""
        self.metric(0, ID_TAG).value = id_tag
        self.update()
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, **kwargs: Any
    ) -> call_result.StartTransaction:
        """The transaction ID is the epoch second; meterStart goes to its own sensor only."""
        tx_id = int(time.time())
        self.ended_tx.pop(connector_id, None)
        self.active_tx[connector_id] = tx_id
        self.metric(connector_id, ID_TAG).value = id_tag
        self.metric(connector_id, STOP_REASON).value = ""
        self.metric(connector_id, TRANSACTION_ID).value = tx_id
        start = self.metric(connector_id, METER_START)
        start.value, start.unit = float(meter_start) / 1000.0, HA_ENERGY_UNIT
        session_time = self.metric(connector_id, SESSION_TIME)
        session_time.value, session_time.unit = 0, "min"
        session = self.metric(connector_id, SESSION_ENERGY)
        session.value, session.unit = 0.0, HA_ENERGY_UNIT
        self.update()
        return call_result.StartTransaction(
            transaction_id=tx_id, id_tag_info={"status": AuthorizationStatus.accepted}
        )

    @on(Action.stop_transaction)
    def on_stop_transaction(
        self, meter_stop: int, timestamp: str, transaction_id: int, **kwargs: Any
    ) -> call_result.StopTransaction:
        """Session energy from meterStop; the register sensor is not touched (nor are the
        stop message's transactionData readings read)."""
        conn = next((c for c, tx in self.active_tx.items() if tx == transaction_id), 1)
        self.ended_tx[conn] = int(transaction_id or 0)
        self.active_tx[conn] = 0
        self.metric(conn, ID_TAG).value = ""  # the connector's tag; the charger-level one stays
        self.metric(conn, TRANSACTION_ID).value = 0
        self.metric(conn, STOP_REASON).value = kwargs.get("reason")
        start = self.metric(conn, METER_START)
        if start.value is not None and not self.charger_reports_session_energy:
            try:
                session_kwh = int(meter_stop) / 1000.0 - float(start.value)
            except TypeError, ValueError:
                session_kwh = 0.0
            self.metric(conn, SESSION_ENERGY).value = session_kwh
        self._zero_flow(conn)
        self.update()
        return call_result.StopTransaction(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.meter_values)
    def on_meter_values(
        self, connector_id: int, meter_value: list[dict[str, Any]], **kwargs: Any
    ) -> call_result.MeterValues:
        """ocppv16.py on_meter_values + chargepoint.py process_measurands (1.6, no phases)."""
        transaction_id = int(kwargs.get("transaction_id") or 0)
        start = self.metric(connector_id, METER_START)
        if start.value is None:
            # After a restart: meter start from Home Assistant's (restored) sensor, else the
            # last register reading.
            restored = self.get_ha_metric(METER_START, connector_id)
            if restored is not None:
                with contextlib.suppress(ValueError):
                    start.value = float(restored)
            else:
                start.value = self.metric(connector_id, EAIR).value
        recorded = int(self.metric(connector_id, TRANSACTION_ID).value or 0)
        active = int(self.active_tx.get(connector_id, 0) or 0)
        contexts = {
            sv.get("context") for bucket in meter_value for sv in bucket.get("sampled_value", [])
        }
        tx_ended = bool(transaction_id) and (
            transaction_id == self.ended_tx.get(connector_id) or "Transaction.End" in contexts
        )
        if transaction_id and not tx_ended and recorded == 0 and active == 0:
            # Self-heal after a restart: adopt the charge point's transaction.
            self.metric(connector_id, TRANSACTION_ID).value = transaction_id
            self.active_tx[connector_id] = active = transaction_id
        is_transaction = bool(transaction_id) and (transaction_id == active or tx_ended)

        for bucket in meter_value:
            readings = bucket.get("sampled_value", [])
            # The register: only the bucket's best reading (Transaction.End, then periodic,
            # then clock-aligned), never Transaction.Begin.
            ranks = {"Transaction.End": 3, "Sample.Periodic": 2, "Sample.Clock": 1}
            candidates = [
                (ranks.get(sv.get("context") or "Sample.Periodic", 0), index)
                for index, sv in enumerate(readings)
                if (sv.get("measurand") or EAIR) == EAIR
                and sv.get("context") != "Transaction.Begin"
            ]
            best = max(candidates)[1] if candidates else None
            for index, sv in enumerate(readings):
                measurand = sv.get("measurand") or EAIR
                if sv.get("phase") not in (None, "L1"):
                    continue  # process_phases: not needed by this emulation's charge point
                value, unit = self._to_ha(measurand, sv)
                if start.value == 0:
                    # chargepoint.py: a meterStart of 0 is taken for a charger that reports
                    # session energy in the register measurand.
                    self.charger_reports_session_energy = True
                if measurand != EAIR:
                    target = self.metric(connector_id, measurand)
                    target.value, target.unit = value, unit
                    continue
                if index != best:
                    continue
                if not (self.charger_reports_session_energy and is_transaction):
                    register = self.metric(connector_id, EAIR)
                    register.value, register.unit = value, unit
                    register.extra_attr["context"] = sv.get("context") or "Sample.Periodic"
                if is_transaction:
                    session = self.metric(connector_id, SESSION_ENERGY)
                    if self.charger_reports_session_energy:
                        session.value, session.unit = value, unit
                    elif start.value is None:
                        start.value, start.unit = value, unit
                        session.value, session.unit = 0.0, unit
                    else:
                        session.value = round(1000 * (value - float(start.value))) / 1000
                        session.unit = unit
        if tx_ended:
            self._zero_flow(connector_id)
        if transaction_id and is_transaction:
            # The session's minutes from the transaction ID, which is its start's epoch second.
            tx_start = float(self.metric(connector_id, TRANSACTION_ID).value or time.time())
            session_time = self.metric(connector_id, SESSION_TIME)
            session_time.value, session_time.unit = round((time.time() - tx_start) / 60), "min"
        self.update()
        return call_result.MeterValues()

    @staticmethod
    def _to_ha(measurand: str, sv: dict[str, Any]) -> tuple[float, str | None]:
        """process_measurands: empty values are 0; Wh to kWh and W to kW."""
        try:
            value = float(sv.get("value"))  # type: ignore[arg-type]
        except TypeError, ValueError:
            value = 0.0
        unit = sv.get("unit")
        if measurand == EAIR and unit is None:
            unit = "Wh"
        if unit == "Wh":
            return value / 1000.0, HA_ENERGY_UNIT
        if unit == "W":
            return value / 1000.0, HA_POWER_UNIT
        return value, unit

    def _zero_flow(self, connector: int) -> None:
        """ocppv16.py _zero_flow_measurands."""
        for measurand in FLOW_MEASURANDS:
            if (connector, measurand) in self.metrics:
                self.metrics[(connector, measurand)].value = 0

    # -- commands (ocppv16.py) ---------------------------------------------------------------

    async def set_charge_rate(
        self,
        limit_amps: float | None = None,
        limit_watts: float | None = None,
        conn_id: int = 0,
        profile: dict[str, Any] | None = None,
    ) -> bool:
        """ChargePointMaxProfile on connector 0 first; if refused, TxProfile + TxDefaultProfile."""
        if profile is not None:
            resp = await self.call(
                call.SetChargingProfile(connector_id=int(conn_id), cs_charging_profiles=profile)
            )
            return getattr(resp, "status", None) == ChargingProfileStatus.accepted
        if not self.supported_features & SMART:
            return False
        units = await self._configuration("ChargingScheduleAllowedChargingRateUnit") or ""
        use_amps = "Current" in units or "Power" not in units
        if use_amps:
            limit = float(limit_amps) if limit_amps is not None else 32.0
            unit = "A"
        else:
            limit = float(limit_watts) if limit_watts is not None else 22000.0
            unit = "W"
        try:
            stack = int(await self._configuration("ChargeProfileMaxStackLevel") or "")
        except ValueError:
            stack = 1

        def profile_for(purpose: str, connector: int, stack_level: int) -> dict[str, Any]:
            base = {"ChargePointMaxProfile": 1000, "TxDefaultProfile": 2000, "TxProfile": 3000}
            return {
                "chargingProfileId": base[purpose] + connector,
                "stackLevel": stack_level,
                "chargingProfileKind": "Relative",
                "chargingProfilePurpose": purpose,
                "chargingSchedule": {
                    "chargingRateUnit": unit,
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
                },
            }

        resp = await self.call(
            call.SetChargingProfile(
                connector_id=0,
                cs_charging_profiles=profile_for("ChargePointMaxProfile", 0, stack),
            )
        )
        if getattr(resp, "status", None) == ChargingProfileStatus.accepted:
            return True
        target = int(conn_id) if conn_id and int(conn_id) > 0 else 1
        ok = False
        if tx := self.active_tx.get(target, 0):
            tx_profile = profile_for("TxProfile", target, max(1, stack)) | {"transactionId": tx}
            resp = await self.call(
                call.SetChargingProfile(connector_id=target, cs_charging_profiles=tx_profile)
            )
            ok = getattr(resp, "status", None) == ChargingProfileStatus.accepted
        resp = await self.call(
            call.SetChargingProfile(
                connector_id=target,
                cs_charging_profiles=profile_for("TxDefaultProfile", target, max(1, stack - 1)),
            )
        )
        return ok or getattr(resp, "status", None) == ChargingProfileStatus.accepted

    async def _configuration(self, key: str) -> str | None:
        resp = await self.call(call.GetConfiguration(key=[key]))
        for item in getattr(resp, "configuration_key", None) or []:
            if item.get("key") == key:
                return str(item.get("value"))
        return None

    async def start_transaction(self, connector_id: int = 1) -> bool:
        """RemoteStartTransaction with the charger's own random tag."""
        resp = await self.call(
            call.RemoteStartTransaction(connector_id=connector_id, id_tag=self.remote_id_tag)
        )
        return getattr(resp, "status", None) == RemoteStartStopStatus.accepted

    async def stop_transaction(self, connector_id: int | None = None) -> bool:
        """RemoteStopTransaction of the connector's transaction (nothing to stop: True)."""
        tx = self.active_tx.get(connector_id or 1, 0) if connector_id else 0
        if not tx:
            tx = next((t for t in self.active_tx.values() if t), 0)
        if not tx:
            return True
        resp = await self.call(call.RemoteStopTransaction(transaction_id=tx))
        return getattr(resp, "status", None) == RemoteStartStopStatus.accepted

    async def set_availability(self, state: bool = True) -> bool:
        kind = AvailabilityType.operative if state else AvailabilityType.inoperative
        await self.call(call.ChangeAvailability(connector_id=0, type=kind))
        return True

    async def clear_profile(self) -> bool:
        await self.call(call.ClearChargingProfile())
        return True

    async def reset(self) -> bool:
        resp = await self.call(call.Reset(type="Hard"))
        return getattr(resp, "status", None) == "Accepted"

    async def unlock(self, connector_id: int = 1) -> bool:
        resp = await self.call(call.UnlockConnector(connector_id=connector_id))
        return getattr(resp, "status", None) == "Unlocked"


class CentralSystem:
    """api.py CentralSystem: the websocket server and the charge points that connected."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        self.hass = hass
        self.entry = entry
        self.id: str = entry.data.get(CONF_CSID, "central")
        self.settings = charger_settings(entry)
        self.cpids = {s.cpid: cp_id for cp_id, s in self.settings.items()}  # cpid -> cp_id
        self.charge_points: dict[str, ChargePointHandler | ChargePointHandler201] = {}
        self.device_ids: dict[str, str] = {}  # cpid -> the charger's device
        self._server: Server | None = None

    async def start(self) -> None:
        """api.py create: serve OCPP 1.6 on the entry's host and port, no websocket pings."""
        self._server = await websockets.serve(
            self.on_connect,
            self.entry.data[CONF_HOST],
            int(self.entry.data[CONF_PORT]),
            # const.py DEFAULT_SUBPROTOCOLS (2.1 left out): the first the charger also offers.
            subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
            ping_interval=None,
            ping_timeout=None,
            close_timeout=1,
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def on_connect(self, websocket: ServerConnection) -> None:
        """api.py on_connect: the last path segment is the charge point ID."""
        assert websocket.request is not None
        cp_id = websocket.request.path.strip("/").rsplit("/", 1)[-1]
        if (settings := self.settings.get(cp_id)) is None:
            await websocket.close()
            return
        version = (websocket.subprotocol or "ocpp1.6").removeprefix("ocpp")
        handler = self.charge_points.get(cp_id)
        if handler is not None and handler.version == version:
            await handler.reconnect(websocket)
            return
        # New, or reconnected on another OCPP version: a new handler (api.py rebuilds it).
        kind = ChargePointHandler201 if version.startswith("2") else ChargePointHandler
        handler = kind(cp_id, websocket, self.hass, settings)
        self.charge_points[cp_id] = handler
        await handler.run()

    def _handler(self, cpid: str) -> Any:
        return self.charge_points.get(self.cpids.get(cpid, cpid))

    def get_metric(self, cpid: str, name: str, connector_id: int | None = None) -> Any:
        """api.py get_metric: an explicit connector, else charger level, else connector 1..n."""
        handler = self._handler(cpid)
        if handler is None:
            return None
        if connector_id is not None:
            found = handler.metrics.get((connector_id, name))
            return found.value if found else None
        for conn in range(handler.num_connectors + 1):
            found = handler.metrics.get((conn, name))
            if found is not None and found.value is not None:
                return found.value
        return None

    def get_ha_unit(self, cpid: str, name: str, connector_id: int | None = None) -> str | None:
        """api.py get_ha_unit: the same look-up order as get_metric."""
        handler = self._handler(cpid)
        if handler is None:
            return None
        conns = [connector_id] if connector_id is not None else range(handler.num_connectors + 1)
        for conn in conns:
            found = handler.metrics.get((conn, name))
            if found is not None and found.unit is not None:
                return found.ha_unit
        return None

    def get_extra_attr(self, cpid: str, name: str, connector_id: int | None = None) -> Any:
        handler = self._handler(cpid)
        if handler is None:
            return None
        found = handler.metrics.get((connector_id or 0, name))
        return dict(found.extra_attr) if found and found.extra_attr else None

    def get_available(self, cpid: str, connector_id: int | None = None) -> bool:
        """api.py get_available: connected; for a connector, also a status it knows as fine
        (a Faulted connector's entities are unavailable)."""
        handler = self._handler(cpid)
        if handler is None or handler.status != STATE_OK:
            return False
        if not connector_id:
            return True
        status = handler.metric(connector_id, STATUS_CONNECTOR).value
        return not status or str(status).lower() in OK_STATUSES

    def get_supported_features(self, cpid: str) -> int:
        handler = self._handler(cpid)
        return handler.supported_features if handler else 0

    async def set_max_charge_rate_amps(self, cpid: str, value: float, connector_id: int) -> bool:
        handler = self._handler(cpid)
        if handler is None:
            return False
        return await handler.set_charge_rate(limit_amps=value, conn_id=connector_id)

    def handler_for_service(self, devid: str | None) -> Any:
        """api.py check_charger_available: devid is a cpid or a charge point ID; an unknown or
        missing one falls back to the FIRST connected charge point; an unavailable one raises."""
        handler = self.charge_points.get(self.cpids.get(devid or "", devid or ""))
        if handler is None:
            if not self.charge_points:
                raise HomeAssistantError(f"{devid}: charger is currently unavailable")
            handler = next(iter(self.charge_points.values()))
        if handler.status == STATE_UNAVAILABLE:
            raise HomeAssistantError(f"{devid}: charger is currently unavailable")
        return handler
