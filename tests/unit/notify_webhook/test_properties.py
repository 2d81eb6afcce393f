"""Properties of the notify path: any S3 key survives the event encoding and splits as documented; no
event crashes the handler except by the documented `NotificationFailed` / `UnsupportedEvent`; and the
same S3 record, wrapped any way the function accepts, gives the same webhook."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from notify_webhook.app import NotificationFailed, UnsupportedEvent, lambda_handler
from notify_webhook.object_key_parts import decode_event_key, split_key
from tests.event_wrappers import WRAPPERS, eventbridge_event, on_failure_record, sns_event
from tests.hypothesis_profiles import scaled
from tests.s3_stores import ARCHIVE_BUCKET
from tests.webhook_receiver import WebhookReceiver, object_created_record, s3_event
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

S3_MAX_KEY_BYTES = 1024
SECRET = "testing-notify-properties-secret"

# Any character S3 accepts in a key (UTF-8 encodable: no lone surrogates), with the troublesome ones
# (`+`, `%`, space, `/`, unicode, control characters) drawn often.
key_characters = st.characters(codec="utf-8") | st.sampled_from(["/", "+", "%", " ", "é", "🗂", "\t"])
segments = st.text(key_characters, max_size=12)


@st.composite
def s3_keys(draw: st.DrawFn) -> str:
    """1 to 1024 UTF-8 bytes: short free text, `/`-joined segments (empty ones give `//`), or very long."""
    kind = draw(st.sampled_from(["text", "segments", "long"]))
    if kind == "text":
        key = draw(st.text(key_characters, min_size=1, max_size=40))
    elif kind == "segments":
        key = "/".join(draw(st.lists(segments, min_size=1, max_size=8)))
    else:
        unit = draw(st.sampled_from(["a", "é", "🗂", "a/", "+%", "x y/"]))
        target = draw(st.integers(min_value=S3_MAX_KEY_BYTES - 40, max_value=S3_MAX_KEY_BYTES))
        key = unit * (target // len(unit.encode()))
    encoded = key.encode("utf-8")
    if not 1 <= len(encoded) <= S3_MAX_KEY_BYTES:
        key = encoded[:S3_MAX_KEY_BYTES].decode("utf-8", "ignore") or "k"
    return key


def event_encodings(key: str) -> list[str]:
    """How S3 puts a key into an event: form-encoded (`+` for a space), `/` kept or encoded as `%2F`."""
    return [quote_plus(key, safe="/"), quote_plus(key, safe="")]


@given(key=s3_keys())
def test_any_key_decodes_back_and_splits_as_documented(key: str) -> None:
    for raw in event_encodings(key):
        assert decode_event_key(raw) == key
    parts = split_key(key)
    segments = key.split("/")
    if len(segments) == 1:
        assert (parts.datapack_identifier, parts.path, parts.display) == (key, "/", key)
        return
    assert parts.datapack_identifier == segments[0]
    assert parts.display == segments[-1]
    assert parts.path == "/" + "/".join(segments[1:-1])
    # The key can be rebuilt from the fields, except that one empty middle segment (`a//b`) and none
    # (`a/b`) both give path "/" -- the handbook's split, kept for its receivers.
    middle = "" if parts.path == "/" else parts.path
    rebuilt = parts.datapack_identifier + middle + "/" + parts.display
    assert rebuilt == key or (len(segments) == 3 and segments[1] == "")


# ---------------------------------------------------------------------------------------- event shapes

KNOWN_KEY = "pack/sub dir/known+file.json"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
RECORD_PATHS: list[tuple[str, ...]] = [
    ("eventName",),
    ("s3",),
    ("s3", "bucket"),
    ("s3", "bucket", "name"),
    ("s3", "object"),
    ("s3", "object", "key"),
    ("s3", "object", "eTag"),
    ("s3", "object", "versionId"),
    ("s3", "object", "sequencer"),
    ("s3", "object", "size"),
]


def _mutate(record: dict[str, Any], path: tuple[str, ...], action: str, value: Any) -> None:
    parent: Any = record
    for name in path[:-1]:
        if not isinstance(parent, dict) or name not in parent:
            return
        parent = parent[name]
    if not isinstance(parent, dict):
        return
    if action == "delete":
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = value


@st.composite
def garbled_records(draw: st.DrawFn, etag: str) -> Any:
    """A real record (of the known object, or of another key or bucket), then a few fields deleted or
    replaced by values of any type."""
    record = object_created_record(
        draw(st.sampled_from([ARCHIVE_BUCKET, ARCHIVE_BUCKET, "other-bucket", ""])),
        draw(st.sampled_from([KNOWN_KEY, KNOWN_KEY]) | st.text(key_characters, max_size=20)),
        etag=draw(st.sampled_from([etag, etag, "0" * 32, ""])),
        version_id=draw(st.none() | st.sampled_from(["null", "v1"])),
        encode_slash=draw(st.booleans()),
        event_name=draw(
            st.sampled_from(["ObjectCreated:Put", "ObjectCreated:Copy", "ObjectRemoved:Delete", ""])
        ),
    )
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        _mutate(
            record,
            draw(st.sampled_from(RECORD_PATHS)),
            draw(st.sampled_from(["delete", "replace"])),
            draw(json_values),
        )
    return record


@st.composite
def events(draw: st.DrawFn, etag: str) -> Any:
    records = st.lists(garbled_records(etag) | json_values, max_size=4)
    return draw(
        st.one_of(
            json_values,  # not a dict at all, or a dict without Records
            st.fixed_dictionaries({"Records": json_values}),
            st.fixed_dictionaries({"Records": records}),
            st.fixed_dictionaries({"Records": records}, optional={"Event": json_values}),
        )
    )


@pytest.fixture
def known_object(mocked_s3: S3Client, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """In-process moto holding one announceable object; yields its ETag."""
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "1")
    answer = mocked_s3.put_object(
        Bucket=ARCHIVE_BUCKET, Key=KNOWN_KEY, Body=b"{}", Metadata={"uploaded-by": "presigned-url"}
    )
    yield answer["ETag"].strip('"')


def test_any_event_shape_returns_counts_or_raises_a_documented_error(
    known_object: str, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever arrives, the handler returns counts that add up to the records, or raises the documented
    `NotificationFailed` (undelivered or malformed records) or `UnsupportedEvent` (no known shape); never a
    TypeError/KeyError/AttributeError, and never success with nothing to show for it."""
    monkeypatch.setenv("WEBHOOK_URL", webhook_receiver.url)
    outcomes = {"returned": 0, "raised": 0, "unsupported": 0, "delivered": 0}

    @given(event=events(known_object))
    @example(event=None)  # these three crashed with AttributeError before the fix
    @example(event=["Records"])
    @example(event={"Records": ["not a record"]})
    @example(event={"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": 1}}}]})
    @example(event=float("nan"))  # found in CI: the check itself compared nan == nan
    def check(event: Any) -> None:
        original = copy.deepcopy(event)
        try:
            result = lambda_handler(event, LocalLambdaContext())
        except NotificationFailed as error:
            outcomes["raised"] += 1
            assert "record(s) not delivered" in str(error)
            assert SECRET not in str(error)
            return
        except UnsupportedEvent as error:
            outcomes["unsupported"] += 1
            assert SECRET not in str(error)
            return
        outcomes["returned"] += 1
        outcomes["delivered"] += result["delivered"]
        assert set(result) == {"delivered", "skipped", "ignored", "failed"}
        assert result["failed"] == 0
        records = event.get("Records")
        assert isinstance(records, list)
        assert records  # an event without records is refused, not answered with zeros
        assert result["delivered"] + result["skipped"] + result["ignored"] == len(records)
        assert repr(event) == repr(original)  # the handler never changes the event (repr: nan != nan)

    check()
    assert all(outcomes.values()), outcomes
    assert len(webhook_receiver.requests) >= outcomes["delivered"]


# ----------------------------------------------------------------------------------- wrapped shapes

WRAPPINGS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    **WRAPPERS,
    "on-failure-of-eventbridge": lambda notification: on_failure_record(eventbridge_event(notification)),
    "on-failure-twice": lambda notification: on_failure_record(on_failure_record(notification)),
    "on-failure-of-sns-then-sns": lambda notification: on_failure_record(sns_event(sns_event(notification))),
}
wrapped_key_characters = st.sampled_from(["a", "Z", "0", " ", "+", "%", "=", "&", "é", "🗂", "-", "."])
wrapped_keys = st.lists(st.text(wrapped_key_characters, min_size=1, max_size=6), min_size=1, max_size=4).map(
    "/".join
)


def test_the_same_record_wrapped_any_way_gives_the_same_webhook(
    mocked_s3: S3Client, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Direct, SQS, SNS, SNS->SQS, EventBridge, OnFailure records and nestings: one webhook-id, one body."""
    monkeypatch.setenv("WEBHOOK_URL", webhook_receiver.url)
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "1")
    versioned = iter(range(10**6))

    @settings(max_examples=scaled(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        key=wrapped_keys,
        wrappings=st.lists(st.sampled_from(sorted(WRAPPINGS)), min_size=1, max_size=3, unique=True),
        encode_slash=st.booleans(),
    )
    def check(key: str, wrappings: list[str], encode_slash: bool) -> None:
        body = f"object {next(versioned)}".encode()
        answer = mocked_s3.put_object(
            Bucket=ARCHIVE_BUCKET, Key=key, Body=body, Metadata={"uploaded-by": "presigned-url"}
        )
        notification = s3_event(
            object_created_record(ARCHIVE_BUCKET, key, etag=answer["ETag"], encode_slash=encode_slash)
        )
        before = len(webhook_receiver.requests)
        for name in ["direct", *wrappings]:
            result = lambda_handler(copy.deepcopy(WRAPPINGS[name](notification)), LocalLambdaContext())
            assert result in (
                {"batchItemFailures": []},
                {"delivered": 1, "skipped": 0, "ignored": 0, "failed": 0},
            )
        sent = webhook_receiver.requests[before:]
        assert len(sent) == 1 + len(wrappings)
        assert len({request.headers["webhook-id"] for request in sent}) == 1
        assert len({request.body for request in sent}) == 1
        assert sent[0].json()["display"] == key.rsplit("/", maxsplit=1)[-1]

    check()
