"""`python -m tools.attach_bucket`: options, the stack's parameters, and one JSON report on stdout."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from tools.attach_bucket import merge
from tools.attach_bucket.bucket import (
    ATTACHED_TAG,
    AttachError,
    attached_by_us,
    check_bucket,
    check_requirements,
    cors_state,
    mark_attached,
    read_notification,
    rules_using,
    unchanged_since,
    write_cors,
    write_notification,
)
from tools.aws_region import aws_region
from tools.template_bucket import template_cors_rule

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


@dataclass(frozen=True)
class Target:
    bucket: str
    region: str
    origins: list[str]
    own_rule_arn: str = ""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.attach_bucket",
        description="Turn on EventBridge delivery on a bucket you already have, keeping every Lambda, SQS "
        "and SNS notification it has; check versioning, encryption and the upload CORS rule. Uses boto3's "
        "usual environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL). One JSON report on stdout.",
    )
    parser.add_argument("bucket", nargs="?", default="", help="the bucket (or --stack-name)")
    parser.add_argument("--stack-name", help="read the bucket and AllowedOrigins from this deployed stack")
    parser.add_argument("--origin", action="append", default=[], help="a browser origin (repeatable)")
    parser.add_argument("--dry-run", action="store_true", help="print before/after, write nothing")
    parser.add_argument("--apply-cors", action="store_true", help="add the upload CORS rule if missing")
    parser.add_argument(
        "--detach", action="store_true", help="turn EventBridge delivery and our CORS rule off again"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="with --detach: turn delivery off although other rules use it (they are listed)",
    )
    args = parser.parse_args(argv)
    if not args.bucket and not args.stack_name:
        parser.error("name a bucket or --stack-name")
    return args


def target_of(args: argparse.Namespace, region: str) -> Target:
    """The bucket and origins from the options, or from the deployed stack's outputs and parameters."""
    if not args.stack_name:
        return Target(args.bucket, region, list(args.origin))
    stack = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=args.stack_name)
    [description] = stack["Stacks"]
    outputs = {item["OutputKey"]: item.get("OutputValue", "") for item in description.get("Outputs", [])}
    parameters = {
        item["ParameterKey"]: item.get("ParameterValue", "") for item in description.get("Parameters", [])
    }
    if parameters.get("NotificationRoute") != "eventbridge":
        raise AttachError(
            f"stack {args.stack_name} has NotificationRoute={parameters.get('NotificationRoute')}; "
            "attach is for the eventbridge route (nothing changed)"
        )
    bucket = outputs.get("ArchiveBucketName", "")
    if args.bucket and args.bucket != bucket:
        raise AttachError(
            f"stack {args.stack_name} uses bucket {bucket}, not {args.bucket} (nothing changed)"
        )
    origins = [item for item in parameters.get("AllowedOrigins", "").split(",") if item.strip()]
    return Target(bucket, region, list(args.origin) or origins, outputs.get("NotifyEventRuleArn", ""))


def run(
    args: argparse.Namespace, s3: S3Client, target: Target, report: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Check, merge, write and verify; `report` (printed on stdout) is filled in as it goes."""
    report = {"bucket": target.bucket} if report is None else report
    check_bucket(s3, target.bucket, target.region)
    before = read_notification(s3, target.bucket)
    checks = check_requirements(s3, target.bucket, target.origins)
    rule = merge.upload_cors_rule(target.origins, template_cors_rule(target.origins))
    cors_after = checks.cors_rules
    if args.detach:
        after = merge.without_eventbridge(before)
        cors_after = merge.without_cors_rule(checks.cors_rules)
    else:
        after = merge.with_eventbridge(before)
        if args.apply_cors and checks.cors.startswith("missing"):
            cors_after = merge.with_cors_rule(checks.cors_rules, rule)
    report.update(
        {
            "before": before,
            "after": after,
            "checks": {key: value for key, value in asdict(checks).items() if key != "cors_rules"},
            "cors_before": checks.cors,
            "cors_rule": rule if target.origins else None,
            "cors_rules_after": cors_after,
        }
    )
    if args.detach and merge.eventbridge_enabled(before):
        detach_allowed(args, s3, target, report)
    if args.dry_run:
        return {**report, "result": "dry run: nothing written"}
    changed = merge.differences(before, after)
    result = "already so: nothing written"
    if changed:
        unchanged_since(s3, target.bucket, before)
        result = write_notification(s3, target.bucket, before, after)
        if merge.eventbridge_enabled(after) != merge.eventbridge_enabled(before):
            result += mark_attached(s3, target.bucket, attached=not args.detach)
    if cors_after != checks.cors_rules:
        write_cors(s3, target.bucket, cors_after)  # read back and compared
        result += "; CORS rule " + ("removed" if args.detach else "added")
        # The checks report the bucket as it is now; `cors_before` keeps what was found.
        report["checks"] = {**report["checks"], "cors": cors_state(cors_after, target.origins)}
    return {**report, "result": result}


def detach_allowed(args: argparse.Namespace, s3: S3Client, target: Target, report: dict[str, Any]) -> None:
    """Refuse (nothing changed) while other rules use the bucket's events, some rule cannot be evaluated, or
    delivery was not turned on by attach; `--force` goes on with the list printed."""
    account = boto3.client("sts", region_name=target.region).get_caller_identity()["Account"]
    events = boto3.client("events", region_name=target.region)
    found = rules_using(events, target.bucket, target.region, account, target.own_rule_arn)
    ours = attached_by_us(s3, target.bucket)
    report.update(
        {
            "rules_using_the_bucket": found.matching,
            "rules_not_evaluated": found.undecided,
            "turned_on_by_attach": ours,
        }
    )
    reasons = []
    if found.matching:
        reasons.append(
            f"other EventBridge rules use bucket {target.bucket}'s events: {', '.join(found.matching)}"
        )
    if found.undecided:
        reasons.append(
            f"rules whose patterns could not be evaluated (they may use it): {', '.join(found.undecided)}"
        )
    if not ours:
        reasons.append(
            f"EventBridge delivery was not turned on by attach (no tag {ATTACHED_TAG} on the bucket)"
        )
    if not reasons:
        return
    if not args.force:
        raise AttachError(
            "; ".join(reasons) + "; EventBridge delivery stays on (nothing changed; --force overrides)"
        )
    print(
        f"attach-bucket: --force: turning EventBridge delivery off although {'; '.join(reasons)}",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    session = boto3.session.Session()
    region = aws_region(default="us-east-1")
    report: dict[str, Any] = {"bucket": args.bucket}
    try:
        target = target_of(args, region)
        report["bucket"] = target.bucket
        report = run(args, session.client("s3", region_name=region), target, report)
    except merge.UnknownConfiguration as error:
        return _failed(report, f"refused: {error}", EXIT_REFUSED)
    except AttachError as error:
        return _failed(report, f"failed: {error}", EXIT_FAILED)
    except (ClientError, BotoCoreError) as error:
        return _failed(report, f"failed: {error}", EXIT_FAILED)
    print(f"attach-bucket: {target.bucket}: {report['result']}", file=sys.stderr)
    for name, value in report["checks"].items():
        was = f" (was: {report['cors_before']})" if name == "cors" and value != report["cors_before"] else ""
        print(f"  {name}: {value}{was}", file=sys.stderr)
    if str(report["checks"]["cors"]).startswith("missing") and not args.apply_cors and not args.detach:
        print(
            "  the rule to add (or run again with --apply-cors):",
            json.dumps(report["cors_rule"]),
            file=sys.stderr,
        )
    print(json.dumps(report, indent=2 if args.dry_run else None, sort_keys=True))
    return EXIT_OK


def _failed(report: dict[str, Any], result: str, status: int) -> int:
    """The sentence on stderr and the report, with what was found so far, on stdout."""
    print(f"attach-bucket: {result.removeprefix('failed: ')}", file=sys.stderr)
    print(json.dumps({**report, "result": result}, sort_keys=True))
    return status
