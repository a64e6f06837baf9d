"""A simulated OCPP 1.6J charge point, written with the ``ocpp`` library.

It behaves as real charge points do towards a central system:

- it connects to ``ws://host:port/<charge point ID>`` with the ``ocpp1.6`` subprotocol, sends a
  BootNotification on its first connection and its connectors' status on every connection;
- a card (ID tag) swiped after plug-in is authorized (Authorize), then StartTransaction carries
  it with ``meterStart`` (the register in Wh); the charge point keeps the last tag it read
  (``last_tag``) and never tells anyone when a transaction is over but with StopTransaction;
- it samples MeterValues every ``MeterValueSampleInterval`` seconds (60 by default, set by the
  central system with ChangeConfiguration) and only during a transaction (register in Wh,
  power in W, offered current in A, with the transaction's ID);
- it obeys charging profiles (limits in A): the composite limit is the lowest of the
  ChargePointMaxProfile and the connector's transaction profile; below 6 A it suspends the
  charge (SuspendedEVSE) and keeps the transaction;
- RemoteStart/RemoteStopTransaction start and stop transactions; StopTransaction carries
  ``meterStop``; while the central system is unreachable, transaction messages are queued and
  sent in order once it is back (OCPP 1.6 section 4.7).

Time is virtual: the test moves it with :meth:`SimChargePoint.advance` (and the Home Assistant
clock with the freezer, in step). Every SetChargingProfile received is kept in ``profiles``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    AvailabilityStatus,
    ChargePointStatus,
    ChargingProfileStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    RemoteStartStopStatus,
    ResetStatus,
    TriggerMessageStatus,
    UnlockStatus,
)

from tests.ocpp.station_link import StationLink

MIN_CURRENT_A = 6.0  # IEC 61851-1: the lowest current a charge can be offered


def now_iso() -> str:
    """The (frozen) clock in OCPP's timestamp format."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True)
class ReceivedProfile:
    """A SetChargingProfile the charge point received."""

    connector_id: int
    purpose: str
    stack_level: int
    unit: str
    limit: float
    transaction_id: int | None


@dataclass
class Connector:
    """One connector and the vehicle on it."""

    connector_id: int
    status: str = ChargePointStatus.available
    plugged: bool = False
    ev_full: bool = False
    tag: str | None = None
    transaction_id: int = 0
    meter_start: int = 0
    current_a: float = 0.0
    since_sample: float = 0.0


@dataclass
class Profile:
    stack_level: int
    limit_a: float
    transaction_id: int | None = None


class SimChargePoint(StationLink, ChargePoint):  # type: ignore[misc]
    """The charge point (one or more connectors, one meter per connector)."""

    def __init__(
        self,
        cp_id: str,
        url: str,
        *,
        connectors: int = 1,
        register_wh: float = 1_234_000.0,
        voltage: float = 230.0,
        phases: int = 1,
        ev_max_a: float = 32.0,
        hardware_max_a: float = 32.0,
        sample_interval: int = 60,
        features: str = "Core,FirmwareManagement,SmartCharging,RemoteTrigger",
        refuse_profiles: bool = False,
    ) -> None:
        super().__init__(cp_id, None, response_timeout=10)
        self.url = url
        self.connectors = connectors
        self.voltage = voltage
        self.phases = phases
        self.ev_max_a = ev_max_a
        self.hardware_max_a = hardware_max_a
        self.sample_interval = sample_interval
        self.features = features
        self.refuse_profiles = refuse_profiles  # a charger that rejects every profile
        self.profiles: list[ReceivedProfile] = []
        self.last_tag: str | None = None
        self.conns = {n: Connector(n) for n in range(1, connectors + 1)}
        self.registers = {n: register_wh for n in self.conns}
        self._installed: dict[tuple[int, str], Profile] = {}
        self._booted = False
        self._reader: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        self._queue: list[Any] = []  # transaction messages while offline
        self.connected = False
        self.sent: list[str] = []
        self._remote_start: tuple[Connector, str] | None = None
        self._remote_stop: Connector | None = None

    # -- connection --------------------------------------------------------------------------

    subprotocol = "ocpp1.6"

    async def _boot(self) -> None:
        await self.call(
            call.BootNotification(
                charge_point_model="SimCharger", charge_point_vendor="PEV Portal tests"
            )
        )

    async def _announce(self) -> None:
        await self._send_status(0, ChargePointStatus.available)
        for conn in self.conns.values():
            await self._send_status(conn.connector_id, conn.status)

    def _queues(self, message: Any) -> bool:
        return isinstance(message, (call.MeterValues, call.StopTransaction))

    async def _send_status(self, connector_id: int, status: str) -> None:
        if connector_id:
            self.conns[connector_id].status = status
        if self.connected:
            self.sent.append("StatusNotification")
            await self.call(
                call.StatusNotification(
                    connector_id=connector_id,
                    error_code="NoError",
                    status=status,
                    timestamp=now_iso(),
                )
            )

    # -- the vehicle and the user ------------------------------------------------------------

    async def plug_in(self, tag: str | None, connector_id: int = 1) -> None:
        """Cable in (Preparing), then a card swiped: Authorize and StartTransaction."""
        conn = self.conns[connector_id]
        conn.plugged, conn.ev_full = True, False
        await self._send_status(connector_id, ChargePointStatus.preparing)
        if tag is not None:
            self.last_tag = tag
            await self._deliver(call.Authorize(id_tag=tag))
            await self._start_transaction(conn, tag)

    async def _start_transaction(self, conn: Connector, tag: str) -> None:
        conn.tag = tag
        conn.meter_start = round(self.registers[conn.connector_id])
        result = await self._deliver(
            call.StartTransaction(
                connector_id=conn.connector_id,
                id_tag=tag,
                meter_start=conn.meter_start,
                timestamp=now_iso(),
            )
        )
        conn.transaction_id = int(result.transaction_id) if result is not None else -1
        conn.since_sample = 0.0
        await self._apply(conn)

    async def unplug(self, connector_id: int = 1) -> int:
        """The EV side disconnects: StopTransaction (meterStop), then Available. Returns the
        transaction's energy in Wh by its own meter (meterStop - meterStart)."""
        conn = self.conns[connector_id]
        energy = 0
        if conn.transaction_id:
            energy = await self._stop_transaction(conn, "EVDisconnected")
        conn.plugged = False
        await self._send_status(connector_id, ChargePointStatus.available)
        return energy

    async def _stop_transaction(self, conn: Connector, reason: str) -> int:
        meter_stop = round(self.registers[conn.connector_id])
        tx, conn.transaction_id, conn.current_a = conn.transaction_id, 0, 0.0
        await self._deliver(
            call.StopTransaction(
                meter_stop=meter_stop,
                timestamp=now_iso(),
                transaction_id=tx,
                reason=reason,
                id_tag=conn.tag,
            )
        )
        conn.tag = None
        return meter_stop - conn.meter_start

    async def ev_full(self, connector_id: int = 1) -> None:
        """The vehicle stops drawing (SuspendedEV); the transaction goes on."""
        conn = self.conns[connector_id]
        conn.ev_full = True
        await self._apply(conn)

    # -- time --------------------------------------------------------------------------------

    def power_w(self, connector_id: int = 1) -> float:
        return self.conns[connector_id].current_a * self.voltage * self.phases

    def until_next_sample(self) -> float:
        """Seconds to the next MeterValues of a connector in a transaction (else inf)."""
        waits = [
            self.sample_interval - c.since_sample for c in self.conns.values() if c.transaction_id
        ]
        return min(waits) if waits else float("inf")

    async def advance(self, seconds: float) -> None:
        """Let the charge point run: energy at the present current, samples when due."""
        for conn in self.conns.values():
            self.registers[conn.connector_id] += self.power_w(conn.connector_id) * seconds / 3600
            if not conn.transaction_id:
                continue
            conn.since_sample += seconds
            if conn.since_sample >= self.sample_interval - 1e-9:
                conn.since_sample = 0.0
                await self._meter_values(conn)

    async def _meter_values(self, conn: Connector) -> None:
        n = conn.connector_id
        await self._deliver(
            call.MeterValues(
                connector_id=n,
                transaction_id=conn.transaction_id,
                meter_value=[
                    {
                        "timestamp": now_iso(),
                        "sampledValue": [
                            {
                                "value": str(round(self.registers[n])),
                                "context": "Sample.Periodic",
                                "measurand": "Energy.Active.Import.Register",
                                "location": "Outlet",
                                "unit": "Wh",
                            },
                            {
                                "value": f"{self.power_w(n):.0f}",
                                "context": "Sample.Periodic",
                                "measurand": "Power.Active.Import",
                                "location": "Outlet",
                                "unit": "W",
                            },
                            {
                                "value": f"{self.limit_a(n):.0f}",
                                "context": "Sample.Periodic",
                                "measurand": "Current.Offered",
                                "location": "Outlet",
                                "unit": "A",
                            },
                        ],
                    }
                ],
            )
        )

    # -- charging profiles -------------------------------------------------------------------

    def limit_a(self, connector_id: int = 1) -> float:
        """The composite limit: the charge point's maximum and the connector's tx profile."""
        limit = self.hardware_max_a
        if (station := self._installed.get((0, "ChargePointMaxProfile"))) is not None:
            limit = min(limit, station.limit_a)
        conn = self.conns[connector_id]
        tx_profiles = [
            p
            for (c, purpose), p in self._installed.items()
            if c in (0, connector_id)
            and (
                purpose == "TxDefaultProfile"
                or (purpose == "TxProfile" and p.transaction_id == conn.transaction_id)
            )
        ]
        if tx_profiles:
            limit = min(limit, max(tx_profiles, key=lambda p: p.stack_level).limit_a)
        return limit

    async def _apply(self, conn: Connector) -> None:
        """Charge at the limit, suspend below 6 A or when the EV is full; report a change."""
        if not conn.transaction_id:
            return
        limit = self.limit_a(conn.connector_id)
        if conn.ev_full:
            conn.current_a, status = 0.0, ChargePointStatus.suspended_ev
        elif limit < MIN_CURRENT_A:
            conn.current_a, status = 0.0, ChargePointStatus.suspended_evse
        else:
            conn.current_a, status = min(limit, self.ev_max_a), ChargePointStatus.charging
        if status != conn.status:
            await self._send_status(conn.connector_id, status)

    # -- requests from the central system ----------------------------------------------------

    def _configuration(self) -> dict[str, str]:
        return {
            "NumberOfConnectors": str(self.connectors),
            "SupportedFeatureProfiles": self.features,
            "HeartbeatInterval": "300",
            "MeterValueSampleInterval": str(self.sample_interval),
            "ChargeProfileMaxStackLevel": "3",
            "ChargingScheduleAllowedChargingRateUnit": "Current",
            "MeterValuesSampledData": (
                "Energy.Active.Import.Register,Power.Active.Import,Current.Offered"
            ),
        }

    @on(Action.get_configuration)
    def on_get_configuration(
        self, key: list[str] | None = None, **kwargs: Any
    ) -> call_result.GetConfiguration:
        config = self._configuration()
        wanted = key or list(config)
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": False, "value": config[k]} for k in wanted if k in config
            ],
            unknown_key=[k for k in wanted if k not in config] or None,
        )

    @on(Action.change_configuration)
    def on_change_configuration(
        self, key: str, value: str, **kwargs: Any
    ) -> call_result.ChangeConfiguration:
        if key == "MeterValueSampleInterval":
            self.sample_interval = int(value)
        return call_result.ChangeConfiguration(status=ConfigurationStatus.accepted)

    @on(Action.change_availability)
    def on_change_availability(self, **kwargs: Any) -> call_result.ChangeAvailability:
        return call_result.ChangeAvailability(status=AvailabilityStatus.accepted)

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **kwargs: Any
    ) -> call_result.TriggerMessage:
        return call_result.TriggerMessage(status=TriggerMessageStatus.accepted)

    @after(Action.trigger_message)
    def after_trigger_message(self, requested_message: str, **kwargs: Any) -> None:
        if requested_message == "StatusNotification":
            self._spawn(self._report_status)

    async def _report_status(self) -> None:
        for conn in self.conns.values():
            await self._send_status(conn.connector_id, conn.status)

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **kwargs: Any
    ) -> call_result.SetChargingProfile:
        schedule = cs_charging_profiles["charging_schedule"]
        period = schedule["charging_schedule_period"][0]
        profile = ReceivedProfile(
            connector_id=connector_id,
            purpose=cs_charging_profiles["charging_profile_purpose"],
            stack_level=int(cs_charging_profiles["stack_level"]),
            unit=schedule["charging_rate_unit"],
            limit=float(period["limit"]),
            transaction_id=cs_charging_profiles.get("transaction_id"),
        )
        self.profiles.append(profile)
        if profile.unit != "A" or self.refuse_profiles:
            return call_result.SetChargingProfile(status=ChargingProfileStatus.rejected)
        self._installed[(connector_id, profile.purpose)] = Profile(
            profile.stack_level, profile.limit, profile.transaction_id
        )
        return call_result.SetChargingProfile(status=ChargingProfileStatus.accepted)

    @after(Action.set_charging_profile)
    def after_set_charging_profile(self, **kwargs: Any) -> None:
        self._spawn(self._obey)

    async def _obey(self) -> None:
        """The new composite limit applies to every connector in a transaction."""
        for conn in self.conns.values():
            await self._apply(conn)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **kwargs: Any) -> call_result.ClearChargingProfile:
        self._installed.clear()
        return call_result.ClearChargingProfile(status=ClearChargingProfileStatus.accepted)

    @after(Action.clear_charging_profile)
    def after_clear_charging_profile(self, **kwargs: Any) -> None:
        self._spawn(self._obey)

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(
        self, id_tag: str, connector_id: int | None = None, **kwargs: Any
    ) -> call_result.RemoteStartTransaction:
        conn = self.conns[connector_id or 1]
        if not conn.plugged or conn.transaction_id:
            return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)
        self._remote_start = (conn, id_tag)
        return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.accepted)

    @after(Action.remote_start_transaction)
    def after_remote_start_transaction(self, **kwargs: Any) -> None:
        if self._remote_start is not None:
            conn, tag = self._remote_start
            self._remote_start = None
            self._spawn(lambda: self._start_transaction(conn, tag))

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(
        self, transaction_id: int, **kwargs: Any
    ) -> call_result.RemoteStopTransaction:
        conn = next((c for c in self.conns.values() if c.transaction_id == transaction_id), None)
        if conn is None:
            return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.rejected)
        self._remote_stop = conn
        return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.accepted)

    @after(Action.remote_stop_transaction)
    def after_remote_stop_transaction(self, **kwargs: Any) -> None:
        if (conn := self._remote_stop) is not None:
            self._remote_stop = None

            async def stop() -> None:
                await self._stop_transaction(conn, "Remote")
                # The cable is still in: the connector waits for it to be taken (Finishing).
                await self._send_status(conn.connector_id, ChargePointStatus.finishing)

            self._spawn(stop)

    @on(Action.reset)
    def on_reset(self, **kwargs: Any) -> call_result.Reset:
        return call_result.Reset(status=ResetStatus.accepted)

    @on(Action.unlock_connector)
    def on_unlock_connector(self, **kwargs: Any) -> call_result.UnlockConnector:
        return call_result.UnlockConnector(status=UnlockStatus.unlocked)
