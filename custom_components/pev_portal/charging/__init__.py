"""Smart charging: the plan, the effective limit of each charger, and the one command owner.

* :mod:`.settings`: each vehicle's mode, departure and target, and the energy a session wants.
* :mod:`.planning`: the planner's inputs, replanning (off the event loop), and each charger's
  effective limit (plan, load-control limits, circuit, the user's choice).
* :mod:`.controller`: the only place that sends charger commands (safe order, failures,
  retries, audit).
* :mod:`.audit`: the audit trail and the verification of each command on what was measured.
* :mod:`.views`: the plan in the dashboard's shape.
"""

from .audit import CommandAudit
from .controller import SOURCE_EVENT, SOURCE_PLAN, SOURCE_USER, ChargerController, Target
from .planning import SmartCharging
from .settings import VehicleSettings

__all__ = [
    "SOURCE_EVENT",
    "SOURCE_PLAN",
    "SOURCE_USER",
    "ChargerController",
    "CommandAudit",
    "SmartCharging",
    "Target",
    "VehicleSettings",
]
