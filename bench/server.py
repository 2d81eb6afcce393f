"""moto's S3 server in a separate process, so its CPU and memory are not counted as ours.

`python -m bench.server` starts `ThreadedMotoServer` on 127.0.0.1 and a free port, prints its endpoint
URL on one line, and runs until its standard input closes (so it also ends when the parent dies).
The parent side is `moto_server()`, a context manager that always stops the child.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

READY_PREFIX = "MOTO_ENDPOINT "


def serve() -> None:
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - only the child process needs moto

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"{READY_PREFIX}http://{host}:{port}", flush=True)
    try:
        sys.stdin.read()  # blocks until the parent closes the pipe or exits
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _read_endpoint(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith(READY_PREFIX):
        raise RuntimeError(f"moto server did not start (exit code {process.poll()}, said {line!r})")
    return line[len(READY_PREFIX) :].strip()


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Yield the endpoint URL of a fresh moto server process on 127.0.0.1; stop it on any exit."""
    env = dict(os.environ)
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.server"],
        cwd=root,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield _read_endpoint(process)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[str]) -> None:
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


if __name__ == "__main__":
    serve()
