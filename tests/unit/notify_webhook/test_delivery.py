"""Delivery rules against a real local receiver: what is retried, how long we wait, when we give up."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from notify_webhook.delivery import (
    Delivered,
    DeliveryFailed,
    DeliveryPolicy,
    RetryNotice,
    backoff_delay,
    deliver,
    new_session,
    parse_retry_after,
)
from tests.webhook_receiver import WEBHOOK_PATH, Reply, WebhookReceiver, refused_url

BODY = b'{"sha256":"abc"}'
POLICY = DeliveryPolicy(timeout_seconds=5, max_attempts=3, backoff_base_seconds=0.5)


class Clock:
    """Fake sleep and remaining time: no test waits for real, and the deadline is under control."""

    def __init__(self, remaining: float = 600.0) -> None:
        self.remaining = remaining
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.remaining -= seconds

    def left(self) -> float:
        return self.remaining


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with new_session() as http:
        yield http


def run(
    session: requests.Session,
    url: str,
    clock: Clock,
    policy: DeliveryPolicy = POLICY,
    notices: list[RetryNotice] | None = None,
) -> Delivered:
    return deliver(
        session,
        url,
        BODY,
        lambda: {"webhook-id": "msg_1"},
        policy,
        clock.left,
        sleep=clock.sleep,
        jitter=lambda: 1.0,
        on_retry=None if notices is None else notices.append,
    )


def test_2xx_is_delivered_at_once(session: requests.Session, webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(204)
    clock = Clock()
    assert run(session, webhook_receiver.url, clock) == Delivered(status=204, attempts=1)
    [request] = webhook_receiver.requests
    assert request.method == "POST"
    assert request.body == BODY
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "msg_1"
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(
    session: requests.Session, webhook_receiver: WebhookReceiver, status: int
) -> None:
    webhook_receiver.script(status, status)
    clock = Clock()
    notices: list[RetryNotice] = []
    assert run(session, webhook_receiver.url, clock, notices=notices) == Delivered(status=200, attempts=3)
    assert clock.sleeps == [0.5, 1.0]  # exponential: base, 2 x base (jitter pinned to its maximum)
    assert [notice.reason for notice in notices] == [f"HTTP {status}"] * 2


def test_gives_up_after_max_attempts(session: requests.Session, webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(500, 500, 500, 500)
    with pytest.raises(DeliveryFailed) as raised:
        run(session, webhook_receiver.url, Clock())
    assert raised.value.attempts == 3
    assert raised.value.status == 500
    assert len(webhook_receiver.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_other_4xx_fail_at_once(
    session: requests.Session, webhook_receiver: WebhookReceiver, status: int
) -> None:
    webhook_receiver.script(status)
    with pytest.raises(DeliveryFailed, match=f"HTTP {status}") as raised:
        run(session, webhook_receiver.url, Clock())
    assert raised.value.attempts == 1
    assert len(webhook_receiver.requests) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_failures_and_never_followed(
    session: requests.Session, webhook_receiver: WebhookReceiver, status: int
) -> None:
    webhook_receiver.script(Reply(status=status, headers={"Location": webhook_receiver.url + "/elsewhere"}))
    with pytest.raises(DeliveryFailed, match="redirect") as raised:
        run(session, webhook_receiver.url, Clock())
    assert raised.value.attempts == 1
    assert [request.path for request in webhook_receiver.requests] == [WEBHOOK_PATH]


def test_retry_after_seconds_is_honoured(
    session: requests.Session, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.script(Reply(status=429, headers={"Retry-After": "7"}), 200)
    clock = Clock()
    run(session, webhook_receiver.url, clock)
    assert clock.sleeps == [7.0]


def test_retry_after_beyond_the_deadline_fails_without_sleeping(
    session: requests.Session, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.script(Reply(status=503, headers={"Retry-After": "120"}))
    clock = Clock(remaining=30)
    with pytest.raises(DeliveryFailed, match="no time left") as raised:
        run(session, webhook_receiver.url, clock)
    assert clock.sleeps == []
    assert raised.value.attempts == 1


def test_backoff_never_sleeps_past_the_remaining_time(
    session: requests.Session, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.script(500, 500, 500)
    clock = Clock(remaining=2.0)  # 1 s safety margin: the first 0.5 s pause fits, the 1 s one does not
    policy = DeliveryPolicy(timeout_seconds=5, max_attempts=5, backoff_base_seconds=0.5)
    with pytest.raises(DeliveryFailed, match="no time left"):
        run(session, webhook_receiver.url, clock, policy)
    assert clock.sleeps == [0.5]
    assert len(webhook_receiver.requests) == 2


def test_no_attempt_without_time_left(session: requests.Session, webhook_receiver: WebhookReceiver) -> None:
    with pytest.raises(DeliveryFailed, match="no time left") as raised:
        run(session, webhook_receiver.url, Clock(remaining=0.5))
    assert raised.value.attempts == 0
    assert webhook_receiver.requests == []


def test_timeouts_are_retried(session: requests.Session, webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.script(Reply(delay_seconds=5))
    policy = DeliveryPolicy(timeout_seconds=0.2, max_attempts=2, backoff_base_seconds=0.01)
    clock = Clock()
    notices: list[RetryNotice] = []
    assert run(session, webhook_receiver.url, clock, policy, notices).attempts == 2
    assert notices[0].reason.startswith("timed out")


def test_dropped_connections_are_retried(
    session: requests.Session, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.script(Reply(drop_connection=True))
    notices: list[RetryNotice] = []
    assert run(session, webhook_receiver.url, Clock(), notices=notices).attempts == 2
    assert notices[0].reason.startswith("connection failed")


def test_refused_connection_fails_after_max_attempts(session: requests.Session) -> None:
    clock = Clock()
    with pytest.raises(DeliveryFailed, match="connection failed") as raised:
        run(session, refused_url(), clock)
    assert raised.value.attempts == 3
    assert raised.value.status is None
    assert len(clock.sleeps) == 2


def test_failure_messages_never_show_the_url_query(session: requests.Session) -> None:
    url = refused_url() + "?token=hush-hush"
    with pytest.raises(DeliveryFailed) as raised:
        run(session, url, Clock(), DeliveryPolicy(max_attempts=1))
    assert "hush-hush" not in str(raised.value)
    assert raised.value.__cause__ is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("3", 3.0),
        (" 0 ", 0.0),
        ("soon", None),
        ("-5", None),
        ("\u00b2", None),  # "²": str.isdigit() says yes, float() says no
        ("\u0663", None),  # an Arabic-Indic digit, same trap
        ("Wed, 21 Oct 2015 07:28:00 GMT", 30.0),  # HTTP date, 30 s after `now`
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already past
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    now = 1445412450.0  # 2015-10-21 07:27:30 UTC
    assert parse_retry_after(value, now=now) == seconds


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = DeliveryPolicy(backoff_base_seconds=1, backoff_cap_seconds=4)
    assert [backoff_delay(n, policy, lambda: 1.0) for n in (1, 2, 3, 4)] == [1, 2, 4, 4]
    assert [backoff_delay(n, policy, lambda: 0.0) for n in (1, 2, 3)] == [0.5, 1, 2]


@pytest.mark.timeout(30)
def test_a_body_that_never_arrives_is_not_waited_for(session: requests.Session) -> None:
    """A receiver that sends a 200's headers and then holds the body back cannot keep the function
    waiting: with a read timeout of 120 s a drain would hang until the 30 s guard kills the test."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client_closed = threading.Event()

        def stall() -> None:
            connection, _ = listener.accept()
            with connection:
                _read_request(connection)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npartial")
                with contextlib.suppress(OSError):
                    if connection.recv(1) == b"":  # blocks until the client hangs up
                        client_closed.set()

        server = threading.Thread(target=stall, daemon=True)
        server.start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/webhook"
        policy = DeliveryPolicy(timeout_seconds=120, max_attempts=1)
        assert run(session, url, Clock(), policy) == Delivered(status=200, attempts=1)
        server.join(timeout=10)
        assert client_closed.is_set()


def _read_request(connection: socket.socket) -> None:
    """Headers, then exactly Content-Length bytes of body, so the next recv sees only what follows."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += connection.recv(65536)


def test_a_strange_retry_after_is_ignored_not_fatal(
    session: requests.Session, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.script(Reply(503, headers={"Retry-After": "\u00b2"}), 200)
    clock = Clock()
    assert run(session, webhook_receiver.url, clock) == Delivered(status=200, attempts=2)
    assert clock.sleeps == [0.5]


class DrippingReceiver:
    """A receiver on 127.0.0.1 that sends `at_once`, then `answer` one byte every `interval` seconds, and
    records, per connection, whether the client hung up before the whole answer was sent."""

    def __init__(self, answer: bytes, interval: float = 0.05, *, at_once: bytes = b"") -> None:
        self.answer = answer
        self.at_once = at_once
        self.interval = interval
        self.outcomes: list[str] = []  # "complete" or "client hung up", one per connection
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/webhook"

    def _serve(self) -> None:
        with contextlib.suppress(OSError):  # the listener is closed at the end of the test
            while True:
                connection, _ = self._listener.accept()
                with connection:
                    _read_request(connection)
                    connection.sendall(self.at_once)
                    self.outcomes.append(self._drip(connection))

    def _drip(self, connection: socket.socket) -> str:
        for index in range(len(self.answer)):
            try:
                connection.sendall(self.answer[index : index + 1])
                readable, _, _ = select.select([connection], [], [], self.interval)
                if readable and connection.recv(1) == b"":
                    return "client hung up"
            except OSError:
                return "client hung up"
        return "complete"

    def close(self) -> list[str]:
        """Wait (at most 10 s) for the connection being served to end, then stop; the outcomes."""
        waited = threading.Event()
        for _ in range(200):
            if self.outcomes:
                break
            waited.wait(0.05)
        self._listener.close()
        return list(self.outcomes)


SLOW_500 = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
FAST_200_HEADERS = b"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("at_once", "answer", "outcome"),
    [
        (b"", SLOW_500, "timed out (the attempt's deadline of 0.5 s passed)"),
        (FAST_200_HEADERS, b"x" * 60, "delivered"),
    ],
    ids=["drips-its-headers", "drips-its-body"],
)
def test_item3_a_dripping_receiver_is_cut_off_by_the_attempts_deadline(
    session: requests.Session, at_once: bytes, answer: bytes, outcome: str
) -> None:
    """Review round 3, item 3: one byte every 50 ms never trips a 0.5 s read timeout; the attempt's own
    deadline ends it, while the status line and headers arrive and while a body is drained. The proof is
    the receiver's: the client hung up before the answer (about 3 s of it) was complete."""
    receiver = DrippingReceiver(answer, at_once=at_once)
    policy = DeliveryPolicy(timeout_seconds=0.5, max_attempts=1)
    try:
        result: str = "delivered"
        try:
            run(session, receiver.url, Clock(), policy)
        except DeliveryFailed as error:
            result = error.reason.split(";")[0]
    finally:
        outcomes = receiver.close()
    assert result == outcome
    assert outcomes == ["client hung up"]


@pytest.mark.timeout(60)
def test_item3_the_attempts_deadline_is_bounded_by_the_remaining_time(session: requests.Session) -> None:
    """With a 10 s timeout but 1.5 s of Lambda time left (1 s kept back), the one attempt may take 0.5 s:
    the dripping answer is cut off and no second attempt is started."""
    receiver = DrippingReceiver(SLOW_500)
    try:
        with pytest.raises(DeliveryFailed) as failed:
            run(
                session,
                receiver.url,
                Clock(remaining=1.5),
                DeliveryPolicy(timeout_seconds=10, max_attempts=3),
            )
    finally:
        outcomes = receiver.close()
    assert failed.value.attempts == 1
    assert failed.value.reason.startswith("timed out (the attempt's deadline of 0.5 s passed)")
    assert outcomes == ["client hung up"]
