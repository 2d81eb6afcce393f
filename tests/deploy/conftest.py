"""Deploys of the real template to LocalStack (`make test-deploy`); never collected by plain `make test`.

`make test-deploy` builds with `sam build`, starts LocalStack (tools/localstack.sh) and sets
FORM_ARCHIVE_LOCALSTACK_ENV (its env file: endpoint, region, test credentials) and FORM_ARCHIVE_SAM (SAM
CLI from .venv-sam). Without them this folder's tests are not collected at all, so `make test` needs no
LocalStack, no SAM CLI and no Python 3.13.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

from tests.conftest import clear_client_caches
from tests.deploy.stacks import (
    EXISTING_BUCKET,
    OTHERS_QUEUE,
    PARAMETER_SETS,
    REDEPLOY_STACK,
    SM_BODY_TOKEN,
    SSM_SECRET,
    Deployer,
    make_queue,
    read_env_file,
)
from tools.environment import patched_environ

ENV_FILE = os.environ.get("FORM_ARCHIVE_LOCALSTACK_ENV", "")
collect_ignore_glob = [] if ENV_FILE else ["test_*.py"]


@pytest.fixture(scope="session")
def localstack_environment() -> dict[str, str]:
    return read_env_file(Path(ENV_FILE))


@pytest.fixture(autouse=True)
def aws_test_environment(
    monkeypatch: pytest.MonkeyPatch, localstack_environment: dict[str, str]
) -> Iterator[dict[str, str]]:
    """Replaces the suite's fake-AWS environment: here boto3 (and Powertools, and the functions run
    through the runner) talk to the LocalStack that make test-deploy started, and to nothing else."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in localstack_environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "FormArchiveDeployTest")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    clear_client_caches()
    yield localstack_environment
    clear_client_caches()


@pytest.fixture
def aws(aws_test_environment: dict[str, str]) -> dict[str, str]:
    return aws_test_environment


@pytest.fixture(scope="session")
def deployer(localstack_environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Deployer:
    return Deployer(
        sam=Path(os.environ["FORM_ARCHIVE_SAM"]),
        environment=localstack_environment,
        workdir=tmp_path_factory.mktemp("sam"),
    )


def make_existing_secrets() -> None:
    """What a user who brings their own secrets has made before deploying."""
    boto3.client("ssm").put_parameter(
        Name=SSM_SECRET, Value="whsec_dGVzdGluZy1zc20tc2lnbmluZy1rZXk=", Type="SecureString", Overwrite=True
    )
    secrets = boto3.client("secretsmanager")
    if not secrets.list_secrets(Filters=[{"Key": "name", "Values": [SM_BODY_TOKEN]}])["SecretList"]:
        secrets.create_secret(Name=SM_BODY_TOKEN, SecretString="testing-body-token")


@pytest.fixture
def existing_secrets(aws: dict[str, str]) -> None:
    make_existing_secrets()


def make_existing_bucket() -> None:
    """What a user who brings their own bucket has: the bucket, and someone else's notification on it (an
    SQS queue) that attaching must keep."""
    s3 = boto3.client("s3")
    if EXISTING_BUCKET not in {item["Name"] for item in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=EXISTING_BUCKET)
    _, queue_arn = make_queue(OTHERS_QUEUE)
    s3.put_bucket_notification_configuration(
        Bucket=EXISTING_BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "someone-elses-reports",
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "reports/"}]}},
                }
            ]
        },
    )


@pytest.fixture(scope="session")
def deployments(
    deployer: Deployer, localstack_environment: dict[str, str]
) -> dict[str, BaseException | None]:
    """Every parameter set's stack, and the one the redeploy test deletes, deployed once per session: the
    first alone (SAM CLI creates its managed artifacts bucket then), the others at the same time, which
    saves minutes. Stack name -> the deploy's failure, or None."""
    with patched_environ(set=localstack_environment):
        make_existing_secrets()
        make_existing_bucket()
    jobs = [(item.stack_name, item.overrides) for item in PARAMETER_SETS]
    jobs.append((REDEPLOY_STACK, PARAMETER_SETS[0].overrides))

    def deploy(job: tuple[str, dict[str, str]]) -> BaseException | None:
        try:
            deployer.deploy(*job)
        except AssertionError as error:
            return error
        return None

    results = {jobs[0][0]: deploy(jobs[0])}
    with ThreadPoolExecutor(max_workers=len(jobs) - 1) as pool:
        results.update(zip((name for name, _ in jobs[1:]), pool.map(deploy, jobs[1:]), strict=True))
    return results
