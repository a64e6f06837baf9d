"""Device signatures the real-ZHA tests join, from zhaquirks and published device signatures.

Each signature is the device's simple descriptors as its zhaquirks quirk matches them (or, for a
device zhaquirks leaves alone, as published for the device). Versions checked: zha 2.3.1,
zha-quirks 2.3.0, zigpy 2.4.0 (Home Assistant 2026.10.4's ZHA pins).

* frient A/S EMIZB-132: zhaquirks ``develco/emi_han.py`` (QuirkBuilder on manufacturer and model,
  Metering replaced on endpoint 2 by ``FrientMetering``: divisor constant 1000, divisor reports
  dropped).
* innr SP 234: zhaquirks ``innr/innr_sp234_plug.py`` (signature endpoints 1 and 242; Metering
  replaced by ``MeteringClusterInnrOld``: multiplier 1, divisor 100).
* innr SP 120: zhaquirks ``innr/innr_sp120_plug.py`` (ZLL endpoints 1 and 2; the summation is
  reported with the manufacturer-specific bit, code 0x1166, and the quirk copies it onto the
  standard attribute: zigpy announces it as ``attribute_updated``).
* Tuya TS0121 (``_TZ3000_8nkb7mof``): a TS0121 whose signature none of zhaquirks'
  ``tuya/ts0121_plug.py`` quirks match (device type 0x0051 with the Identify and Tuya 0xE000/
  0xE001 clusters, no Green Power endpoint), so ZHA shows the device's own multiplier and
  divisor (1/1000).
"""

from __future__ import annotations

from typing import Any

from .radio import HA_PROFILE, SE_PROFILE, ZLL_PROFILE, SimDevice

GP_PROFILE = 0xA1E0
METERING = 0x0702


def emizb_132(**attributes: Any) -> SimDevice:
    """frient EMIZB-132 (electricity meter interface, Norwegian HAN)."""
    return SimDevice(
        ieee="00:15:bc:00:31:00:01:32",
        nwk=0x5132,
        manufacturer="frient A/S",
        model="EMIZB-132",
        endpoints={
            2: {
                "profile_id": HA_PROFILE,
                "device_type": 0x0053,  # metering interface
                "input_clusters": [0x0000, 0x0003, METERING, 0x0B04],
                "output_clusters": [0x0003],
            },
        },
        attributes={(2, METERING): dict(attributes)},
    )


def innr_sp_234(**attributes: Any) -> SimDevice:
    """Innr SP 234 smart plug."""
    return SimDevice(
        ieee="00:15:8d:00:05:02:34:01",
        nwk=0x6234,
        manufacturer="innr",
        model="SP 234",
        endpoints={
            1: {
                "profile_id": HA_PROFILE,
                "device_type": 0x010A,  # on/off plug-in unit
                "input_clusters": [
                    0x0000,
                    0x0003,
                    0x0004,
                    0x0005,
                    0x0006,
                    METERING,
                    0x0B04,
                    0x0B05,
                    0x1000,
                    0xFC57,
                    0xFC82,
                ],
                "output_clusters": [0x0003, 0x000A, 0x0019],
            },
            242: {
                "profile_id": GP_PROFILE,
                "device_type": 0x0061,
                "input_clusters": [],
                "output_clusters": [0x0021],
            },
        },
        attributes={(1, METERING): dict(attributes)},
    )


def innr_sp_120(**attributes: Any) -> SimDevice:
    """Innr SP 120 smart plug (ZLL)."""
    return SimDevice(
        ieee="00:15:8d:00:05:01:20:01",
        nwk=0x6120,
        manufacturer="innr",
        model="SP 120",
        endpoints={
            1: {
                "profile_id": ZLL_PROFILE,
                "device_type": 0x0010,  # ZLL on/off plug-in unit
                "input_clusters": [
                    0x0000,
                    0x0B04,
                    0x0004,
                    0x0003,
                    0x0008,
                    METERING,
                    0x0006,
                    0x0005,
                    0x000A,
                ],
                "output_clusters": [0x0003, 0x0019, 0x000A],
            },
            2: {
                "profile_id": ZLL_PROFILE,
                "device_type": 0x1000,
                "input_clusters": [0x1000],
                "output_clusters": [],
            },
        },
        attributes={(1, METERING): dict(attributes)},
    )


def tuya_ts0121(**attributes: Any) -> SimDevice:
    """A Tuya TS0121 plug that zhaquirks leaves alone."""
    return SimDevice(
        ieee="a4:c1:38:00:01:21:00:01",
        nwk=0x7121,
        manufacturer="_TZ3000_8nkb7mof",
        model="TS0121",
        endpoints={
            1: {
                "profile_id": HA_PROFILE,
                "device_type": 0x0051,  # smart plug
                "input_clusters": [
                    0x0000,
                    0x0003,
                    0x0004,
                    0x0005,
                    0x0006,
                    METERING,
                    0x0B04,
                    0xE000,
                    0xE001,
                ],
                "output_clusters": [0x000A, 0x0019],
            },
        },
        attributes={(1, METERING): dict(attributes)},
    )


def in_home_display(
    profile: int, ieee: str = "00:0d:6f:00:00:07:05:01", nwk: int = 0x0705
) -> SimDevice:
    """An in-home display with Price and DRLC clients on the given profile."""
    return SimDevice(
        ieee=ieee,
        nwk=nwk,
        manufacturer="PEV Test",
        model=f"IHD-{profile:04x}",
        endpoints={
            1: {
                "profile_id": profile,
                "device_type": 0x0507 if profile == SE_PROFILE else 0x0000,
                "input_clusters": [0x0000, 0x0003],
                "output_clusters": [0x000A, 0x0700, 0x0701],
            },
        },
        mains_powered=True,
    )


def metering_endpoint(device: SimDevice) -> int:
    """The endpoint of the device's Metering cluster."""
    return next(ep for ep, sig in device.endpoints.items() if METERING in sig["input_clusters"])
