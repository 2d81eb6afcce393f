"""No credential in the tracked files, and none in what the archive function logs or reports."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from archive_submission import write_s3_bucket
from archive_submission.app import lambda_handler, logger
from tests.api_events import api_event
from tests.s3_stores import ARCHIVE_BUCKET
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ROOT = Path(__file__).resolve().parents[3]
# Obviously fake values the project uses on purpose; anything else that looks like a key is a finding.
FAKE_VALUE = re.compile(r"^(testing[\w-]*|<[^>]*>|\$\{?\w+\}?|)$")
CREDENTIAL_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
}
SECRET_ASSIGNMENT = re.compile(
    r"((?:aws_)?secret_access_key|webhook_secret_token)[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=_-]{20,})",
    re.IGNORECASE,
)


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    return [ROOT / name for name in listed if name and (ROOT / name).is_file()]


def findings_in(text: str) -> list[str]:
    found = [label for label, pattern in CREDENTIAL_PATTERNS.items() if pattern.search(text)]
    for match in SECRET_ASSIGNMENT.finditer(text):
        if not FAKE_VALUE.match(match.group(2)):
            found.append(f"{match.group(1)} with a real-looking value")
    return found


@pytest.mark.parametrize(
    "sample",
    [
        # Assembled at run time so this file itself never holds a match.
        "key = 'AKIA" + "IOSFODNN7EXAMPLE'",
        "-----BEGIN RSA " + "PRIVATE KEY-----",
        'aws_secret_access_key = "wJalr' + 'XUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
    ],
)
def test_the_scanner_catches_real_looking_credentials(sample: str) -> None:
    assert findings_in(sample)


def test_the_scanner_accepts_the_fake_values_we_use() -> None:
    assert findings_in('"aws_secret_access_key": "testing-secret-never-printed"') == []


def test_no_tracked_file_holds_a_credential() -> None:
    files = tracked_files()
    assert any(path.name == "README.md" for path in files)
    problems = {
        str(path.relative_to(ROOT)): found
        for path in files
        if path.suffix not in {".png", ".zip"} and (found := findings_in(path.read_text(errors="replace")))
    }
    assert problems == {}


def test_debug_logs_hold_no_payload_and_no_credentials(
    mocked_s3: S3Client, monkeypatch: pytest.MonkeyPatch, log_output: Callable[[], str]
) -> None:
    monkeypatch.setenv("ARCHIVE_BUCKET", ARCHIVE_BUCKET)
    previous = logger.log_level
    logger.setLevel("DEBUG")
    try:
        marker = "full-payload-marker-7f3a"
        ok = lambda_handler(api_event(f'{{"comment": "{marker}"}}'), LocalLambdaContext())
        bad = lambda_handler(api_event(f'{{"comment": "{marker}"'), LocalLambdaContext())
    finally:
        logger.setLevel(previous)
    assert (ok["statusCode"], bad["statusCode"]) == (201, 400)
    logs = log_output()
    assert '"level":"INFO"' in logs
    assert marker not in logs
    assert marker not in bad["body"]
    assert "testing" not in logs  # the fake access key id and secret from the environment


def test_report_error_never_echoes_a_configured_secret(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "testing-secret-that-must-stay-hidden"
    faulty_configs = [
        {"aws_s3_bucket": {"bucket_name": "", "aws_secret_access_key": secret}},
        {"aws_s3_bucket": {"bucket_name": "b", "aws_secret_access_key": secret}},
        {"aws_s3_bucket": {"bucket_name": "b", "aws_access_key_id": secret, "bucket_path": "../x"}},
        {"aws_s3_bucket": {"bucket_name": "b", "aws_access_key_id": 1, "aws_secret_access_key": secret}},
    ]
    for config in faulty_configs:
        assert write_s3_bucket(config, {"a": 1}) is False
    out = capsys.readouterr().out
    assert out.count("Error: ") == len(faulty_configs)
    assert secret not in out
