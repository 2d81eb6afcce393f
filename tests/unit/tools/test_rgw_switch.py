"""The test suite's switch to Ceph RGW (FORM_ARCHIVE_TEST_S3=rgw): a wrong setting stops the run with a
message that says what to fix."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.s3_stores import S3Server, load_rgw_env
from tools.project import PROJECT_ROOT


def test_the_env_file_of_tools_rgw_sh_is_read(tmp_path: Path) -> None:
    env_file = tmp_path / "rgw.env"
    env_file.write_text(
        "RGW_ENDPOINT=http://127.0.0.1:7480\nRGW_ACCESS_KEY=TESTINGRGWKEY\nRGW_SECRET_KEY=testing-a=b\n"
        "RGW_REGION=us-east-1\n",
        encoding="utf-8",
    )
    assert load_rgw_env(str(env_file)) == S3Server("http://127.0.0.1:7480", "TESTINGRGWKEY", "testing-a=b")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("RGW_ENDPOINT=http://127.0.0.1:7480\n", "lacks RGW_ACCESS_KEY, RGW_SECRET_KEY"),
        ("RGW_ENDPOINT=\nRGW_ACCESS_KEY=k\nRGW_SECRET_KEY=s\n", "lacks RGW_ENDPOINT"),
    ],
    ids=["missing-file", "missing-keys", "empty-endpoint"],
)
def test_a_bad_env_file_is_a_usage_error(tmp_path: Path, content: str | None, message: str) -> None:
    env_file = tmp_path / "rgw.env"
    if content is not None:
        env_file.write_text(content, encoding="utf-8")
    with pytest.raises(pytest.UsageError, match=message):
        load_rgw_env(str(env_file))


def test_no_env_file_says_which_variable_to_set() -> None:
    with pytest.raises(
        pytest.UsageError, match=re.escape("FORM_ARCHIVE_RGW_ENV=<the file `tools/rgw.sh start` prints>")
    ):
        load_rgw_env(None)


@pytest.mark.slow
def test_an_unknown_store_name_stops_the_run() -> None:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    environment["FORM_ARCHIVE_TEST_S3"] = "minio"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/unit/form_archive_contract/test_contract.py",
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode != 0
    message = "FORM_ARCHIVE_TEST_S3 must be moto, rgw or localstack, not 'minio'"
    assert message in completed.stdout + completed.stderr
