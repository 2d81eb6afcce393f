"""`make demo` end to end: tools.demo as a user runs it (a subprocess) and in-process (to read the bucket).

What is checked independently of the demo's own verdict: the archived object's bytes (read back from moto
with our own client), their SHA-256 (computed here), and the signature (with the `standardwebhooks`
package, not only the project's `verify_signature`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook

from tools.demo import DemoOptions, demo_session
from tools.project import PROJECT_ROOT, function_ids

pytestmark = [pytest.mark.moto_only("`make demo` runs its own moto server (S3 + SQS)"), pytest.mark.slow]

SUBMISSION_EVENT = PROJECT_ROOT / "events" / "submission.json"
ENV_VARS = PROJECT_ROOT / "events" / "env.json"
# The Standard Webhooks published test secret (docs/design.md), so `standardwebhooks` can verify it too.
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PAYLOAD = (
    b'{\r\n  "first_name": "Zo\xc3\xab",\r\n  "comment": "caf\xc3\xa9 \\u00e9 + / %2F",\r\n'
    b'  "n": 1.50, "nested": {"list": [1, 2, 3]}\r\n}'
)


def run_demo(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.demo", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def final_line(stdout: str) -> dict[str, Any]:
    """stdout holds exactly one line, the JSON document."""
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    document = json.loads(lines[0])
    assert isinstance(document, dict)
    return document


def submission_body() -> bytes:
    event = json.loads(SUBMISSION_EVENT.read_text(encoding="utf-8"))
    return str(event["body"]).encode("utf-8")


def assert_key_layout(document: dict[str, Any]) -> None:
    archived, webhook = document["archived"], document["webhook"]
    assert archived["bucket"] == "form-archive-local"
    assert re.fullmatch(r"submissions/\d{4}/\d{2}/\d{2}/[0-9A-Z]{26}\.json", archived["key"]), archived
    assert archived["key"].endswith(f"/{archived['submission_id']}.json")
    _, yyyy, mm, dd, display = archived["key"].split("/")
    assert webhook["datapack_identifier"] == "submissions"
    assert webhook["path"] == f"/{yyyy}/{mm}/{dd}"
    assert webhook["display"] == display


@pytest.fixture
def whsec_env_vars(tmp_path: Path) -> Path:
    """events/env.json with a `whsec_` secret, everything else unchanged."""
    document = json.loads(ENV_VARS.read_text(encoding="utf-8"))
    document[function_ids().notify]["WEBHOOK_SECRET_TOKEN"] = WHSEC
    path = tmp_path / "env.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_demo_default_run_archives_and_delivers() -> None:
    """`make demo` as shipped: events/submission.json, exit 0, one JSON line with the issue's fields."""
    completed = run_demo()
    assert completed.returncode == 0, completed.stderr
    document = final_line(completed.stdout)
    assert set(document) == {
        "archived",
        "webhook",
        "uploaded",
        "multipart",
    }  # the upload flows: tests/e2e/test_demo_upload.py
    assert set(document["archived"]) == {"bucket", "key", "submission_id"}
    assert set(document["webhook"]) == {
        "status",
        "sha256",
        "signature_valid",
        "datapack_identifier",
        "path",
        "display",
    }
    assert document["webhook"]["status"] == 200
    assert document["webhook"]["signature_valid"] is True
    assert document["webhook"]["sha256"] == hashlib.sha256(submission_body()).hexdigest()
    assert_key_layout(document)
    assert "OK: archived, delivered, signature verified" in completed.stderr
    assert "s3:TestEvent" in completed.stderr, "the emulator's test event is read and skipped"


def test_demo_payload_object_holds_the_exact_bytes(tmp_path: Path, whsec_env_vars: Path) -> None:
    """In-process, so the test reads the archived object from moto itself while the servers are up."""
    payload = tmp_path / "mine.json"
    payload.write_bytes(PAYLOAD)
    lines: list[str] = []
    with demo_session(DemoOptions(payload=payload, env_vars=whsec_env_vars), lines.append) as (
        result,
        servers,
    ):
        assert result.ok, (result.error, lines)
        assert servers is not None
        document = result.document()
        s3 = boto3.client(
            "s3",
            endpoint_url=servers.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        stored = s3.get_object(Bucket=document["archived"]["bucket"], Key=document["archived"]["key"])
        body = stored["Body"].read()
        deliveries = servers.receiver.deliveries

    assert body == PAYLOAD
    assert document["webhook"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert document["webhook"]["signature_valid"] is True
    assert document["webhook"]["status"] == 200
    assert_key_layout(document)
    delivery, _upload_delivery, _multipart_delivery = deliveries  # the submission's, then the uploads'
    sent = json.loads(delivery.body)
    assert sent["sha256"] == hashlib.sha256(PAYLOAD).hexdigest()
    assert sent["length"] == len(PAYLOAD)
    # Independent check of the signature with the Standard Webhooks reference package.
    Webhook(WHSEC).verify(delivery.body, delivery.headers)


def test_demo_receiver_failing_twice_then_succeeding_is_retried_in_process() -> None:
    lines: list[str] = []
    options = DemoOptions(receiver_fail_first=2, max_attempts=3)
    with demo_session(options, lines.append) as (result, servers):
        assert servers is not None
        deliveries = servers.receiver.deliveries
    assert result.ok, (result.error, lines)
    # The submission: two scripted 503s, then 200; then the uploads' announcements, delivered at once.
    assert [item.status for item in deliveries] == [503, 503, 200, 200, 200]
    assert all(item.signature_valid for item in deliveries)
    submission = deliveries[:3]
    assert len({item.headers["webhook-id"] for item in submission}) == 1, "one message, retried"
    assert result.webhook is not None
    assert result.webhook["status"] == 200


def test_demo_receiver_failing_twice_then_succeeding_exits_0() -> None:
    completed = run_demo("--receiver-fail-first", "2")  # WEBHOOK_MAX_ATTEMPTS 3, as in the template
    assert completed.returncode == 0, completed.stderr
    document = final_line(completed.stdout)
    assert document["webhook"]["status"] == 200
    assert document["webhook"]["signature_valid"] is True
    assert document["webhook"]["sha256"] == hashlib.sha256(submission_body()).hexdigest()
    assert "delivery 3: signature valid, answered 200" in completed.stderr


def test_demo_receiver_always_failing_exits_non_zero_with_the_reason() -> None:
    completed = run_demo("--receiver-fail-always")
    assert completed.returncode == 1, completed.stderr
    document = final_line(completed.stdout)
    assert document["archived"] is not None, "the archive step still happened"
    assert document["webhook"]["status"] == 503
    assert "503" in document["error"]
    assert "not delivered" in document["error"]
    assert "FAILED:" in completed.stderr


def test_demo_bad_signature_is_detected_and_fails() -> None:
    """The receiver verifies with another secret: it refuses (401), the demo reports it and exits 1."""
    completed = run_demo("--receiver-secret", "not-the-signing-secret")
    assert completed.returncode == 1, completed.stderr
    document = final_line(completed.stdout)
    assert document["webhook"]["signature_valid"] is False
    assert document["webhook"]["status"] == 401
    assert "401" in document["error"]


def test_demo_rejected_payload_fails_without_archiving(tmp_path: Path) -> None:
    payload = tmp_path / "array.json"
    payload.write_text("[1, 2, 3]", encoding="utf-8")
    completed = run_demo("--payload", str(payload))
    assert completed.returncode == 1
    document = final_line(completed.stdout)
    assert document["archived"] is None
    assert document["webhook"] is None
    assert "400" in document["error"]


@pytest.mark.parametrize(
    "option", [["--max-attempts", "0"], ["--max-attempts", "11"], ["--receiver-fail-first", "-1"]]
)
def test_demo_unusable_option_value_exits_2_before_anything_starts(option: list[str]) -> None:
    completed = run_demo(*option)
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert f"{option[0]} must be" in completed.stderr
    assert "moto server" not in completed.stderr


def test_demo_missing_payload_is_a_usage_error_and_starts_nothing(tmp_path: Path) -> None:
    completed = run_demo("--payload", str(tmp_path / "absent.json"))
    assert completed.returncode == 2
    assert "cannot read the payload" in final_line(completed.stdout)["error"]
    assert "moto server" not in completed.stderr


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_demo_keep_running_serves_the_printed_commands_until_stopped(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.demo", "--keep-running"],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=os.environ.copy(),
        )
        try:
            assert process.stdout is not None
            document = json.loads(process.stdout.readline())
            assert document["webhook"]["signature_valid"] is True
            # The curl commands are printed after the JSON line; wait until the last one is there.
            text = ""
            while "/deliveries\n" not in text:
                assert process.poll() is None, stderr_path.read_text(encoding="utf-8")
                text = stderr_path.read_text(encoding="utf-8")
                time.sleep(0.05)
            listing_url = re.search(
                r"curl -s '(http://127\.0\.0\.1:\d+/form-archive-local\?list-type=2)'", text
            )
            last_url = re.search(r"curl -s (http://127\.0\.0\.1:\d+/deliveries/last)", text)
            assert listing_url is not None, text
            assert last_url is not None, text

            status, listing = _get(listing_url.group(1))
            assert status == 200
            assert f"<Key>{document['archived']['key']}</Key>".encode() in listing
            status, last = _get(last_url.group(1))
            assert status == 200
            seen = json.loads(last)
            assert seen["signature_valid"] is True
            assert seen["status"] == 200
            assert seen["payload"]["sha256"] == document["multipart"]["sha256"]  # the last: multipart
            assert "secret_token" not in seen["payload"], "the signing secret never travels in a body"

            process.send_signal(stop_signal)
            assert process.wait(timeout=60) == 0, "stopping --keep-running is the normal end"
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    # Everything the demo started is gone: both ports refuse connections.
    for url in (listing_url.group(1), last_url.group(1)):
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url, timeout=5)
    assert "every server the demo started is stopped" in stderr_path.read_text(encoding="utf-8")


def test_demo_unexpected_failure_still_reports_and_stops_the_servers() -> None:
    def odd_queue_message(*_args: Any) -> None:
        raise KeyError("s3")

    with demo_session(DemoOptions(), lambda _line: None, flow=odd_queue_message) as (result, servers):
        assert servers is not None
        receiver_url = servers.receiver.base_url
    assert not result.ok
    assert result.error == "unexpected KeyError: 's3'"
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{receiver_url}/deliveries", timeout=5)
