"""scripts/fleet: reproducible premises, partition-independent curves, a valid PNG."""

from __future__ import annotations

import importlib.util
import struct
import sys
import zlib
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fleet.py"


@pytest.fixture(scope="module")
def fleet() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fleet_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fleet_script"] = module
    spec.loader.exec_module(module)
    return module


def test_premises_are_pure_and_the_reduce_ignores_the_partition(fleet: ModuleType) -> None:
    assert fleet.draw_premise(7, 3, 30.0) == fleet.draw_premise(7, 3, 30.0)
    assert fleet.draw_premise(7, 3, 30.0) != fleet.draw_premise(7, 4, 30.0)
    whole = fleet.simulate_chunk((7, 0, 24, 30.0))
    parts = fleet.Partial()
    parts.add(fleet.simulate_chunk((7, 10, 24, 30.0)))
    parts.add(fleet.simulate_chunk((7, 0, 10, 30.0)))
    assert parts.premises == whole.premises == 24
    assert parts.met == whole.met
    for name in fleet.SCENARIOS:
        assert parts.energy[name] == pytest.approx(whole.energy[name])
    found = fleet.figures(whole)
    base, events = found["baseline"], found["events"]
    assert events["window_kwh"] < base["window_kwh"]  # the events move load out of the window
    assert found["events+random"]["total_kwh"] == pytest.approx(events["total_kwh"], rel=0.05)
    for f in found.values():
        assert 0.0 <= f["targets_met"] <= 1.0


def test_main_writes_the_csv_and_a_valid_png(
    fleet: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fleet.main(["--premises", "12", "--workers", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "rebound peak after the event" in out
    assert "energy shifted" in out
    rows = (tmp_path / "fleet.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "slot_start_local,slot_start_utc,baseline_kw,events_kw,events+random_kw"
    assert len(rows) == 1 + fleet.SLOTS
    png = (tmp_path / "fleet.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (960, 480)
    at, data = 8, b""
    while at < len(png):  # every chunk's CRC is right; the image data has one row per line
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, body = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body)
        if kind == b"IDAT":
            data += body
        at += 12 + length
    assert len(zlib.decompress(data)) == height * (1 + 3 * width)
