"""`make replay` reads what the notify function parks itself (schedule exhausted, 410, a refused
continuation): keys, reason, attempts, the history and the webhook-id; a replay that goes back on the
schedule counts as handled."""

from __future__ import annotations

import json

from notify_webhook.continuation.message import AttemptRecord
from notify_webhook.continuation.parking import object_event, parked_record
from notify_webhook.continuation.pinned import PinnedObject
from tools.replay.record import parse_record
from tools.replay.run import handled_nothing

TARGET = PinnedObject("archive", "pack/a b+c.json", "v1", "abc", 10, "0062E99A88DC407460")
HISTORY = (AttemptRecord(1, 1_800_000_000.0, "HTTP 503"), AttemptRecord(2, 1_800_000_005.0, "HTTP 410"))


def test_a_record_the_function_parked_lists_keys_reason_attempts_and_history() -> None:
    record = parked_record(
        object_event(TARGET),
        "WebhookGone",
        "HTTP 410 Gone: the receiver refuses this webhook (attempt 2)",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:notify",
        request_id="request-1",
        attempts=2,
        history=HISTORY,
        webhook_id="msg_1",
    )
    parsed = parse_record(json.dumps(record))
    assert parsed.keys == ("pack/a b+c.json",)
    assert parsed.reason == "WebhookGone: HTTP 410 Gone: the receiver refuses this webhook (attempt 2)"
    assert parsed.attempts == 2
    assert parsed.condition == "ContinuationParked"
    assert parsed.webhook_id == "msg_1"
    assert [item["reason"] for item in parsed.history] == ["HTTP 503", "HTTP 410"]


def test_a_refused_continuation_is_a_record_without_keys() -> None:
    record = parked_record(
        {"form_archive_continuation": 1, "work": "{}", "mac": "x"},
        "ContinuationRefused",
        "continuation's MAC does not match: forged or altered on the queue",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:notify",
        request_id=None,
    )
    parsed = parse_record(json.dumps(record))
    assert parsed.keys == ()
    assert parsed.reason.startswith("ContinuationRefused: continuation's MAC does not match")


def test_a_replay_handed_back_to_the_schedule_counts_as_handled() -> None:
    parsed = parse_record(
        json.dumps(parked_record(object_event(TARGET), "X", "y", function_arn="a", request_id="r"))
    )
    assert not handled_nothing(
        {"delivered": 0, "skipped": 0, "ignored": 0, "postponed": 1, "failed": 0}, parsed
    )
    assert handled_nothing({"delivered": 0, "skipped": 0, "ignored": 0, "failed": 0}, parsed)
