"""`make demo DEMO_ARGS=--park-and-replay`: receiver down, event parked as Lambda parks it, replayed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tools.project import PROJECT_ROOT

pytestmark = [pytest.mark.moto_only("`make demo` runs its own moto server (S3 + SQS)"), pytest.mark.slow]


def test_park_and_replay_delivers_the_parked_event_and_empties_the_queue() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tools.demo", "--park-and-replay"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    (line,) = completed.stdout.splitlines()
    document = json.loads(line)
    assert "error" not in document
    assert document["webhook"]["status"] == 200
    assert document["webhook"]["signature_valid"] is True
    replay = document["replay"]
    assert replay["failed_deliveries"] == 9  # 3 invocations x WEBHOOK_MAX_ATTEMPTS 3 (events/env.json)
    assert replay["parked"] == 1
    assert replay["replayed"] == 1
    assert replay["queue_messages_left"] == 0
    assert replay["webhook_id_unchanged"] is True
    assert replay["webhook_id"].startswith("msg_")
    steps = [text.split("]")[0] + "]" for text in completed.stderr.splitlines() if text.startswith("[")]
    assert steps == [f"[{number}/6]" for number in range(1, 7)]
    assert "receiver down (answers 503)" in completed.stderr
    assert "parked    OnFailure record (RetriesExhausted, approximateInvokeCount 3)" in completed.stderr
    assert "  replayed      " in completed.stderr
    assert "is empty" in completed.stderr
    assert completed.stderr.rstrip().endswith("OK: archived, parked while the receiver was down, replayed")


def test_park_and_replay_fails_when_the_receiver_never_comes_back() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "tools.demo", "--park-and-replay", "--receiver-fail-always"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 1, completed.stderr
    document = json.loads(completed.stdout)
    assert document["error"].startswith("the replay did not deliver: ")
    assert document["replay"]["queue_messages_left"] == 1
