"""`python -m tools.local_api --embedded-s3` as `make api` starts it (issue 25): a delivery by default, one
JSON line on stdout, and a clear message when the port is taken, before anything else starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.project import PROJECT_ROOT

pytestmark = pytest.mark.moto_only("`make api --embedded-s3` runs its own moto server")


def start(port: str, log: Path) -> subprocess.Popen[str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return subprocess.Popen(
        [sys.executable, "-m", "tools.local_api", "--embedded-s3", "--port", port],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[dict[str, Any], subprocess.Popen[str], Path]]:
    log = tmp_path / "api.log"
    process = start("0", log)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, log.read_text()
        yield json.loads(line), process, log
    finally:
        stop(process)


def call(url: str, key: str, body: bytes | None = None) -> Any:
    request = urllib.request.Request(
        url, data=body, headers={"x-api-key": key, "Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_make_api_delivers_to_its_own_receiver_by_default(
    running: tuple[dict[str, Any], subprocess.Popen[str], Path],
) -> None:
    where, process, log = running
    assert set(where) == {"url", "api_key", "page", "s3_endpoint", "webhook_url"}
    assert where["webhook_url"].startswith("http://127.0.0.1:")
    archived = call(where["url"] + "/submissions", where["api_key"], b'{"name": "Ana"}')
    deadline = time.monotonic() + 60
    deliveries: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not deliveries:
        deliveries = [d for d in call(where["url"] + "/_local/deliveries", where["api_key"]) if d["ok"]]
        time.sleep(0.3)
    assert [d["key"] for d in deliveries] == [archived["key"]], log.read_text()
    stop(process)
    assert process.stdout is not None
    assert process.stdout.read() == "", "stdout holds the one JSON line only"
    assert "receiver: delivery 1: POST /webhook signature valid, answered 200" in log.read_text()


def test_a_taken_port_is_reported_before_anything_starts(
    running: tuple[dict[str, Any], subprocess.Popen[str], Path], tmp_path: Path
) -> None:
    where, _process, _log = running
    port = where["url"].rsplit(":", 1)[1]
    log = tmp_path / "second.log"
    second = start(port, log)
    try:
        assert second.wait(timeout=60) == 2
    finally:
        stop(second)
    message = log.read_text()
    assert f"port {port} on 127.0.0.1 is in use" in message
    assert "API_PORT=0" in message
    assert "embedded S3" not in message and "receiver on" not in message, "nothing else was reported started"
