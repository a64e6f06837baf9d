"""Binding a plugged-in PEV to the premise: the outcome table of the OpenADR PEV profile.

The utility validates a PEV and answers with ``BINDING`` (``ENROLLED`` / ``NOT_ENROLLED``),
``BILLING_PARTY`` (``PREMISE_CUSTOMER`` / ``PEV_CUSTOMER``) and, for a roaming PEV,
``HOME_UTILITY_ID``. The premise waits for that answer at most the validation window
(UC133 NF.4, req 30). Whatever the outcome, charging proceeds (req 3): the outcome only decides
the price, the incentive and who is billed (req 24-28).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

VALIDATION_WINDOW_MIN_S = 10
VALIDATION_WINDOW_MAX_S = 600
VALIDATION_WINDOW_DEFAULT_S = 60


class BindingOutcome(StrEnum):
    """How a PEV is bound to this premise (UC133 scenarios 3.1-3.5, req 30)."""

    PENDING = "pending"
    HOME = "home"
    GUEST_PREMISE_PAYS = "guest_premise_pays"
    GUEST_PEV_PAYS = "guest_pev_pays"
    ROAMING = "roaming"
    NOT_ENROLLED = "not_enrolled"
    NO_COMMUNICATIONS = "no_communications"


class BillingParty(StrEnum):
    """Whose account is billed or credited for the session (req 24-28)."""

    PREMISE_CUSTOMER = "premise_customer"
    PEV_CUSTOMER = "pev_customer"
    CLEARINGHOUSE = "clearinghouse"


class Relation(StrEnum):
    """A vehicle's relation to this premise as the homeowner registered it."""

    HOME = "home"
    GUEST = "guest"


@dataclass(frozen=True, slots=True)
class ValidationAnswer:
    """What the utility wrote on the PEV's resource (profile, binding step 2)."""

    binding: str
    billing_party: str | None = None
    home_utility_id: str | None = None


@dataclass(frozen=True, slots=True)
class BindingDecision:
    """The applied outcome: price, incentive and billing party of a session."""

    outcome: BindingOutcome
    billing_party: BillingParty
    program_rate: bool
    reason: str
    home_utility_id: str | None = None


PENDING_DECISION = BindingDecision(
    BindingOutcome.PENDING, BillingParty.PREMISE_CUSTOMER, False, "waiting for validation"
)


def validate_window(seconds: float) -> float:
    """Return the validation window, or raise ValueError outside 10 s to 10 min."""
    if not VALIDATION_WINDOW_MIN_S <= seconds <= VALIDATION_WINDOW_MAX_S:
        raise ValueError(
            f"validation window must be from {VALIDATION_WINDOW_MIN_S} s to "
            f"{VALIDATION_WINDOW_MAX_S} s, got {seconds:g} s"
        )
    return seconds


def decide_local(registered_here: bool) -> BindingDecision:
    """Decide without a utility link: the premise's own program is the only one.

    A PEV registered to this premise is home and charges on the program tariff; any other
    PEV is a guest on the premise's default rate, billed to the premise customer.
    """
    if registered_here:
        return BindingDecision(
            BindingOutcome.HOME,
            BillingParty.PREMISE_CUSTOMER,
            True,
            "vehicle registered to this premise",
        )
    return BindingDecision(
        BindingOutcome.GUEST_PREMISE_PAYS,
        BillingParty.PREMISE_CUSTOMER,
        False,
        "guest vehicle on the premise default rate",
    )


def decide(
    answer: ValidationAnswer | None,
    *,
    registered_here: bool,
    utility_id: str | None,
    failure: str | None = None,
) -> BindingDecision:
    """Apply the profile's outcome table to the utility's answer, or to its absence.

    ``answer`` None means no answer inside the validation window (or a transport or
    authentication failure, described by ``failure``): no communications, default rate.
    """
    if answer is None:
        return BindingDecision(
            BindingOutcome.NO_COMMUNICATIONS,
            BillingParty.PREMISE_CUSTOMER,
            False,
            failure or "no answer from the utility within the validation window",
        )
    binding = answer.binding.strip().upper()
    if binding == "NOT_ENROLLED":
        return BindingDecision(
            BindingOutcome.NOT_ENROLLED,
            BillingParty.PREMISE_CUSTOMER,
            False,
            "the utility reports the vehicle as not enrolled",
        )
    if binding != "ENROLLED":
        return BindingDecision(
            BindingOutcome.NO_COMMUNICATIONS,
            BillingParty.PREMISE_CUSTOMER,
            False,
            f"unrecognised BINDING answer {answer.binding!r}",
        )
    home_utility = answer.home_utility_id
    if home_utility and utility_id and home_utility != utility_id:
        return BindingDecision(
            BindingOutcome.ROAMING,
            BillingParty.CLEARINGHOUSE,
            True,
            f"roaming vehicle of utility {home_utility}, billed through the clearinghouse",
            home_utility,
        )
    party = (answer.billing_party or "PREMISE_CUSTOMER").strip().upper()
    if party == "PEV_CUSTOMER":
        return BindingDecision(
            BindingOutcome.GUEST_PEV_PAYS,
            BillingParty.PEV_CUSTOMER,
            True,
            "enrolled vehicle, billed to the vehicle's customer account",
            home_utility,
        )
    if registered_here:
        return BindingDecision(
            BindingOutcome.HOME,
            BillingParty.PREMISE_CUSTOMER,
            True,
            "enrolled vehicle registered to this premise",
            home_utility,
        )
    return BindingDecision(
        BindingOutcome.GUEST_PREMISE_PAYS,
        BillingParty.PREMISE_CUSTOMER,
        True,
        "enrolled guest vehicle, billed to this premise",
        home_utility,
    )
