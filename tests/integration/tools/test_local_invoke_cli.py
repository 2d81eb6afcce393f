"""`python -m tools.local_invoke` (`make invoke`) never reaches AWS by accident, and a 5xx answer is a
failed run (issue 25)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tools.local_invoke import local_endpoint, server_error
from tools.project import PROJECT_ROOT, function_ids


def run_cli(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(PYTHONPATH=str(PROJECT_ROOT), **variables)
    return subprocess.run(
        [sys.executable, "-m", "tools.local_invoke", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_a_local_endpoint_the_runner_refuses_and_names_the_way_out() -> None:
    completed = run_cli(
        function_ids().archive,
        "--event",
        "events/submission.json",
        "--env-vars",
        "events/env.json",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""  # the function never ran
    assert "AWS_ENDPOINT_URL_S3" in completed.stderr
    assert "--aws" in completed.stderr


def test_a_5xx_answer_exits_1_with_the_answer_on_stdout() -> None:
    """S3 unreachable (a closed loopback port): the archive function answers 502, and the run fails."""
    completed = run_cli(
        function_ids().archive,
        "--event",
        "events/submission.json",
        "--env-vars",
        "events/env.json",
        AWS_ENDPOINT_URL_S3="http://127.0.0.1:9",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_MAX_ATTEMPTS="1",
    )
    assert completed.returncode == 1, completed.stderr[-2000:]
    assert json.loads(completed.stdout)["statusCode"] == 502
    assert "ArchiveSubmissionFunction answered 502" in completed.stderr


def test_endpoint_and_status_rules() -> None:
    assert local_endpoint({}) is None
    assert local_endpoint({"AWS_ENDPOINT_URL_S3": ""}) is None
    assert local_endpoint({"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}) == "http://127.0.0.1:5000"
    assert server_error({"statusCode": 502}) and server_error({"statusCode": 500})
    assert not server_error({"statusCode": 400}) and not server_error({"statusCode": True})
    assert not server_error({"delivered": 1}) and not server_error(None)
