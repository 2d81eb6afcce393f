"""What the attach tool reads from and writes to the bucket, each S3 fault turned into a sentence."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from tools.attach_bucket import event_pattern, merge

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client


# Set when attach turns EventBridge delivery on; detach turns off only delivery that carries it.
ATTACHED_TAG = "form-archive:attached"


class AttachError(Exception):
    """A fault the user has to fix; the message says what happened and what was (not) changed."""


@dataclass
class Checks:
    """What the stack needs from a bucket it does not own, as found (reported, never changed silently)."""

    versioning: str = "unknown"
    encryption: str = "unknown"
    cors: str = "not checked (no origins)"
    cors_rules: list[dict[str, Any]] = field(default_factory=list)


def _code(error: ClientError) -> tuple[str, int]:
    return error.response.get("Error", {}).get("Code", ""), int(
        error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    )


def check_bucket(s3: S3Client, bucket: str, region: str) -> None:
    """The bucket exists, this caller may read it, and it is in `region` (EventBridge rules only see
    events of their own region)."""
    try:
        s3.head_bucket(Bucket=bucket)
        answer: dict[str, Any] = dict(s3.get_bucket_location(Bucket=bucket))
        location = str(answer.get("LocationConstraint") or "us-east-1")  # None: us-east-1
    except ClientError as error:
        code, status = _code(error)
        if status == 404 or code in {"404", "NoSuchBucket"}:
            raise AttachError(f"bucket {bucket} does not exist (nothing changed)") from None
        if status == 403 or code in {"403", "AccessDenied"}:
            raise AttachError(
                f"access denied to bucket {bucket}: the caller needs s3:GetBucketNotification, "
                "s3:PutBucketNotification, s3:GetBucketVersioning, s3:GetEncryptionConfiguration and "
                "s3:GetBucketCORS (s3:PutBucketCORS with --apply-cors) on it (nothing changed)"
            ) from None
        if status == 301 or code in {"301", "PermanentRedirect", "AuthorizationHeaderMalformed"}:
            raise AttachError(
                f"bucket {bucket} is in another region than {region} (nothing changed)"
            ) from None
        raise AttachError(f"cannot read bucket {bucket}: {code or status} (nothing changed)") from None
    location = "eu-west-1" if location == "EU" else location
    if location != region:
        raise AttachError(
            f"bucket {bucket} is in {location}, the stack's region is {region}: an EventBridge rule sees "
            "only its own region's events; deploy the stack in the bucket's region (nothing changed)"
        )


def read_notification(s3: S3Client, bucket: str) -> dict[str, Any]:
    """The bucket's notification configuration; `UnknownConfiguration` when it cannot be carried over."""
    answer = s3.get_bucket_notification_configuration(Bucket=bucket)
    return merge.notification_of(dict(answer))


def write_notification(s3: S3Client, bucket: str, before: dict[str, Any], after: dict[str, Any]) -> str:
    """Write `after`, read it back and verify it; on any fault re-read and say what the bucket now holds.

    Destination validation is skipped: the other configurations are written back as they were, and S3
    would otherwise refuse the whole put for someone else's queue that no longer exists.
    """
    try:
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration=after,  # type: ignore[arg-type]
            SkipDestinationValidation=True,
        )
    except (ClientError, BotoCoreError) as error:
        reason = _code(error)[0] if isinstance(error, ClientError) else type(error).__name__
        return _after_a_failed_put(s3, bucket, before, after, reason)
    found = read_notification(s3, bucket)
    wrong = merge.differences(after, found)
    if wrong:
        raise AttachError(
            f"the bucket read back differs from what was written in {', '.join(wrong)}; now: {_json(found)}"
        )
    return "written and read back"


def _after_a_failed_put(
    s3: S3Client, bucket: str, before: dict[str, Any], after: dict[str, Any], reason: str
) -> str:
    try:
        found = read_notification(s3, bucket)
    except (ClientError, BotoCoreError, merge.UnknownConfiguration) as error:
        raise AttachError(
            f"writing the notification configuration failed ({reason}) and re-reading it failed too "
            f"({error}); the configuration before was: {_json(before)}"
        ) from None
    if not merge.differences(after, found):
        return f"written (the answer was lost: {reason}; read back and verified)"
    if not merge.differences(before, found):
        raise AttachError(f"writing the notification configuration failed ({reason}); nothing changed")
    raise AttachError(
        f"writing the notification configuration failed ({reason}) and the bucket now holds "
        f"{_json(found)}; before it held {_json(before)}"
    )


def unchanged_since(s3: S3Client, bucket: str, before: dict[str, Any]) -> None:
    """Re-read just before a write: another writer's change since the first read is refused, never dropped
    (S3 has no conditional put for this configuration, so the window left is between these two requests)."""
    now = read_notification(s3, bucket)
    changed = merge.differences(before, now)
    if changed:
        raise AttachError(
            f"the notification configuration changed since it was read ({', '.join(changed)}; another "
            f"writer?): now {_json(now)}; nothing written, run again"
        )


def attached_by_us(s3: S3Client, bucket: str) -> bool:
    """Whether the bucket carries the tag attach sets when it is the one that turned EventBridge on."""
    return any(tag["Key"] == ATTACHED_TAG for tag in _tags(s3, bucket))


def mark_attached(s3: S3Client, bucket: str, attached: bool) -> str:
    """Set (or remove) the tag; the bucket's other tags are kept. A fault is reported, not raised."""
    try:
        tags = [tag for tag in _tags(s3, bucket) if tag["Key"] != ATTACHED_TAG]
        if attached:
            tags.append({"Key": ATTACHED_TAG, "Value": "eventbridge"})
        if tags:
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})  # type: ignore[typeddict-item]
        else:
            s3.delete_bucket_tagging(Bucket=bucket)
    except (ClientError, BotoCoreError) as error:
        reason = _code(error)[0] if isinstance(error, ClientError) else type(error).__name__
        return f"; the tag {ATTACHED_TAG} could not be {'set' if attached else 'removed'} ({reason})"
    return ""


def _tags(s3: S3Client, bucket: str) -> list[dict[str, str]]:
    try:
        return [
            {"Key": tag["Key"], "Value": tag["Value"]}
            for tag in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
        ]
    except ClientError as error:
        if _code(error)[0] != "NoSuchTagSet":
            raise
        return []


def check_requirements(s3: S3Client, bucket: str, origins: list[str]) -> Checks:
    """Versioning, default encryption and the upload CORS rule, as the bucket has them."""
    checks = Checks()
    checks.versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status", "never enabled")
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        checks.encryption = ",".join(
            rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm", "?") for rule in rules
        )
    except ClientError as error:
        if _code(error)[0] != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        checks.encryption = "none configured"
    checks.cors_rules = read_cors(s3, bucket)
    checks.cors = cors_state(checks.cors_rules, origins)
    return checks


def cors_state(rules: list[dict[str, Any]], origins: list[str]) -> str:
    """Whether `rules` let every origin upload: the `cors` check's words."""
    if not origins:
        return Checks.cors
    missing = [origin for origin in origins if not merge.cors_allows_uploads(rules, origin)]
    return f"missing for {', '.join(missing)}" if missing else "allows uploads"


def read_cors(s3: S3Client, bucket: str) -> list[dict[str, Any]]:
    try:
        return [dict(rule) for rule in s3.get_bucket_cors(Bucket=bucket)["CORSRules"]]
    except ClientError as error:
        if _code(error)[0] != "NoSuchCORSConfiguration":
            raise
        return []


def write_cors(s3: S3Client, bucket: str, rules: list[dict[str, Any]]) -> None:
    """Write the CORS rules (all of them: PutBucketCors replaces), or delete CORS when none are left."""
    if rules:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})  # type: ignore[typeddict-item]
    else:
        s3.delete_bucket_cors(Bucket=bucket)
    found = read_cors(s3, bucket)
    if [rule.get("ID") for rule in found] != [rule.get("ID") for rule in rules]:
        raise AttachError(f"the CORS rules read back differ from those written: {_json(found)}")


@dataclass
class RulesUsing:
    """Rules on the default bus, other than the stack's own, that receive (or may) the bucket's events."""

    matching: list[str] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)


def rules_using(
    events: EventBridgeClient, bucket: str, region: str, account: str, own_rule_arn: str
) -> RulesUsing:
    """Each enabled rule's pattern asked whether some event of the bucket could match: EventBridge's
    TestEventPattern where the service answers it, else `event_pattern.could_match`; a rule neither can
    decide is listed as undecided, never guessed."""
    found = RulesUsing()
    samples = event_pattern.sample_events(bucket, region, account)
    for page in events.get_paginator("list_rules").paginate(EventBusName="default"):
        for rule in page.get("Rules", []):
            name, raw = rule.get("Name", "?"), rule.get("EventPattern")
            if rule.get("Arn") == own_rule_arn or not raw or rule.get("State") == "DISABLED":
                continue
            answer = _rule_matches(events, raw, samples)
            if answer is None:
                found.undecided.append(name)
            elif answer:
                found.matching.append(name)
    return found


def _rule_matches(events: EventBridgeClient, raw_pattern: str, samples: list[dict[str, Any]]) -> bool | None:
    try:
        pattern = json.loads(raw_pattern)
    except ValueError:
        return None
    stripped = event_pattern.without_object_fields(pattern) if isinstance(pattern, dict) else {}
    if stripped is None:
        return True
    answers = [_test_event_pattern(events, stripped, sample) for sample in samples] if stripped else []
    if not any(answers) and not all(answer is False for answer in answers):
        answers = [event_pattern.could_match(pattern, sample) for sample in samples]
    return True if any(answers) else (False if all(answer is False for answer in answers) else None)


def _test_event_pattern(
    events: EventBridgeClient, pattern: dict[str, Any], sample: dict[str, Any]
) -> bool | None:
    """EventBridge's own answer; None when the service gives none (an emulator without the call, a fault)."""
    try:
        answer = events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(sample))
    except (ClientError, BotoCoreError):
        return None
    result = answer.get("Result")
    return result if isinstance(result, bool) else None


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
