"""The OCPP interop harness: the ``ocpp`` emulation, a charge point, PEV Portal.

Home Assistant loads ``tests/ocpp/ocpp_emulation`` as the custom integration ``ocpp`` (the
loader's custom-integration cache gets one more entry beside the repository's
``custom_components``, from which PEV Portal is still loaded). Its central system listens on a
free port of 127.0.0.1; :class:`~tests.ocpp.charge_point.SimChargePoint` connects to it.
PEV Portal's charger is configured as its config flow would: from the charger's device through
the OCPP preset (``presets.preset_mapping``), metering on the charger's own register.

This folder has no ``__init__.py`` on purpose: pytest puts ``tests/`` on ``sys.path``, and a
package ``tests/ocpp`` would then shadow the ``ocpp`` library.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.pev_portal.coordinator import PevPortalCoordinator
from custom_components.pev_portal.presets import preset_mapping
from tests.components.common import setup
from tests.components.conftest import GUEST_CAR, make_entry
from tests.ocpp.charge_point import SimChargePoint
from tests.ocpp.charge_point_v201 import SimChargingStation

START = "2026-11-22T10:00:00+00:00"
CP_ID = "CP-SIM-1"  # the charge point's own ID (the websocket path)
CPID = "charger"  # lbbrhzn's default name for it in Home Assistant (const.py DEFAULT_CPID)
HOME_TAG = "PEV-DEMO-0001"
VISITOR_TAG = "tag-visitor"
MEASURANDS = "Current.Offered,Energy.Active.Import.Register,Power.Active.Import"
EMULATION = Path(__file__).parent / "ocpp_emulation"
HOME_CAR = {
    "pev_id": "PEV-DEMO-0001",
    "name": "Family car",
    "relation": "home",
    "capacity_kwh": 60,
    "tags": ["tag-family"],
    "default_vehicle": False,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ocpp_entry(port: int, *, meter_interval: int = 60, connectors: int = 1) -> MockConfigEntry:
    """lbbrhzn/ocpp's config entry (version 2.2 data: the central system, then cpids)."""
    return MockConfigEntry(
        domain="ocpp",
        title="central",
        version=2,
        minor_version=2,
        data={
            "csid": "central",
            "host": "127.0.0.1",
            "port": port,
            "cpids": [
                {
                    CP_ID: {
                        "cpid": CPID,
                        "max_current": 32,
                        "meter_interval": meter_interval,
                        "monitored_variables": MEASURANDS,
                        "num_connectors": connectors,
                    }
                }
            ],
        },
        entry_id="ocpp1",
    )


@dataclass
class Site:
    """Home Assistant with the ocpp emulation, a charge point on it and PEV Portal."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    cp: Any  # SimChargePoint (OCPP 1.6J) or SimChargingStation (OCPP 2.0.1)
    ocpp: MockConfigEntry
    premise: MockConfigEntry | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def coordinator(self) -> PevPortalCoordinator:
        assert self.premise is not None
        coordinator: PevPortalCoordinator = self.premise.runtime_data
        return coordinator

    async def settle(self) -> None:
        """Until neither Home Assistant nor the charge point has anything left to do."""
        for _ in range(20):
            await self.hass.async_block_till_done()
            if not await self.cp.settle():
                await self.hass.async_block_till_done()
                return
        raise AssertionError("Home Assistant and the charge point keep talking")

    async def run(self, seconds: float) -> None:
        """Let time pass on both clocks, stopping at each of the charge point's samples."""
        remaining = seconds
        while remaining > 1e-9:
            step = min(remaining, self.cp.until_next_sample(), 60.0)
            self.freezer.tick(timedelta(seconds=step))
            await self.cp.advance(step)
            async_fire_time_changed(self.hass)
            await self.settle()
            remaining -= step

    async def start_ocpp(self) -> None:
        assert await self.hass.config_entries.async_setup(self.ocpp.entry_id)
        await self.settle()

    async def connect(self) -> None:
        await self.cp.connect()
        await self.settle()

    async def start_premise(self, vehicles: list[dict[str, Any]] | None = None) -> None:
        """PEV Portal on the OCPP preset, as its config flow maps the charger's device."""
        device = dr.async_get(self.hass).async_get_device_by_identifier(
            ("ocpp", CPID), self.ocpp.entry_id
        )
        assert device is not None
        preset, found = preset_mapping(self.hass, device.id)
        assert preset == "ocpp"
        charger = {
            "charger_name": "Driveway",
            "charger_type": "entities",
            "preset": preset,
            **found,
            "phases": 1,
            "voltage": 230.0,
            "meter_source": "charger",
        }
        self.premise = make_entry(
            charger=charger, vehicles=vehicles if vehicles is not None else [HOME_CAR, GUEST_CAR]
        )
        await setup(self.hass, self.premise)
        self.hass.bus.async_listen(
            "pev_portal_session_ended", lambda event: self.events.append(dict(event.data))
        )
        await self.settle()

    async def stop(self) -> None:
        """Home Assistant stops: both entries unload; the central system closes the socket."""
        assert self.premise is not None
        for entry in (self.premise, self.ocpp):
            assert await self.hass.config_entries.async_unload(entry.entry_id)
        await self.settle()
        await self.cp.wait_closed()

    async def start(self) -> None:
        """Home Assistant starts again (the charge point reconnects with :meth:`connect`)."""
        assert self.premise is not None
        for entry in (self.ocpp, self.premise):
            assert await self.hass.config_entries.async_setup(entry.entry_id)
        await self.settle()


async def make_site(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    *,
    meter_interval: int = 60,
    connectors: int = 1,
    version: str = "1.6",
    **cp_options: Any,
) -> Site:
    """The ocpp entry set up and the charge point connected (PEV Portal not yet); the charge
    point speaks OCPP ``version`` (1.6 or 2.0.1)."""
    freezer.move_to(START)
    port = free_port()
    kind = SimChargingStation if version == "2.0.1" else SimChargePoint
    cp = kind(CP_ID, f"ws://127.0.0.1:{port}", connectors=connectors, **cp_options)
    site = Site(
        hass, freezer, cp, ocpp_entry(port, meter_interval=meter_interval, connectors=connectors)
    )
    site.ocpp.add_to_hass(hass)
    await site.start_ocpp()
    await site.connect()
    return site
