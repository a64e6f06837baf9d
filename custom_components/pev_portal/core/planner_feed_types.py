"""The power-feed planner's data: vehicles, premise, plans, input checks, defaults.

Pure Python, no Home Assistant imports. See :mod:`.planner_feed` for the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

DEFAULT_WEAR_COST_PER_KWH: Final = 0.04
"""Battery wear per kWh discharged from the battery (in the tariff's currency).

BloombergNEF's 2024 battery price survey: lithium-ion packs at $115/kWh on average (10
December 2024); over 3,000 equivalent full cycles that is $0.038 per kWh cycled, rounded up.
The user sets their own (a pack's price and warranty cycles)."""
DEFAULT_CHARGE_EFFICIENCY: Final = 0.92
DEFAULT_DISCHARGE_EFFICIENCY: Final = 0.92
"""A round trip of 0.85 (AC to AC) by default: set the charger's and car's own."""
TIE_COST: Final = 1e-9
_TOL: Final = 1e-7


class FeedError(ValueError):
    """Bad input for the power-feed planner (a clear message, nothing planned)."""


def _finite(name: str, value: float, *, lo: float = 0.0, hi: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FeedError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or not lo <= v <= hi:
        raise FeedError(f"{name} must be between {lo} and {hi}, got {value!r}")
    return v


def _series(
    name: str,
    values: Sequence[float] | None,
    n: int,
    *,
    lo: float = -math.inf,
    inf_ok: bool = False,
) -> tuple[float, ...] | None:
    if values is None:
        return None
    if len(values) != n:
        raise FeedError(f"{name} needs one value per slot ({n}), got {len(values)}")
    out = []
    for i, x in enumerate(values):
        if isinstance(x, bool) or not isinstance(x, int | float) or math.isnan(x):
            raise FeedError(f"{name}[{i}] must be a number, got {x!r}")
        if x < lo or (math.isinf(x) and not (inf_ok and x > 0)):
            raise FeedError(f"{name}[{i}] out of range: {x!r}")
        out.append(float(x))
    return tuple(out)


def split_round_trip(round_trip: float) -> tuple[float, float]:
    """Charge and discharge efficiencies of a round trip (its square root each)."""
    rt = _finite("round_trip", round_trip, lo=1e-3, hi=1.0)
    return math.sqrt(rt), math.sqrt(rt)


@dataclass(frozen=True, slots=True)
class FeedVehicle:
    """A plugged-in vehicle whose battery may feed the home or the grid.

    Energies in battery kWh; ``departure_slot``: it leaves at the start of that slot (it is
    plugged in for slots ``0 .. departure_slot - 1``). ``max_discharge_kw=0``: never feeds.
    ``charge_limit_kw``/``discharge_limit_kw``: optional per-slot caps (load control).
    ``cycles_per_day``: equivalent full cycles it may feed per 24 h (``None``: no budget).
    """

    vehicle_id: str
    capacity_kwh: float
    soc_kwh: float
    floor_kwh: float
    target_kwh: float
    departure_slot: int
    max_charge_kw: float
    max_discharge_kw: float
    charge_efficiency: float = DEFAULT_CHARGE_EFFICIENCY
    discharge_efficiency: float = DEFAULT_DISCHARGE_EFFICIENCY
    wear_cost_per_kwh: float = DEFAULT_WEAR_COST_PER_KWH
    cycles_per_day: float | None = None
    charge_limit_kw: tuple[float, ...] | None = None
    discharge_limit_kw: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.vehicle_id, str) or not self.vehicle_id:
            raise FeedError(f"vehicle_id must be a non-empty string, got {self.vehicle_id!r}")
        cap = _finite("capacity_kwh", self.capacity_kwh, lo=1e-3)
        _finite("soc_kwh", self.soc_kwh)
        _finite("floor_kwh", self.floor_kwh, hi=cap)
        _finite("target_kwh", self.target_kwh)
        _finite("max_charge_kw", self.max_charge_kw)
        _finite("max_discharge_kw", self.max_discharge_kw)
        _finite("charge_efficiency", self.charge_efficiency, lo=1e-3, hi=1.0)
        _finite("discharge_efficiency", self.discharge_efficiency, lo=1e-3, hi=1.0)
        _finite("wear_cost_per_kwh", self.wear_cost_per_kwh)
        if self.cycles_per_day is not None:
            _finite("cycles_per_day", self.cycles_per_day)
        if isinstance(self.departure_slot, bool) or not isinstance(self.departure_slot, int):
            raise FeedError(f"departure_slot must be an int, got {self.departure_slot!r}")
        if self.departure_slot < 0:
            raise FeedError(f"departure_slot must be >= 0, got {self.departure_slot}")


@dataclass(frozen=True, slots=True)
class FeedPremise:
    """The premise over the plan's slots (one value per slot in every series).

    Prices per kWh; ``export_limit_kw``: the most the premise may export (``inf``: no limit,
    ``0``: no export; the configured limit and EXPORT_CAPACITY_LIMIT events, the smaller);
    ``home_load_kw``: the home's own forecast load (``None``: zero).
    """

    slot_hours: tuple[float, ...]
    import_price: tuple[float, ...]
    export_price: tuple[float, ...]
    export_limit_kw: tuple[float, ...]
    home_load_kw: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.slot_hours)
        for i, h in enumerate(self.slot_hours):
            _finite(f"slot_hours[{i}]", h, lo=1e-6, hi=24.0)
        _series("import_price", self.import_price, n)
        _series("export_price", self.export_price, n)
        _series("export_limit_kw", self.export_limit_kw, n, lo=0.0, inf_ok=True)
        _series("home_load_kw", self.home_load_kw, n, lo=0.0)


@dataclass(frozen=True, slots=True)
class FeedVehiclePlan:
    """One vehicle's plan: per slot AC energies (kWh) and the battery's energy.

    ``soc_kwh[t]`` is the battery at the start of slot ``t`` (one more entry: after the last
    slot). ``home_kwh + export_kwh == discharge_kwh`` per slot (the premise's split, shared
    among feeding vehicles in proportion). ``cycles``: battery kWh fed / capacity.
    """

    vehicle_id: str
    charge_kwh: tuple[float, ...]
    discharge_kwh: tuple[float, ...]
    home_kwh: tuple[float, ...]
    export_kwh: tuple[float, ...]
    soc_kwh: tuple[float, ...]
    target_kwh: float
    reachable: bool
    cycles: float
    import_cost: float
    home_saving: float
    export_credit: float
    wear_cost: float

    @property
    def net_cost(self) -> float:
        """What the vehicle costs: energy bought, minus what its feed saves and earns, plus wear."""
        return self.import_cost - self.home_saving - self.export_credit + self.wear_cost


@dataclass(frozen=True, slots=True)
class FeedPlan:
    """The plans of all vehicles; ``objective`` is what the LP minimised."""

    vehicles: dict[str, FeedVehiclePlan]
    objective: float
    import_cost: float
    home_saving: float
    export_credit: float
    wear_cost: float
    pivots: int = 0
    rounds: int = 0
    gap: float = 0.0  # proven distance to the optimum: 0 unless the rounds were cut short

    @property
    def net_cost(self) -> float:
        """Energy bought minus the feed's savings and credit, plus wear."""
        return self.import_cost - self.home_saving - self.export_credit + self.wear_cost
