"""`write_s3_bucket`: the library call that archives one payload and reports instead of raising."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from form_archive_contract.s3 import error_code, get_s3_client

from .config import ConfigError, parse_archive_config
from .object_key import build_object_key, new_submission_id
from .reporting import report_error, report_warning
from .store import ObjectAlreadyExists, put_submission


def serialise_payload(payload: Any) -> bytes:
    """UTF-8 JSON of a key-value payload; `ValueError` for anything that is not a JSON object."""
    if not isinstance(payload, Mapping):
        raise ValueError(f"payload must be a dict, not {type(payload).__name__}")  # noqa: TRY004
    try:
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"payload is not JSON-serialisable: {error}") from None
    except RecursionError:
        raise ValueError("payload is nested too deeply to serialise") from None
    return text.encode("utf-8")


def write_s3_bucket(config: Any, payload: Any) -> bool:
    """Archive `payload` as one JSON object; True only once S3 confirmed it, else report and return False.

    It never raises: whatever the config and payload hold (a lone surrogate, a mapping whose methods
    fail), the caller gets False and one `Error:` line."""
    try:
        return _write(config, payload)
    except Exception as error:  # the contract: never raise to the caller
        report_error(f"config or payload could not be used: {type(error).__name__}")
        return False


def _write(config: Any, payload: Any) -> bool:
    try:
        target = parse_archive_config(config)
        body = serialise_payload(payload)
    except (ConfigError, ValueError) as error:
        report_error(str(error))
        return False
    except Exception as error:  # e.g. a mapping type whose access fails: report, never raise
        report_error(f"config or payload could not be read: {type(error).__name__}")
        return False
    for warning in target.warnings:
        report_warning(warning)
    if body == b"{}":
        report_warning("payload is empty; archiving an empty object '{}'")
    received_at = datetime.now(UTC)
    submission_id = new_submission_id()
    key = build_object_key(target.bucket_path, received_at, submission_id)
    try:
        client = get_s3_client(
            target.region_name, target.endpoint_url, target.access_key_id, target.secret_access_key
        )
    except Exception as error:  # e.g. a malformed endpoint_url: botocore raises ValueError
        report_error(
            f"could not create an S3 client from 'aws_region_name'/'endpoint_url': {type(error).__name__}"
        )
        return False
    try:
        put_submission(client, target.bucket_name, key, body, submission_id, received_at)
    except Exception as error:  # the contract: never raise to the caller
        report_error(describe_write_failure(error, target.bucket_name, key))
        return False
    return True


def describe_write_failure(error: Exception, bucket: str, key: str) -> str:
    """What stopped the write, in words safe to print: S3 codes and type names, never a value or secret."""
    if isinstance(error, ObjectAlreadyExists):
        return f"S3 object '{key}' already exists in bucket '{bucket}'; not overwritten"
    if isinstance(error, ParamValidationError):
        return f"'bucket_name' '{bucket}' is not a valid S3 bucket name"
    if isinstance(error, ClientError):
        return f"S3 rejected the write to bucket '{bucket}': {error_code(error)}"
    if isinstance(error, BotoCoreError):
        return f"could not reach S3 for bucket '{bucket}': {type(error).__name__}"
    return f"unexpected failure writing to bucket '{bucket}': {type(error).__name__}"
