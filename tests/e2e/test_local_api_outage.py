"""`make api` drains the notify function's work queue as the stack's event source mapping does: a
receiver down for two attempts gets the submission's webhook on the third, with one `webhook-id` (the
schedule compressed to zero waits through the environment, every retry through the embedded SQS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_local_api_command import call, stop
from tests.webhook_receiver import WebhookReceiver
from tools.project import PROJECT_ROOT

pytestmark = pytest.mark.moto_only("`make api --embedded-s3` runs its own moto server")


def test_make_api_delivers_after_an_outage_from_its_work_queue(
    webhook_receiver: WebhookReceiver, tmp_path: Path
) -> None:
    webhook_receiver.script(500, 500)
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(WEBHOOK_RETRY_SCHEDULE="0,0,0", WEBHOOK_INLINE_WAIT_SECONDS="0")
    log = tmp_path / "api.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.local_api",
            "--embedded-s3",
            "--port",
            "0",
            "--webhook-url",
            webhook_receiver.url,
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, log.read_text()
        where = json.loads(line)
        archived = call(where["url"] + "/submissions", where["api_key"], b'{"name": "Ana"}')
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(d.status == 200 for d in webhook_receiver.deliveries):
            time.sleep(0.3)
    finally:
        stop(process)
    statuses = [delivery.status for delivery in webhook_receiver.deliveries]
    assert statuses == [500, 500, 200], log.read_text()
    assert len({delivery.headers["webhook-id"] for delivery in webhook_receiver.deliveries}) == 1
    assert webhook_receiver.deliveries[-1].json()["display"] == archived["key"].rsplit("/", 1)[1]
    assert "work queue: 1 continuation(s)" in log.read_text()
