"""Subscription callbacks (notifications) in every shape a VTN in the field sends."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["Notification", "camel_key", "camelize", "parse_notification"]

_EXCEPTIONS: Final = (TypeError, KeyError, AttributeError, OverflowError, IndexError, ValueError)


def _as_dict(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{what} is not a JSON object: {type(data).__name__}")
    return data


@dataclass(frozen=True)
class Notification:
    """A subscription callback body: ``objectType``, ``operation`` (upper case) and object."""

    object_type: str
    operation: str
    object: dict[str, Any]


def camel_key(key: str) -> str:
    """A snake_case key as the contract spells it: ``program_id`` -> ``programID``,
    ``interval_period`` -> ``intervalPeriod``, ``callback_url`` -> ``callbackUrl``; a key
    without ``_`` is returned as it is."""
    if "_" not in key:
        return key
    head, *rest = [part for part in key.split("_") if part]
    if not rest:
        return head
    out = head[0].lower() + head[1:]
    for part in rest:
        out += "ID" if part.lower() == "id" else part[0].upper() + part[1:].lower()
    return out


def camelize(value: Any, depth: int = 0) -> Any:
    """``value`` with every snake_case object key camelCased, at any depth (the camelCase key
    wins when a VTN sends both). Values are left alone."""
    if depth > 64:
        raise ValueError("nested too deeply")
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = camel_key(key) if isinstance(key, str) else key
            if name in out and name != key:
                continue
            out[name] = camelize(item, depth + 1)
        return out
    if isinstance(value, list):
        return [camelize(item, depth + 1) for item in value]
    return value


def _decode_json(data: Any, what: str) -> Any:
    """JSON text (or bytes), possibly JSON-encoded again (double-encoded), at most 3 levels."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{what} is not UTF-8") from None
    for _ in range(3):
        if not isinstance(data, str):
            break
        try:
            data = json.loads(data)
        except json.JSONDecodeError, RecursionError:
            raise ValueError(f"{what} is not JSON") from None
    return data


_SHAPES: Final = (
    ("intervals", "EVENT"),
    ("resourceName", "RESOURCE"),
    ("venName", "VEN"),
    ("programName", "PROGRAM"),
    ("reportName", "REPORT"),
    ("objectOperations", "SUBSCRIPTION"),
)


def _kind_of(obj: Mapping[str, Any]) -> str | None:
    kind = obj.get("objectType")
    if isinstance(kind, str) and kind.strip():
        kind = kind.strip().upper()
        # The request flavours (VEN_VEN_REQUEST, BL_RESOURCE_REQUEST, ...) name the object too.
        for plain in ("RESOURCE", "VEN", "REPORT", "SUBSCRIPTION", "EVENT", "PROGRAM"):
            if kind == plain or kind.endswith(f"_{plain}_REQUEST"):
                return plain
        return kind
    return next((kind for key, kind in _SHAPES if key in obj), None)


def _parse_notification(body: Any) -> Notification:
    data = camelize(_decode_json(body, "notification body"))
    obj = _as_dict(data, "notification")
    subject = obj.get("object")
    if subject is None and "objectType" in obj and "operation" not in obj:
        subject = obj  # no envelope: the object itself
    elif subject is None and any(key in obj for key, _ in _SHAPES):
        subject = obj
    subject = camelize(_decode_json(subject, "notification object"))
    if not isinstance(subject, dict):
        raise ValueError("notification without an object")
    kind = obj.get("objectType") if subject is not obj else None
    kind = kind.strip().upper() if isinstance(kind, str) and kind.strip() else _kind_of(subject)
    if kind is None:
        raise ValueError("notification without an objectType")
    operation = obj.get("operation") if subject is not obj else None
    op = operation.strip().upper() if isinstance(operation, str) and operation.strip() else ""
    op = {"POST": "CREATE", "PUT": "UPDATE", "GET": "READ", "": "UPDATE"}.get(op, op)
    return Notification(object_type=kind, operation=op, object=subject)


def parse_notification(body: bytes | str | Any) -> Notification:
    """Parse a subscription callback body (profile 'Tolerance').

    Accepts bytes or text of JSON, a JSON-encoded string of JSON (double-encoded, also for the
    ``object`` alone), an already decoded object, snake_case keys at any depth (``object_type``,
    ``program_id``, ``interval_period``, ``resource_name``: all camelCased, see
    :func:`camelize`), and a bare object without the envelope. ``operation`` is upper-cased, the
    HTTP verbs some VTNs send (``POST``/``PUT``) become ``CREATE``/``UPDATE``, and a missing one
    is ``UPDATE``. A missing ``objectType`` is taken from the object itself (its
    ``objectType``, else its shape). :class:`ValueError` if unusable.
    """
    try:
        return _parse_notification(body)
    except ValueError:
        raise
    except _EXCEPTIONS as err:  # pragma: no cover - defensive
        raise ValueError(f"unusable notification: {err!r}") from err
    except RecursionError as err:  # pragma: no cover - defensive
        raise ValueError("unusable notification: nested too deeply") from err
