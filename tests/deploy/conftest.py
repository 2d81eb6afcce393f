"""Deploys of the real template to LocalStack (`make test-deploy`); never collected by plain `make test`.

`make test-deploy` builds with `sam build`, starts LocalStack (tools/localstack.sh) and sets
FORM_ARCHIVE_LOCALSTACK_ENV (its env file: endpoint, region, test credentials) and FORM_ARCHIVE_SAM (SAM
CLI from .venv-sam). Without them this folder's tests are not collected at all, so `make test` needs no
LocalStack, no SAM CLI and no Python 3.13.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.stacks import Deployer, read_env_file
from tools.environment import patched_environ

ENV_FILE = os.environ.get("FORM_ARCHIVE_LOCALSTACK_ENV", "")
collect_ignore_glob = [] if ENV_FILE else ["test_*.py"]


@pytest.fixture(scope="session")
def localstack_environment() -> dict[str, str]:
    return read_env_file(Path(ENV_FILE))


@pytest.fixture(scope="session")
def aws(localstack_environment: dict[str, str]) -> Iterator[dict[str, str]]:
    """boto3 (and Powertools, and the functions run through the runner) talk to LocalStack only."""
    with patched_environ(set=localstack_environment, unset=["AWS_PROFILE", "AWS_SESSION_TOKEN"]):
        yield localstack_environment


@pytest.fixture(scope="session")
def deployer(aws: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Deployer:
    return Deployer(
        sam=Path(os.environ["FORM_ARCHIVE_SAM"]), environment=aws, workdir=tmp_path_factory.mktemp("sam")
    )
