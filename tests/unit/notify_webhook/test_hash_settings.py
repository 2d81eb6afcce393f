"""HASH_CONNECTIONS, HASH_PART_BYTES and HASH_RANGES: defaults, bounds, and errors that name the variable."""

from __future__ import annotations

import pytest

from form_archive_contract.s3 import CLIENT_CONFIG, MAX_POOL_CONNECTIONS, get_s3_client
from form_archive_contract.settings import ServerMisconfigured
from notify_webhook.object_hash.ranges import RangedReads
from notify_webhook.settings import hash_settings, load_settings

MIB = 1024 * 1024
BASE = {"WEBHOOK_URL": "https://hooks.example.test/archive", "WEBHOOK_SECRET_TOKEN": "testing"}


def test_defaults_are_up_to_eight_connections_of_8_mib_when_they_pay() -> None:
    assert hash_settings({}) == RangedReads(connections=16, part_bytes=5 * MIB, mode="auto")
    assert load_settings(BASE).hashing == RangedReads(connections=16, part_bytes=5 * MIB)


def test_values_are_read_and_reach_the_function_settings() -> None:
    environ = {**BASE, "HASH_CONNECTIONS": " 16 ", "HASH_PART_BYTES": str(MIB)}
    assert load_settings(environ).hashing == RangedReads(connections=16, part_bytes=MIB)
    assert hash_settings({"HASH_CONNECTIONS": "1", "HASH_PART_BYTES": ""}) == RangedReads(connections=1)
    assert hash_settings({"HASH_RANGES": " Always "}).mode == "always"
    assert hash_settings({"HASH_RANGES": "never"}).mode == "never"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("HASH_CONNECTIONS", "eight", "must be an integer"),
        ("HASH_CONNECTIONS", "2.5", "must be an integer"),
        ("HASH_CONNECTIONS", "0", "must be between 1 and 16"),
        ("HASH_CONNECTIONS", "17", "must be between 1 and 16"),
        ("HASH_PART_BYTES", "8MiB", "must be an integer"),
        ("HASH_PART_BYTES", str(MIB - 1), f"must be between {MIB} and {64 * MIB}"),
        ("HASH_PART_BYTES", str(64 * MIB + 1), f"must be between {MIB} and {64 * MIB}"),
        ("HASH_RANGES", "sometimes", "must be one of auto, always, never"),
    ],
)
def test_bad_values_are_configuration_errors_naming_the_variable(name: str, value: str, problem: str) -> None:
    with pytest.raises(ServerMisconfigured, match=f"^{name} {problem}"):
        load_settings({**BASE, name: value})


def test_the_client_pool_holds_every_connection_the_settings_allow() -> None:
    pool_sizes = {
        getattr(config, "max_pool_connections", None)
        for config in (CLIENT_CONFIG, get_s3_client(region_name="us-east-1").meta.config)
    }
    assert pool_sizes == {MAX_POOL_CONNECTIONS} and MAX_POOL_CONNECTIONS >= 16
