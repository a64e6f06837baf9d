"""The OCPP 2.0.1 side of the emulation: what lbbrhzn/ocpp does with a 2.0.1 charging station.

Read from lbbrhzn/ocpp 0.8.0 at commit a37fed39d852d393312d107cf915fea546df5088:
``custom_components/ocpp/ocppv201.py`` (the handlers and commands), ``chargepoint.py``
(post_connect, process_measurands) and ``api.py`` (subprotocol choice, get_metric). Our own
code written from reading it; nothing is copied. The quirks that matter to PEV Portal:

- the entities are the 1.6 ones (same names per connector; a station's EVSE/connector pairs
  are numbered 1..n across EVSEs, the "global" index); statuses are translated into the 1.6
  vocabulary: Occupied is Preparing, and Charging/SuspendedEV/SuspendedEVSE come only from a
  TransactionEvent's chargingState. The single-connector ``Status Connector`` sensor shows the
  station's status (connector 0), which a transaction's end (chargingState Idle) sets to
  Available at once, even with the cable still in;
- the idToken is shown as ``"<type>:<idToken>"`` in the ``Id Tag`` sensor (the connector's
  value; the charger-level sensor falls back to connector 1) and cleared ("") at the
  transaction's end, like the transaction ID (the station's string, "" after the end);
  Authorize does not set it, and only ISO14443, ISO15693 and Central tokens are answered
  Accepted (the others Unknown);
- ``Energy Meter Start`` is the Started event's register reading (Transaction.Begin
  included), or the first Updated event's when the Started one had none; ``Energy Session``
  is the register minus it at every TransactionEvent, the Ended one's Transaction.End reading
  included (the register sensor takes that reading too); MeterValues outside a transaction are
  answered and dropped; at the end the flow measurands not in the Ended event are zeroed;
- charging limits: ``set_charge_rate`` in A at or above the entry's maximum current clears the
  ChargingStationMaxProfile (ClearChargingProfile by purpose) instead of setting one; below
  it sets a ChargingStationMaxProfile (id 1, stack level 0, Relative) on evse 0 (the
  station-wide number) or on the connector's EVSE (a per-connector number, which a station
  following the standard rejects); a rejected profile raises HomeAssistantError;
- post_connect runs on BootNotification: GetBaseReport(FullInventory) and its NotifyReport
  (EVSEs, connectors, SmartChargingCtrlr.Available, SampledDataCtrlr.TxUpdatedMeasurands),
  SetVariables TxUpdatedMeasurands (an advertised station-level list) and TxUpdatedInterval
  (the entry's meter interval), ChangeAvailability Operative, and TriggerMessage
  StatusNotification per EVSE and connector.

A station that connects without booting (after a Home Assistant restart) gets post_connect
from the 10 s backstop. Left out: the UpdateFirmware and
GetCompositeSchedule probes, the entry reload when the inventory's measurands differ (the
emulation takes them from the entry), latency pings, 2.1, status buffering subtleties beyond
"held until the inventory is known".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import websockets
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later
from ocpp.routing import on
from ocpp.v201 import ChargePoint as OcppChargePoint
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.server import ServerConnection

from .const import (
    CONNECTORS,
    DATA_UPDATED,
    EAIR,
    FEATURES,
    HA_ENERGY_UNIT,
    HEARTBEAT,
    ID_TAG,
    IDENTIFIER,
    METER_START,
    REM,
    SESSION_ENERGY,
    SESSION_TIME,
    SMART,
    STATUS,
    STATUS_CONNECTOR,
    TRANSACTION_ID,
)

_LOGGER = logging.getLogger(__name__)

STATE_OK = "ok"
RESPONSE_TIMEOUT = 10
BACKSTOP_SECONDS = 10  # chargepoint.py MONITOR_BACKSTOP_DELAY
CORE = 1
CHARGING_STATES = frozenset({"Charging", "SuspendedEV", "SuspendedEVSE"})
# ocppv201.py _charging_state_v16 / _connector_status_v16.
CHARGING_STATE_V16 = {
    "Idle": "Available",
    "EVConnected": "Preparing",
    "SuspendedEVSE": "SuspendedEVSE",
    "SuspendedEV": "SuspendedEV",
    "Charging": "Charging",
}
CONNECTOR_STATUS_V16 = {
    "Available": "Available",
    "Faulted": "Faulted",
    "Unavailable": "Unavailable",
    "Reserved": "Reserved",
}
# _STATION_PRECEDENCE: the station's status when EVSEs disagree.
STATION_PRECEDENCE = (
    "Faulted",
    "Charging",
    "SuspendedEV",
    "SuspendedEVSE",
    "Preparing",
    "Finishing",
    "Reserved",
    "Unavailable",
    "Available",
)
ACCEPTED_TOKEN_TYPES = frozenset({"ISO14443", "ISO15693", "Central"})


@dataclass
class Metric:
    value: Any = None
    unit: str | None = None
    extra_attr: dict[str, Any] = field(default_factory=dict)

    @property
    def ha_unit(self) -> str | None:
        return self.unit


@dataclass
class Inventory:
    """ocppv201.py InventoryReport (the fields used)."""

    evse_count: int = 0
    connector_count: list[int] = field(default_factory=list)
    smart_charging_available: bool | None = None
    measurands: list[str] = field(default_factory=list)
    measurands_rank: int = 0


class ChargePointHandler201(OcppChargePoint):  # type: ignore[misc]
    """One connected 2.0.1 charging station, as ocppv201.py handles it."""

    version = "2.0.1"

    def __init__(
        self, cp_id: str, connection: ServerConnection, hass: HomeAssistant, settings: Any
    ) -> None:
        super().__init__(cp_id, connection, RESPONSE_TIMEOUT)
        self.hass = hass
        self.settings = settings
        self.status = "init"
        self.metrics: dict[tuple[int, str], Metric] = {}
        self.metric(0, IDENTIFIER).value = cp_id
        self.supported_features = 0
        self.num_connectors = settings.num_connectors
        self.post_connect_success = False
        self._post_connect_started = False
        self._cancel_backstop: Any = None
        self.inventory: Inventory | None = None
        self._inventory_done: Any = None
        self._pending_status: list[tuple[str, int, int]] = []
        self._status: dict[tuple[int, int], str] = {}  # (evse, connector) -> 2.0.1 status
        self._evse_v16: dict[int, str] = {}
        self._pair: dict[tuple[int, int], int] = {}  # (evse, connector) -> global index
        self._tx_start: dict[int, datetime] = {}
        alphabet = string.ascii_uppercase + string.digits
        self.remote_id_tag = "".join(secrets.choice(alphabet) for _ in range(16))

    def metric(self, connector: int, name: str) -> Metric:
        return self.metrics.setdefault((connector, name), Metric())

    def update(self) -> None:
        async_dispatcher_send(self.hass, DATA_UPDATED, None)

    # -- connection ------------------------------------------------------------------------

    async def run(self) -> None:
        """Read messages; post_connect on BootNotification, or after 10 s without one
        (chargepoint.py monitor_connection's backstop, on Home Assistant's clock here)."""
        self.status = STATE_OK
        if not self.post_connect_success:
            self._cancel_backstop = async_call_later(self.hass, BACKSTOP_SECONDS, self._backstop)
        try:
            await self.start()
        except websockets.ConnectionClosed:
            pass
        finally:
            self._stop_backstop()
            self.status = STATE_UNAVAILABLE
            self.update()

    def _stop_backstop(self) -> None:
        if self._cancel_backstop is not None:
            self._cancel_backstop()
            self._cancel_backstop = None

    @callback
    def _backstop(self, _now: datetime) -> None:
        self._cancel_backstop = None
        if not self.post_connect_success and not self._post_connect_started:
            self.hass.async_create_task(self.post_connect(), "ocpp v201 post_connect")

    async def reconnect(self, connection: ServerConnection) -> None:
        """chargepoint.py reconnect: same object; post_connect only on a new boot."""
        self._connection = connection
        await self.run()

    async def post_connect(self) -> None:
        """chargepoint.py post_connect with ocppv201.py's steps (errors end it quietly)."""
        self._post_connect_started = True
        with contextlib.suppress(Exception):
            self.status = STATE_OK
            await self._get_inventory()
            inventory = self.inventory or Inventory()
            features = CORE
            if inventory.smart_charging_available:
                features |= SMART
            # ocppv201.py get_supported_features: TriggerMessage answered -> RemoteTrigger.
            await self.call(call.TriggerMessage(requested_message="StatusNotification"))
            features |= REM
            self.supported_features = features
            self.metric(0, FEATURES).value = features
            self.num_connectors = max(1, sum(inventory.connector_count))
            for conn in range(1, self.num_connectors + 1):
                self.metric(conn, SESSION_TIME).unit = "min"
                self.metric(conn, SESSION_ENERGY).unit = HA_ENERGY_UNIT
                self.metric(conn, METER_START).unit = HA_ENERGY_UNIT
            self.metric(0, CONNECTORS).value = self.num_connectors
            if inventory.measurands and inventory.measurands_rank >= 2:
                await self._set_variable("TxUpdatedMeasurands", ",".join(inventory.measurands))
            await self._set_variable("TxUpdatedInterval", str(self.settings.meter_interval))
            self.post_connect_success = True
            self._stop_backstop()
            await self.call(call.ChangeAvailability(operational_status="Operative"))
            if self.supported_features & REM:
                for evse_id in range(1, inventory.evse_count + 1):
                    for conn_id in range(1, inventory.connector_count[evse_id - 1] + 1):
                        await self.call(
                            call.TriggerMessage(
                                requested_message="StatusNotification",
                                evse={"id": evse_id, "connector_id": conn_id},
                            )
                        )
        self.update()

    async def _set_variable(self, name: str, value: str) -> None:
        await self.call(
            call.SetVariables(
                set_variable_data=[
                    {
                        "component": {"name": "SampledDataCtrlr"},
                        "variable": {"name": name},
                        "attribute_value": value,
                    }
                ]
            )
        )

    async def _get_inventory(self) -> None:
        """GetBaseReport(FullInventory), then wait for the last NotifyReport (tbc false)."""
        self._inventory_done = asyncio.Event()
        try:
            resp = await self.call(call.GetBaseReport(request_id=1, report_base="FullInventory"))
            if getattr(resp, "status", None) == "Accepted":
                await self._inventory_done.wait()
        finally:
            self._inventory_done = None
            self._build_map()
            self._drain_status()

    def _build_map(self) -> None:
        if not self.inventory or self._pair:
            return
        index = 1
        for evse_id in range(1, self.inventory.evse_count + 1):
            for conn_id in range(1, self.inventory.connector_count[evse_id - 1] + 1):
                self._pair[(evse_id, conn_id)] = index
                index += 1

    def _global(self, evse_id: int, conn_id: int) -> int:
        """ocppv201.py _pair_to_global: an unknown pair gets the next free index."""
        if (evse_id, conn_id) not in self._pair:
            self._pair[(evse_id, conn_id)] = max(self._pair.values(), default=0) + 1
        return self._pair[(evse_id, conn_id)]

    # -- handlers --------------------------------------------------------------------------

    @on(Action.boot_notification)
    def on_boot_notification(self, **kwargs: Any) -> call_result.BootNotification:
        """Accepted with a 10 s heartbeat; post_connect follows (once per handler)."""
        self.inventory = None
        if not self.post_connect_success and not self._post_connect_started:
            self.hass.async_create_task(self.post_connect(), "ocpp v201 post_connect")
        return call_result.BootNotification(
            current_time=datetime.now(UTC).isoformat(), interval=10, status="Accepted"
        )

    @on(Action.heartbeat)
    def on_heartbeat(self, **kwargs: Any) -> call_result.Heartbeat:
        now = datetime.now(UTC)
        self.metric(0, HEARTBEAT).value = now.isoformat()
        return call_result.Heartbeat(current_time=now.isoformat())

    @on(Action.notify_report)
    def on_notify_report(self, **kwargs: Any) -> call_result.NotifyReport:
        if self._inventory_done is None:
            return call_result.NotifyReport()
        inventory = self.inventory = self.inventory or Inventory()
        for item in kwargs.get("report_data") or []:
            component = item.get("component") or {}
            name = component.get("name")
            variable = (item.get("variable") or {}).get("name")
            value = next(
                (
                    str(a.get("value"))
                    for a in item.get("variable_attribute") or []
                    if a.get("type", "Actual") == "Actual" and "value" in a
                ),
                None,
            )
            evse = component.get("evse") or {}
            if name == "SmartChargingCtrlr" and variable == "Available":
                inventory.smart_charging_available = (value or "").lower() == "true"
            elif name in ("EVSE", "Connector") and int(evse.get("id", 0) or 0) > 0:
                evse_id = int(evse["id"])
                inventory.evse_count = max(inventory.evse_count, evse_id)
                inventory.connector_count += [0] * (evse_id - len(inventory.connector_count))
                if name == "Connector" and (conn := int(evse.get("connector_id", 0) or 0)):
                    inventory.connector_count[evse_id - 1] = max(
                        inventory.connector_count[evse_id - 1], conn
                    )
            elif name == "SampledDataCtrlr" and variable == "TxUpdatedMeasurands":
                listed = str((item.get("variable_characteristics") or {}).get("values_list") or "")
                values = listed or value or ""
                rank = (1 if evse else 2) if listed else 0
                if rank >= inventory.measurands_rank:
                    inventory.measurands = [m.strip() for m in values.split(",") if m.strip()]
                    inventory.measurands_rank = rank
        if not kwargs.get("tbc"):
            self._build_map()
            self._drain_status()
            self._inventory_done.set()
        return call_result.NotifyReport()

    @on(Action.status_notification)
    def on_status_notification(
        self, connector_status: str, evse_id: int, connector_id: int, **kwargs: Any
    ) -> call_result.StatusNotification:
        """Held until the inventory is known (while post_connect runs), then applied."""
        if evse_id == 0 and connector_id == 0:
            self.metric(0, STATUS).value = connector_status
        elif evse_id >= 1 and connector_id >= 1:
            if not self._pair and not self.post_connect_success:
                self._pending_status.append((connector_status, evse_id, connector_id))
            else:
                self._apply_status(connector_status, evse_id, connector_id)
        self.update()
        return call_result.StatusNotification()

    def _drain_status(self) -> None:
        pending, self._pending_status = self._pending_status, []
        for item in pending:
            self._apply_status(*item)
        if pending:
            self.update()

    def _apply_status(self, status: str, evse_id: int, conn_id: int) -> None:
        """Occupied (Preparing) never overwrites a charging state while a transaction runs."""
        self._status[(evse_id, conn_id)] = status
        index = self._global(evse_id, conn_id)
        translated = CONNECTOR_STATUS_V16.get(status, "Preparing")
        current = self.metric(index, STATUS_CONNECTOR).value
        live = index in self._tx_start
        if not (translated == "Preparing" and current in CHARGING_STATES and live):
            self.metric(index, STATUS_CONNECTOR).value = translated
        held = self._evse_v16.get(evse_id)
        if not (translated == "Preparing" and held in CHARGING_STATES and live):
            self._report_evse(evse_id, translated)

    def _report_evse(self, evse_id: int, status: str, conn_id: int | None = None) -> None:
        """The EVSE's status, and connector 0's: the most prominent status of all EVSEs."""
        self._evse_v16[evse_id] = status
        seen = set(self._evse_v16.values())
        derived = next((s for s in STATION_PRECEDENCE if s in seen), status)
        self.metric(0, STATUS_CONNECTOR).value = derived
        if conn_id is not None:
            self.metric(self._global(evse_id, conn_id), STATUS_CONNECTOR).value = status

    @on(Action.authorize)
    def on_authorize(self, id_token: dict[str, Any], **kwargs: Any) -> call_result.Authorize:
        """Sets no sensor; only card and central tokens are Accepted."""
        accepted = id_token.get("type") in ACCEPTED_TOKEN_TYPES
        return call_result.Authorize(
            id_token_info={"status": "Accepted" if accepted else "Unknown"}
        )

    @on(Action.meter_values)
    def on_meter_values(self, **kwargs: Any) -> call_result.MeterValues:
        """Answered and dropped: only TransactionEvents reach the sensors."""
        return call_result.MeterValues()

    @on(Action.notify_event)
    def on_notify_event(self, **kwargs: Any) -> call_result.NotifyEvent:
        return call_result.NotifyEvent()

    @on(Action.transaction_event)
    def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        transaction_info: dict[str, Any],
        **kwargs: Any,
    ) -> call_result.TransactionEvent:
        evse = kwargs.get("evse") or {}
        evse_id, conn_id = int(evse.get("id", 1)), int(evse.get("connector_id", 1))
        index = self._global(evse_id, conn_id)
        self._meter_values(event_type, kwargs.get("meter_value") or [], index)
        at = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        if (state := transaction_info.get("charging_state")) in CHARGING_STATE_V16:
            v16 = CHARGING_STATE_V16[state]
            if state == "Idle":
                # The station's status says the session ended; the connector keeps what its
                # last StatusNotification said (Occupied: Preparing).
                self._report_evse(evse_id, v16)
                if (known := self._status.get((evse_id, conn_id))) is not None:
                    self.metric(index, STATUS_CONNECTOR).value = CONNECTOR_STATUS_V16.get(
                        known, "Preparing"
                    )
            else:
                self._report_evse(evse_id, v16, conn_id)
        response = call_result.TransactionEvent()
        if id_token := kwargs.get("id_token"):
            response.id_token_info = {"status": "Accepted"}
            self.metric(index, ID_TAG).value = f"{id_token['type']}:{id_token['id_token']}"
        session_time = self.metric(index, SESSION_TIME)
        if event_type == "Started":
            self._tx_start[index] = at
            self.metric(index, TRANSACTION_ID).value = transaction_info["transaction_id"]
            session_time.value, session_time.unit = 0, "min"
        else:
            if (start := self._tx_start.get(index)) is not None:
                elapsed = (at - start).total_seconds()
                session_time.value, session_time.unit = int((elapsed + 59) // 60), "min"
            if event_type == "Ended":
                self.metric(index, TRANSACTION_ID).value = ""
                self.metric(index, ID_TAG).value = ""
                self._tx_start.pop(index, None)
        if not kwargs.get("offline"):
            self.update()
        return response

    def _meter_values(self, event_type: str, buckets: list[dict[str, Any]], index: int) -> None:
        """ocppv201.py _set_meter_values + chargepoint.py process_measurands (no phases)."""
        readings = [
            (
                sv.get("measurand") or EAIR,
                float(sv["value"])
                * 10 ** int((sv.get("unit_of_measure") or {}).get("multiplier", 0)),
                (sv.get("unit_of_measure") or {}).get("unit"),
                sv.get("context") or "Sample.Periodic",
            )
            for bucket in buckets
            for sv in bucket.get("sampled_value", [])
        ]
        start = self.metric(index, METER_START)
        if event_type == "Started" or (event_type == "Updated" and start.value is None):
            for measurand, value, unit, _ in readings:
                if measurand == EAIR:
                    start.value = value / 1000 if unit in ("Wh", None) else value
                    start.unit = HA_ENERGY_UNIT if unit else None
        ranks = {"Transaction.End": 3, "Sample.Periodic": 2, "Sample.Clock": 1}
        candidates = [
            (ranks.get(context, 0), value, i)
            for i, (measurand, value, _, context) in enumerate(readings)
            if measurand == EAIR and context != "Transaction.Begin"
        ]
        best = max(candidates)[2] if candidates else None
        for i, (measurand, value, unit, context) in enumerate(readings):
            if unit in ("Wh", "W") or (measurand == EAIR and unit is None):
                value, unit = value / 1000, "kWh" if measurand.startswith("Energy") else "kW"
            if measurand != EAIR:
                target = self.metric(index, measurand)
                target.value, target.unit = value, unit
                continue
            if i != best:
                continue
            register = self.metric(index, EAIR)
            register.value, register.unit = value, unit
            register.extra_attr["context"] = context
            if start.value is None:
                start.value, start.unit = value, unit
                self.metric(index, SESSION_ENERGY).value = 0.0
            elif start.unit == unit:
                session = self.metric(index, SESSION_ENERGY)
                session.value = round(1000 * (value - float(start.value))) / 1000
                session.unit = unit
        if event_type == "Ended":
            ended = {m for m, _, _, context in readings if context == "Transaction.End"}
            for measurand in self.inventory.measurands if self.inventory else []:
                flow = measurand not in ended and not measurand.startswith("Energy")
                if flow and (index, measurand) in self.metrics:
                    self.metrics[(index, measurand)].value = 0

    def get_ha_metric(self, name: str, connector: int) -> str | None:
        return None

    # -- commands (ocppv201.py) ------------------------------------------------------------

    def _evse_of(self, conn_id: int) -> int:
        return next((e for (e, _), g in self._pair.items() if g == conn_id), conn_id)

    async def clear_profile(self) -> bool:
        resp = await self.call(
            call.ClearChargingProfile(
                charging_profile_criteria={"charging_profile_purpose": "ChargingStationMaxProfile"}
            )
        )
        return getattr(resp, "status", None) in ("Accepted", "Unknown")

    async def set_charge_rate(
        self,
        limit_amps: float | None = None,
        limit_watts: float | None = None,
        conn_id: int = 0,
        profile: dict[str, Any] | None = None,
    ) -> bool:
        target = self._evse_of(int(conn_id)) if conn_id and int(conn_id) > 0 else 0
        if profile is None:
            if limit_watts is not None:
                if float(limit_watts) >= 22000:
                    return await self.clear_profile()
                limit: float | int = int(limit_watts)
                unit = "W"
            elif limit_amps is not None:
                if float(limit_amps) >= float(self.settings.max_current):
                    return await self.clear_profile()
                amps = float(limit_amps)
                limit, unit = (int(amps) if amps.is_integer() else amps), "A"
            else:
                return await self.clear_profile()
            profile = {
                "id": 1,
                "stack_level": 0,
                "charging_profile_purpose": "ChargingStationMaxProfile",
                "charging_profile_kind": "Relative",
                "charging_schedule": [
                    {
                        "id": 1,
                        "charging_rate_unit": unit,
                        "charging_schedule_period": [{"start_period": 0, "limit": limit}],
                    }
                ],
            }
        resp = await self.call(call.SetChargingProfile(evse_id=target, charging_profile=profile))
        if getattr(resp, "status", None) != "Accepted":
            raise HomeAssistantError(
                f"{getattr(resp, 'status', None)}: {getattr(resp, 'status_info', None)}"
            )
        return True

    async def set_availability(self, state: bool = True) -> bool:
        status = "Operative" if state else "Inoperative"
        await self.call(call.ChangeAvailability(operational_status=status))
        return True

    async def start_transaction(self, connector_id: int = 1) -> bool:
        resp = await self.call(
            call.RequestStartTransaction(
                evse_id=self._evse_of(connector_id),
                id_token={"id_token": self.remote_id_tag, "type": "Central"},
                remote_start_id=1,
            )
        )
        return getattr(resp, "status", None) == "Accepted"

    async def stop_transaction(self, connector_id: int | None = None) -> bool:
        """The connector's transaction (no fallback to another); none running: False."""
        conns = [connector_id] if connector_id else range(1, self.num_connectors + 1)
        tx = next((v for c in conns if (v := self.metric(c, TRANSACTION_ID).value)), None)
        if not tx:
            return False
        resp = await self.call(call.RequestStopTransaction(transaction_id=str(tx)))
        return getattr(resp, "status", None) == "Accepted"

    async def reset(self) -> bool:
        resp = await self.call(call.Reset(type="Immediate"))
        if getattr(resp, "status", None) != "Accepted":
            raise HomeAssistantError(f"reset: {getattr(resp, 'status', None)}")
        return True

    async def unlock(self, connector_id: int = 1) -> bool:
        resp = await self.call(
            call.UnlockConnector(evse_id=self._evse_of(connector_id), connector_id=1)
        )
        return getattr(resp, "status", None) == "Unlocked"
