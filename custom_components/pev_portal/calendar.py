"""Calendar: the utility program's events (prices, critical peaks, load control)."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import PevPortalConfigEntry
from .entity import UtilityEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the program calendar when the premise has a utility link."""
    coordinator = entry.runtime_data
    if coordinator.link is not None:
        async_add_entities([ProgramCalendar(coordinator, "program_events")])


class ProgramCalendar(UtilityEntity, CalendarEntity):
    """Each timeline entry of the program's events as a calendar event."""

    def _events(self) -> list[CalendarEvent]:
        link = self.coordinator.link
        if link is None:
            return []
        found = []
        for entry in link.timeline.entries:
            details = []
            if entry.price is not None:
                details.append(f"price {entry.price}")
            if entry.cap_kw is not None:
                details.append(f"cap {entry.cap_kw:g} kW")
            if entry.level is not None:
                details.append(f"level {entry.level}")
            found.append(
                CalendarEvent(
                    start=entry.start,
                    end=entry.end,
                    summary=entry.name or entry.kind,
                    description=", ".join(details) or None,
                    uid=f"{entry.event_id}-{entry.start.isoformat()}",
                )
            )
        return sorted(found, key=lambda e: e.start_datetime_local)

    @property
    def event(self) -> CalendarEvent | None:
        """The event in progress, else the next one."""
        now = dt_util.utcnow()
        upcoming = [e for e in self._events() if e.end_datetime_local > now]
        return upcoming[0] if upcoming else None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Events overlapping the window."""
        return [
            e
            for e in self._events()
            if e.start_datetime_local < end_date and e.end_datetime_local > start_date
        ]
