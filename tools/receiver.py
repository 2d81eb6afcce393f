"""A webhook receiver on 127.0.0.1: verifies Standard Webhooks signatures and prints each delivery.

    python -m tools.receiver --port 8000 --secret testing
    python -m tools.receiver --secret whsec_OLD... --secret whsec_NEW...     (during a secret rotation)

With a secret (or several: a delivery is accepted when it verifies with any one) it does what a real
receiver should: read the exact body bytes, check the signature with the project's own
`notify_webhook.signing.verify_headers`, answer 401 when it is wrong and 200 when it is right, and print one
line per delivery on stdout (the payload's `secret_token` masked; the secret is never printed). Stop it
with Ctrl-C or SIGTERM (exit 0).

The same class serves `make demo` and the tests: it records every request as received (raw headers and
body), and answers from a script when one is given (a status, headers, a delay, a dropped connection).

    POST <path>                a delivery (default path /webhook)
    GET  /deliveries           every delivery received, as JSON
    GET  /deliveries/last      the last one: headers, payload (secret_token masked), signature_valid, status
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

# The functions' CodeUri (template.yaml), where the runner imports the handlers from too.
_FUNCTIONS = str(Path(__file__).resolve().parent.parent / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)

from notify_webhook.signing import verify_headers  # noqa: E402 - needs the path above
from tools.receiver_guard import AcceptedIds  # noqa: E402 - imports notify_webhook
from tools.receiver_http import ReceiverServer  # noqa: E402 - imports notify_webhook
from tools.receiver_records import (  # noqa: E402 - after the path, like the imports above
    Delivery,
    RecordedRequest,
    Reply,
    json_reply,
)

__all__ = [
    "MAX_UNVERIFIED_BYTES",
    "MAX_UNVERIFIED_KEPT",
    "WEBHOOK_PATH",
    "Delivery",
    "RecordedRequest",
    "Reply",
    "WebhookReceiver",
    "json_reply",
    "refused_url",
]

WEBHOOK_PATH = "/webhook"
# With a secret, requests whose signature does not verify are all counted, but only this many (and this
# many body bytes in all) are kept: anyone on this machine can POST, and junk must not grow without end.
MAX_UNVERIFIED_KEPT = 20
MAX_UNVERIFIED_BYTES = 1024 * 1024


class WebhookReceiver:
    """Records every request and answers it.

    The answer is the next scripted reply (`script`, `fail_first` 503s) when there is one; otherwise 503
    with `fail_always`; otherwise, with a `secret`, 200 for a valid signature on `path`, 401 for an invalid
    one and 404 elsewhere; without a secret, 200. `on_delivery` is called for each delivery. With a
    secret, a `webhook-id` already accepted is answered 200 once more but not handled (`receiver_guard`).
    """

    def __init__(
        self,
        secret: str | Sequence[str] | None = None,
        *,
        port: int = 0,
        path: str = WEBHOOK_PATH,
        fail_first: int = 0,
        fail_always: bool = False,
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> None:
        self._secret = None if secret is None else ((secret,) if isinstance(secret, str) else tuple(secret))
        self._path = path
        self._fail_always = fail_always
        self._on_delivery = on_delivery
        self._lock = threading.Lock()
        self._replies: deque[Reply] = deque(
            json_reply(503, {"error": "scripted failure"}) for _ in range(fail_first)
        )
        self._requests: list[RecordedRequest] = []
        self._deliveries: list[Delivery] = []
        self._accepted = AcceptedIds()
        self.unverified_count = 0
        self.unverified_not_kept = 0
        self._unverified_kept_bytes = 0
        self.stopping = threading.Event()
        self._server = ReceiverServer(self, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="webhook-receiver", daemon=True
        )
        self._started = False

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return self.base_url + self._path

    def start(self) -> None:
        self._thread.start()
        self._started = True

    def stop(self) -> None:
        self.stopping.set()
        if self._started:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._started = False
        self._server.server_close()

    def script(self, *replies: Reply | int) -> None:
        """Queue answers; a bare int is a status. Once the script is used up, the default answer applies."""
        with self._lock:
            self._replies.extend(Reply(status=item) if isinstance(item, int) else item for item in replies)

    def _default_reply(self, request: RecordedRequest, valid: bool | None) -> Reply:
        if self._fail_always:
            return json_reply(503, {"error": "scripted failure"})
        if valid is None:
            return Reply()
        if request.path != self._path:
            return json_reply(404, {"error": f"deliveries go to {self._path}"})
        return (
            json_reply(200, {"received": True}) if valid else json_reply(401, {"error": "invalid signature"})
        )

    def receive(self, request: RecordedRequest) -> Reply:
        """Record `request`, decide the answer, report the delivery."""
        valid = None if self._secret is None else verify_headers(self._secret, request.headers, request.body)
        webhook_id = request.headers.get("webhook-id") if valid and request.path == self._path else None
        with self._lock:
            if valid is False and not self._keep_unverified(request):
                return json_reply(401, {"error": "invalid signature"})
            self._requests.append(request)
            if self._accepted.seen(webhook_id):  # accepted before: not handled twice
                return json_reply(200, {"received": True, "duplicate": True})
            reply = self._replies.popleft() if self._replies else self._default_reply(request, valid)
            if 200 <= reply.status <= 299 and not reply.drop_connection:
                self._accepted.add(webhook_id)
            delivery = Delivery(
                **vars(request),
                number=len(self._deliveries) + 1,
                signature_valid=valid,
                status=0 if reply.drop_connection else reply.status,
            )
            self._deliveries.append(delivery)
        if self._on_delivery is not None:
            self._on_delivery(delivery)
        return reply

    def _keep_unverified(self, request: RecordedRequest) -> bool:
        """Count a request whose signature does not verify; whether it is still within the cap to keep."""
        self.unverified_count += 1
        kept = self.unverified_count - self.unverified_not_kept - 1
        if (
            kept >= MAX_UNVERIFIED_KEPT
            or self._unverified_kept_bytes + len(request.body) > MAX_UNVERIFIED_BYTES
        ):
            self.unverified_not_kept += 1
            return False
        self._unverified_kept_bytes += len(request.body)
        return True

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    @property
    def last(self) -> Delivery | None:
        with self._lock:
            return self._deliveries[-1] if self._deliveries else None


def refused_url() -> str:
    """A loopback URL nobody listens on: the port was just free, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{WEBHOOK_PATH}"


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _print_line(delivery: Delivery) -> None:
    print(delivery.line(), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.receiver",
        description="Receive webhooks on 127.0.0.1, verify their Standard Webhooks signatures and print one "
        "line per delivery (200 when the signature is valid, 401 when not). Ctrl-C stops it.",
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000; 0 = any free)"
    )
    parser.add_argument(
        "--secret",
        required=True,
        action="append",
        help="the secret the notify function signs with; repeat it to accept the old and the new one "
        "while the secret is rotated",
    )
    parser.add_argument("--path", default=WEBHOOK_PATH, help=f"where deliveries go (default {WEBHOOK_PATH})")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    if not args.path.startswith("/"):
        parser.error("--path must start with /")
    try:
        receiver = WebhookReceiver(args.secret, port=args.port, path=args.path, on_delivery=_print_line)
    except OSError as error:
        print(f"cannot listen on 127.0.0.1:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop)
    receiver.start()
    print(f"receiving webhooks on {receiver.url} (Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        receiver.stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
    print("receiver stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
