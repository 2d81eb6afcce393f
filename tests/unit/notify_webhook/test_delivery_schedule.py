"""The delivery schedule: waits with jitter, `Retry-After` bounded by the longest step, `410` ends it,
and the attempts due within seconds run in the invocation while later ones are handed back (against a
real receiver on 127.0.0.1; the pause is recorded, never slept)."""

from __future__ import annotations

import pytest

from notify_webhook.continuation.message import AttemptRecord
from notify_webhook.continuation.schedule import (
    DEFAULT_SCHEDULE,
    InvalidSchedule,
    parse_schedule,
)
from notify_webhook.continuation.scheduled_delivery import (
    GaveUp,
    Postponed,
    ScheduledDelivery,
    deliver_on_schedule,
)
from notify_webhook.continuation.work_queue import delay_seconds, hidden_seconds
from notify_webhook.delivery import Delivered, new_session
from notify_webhook.signing import signature_headers, verify_headers
from tests.webhook_receiver import Reply, WebhookReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"sha256":"x"}'
WEBHOOK_ID = "msg_schedule_test"


def test_the_default_schedule_lasts_about_27_6_hours_in_eight_attempts() -> None:
    assert DEFAULT_SCHEDULE.attempts == 8
    assert sum(DEFAULT_SCHEDULE.steps) == 99_305  # 27.58 hours
    assert DEFAULT_SCHEDULE.steps[:2] == (5.0, 300.0)


def test_attempt_one_is_immediate_and_attempt_k_plus_1_waits_step_k() -> None:
    schedule = parse_schedule("5,300,1800")
    assert schedule.attempts == 4
    waits = [schedule.wait_before(attempt, jitter=lambda: 0.5) for attempt in (1, 2, 3, 4)]
    assert waits == [0.0, 5.0, 300.0, 1800.0]
    assert not schedule.exhausted(3)
    assert schedule.exhausted(4)


@pytest.mark.parametrize(("jitter", "expected"), [(0.0, 270.0), (0.5, 300.0), (1.0, 330.0)])
def test_each_wait_is_jittered_by_ten_percent(jitter: float, expected: float) -> None:
    assert DEFAULT_SCHEDULE.wait_before(3, jitter=lambda: jitter) == pytest.approx(expected)


def test_retry_after_stretches_a_wait_but_never_beyond_the_longest_step() -> None:
    assert DEFAULT_SCHEDULE.wait_before(2, retry_after=120, jitter=lambda: 0.5) == 120
    assert DEFAULT_SCHEDULE.wait_before(2, retry_after=10**9, jitter=lambda: 0.5) == 36000
    # A shorter Retry-After than the schedule's step does not shorten it.
    assert DEFAULT_SCHEDULE.wait_before(4, retry_after=1, jitter=lambda: 0.5) == 1800


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("5,-1", "between 0"),
        ("", "comma-separated"),
        ("0,soon", "comma-separated"),
        ("0," * 40 + "0", "1 and"),
    ],
)
def test_a_wrong_schedule_is_refused_saying_why(text: str, problem: str) -> None:
    with pytest.raises(InvalidSchedule, match=problem):
        parse_schedule(text)


def test_sqs_delay_and_visibility_stay_within_their_limits() -> None:
    assert delay_seconds(0.2) == 1
    assert delay_seconds(0) == 0
    assert delay_seconds(36000) == 900
    assert hidden_seconds(due=1000.5, now=1000.0) == 0  # within the tolerance: handled now
    assert hidden_seconds(due=1120.0, now=1000.0) == 120
    assert hidden_seconds(due=100_000.0, now=0.0) == 43_200


class Pauses:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def run(
    receiver: WebhookReceiver,
    schedule: str,
    *,
    inline: float = 10.0,
    remaining: float = 600.0,
    first_attempt: int = 1,
) -> tuple[Delivered | Postponed | GaveUp, Pauses]:
    pauses = Pauses()
    plan = ScheduledDelivery(
        url=receiver.url,
        schedule=parse_schedule(schedule),
        timeout_seconds=5.0,
        inline_wait_seconds=inline,
        sleep=pauses,
        jitter=lambda: 0.5,
    )
    with new_session() as session:
        outcome = deliver_on_schedule(
            session,
            plan,
            BODY,
            lambda: signature_headers(SECRET, WEBHOOK_ID, BODY),
            lambda: remaining,
            first_attempt=first_attempt,
        )
    return outcome, pauses


def test_attempts_due_within_seconds_run_in_the_invocation(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(500, 503)
    outcome, pauses = run(webhook_receiver, "1,2,300")
    assert outcome == Delivered(status=200, attempts=3)
    assert pauses.seconds == [1.0, 2.0]
    requests = webhook_receiver.requests
    assert [request.headers["webhook-id"] for request in requests] == [WEBHOOK_ID] * 3
    assert all(verify_headers(SECRET, request.headers, request.body) for request in requests)


def test_a_later_attempt_is_handed_back_with_its_wait(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(500, 500)
    outcome, pauses = run(webhook_receiver, "5,300,1800")
    assert isinstance(outcome, Postponed)
    assert (outcome.attempt, outcome.wait_seconds) == (3, 300.0)
    assert [record.attempt for record in outcome.history] == [1, 2]
    assert [record.reason for record in outcome.history] == ["HTTP 500", "HTTP 500"]
    assert pauses.seconds == [5.0]
    assert len(webhook_receiver.requests) == 2


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_120_is_honoured(webhook_receiver: WebhookReceiver, status: int) -> None:
    webhook_receiver.script(Reply(status=status, headers={"Retry-After": "120"}))
    outcome, pauses = run(webhook_receiver, DEFAULT_SCHEDULE_TEXT)
    assert isinstance(outcome, Postponed)
    assert (outcome.attempt, outcome.wait_seconds) == (2, 120.0)
    assert pauses.seconds == []


def test_410_gone_ends_the_schedule_at_once(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(410)
    outcome, _ = run(webhook_receiver, DEFAULT_SCHEDULE_TEXT)
    assert isinstance(outcome, GaveUp)
    assert outcome.receiver_gone
    assert outcome.attempts == 1
    assert "410 Gone" in outcome.reason
    assert len(webhook_receiver.requests) == 1


def test_the_last_failed_attempt_of_the_schedule_gives_up_with_the_history(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.script(500, 500, 500)
    outcome, _ = run(webhook_receiver, "0.01,0.02")
    assert isinstance(outcome, GaveUp)
    assert not outcome.receiver_gone
    assert outcome.attempts == 3
    assert outcome.reason == "schedule exhausted after 3 attempts; last: HTTP 500"
    assert [record.attempt for record in outcome.history] == [1, 2, 3]


def test_a_resumed_delivery_continues_the_attempt_count(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(500)
    outcome, _ = run(webhook_receiver, "5,300,1800", first_attempt=3)
    assert isinstance(outcome, Postponed)
    assert outcome.attempt == 4
    assert outcome.history == (AttemptRecord(3, outcome.history[0].at, "HTTP 500"),)


def test_no_time_left_hands_the_attempt_back_without_sending(webhook_receiver: WebhookReceiver) -> None:
    outcome, _ = run(webhook_receiver, "5", remaining=0.5)
    assert outcome == Postponed(1, 0.0, ())
    assert webhook_receiver.requests == []


def test_a_4xx_other_than_410_is_retried_on_the_schedule(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(400, 401)
    outcome, _ = run(webhook_receiver, "0,300")
    assert isinstance(outcome, Postponed)
    assert outcome.attempt == 3


DEFAULT_SCHEDULE_TEXT = "5,300,1800,7200,18000,36000,36000"
