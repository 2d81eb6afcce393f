"""`make bench` still runs end to end, both modes: a tiny object, few repetitions, every key present and
numeric.

Only the shape of the results is checked, never a time or a ratio (this machine is shared and noisy).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import REQUIRED_KEYS, REQUIRED_REMOTE_KEYS

pytestmark = [pytest.mark.moto_only("`make bench` runs its own moto server"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


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
            "--cold-runs",
            "1",
            "--archive-calls",
            "10",
            "--block",
            "5",
            "--keyed-calls",
            "5",
            "--load",
            "2",
            "5",
            "--links-mib",
            "8",
            "--links-rounds",
            "1",
            "--state-mib",
            "16",
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
    assert "links_vs_one_invocation" in completed.stdout
    assert "state_vs_hashlib" in completed.stdout


def test_bench_remote_mode_runs_against_moto_through_the_proxy(tmp_path: Path) -> None:
    """A tiny object in parts of 1 MiB, so the function's ranged path runs through the throttling proxy."""
    output = tmp_path / "remote.json"
    env = {**os.environ, "HASH_PART_BYTES": str(1024 * 1024), "HASH_CONNECTIONS": "2"}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--remote",
            "moto",
            "--object-mib",
            "3",
            "--rounds",
            "1",
            "--rate-mib",
            "64",
            "--first-byte-ms",
            "5",
            "--links-mib",
            "6",
            "--links-rounds",
            "1",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    results = json.loads(output.read_text(encoding="utf-8"))
    assert set(REQUIRED_REMOTE_KEYS) <= set(results)
    for key, value in results.items():
        assert isinstance(value, int | float) and not isinstance(value, bool), key
        assert math.isfinite(value), key
    assert (results["object_mib"], results["hash_connections"], results["hash_part_mib"]) == (3, 2, 1)
    assert results["remote_store_is_rgw"] == 0
    assert "remote_function_vs_raw" in completed.stdout
    assert "moto reads the whole object for every range" in completed.stdout
