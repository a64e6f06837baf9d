"""Energy delivered while Home Assistant was down (offline_energy), on an entity-mapped charger
metered on its own register, whose transaction sensors are those of lbbrhzn/ocpp on OCPP 1.6
(the transaction ID is the start's epoch second).

Home Assistant "restarts" by unloading and setting up PEV Portal's entry again; meanwhile the
charge point delivers without publishing, so its register shows the old value at the start (as
an integration restoring its sensor does) and the offline energy arrives in one reading.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.pev_portal.core.metering import Quality

from .common import setup
from .conftest import make_entry
from .test_entity_charger import CP, ENERGY_ATTRS, ChargePoint, run
from .test_identification import VEHICLES, Transactions, _with_transaction, cp  # noqa: F401

OFFLINE_S = 300


async def _restart_session(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    cp: ChargePoint,  # noqa: F811
    *,
    transactions: bool = True,
    session_energy: str | None = None,
    transaction_id: str | None = None,
) -> tuple[dict[str, object], list[str], set[Quality], float]:
    """10 min at 7.2 kW, 5 min with Home Assistant down, 2 min more, unplugged. The session
    energy sensor shows ``session_energy`` after the restart (None: the true figure). Returns
    the summary, the anomalies' kinds, the offline intervals' qualities and the offline Wh."""
    config = _with_transaction(CP, meter_source="charger") if transactions else CP
    if not transactions:
        config = {**CP, "meter_source": "charger"}
    entry = make_entry(charger=config, vehicles=VEHICLES)
    coordinator = await setup(hass, entry)
    ended: list[Event] = []
    hass.bus.async_listen("pev_portal_session_ended", ended.append)
    tx = Transactions(hass, cp)
    await cp.status("Preparing")
    if transactions:
        await tx.start(dt_util.utcnow().timestamp())
    cp.set_power(7200)
    await cp.status("Charging")
    await run(hass, freezer, 10, [cp])
    offline_start = dt_util.utcnow()
    session = coordinator.chargers["charger1"].session
    assert session is not None
    session_id = session.session_id

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=OFFLINE_S))
    offline_wh = cp.power_w * OFFLINE_S / 3600
    cp.register_wh += offline_wh  # delivered, not published
    cp.meter_wh += offline_wh
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    offline_end = dt_util.utcnow()
    freezer.tick(timedelta(seconds=15))
    # The charger reconnects: its transaction figure, then its register (one by one).
    if transaction_id is not None:  # "new": another transaction, started at the restart
        if transaction_id == "new":
            transaction_id = str(int(offline_end.timestamp()))
        hass.states.async_set("sensor.cp_transaction_id", transaction_id)
    energy = session_energy
    if energy is None:
        energy = f"{(cp.register_wh - tx.start_wh) / 1000:.3f}"
    hass.states.async_set(
        "sensor.cp_session_energy", energy, {**ENERGY_ATTRS, "unit_of_measurement": "kWh"}
    )
    cp.deliver(0, 1.0)  # publishes the register
    await hass.async_block_till_done()
    await run(hass, freezer, 2, [cp])
    await tx.stop(cp.register_wh)
    cp.set_power(0)
    await cp.status("Available")
    [summary] = [e.data for e in ended]
    anomalies = await coordinator.store.call(lambda s: s.anomalies(session_id))
    intervals = await coordinator.store.call(lambda s: s.intervals(session_id))
    qualities = {i.quality for i in intervals if i.start < offline_end and i.end > offline_start}
    return summary, [a["kind"] for a in anomalies], qualities, offline_wh


async def test_offline_energy_vouched_by_the_transaction_is_billed_as_estimated(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    cp: ChargePoint,  # noqa: F811
) -> None:
    """The same transaction (the same start) before and after, its figure matching the
    register and within the charger's power: 17 minutes at 7.2 kW billed, the offline
    minutes estimated (a gap), never OK."""
    summary, kinds, qualities, _ = await _restart_session(hass, freezer, cp)
    assert summary["energy_kwh"] == pytest.approx(7.2 * 17 / 60, abs=1e-3)
    assert kinds == ["gap"]
    assert qualities == {Quality.ESTIMATED}


@pytest.mark.parametrize(
    ("transactions", "session_energy", "transaction_id"),
    [
        (True, "nan", None),
        (False, None, None),
        (True, None, "new"),
        (True, "0.000", None),
        (True, None, "0"),
        (True, None, "unknown"),
    ],
    ids=[
        "nan_transaction_energy",
        "no_transaction_registers",
        "another_transaction",
        "transaction_figure_never_caught_up",
        "transaction_ended",
        "transaction_unknown",
    ],
)
async def test_offline_energy_without_a_witness_is_not_billed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    cp: ChargePoint,  # noqa: F811
    transactions: bool,
    session_energy: str | None,
    transaction_id: str | None,
) -> None:
    """A transaction figure that is not a number, a charger without transaction registers,
    another transaction (another start) or none (ended, or not known) after the restart, or a
    transaction figure that has not reached the register by the next reading: the offline
    energy is a jump, flagged and not billed, as before."""
    summary, kinds, qualities, offline_wh = await _restart_session(
        hass,
        freezer,
        cp,
        transactions=transactions,
        session_energy=session_energy,
        transaction_id=transaction_id,
    )
    assert summary["energy_kwh"] == pytest.approx(7.2 * 12 / 60, abs=1e-3)
    assert offline_wh == pytest.approx(600)
    assert "jump" in kinds
    assert "gap" not in kinds
    assert Quality.ESTIMATED not in qualities


async def test_restart_without_offline_energy_changes_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    cp: ChargePoint,  # noqa: F811
) -> None:
    """Restarted while the car was already unplugged from the power (nothing delivered), then
    unplugged: the restored register is the session's last reading; no anomaly."""
    entry = make_entry(charger=_with_transaction(CP, meter_source="charger"), vehicles=VEHICLES)
    coordinator = await setup(hass, entry)
    ended: list[Event] = []
    hass.bus.async_listen("pev_portal_session_ended", ended.append)
    tx = Transactions(hass, cp)
    await cp.status("Preparing")
    await tx.start(dt_util.utcnow().timestamp())
    cp.set_power(7200)
    await cp.status("Charging")
    await run(hass, freezer, 10, [cp])
    cp.set_power(0)
    session = coordinator.chargers["charger1"].session
    assert session is not None
    session_id = session.session_id
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(seconds=OFFLINE_S))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    assert coordinator.chargers["charger1"].offline is not None
    await tx.stop(cp.register_wh)
    await cp.status("Available")
    assert coordinator.chargers["charger1"].offline is None
    [summary] = [e.data for e in ended]
    assert summary["energy_kwh"] == pytest.approx(1.2, abs=1e-3)
    anomalies = await coordinator.store.call(lambda s: s.anomalies(session_id))
    assert anomalies == []
