"""The work-queue settings: off without `WORK_QUEUE_URL`; with it, the failure queue and a checkpoint key
are required (the key from the value or from the stack's secret, cached), and every error names the
variable, never a value."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from form_archive_contract.settings import ServerMisconfigured
from notify_webhook.continuation.schedule import DEFAULT_SCHEDULE
from notify_webhook.continuation.work_settings import load_work_settings
from notify_webhook.settings import WORK_VARIABLES, clear_secret_cache, load_settings

BASE = {
    "WEBHOOK_URL": "https://receiver.example/webhook",
    "WEBHOOK_SECRET_TOKEN": "testing-secret",
}
WORK = {
    **BASE,
    "WORK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/work",
    "FAILURE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/failures",
    "CHECKPOINT_KEY": "testing-checkpoint-key",
}


def test_without_a_work_queue_there_are_no_continuations() -> None:
    assert load_settings(BASE).work is None


def test_with_a_work_queue_the_default_schedule_and_inline_wait_apply() -> None:
    work = load_settings(WORK).work
    assert work is not None
    assert work.schedule == DEFAULT_SCHEDULE
    assert work.inline_wait_seconds == 10.0
    assert work.key == b"testing-checkpoint-key"
    assert "testing-checkpoint-key" not in repr(work)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"FAILURE_QUEUE_URL": ""}, "WORK_QUEUE_URL needs FAILURE_QUEUE_URL"),
        ({"CHECKPOINT_KEY": ""}, "needs CHECKPOINT_KEY or CHECKPOINT_KEY_PARAMETER"),
        ({"CHECKPOINT_KEY": "short"}, "CHECKPOINT_KEY must hold at least 16 bytes"),
        ({"CHECKPOINT_KEY_PARAMETER": "form-archive/continuation"}, "not both"),
        ({"WEBHOOK_RETRY_SCHEDULE": "5,-300"}, "WEBHOOK_RETRY_SCHEDULE every wait must be between 0"),
        ({"WEBHOOK_INLINE_WAIT_SECONDS": "soon"}, "WEBHOOK_INLINE_WAIT_SECONDS must be a number"),
        ({"WEBHOOK_INLINE_WAIT_SECONDS": "3600"}, "WEBHOOK_INLINE_WAIT_SECONDS must be between 0 and 60"),
    ],
)
def test_a_wrong_setting_is_a_configuration_error_naming_the_variable(
    change: dict[str, str], problem: str
) -> None:
    with pytest.raises(ServerMisconfigured, match=problem) as raised:
        load_settings({**WORK, **change})
    assert "testing-checkpoint-key" not in str(raised.value)


def test_the_schedule_lists_the_waits_after_the_first_attempt() -> None:
    work = load_settings({**WORK, "WEBHOOK_RETRY_SCHEDULE": "5,300"}).work
    assert work is not None
    assert work.schedule.attempts == 3
    assert work.schedule.steps == (5.0, 300.0)


def test_a_wrong_schedule_is_refused_even_without_a_work_queue() -> None:
    with pytest.raises(ServerMisconfigured, match="WEBHOOK_RETRY_SCHEDULE"):
        load_settings({**BASE, "WEBHOOK_RETRY_SCHEDULE": "0,x"})


def test_the_key_is_read_from_the_stacks_secret_and_cached() -> None:
    clear_secret_cache()
    environ = {**WORK, "CHECKPOINT_KEY": "", "CHECKPOINT_KEY_PARAMETER": "form-archive/continuation"}
    with mock_aws():
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(
            Name="form-archive/continuation", SecretString="generated-key-of-32-characters!!"
        )
        work = load_settings(environ).work
        secrets.delete_secret(SecretId="form-archive/continuation", ForceDeleteWithoutRecovery=True)
        cached = load_settings(environ).work
    clear_secret_cache()
    assert work is not None
    assert cached is not None
    assert work.key == cached.key == b"generated-key-of-32-characters!!"


def test_an_unreadable_key_secret_is_a_configuration_error() -> None:
    clear_secret_cache()
    environ = {**WORK, "CHECKPOINT_KEY": "", "CHECKPOINT_KEY_PARAMETER": "form-archive/missing"}
    with (
        mock_aws(),
        pytest.raises(ServerMisconfigured, match="CHECKPOINT_KEY_PARAMETER: the secretsmanager"),
    ):
        load_settings(environ)
    clear_secret_cache()


class _Recording(dict[str, str]):
    """An environment that notes every variable asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def test_without_a_work_queue_only_the_listed_variables_are_read() -> None:
    """`settings` skips the group (and its imports) when none of WORK_VARIABLES is set: that must be all."""
    environ = _Recording(dict(BASE))
    assert load_work_settings(environ) is None
    assert environ.asked <= set(WORK_VARIABLES)


@pytest.mark.parametrize(
    ("name", "value"), [("HASH_LINK_MAX_BYTES", "0"), ("WEBHOOK_INLINE_WAIT_SECONDS", "x")]
)
def test_a_group_setting_is_checked_even_without_a_work_queue(name: str, value: str) -> None:
    with pytest.raises(ServerMisconfigured, match=name):
        load_settings({**BASE, name: value})
