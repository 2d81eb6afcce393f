"""Cold import: wall time of a fresh interpreter importing one module, interleaved to cancel drift."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.stats import Series

ROOT = Path(__file__).resolve().parents[1]

# key suffix -> module imported by `python -c "import <module>"`
MODULES = {
    "boto3": "boto3",
    "archive": "archive_submission.app",
    "notify": "notify_webhook.app",
}

# A Lambda-like environment: Powertools chooses its Lambda code paths, as in a deployed function.
LAMBDA_LIKE_ENV = {
    "PYTHONPATH": str(ROOT / "functions"),
    "LAMBDA_TASK_ROOT": str(ROOT / "functions"),
    "AWS_LAMBDA_FUNCTION_NAME": "bench-function",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "ARCHIVE_BUCKET": "bench-archive",
    "WEBHOOK_URL": "http://127.0.0.1:9/webhook",
    "WEBHOOK_SECRET_TOKEN": "bench-secret",
}


def _child_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(LAMBDA_LIKE_ENV)
    return env


def _time_import(module: str, env: dict[str, str]) -> float:
    """Milliseconds from spawn to exit of `python -c "import <module>"`."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], env=env, cwd=ROOT, check=True)
    return (time.perf_counter() - started) * 1000


def measure_imports(runs: int) -> dict[str, Series]:
    env = _child_env()
    series = {name: Series(f"import_ms_{name}", "ms") for name in MODULES}
    series["python"] = Series("import_ms_python", "ms")
    modules = {**MODULES, "python": "sys"}
    names = list(modules)
    for name in names:  # warm the page cache and write .pyc files; not counted
        _time_import(modules[name], env)
    for run in range(runs):
        offset = run % len(names)
        for name in names[offset:] + names[:offset]:  # rotate the order each run
            series[name].add(_time_import(modules[name], env))
    return series
