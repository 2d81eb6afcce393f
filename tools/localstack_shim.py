"""LocalStack's entry point for tools/localstack.sh: the one change Lambda creation needs without Docker.

Run with LocalStack's own interpreter (`.venv-localstack/bin/python -m tools.localstack_shim`). Creating a
Lambda function in LocalStack "prepares" it for Docker: it downloads its runtime-init binary from GitHub
(no network here) and pulls the runtime's image (no Docker here); either failure marks the function
Failed and the stack rolls back. The functions are never *invoked* inside LocalStack (the project's
runner, tools/local_invoke.py, runs them), so both steps are replaced before LocalStack starts:

- `docker_runtime_executor._ensure_runtime_image_present` becomes a no-op;
- `docker_runtime_executor.get_runtime_client_path` returns a directory holding a stub `var/rapid/init`
  that exits 1 with a message, should anything ever try to run it.

tests/unit/tools/test_localstack_shim.py fails when a LocalStack upgrade renames or removes either function.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

EXECUTOR_MODULE = "localstack.services.lambda_.invocation.docker_runtime_executor"
PATCHED = ("_ensure_runtime_image_present", "get_runtime_client_path")
STUB_INIT = """#!/bin/sh
echo "form-archive: LocalStack here runs without Docker; Lambda functions are created, never invoked" >&2
exit 1
"""


def stub_runtime_directory(root: Path) -> Path:
    """`root`/lambda-runtime-stub with an executable `var/rapid/init`, where LocalStack expects the binary."""
    directory = root / "lambda-runtime-stub"
    init = directory / "var" / "rapid" / "init"
    init.parent.mkdir(parents=True, exist_ok=True)
    init.write_text(STUB_INIT, encoding="utf-8")
    init.chmod(init.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return directory


def apply(root: Path) -> Any:
    """Patch LocalStack's Docker executor module; returns the module (the test checks what changed)."""
    import importlib  # noqa: PLC0415 - LocalStack is only importable in its own venv

    executor = importlib.import_module(EXECUTOR_MODULE)
    missing = [name for name in PATCHED if not callable(getattr(executor, name, None))]
    if missing:
        raise RuntimeError(f"{EXECUTOR_MODULE} has no {', '.join(missing)}: update tools/localstack_shim.py")
    stub = stub_runtime_directory(root)

    def no_image_pull(image: str, platform: Any) -> None:
        """No Docker: nothing to pull."""

    def stub_runtime_path() -> Path:
        return stub

    setattr(executor, "_ensure_runtime_image_present", no_image_pull)  # noqa: B010 - a module's global
    setattr(executor, "get_runtime_client_path", stub_runtime_path)  # noqa: B010
    return executor


def main() -> None:
    root = Path(os.environ.get("FILESYSTEM_ROOT") or sys.exit("localstack_shim: FILESYSTEM_ROOT is not set"))
    apply(root)
    import importlib  # noqa: PLC0415

    importlib.import_module("localstack.runtime.main").main()


if __name__ == "__main__":
    main()
