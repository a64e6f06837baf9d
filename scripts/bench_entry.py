"""The bench premise: a config entry with the demo charger and its vehicles (bench and
bench_utility set up the same premise, with or without a utility link)."""

from __future__ import annotations

from typing import Any


def bench_entry(
    vehicles: list[tuple[str, str]],
    *,
    interval_minutes: int = 15,
    currency: str = "EUR",
    utility: dict[str, Any] | None = None,
    charger_id: str | None = None,
) -> Any:
    """A MockConfigEntry of the premise BENCH-1 (imported late: Home Assistant is heavy)."""
    from homeassistant.config_entries import ConfigSubentryData
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    data: dict[str, Any] = {"premise_name": "Bench home", "premise_id": "BENCH-1"}
    if utility is not None:
        data["utility"] = utility
    charger: dict[str, Any] = {
        "subentry_type": "charger",
        "title": "Demo charger",
        "data": {"charger_name": "Demo charger", "charger_type": "demo"},
        "unique_id": None,
    }
    if charger_id is not None:
        charger["subentry_id"] = charger_id
    return MockConfigEntry(
        domain="pev_portal",
        title="Bench home",
        unique_id="BENCH-1",
        data=data,
        options={
            "interval_minutes": interval_minutes,
            "validation_window": 60,
            "tariff": {"type": "flat", "currency": currency, "price": "0.30"},
            "default_price": 0.35,
        },
        subentries_data=[
            ConfigSubentryData(**charger),
            *(
                ConfigSubentryData(
                    subentry_type="vehicle",
                    title=name,
                    data={"pev_id": pev_id, "name": name, "relation": "home"},
                    unique_id=pev_id,
                )
                for pev_id, name in vehicles
            ),
        ],
    )
