"""The binding outcome table of the OpenADR PEV profile (UC133 3.1-3.5, req 3, 24-28, 30)."""

from __future__ import annotations

import pytest

from custom_components.pev_portal.core.binding import (
    BillingParty,
    BindingOutcome,
    ValidationAnswer,
    decide,
    decide_local,
    validate_window,
)

UTILITY = "UTIL-A"


@pytest.mark.parametrize(
    ("answer", "registered", "outcome", "party", "program_rate"),
    [
        # 3.1 home: enrolled, premise customer, registered here
        (ValidationAnswer("ENROLLED", "PREMISE_CUSTOMER"), True, "home", "premise_customer", True),
        # 3.2 guest, premise pays
        (
            ValidationAnswer("ENROLLED", "PREMISE_CUSTOMER"),
            False,
            "guest_premise_pays",
            "premise_customer",
            True,
        ),
        # 3.3 guest, PEV customer pays (even if registered here: the utility decides)
        (
            ValidationAnswer("ENROLLED", "PEV_CUSTOMER"),
            False,
            "guest_pev_pays",
            "pev_customer",
            True,
        ),
        # 3.4 roaming: another home utility, billed through the clearinghouse
        (
            ValidationAnswer("ENROLLED", "PEV_CUSTOMER", "UTIL-B"),
            False,
            "roaming",
            "clearinghouse",
            True,
        ),
        # the home utility named is this one: not roaming
        (
            ValidationAnswer("ENROLLED", "PREMISE_CUSTOMER", UTILITY),
            True,
            "home",
            "premise_customer",
            True,
        ),
        # 3.5 not enrolled: default rate, premise pays
        (ValidationAnswer("NOT_ENROLLED"), True, "not_enrolled", "premise_customer", False),
        # lenient casing and whitespace
        (
            ValidationAnswer(" enrolled ", "pev_customer"),
            False,
            "guest_pev_pays",
            "pev_customer",
            True,
        ),
        # missing billing party: premise customer
        (ValidationAnswer("ENROLLED"), True, "home", "premise_customer", True),
        # garbage answer: treated as no communications, default rate
        (ValidationAnswer("MAYBE"), True, "no_communications", "premise_customer", False),
    ],
)
def test_outcome_table(
    answer: ValidationAnswer, registered: bool, outcome: str, party: str, program_rate: bool
) -> None:
    """Every row of the profile's table."""
    decision = decide(answer, registered_here=registered, utility_id=UTILITY)
    assert decision.outcome == BindingOutcome(outcome)
    assert decision.billing_party == BillingParty(party)
    assert decision.program_rate is program_rate
    assert decision.reason


def test_no_answer_is_no_communications() -> None:
    """Req 30: no answer within the window -> default rate, charging proceeds."""
    decision = decide(None, registered_here=True, utility_id=UTILITY, failure="401 from the VTN")
    assert decision.outcome is BindingOutcome.NO_COMMUNICATIONS
    assert decision.program_rate is False
    assert decision.reason == "401 from the VTN"
    assert "validation window" in decide(None, registered_here=False, utility_id=None).reason


def test_roaming_records_home_utility() -> None:
    """The home utility is kept for clearinghouse billing (L3)."""
    decision = decide(
        ValidationAnswer("ENROLLED", "PEV_CUSTOMER", "UTIL-B"),
        registered_here=False,
        utility_id=UTILITY,
    )
    assert decision.home_utility_id == "UTIL-B"


def test_local_decisions() -> None:
    """Without a utility link: registered is home, anything else a guest on the default rate."""
    home = decide_local(True)
    guest = decide_local(False)
    assert (home.outcome, home.program_rate) == (BindingOutcome.HOME, True)
    assert (guest.outcome, guest.program_rate) == (BindingOutcome.GUEST_PREMISE_PAYS, False)
    assert guest.billing_party is BillingParty.PREMISE_CUSTOMER


@pytest.mark.parametrize("seconds", [10, 60, 600])
def test_window_accepts(seconds: float) -> None:
    """NF.4: 10 s to 10 min."""
    assert validate_window(seconds) == seconds


@pytest.mark.parametrize("seconds", [9.9, 0, 601, -5])
def test_window_rejects(seconds: float) -> None:
    """Out of range windows are refused with a message naming the range."""
    with pytest.raises(ValueError, match="from 10 s to 600 s"):
        validate_window(seconds)
