"""Experimental Energy Services Interface (ESI) toward Zigbee devices, through ZHA.

Answers GetCurrentPrice / GetScheduledPrices (Price, 0x0700) and GetScheduledEvents (DRLC,
0x0701) from Zigbee devices such as an in-home display or a Zigbee EVSE with the program's price
and the active local load-control events; publishes price changes and new events to the devices
that have a Price or DRLC client cluster; records their ReportEventStatus answers with the
active sessions. Frames are built and parsed with ``clusters.py``.

Experimental: certified Smart Energy devices need Certificate-Based Key Establishment and an SE
network, which ZHA does not run, so they cannot join; only devices that accept a Home
Automation network work. The coordinator must expose the ESI endpoint (``ESI_ENDPOINT``) through
ZHA's ``zigpy_config: additional_endpoints`` (see docs/zigbee.md); without it the ESI stays off.
"""

from __future__ import annotations

import contextlib
import logging
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util
from zigpy.zcl import Cluster

from ..const import DOMAIN
from . import ZHA_ERRORS, ZhaUnavailable, zigpy_application
from .clusters import (
    DEVICE_CLASS_EV,
    HA_PROFILE,
    SE_PROFILE,
    UNUSED_SETPOINT,
    UNUSED_U8,
    UNUSED_U32,
    ZLL_PROFILE,
    Drlc,
    Price,
    build_frame,
    parse_frame,
    utc_time,
)

if TYPE_CHECKING:
    from ..io.store import LedgerStore
    from ..ports import Premise
    from ..program_events import ProgramEvents

_LOGGER = logging.getLogger(__name__)

ESI_ENDPOINT: Final = 10
PRICE: Final = int(Price.cluster_id)
DRLC: Final = int(Drlc.cluster_id)
PRICE_TRAILING_DIGITS: Final = 4
KWH: Final = 0x00
CRITICALITY: Final = 2  # "level 1" (SE 1.1 table D-4): a local limit, not an emergency
MAX_EVENT_MINUTES: Final = 1440
# ZCL status codes (ZCL 8 table 2-12)
SUCCESS: Final = 0x00
UNSUP_CLUSTER_COMMAND: Final = 0x81
NOT_FOUND: Final = 0x8B
MAX_SCHEDULED: Final = 24
KEPT: Final = 100
EVENT_ZIGBEE_STATUS: Final = f"{DOMAIN}_zigbee_event_status"
# ISO 4217 numeric codes of the currencies a tariff is likely to use.
CURRENCIES: Final = {
    "AUD": 36,
    "CAD": 124,
    "CHF": 756,
    "CZK": 203,
    "DKK": 208,
    "EUR": 978,
    "GBP": 826,
    "JPY": 392,
    "NOK": 578,
    "NZD": 554,
    "PLN": 985,
    "SEK": 752,
    "USD": 840,
}


def _id(text: str) -> int:
    return zlib.crc32(text.encode()) & 0xFFFFFFFF


class EnergyServicesInterface:
    """The premise's ESI on the coordinator's ``ESI_ENDPOINT``."""

    def __init__(
        self,
        hass: HomeAssistant,
        premise: Premise,
        events: ProgramEvents,
        listen: Callable[[Callable[[], None]], Callable[[], None]],
    ) -> None:
        self.hass = hass
        self.premise = premise
        self.events = events
        self._listen = listen
        self.state = "stopped"
        self.provider_id = _id(premise.premise_id)
        self.acknowledgements: deque[dict[str, Any]] = deque(maxlen=KEPT)
        self.event_reports: deque[dict[str, Any]] = deque(maxlen=KEPT)
        self.by_session: dict[str, list[dict[str, Any]]] = {}
        self._app: Any = None
        self._clients: dict[tuple[str, int], set[int]] = {}
        self._published_price: tuple[Any, ...] | None = None
        self._published_events: set[int] = set()
        self._unsub: Callable[[], None] | None = None

    # -- life cycle ---------------------------------------------------------------------

    @callback
    def _local_events(self) -> list[dict[str, Any]]:
        """The premise's local events, in the dashboard's shape (kind, start, end, limit_kw);
        not those of one vehicle (a commissioning test is not the premise's event)."""
        return [e.as_dict() for e in self.events.local_events() if e.applies_to is None]

    def async_start(self) -> None:
        """Listen to zigpy's packets when ZHA runs with the ESI endpoint."""
        try:
            app = zigpy_application(self.hass)
            ready = _has_esi_endpoint(app)
        except (ZhaUnavailable, *ZHA_ERRORS) as err:
            self.state = "zha_unavailable"
            _LOGGER.warning("Zigbee ESI is off: %s", err)
            return
        if not ready:
            self.state = "no_endpoint"
            _LOGGER.warning(
                "Zigbee ESI is off: the coordinator has no endpoint %d with the Price cluster; "
                "add it to ZHA's zigpy_config additional_endpoints (see the documentation)",
                ESI_ENDPOINT,
            )
            return
        self._app = app
        app.add_listener(self)
        self._published_price = self._price_marker(dt_util.utcnow())
        self._published_events = {e["issuer_event_id"] for e in self.load_events()}
        self._unsub = self._listen(self._async_changed)
        self.state = "running"

    @callback
    def async_stop(self) -> None:
        """Stop listening."""
        if self._app is not None:
            with contextlib.suppress(*ZHA_ERRORS):
                self._app.remove_listener(self)
            self._app = None
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        self.state = "stopped"

    # -- what is served -----------------------------------------------------------------

    def price_fields(self, now: datetime) -> dict[str, Any]:
        """PublishPrice fields for the program's price at ``now``."""
        tariff = self.events.program_tariff
        segment = tariff.price_at(now)
        start = max(segment.start, now - timedelta(days=1))
        minutes = int((segment.end - start).total_seconds() // 60)
        scaled = int((segment.price * Decimal(10) ** PRICE_TRAILING_DIGITS).to_integral_value())
        return {
            "provider_id": self.provider_id,
            "rate_label": segment.period.encode()[:12],
            "issuer_event_id": _id(f"{segment.period}:{segment.price}"),
            "current_time": utc_time(now),
            "unit_of_measure": KWH,
            "currency": CURRENCIES.get(tariff.currency, 0xFFFF),
            "price_trailing_digit_and_tier": PRICE_TRAILING_DIGITS << 4,
            "num_price_tiers_and_register_tier": 0,
            "start_time": utc_time(start),
            "duration_in_minutes": minutes if minutes < 0xFFFF else 0xFFFF,
            "price": min(max(scaled, 0), UNUSED_U32 - 1),
            "price_ratio": UNUSED_U8,
            "generation_price": UNUSED_U32,
            "generation_price_ratio": UNUSED_U8,
            "alternate_cost_delivered": UNUSED_U32,
            "alternate_cost_unit": UNUSED_U8,
            "alternate_cost_trailing_digit": UNUSED_U8,
            "number_of_block_thresholds": UNUSED_U8,
            "price_control": 0,
        }

    def _price_marker(self, now: datetime) -> tuple[Any, ...]:
        fields = self.price_fields(now)
        return (fields["issuer_event_id"], fields["price"], fields["rate_label"])

    def load_events(self, after: datetime | None = None) -> list[dict[str, Any]]:
        """LoadControlEvent fields for the local load-control events not yet over."""
        now = dt_util.utcnow()
        after = after or now
        max_kw = sum(r.adapter.max_power_kw() for r in self.premise.chargers.values()) or 1.0
        events = []
        for event in self._local_events():
            if event["kind"] != "load_control" or event["end"] <= after:
                continue
            limit = float(event.get("limit_kw") or 0.0)
            adjustment = max(-100, min(0, round(limit / max_kw * 100) - 100))
            minutes = int((event["end"] - event["start"]).total_seconds() // 60)
            events.append(
                {
                    "issuer_event_id": _id(event["event_id"]),
                    "device_class": DEVICE_CLASS_EV,
                    "utility_enrollment_group": 0,
                    "start_time": utc_time(event["start"]),
                    "duration_in_minutes": min(minutes, MAX_EVENT_MINUTES),
                    "criticality_level": CRITICALITY,
                    "cooling_temperature_offset": UNUSED_U8,
                    "heating_temperature_offset": UNUSED_U8,
                    "cooling_temperature_set_point": UNUSED_SETPOINT,
                    "heating_temperature_set_point": UNUSED_SETPOINT,
                    "average_load_adjustment_percentage": adjustment,
                    "duty_cycle": UNUSED_U8,
                    "event_control": 0,
                }
            )
        return events

    # -- zigpy listener -----------------------------------------------------------------

    def handle_message(
        self,
        device: Any,
        profile: int,
        cluster: int,
        src_ep: int,
        dst_ep: int,
        message: bytes,
    ) -> None:
        """zigpy's application listener: every packet, before the device handles it.

        The ESI answers each request once, on the profile it came on. zigpy would answer a
        Home Automation profile request to Price or DRLC as well (the requester's client
        cluster sends a Default Response SUCCESS for every cluster command it has no handler
        for): the requester's client cluster is replaced by one that leaves the answer to the
        ESI. zigpy drops Smart Energy profile frames (it parses ZCL on the HA and ZLL profiles
        only), so a display on profile 0x0109 could not finish its interview: its other frames
        are handed to zigpy as the same ZCL frame on the HA profile.
        """
        ours = cluster in (PRICE, DRLC) and dst_ep == ESI_ENDPOINT
        if profile == SE_PROFILE and src_ep != 0 and not ours:
            self._hand_to_zigpy(device, cluster, src_ep, dst_ep, message)
            return
        if not ours:
            return
        self._adopt_client(device, src_ep, cluster)
        try:
            hdr, name, fields = parse_frame(cluster, message)
        except ValueError as err:
            _LOGGER.debug("Zigbee ESI: frame %s not served: %s", message.hex(), err)
            self._unsupported(device, profile, src_ep, cluster, message)
            return
        ieee = str(device.ieee)
        self._clients.setdefault((ieee, src_ep), set()).add(cluster)
        now = dt_util.utcnow()
        to = _Peer(device, src_ep, profile)
        if name == "get_current_price":
            self._send(to, PRICE, "publish_price", hdr.tsn, self.price_fields(now))
        elif name == "get_scheduled_prices":
            self._scheduled_prices(to, hdr.tsn, fields, now)
        elif name == "price_acknowledgement":
            self.acknowledgements.append(
                {"at": now.isoformat(), "device": ieee, "issuer_event_id": fields.issuer_event_id}
            )
            self._default_response(to, cluster, hdr, SUCCESS)
        elif name == "get_scheduled_events":
            after = None if not fields.start_time else _from_zigbee(fields.start_time)
            events = self.load_events(after)
            if fields.number_of_events:
                events = events[: fields.number_of_events]
            if not events:
                self._default_response(to, DRLC, hdr, NOT_FOUND, always=True)
            for event in events:
                self._send(to, DRLC, "load_control_event", hdr.tsn, event)
        elif name == "report_event_status":
            self._record_status(ieee, fields, now)
            self._default_response(to, cluster, hdr, SUCCESS)

    def _adopt_client(self, device: Any, src_ep: int, cluster: int) -> None:
        """Replace the requester's zigpy client cluster by one that leaves answers to us."""
        try:
            endpoint = device.endpoints[src_ep]
            current = endpoint.out_clusters.get(cluster)
            if current is None or isinstance(current, EsiServedClient):
                return
            endpoint.add_output_cluster(cluster, SERVED_CLIENTS[cluster](endpoint, is_server=False))
        except (*ZHA_ERRORS, IndexError) as err:
            _LOGGER.debug("Zigbee ESI: cannot take over %s's client cluster: %r", device, err)

    def _hand_to_zigpy(
        self, device: Any, cluster: int, src_ep: int, dst_ep: int, message: bytes
    ) -> None:
        """A Smart Energy profile ZCL frame, to zigpy as the same frame on the HA profile."""
        try:
            from zigpy import types as t

            # zigpy's field types are its own int subclasses; it converts plain ints itself.
            packet_type: Any = t.ZigbeePacket
            nwk: Any = t.NWK
            packet = packet_type(
                src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=device.nwk),
                src_ep=src_ep,
                dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=nwk(0x0000)),
                dst_ep=dst_ep,
                tsn=message[3] if message[0] & 0x04 else message[1],
                profile_id=HA_PROFILE,
                cluster_id=cluster,
                data=t.SerializableBytes(message),
            )
            device.packet_received(packet)
        except (*ZHA_ERRORS, IndexError, ValueError) as err:
            _LOGGER.debug(
                "Zigbee ESI: SE frame %s from %s not handed on: %r", message.hex(), device, err
            )

    def _scheduled_prices(self, to: _Peer, tsn: int, fields: Any, now: datetime) -> None:
        at = max(now, _from_zigbee(fields.start_time)) if fields.start_time else now
        count = min(fields.number_of_events or MAX_SCHEDULED, MAX_SCHEDULED)
        for _ in range(count):
            price = self.price_fields(at)
            self._send(to, PRICE, "publish_price", tsn, price)
            end = self.events.program_tariff.price_at(at).end
            if end - at >= timedelta(days=1):
                break
            at = end

    def _record_status(self, ieee: str, fields: Any, now: datetime) -> None:
        ours = {
            _id(e["event_id"]): e["event_id"]
            for e in self._local_events()
            if e["kind"] == "load_control"
        }
        record = {
            "at": now.isoformat(),
            "device": ieee,
            "issuer_event_id": int(fields.issuer_event_id),
            "event_id": ours.get(int(fields.issuer_event_id)),
            "status": fields.event_status.name,
            "status_time": _from_zigbee(fields.event_status_time).isoformat(),
            "criticality_applied": int(fields.criticality_level_applied),
            "load_adjustment_applied": int(fields.average_load_adjustment_percentage_applied),
            "duty_cycle_applied": int(fields.duty_cycle_applied),
        }
        self.event_reports.append(record)
        sessions = [r.session.session_id for r in self.premise.chargers.values() if r.session]
        for session_id in sessions:
            kept = self.by_session.setdefault(session_id, [])
            kept.append(record)
            future = self.premise.store.submit(
                partial(_save, f"zigbee_event_status:{session_id}", list(kept))
            )
            future.add_done_callback(_log_failure)
        self.hass.bus.async_fire(EVENT_ZIGBEE_STATUS, {**record, "sessions": sessions})

    # -- publishing ---------------------------------------------------------------------

    @callback
    def _async_changed(self) -> None:
        """The premise changed: publish a new price and new events to the clients."""
        now = dt_util.utcnow()
        marker = self._price_marker(now)
        if marker != self._published_price:
            self._published_price = marker
            self.publish(PRICE, "publish_price", [self.price_fields(now)])
        events = self.load_events()
        new = [e for e in events if e["issuer_event_id"] not in self._published_events]
        self._published_events |= {e["issuer_event_id"] for e in events}
        if new:
            self.publish(DRLC, "load_control_event", new)

    def clients(self, cluster: int) -> list[_Peer]:
        """Devices (and endpoints) with a client of the cluster, or that asked us."""
        found: dict[tuple[str, int], _Peer] = {}
        app = self._app
        if app is None:
            return []
        try:
            for ieee, device in list(app.devices.items()):
                for endpoint_id, endpoint in device.endpoints.items():
                    if endpoint_id != 0 and cluster in endpoint.out_clusters:
                        found[(str(ieee), endpoint_id)] = _Peer(
                            device, endpoint_id, _profile_of(endpoint)
                        )
            for (ieee, endpoint_id), clusters in self._clients.items():
                if cluster in clusters and (ieee, endpoint_id) not in found:
                    device = app.get_device(ieee=_eui64(ieee))
                    endpoint = device.endpoints.get(endpoint_id)
                    profile = _profile_of(endpoint) if endpoint is not None else SE_PROFILE
                    found[(ieee, endpoint_id)] = _Peer(device, endpoint_id, profile)
        except ZHA_ERRORS as err:
            _LOGGER.debug("Zigbee ESI: listing clients failed: %r", err)
        return list(found.values())

    def publish(self, cluster: int, name: str, payloads: list[dict[str, Any]]) -> None:
        """Send unsolicited commands to every client of the cluster, on its profile."""
        if self._app is None:
            return
        for peer in self.clients(cluster):
            for fields in payloads:
                self._send(peer, cluster, name, self._app.get_sequence(), fields)

    def _send(self, to: _Peer, cluster: int, name: str, tsn: int, fields: dict[str, Any]) -> None:
        frame = build_frame(cluster, name, tsn, **fields)
        self._request(to, cluster, tsn, frame)

    def _default_response(
        self, to: _Peer, cluster: int, hdr: Any, status: int, *, always: bool = False
    ) -> None:
        """Default Response (ZCL 2.5.12), server to client: the command id and a status.

        Sent when the request asked for one; ``always`` for an error status (ZCL 2.5.12.2: a
        failure is answered even when the requester disabled the default response).
        """
        if hdr.frame_control.disable_default_response and not always:
            return
        frame = bytes([0x18, hdr.tsn, 0x0B, hdr.command_id, status])
        self._request(to, cluster, hdr.tsn, frame)

    def _unsupported(
        self, device: Any, profile: int, src_ep: int, cluster: int, message: bytes
    ) -> None:
        """A cluster command the ESI does not serve: UNSUP_CLUSTER_COMMAND, once."""
        try:
            hdr, _ = _zcl_header(message)
        except ValueError:
            return
        if hdr.frame_control.is_cluster and hdr.direction == 0:  # client to server
            self._default_response(
                _Peer(device, src_ep, profile), cluster, hdr, UNSUP_CLUSTER_COMMAND, always=True
            )

    def _request(self, to: _Peer, cluster: int, tsn: int, frame: bytes) -> None:
        async def _send() -> None:
            try:
                await to.device.request(
                    to.profile, cluster, ESI_ENDPOINT, to.endpoint, tsn, frame, expect_reply=False
                )
            except Exception as err:
                _LOGGER.debug("Zigbee ESI: sending to %s failed: %r", to.device, err)

        self.hass.async_create_task(_send(), "pev_portal_zigbee_esi_send")

    def details(self) -> dict[str, Any]:
        """What diagnostics show of the ESI."""
        return {
            "state": self.state,
            "endpoint": ESI_ENDPOINT,
            "clients": sorted(f"{ieee}/{ep}" for ieee, ep in self._clients),
            "acknowledgements": list(self.acknowledgements),
            "event_reports": list(self.event_reports),
        }


@dataclass(frozen=True, slots=True)
class _Peer:
    """Where an answer or a publication goes: a device's endpoint, on its profile."""

    device: Any
    endpoint: int
    profile: int


def _profile_of(endpoint: Any) -> int:
    """The profile to address an endpoint on (ZLL endpoints take ZCL on the HA profile)."""
    profile = getattr(endpoint, "profile_id", None)
    if profile == ZLL_PROFILE or profile is None:
        return HA_PROFILE
    return int(profile)


def _zcl_header(message: bytes) -> tuple[Any, bytes]:
    from zigpy.zcl import foundation

    try:
        header: tuple[Any, bytes] = foundation.ZCLHeader.deserialize(message)
    except (ValueError, KeyError) as err:
        raise ValueError(f"not a ZCL frame: {err}") from err
    return header


class EsiServedClient(Cluster):
    """A device's Price or DRLC client cluster whose requests the ESI answers.

    zigpy's ``Cluster.handle_cluster_request`` sends a Default Response SUCCESS to every cluster
    command it has no handler for; the ESI sends the real answer (PublishPrice,
    LoadControlEvent, or a Default Response with the right status), so this one sends nothing.
    """

    _skip_registry = True

    def handle_cluster_request(self, hdr: Any, args: Any, *, dst_addressing: Any = None) -> None:
        """The ESI answers (``EnergyServicesInterface.handle_message``)."""


class ServedPriceClient(EsiServedClient, Price):
    """A Price client served by the ESI."""

    _skip_registry = True


class ServedDrlcClient(EsiServedClient, Drlc):
    """A DRLC client served by the ESI."""

    _skip_registry = True


SERVED_CLIENTS: Final[dict[int, type[EsiServedClient]]] = {
    PRICE: ServedPriceClient,
    DRLC: ServedDrlcClient,
}


def _has_esi_endpoint(app: Any) -> bool:
    """Whether the coordinator exposes the ESI endpoint with the Price cluster."""
    for descriptor in app.config.get("additional_endpoints", []) or []:
        if descriptor.endpoint == ESI_ENDPOINT and PRICE in descriptor.input_clusters:
            return True
    coordinator = app.get_device(ieee=app.state.node_info.ieee)
    endpoint = coordinator.endpoints.get(ESI_ENDPOINT)
    return endpoint is not None and PRICE in endpoint.in_clusters


def _eui64(ieee: str) -> Any:
    from zigpy.types import EUI64

    return EUI64.convert(ieee)


def _from_zigbee(value: int) -> datetime:
    from .clusters import from_utc_time

    return from_utc_time(value)


def _save(key: str, value: list[dict[str, Any]], store: LedgerStore) -> None:
    store.set_meta(key, value)


def _log_failure(future: Any) -> None:
    if not future.cancelled() and (err := future.exception()) is not None:
        _LOGGER.error("Recording a Zigbee event status failed: %s", err)
