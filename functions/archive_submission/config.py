"""Validation of the `write_s3_bucket` config dict, before anything touches S3."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .object_key import BucketPathError, normalise_bucket_path

SECTION_NAMES = ("aws_s3_bucket", "awss3bucket")
KNOWN_FIELDS = frozenset(
    {
        "name",
        "bucket_name",
        "bucket_path",
        "aws_region_name",
        "aws_access_key_id",
        "aws_secret_access_key",
        "endpoint_url",
    }
)
_OPTIONAL_STRINGS = ("name", "bucket_path", "aws_region_name", "endpoint_url")


class ConfigError(ValueError):
    """The config cannot be used; the message names the field and never its secret value."""


@dataclass(frozen=True)
class ArchiveTarget:
    """Where and as whom to write; `repr` hides the secret so it cannot leak through a log line."""

    bucket_name: str
    bucket_path: str = ""
    name: str | None = None
    region_name: str | None = None
    endpoint_url: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()


def _find_section(config: Any) -> tuple[str, Mapping[str, Any]]:
    if config is None:
        raise ConfigError("config is missing (got None)")
    if not isinstance(config, Mapping):
        raise ConfigError(f"config must be a dict, not {type(config).__name__}")
    present = [name for name in SECTION_NAMES if name in config]
    if not present:
        raise ConfigError("config has no 'aws_s3_bucket' section")
    if len(present) > 1:
        raise ConfigError("config has both 'aws_s3_bucket' and 'awss3bucket'; keep one")
    section = config[present[0]]
    if not isinstance(section, Mapping):
        raise ConfigError(f"config '{present[0]}' must be a dict, not {type(section).__name__}")
    return present[0], section


def _unknown_keys(config: Mapping[str, Any], section_name: str, section: Mapping[str, Any]) -> list[str]:
    """Names a typo would produce (`bucketname`, a second top-level section): warned about, not fatal."""
    outer = [str(key) for key in config if key not in SECTION_NAMES]
    inner = [f"{section_name}.{key}" for key in section if key not in KNOWN_FIELDS]
    return sorted(outer) + sorted(inner)


def _optional_string(section: Mapping[str, Any], section_name: str, key: str) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"'{section_name}.{key}' must be a string, not {type(value).__name__}")
    return value


def _credentials(section: Mapping[str, Any], section_name: str) -> tuple[str | None, str | None]:
    key_id = section.get("aws_access_key_id")
    secret = section.get("aws_secret_access_key")
    for field_name, value in (("aws_access_key_id", key_id), ("aws_secret_access_key", secret)):
        if value is not None and (not isinstance(value, str) or not value):
            raise ConfigError(f"'{section_name}.{field_name}' must be a non-empty string")
    if (key_id is None) != (secret is None):
        raise ConfigError(
            f"'{section_name}' needs both 'aws_access_key_id' and 'aws_secret_access_key', or neither"
        )
    return key_id, secret


def parse_archive_config(config: Any) -> ArchiveTarget:
    """Turn the caller's dict into an `ArchiveTarget`, or raise `ConfigError` naming the bad field."""
    section_name, section = _find_section(config)
    bucket_name = section.get("bucket_name")
    if not isinstance(bucket_name, str) or not bucket_name.strip():
        raise ConfigError(f"'{section_name}.bucket_name' is required and must be a non-empty string")
    optional = {key: _optional_string(section, section_name, key) for key in _OPTIONAL_STRINGS}
    try:
        bucket_path = normalise_bucket_path(optional["bucket_path"] or "")
    except BucketPathError as error:
        raise ConfigError(f"'{section_name}.bucket_path': {error}") from None
    key_id, secret = _credentials(section, section_name)
    warnings = tuple(
        f"ignoring unknown config key '{key}'" for key in _unknown_keys(config, section_name, section)
    )
    return ArchiveTarget(
        bucket_name=bucket_name.strip(),
        bucket_path=bucket_path,
        name=optional["name"],
        region_name=optional["aws_region_name"] or None,
        endpoint_url=optional["endpoint_url"] or None,
        access_key_id=key_id,
        secret_access_key=secret,
        warnings=warnings,
    )
