"""The VEN's answers to 2.0b events (``oadrCreatedEvent``): which events, optIn or optOut.

The rule (docs/utility-profile.md, "OpenADR 2.0b"):

* an event whose ``responseRequired`` is ``never`` gets no answer;
* a mandatory event (its program is listed as mandatory in the link's settings) is always
  opted in: the user cannot opt out of it, and the VEN does not say otherwise;
* an event the user opted out of (the ``opted_out`` IDs: the opt-out switch, the dashboard)
  gets optOut;
* any other event gets the user's default answer (``optIn`` unless the link is set to opt out
  of events by default);
* a cancelled event is acknowledged with optIn (2.0b: the VEN confirms the cancellation).

An answer is sent once per event and modification number; a change of the user's mind about an
event already answered is sent again with the same modification number.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Final

from .events import STATUS_CANCELLED, Oadr2Event

OPT_IN: Final = "optIn"
OPT_OUT: Final = "optOut"


@dataclass(frozen=True)
class OptAnswer:
    """One ``eventResponse`` of an ``oadrCreatedEvent``."""

    event_id: str
    modification_number: int
    opt_type: str


def opt_for(event: Oadr2Event, *, default: str, opted_out: Collection[str]) -> str:
    """optIn or optOut for one event (see the module docstring)."""
    if event.status == STATUS_CANCELLED or event.mandatory:
        return OPT_IN
    if event.event_id in opted_out:
        return OPT_OUT
    return OPT_OUT if default == OPT_OUT else OPT_IN


class OptBook:
    """What was answered to which event (so each answer is sent once, and again on a change)."""

    def __init__(self) -> None:
        self.sent: dict[str, tuple[int, str]] = {}

    def due(
        self, events: Iterable[Oadr2Event], *, default: str, opted_out: Collection[str]
    ) -> list[OptAnswer]:
        """The answers not sent yet (new events, new modifications, a changed choice)."""
        out: list[OptAnswer] = []
        for event in events:
            if not event.response_required:
                continue
            opt = opt_for(event, default=default, opted_out=opted_out)
            if self.sent.get(event.event_id) == (event.modification_number, opt):
                continue
            out.append(OptAnswer(event.event_id, event.modification_number, opt))
        return out

    def acknowledged(self, answers: Iterable[OptAnswer]) -> None:
        """The VTN took these answers."""
        for answer in answers:
            self.sent[answer.event_id] = (answer.modification_number, answer.opt_type)

    def forget(self, event_ids: Iterable[str]) -> None:
        """Events that left (cancelled, completed, no longer distributed)."""
        for event_id in event_ids:
            self.sent.pop(event_id, None)

    def opted_out(self) -> set[str]:
        """The events the VEN told the VTN it opted out of."""
        return {event_id for event_id, (_, opt) in self.sent.items() if opt == OPT_OUT}
