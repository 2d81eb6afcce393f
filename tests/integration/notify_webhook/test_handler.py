"""The notify handler end to end: moto's S3 server over real HTTP and a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from standardwebhooks.webhooks import Webhook

from form_archive_contract.metadata import encode_metadata_value
from form_archive_contract.s3 import get_s3_client
from form_archive_contract.settings import ServerMisconfigured
from notify_webhook.app import NotificationFailed, lambda_handler
from notify_webhook.signing import verify_signature
from tests.s3_stores import ARCHIVE_BUCKET, REGION
from tests.webhook_receiver import (
    WEBHOOK_PATH,
    Reply,
    WebhookReceiver,
    object_created_record,
    refused_url,
    s3_event,
)
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_KEY_PART = SECRET.removeprefix("whsec_")
FIELDS = {
    "datapack_identifier",
    "display",
    "path",
    "content_type",
    "length",
    "etag",
    "sha256",
    "submitter_name",
    "submitter_email",
    "_updated",
}
UPLOADER = {
    "uploaded-by": "presigned-url",
    "uploader-name": "Jane Doe",
    "uploader-email": "jane@example.test",
}

Put = Callable[..., dict[str, Any]]


@pytest.fixture
def notify_env(
    server_s3: S3Client, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> WebhookReceiver:
    monkeypatch.setenv("WEBHOOK_URL", webhook_receiver.url)
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "true")  # the receiver is http://127.0.0.1
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("WEBHOOK_BACKOFF_BASE_SECONDS", "0.001")
    for name in (
        "WEBHOOK_SECRET_PARAMETER",
        "ACCEPTED_UPLOADERS",
        "WEBHOOK_MAX_ATTEMPTS",
        "WEBHOOK_SECRET_IN_BODY",
    ):
        monkeypatch.delenv(name, raising=False)
    return webhook_receiver


@pytest.fixture
def put(server_s3: S3Client) -> Put:
    """Store an object in moto's server and return the S3 event record announcing it."""
    sequence = iter(range(1, 1000))

    def store(
        key: str,
        body: bytes = b'{"first_name": "Jane"}',
        metadata: dict[str, str] | None = None,
        *,
        sha256_checksum: bool = False,
        encode_slash: bool = False,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {"ChecksumAlgorithm": "SHA256"} if sha256_checksum else {}
        answer = server_s3.put_object(
            Bucket=ARCHIVE_BUCKET,
            Key=key,
            Body=body,
            ContentType=content_type,
            Metadata=UPLOADER if metadata is None else metadata,
            **extra,
        )
        return object_created_record(
            ARCHIVE_BUCKET,
            key,
            etag=answer["ETag"],
            version_id=answer.get("VersionId"),
            sequencer=f"{next(sequence):018X}",
            size=len(body),
            encode_slash=encode_slash,
        )

    return store


def headers_of(receiver: WebhookReceiver, index: int = 0) -> dict[str, str]:
    return receiver.requests[index].headers


def test_happy_path_field_by_field(
    notify_env: WebhookReceiver, put: Put, server_s3: S3Client, lambda_context: LocalLambdaContext
) -> None:
    server_s3.put_bucket_versioning(Bucket=ARCHIVE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    body = b'{"first_name": "Jane", "note": "caf\xc3\xa9"}'
    record = put("forms/contact/2026/11/22/01ABC.json", body)
    result = lambda_handler(s3_event(record), lambda_context)
    assert result == {"delivered": 1, "skipped": 0, "ignored": 0, "failed": 0}

    [request] = notify_env.requests
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    payload = request.json()
    assert set(payload) == FIELDS  # no secret_token unless WEBHOOK_BODY_TOKEN is set
    head = server_s3.head_object(Bucket=ARCHIVE_BUCKET, Key="forms/contact/2026/11/22/01ABC.json")
    assert payload["datapack_identifier"] == "forms"
    assert payload["path"] == "/contact/2026/11/22"
    assert payload["display"] == "01ABC.json"
    assert payload["content_type"] == "application/json"
    assert payload["length"] == len(body)
    assert payload["etag"] == head["ETag"].strip('"') == record["s3"]["object"]["eTag"]
    assert payload["sha256"] == hashlib.sha256(body).hexdigest()
    assert payload["submitter_name"] == "Jane Doe"
    assert payload["submitter_email"] == "jane@example.test"
    assert payload["_updated"] == str(head["LastModified"])

    headers = request.headers
    assert headers["webhook-id"].startswith("msg_")
    assert verify_signature(
        SECRET,
        headers["webhook-id"],
        headers["webhook-timestamp"],
        request.body,
        headers["webhook-signature"],
    )
    Webhook(SECRET).verify(request.body, headers)  # the independent Standard Webhooks implementation
    assert not verify_signature(
        SECRET,
        headers["webhook-id"],
        headers["webhook-timestamp"],
        request.body + b" ",
        headers["webhook-signature"],
    )


@pytest.mark.parametrize("encode_slash", [False, True], ids=["a/b+c.txt", "a%2Fb+c.txt"])
def test_both_key_encodings(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext, encode_slash: bool
) -> None:
    record = put("a/b c.txt", b"plain", encode_slash=encode_slash, content_type="text/plain")
    assert record["s3"]["object"]["key"] == ("a%2Fb+c.txt" if encode_slash else "a/b+c.txt")
    lambda_handler(s3_event(record), lambda_context)
    payload = notify_env.requests[0].json()
    assert (payload["datapack_identifier"], payload["path"], payload["display"]) == ("a", "/", "b c.txt")
    assert payload["sha256"] == hashlib.sha256(b"plain").hexdigest()


def test_one_segment_key(notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext) -> None:
    lambda_handler(s3_event(put("file.ext", b"x")), lambda_context)
    payload = notify_env.requests[0].json()
    assert (payload["datapack_identifier"], payload["path"], payload["display"]) == (
        "file.ext",
        "/",
        "file.ext",
    )


def test_uploader_filter(
    notify_env: WebhookReceiver,
    put: Put,
    lambda_context: LocalLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    log_output: Callable[[], str],
) -> None:
    archived = put("submissions/a.json", metadata={"uploaded-by": "archive-submission"})
    anonymous = put("submissions/b.json", metadata={})
    event = s3_event(archived, anonymous)
    assert lambda_handler(event, lambda_context)["skipped"] == 2
    assert notify_env.requests == []
    assert "uploader not accepted" in log_output()

    monkeypatch.setenv("ACCEPTED_UPLOADERS", "presigned-url,archive-submission")
    result = lambda_handler(event, lambda_context)
    assert (result["delivered"], result["skipped"]) == (1, 1)
    assert [request.json()["display"] for request in notify_env.requests] == ["a.json"]


def test_several_records_are_all_handled(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext
) -> None:
    records = [put(f"pack/{name}.json", name.encode()) for name in ("one", "two", "three")]
    assert lambda_handler(s3_event(*records), lambda_context)["delivered"] == 3
    displays = [request.json()["display"] for request in notify_env.requests]
    assert displays == ["one.json", "two.json", "three.json"]
    assert len({request.headers["webhook-id"] for request in notify_env.requests}) == 3


def test_duplicate_event_gets_the_same_webhook_id(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext
) -> None:
    event = s3_event(put("pack/dup.json"))
    lambda_handler(event, lambda_context)
    lambda_handler(json.loads(json.dumps(event)), lambda_context)
    first, second = notify_env.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.json() == second.json()


def test_503_then_200_is_delivered(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext
) -> None:
    notify_env.script(Reply(status=503, headers={"Retry-After": "0"}), 200)
    assert lambda_handler(s3_event(put("pack/retry.json")), lambda_context)["delivered"] == 1
    first, second = notify_env.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    Webhook(SECRET).verify(second.body, second.headers)


def test_always_500_raises_after_max_attempts(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "4")
    notify_env.script(*[500] * 10)
    with pytest.raises(NotificationFailed, match="HTTP 500"):
        lambda_handler(s3_event(put("pack/down.json")), lambda_context)
    assert len(notify_env.requests) == 4


def test_4xx_raises_after_one_attempt(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext
) -> None:
    notify_env.script(401)
    with pytest.raises(NotificationFailed, match="HTTP 401"):
        lambda_handler(s3_event(put("pack/denied.json")), lambda_context)
    assert len(notify_env.requests) == 1


def test_302_is_a_failure_and_not_followed(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext
) -> None:
    notify_env.script(Reply(status=302, headers={"Location": notify_env.url + "/moved"}))
    with pytest.raises(NotificationFailed, match="redirect"):
        lambda_handler(s3_event(put("pack/moved.json")), lambda_context)
    assert [request.path for request in notify_env.requests] == [WEBHOOK_PATH]


def test_refused_connection_raises(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_URL", refused_url())
    with pytest.raises(NotificationFailed, match="connection failed"):
        lambda_handler(s3_event(put("pack/nobody.json")), lambda_context)


def test_one_failure_does_not_stop_the_other_records(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext
) -> None:
    notify_env.script(400)
    records = [put("pack/first.json"), put("pack/second.json")]
    with pytest.raises(NotificationFailed, match=r"1 of 2 record\(s\) not delivered: pack/first.json"):
        lambda_handler(s3_event(*records), lambda_context)
    assert [request.json()["display"] for request in notify_env.requests] == ["first.json", "second.json"]


@pytest.mark.needs_s3("additional_checksums")
def test_multipart_object_is_hashed_from_its_bytes_not_its_composite_checksum(
    notify_env: WebhookReceiver,
    server_s3: S3Client,
    lambda_context: LocalLambdaContext,
    log_output: Callable[[], str],
) -> None:
    """moto's real multipart upload with SHA-256 checksums answers the hash of the part hashes without a
    `-N` suffix or a `ChecksumType`; the ETag's `-2` alone must send the function to the body."""
    key = "pack/multipart.bin"
    parts_data = [b"a" * (5 * 1024 * 1024), b"tail"]
    upload = server_s3.create_multipart_upload(
        Bucket=ARCHIVE_BUCKET, Key=key, ChecksumAlgorithm="SHA256", Metadata=UPLOADER
    )
    parts: list[CompletedPartTypeDef] = []
    for number, data in enumerate(parts_data, start=1):
        answer = server_s3.upload_part(
            Bucket=ARCHIVE_BUCKET,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm="SHA256",
        )
        parts.append(
            {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": answer["ChecksumSHA256"]}
        )
    done = server_s3.complete_multipart_upload(
        Bucket=ARCHIVE_BUCKET, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    head = server_s3.head_object(Bucket=ARCHIVE_BUCKET, Key=key, ChecksumMode="ENABLED")
    whole = hashlib.sha256(b"".join(parts_data))
    assert done["ETag"].strip('"').endswith("-2")
    assert head.get("ChecksumSHA256") and head["ChecksumSHA256"] != base64.b64encode(whole.digest()).decode()

    record = object_created_record(ARCHIVE_BUCKET, key, etag=done["ETag"], size=sum(map(len, parts_data)))
    assert lambda_handler(s3_event(record), lambda_context)["delivered"] == 1
    assert notify_env.requests[0].json()["sha256"] == whole.hexdigest()
    assert '"sha256_from_checksum":false' in log_output()


def test_missing_object_is_skipped_with_a_warning(
    notify_env: WebhookReceiver,
    put: Put,
    server_s3: S3Client,
    lambda_context: LocalLambdaContext,
    log_output: Callable[[], str],
) -> None:
    record = put("pack/gone.json")
    server_s3.delete_object(Bucket=ARCHIVE_BUCKET, Key="pack/gone.json")
    assert lambda_handler(s3_event(record), lambda_context)["skipped"] == 1
    assert notify_env.requests == []
    output = log_output()
    assert "object no longer exists" in output
    assert '"level":"WARNING"' in output


@pytest.mark.needs_s3("additional_checksums")
def test_checksum_fast_path_reads_no_body(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext
) -> None:
    body = b'{"checksummed": true}'
    record = put("pack/sum.json", body, sha256_checksum=True)
    calls: list[str] = []
    get_s3_client().meta.events.register("before-call.s3.GetObject", lambda **_: calls.append("get"))
    lambda_handler(s3_event(record), lambda_context)
    assert calls == []
    assert notify_env.requests[0].json()["sha256"] == hashlib.sha256(body).hexdigest()

    calls.clear()
    lambda_handler(s3_event(put("pack/plain.json", body)), lambda_context)
    assert calls == ["get"]
    assert notify_env.requests[1].json()["sha256"] == hashlib.sha256(body).hexdigest()


def test_secret_never_reaches_logs_metrics_or_the_exception(
    notify_env: WebhookReceiver,
    put: Put,
    lambda_context: LocalLambdaContext,
    log_output: Callable[[], str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    notify_env.script(*[Reply(status=500, body=b"echo: " + SECRET.encode())] * 3)
    with pytest.raises(NotificationFailed) as raised:
        lambda_handler(s3_event(put("pack/secret.json")), lambda_context)
    assert len(notify_env.requests) == 3
    assert SECRET.encode() not in notify_env.requests[0].body  # the signing key never travels in a body
    captured = log_output() + caplog.text + str(raised.value) + repr(raised.value)
    assert "webhook delivery failed" in captured
    assert SECRET_KEY_PART not in captured
    assert base64.b64decode(SECRET_KEY_PART).hex() not in captured


def test_body_token_is_sent_as_secret_token_when_set(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_BODY_TOKEN", "testing-handbook-token")
    lambda_handler(s3_event(put("pack/token.json")), lambda_context)
    request = notify_env.requests[0]
    assert set(request.json()) == {*FIELDS, "secret_token"}
    assert request.json()["secret_token"] == "testing-handbook-token"
    Webhook(SECRET).verify(request.body, request.headers)


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({"WEBHOOK_SECRET_IN_BODY": "true"}, "WEBHOOK_SECRET_IN_BODY is retired.*WEBHOOK_BODY_TOKEN"),
        ({"WEBHOOK_SECRET_IN_BODY": "false"}, "WEBHOOK_SECRET_IN_BODY is retired.*WEBHOOK_BODY_TOKEN"),
        ({"WEBHOOK_BODY_TOKEN": SECRET}, "WEBHOOK_BODY_TOKEN must differ from the webhook signing secret"),
    ],
    ids=["secret-in-body-true", "secret-in-body-false", "token-equals-secret"],
)
def test_body_token_misconfiguration_stops_before_anything_is_sent(
    notify_env: WebhookReceiver,
    put: Put,
    lambda_context: LocalLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str],
    problem: str,
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ServerMisconfigured, match=problem) as raised:
        lambda_handler(s3_event(put("pack/misconfigured.json")), lambda_context)
    assert SECRET_KEY_PART not in str(raised.value)
    assert notify_env.requests == []


@pytest.mark.needs_s3("keeps_encoded_words")
def test_rfc2047_uploader_metadata_is_sent_as_text(
    notify_env: WebhookReceiver, put: Put, server_s3: S3Client, lambda_context: LocalLambdaContext
) -> None:
    """S3 carries non-ASCII metadata as RFC 2047 encoded-words; the receiver gets the text."""
    metadata = {
        "uploaded-by": "presigned-url",
        "uploader-name": encode_metadata_value("Zoë Ångström-Dvořák"),
        "uploader-email": "=?utf-8?q?jos=C3=A9=40example=2Etest?=",  # the Q form decodes too
    }
    put("pack/unicode-uploader.json", metadata=metadata)
    head = server_s3.head_object(Bucket=ARCHIVE_BUCKET, Key="pack/unicode-uploader.json")
    assert head["Metadata"]["uploader-name"].startswith("=?UTF-8?B?")  # as S3 hands it back
    lambda_handler(s3_event(put("pack/unicode-uploader.json", metadata=metadata)), lambda_context)
    payload = notify_env.requests[0].json()
    assert payload["submitter_name"] == "Zoë Ångström-Dvořák"
    assert payload["submitter_email"] == "josé@example.test"


def test_missing_uploader_details_are_null_with_a_warning(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext, log_output: Callable[[], str]
) -> None:
    lambda_handler(s3_event(put("pack/anon.json", metadata={"uploaded-by": "presigned-url"})), lambda_context)
    payload = notify_env.requests[0].json()
    assert payload["submitter_name"] is None
    assert payload["submitter_email"] is None
    assert "no uploader metadata" in log_output()


def test_test_events_and_other_records_are_ignored(
    notify_env: WebhookReceiver,
    put: Put,
    lambda_context: LocalLambdaContext,
    log_output: Callable[[], str],
) -> None:
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": ARCHIVE_BUCKET}
    assert lambda_handler(test_event, lambda_context)["delivered"] == 0
    removed = put("pack/removed.json")
    removed["eventName"] = "ObjectRemoved:Delete"
    assert lambda_handler(s3_event(removed), lambda_context)["ignored"] == 1
    assert notify_env.requests == []
    out = log_output()
    assert "s3:TestEvent; nothing to do" in out
    assert "not an ObjectCreated notification; ignored" in out
    assert "ObjectRemoved:Delete" in out


def test_missing_configuration_is_a_clear_error(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEBHOOK_URL")
    with pytest.raises(ServerMisconfigured, match="WEBHOOK_URL"):
        lambda_handler(s3_event(put("pack/x.json")), lambda_context)
    monkeypatch.setenv("WEBHOOK_URL", notify_env.url)
    monkeypatch.delenv("WEBHOOK_SECRET_TOKEN")
    with pytest.raises(ServerMisconfigured, match="WEBHOOK_SECRET_TOKEN"):
        lambda_handler(s3_event(put("pack/x.json")), lambda_context)
    assert notify_env.requests == []


@pytest.mark.moto_only("SSM parameter on moto's server")
def test_secret_from_ssm_parameter(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/form-archive/webhook-secret", Value=SECRET, Type="SecureString"
    )
    monkeypatch.delenv("WEBHOOK_SECRET_TOKEN")
    monkeypatch.setenv("WEBHOOK_SECRET_PARAMETER", "/form-archive/webhook-secret")
    lambda_handler(s3_event(put("pack/ssm.json")), lambda_context)
    request = notify_env.requests[0]
    Webhook(SECRET).verify(request.body, request.headers)


def test_the_events_version_is_announced_not_the_latest(
    notify_env: WebhookReceiver, put: Put, server_s3: S3Client, lambda_context: LocalLambdaContext
) -> None:
    """In a versioned bucket the head and the read are pinned to the event's versionId."""
    server_s3.put_bucket_versioning(Bucket=ARCHIVE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first_body = b'{"version": 1}'
    first = put("pack/versioned.json", first_body)
    put("pack/versioned.json", b'{"version": 2, "longer": true}')
    assert lambda_handler(s3_event(first), lambda_context)["delivered"] == 1
    payload = notify_env.requests[0].json()
    assert payload["sha256"] == hashlib.sha256(first_body).hexdigest()
    assert payload["length"] == len(first_body)
    assert payload["etag"] == first["s3"]["object"]["eTag"]


def test_an_unversioned_object_replaced_since_the_event_is_skipped(
    notify_env: WebhookReceiver,
    put: Put,
    lambda_context: LocalLambdaContext,
    log_output: Callable[[], str],
) -> None:
    """Without versions the old bytes are gone; the newer write's own event announces the key."""
    stale = put("pack/replaced.json", b'{"old": 1}')
    newer = put("pack/replaced.json", b'{"new": 2}')
    assert lambda_handler(s3_event(stale), lambda_context)["skipped"] == 1
    assert notify_env.requests == []
    assert "object was replaced since the event" in log_output()
    assert lambda_handler(s3_event(newer), lambda_context)["delivered"] == 1
    assert notify_env.requests[0].json()["sha256"] == hashlib.sha256(b'{"new": 2}').hexdigest()


def test_an_unexpected_fault_in_one_record_does_not_stop_the_others(
    notify_env: WebhookReceiver,
    put: Put,
    lambda_context: LocalLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from notify_webhook import notification  # noqa: PLC0415
    from notify_webhook.notification import build_payload as real_build  # noqa: PLC0415

    def build_or_fail(target: Any, *args: Any) -> dict[str, Any]:
        if target.key == "pack/bad.json":
            raise RuntimeError("unexpected-detail")
        return real_build(target, *args)

    monkeypatch.setattr(notification, "build_payload", build_or_fail)
    event = s3_event(put("pack/bad.json"), put("pack/good.json"))
    with pytest.raises(
        NotificationFailed, match=r"1 of 2 .*pack/bad.json: unexpected failure \(RuntimeError\)"
    ):
        lambda_handler(event, lambda_context)
    [request] = notify_env.requests
    assert request.json()["display"] == "good.json"


@pytest.mark.moto_only("SSM parameter on moto's server")
def test_ssm_secret_is_read_once_per_container(
    notify_env: WebhookReceiver, put: Put, lambda_context: LocalLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/form-archive/cached-secret", Value=SECRET, Type="SecureString")
    monkeypatch.delenv("WEBHOOK_SECRET_TOKEN")
    monkeypatch.setenv("WEBHOOK_SECRET_PARAMETER", "/form-archive/cached-secret")
    reads: list[str] = []
    monkeypatch.setattr(
        "botocore.client.BaseClient._make_api_call",
        _recording_api_calls(reads),
    )
    for name in ("pack/cached-1.json", "pack/cached-2.json", "pack/cached-3.json"):
        assert lambda_handler(s3_event(put(name)), lambda_context)["delivered"] == 1
    assert reads.count("GetParameter") == 1
    assert len(notify_env.requests) == 3


def _recording_api_calls(calls: list[str]) -> Callable[..., Any]:
    from botocore.client import BaseClient  # noqa: PLC0415

    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def record(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    return record


@pytest.mark.parametrize("email", ["not-an-address", "jane@", "two@at@example.test"])
def test_r4_item11_an_implausible_uploader_email_is_reported_as_such(
    notify_env: WebhookReceiver,
    put: Put,
    lambda_context: LocalLambdaContext,
    log_output: Callable[[], str],
    email: str,
) -> None:
    metadata = {"uploaded-by": "presigned-url", "uploader-name": "Jane", "uploader-email": email}
    lambda_handler(s3_event(put("pack/odd-address.json", metadata=metadata)), lambda_context)
    payload = notify_env.requests[0].json()
    assert (payload["submitter_name"], payload["submitter_email"]) == ("Jane", None)
    logs = log_output()
    assert "not a plausible e-mail address" in logs and "submitter_email" in logs
    assert "no uploader metadata" not in logs
    assert f'"{email}"' not in logs, "the refused value itself is not logged"


def _b_word(text: str) -> str:
    return "=?UTF-8?B?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


@pytest.mark.parametrize(
    ("name", "email"),
    [
        (_b_word("Jane\r\nBcc: evil@example.test"), _b_word("jane@example.test\r\nX: y")),
        (_b_word("Jane\x00Doe"), _b_word("jane\x00@example.test")),
        (_b_word("Jane \u202eeoD"), _b_word("\u202ejane@example.test")),
        (_b_word("Jane\u2028Doe"), "=?UTF-8?Q?evil=40attacker.test?=@example.test"),  # two addresses
    ],
)
@pytest.mark.needs_s3("keeps_encoded_words")
def test_item2_decoded_uploader_text_that_is_not_plain_is_announced_as_null(
    notify_env: WebhookReceiver,
    put: Put,
    lambda_context: LocalLambdaContext,
    log_output: Callable[[], str],
    name: str,
    email: str,
) -> None:
    """Review round 3, item 2: an object whose metadata decodes to CR/LF, NUL, bidi overrides, a line
    separator or a second address (written by anything but the upload function, which encodes such text)
    is announced with null submitter fields and a warning, never with the decoded text."""
    metadata = {"uploaded-by": "presigned-url", "uploader-name": name, "uploader-email": email}
    lambda_handler(s3_event(put("pack/odd-uploader.json", metadata=metadata)), lambda_context)
    payload = notify_env.requests[0].json()
    assert payload["submitter_name"] is None
    assert payload["submitter_email"] is None
    assert "uploader metadata refused by the checks" in log_output()
