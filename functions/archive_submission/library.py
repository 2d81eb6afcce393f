"""`write_s3_bucket`: the library call that archives one payload and reports instead of raising."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .config import ConfigError, parse_archive_config
from .object_key import build_object_key, new_submission_id
from .reporting import report_error, report_warning
from .s3_client import get_s3_client
from .store import ObjectAlreadyExists, error_code, put_submission


def serialise_payload(payload: Any) -> bytes:
    """UTF-8 JSON of a key-value payload; `ValueError` for anything that is not a JSON object."""
    if not isinstance(payload, Mapping):
        raise ValueError(f"payload must be a dict, not {type(payload).__name__}")  # noqa: TRY004
    try:
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"payload is not JSON-serialisable: {error}") from None
    return text.encode("utf-8")


def write_s3_bucket(config: Any, payload: Any) -> bool:
    """Archive `payload` as one JSON object; True only once S3 confirmed it, else report and return False."""
    try:
        target = parse_archive_config(config)
        body = serialise_payload(payload)
    except (ConfigError, ValueError) as error:
        report_error(str(error))
        return False
    for warning in target.warnings:
        report_warning(warning)
    if not payload:
        report_warning("payload is empty; archiving an empty object '{}'")
    received_at = datetime.now(UTC)
    submission_id = new_submission_id()
    key = build_object_key(target.bucket_path, received_at, submission_id)
    try:
        client = get_s3_client(
            target.region_name, target.endpoint_url, target.access_key_id, target.secret_access_key
        )
        put_submission(client, target.bucket_name, key, body, submission_id, received_at)
    except ObjectAlreadyExists:
        report_error(f"S3 object '{key}' already exists in bucket '{target.bucket_name}'; not overwritten")
        return False
    except ClientError as error:
        report_error(f"S3 rejected the write to bucket '{target.bucket_name}': {error_code(error)}")
        return False
    except BotoCoreError as error:
        report_error(f"could not reach S3 for bucket '{target.bucket_name}': {type(error).__name__}")
        return False
    except Exception as error:  # the contract: never raise to the caller
        report_error(f"unexpected failure writing to bucket '{target.bucket_name}': {type(error).__name__}")
        return False
    return True
