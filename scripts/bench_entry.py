"""The bench premise: a config entry with the demo charger and its vehicles (bench and
bench_utility set up the same premise, with or without a utility link)."""

from __future__ import annotations

from typing import Any


def bench_entry(
    vehicles: list[tuple[str, str]] | list[tuple[str, str, dict[str, Any]]],
    *,
    interval_minutes: int = 15,
    currency: str = "EUR",
    utility: dict[str, Any] | None = None,
    charger_id: str | None = None,
    chargers: list[tuple[str | None, str]] | None = None,
    capacity_kwh: float | None = None,
    tariff: dict[str, Any] | None = None,
) -> Any:
    """A MockConfigEntry of the premise BENCH-1 (imported late: Home Assistant is heavy).

    One demo charger (``charger_id``), or ``chargers`` as (subentry ID, name) pairs; home
    vehicles as (PEV ID, name[, more of their data]), with a battery ``capacity_kwh`` when
    given; a flat price unless a ``tariff`` is given.
    """
    from homeassistant.config_entries import ConfigSubentryData
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    data: dict[str, Any] = {"premise_name": "Bench home", "premise_id": "BENCH-1"}
    if utility is not None:
        data["utility"] = utility
    demo = [
        ConfigSubentryData(
            subentry_type="charger",
            title=name,
            data={"charger_name": name, "charger_type": "demo"},
            unique_id=None,
            **({"subentry_id": subentry_id} if subentry_id is not None else {}),
        )
        for subentry_id, name in (chargers or [(charger_id, "Demo charger")])
    ]
    vehicle: dict[str, Any] = {"relation": "home"}
    if capacity_kwh is not None:
        vehicle["capacity_kwh"] = capacity_kwh
    return MockConfigEntry(
        domain="pev_portal",
        title="Bench home",
        unique_id="BENCH-1",
        data=data,
        options={
            "interval_minutes": interval_minutes,
            "validation_window": 60,
            "tariff": tariff or {"type": "flat", "currency": currency, "price": "0.30"},
            "default_price": 0.35,
        },
        subentries_data=[
            *demo,
            *(
                ConfigSubentryData(
                    subentry_type="vehicle",
                    title=v[1],
                    data={"pev_id": v[0], "name": v[1], **vehicle, **(v[2] if len(v) > 2 else {})},
                    unique_id=v[0],
                )
                for v in vehicles
            ),
        ],
    )
