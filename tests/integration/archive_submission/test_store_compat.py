"""The archive on S3 stores that do less than S3, over real HTTP (moto's server, or Ceph RGW with
FORM_ARCHIVE_TEST_S3=rgw): no additional checksums, and `If-None-Match: *` ignored in a versioned bucket.

Where the store under test does what S3 does, a botocore hook on the function's own client makes it look
like one that does not: the checksum is dropped from HEAD answers, or `If-None-Match` from the put before it
is signed. A request racing past the look-up before the write is played by the fault proxy answering that
look-up with 404 while the object is there.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from archive_submission.app import _warn_conditional_write_ignored, lambda_handler
from archive_submission.object_key import build_idempotent_object_key, idempotent_submission_id
from form_archive_contract.s3 import get_s3_client
from tests.api_events import api_event
from tests.faulty_s3_proxy import Fault, FaultyS3Proxy
from tests.s3_capabilities import S3Capabilities
from tests.s3_stores import ARCHIVE_BUCKET
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

IGNORED_WARNING = "the S3 store accepted a conditional write (If-None-Match: *) over an existing object"


@pytest.fixture(autouse=True)
def archive_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ARCHIVE_BUCKET", ARCHIVE_BUCKET)
    monkeypatch.setenv("ARCHIVE_PREFIX", "submissions")
    monkeypatch.delenv("MAX_SUBMISSION_BYTES", raising=False)
    _warn_conditional_write_ignored.cache_clear()  # once per container: each test is a fresh container
    yield
    _warn_conditional_write_ignored.cache_clear()


def post(body: str, idempotency_key: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key}
    response = lambda_handler(api_event(body, headers=headers), LocalLambdaContext(function_name="archive"))
    answer_headers = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
    answer_headers.update(response.get("headers") or {})
    return response["statusCode"], json.loads(response["body"]), answer_headers


def versions(client: S3Client, key: str) -> list[bytes]:
    """The bodies of `key`'s versions, oldest first."""
    listed = client.list_object_versions(Bucket=ARCHIVE_BUCKET, Prefix=key).get("Versions", [])
    return [
        client.get_object(Bucket=ARCHIVE_BUCKET, Key=key, VersionId=item["VersionId"])["Body"].read()
        for item in reversed(listed)
        if item["Key"] == key
    ]


def calls_to_in_order(operations: tuple[str, ...]) -> list[str]:
    """Records, in order, each call the function's client makes to any of `operations`."""
    calls: list[str] = []
    for operation in operations:
        get_s3_client().meta.events.register(
            f"before-call.s3.{operation}", lambda _name=operation, **_: calls.append(_name)
        )
    return calls


def calls_to(operation: str) -> list[str]:
    """Records each call the function's client makes to `operation`."""
    calls: list[str] = []
    get_s3_client().meta.events.register(f"before-call.s3.{operation}", lambda **_: calls.append(operation))
    return calls


def versioned(client: S3Client) -> None:
    client.put_bucket_versioning(Bucket=ARCHIVE_BUCKET, VersioningConfiguration={"Status": "Enabled"})


def race_past_the_look_up(faulty_s3: FaultyS3Proxy) -> None:
    """The next request's look-up (a HEAD of its key) finds nothing, as when its retry's twin is written
    just after it."""
    faulty_s3.inject(Fault("HEAD", "/idem-", status=404, code="NotFound", times=1))


def make_the_store_ignore_if_none_match(capabilities: S3Capabilities) -> None:
    """A store that honours If-None-Match in a versioned bucket plays one that does not: the header is
    dropped before the put is signed. (Ceph RGW 16 ignores it by itself.)"""
    if not capabilities.if_none_match_in_versioned_buckets:
        return

    def drop(request: Any, **_: Any) -> None:
        del request.headers["If-None-Match"]

    get_s3_client().meta.events.register("before-sign.s3.PutObject", drop)


# ---------------------------------------------------------------------------- without additional checksums


@pytest.fixture
def no_checksums(server_s3: S3Client) -> None:
    """HEAD answers carry no x-amz-checksum-sha256, as on a store without additional checksums."""

    def drop(parsed: dict[str, Any], **_: Any) -> None:
        parsed.pop("ChecksumSHA256", None)

    get_s3_client().meta.events.register("after-call.s3.HeadObject", drop)


def test_without_checksums_a_retry_is_replayed_by_reading_the_stored_body(no_checksums: None) -> None:
    first = post('{"order": 1}', "no-sums-same")
    reads = calls_to("GetObject")
    replay = post('{"order": 1}', "no-sums-same")
    assert first[0] == replay[0] == 201
    assert replay[1] == first[1]
    assert replay[2].get("Idempotent-Replayed") == "true"
    assert reads == ["GetObject"]


def test_without_checksums_another_body_of_the_same_length_conflicts(
    no_checksums: None, server_s3: S3Client
) -> None:
    first = post('{"order": 1}', "no-sums-other")
    conflict = post('{"order": 2}', "no-sums-other")
    assert (first[0], conflict[0]) == (201, 409)
    assert "different body" in conflict[1]["error"]
    assert versions(server_s3, first[1]["key"]) == [b'{"order": 1}']


def test_without_checksums_another_length_conflicts_without_reading(no_checksums: None) -> None:
    assert post('{"order": 1}', "no-sums-length")[0] == 201
    reads = calls_to("GetObject")
    assert post('{"order": 12345}', "no-sums-length")[0] == 409
    assert reads == []


# --------------------------------------------------------------------------------- versioned buckets


def test_versioned_bucket_another_body_conflicts_and_adds_no_version(
    server_s3: S3Client, log_output: Callable[[], str]
) -> None:
    """The look-up before the write answers 409 on every store, even one that ignores If-None-Match."""
    versioned(server_s3)
    first = post('{"a": 1}', "versioned-other")
    conflict = post('{"a": 2}', "versioned-other")
    replay = post('{"a": 1}', "versioned-other")
    assert (first[0], conflict[0], replay[0]) == (201, 409, 201)
    assert versions(server_s3, first[1]["key"]) == [b'{"a": 1}']
    assert IGNORED_WARNING not in log_output()


@pytest.mark.needs_s3("if_none_match_in_versioned_buckets")
def test_a_new_key_costs_one_conditional_write_once_the_store_is_known(server_s3: S3Client) -> None:
    """The first keyed request of a container probes once whether the store refuses a conditional
    overwrite, then looks (a HEAD, with the write: the bucket's versioning is not known yet) and writes.
    After that, in an unversioned bucket on such a store, a new key is one PutObject: no HEAD, no
    listing; a replay is the refused write and one HEAD."""
    assert post('{"a": 1}', "learns-the-store")[0] == 201
    record = calls_to_in_order(("PutObject", "HeadObject", "ListObjectVersions", "GetObject"))
    fresh = post('{"a": 2}', "one-write")
    assert fresh[0] == 201
    assert record == ["PutObject"]
    record.clear()
    replay = post('{"a": 2}', "one-write")
    assert (replay[0], replay[1]) == (201, fresh[1])
    assert record == ["PutObject", "HeadObject"]


@pytest.mark.needs_s3("if_none_match_in_versioned_buckets")
def test_a_versioned_bucket_looks_with_the_write(server_s3: S3Client) -> None:
    """In a versioned bucket a delete marker can hide the first version, over which S3 accepts a
    conditional write; one HEAD, sent with the write, finds it. A new key is that HEAD and one PutObject,
    a replay the HEAD and a PutObject abandoned before its body (no version added)."""
    versioned(server_s3)
    assert post('{"a": 1}', "learns-the-store")[0] == 201
    record = calls_to_in_order(("PutObject", "HeadObject", "ListObjectVersions", "GetObject"))
    fresh = post('{"a": 2}', "versioned-one-write")
    assert fresh[0] == 201
    assert sorted(record) == ["HeadObject", "PutObject"]  # concurrent: either may start first
    record.clear()
    assert post('{"a": 2}', "versioned-one-write")[0] == 201
    assert sorted(record) == ["HeadObject", "PutObject"]
    assert versions(server_s3, fresh[1]["key"]) == [b'{"a": 2}']


def hold_the_look_until_the_write_is_sent(seconds_after: float = 0.0) -> list[bool]:
    """The function's HEAD waits (up to 10 s) until its PutObject has gone out, then `seconds_after`
    more; the list gets True when the write had gone out first (the look travelled with it)."""
    put_sent = threading.Event()
    overlapped: list[bool] = []

    def hold(**_: Any) -> None:
        overlapped.append(put_sent.wait(10))
        time.sleep(seconds_after)

    def sent(request: Any, **_: Any) -> None:
        if "/idem-" in request.url:  # the keyed object's put, not the store's probe
            put_sent.set()

    get_s3_client().meta.events.register("before-send.s3.PutObject", sent)
    get_s3_client().meta.events.register("before-send.s3.HeadObject", hold)
    return overlapped


def test_before_the_bucket_is_known_the_look_travels_with_the_write_on_every_store(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client
) -> None:
    """A container's first keyed request does not know yet whether the bucket keeps versions (an
    unversioned bucket here, so every store in the suite refuses the overwrite): it takes the versioned
    path, its HEAD beside the put. A HEAD that fails abandons the put unsent, and a later one that finds
    nothing lets it write."""
    puts: list[str] = []
    get_s3_client().meta.events.register(
        "before-send.s3.PutObject", lambda request, **_: puts.append(request.url.rsplit("/", 1)[-1])
    )
    faulty_s3.inject(Fault("HEAD", "/idem-", status=403, code="AccessDenied", times=1))
    assert post('{"a": 1}', "first-of-the-container")[0] == 502
    key = build_idempotent_object_key("submissions", idempotent_submission_id("first-of-the-container"))
    assert versions(server_s3, key) == []
    assert [method for method, path, _ in faulty_s3.seen if key in path] == ["HEAD"]  # no whole put
    overlapped = hold_the_look_until_the_write_is_sent()
    assert post('{"a": 1}', "first-of-the-container")[0] == 201
    assert overlapped == [True]
    assert [name for name in puts if name.startswith("idem-")] == [key.rsplit("/", 1)[-1]] * 2
    assert versions(server_s3, key) == [b'{"a": 1}']


@pytest.mark.needs_s3("if_none_match_in_versioned_buckets")
def test_the_look_travels_with_the_write(server_s3: S3Client) -> None:
    """A new key's HEAD does not delay its write: the PutObject goes out while the HEAD is still held."""
    versioned(server_s3)
    assert post('{"a": 1}', "learns-the-store-too")[0] == 201
    overlapped = hold_the_look_until_the_write_is_sent()
    fresh = post('{"a": 2}', "sent-together")
    assert fresh[0] == 201
    assert overlapped == [True]
    assert versions(server_s3, fresh[1]["key"]) == [b'{"a": 2}']


@pytest.mark.needs_s3("if_none_match_in_versioned_buckets")
def test_a_delete_marker_found_by_a_slow_look_stops_the_write_it_travelled_with(server_s3: S3Client) -> None:
    """The write's headers are out (the store has answered 100 Continue) long before the look answers,
    and the look finds a delete marker: the body is never sent, so nothing is written, and the
    first body still decides (409 for another body, 201 for the same)."""
    versioned(server_s3)
    first = post('{"a": 1}', "deleted-while-looking")
    key = first[1]["key"]
    server_s3.delete_object(Bucket=ARCHIVE_BUCKET, Key=key)
    overlapped = hold_the_look_until_the_write_is_sent(seconds_after=0.5)
    conflict = post('{"a": 2}', "deleted-while-looking")
    replay = post('{"a": 1}', "deleted-while-looking")
    assert (first[0], conflict[0], replay[0]) == (201, 409, 201)
    assert len(overlapped) >= 2  # each post's look (and the HEADs of the versions that answer it)
    assert all(overlapped)
    assert versions(server_s3, key) == [b'{"a": 1}']
    markers = server_s3.list_object_versions(Bucket=ARCHIVE_BUCKET, Prefix=key).get("DeleteMarkers", [])
    assert [marker["IsLatest"] for marker in markers] == [True]


@pytest.mark.needs_s3("if_none_match_in_versioned_buckets")
def test_a_look_that_fails_abandons_its_write_unsent_and_unretried(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client
) -> None:
    """The store refuses the HEAD (403, not retried): the answer is 502, the PutObject that went out beside it
    is abandoned once (not retried) and writes nothing."""
    versioned(server_s3)
    assert post('{"a": 1}', "learns-the-store")[0] == 201
    attempts: list[str] = []
    get_s3_client().meta.events.register("before-send.s3.PutObject", lambda **_: attempts.append("put"))
    faulty_s3.inject(Fault("HEAD", "/idem-", status=403, code="AccessDenied", times=1))
    status, _, _ = post('{"a": 2}', "look-failed")
    assert status == 502
    assert attempts == ["put"]
    key = build_idempotent_object_key("submissions", idempotent_submission_id("look-failed"))
    assert versions(server_s3, key) == []
    # The proxy never received the put whole: its body was not sent.
    assert [method for method, path, _ in faulty_s3.seen if key in path] == ["HEAD"]


def test_a_store_ignoring_if_none_match_is_noticed_once_and_the_first_body_wins(
    faulty_s3: FaultyS3Proxy,
    server_s3: S3Client,
    s3_capabilities: S3Capabilities,
    log_output: Callable[[], str],
) -> None:
    versioned(server_s3)
    make_the_store_ignore_if_none_match(s3_capabilities)
    first = post('{"a": 1}', "raced")
    race_past_the_look_up(faulty_s3)
    conflict = post('{"a": 2}', "raced")
    race_past_the_look_up(faulty_s3)
    replay = post('{"a": 1}', "raced")
    assert (first[0], conflict[0], replay[0]) == (201, 409, 201)
    assert "different body" in conflict[1]["error"]
    assert replay[1] == first[1]
    assert replay[2].get("Idempotent-Replayed") == "true"
    # The store kept every write as a version; the first one stays the oldest.
    assert versions(server_s3, first[1]["key"]) == [b'{"a": 1}', b'{"a": 2}', b'{"a": 1}']
    logs = log_output()
    assert logs.count(IGNORED_WARNING) == 1
    assert '"level":"WARNING"' in logs


@pytest.mark.needs_s3("if_none_match_in_versioned_buckets")
def test_a_store_honouring_if_none_match_refuses_the_racing_write(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client, log_output: Callable[[], str]
) -> None:
    versioned(server_s3)
    first = post('{"a": 1}', "raced-refused")
    race_past_the_look_up(faulty_s3)
    conflict = post('{"a": 2}', "raced-refused")
    assert (first[0], conflict[0]) == (201, 409)
    assert versions(server_s3, first[1]["key"]) == [b'{"a": 1}']
    assert IGNORED_WARNING not in log_output()


def test_item4_a_key_reused_after_its_object_was_deleted_writes_nothing(server_s3: S3Client) -> None:
    """Review round 3, item 4: in a versioned bucket a deleted submission is a delete marker over its
    first version. Reusing the key with another body is a 409 that writes nothing (no new version, so
    nothing is announced); the same body is still the first request's answer."""
    versioned(server_s3)
    first = post('{"a": 1}', "deleted-then-reused")
    key = first[1]["key"]
    server_s3.delete_object(Bucket=ARCHIVE_BUCKET, Key=key)
    conflict = post('{"a": 2}', "deleted-then-reused")
    replay = post('{"a": 1}', "deleted-then-reused")
    assert (first[0], conflict[0], replay[0]) == (201, 409, 201)
    assert replay[1] == first[1]
    assert versions(server_s3, key) == [b'{"a": 1}']
    markers = server_s3.list_object_versions(Bucket=ARCHIVE_BUCKET, Prefix=key).get("DeleteMarkers", [])
    assert [marker["IsLatest"] for marker in markers] == [True]  # still deleted: nothing new is current


def test_item5_on_a_store_ignoring_if_none_match_the_oldest_version_wins_on_every_retry(
    server_s3: S3Client, s3_capabilities: S3Capabilities
) -> None:
    """Review round 3, item 5: two requests raced on a store that ignores `If-None-Match` (Ceph RGW 16 in a
    versioned bucket), so the second body landed as a newer version above the first. Every retry is
    answered from the oldest version: the first body is replayed, the second gets 409, and nothing more
    is written."""
    versioned(server_s3)
    make_the_store_ignore_if_none_match(s3_capabilities)
    first = post('{"a": 1}', "raced-then-retried")
    key = first[1]["key"]
    # The racing twin's write, landing on top as the store ignored its If-None-Match.
    server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=b'{"a": 2}', ContentType="application/json")
    for _ in range(2):
        first_retry = post('{"a": 1}', "raced-then-retried")
        second_retry = post('{"a": 2}', "raced-then-retried")
        assert (first_retry[0], second_retry[0]) == (201, 409)
        assert first_retry[1] == first[1]
    assert versions(server_s3, key) == [b'{"a": 1}', b'{"a": 2}']


def test_item5_the_first_writer_of_a_race_is_answered_201(
    server_s3: S3Client, s3_capabilities: S3Capabilities
) -> None:
    """Review round 3, item 5 (found with it): on a store that ignores `If-None-Match`, the racing twin's
    write can land between this request's write and its check of the key's versions. This request's
    version is still the oldest: it is answered 201, and the twin's retry gets 409."""
    versioned(server_s3)
    make_the_store_ignore_if_none_match(s3_capabilities)
    twin = {"left": 1}

    def twin_writes_after(**_: Any) -> None:
        if twin["left"]:
            twin["left"] -= 1
            server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key=written_key, Body=b'{"a": 2}')

    written_key = build_idempotent_object_key("submissions", idempotent_submission_id("raced-first"))
    assert post('{"b": 1}', "learns-the-store")[0] == 201  # the probe's writes are not the twin's cue
    get_s3_client().meta.events.register("after-call.s3.PutObject", twin_writes_after)
    first = post('{"a": 1}', "raced-first")
    get_s3_client().meta.events.unregister("after-call.s3.PutObject", twin_writes_after)
    assert first[0] == 201
    assert first[2].get("Idempotent-Replayed") is None
    assert versions(server_s3, written_key) == [b'{"a": 1}', b'{"a": 2}']
    assert post('{"a": 2}', "raced-first")[0] == 409
    assert post('{"a": 1}', "raced-first")[0] == 201
