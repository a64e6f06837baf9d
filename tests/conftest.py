"""Shared fixtures.

The integration is imported from the repository's ``custom_components`` package before the
``hass`` fixture runs, so Home Assistant loads it from there (not from the tests folder).

Hypothesis draws the same examples on every run by default (profile ``ci``: CI is never red by
the luck of the draw). ``HYPOTHESIS_PROFILE=fuzz scripts/test tests/core tests/openadr`` draws
new ones on every run (run it in a loop to hunt): how the planner's stall on a 1e-6 kWh vehicle
was found.
"""

from __future__ import annotations

import os

from hypothesis import settings

import custom_components.pev_portal  # noqa: F401  (import before the hass fixture; see above)

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("fuzz", derandomize=False, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
