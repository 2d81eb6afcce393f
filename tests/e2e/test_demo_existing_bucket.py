"""`make demo DEMO_ARGS=--existing-bucket`: attach to a bucket with someone else's trigger, deliver through
the EventBridge route, and their trigger still gets its events."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tools.project import PROJECT_ROOT

pytestmark = [
    pytest.mark.moto_only("`make demo` runs its own moto server (S3, SQS, EventBridge)"),
    pytest.mark.slow,
]


def demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.demo", "--existing-bucket", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_existing_bucket_announces_both_objects_and_keeps_their_trigger() -> None:
    completed = demo()
    assert completed.returncode == 0, completed.stderr
    (line,) = completed.stdout.splitlines()
    document = json.loads(line)
    assert "error" not in document
    existing = document["existing_bucket"]
    assert existing["attach"] == "written and read back; CORS rule added"
    assert existing["cors_before"].startswith("missing for ")
    objects = {document["archived"]["key"], document["uploaded"]["key"]}
    assert set(existing["announced"]) == objects
    assert set(existing["their_queue_got"]) == objects
    # The plain demo's shape: the submission's delivery under `webhook`, the upload's inside `uploaded`.
    assert document["webhook"]["signature_valid"] is True
    assert document["archived"]["key"].endswith("/" + document["webhook"]["display"])
    assert document["uploaded"]["webhook"]["signature_valid"] is True
    assert document["uploaded"]["webhook"]["sha256"] == document["uploaded"]["sha256"]
    assert document["uploaded"]["webhook"]["submitter_name"]
    # The checks after the change, with what was found before.
    assert "  check     cors: allows uploads (was: missing for https://forms.example.org)" in completed.stderr
    steps = [text.split("]")[0] + "]" for text in completed.stderr.splitlines() if text.startswith("[")]
    assert steps == [f"[{number}/7]" for number in range(1, 8)]
    assert "their queue notification unchanged; EventBridge delivery on" in completed.stderr
    assert '"detail": {"bucket": {"name": ["form-archive-local"]}}' in completed.stderr, "the template's rule"
    assert "preflight from https://forms.example.org allowed" in completed.stderr
    assert "(event key demo-datapack/field-notes/2026/Messwerte%20M%C3%A4rz.csv)" in completed.stderr
    assert completed.stderr.rstrip().endswith("theirs kept")


def test_existing_bucket_fails_when_the_receiver_refuses() -> None:
    completed = demo("--receiver-fail-always", "--max-attempts", "1")
    assert completed.returncode == 1, completed.stderr
    document = json.loads(completed.stdout)
    assert document["error"].startswith("the notify function failed on submissions/")
    assert "existing_bucket" not in document, "the flow stopped before its summary"
