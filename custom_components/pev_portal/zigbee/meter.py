"""The end-use meter as a Zigbee Metering cluster (0x0702) reached through ZHA.

* kWh is computed here from CurrentSummationDelivered with the multiplier and divisor (user
  override; else, for a device whose zhaquirks quirk ZHA did not apply, the built-in corrections
  table; else the values ZHA has, after its quirks; 0 or missing count as 1), never from the
  formatting bits (``core/smart_energy.py``). No reading is passed on before the scaling is
  known, so a session never starts on an unscaled register.
* Values are taken from zigpy's ``attribute_report``, ``attribute_read`` and
  ``attribute_updated`` events: a value a quirk transformed (or set, as the Innr SP 120's
  summation) only comes as ``attribute_updated``.
* The meter ID on every reading is the device's IEEE address. A different address on the same
  charger (the meter was replaced and the charger reconfigured) and a falling summation are
  meter changes the interval ledger handles as a new meter epoch.
* Reporting is configured to suit the metering interval: the summation at least once per
  interval, the demand on change. At each interval boundary the summation is read when no report
  arrived in the last ``BOUNDARY_FRESH_SECONDS``, so interval energy does not depend on the
  meter's reporting.
* Status bits that make readings doubtful raise a repairs issue, and every interval they touch is
  marked (OK becomes ESTIMATED; the marks are listed in diagnostics).
* Everything that reaches into ZHA goes through the package's helpers. When ZHA is absent, not
  loaded or changed, the meter falls back to ZHA's summation sensor entity (same meter ID) and
  tries the cluster again at every interval boundary.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from .. import repairs
from ..adapters import MeterAdapter, SensorMeter
from ..const import CONF_METER_DIVISOR, CONF_METER_MULTIPLIER, CONF_ZHA_DEVICE, CONF_ZHA_IEEE
from ..core.metering import Interval, Quality
from ..core.smart_energy import (
    Correction,
    Scaling,
    StatusTimeline,
    UnitError,
    alarm_names,
    demand_kw,
    device_type_name,
    find_correction,
    formatting_details,
    metering_kwh,
    resolve_scaling,
)
from . import ZHA_ERRORS, ZhaUnavailable, ieee_of_device, metering_cluster, summation_entity

if TYPE_CHECKING:
    from ..ports import Premise

_LOGGER = logging.getLogger(__name__)

SUMMATION: Final = "current_summ_delivered"
# CurrentSummationReceived (0x0001): the energy fed back through the meter (power feed), scaled
# as the delivered summation; a meter that never reports it has no received register.
RECEIVED: Final = "current_summ_received"
DEMAND: Final = "instantaneous_demand"
# Read once at attach when the cache does not have them.
DESCRIPTIVE: Final = (
    "multiplier",
    "divisor",
    "unit_of_measure",
    "summation_formatting",
    "metering_device_type",
    "status",
)
TRACKED: Final = frozenset({SUMMATION, RECEIVED, DEMAND, *DESCRIPTIVE})
# zigpy's cluster events that carry an attribute's new value (zigpy 2.x).
CLUSTER_EVENTS: Final = ("attribute_report", "attribute_read", "attribute_updated")
# What ZHA scales the summation with, as the cluster (after its quirk) has them.
SCALING_ATTRIBUTES: Final = ("multiplier", "divisor", "unit_of_measure")
# A report this recent at a boundary makes the boundary read unnecessary.
BOUNDARY_FRESH_SECONDS: Final = 30
SUMMATION_MIN_REPORT_S: Final = 10
DEMAND_MIN_REPORT_S: Final = 5
MARKS_KEPT: Final = 200
OTA_CLUSTER: Final = 0x0019

type ReadingCallback = Callable[[datetime, float, str], None]


class ZhaMeter(MeterAdapter):
    """A Zigbee Smart Energy end-use meter paired through ZHA."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        ieee: str,
        device_id: str | None,
        interval_minutes: int,
        entry_id: str,
        charger_id: str,
        charger_name: str,
        multiplier: int | None = None,
        divisor: int | None = None,
    ) -> None:
        self.hass = hass
        self.meter_id = ieee.lower()
        self.device_id = device_id
        self.interval_minutes = interval_minutes
        self.entry_id = entry_id
        self.charger_id = charger_id
        self.charger_name = charger_name
        self.override_multiplier = multiplier or None
        self.override_divisor = divisor or None
        self.source = "unavailable"  # "zigbee", "sensor" (fallback) or "unavailable"
        self.problem: str | None = None
        self.status = StatusTimeline()
        self.marked: deque[dict[str, Any]] = deque(maxlen=MARKS_KEPT)
        self.boundary_reads = 0
        self.reporting: dict[str, str] = {}
        self.correction: Correction | None = None
        self.quirked = False
        self.manufacturer: str | None = None
        self.model: str | None = None
        self._cluster: Any = None
        self._cluster_unsubs: list[Callable[[], None]] = []
        self._fallback: SensorMeter | None = None
        self._fallback_unsub: CALLBACK_TYPE | None = None
        self._on_reading: ReadingCallback | None = None
        self._values: dict[str, int] = {}
        self._described = False  # the descriptive attributes were read (or could not be)
        self._pending: tuple[datetime, int] | None = None
        self._received_raw: tuple[datetime, int] | None = None
        self._received: tuple[datetime, float] | None = None
        self._last: tuple[datetime, float] | None = None
        self._last_summation_at: datetime | None = None
        self._power: float | None = None
        self._boundary_unsub: CALLBACK_TYPE | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_config(
        cls, premise: Premise, charger_id: str, name: str, data: dict[str, Any]
    ) -> ZhaMeter:
        """The meter a charger subentry configures (meter_source "zha")."""
        device_id = data.get(CONF_ZHA_DEVICE)
        ieee = data.get(CONF_ZHA_IEEE) or (
            ieee_of_device(premise.hass, device_id) if device_id else None
        )
        return cls(
            premise.hass,
            ieee=ieee or f"unknown-{charger_id}",
            device_id=device_id,
            interval_minutes=premise.interval_minutes,
            entry_id=premise.entry_id,
            charger_id=charger_id,
            charger_name=name,
            multiplier=_positive(data.get(CONF_METER_MULTIPLIER)),
            divisor=_positive(data.get(CONF_METER_DIVISOR)),
        )

    # -- MeterAdapter -------------------------------------------------------------------

    def reading(self) -> tuple[datetime, float] | None:
        """The latest register reading (time, kWh)."""
        if self.source == "sensor" and self._fallback is not None:
            return self._fallback.reading()
        return self._last

    def power_kw(self) -> float | None:
        """InstantaneousDemand in kW (None before the first report)."""
        return self._power

    def received_reading(self) -> tuple[datetime, float] | None:
        """CurrentSummationReceived in kWh (None: never reported, not scaled yet, or the cluster
        is out of reach: on the fallback sensor a register once seen is doubtful, not flat)."""
        return self._received if self.source == "zigbee" else None

    def async_listen_readings(self, on_reading: ReadingCallback) -> CALLBACK_TYPE:
        """Attach to the Metering cluster (or the fallback sensor) and watch the boundaries."""
        self._on_reading = on_reading
        self._attach()
        self._schedule_boundary()
        return self._async_stop

    def mark_intervals(self, intervals: list[Interval]) -> list[Interval]:
        """Mark the intervals a status alarm touched: OK becomes ESTIMATED; remember why."""
        marked = []
        for interval in intervals:
            bits = self.status.alarms_between(interval.start, interval.end)
            if bits:
                self.marked.append(
                    {
                        "start": interval.start.isoformat(),
                        "end": interval.end.isoformat(),
                        "status": alarm_names(bits),
                    }
                )
                if interval.quality is Quality.OK:
                    interval = replace(interval, quality=Quality.ESTIMATED)
            marked.append(interval)
        if intervals:
            self.status.prune(intervals[-1].end)
        return marked

    def meter_details(self) -> dict[str, Any]:
        """What diagnostics show of the meter."""
        scaling = self.scaling()
        return {
            "type": "zha",
            "source": self.source,
            "problem": self.problem,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "unit_of_measure": self._shown("unit_of_measure"),
            "metering_device_type": device_type_name(self._values.get("metering_device_type")),
            "summation_formatting": formatting_details(self._values.get("summation_formatting")),
            "reported": {
                "multiplier": self._values.get("multiplier"),
                "divisor": self._values.get("divisor"),
            },
            "zha_shows": {
                "multiplier": self._shown("multiplier"),
                "divisor": self._shown("divisor"),
            },
            "multiplier": scaling.multiplier,
            "divisor": scaling.divisor,
            "multiplier_source": scaling.multiplier_source,
            "divisor_source": scaling.divisor_source,
            "correction": scaling.note,
            "zha_quirk": self.quirked,
            "status": alarm_names(self._values.get("status", 0)),
            "marked_intervals": list(self.marked),
            "boundary_reads": self.boundary_reads,
            "reporting": dict(self.reporting),
            "power_kw": self._power,
            "received_kwh": self._received[1] if self._received is not None else None,
        }

    # -- scaling ------------------------------------------------------------------------

    def _shown(self, name: str) -> int | None:
        """An attribute as ZHA has it: the cluster's value (a quirk's constant included).

        ZHA scales its own sensors with ``cluster.get``, which answers a quirk's constants
        (``_CONSTANT_ATTRIBUTES``) over what the device sent; the values this meter saw in
        events are the fallback.
        """
        if self._cluster is not None and name in SCALING_ATTRIBUTES:
            try:
                value = self._cluster.get(name)
                if value is not None:
                    return int(value)
            except (*ZHA_ERRORS, ValueError) as err:
                _LOGGER.debug("Meter %s: reading %s from ZHA: %r", self.meter_id, name, err)
        return self._values.get(name)

    def scaling(self) -> Scaling:
        """The multiplier and divisor in use now."""
        return resolve_scaling(
            self._shown("multiplier"),
            self._shown("divisor"),
            # A ZHA quirk already corrects the cluster's values: do not correct twice.
            correction=None if self.quirked else self.correction,
            override_multiplier=self.override_multiplier,
            override_divisor=self.override_divisor,
        )

    def _scaling_known(self) -> bool:
        if self._described:
            return True
        correction = None if self.quirked else self.correction
        return all(
            override
            or (correction is not None and getattr(correction, name))
            or self._shown(name) is not None
            for name, override in (
                ("multiplier", self.override_multiplier),
                ("divisor", self.override_divisor),
            )
        )

    # -- ZHA ----------------------------------------------------------------------------

    def _attach(self) -> bool:
        """Subscribe to the Metering cluster; on failure use the fallback sensor."""
        try:
            cluster = metering_cluster(self.hass, self.meter_id)
            # A report or read zigpy took as it came is an attribute_report or attribute_read;
            # one a quirk transformed (or set itself, as the Innr SP 120's summation) is an
            # attribute_updated: the value ZHA shows.
            unsubs = [cluster.on_event(event, self._on_event) for event in CLUSTER_EVENTS]
            device = cluster.endpoint.device
            self.manufacturer, self.model = device.manufacturer, device.model
            firmware = _firmware(device)
            self.correction = find_correction(self.manufacturer, self.model, firmware)
            self.quirked = _is_quirk(cluster)
            cached = {name: cluster.get(name) for name in TRACKED if name != SUMMATION}
        except (ZhaUnavailable, *ZHA_ERRORS) as err:
            self._use_fallback(err)
            return False
        self._drop_fallback()
        self._cluster, self._cluster_unsubs = cluster, unsubs
        self.source, self.problem = "zigbee", None
        now = dt_util.utcnow()
        for name, value in cached.items():
            if value is not None:
                self._on_attribute(name, value, now)
        if self.correction is not None and not self.quirked:
            _LOGGER.info("Meter %s: %s", self.meter_id, self.correction.note)
        self._spawn(self._async_configure(cluster))
        return True

    def _detach(self) -> None:
        for unsub in self._cluster_unsubs:
            unsub()
        self._cluster_unsubs = []
        self._cluster = None

    def _use_fallback(self, err: BaseException) -> None:
        self._detach()
        if self._fallback is not None:
            return
        entity_id = summation_entity(self.hass, self.device_id) if self.device_id else None
        if entity_id is None:
            self.source = "unavailable"
            self.problem = f"ZHA unavailable and no summation sensor: {err}"
            _LOGGER.warning("Meter %s: %s", self.meter_id, self.problem)
            return
        _LOGGER.warning(
            "Meter %s: %s; using ZHA's sensor %s until ZHA is back", self.meter_id, err, entity_id
        )
        self._fallback = SensorMeter(self.hass, entity_id, self.meter_id)
        self._fallback_unsub = self._fallback.async_listen_readings(self._fallback_reading)
        self.source, self.problem = "sensor", str(err)

    def _drop_fallback(self) -> None:
        if self._fallback_unsub is not None:
            self._fallback_unsub()
        self._fallback, self._fallback_unsub = None, None

    @callback
    def _fallback_reading(self, at: datetime, kwh: float, _meter_id: str) -> None:
        self._last = (at, kwh)
        if self._on_reading is not None:
            self._on_reading(at, kwh, self.meter_id)

    async def _async_configure(self, cluster: Any) -> None:
        """Read what the cache lacks, then configure reporting to suit the interval."""
        try:
            missing = [name for name in DESCRIPTIVE if name not in self._values]
            if missing:
                await cluster.read_attributes(missing, allow_cache=False)
        except Exception as err:
            _LOGGER.debug("Meter %s: reading its attributes failed: %r", self.meter_id, err)
        finally:
            self._described = True
            self._flush_pending()
            self._scale_received()
        if self._last_summation_at is None:
            await self._async_read_summation(cluster)
        interval_s = min(self.interval_minutes * 60, 0xFFFE)
        for name, minimum in ((SUMMATION, SUMMATION_MIN_REPORT_S), (DEMAND, DEMAND_MIN_REPORT_S)):
            try:
                result = await cluster.configure_reporting(
                    name, min(minimum, interval_s), interval_s, 1
                )
                self.reporting[name] = _status_text(result)
            except Exception as err:
                self.reporting[name] = f"failed: {err!r}"
                _LOGGER.debug("Meter %s: configuring %s failed: %r", self.meter_id, name, err)

    async def _async_read_summation(self, cluster: Any) -> None:
        names = [SUMMATION] if self._received_raw is None else [SUMMATION, RECEIVED]
        try:
            await cluster.read_attributes(names, allow_cache=False)
        except Exception as err:
            _LOGGER.debug("Meter %s: reading the summation failed: %r", self.meter_id, err)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self.hass.async_create_task(coro, f"pev_portal_zha_meter_{self.meter_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- attribute updates --------------------------------------------------------------

    @callback
    def _on_event(self, event: Any) -> None:
        try:
            name, value = event.attribute_name, event.value
        except AttributeError as err:
            _LOGGER.debug("Meter %s: unexpected zigpy event %r: %r", self.meter_id, event, err)
            return
        if name in TRACKED and value is not None:
            self._on_attribute(name, value, dt_util.utcnow())

    def _on_attribute(self, name: str, value: Any, at: datetime) -> None:
        try:
            raw = int(value)
        except TypeError, ValueError:
            return
        if name == SUMMATION:
            self._last_summation_at = at
            self._pending = (at, raw)
            self._flush_pending()
            return
        if name == RECEIVED:
            self._received_raw = (at, raw)
            self._scale_received()
            return
        self._values[name] = raw
        if name == DEMAND:
            try:
                scaling = self.scaling()
                self._power = demand_kw(
                    raw, scaling.multiplier, scaling.divisor, self._shown("unit_of_measure")
                )
            except UnitError:
                self._power = None
        elif name == "status":
            if self.status.update(at, raw):
                repairs.async_meter_status(
                    self.hass,
                    self.entry_id,
                    self.charger_id,
                    self.charger_name,
                    alarm_names(raw),
                )
        elif name in ("multiplier", "divisor"):
            self._flush_pending()
            self._scale_received()

    def _scale_received(self) -> None:
        """The received summation in kWh, as the delivered one (held until scaled)."""
        if self._received_raw is None or not self._scaling_known():
            return
        at, raw = self._received_raw
        scaling = self.scaling()
        try:
            kwh = metering_kwh(
                raw, scaling.multiplier, scaling.divisor, self._shown("unit_of_measure")
            )
        except (UnitError, ValueError) as err:
            _LOGGER.debug("Meter %s: received summation not scaled: %s", self.meter_id, err)
            self._received = None
            return
        self._received = (at, kwh)

    def _flush_pending(self) -> None:
        if self._pending is None or not self._scaling_known():
            return
        at, raw = self._pending
        self._pending = None
        scaling = self.scaling()
        try:
            kwh = metering_kwh(
                raw, scaling.multiplier, scaling.divisor, self._shown("unit_of_measure")
            )
        except (UnitError, ValueError) as err:
            if self.problem != str(err):
                _LOGGER.warning("Meter %s: %s; its readings are ignored", self.meter_id, err)
            self.problem = str(err)
            return
        self._last = (at, kwh)
        if self._on_reading is not None:
            self._on_reading(at, kwh, self.meter_id)

    # -- interval boundaries ------------------------------------------------------------

    def _schedule_boundary(self) -> None:
        length = self.interval_minutes * 60
        now = dt_util.utcnow().timestamp()
        following = datetime.fromtimestamp((now // length + 1) * length, UTC)
        self._boundary_unsub = async_track_point_in_utc_time(
            self.hass, self._on_boundary, following
        )

    @callback
    def _on_boundary(self, now: datetime) -> None:
        self._schedule_boundary()
        if self._cluster is None and not self._attach():
            return
        length = self.interval_minutes * 60
        boundary = datetime.fromtimestamp(now.timestamp() // length * length, UTC)
        last = self._last_summation_at
        if last is not None and last >= boundary - timedelta(seconds=BOUNDARY_FRESH_SECONDS):
            return
        self.boundary_reads += 1
        self._spawn(self._async_read_summation(self._cluster))

    @callback
    def _async_stop(self) -> None:
        if self._boundary_unsub is not None:
            self._boundary_unsub()
            self._boundary_unsub = None
        self._detach()
        self._drop_fallback()
        for task in list(self._tasks):
            task.cancel()
        self._on_reading = None


def _positive(value: Any) -> int | None:
    """A configured multiplier or divisor override (None, 0 or blank: no override)."""
    if value in (None, ""):
        return None
    number = int(value)
    return number if number > 0 else None


def _firmware(device: Any) -> int | None:
    """The device's firmware version from its OTA client cluster's cache, if known."""
    for endpoint_id, endpoint in device.endpoints.items():
        if endpoint_id != 0 and OTA_CLUSTER in endpoint.out_clusters:
            version = endpoint.out_clusters[OTA_CLUSTER].get("current_file_version")
            return int(version) if version is not None else None
    return None


def _is_quirk(cluster: Any) -> bool:
    """Whether a ZHA quirk replaced the cluster (it then corrects the values itself).

    By name: ``CustomCluster`` moved from zigpy.quirks to zhaquirks.clusters in zigpy 2.x.
    """
    return any(base.__name__ == "CustomCluster" for base in type(cluster).__mro__)


def _status_text(result: Any) -> str:
    """A Configure Reporting result as the status names (SUCCESS, UNSUPPORTED_ATTRIBUTE...)."""
    if isinstance(result, dict):
        return ", ".join(getattr(status, "name", str(status)) for status in result.values())
    return repr(result)
