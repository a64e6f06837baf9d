"""Shared fixtures.

The integration is imported from the repository's ``custom_components`` package before the
``hass`` fixture runs, so Home Assistant loads it from there (not from the tests folder).
"""

from __future__ import annotations

import custom_components.pev_portal  # noqa: F401  (import before the hass fixture; see above)
