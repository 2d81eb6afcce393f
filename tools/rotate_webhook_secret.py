"""Rotate a deployed stack's generated webhook signing secret, with an overlap so no delivery fails.

    python -m tools.rotate_webhook_secret --stack-name form-archive [--dry-run] [--force]
    (make rotate-webhook-secret STACK=form-archive [ROTATE_ARGS=--dry-run])

It puts a new generated value (the form of the template's `GenerateSecretString`: 32 characters of the
base64 alphabet without `+` and `/`) as the secret's current version; Secrets Manager moves the old one
to `AWSPREVIOUS`. The notify function then signs every delivery with both for
`WEBHOOK_ROTATION_OVERLAP_HOURS` (24 by default), so each receiver adds the new secret, then drops the old
one. It only ever touches the secret the stack generated (logical id `WebhookSecret`, the one the
function reads): a missing stack, or a stack given its own secret (`WebhookSecretName`), exits 1 and
changes nothing. A rotation still inside its overlap is refused too (`--force` overrides): a second one
would stop sending the secret receivers may still rely on. No secret is printed; `make webhook-secret`
prints both, labelled.
"""

from __future__ import annotations

import argparse
import secrets
import string
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

_FUNCTIONS = str(Path(__file__).resolve().parent.parent / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)

from notify_webhook.rotation import OVERLAP_VARIABLE, OverlapSettingError, overlap_hours  # noqa: E402
from tools.webhook_secret import NOTIFY_FUNCTION, WebhookSecretError, function_environment  # noqa: E402

__all__ = ["RotationRefused", "function_environment", "main", "new_key", "put_new_version", "rotate"]

GENERATED_SECRET = "WebhookSecret"  # noqa: S105 - a logical resource id, not a secret
KEY_LENGTH = 32
_KEY_ALPHABET = string.ascii_letters + string.digits


class RotationRefused(Exception):
    """Nothing was changed; the message says why and what to do instead."""


def new_key() -> str:
    """32 characters of letters and digits with at least one of each kind, as `GenerateSecretString`
    (`ExcludePunctuation`, `RequireEachIncludedType`) makes them: a 24-byte Standard Webhooks key."""
    while True:
        key = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(KEY_LENGTH))
        kinds = (str.isupper, str.islower, str.isdigit)
        if all(any(kind(char) for char in key) for kind in kinds):
            return key


def owned_secret(stack_name: str, environment: dict[str, str]) -> str:
    """The ARN of the secret the stack generated and its function reads, or `RotationRefused`."""
    cloudformation = boto3.client("cloudformation")
    try:
        resource = cloudformation.describe_stack_resource(
            StackName=stack_name, LogicalResourceId=GENERATED_SECRET
        )["StackResourceDetail"]
    except ClientError:
        raise RotationRefused(
            f"stack {stack_name} has no generated secret ({GENERATED_SECRET}): it was given its own "
            "(WebhookSecretName). Rotate that one where it is kept; for a Secrets Manager secret the "
            "function signs with both versions during the overlap (docs/operations.md)"
        ) from None
    arn = str(resource["PhysicalResourceId"])
    if environment.get("WEBHOOK_SECRET_PARAMETER", "").strip() != arn:
        raise RotationRefused(
            f"{NOTIFY_FUNCTION} of stack {stack_name} does not sign with the stack's generated secret; "
            "nothing changed"
        )
    return arn


@dataclass(frozen=True)
class SecretState:
    """When the current version was created, and whether a previous one exists."""

    current_since: datetime
    has_previous: bool


def secret_state(client: Any, arn: str) -> SecretState:
    """Version metadata only (`ListSecretVersionIds`): no value is read."""
    versions = client.list_secret_version_ids(SecretId=arn)["Versions"]
    created = next(item["CreatedDate"] for item in versions if "AWSCURRENT" in item.get("VersionStages", []))
    has_previous = any("AWSPREVIOUS" in item.get("VersionStages", []) for item in versions)
    return SecretState(created.astimezone(UTC), has_previous)


def put_new_version(client: Any, arn: str, key: str) -> datetime:
    """`key` becomes `AWSCURRENT` (the old current becomes `AWSPREVIOUS`); returns the rotation time."""
    version = client.put_secret_value(SecretId=arn, SecretString=key)["VersionId"]
    for item in client.list_secret_version_ids(SecretId=arn)["Versions"]:
        if item["VersionId"] == version:
            return item["CreatedDate"].astimezone(UTC)  # type: ignore[no-any-return]
    return datetime.now(UTC)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def instructions(stack_name: str, rotated: datetime, hours: float, *, done: bool) -> str:
    """What the receivers' owners do, and when the old secret stops being sent."""
    until = rotated + timedelta(hours=hours)
    head = "rotated" if done else "dry run: nothing changed; a rotation now would put a new secret"
    return "\n".join(
        [
            f"{head} (stack {stack_name}, at {_when(rotated)}).",
            f"Deliveries carry both signatures (new and old) until {_when(until)} ({hours:g} h,",
            f"{OVERLAP_VARIABLE}); then only the new one. Functions pick the new secret up within 5 minutes.",
            "Each receiver, before that time:",
            f"  1. add the new secret next to the old one: make webhook-secret STACK={stack_name}",
            "     prints both, labelled current and previous (accept a delivery when either verifies);",
            f"  2. after {_when(until)}, remove the old secret.",
            "A receiver that keeps only the old secret fails verification from then on.",
        ]
    )


def rotate(stack_name: str, *, dry_run: bool, force: bool, now: datetime | None = None) -> str:
    """Rotate (or, with `dry_run`, only check and describe); `RotationRefused` when nothing may change."""
    try:
        environment = function_environment(stack_name)
    except WebhookSecretError as error:
        raise RotationRefused(f"{error}; nothing changed") from None
    arn = owned_secret(stack_name, environment)
    try:
        hours = overlap_hours(environment)
    except OverlapSettingError as error:
        raise RotationRefused(f"the function's {error}; nothing changed") from None
    client = boto3.client("secretsmanager")
    moment = now or datetime.now(UTC)
    try:
        state = secret_state(client, arn)
        open_until = state.current_since + timedelta(hours=hours)
        if state.has_previous and moment < open_until and not force:
            raise RotationRefused(
                f"the last rotation ({_when(state.current_since)}) is still in its overlap until "
                f"{_when(open_until)}: rotating again now would stop sending the secret receivers may still "
                "use. Wait, or pass --force; nothing changed"
            )
        if dry_run:
            return instructions(stack_name, moment, hours, done=False)
        rotated = put_new_version(client, arn, new_key())
    except (ClientError, BotoCoreError, StopIteration) as error:
        raise RotationRefused(f"the secret could not be read or written ({type(error).__name__})") from None
    return instructions(stack_name, rotated, hours, done=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack-name", default="form-archive", help="deployed stack (default %(default)s)")
    parser.add_argument("--dry-run", action="store_true", help="check and describe; change nothing")
    parser.add_argument("--force", action="store_true", help="rotate even inside the last rotation's overlap")
    args = parser.parse_args(argv)
    try:
        print(rotate(args.stack_name, dry_run=args.dry_run, force=args.force))
    except RotationRefused as error:
        print(f"rotate-webhook-secret: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
