"""tools/localstack_shim.py against the installed LocalStack: fails when an upgrade moves what it patches.

Runs in LocalStack's own venv (.venv-localstack, Python 3.13). Without that venv the test is skipped with
the reason; `make test-deploy` (CI) creates the venv and sets FORM_ARCHIVE_LOCALSTACK_VENV, and then a
missing venv is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.project import PROJECT_ROOT

VENV = Path(os.environ.get("FORM_ARCHIVE_LOCALSTACK_VENV") or PROJECT_ROOT / ".venv-localstack")
PYTHON = VENV / "bin" / "python"

PROBE = """
import inspect, json, os, sys
from pathlib import Path
from tools import localstack_shim
executor = localstack_shim.apply(Path(sys.argv[1]))
prepare = inspect.getsource(executor.DockerRuntimeExecutor.prepare_version)
init = executor.get_runtime_client_path() / "var" / "rapid" / "init"
print(json.dumps({
    "called_by_prepare_version": [name in prepare for name in localstack_shim.PATCHED],
    "pull_result": executor._ensure_runtime_image_present("no-such-image", None),
    "init_executable": init.is_file() and os.access(init, os.X_OK),
    "init_under_root": str(init).startswith(sys.argv[1]),
}))
"""


def test_shim_patches_the_functions_lambda_creation_calls(tmp_path: Path) -> None:
    # The stamp is written last: a venv still being set up (CI's LocalStack lane, beside the suite) is absent.
    if not (VENV / ".installed").exists():
        if os.environ.get("FORM_ARCHIVE_LOCALSTACK_VENV"):
            pytest.fail(f"{PYTHON} is missing although make test-deploy created it")
        pytest.skip("no .venv-localstack (make localstack or make test-deploy creates it)")
    environment = {
        **os.environ,
        "FILESYSTEM_ROOT": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "OVERRIDE_IN_DOCKER": "0",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    completed = subprocess.run(
        [str(PYTHON), "-c", PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    assert found == {
        "called_by_prepare_version": [True, True],
        "pull_result": None,
        "init_executable": True,
        "init_under_root": True,
    }


def test_shim_refuses_to_start_when_the_patched_function_is_gone(tmp_path: Path) -> None:
    """The guard itself: a module without the names is an error that says which file to update."""
    fake = tmp_path / "localstack" / "services" / "lambda_" / "invocation"
    fake.mkdir(parents=True)
    for package in (tmp_path / "localstack", fake.parent.parent, fake.parent, fake):
        (package / "__init__.py").write_text("", encoding="utf-8")
    (fake / "docker_runtime_executor.py").write_text("def get_runtime_client_path(): ...\n", encoding="utf-8")
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pathlib import Path; from tools import localstack_shim as s; s.apply(Path('.'))",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(PROJECT_ROOT)])},
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    assert "has no _ensure_runtime_image_present: update tools/localstack_shim.py" in completed.stderr
