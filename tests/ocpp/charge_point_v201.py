"""A simulated OCPP 2.0.1 charging station (one EVSE per connector), with the ``ocpp`` library.

It behaves as real 2.0.1 stations do towards a central system:

- it connects to ``ws://host:port/<station ID>`` with the ``ocpp2.0.1`` subprotocol, sends a
  BootNotification on its first connection and its connectors' StatusNotification (Available,
  Occupied) on every connection; it answers GetBaseReport(FullInventory) with one
  NotifyReport (its EVSEs and connectors, SmartChargingCtrlr.Available, the measurands);
- the transaction starts when the cable is plugged in (TxStartPoint EVConnected): a
  TransactionEvent Started (CablePluggedIn, chargingState EVConnected, the register as a
  Transaction.Begin reading, a transaction ID of its own, a UUID); a card then swiped is
  authorized (Authorize) and sent with a TransactionEvent Updated (Authorized) carrying the
  idToken (ISO14443); only then does it charge. It keeps the last token it read
  (``last_tag``); ``chargingState`` is sent when it changes (and at the start and end) only;
- it samples every ``TxUpdatedInterval`` seconds (60 by default, set by the central system
  with SetVariables) and only during a transaction: TransactionEvent Updated
  (MeterValuePeriodic) with the register (Wh), power (W) and offered current (A);
- it obeys charging profiles in A: the composite limit is the lowest of the
  ChargingStationMaxProfile (evse 0 only: on an EVSE it is rejected, as the standard says)
  and the EVSE's TxDefault/Tx profile of the highest stack level; below 6 A it suspends
  (chargingState SuspendedEVSE, a TransactionEvent Updated ChargingStateChanged) and keeps
  the transaction; ClearChargingProfile removes the profiles that match;
- unplugging ends the transaction: TransactionEvent Ended (EVCommunicationLost,
  stoppedReason EVDisconnected, chargingState Idle, the register as a Transaction.End
  reading), then StatusNotification Available; RequestStopTransaction ends it (Remote) and
  the cable stays in; RequestStartTransaction authorizes the running transaction with the
  central system's token;
- while the central system is unreachable, TransactionEvents are queued and sent in order
  (``offline``: true) once it is back.

Time is virtual, as for the 1.6 charge point (:mod:`tests.ocpp.charge_point`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from tests.ocpp.charge_point import MIN_CURRENT_A, ReceivedProfile
from tests.ocpp.station_link import StationLink

EAIR = "Energy.Active.Import.Register"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Evse:
    """One EVSE (with one connector) and the vehicle on it."""

    evse_id: int
    plugged: bool = False
    ev_full: bool = False
    token: str | None = None  # the transaction's idToken, once authorized
    transaction_id: str = ""
    charging_state: str = "Idle"
    reported_state: str = ""
    meter_start: int = 0
    current_a: float = 0.0
    since_sample: float = 0.0


@dataclass
class Profile:
    stack_level: int
    limit_a: float
    profile_id: int


class SimChargingStation(StationLink, ChargePoint):  # type: ignore[misc]
    """The charging station (``connectors`` EVSEs of one connector each)."""

    version = "2.0.1"

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
        self.refuse_profiles = refuse_profiles
        self.profiles: list[ReceivedProfile] = []
        self.cleared: list[dict[str, Any]] = []
        self.last_tag: str | None = None
        self.conns = {n: Evse(n) for n in range(1, connectors + 1)}
        self.registers = {n: register_wh for n in self.conns}
        self._installed: dict[tuple[int, str], Profile] = {}
        self._booted = False
        self._reader: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        self._queue: list[Any] = []
        self._seq = 0
        self.connected = False
        self.sent: list[str] = []
        self._after: Callable[[], Awaitable[Any]] | None = None

    # -- connection (as the 1.6 charge point) ----------------------------------------------

    subprotocol = "ocpp2.0.1"

    async def _boot(self) -> None:
        await self.call(
            call.BootNotification(
                charging_station={"model": "SimStation", "vendor_name": "PEV Portal tests"},
                reason="PowerUp",
            )
        )

    async def _announce(self) -> None:
        for evse in self.conns.values():
            await self._send_status(evse)

    def _queues(self, message: Any) -> bool:
        return isinstance(message, call.TransactionEvent)

    def _flushed(self, message: Any) -> None:
        message.offline = True

    async def _send_status(self, evse: Evse) -> None:
        if self.connected:
            self.sent.append("StatusNotification")
            await self.call(
                call.StatusNotification(
                    timestamp=now_iso(),
                    connector_status="Occupied" if evse.plugged else "Available",
                    evse_id=evse.evse_id,
                    connector_id=1,
                )
            )

    # -- transaction events ----------------------------------------------------------------

    def _readings(self, evse: Evse, context: str, *, flow: bool = True) -> list[dict[str, Any]]:
        n = evse.evse_id
        values: list[dict[str, Any]] = [
            {
                "value": round(self.registers[n]),
                "context": context,
                "measurand": EAIR,
                "location": "Outlet",
                "unit_of_measure": {"unit": "Wh"},
            }
        ]
        if flow:
            values += [
                {
                    "value": round(self.power_w(n)),
                    "context": context,
                    "measurand": "Power.Active.Import",
                    "location": "Outlet",
                    "unit_of_measure": {"unit": "W"},
                },
                {
                    "value": round(self.limit_a(n)),
                    "context": context,
                    "measurand": "Current.Offered",
                    "location": "Outlet",
                    "unit_of_measure": {"unit": "A"},
                },
            ]
        return [{"timestamp": now_iso(), "sampled_value": values}]

    async def _event(
        self,
        evse: Evse,
        event_type: str,
        trigger: str,
        *,
        readings: list[dict[str, Any]] | None = None,
        token: str | None = None,
        stopped_reason: str | None = None,
    ) -> Any:
        info: dict[str, Any] = {"transaction_id": evse.transaction_id}
        if evse.charging_state != evse.reported_state or event_type != "Updated":
            # chargingState only when it changed (and at the start and the end), as stations do.
            info["charging_state"] = evse.reported_state = evse.charging_state
        if stopped_reason:
            info["stopped_reason"] = stopped_reason
        self._seq += 1
        message = call.TransactionEvent(
            event_type=event_type,
            timestamp=now_iso(),
            trigger_reason=trigger,
            seq_no=self._seq,
            transaction_info=info,
            meter_value=readings,
            evse={"id": evse.evse_id, "connector_id": 1},
            id_token=_id_token(token) if token else None,
        )
        return await self._deliver(message)

    # -- the vehicle and the user ----------------------------------------------------------

    async def plug_in(self, tag: str | None, connector_id: int = 1) -> None:
        """Cable in: Occupied and the transaction Started; a card swiped: authorized."""
        evse = self.conns[connector_id]
        evse.plugged, evse.ev_full = True, False
        await self._send_status(evse)
        evse.transaction_id = str(uuid.uuid4())
        evse.charging_state = "EVConnected"
        evse.meter_start = round(self.registers[connector_id])
        evse.since_sample = 0.0
        await self._event(
            evse,
            "Started",
            "CablePluggedIn",
            readings=self._readings(evse, "Transaction.Begin", flow=False),
        )
        if tag is not None:
            await self.swipe(tag, connector_id)

    async def swipe(self, tag: str, connector_id: int = 1) -> None:
        """A card read: Authorize, then the transaction carries its idToken and charges."""
        evse = self.conns[connector_id]
        self.last_tag = tag
        await self._deliver(call.Authorize(id_token={"id_token": tag, "type": "ISO14443"}))
        await self._authorize(evse, tag, "Authorized")

    async def _authorize(self, evse: Evse, token: str, trigger: str) -> None:
        evse.token = token
        self._set_state(evse)
        await self._event(evse, "Updated", trigger, token=token)

    async def unplug(self, connector_id: int = 1) -> int:
        """The cable out: the transaction Ended (its energy in Wh returned), Available."""
        evse = self.conns[connector_id]
        energy = 0
        if evse.transaction_id:
            energy = await self._end(evse, "EVCommunicationLost", "EVDisconnected", "Idle")
        evse.plugged = False
        await self._send_status(evse)
        return energy

    async def _end(self, evse: Evse, trigger: str, reason: str, state: str) -> int:
        evse.current_a, evse.charging_state = 0.0, state
        stop = round(self.registers[evse.evse_id])
        await self._event(
            evse,
            "Ended",
            trigger,
            readings=self._readings(evse, "Transaction.End", flow=False),
            stopped_reason=reason,
        )
        evse.transaction_id, evse.token = "", None
        return stop - evse.meter_start

    async def ev_full(self, connector_id: int = 1) -> None:
        evse = self.conns[connector_id]
        evse.ev_full = True
        await self._apply(evse)

    # -- time ------------------------------------------------------------------------------

    def power_w(self, connector_id: int = 1) -> float:
        return self.conns[connector_id].current_a * self.voltage * self.phases

    def until_next_sample(self) -> float:
        waits = [
            self.sample_interval - e.since_sample
            for e in self.conns.values()
            if e.transaction_id and e.token
        ]
        return min(waits) if waits else float("inf")

    async def advance(self, seconds: float) -> None:
        for evse in self.conns.values():
            self.registers[evse.evse_id] += self.power_w(evse.evse_id) * seconds / 3600
            if not (evse.transaction_id and evse.token):
                continue
            evse.since_sample += seconds
            if evse.since_sample >= self.sample_interval - 1e-9:
                evse.since_sample = 0.0
                await self._event(
                    evse,
                    "Updated",
                    "MeterValuePeriodic",
                    readings=self._readings(evse, "Sample.Periodic"),
                )

    # -- charging profiles -----------------------------------------------------------------

    def limit_a(self, connector_id: int = 1) -> float:
        limit = self.hardware_max_a
        if (station := self._installed.get((0, "ChargingStationMaxProfile"))) is not None:
            limit = min(limit, station.limit_a)
        tx = [
            p
            for (e, purpose), p in self._installed.items()
            if e in (0, connector_id) and purpose in ("TxDefaultProfile", "TxProfile")
        ]
        if tx:
            limit = min(limit, max(tx, key=lambda p: p.stack_level).limit_a)
        return limit

    def _set_state(self, evse: Evse) -> None:
        limit = self.limit_a(evse.evse_id)
        if not evse.token:
            evse.current_a, evse.charging_state = 0.0, "EVConnected"
        elif evse.ev_full:
            evse.current_a, evse.charging_state = 0.0, "SuspendedEV"
        elif limit < MIN_CURRENT_A:
            evse.current_a, evse.charging_state = 0.0, "SuspendedEVSE"
        else:
            evse.current_a, evse.charging_state = min(limit, self.ev_max_a), "Charging"

    async def _apply(self, evse: Evse) -> None:
        """The new composite limit; a changed charging state is reported."""
        if not evse.transaction_id:
            return
        before = evse.charging_state
        self._set_state(evse)
        if evse.charging_state != before:
            await self._event(evse, "Updated", "ChargingStateChanged")

    async def _obey(self) -> None:
        for evse in self.conns.values():
            await self._apply(evse)

    # -- requests from the central system --------------------------------------------------

    @on(Action.get_base_report)
    def on_get_base_report(self, request_id: int, **kwargs: Any) -> call_result.GetBaseReport:
        self._after = lambda: self._report(request_id)
        return call_result.GetBaseReport(status="Accepted")

    @after(Action.get_base_report)
    def after_get_base_report(self, **kwargs: Any) -> None:
        self._run_after()

    def _run_after(self) -> None:
        if (work := self._after) is not None:
            self._after = None
            self._spawn(work)

    async def _report(self, request_id: int) -> None:
        def item(component: dict[str, Any], variable: str, value: str, **extra: Any) -> Any:
            return {
                "component": component,
                "variable": {"name": variable},
                "variable_attribute": [{"type": "Actual", "value": value}],
                **extra,
            }

        data = [
            item({"name": "SmartChargingCtrlr"}, "Available", "true"),
            item(
                {"name": "SampledDataCtrlr"},
                "TxUpdatedMeasurands",
                f"{EAIR},Power.Active.Import,Current.Offered",
                variable_characteristics={
                    "data_type": "MemberList",
                    "supports_monitoring": False,
                    "values_list": f"{EAIR},Power.Active.Import,Current.Offered",
                },
            ),
        ]
        for n in self.conns:
            data.append(item({"name": "EVSE", "evse": {"id": n}}, "Available", "true"))
            data.append(
                item(
                    {"name": "Connector", "evse": {"id": n, "connector_id": 1}}, "Available", "true"
                )
            )
        await self.call(
            call.NotifyReport(
                request_id=request_id, generated_at=now_iso(), seq_no=0, report_data=data
            )
        )

    @on(Action.set_variables)
    def on_set_variables(
        self, set_variable_data: list[dict[str, Any]], **kwargs: Any
    ) -> call_result.SetVariables:
        results = []
        for item in set_variable_data:
            if item["variable"]["name"] == "TxUpdatedInterval":
                self.sample_interval = int(item["attribute_value"])
            results.append(
                {
                    "attribute_status": "Accepted",
                    "component": item["component"],
                    "variable": item["variable"],
                }
            )
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.change_availability)
    def on_change_availability(self, **kwargs: Any) -> call_result.ChangeAvailability:
        return call_result.ChangeAvailability(status="Accepted")

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **kwargs: Any
    ) -> call_result.TriggerMessage:
        if requested_message == "StatusNotification":
            wanted = [self.conns[evse["id"]]] if evse else list(self.conns.values())

            async def report() -> None:
                for item in wanted:
                    await self._send_status(item)

            self._after = report
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    def after_trigger_message(self, **kwargs: Any) -> None:
        self._run_after()

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **kwargs: Any
    ) -> call_result.SetChargingProfile:
        schedule = charging_profile["charging_schedule"][0]
        period = schedule["charging_schedule_period"][0]
        purpose = charging_profile["charging_profile_purpose"]
        profile = ReceivedProfile(
            connector_id=evse_id,
            purpose=purpose,
            stack_level=int(charging_profile["stack_level"]),
            unit=schedule["charging_rate_unit"],
            limit=float(period["limit"]),
            transaction_id=charging_profile.get("transaction_id"),
        )
        self.profiles.append(profile)
        station_on_evse = purpose == "ChargingStationMaxProfile" and evse_id != 0
        if profile.unit != "A" or self.refuse_profiles or station_on_evse:
            return call_result.SetChargingProfile(status="Rejected")
        self._installed[(evse_id, purpose)] = Profile(
            profile.stack_level, profile.limit, int(charging_profile["id"])
        )
        self._after = self._obey
        return call_result.SetChargingProfile(status="Accepted")

    @after(Action.set_charging_profile)
    def after_set_charging_profile(self, **kwargs: Any) -> None:
        self._run_after()

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> call_result.ClearChargingProfile:
        criteria = charging_profile_criteria or {}
        self.cleared.append({"id": charging_profile_id, **criteria})
        matching = [
            key
            for key, p in self._installed.items()
            if (charging_profile_id is None or p.profile_id == charging_profile_id)
            and criteria.get("charging_profile_purpose", key[1]) == key[1]
            and criteria.get("evse_id", key[0]) == key[0]
        ]
        for key in matching:
            del self._installed[key]
        self._after = self._obey
        return call_result.ClearChargingProfile(status="Accepted" if matching else "Unknown")

    @after(Action.clear_charging_profile)
    def after_clear_charging_profile(self, **kwargs: Any) -> None:
        self._run_after()

    @on(Action.request_start_transaction)
    def on_request_start_transaction(
        self, id_token: dict[str, Any], evse_id: int | None = None, **kwargs: Any
    ) -> call_result.RequestStartTransaction:
        evse = self.conns[evse_id or 1]
        if not evse.plugged or not evse.transaction_id or evse.token:
            return call_result.RequestStartTransaction(status="Rejected")
        token = str(id_token["id_token"])
        self._after = lambda: self._authorize(evse, f"Central:{token}", "RemoteStart")
        return call_result.RequestStartTransaction(
            status="Accepted", transaction_id=evse.transaction_id
        )

    @after(Action.request_start_transaction)
    def after_request_start_transaction(self, **kwargs: Any) -> None:
        self._run_after()

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(
        self, transaction_id: str, **kwargs: Any
    ) -> call_result.RequestStopTransaction:
        evse = next((e for e in self.conns.values() if e.transaction_id == transaction_id), None)
        if evse is None:
            return call_result.RequestStopTransaction(status="Rejected")

        async def stop() -> None:
            await self._end(evse, "RemoteStop", "Remote", "EVConnected")

        self._after = stop
        return call_result.RequestStopTransaction(status="Accepted")

    @after(Action.request_stop_transaction)
    def after_request_stop_transaction(self, **kwargs: Any) -> None:
        self._run_after()

    @on(Action.reset)
    def on_reset(self, **kwargs: Any) -> call_result.Reset:
        return call_result.Reset(status="Accepted")

    @on(Action.unlock_connector)
    def on_unlock_connector(self, **kwargs: Any) -> call_result.UnlockConnector:
        return call_result.UnlockConnector(status="Unlocked")


def _id_token(token: str) -> dict[str, str]:
    """A card's idToken (ISO14443); a remote start's is the central system's (``Central:``)."""
    if token.startswith("Central:"):
        return {"id_token": token.removeprefix("Central:"), "type": "Central"}
    return {"id_token": token, "type": "ISO14443"}
