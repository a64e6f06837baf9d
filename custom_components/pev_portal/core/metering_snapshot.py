"""A metering ledger's snapshot (:meth:`.metering.IntervalLedger.snapshot`) and its restore:
complete, JSON-serializable state, each the exact inverse of the other."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from .metering_types import Anomaly, AnomalyKind

if TYPE_CHECKING:
    from .metering import IntervalLedger

SNAPSHOT_VERSION: Final = 1


def snapshot_of(ledger: IntervalLedger) -> dict[str, Any]:
    """Complete, JSON-serializable state; :func:`restore_ledger` is its exact inverse."""
    return {
        "version": SNAPSHOT_VERSION,
        "interval_minutes": ledger._minutes,
        "premise_id": ledger._premise_id,
        "meter_id": ledger._meter_id,
        "pev_id": ledger.pev_id,
        "max_gap_us": ledger._max_gap_us,
        "max_power_kw": ledger._max_power_kw,
        "meter_epoch": ledger._epoch,
        "last_us": ledger._last_us,
        "last_kwh": ledger._last_kwh,
        "open_start_us": ledger._open_start,
        "open_kwh": ledger._open_kwh,
        "open_info": ledger._open_info,
        "open_est": ledger._open_est,
        "closed_kwh": ledger._closed_kwh,
        "closed": ledger._closed,
        "anomalies": [
            {
                "kind": a.kind.value,
                "at": a.at.isoformat(),
                "previous": a.previous,
                "value": a.value,
                "message": a.message,
            }
            for a in ledger.anomalies
        ],
    }


def restore_ledger(cls: type[IntervalLedger], data: Mapping[str, Any]) -> IntervalLedger:
    """Rebuild a ledger from :func:`snapshot_of` output; ValueError if it is malformed."""
    try:
        if data["version"] != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported snapshot version {data['version']!r}")
        ledger = cls(
            interval_minutes=data["interval_minutes"],
            premise_id=data["premise_id"],
            meter_id=data["meter_id"],
            pev_id=data["pev_id"],
            max_gap=timedelta(microseconds=_int(data["max_gap_us"])),
            max_power_kw=float(data["max_power_kw"]),
        )
        last_us = data["last_us"]
        ledger._epoch = _int(data["meter_epoch"])
        ledger._last_us = None if last_us is None else _int(last_us)
        ledger._last_kwh = float(data["last_kwh"])
        ledger._open_start = _int(data["open_start_us"])
        ledger._open_kwh = float(data["open_kwh"])
        ledger._open_info = _bool(data["open_info"])
        ledger._open_est = _bool(data["open_est"])
        ledger._closed_kwh = float(data["closed_kwh"])
        ledger._closed = _bool(data["closed"])
        ledger.anomalies = [
            Anomaly(
                AnomalyKind(a["kind"]),
                _aware(datetime.fromisoformat(a["at"])),
                None if a["previous"] is None else float(a["previous"]),
                None if a["value"] is None else float(a["value"]),
                str(a["message"]),
            )
            for a in data["anomalies"]
        ]
    except (KeyError, TypeError) as err:
        raise ValueError(f"malformed metering snapshot: {err!r}") from err
    if ledger._last_us is not None and ledger._open_start % ledger._len_us:
        raise ValueError("malformed metering snapshot: open interval not clock-aligned")
    return ledger


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected a boolean, got {value!r}")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise TypeError(f"expected an aware datetime, got {value!r}")
    return value.astimezone(UTC)
