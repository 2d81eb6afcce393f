"""`python -m tools.local_api` stops promptly on SIGTERM while a notify call is running, and its worker
processes never outlive it (also when it is killed outright)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.local_invoke import load_env_file
from tools.project import PROJECT_ROOT, function_ids

pytestmark = pytest.mark.moto_only("`make api --embedded-s3` runs its own moto server")
NOTIFY = function_ids().notify


class SilentReceiver:
    """Accepts connections and never answers: a webhook call waits for its whole timeout."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/webhook"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (Linux)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def gone_soon(pids: set[int]) -> bool:
    """Whether every process of `pids` ends within a minute (multiprocessing's resource tracker, also a
    child, ends once its pipe closes)."""
    deadline = time.monotonic() + 60
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not any(alive(pid) for pid in pids)


@pytest.fixture
def busy_api(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], set[int]]]:
    """The local API with a notify call waiting on a receiver that never answers; yields the process and
    its worker processes (every one of them is killed at the end, whatever the test did)."""
    receiver = SilentReceiver()
    env = load_env_file(PROJECT_ROOT / "events" / "env.json")
    env[NOTIFY].update(WEBHOOK_TIMEOUT_SECONDS="300", WEBHOOK_MAX_ATTEMPTS="1")
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps(env), encoding="utf-8")
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.local_api",
            "--embedded-s3",
            "--port",
            "0",
            "--env-vars",
            str(env_file),
            "--webhook-url",
            receiver.url,
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "api.log").open("w"),
        text=True,
    )
    workers: set[int] = set()
    try:
        assert process.stdout is not None
        where: dict[str, Any] = json.loads(process.stdout.readline())
        request = urllib.request.Request(
            where["url"] + "/submissions",
            data=b'{"name": "Ana"}',
            headers={"x-api-key": where["api_key"], "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 201
        deadline = time.monotonic() + 60
        while not receiver.accepted and time.monotonic() < deadline:
            time.sleep(0.2)
        assert receiver.accepted, (tmp_path / "api.log").read_text()
        workers = descendants(process.pid)
        assert workers, "the functions run in worker processes"
        yield process, workers
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        receiver.close()


def test_r4_item11_sigterm_stops_the_local_api_and_its_workers_while_a_call_runs(
    busy_api: tuple[subprocess.Popen[str], set[int]],
) -> None:
    process, workers = busy_api
    process.terminate()
    # The notify call would wait 300 s for its receiver; stopping must not wait for it.
    assert process.wait(timeout=60) == 0
    assert [pid for pid in workers if alive(pid)] == [] or gone_soon(workers)


def test_r4_item11_workers_do_not_outlive_a_killed_local_api(
    busy_api: tuple[subprocess.Popen[str], set[int]],
) -> None:
    process, workers = busy_api
    process.kill()
    process.wait(timeout=30)
    assert gone_soon(workers)
