"""Which vehicles an event applies to, from its targets and what the VTN granted.

Definition.md (Object Privacy): the business logic grants targets to a VEN object and its
resource objects; a VTN shows a targeted program or event to a VEN when the targets of its request,
ANDed with those granted to the VEN and its resources, meet the object's targets. So an event
applies to every vehicle when one of its targets is granted to the VEN (or is the VEN's name), and
to one vehicle when one is granted to that vehicle's resource (or is its PEV ID). An empty grant
list is not knowledge: with no label granted anywhere (a VTN that hides the VEN's targets, or a
grant not read yet) a label the VTN showed us is read as granted to the VEN.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .models import Event, target_values

__all__ = ["TargetDecision", "TargetRule"]


@dataclass(frozen=True)
class TargetDecision:
    """Why an event applies to a vehicle or not (:meth:`Timeline.explain`).

    ``scope``: ``all`` (untargeted, or a target granted to the VEN), ``vehicle`` (a target
    granted to this vehicle's resource or naming it), ``vehicles`` (other vehicles only),
    ``none`` (no target is granted to this VEN or its vehicles).
    """

    event_id: str
    pev_id: str | None
    applies: bool
    scope: str
    grants_known: bool
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for diagnostics."""
        return {
            "event_id": self.event_id,
            "pev_id": self.pev_id,
            "applies": self.applies,
            "scope": self.scope,
            "grants_known": self.grants_known,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class TargetRule:
    """The targets rule for one VEN and its vehicles (PEV IDs = resource names)."""

    ven_name: str
    resource_names: tuple[str, ...]
    ven_targets: frozenset[str]
    resource_targets: dict[str, frozenset[str]]
    grants_known: bool

    @classmethod
    def of(
        cls,
        ven_name: str,
        resource_names: Sequence[str],
        *,
        ven_targets: Collection[str] | None = None,
        resource_targets: Mapping[str, Collection[str]] | None = None,
    ) -> TargetRule:
        """The rule from the grants as read (None or empty lists: not known)."""
        per_resource = {
            name: frozenset(labels) for name, labels in (resource_targets or {}).items()
        }
        return cls(
            ven_name=ven_name,
            resource_names=tuple(resource_names),
            ven_targets=frozenset(ven_targets or ()),
            resource_targets=per_resource,
            grants_known=bool(ven_targets) or any(bool(v) for v in per_resource.values()),
        )

    def scope(self, event: Event) -> tuple[bool, set[str], list[str]]:
        """(applies to the whole VEN, PEV IDs it applies to, why: one line per target)."""
        if not event.targets:
            return True, set(self.resource_names), ["no targets: applies to every vehicle"]
        ven_wide = False
        pevs: set[str] = set()
        why: list[str] = []
        for target in event.targets:
            kind, values = target_values(target)
            if kind == "VEN_NAME":
                hit = self.ven_name in values
                ven_wide |= hit
                why.append(f"VEN_NAME {list(values)}: {'this VEN' if hit else 'another VEN'}")
                continue
            if kind == "RESOURCE_NAME":
                named = {v for v in values if v in self.resource_names}
                pevs.update(named)
                why.append(f"RESOURCE_NAME {list(values)}: vehicles {sorted(named)}")
                continue
            for value in values:
                if value == self.ven_name:
                    ven_wide = True
                    why.append(f"{value!r} is this VEN's name: every vehicle")
                    continue
                if value in self.ven_targets:
                    ven_wide = True
                    why.append(f"{value!r} is granted to the VEN: every vehicle")
                    continue
                matched = {n for n, labels in self.resource_targets.items() if value in labels}
                if value in self.resource_names:
                    matched.add(value)
                pevs.update(matched)
                if matched:
                    why.append(f"{value!r} is granted to (or names) vehicles {sorted(matched)}")
                elif not self.grants_known:
                    ven_wide = True
                    why.append(
                        f"{value!r}: no grants known yet; the VTN showed the event to this VEN, "
                        "so it is read as granted to the VEN"
                    )
                else:
                    why.append(f"{value!r} is granted neither to the VEN nor to a vehicle")
        return ven_wide, pevs, why

    def explain(self, event: Event, pev_id: str | None) -> TargetDecision:
        """Whether an event applies to a PEV, and why (for diagnostics).

        An event's targets are matched against what the VTN granted (Definition.md, Object
        Privacy: the VTN ANDs the request's targets with those granted to the VEN and its
        resources; an event is shown when one of its targets survives): a target granted to the
        VEN (or the VEN's name) makes it apply to every vehicle, one granted to a vehicle's
        resource (or its PEV ID) to that vehicle.
        """
        ven_wide, pevs, why = self.scope(event)
        if ven_wide:
            applies, scope = True, "all"
        elif pev_id is not None and (pev_id in pevs or pev_id in self._direct_names(event)):
            applies, scope = True, "vehicle"
        else:
            applies, scope = False, "vehicles" if pevs else "none"
        return TargetDecision(
            event_id=event.id,
            pev_id=pev_id,
            applies=applies,
            scope=scope,
            grants_known=self.grants_known,
            reasons=tuple(why),
        )

    @staticmethod
    def _direct_names(event: Event) -> set[str]:
        names: set[str] = set()
        for target in event.targets:
            kind, values = target_values(target)
            if kind in (None, "RESOURCE_NAME"):
                names.update(values)
        return names
