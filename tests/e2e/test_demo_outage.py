"""`make demo DEMO_ARGS=--outage`: the receiver is down for the first attempts; the work queue brings the
delivery later, with the same `webhook-id`, and nothing is parked; then a 32 MiB object is hashed in four
links and announced with exactly hashlib's digest."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tools.project import PROJECT_ROOT

pytestmark = pytest.mark.moto_only("`make demo` runs its own moto server (S3 + SQS)")


def run_demo(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.demo", "--outage", *arguments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_outage_delivers_on_the_attempt_after_it_with_one_webhook_id() -> None:
    completed = run_demo()
    assert completed.returncode == 0, completed.stderr
    (line,) = completed.stdout.splitlines()
    document = json.loads(line)
    assert document["webhook"]["status"] == 200
    assert document["webhook"]["signature_valid"] is True
    outage = document["outage"]
    assert outage["failed_attempts"] == 3
    assert outage["delivered_on_attempt"] == 4
    assert outage["continuation_invocations"] >= 3  # each later attempt ran from a work-queue message
    assert outage["webhook_ids"] == 1
    assert outage["parked"] == 0
    assert outage["hash_links"] == 4  # 32 MiB, at most 8 MiB per invocation
    assert outage["large_object_sha256_matches"] is True
    assert "attempt 2 is on the work queue" in completed.stderr
    steps = [text.split("]")[0] + "]" for text in completed.stderr.splitlines() if text.startswith("[")]
    assert steps == [f"[{number}/7]" for number in range(1, 8)], steps
    assert "not declared in the template" not in completed.stderr
    assert completed.stderr.rstrip().endswith(
        "delivered later from the work queue, one webhook-id; hashed in links"
    )


def test_outage_that_outlasts_the_schedule_parks_the_notification() -> None:
    completed = run_demo("--receiver-fail-always")
    assert completed.returncode == 1, completed.stderr
    document = json.loads(completed.stdout)
    assert document["error"] == "the webhook did not arrive after the outage"
    assert document["outage"]["parked"] == 1
    assert document["outage"]["failed_attempts"] == 6  # every attempt of the compressed schedule
