"""Calendars: the utility program's events, and the premise's charging plan.

The charging-plan calendar (one per premise, always present) shows the planned charging windows
of every session (the plan's contiguous charging slots merged into one event per window) and the
load-control events in force: the local ``load_control`` events and the utility's caps the
planner saw. It follows the plan: a new plan updates it (through the coordinator's listeners).

The events' texts are in Home Assistant's language (``calendar_*`` keys of strings.json's
``exceptions``, read when the calendar is added; English for a key without a translation).
Event names are the utility's or the user's, as given. The power feed's events (an export
price, an export limit) are said as what they are ("Export price 0.25 EUR/kWh", "Export limit
3 kW"), never as a price or a cap of charging.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import PevPortalConfigEntry
from .core.planner import PlanSlot
from .entity import PevPortalEntity, PremiseEntity, UtilityEntity
from .settlement_view import by_event, outcome
from .texts import async_texts, text

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PevPortalConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the charging-plan calendar, and the program calendar with a utility link."""
    coordinator = entry.runtime_data
    entities: list[CalendarEntity] = [ChargingPlanCalendar(coordinator, "charging_plan")]
    if coordinator.link is not None:
        entities.append(ProgramCalendar(coordinator, "program_events"))
    async_add_entities(entities)


class _EventsCalendar(PevPortalEntity, CalendarEntity):
    """A calendar whose events are computed on demand by :meth:`_events`."""

    _strings: dict[str, str] | None = None

    async def async_added_to_hass(self) -> None:
        """Read the event texts in Home Assistant's language."""
        await super().async_added_to_hass()
        self._strings = await async_texts(self.hass)

    def _text(self, key: str, fallback: str, **placeholders: str) -> str:
        """A translated event text (``fallback``, in English, when there is none)."""
        return text(self._strings or {}, key, placeholders, default=fallback)

    def _events(self) -> list[CalendarEvent]:
        raise NotImplementedError

    def _export_text(self, kind: str, price: Any, kw: float | None) -> str | None:
        """An export event as what it is, in the user's language (None: not one)."""
        if kind == "export_price" and price is not None:
            currency = self.coordinator.base_tariff.currency
            return self._text(
                "event_export_price",
                "Export price {price} {currency}/kWh",
                price=f"{float(price):g}",
                currency=currency,
            )
        if kind in ("export_limit", "export_cap") and kw is not None:
            return self._text("event_export_limit", "Export limit {kw} kW", kw=f"{kw:g}")
        return None

    def _results(self) -> dict[str, dict[str, Any]]:
        """The settled events by ID (what each achieved)."""
        return {e["event_id"]: e for e in by_event(self.coordinator.settlement.performances())}

    def _outcome(self, result: dict[str, Any] | None) -> str | None:
        """An event's outcome, once settled ("Result: 6.2 kWh shifted, target met, ...")."""
        if result is None:
            return None
        return self._text(
            "calendar_event_outcome",
            "Result: {outcome}",
            outcome=", ".join(outcome(result, self._text)),
        )

    def _with_outcome(self, description: str | None, result: dict[str, Any] | None) -> str | None:
        found = self._outcome(result)
        if found is None:
            return description
        return f"{description}\n{found}" if description else found

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


class ProgramCalendar(UtilityEntity, _EventsCalendar):
    """Each timeline entry of the program's events as a calendar event."""

    def _events(self) -> list[CalendarEvent]:
        link = self.coordinator.link
        if link is None:
            return []
        found = []
        results = self._results()
        for entry in link.timeline.entries:
            details = []
            if entry.price is not None:
                details.append(
                    self._text("calendar_price", "price {price}", price=f"{entry.price}")
                )
            if entry.cap_kw is not None:
                details.append(self._text("calendar_cap", "cap {kw} kW", kw=f"{entry.cap_kw:g}"))
            if entry.level is not None:
                details.append(
                    self._text("calendar_level", "level {level}", level=f"{entry.level}")
                )
            export = self._export_text(entry.kind, entry.export_price, entry.export_kw)
            if export is not None:
                details.append(export)
            found.append(
                CalendarEvent(
                    start=entry.start,
                    end=entry.end,
                    summary=entry.name or export or entry.kind,
                    description=self._with_outcome(
                        ", ".join(details) or None, results.get(entry.event_id)
                    ),
                    uid=f"{entry.event_id}-{entry.start.isoformat()}",
                )
            )
        return sorted(found, key=lambda e: e.start_datetime_local)


def charging_windows(slots: tuple[PlanSlot, ...]) -> list[list[PlanSlot]]:
    """The plan's charging slots (power > 0) grouped into windows of touching slots."""
    windows: list[list[PlanSlot]] = []
    for slot in slots:
        if slot.power_kw <= 0:
            continue
        if windows and windows[-1][-1].end == slot.start:
            windows[-1].append(slot)
        else:
            windows.append([slot])
    return windows


class ChargingPlanCalendar(PremiseEntity, _EventsCalendar):
    """The planned charging windows of the sessions and the load-control events in force."""

    def _events(self) -> list[CalendarEvent]:
        shown = [*self._windows(), *self._local_events(), *self._utility_caps()]
        return sorted(
            [*shown, *self._past_results({e.uid for e in shown if e.uid})],
            key=lambda e: (e.start_datetime_local, e.summary),
        )

    def _past_results(self, shown: set[str]) -> list[CalendarEvent]:
        """The settled events the calendar no longer shows otherwise (they are over), each
        with what it achieved."""
        return [
            CalendarEvent(
                start=dt_util.parse_datetime(result["start"]) or dt_util.utcnow(),
                end=dt_util.parse_datetime(result["end"]) or dt_util.utcnow(),
                summary=self._text(
                    "calendar_event_result", "{name} · result", name=result["name"] or ""
                ),
                description=self._outcome(result),
                uid=f"result-{event_id}",
            )
            for event_id, result in self._results().items()
            if f"local-{event_id}" not in shown
        ]

    def _windows(self) -> list[CalendarEvent]:
        coordinator = self.coordinator
        smart = coordinator.smart
        if smart.plan is None:
            return []
        currency = coordinator.base_tariff.currency
        found = []
        for charger_id, vehicle_plan in smart.plan.vehicles.items():
            runtime = coordinator.chargers.get(charger_id)
            if runtime is None:
                continue
            vehicle = smart.vehicle_of(runtime)
            name = vehicle.name if vehicle is not None else runtime.name
            for window in charging_windows(vehicle_plan.slots):
                energy = sum(s.energy_kwh for s in window)
                cost = sum(
                    (Decimal(str(max(0.0, s.energy_kwh - s.solar_kwh))) * s.price for s in window),
                    Decimal(0),
                )
                power = max(s.power_kw for s in window)
                found.append(
                    CalendarEvent(
                        start=window[0].start,
                        end=window[-1].end,
                        summary=self._text(
                            "calendar_charging",
                            "Charging {vehicle} · {kw} kW",
                            vehicle=name,
                            kw=f"{power:.1f}",
                        ),
                        description=self._text(
                            "calendar_charging_description",
                            "{kwh} kWh on {charger}, {cost} {currency}",
                            kwh=f"{energy:.2f}",
                            charger=runtime.name,
                            cost=f"{cost.quantize(Decimal('0.01'))}",
                            currency=currency,
                        ),
                        uid=f"plan-{charger_id}-{window[0].start.isoformat()}",
                    )
                )
        return found

    def _local_events(self) -> list[CalendarEvent]:
        coordinator = self.coordinator
        found = []
        results = self._results()
        for event in coordinator.local_events:
            export = self._export_text(
                event["kind"], event.get("export_price"), event.get("export_limit_kw")
            )
            if export is not None:
                found.append(self._local_export(event, export))
                continue
            if event["kind"] != "load_control" or event.get("limit_kw") is None:
                continue
            opted_out = event["event_id"] in coordinator.opted_out
            found.append(
                CalendarEvent(
                    start=event["start"],
                    end=event["end"],
                    summary=self._text(
                        "calendar_cap_summary",
                        "{name} · ≤ {kw} kW",
                        name=event.get("name")
                        or self._text("calendar_load_control", "Load control"),
                        kw=f"{event['limit_kw']:g}",
                    ),
                    description=self._with_outcome(
                        self._text(
                            "calendar_local_event_opted_out",
                            "Local load-control event (opted out)",
                        )
                        if opted_out
                        else self._text("calendar_local_event", "Local load-control event"),
                        results.get(event["event_id"]),
                    ),
                    uid=f"local-{event['event_id']}",
                )
            )
        return found

    def _local_export(self, event: dict[str, Any], export: str) -> CalendarEvent:
        """A local export price or export limit (power feed), as what it is (with its name
        when the user gave it one)."""
        name = event.get("name") or ""
        default = self._text(f"local_event_name_{event['kind']}", event["kind"])
        return CalendarEvent(
            start=event["start"],
            end=event["end"],
            summary=f"{name} · {export}" if name and name != default else export,
            description=self._text("calendar_local_export_event", "Local power feed event"),
            uid=f"local-{event['event_id']}",
        )

    def _utility_caps(self) -> list[CalendarEvent]:
        """The utility's caps in the plan's inputs (one event for a cap on several chargers)."""
        inputs = self.coordinator.smart.inputs
        if inputs is None:
            return []
        chargers = self.coordinator.chargers
        merged: dict[tuple[datetime, datetime, float, str], list[str]] = {}
        for cap in inputs.caps:
            if cap.vehicle_ids is None:
                continue  # a local event (shown from the local events)
            names = merged.setdefault((cap.start, cap.end, cap.max_kw, cap.name), [])
            names.extend(chargers[c].name for c in sorted(cap.vehicle_ids) if c in chargers)
        return [
            CalendarEvent(
                start=start,
                end=end,
                summary=self._text(
                    "calendar_cap_summary", "{name} · ≤ {kw} kW", name=name, kw=f"{max_kw:g}"
                ),
                description=self._text(
                    "calendar_utility_event",
                    "Utility load-control event on {chargers}",
                    chargers=", ".join(sorted(set(names))),
                ),
                uid=f"cap-{name}-{start.isoformat()}",
            )
            for (start, end, max_kw, name), names in merged.items()
        ]
