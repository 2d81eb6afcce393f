"""A helper process of the bench (moto's server, the throttling proxy): started with a pipe on its
standard input, it prints `<prefix>URL` once it listens and runs until that pipe closes."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def endpoint_process(
    module_args: list[str], ready_prefix: str, name: str, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Run `python -m <module_args>` in the project root, yield the URL it prints; stop it on any exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", *module_args],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith(ready_prefix):
            raise RuntimeError(f"{name} did not start (exit code {process.poll()}, said {line!r})")
        yield line[len(ready_prefix) :].strip()
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[str]) -> None:
    """Close its standard input (its signal to stop); terminate, then kill, a child that does not end."""
    with contextlib.suppress(OSError):
        if process.stdin is not None:
            process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
