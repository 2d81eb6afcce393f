"""`make bench` still runs end to end: a tiny object, few repetitions, every key present and numeric.

Only the shape of the results is checked, never a time or a ratio (this machine is shared and noisy).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import REQUIRED_KEYS

pytestmark = pytest.mark.moto_only("`make bench` runs its own moto server")

ROOT = Path(__file__).resolve().parents[2]


def test_bench_runs_and_writes_every_key(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--object-mib",
            "4",
            "--rounds",
            "2",
            "--import-runs",
            "1",
            "--archive-calls",
            "10",
            "--block",
            "5",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    results = json.loads(output.read_text(encoding="utf-8"))
    assert isinstance(results, dict)
    assert set(REQUIRED_KEYS) <= set(results)
    for key, value in results.items():
        assert isinstance(value, int | float) and not isinstance(value, bool), key
        assert math.isfinite(value), key
    assert results["object_mib"] == 4
    assert "hash_speedup_vs_handbook" in completed.stdout  # the table was printed
