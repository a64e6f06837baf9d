"""Binding in 2.0b terms: 2.0b has no resource the utility writes ``BINDING`` on, so the
events decide (docs/utility-profile.md, "OpenADR 2.0b").

* An event targeted at the vehicle's resource (its PEV ID as ``resourceID``): the utility
  counts the vehicle in its program, ``ENROLLED``.
* Events targeted at other resources of the VEN only (some vehicles, not this one):
  ``NOT_ENROLLED``.
* Otherwise (no events, or only premise-wide ones) the program's default (``ENROLLED`` unless
  the link says otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from ..core.binding import ValidationAnswer
from ..openadr.models import target_values
from .events import Oadr2Event

ENROLLED: Final = "ENROLLED"
NOT_ENROLLED: Final = "NOT_ENROLLED"


def binding_answer(
    pev_id: str, events: Iterable[Oadr2Event], *, default: str = ENROLLED
) -> tuple[ValidationAnswer, str]:
    """The binding answer for a vehicle from the events in force, and why."""
    others = False
    for event in events:
        if event.event is None or event.over:
            continue
        for target in event.event.targets:
            kind, values = target_values(target)
            if kind != "RESOURCE_NAME":
                continue
            if pev_id in values:
                return (
                    ValidationAnswer(ENROLLED),
                    f"event {event.event_id} targets {pev_id}'s resource",
                )
            others = True
    if others:
        return ValidationAnswer(NOT_ENROLLED), "the utility's events target other resources only"
    return ValidationAnswer(default), "no event names the vehicle: the program's default"
