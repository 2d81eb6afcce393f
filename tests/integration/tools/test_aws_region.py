"""The tools take their region as the docs say: `AWS_REGION` first, then boto3's own chain; none at all is
one line and exit 3 for `make replay`, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Final

import boto3
import pytest

from tools.attach_bucket.cli import EXIT_OK
from tools.attach_bucket.cli import main as attach_main
from tools.project import PROJECT_ROOT
from tools.replay import DEFAULT_LOCAL_QUEUE, EXIT_UNREACHABLE
from tools.replay import main as replay_main

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.moto_only("SQS queues in two regions of moto's server")
FAR: Final = "eu-west-1"


def test_r4_item11_replay_with_no_region_exits_3_with_one_line(tmp_path: os.PathLike[str]) -> None:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") or name in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    }
    environment.update(AWS_CONFIG_FILE=f"{tmp_path}/none", AWS_SHARED_CREDENTIALS_FILE=f"{tmp_path}/none")
    done = subprocess.run(
        [sys.executable, "-m", "tools.replay", "list", "--stack-name", "form-archive", "--no-progress"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_UNREACHABLE, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "AWS_REGION" in done.stderr, done.stderr


def test_r4_item11_replay_honours_aws_region(
    server_s3: S3Client, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("sqs", region_name=FAR).create_queue(QueueName=DEFAULT_LOCAL_QUEUE)
    monkeypatch.setenv("AWS_REGION", FAR)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    assert replay_main(["list", "--local", "--no-progress", "--wait-seconds", "0"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert f"/{DEFAULT_LOCAL_QUEUE}" in document["queue_url"] and document["counts"]["seen"] == 0


def test_r4_item11_attach_bucket_honours_aws_region(
    server_s3: S3Client, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server_s3.create_bucket(Bucket="far-bucket", CreateBucketConfiguration={"LocationConstraint": FAR})
    monkeypatch.setenv("AWS_REGION", FAR)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    status = attach_main(["far-bucket", "--dry-run"])
    out, err = capsys.readouterr()
    assert status == EXIT_OK, err
    assert json.loads(out)["bucket"] == "far-bucket"
