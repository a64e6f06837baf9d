"""The charger form offers a ZHA meter when ZHA has a device with a Metering cluster (and only
then); choosing it leads to the meter step for the device, its scaling and the ESI."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.pev_portal.zigbee import validate_meter_form
from tests.components.test_config_flow import (  # noqa: F401  (charger_states is a fixture)
    ENTITIES,
    METER_CHOICE,
    charger_states,
    flow_at_entities,
)

from .conftest import ZhaNetwork
from .devices import emizb_132, in_home_display


def source_options(result: Any) -> list[str]:
    for marker, field in result["data_schema"].schema.items():
        if str(marker) == "meter_source":
            return list(field.config["options"])
    raise AssertionError("no meter_source field")


@pytest.mark.usefixtures("charger_states")
async def test_zha_meter_chosen(ha: HomeAssistant, zha_network: ZhaNetwork) -> None:
    """Through the real ZHA: a joined meter is offered, a joined display is not a meter."""
    meter = emizb_132(multiplier=1, divisor=1000, current_summ_delivered=0)
    device_id = (await zha_network.join(meter)).id
    not_meter = (await zha_network.join(in_home_display(0x0104))).id
    flow_id = await flow_at_entities(ha)
    result = await ha.config_entries.flow.async_configure(
        flow_id, {**ENTITIES, **METER_CHOICE, "meter_entity": "sensor.wb_power"}
    )
    assert result["errors"] == {"meter_entity": "not_energy_sensor"}
    assert "zha" in source_options(result)
    result = await ha.config_entries.flow.async_configure(
        flow_id, {**ENTITIES, "meter_source": "zha"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "meter"
    result = await ha.config_entries.flow.async_configure(flow_id, {})
    assert result["errors"] == {"zha_device": "zha_device_required"}
    result = await ha.config_entries.flow.async_configure(flow_id, {"zha_device": not_meter})
    assert result["errors"] == {"zha_device": "not_zha_meter"}
    result = await ha.config_entries.flow.async_configure(
        flow_id, {"zha_device": device_id, "meter_divisor": 100, "zigbee_esi": True}
    )
    await ha.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (charger,) = result["result"].subentries.values()
    assert charger.data["meter_source"] == "zha"
    assert charger.data["zha_device"] == device_id
    assert charger.data["zha_ieee"] == meter.ieee
    assert charger.data["meter_divisor"] == 100
    assert charger.data["zigbee_esi"] is True
    assert "meter_entity" not in charger.data
    assert "meter_multiplier" not in charger.data
    await zha_network.settle()


@pytest.mark.usefixtures("charger_states")
async def test_zha_not_offered_without_zha(ha: HomeAssistant, zha_down: None) -> None:
    flow_id = await flow_at_entities(ha)
    result = await ha.config_entries.flow.async_configure(
        flow_id, {**ENTITIES, "meter_source": "sensor"}
    )
    assert result["errors"] == {"meter_entity": "meter_required"}
    assert source_options(result) == ["sensor", "charger"]
    assert "zha_device" not in {str(marker) for marker in result["data_schema"].schema}
    result = await ha.config_entries.flow.async_configure(
        flow_id, {**ENTITIES, "meter_source": "charger"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("charger_states")
async def test_zha_without_metering_devices_not_offered(
    ha: HomeAssistant, zha_network: ZhaNetwork
) -> None:
    await zha_network.join(in_home_display(0x0104))
    flow_id = await flow_at_entities(ha)
    result = await ha.config_entries.flow.async_configure(
        flow_id, {**ENTITIES, "meter_source": "sensor"}
    )
    assert source_options(result) == ["sensor", "charger"]


async def test_scaling_overrides_validated(ha: HomeAssistant, zha_network: ZhaNetwork) -> None:
    device_id = (await zha_network.join(emizb_132(multiplier=1, divisor=1000))).id
    for bad in (0, 2.5, 0x1000000):
        errors, _ = validate_meter_form(ha, {"zha_device": device_id, "meter_multiplier": bad})
        assert errors == {"meter_multiplier": "invalid_scaling"}, bad
    errors, data = validate_meter_form(ha, {"zha_device": device_id, "meter_divisor": 10.0})
    assert (errors, data["meter_divisor"]) == ({}, 10)
