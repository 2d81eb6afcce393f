"""The Makefile's first-run promises: help lists demo and test first; set-up never writes to stdout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tools.project import PROJECT_ROOT


def make(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_default_target_lists_demo_and_test_first_then_the_rest() -> None:
    completed = make()
    assert completed.returncode == 0, completed.stderr
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    assert lines[0].startswith("make demo ")
    assert lines[1].startswith("make test ")
    for target in (
        "lint",
        "test-313",
        "validate",
        "build",
        "invoke",
        "api",
        "replay",
        "bench",
        "scan",
        "clean",
    ):
        assert f"make {target} " in completed.stdout, target


def test_every_virtual_environment_is_set_up_by_one_rule_on_stderr(tmp_path: Path) -> None:
    """Dry runs against venv folders that do not exist: each set-up announces itself on stderr and sends
    every command's output there, so `make demo 2>/dev/null | jq .` sees only the JSON line."""
    cases = {
        "demo": ("VENV", "requirements-dev.txt"),
        "validate": ("SAM_VENV", "requirements-sam.txt"),
        "scan": ("CHECKOV_VENV", "requirements-checkov.txt"),
    }
    for target, (variable, requirements) in cases.items():
        venv = tmp_path / variable
        completed = make("-n", target, f"{variable}={venv}")
        assert completed.returncode == 0, completed.stderr
        lines = completed.stdout.splitlines()
        touch = f"touch {venv}/.installed"
        assert touch in lines, completed.stdout
        setup = lines[: lines.index(touch)]
        assert setup[0].startswith(f'echo "setting up {venv} (pip install -r {requirements}, about ')
        assert setup[0].endswith(', once)" >&2')
        assert all(line.endswith(">&2") for line in setup), setup
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert makefile.count("-m venv") == 1, "one venv rule"


def test_make_test_checks_chromium_before_the_suite(tmp_path: Path) -> None:
    """Issue 25: a machine without Chromium learns it at once (tools/chromium.sh installs it or names the
    command), not after the 5-minute suite."""
    venv = tmp_path / "venv"
    completed = make("-n", "test", f"VENV={venv}")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    chromium = next(index for index, line in enumerate(lines) if "tools/chromium.sh" in line)
    suite = next(index for index, line in enumerate(lines) if "-m pytest" in line)
    assert chromium < suite
