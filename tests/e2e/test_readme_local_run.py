"""docs/local.md's end-to-end block gives a real delivery: its block runs as written, with bash.

Only what cannot be the same on every machine changes: the ports (free ones instead of 8000 and 5000,
and an env-vars file whose WEBHOOK_URL names that port) and the virtual environment: the one running the
tests, seen through a folder of links with a fresh set-up stamp, so `make` uses it and never rebuilds it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tools.project import PROJECT_ROOT, function_ids

pytestmark = [
    pytest.mark.moto_only("README's run-locally block starts its own moto server"),
    pytest.mark.slow,
]

README = PROJECT_ROOT / "docs" / "local.md"  # the page with the block
MARKER = "<!-- local-run:"


def readme_block() -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(re.escape(MARKER) + r"[^>]*-->\n```bash\n(.*?)```", text, re.DOTALL)
    assert found is not None, "docs/local.md lost its local-run block"
    return found.group(1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def linked_venv(folder: Path) -> Path:
    """`folder` links to every entry of the running virtual environment and holds a fresh `.installed`."""
    folder.mkdir()
    for entry in Path(sys.prefix).iterdir():
        if entry.name != ".installed":
            (folder / entry.name).symlink_to(entry)
    (folder / ".installed").touch()
    return folder


def test_readme_local_run_block_delivers_a_verified_webhook(tmp_path: Path) -> None:
    block = readme_block()
    assert "8000" in block
    assert "5000" in block
    assert "make invoke FN=NotifyWebhookFunction EVENT=events/s3_put.json" in block
    receiver_port, s3_port = free_port(), free_port()
    venv = linked_venv(tmp_path / "venv")
    script = (
        block.replace("8000", str(receiver_port))
        .replace("5000", str(s3_port))
        .replace(".venv/bin/", f"{venv}/bin/")
    )
    env_vars = json.loads((PROJECT_ROOT / "events" / "env.json").read_text(encoding="utf-8"))
    notify = env_vars[function_ids().notify]
    assert notify["WEBHOOK_URL"] == "http://127.0.0.1:8000/webhook", "README and events/env.json agree"
    notify["WEBHOOK_URL"] = f"http://127.0.0.1:{receiver_port}/webhook"
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps(env_vars), encoding="utf-8")

    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "MAKELEVEL"}
    environment.update(
        ENV_VARS=str(env_file),
        VENV=str(venv),
        MAKEFLAGS="--no-print-directory",
    )
    # Whatever the block leaves running is stopped when it ends.
    prologue = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n"
    completed = subprocess.run(
        ["bash", "-c", prologue + script],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    assert '"statusCode": 201' in out
    assert '"statusCode": 400' in out
    assert re.findall(r'"delivered": (\d+)', out) == ["1"], out
    deliveries = [line for line in out.splitlines() if line.startswith("delivery ")]
    assert len(deliveries) == 1, out
    assert "delivery 1: POST /webhook signature valid, answered 200" in deliveries[0]
    assert '"display": "jane doe+co.json"' in deliveries[0]
    assert '"path": "/contact forms/2026"' in deliveries[0]
    assert "testing" not in deliveries[0], "the receiver never prints the secret"
