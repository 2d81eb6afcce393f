"""Print the webhook signing secret of a deployed stack, for the receiver's configuration.

    python -m tools.webhook_secret --stack-name form-archive      (make webhook-secret STACK=form-archive)

It reads what the notify function reads, the way it reads it: the function's `WEBHOOK_SECRET_PARAMETER`
(a Secrets Manager ARN or name, or an SSM name) and `WEBHOOK_SECRET_PREFIX` (`whsec_` for the secret the
stack generated), so the line printed is exactly the secret deliveries are signed with. During a
rotation's overlap (`make rotate-webhook-secret`) deliveries are signed with two secrets, and two labelled
lines are printed instead: `current  <secret>` and `previous <secret>  (sent until <time>)`. Only that goes
to stdout; errors go to stderr and name what is missing, never a value. AWS access as boto3 finds it
(profile, region, `AWS_ENDPOINT_URL` for LocalStack).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

_FUNCTIONS = str(Path(__file__).resolve().parent.parent / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)

from form_archive_contract.secret_store import SecretUnavailable, read_secret_versions  # noqa: E402
from notify_webhook.rotation import (  # noqa: E402
    OverlapSettingError,
    SigningSecrets,
    overlap_hours,
    signing_secrets,
    with_prefix,
)
from tools.project import function_ids  # noqa: E402

NOTIFY_FUNCTION = function_ids().notify


class WebhookSecretError(Exception):
    """The stack, its function or its secret cannot be read; the message says which."""


def function_environment(stack_name: str) -> dict[str, str]:
    """The notify function's environment variables, found through the stack's resources."""
    try:
        resource = boto3.client("cloudformation").describe_stack_resource(
            StackName=stack_name, LogicalResourceId=NOTIFY_FUNCTION
        )["StackResourceDetail"]
        configuration = boto3.client("lambda").get_function_configuration(
            FunctionName=resource["PhysicalResourceId"]
        )
    except (ClientError, BotoCoreError) as error:
        raise WebhookSecretError(
            f"stack {stack_name} or its {NOTIFY_FUNCTION} cannot be read: {error}"
        ) from None
    return dict(configuration.get("Environment", {}).get("Variables", {}))


def signing_secret(environment: dict[str, str]) -> SigningSecrets:
    """The secrets the function signs with: the referenced secret with the configured prefix, and the
    previous one with the end of its overlap when the secret was rotated."""
    reference = environment.get("WEBHOOK_SECRET_PARAMETER", "").strip()
    if not reference:
        raise WebhookSecretError("the function names no secret (WEBHOOK_SECRET_PARAMETER is empty)")
    try:
        versions = read_secret_versions(reference)
        hours = overlap_hours(environment)
    except (SecretUnavailable, OverlapSettingError) as error:
        raise WebhookSecretError(str(error)) from None
    prefix = environment.get("WEBHOOK_SECRET_PREFIX", "").strip()
    return signing_secrets(with_prefix(versions.current, prefix), versions, prefix, hours)


def printed_lines(secrets: SigningSecrets, now: float) -> list[str]:
    """The secret alone; during an overlap, both secrets labelled."""
    in_use = secrets.at(now)
    if len(in_use) == 1 or secrets.previous_until is None:
        return [in_use[0]]
    until = secrets.previous_until.strftime("%Y-%m-%d %H:%M UTC")
    return [f"current   {in_use[0]}", f"previous  {in_use[1]}  (sent until {until}; then remove it)"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", default="form-archive", help="deployed stack (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        secrets = signing_secret(function_environment(args.stack_name))
    except WebhookSecretError as error:
        print(f"webhook-secret: {error}", file=sys.stderr)
        return 1
    print("\n".join(printed_lines(secrets, time.time())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
