"""The demo's webhook receiver: a small HTTP server on 127.0.0.1 that checks Standard Webhooks signatures.

It is what a real receiver should do, kept small: read the exact body bytes, verify `webhook-signature`
with the project's own `notify_webhook.signing.verify_signature` (the same secret the notify function
signs with), answer 401 when the signature is wrong and 200 when it is right. For demonstrating retries
it can answer 503 to the first N deliveries, or to all of them.

    POST <url>                 a delivery (the URL the notify function is given, path /webhook)
    GET  /deliveries           every delivery received, as JSON
    GET  /deliveries/last      the last one: headers, payload (secret_token masked), signature_valid, status
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# The functions' CodeUri (template.yaml), where the runner imports the handlers from too.
_FUNCTIONS = str(Path(__file__).resolve().parent.parent / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)

from notify_webhook.signing import verify_signature  # noqa: E402 - needs the path above

WEBHOOK_PATH = "/webhook"
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MASK = "***"


@dataclass(frozen=True)
class Delivery:
    """One POST as received, with the receiver's verdict and answer."""

    number: int
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    signature_valid: bool
    status: int  # what the receiver answered

    def payload(self) -> Any:
        """The JSON body, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def summary(self) -> dict[str, Any]:
        """What GET /deliveries shows: the payload with `secret_token` masked, never the secret itself."""
        payload = self.payload()
        if isinstance(payload, dict) and "secret_token" in payload:
            payload = {**payload, "secret_token": MASK}
        return {
            "number": self.number,
            "path": self.path,
            "status": self.status,
            "signature_valid": self.signature_valid,
            "headers": {name: self.headers.get(name) for name in SIGNATURE_HEADERS},
            "payload": payload,
        }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _reply(self, status: int, document: Any) -> None:
        body = json.dumps(document, indent=2).encode("utf-8") + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        delivery = self.server.receiver.receive(self.path, headers, body)
        if delivery.status == 200:
            self._reply(200, {"received": True})
        elif delivery.status == 401:
            self._reply(401, {"error": "invalid webhook signature"})
        else:
            self._reply(delivery.status, {"error": "scripted failure (demo)"})

    def do_GET(self) -> None:
        receiver = self.server.receiver
        if self.path.rstrip("/") == "/deliveries":
            self._reply(200, [item.summary() for item in receiver.deliveries])
        elif self.path.rstrip("/") == "/deliveries/last":
            last = receiver.last
            if last is None:
                self._reply(404, {"error": "nothing delivered yet"})
            else:
                self._reply(200, last.summary())
        else:
            self._reply(404, {"error": "GET /deliveries or /deliveries/last"})

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the demo prints its own lines about each delivery."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, receiver: DemoReceiver, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.receiver = receiver


class DemoReceiver:
    """Verifies every delivery with `secret`; answers 503 to the first `fail_first` ones (all with
    `fail_always`), 401 to a bad signature, else 200. `on_delivery` is called for each one."""

    def __init__(
        self,
        secret: str,
        *,
        fail_first: int = 0,
        fail_always: bool = False,
        port: int = 0,
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> None:
        self._secret = secret
        self._fail_remaining = fail_first
        self._fail_always = fail_always
        self._on_delivery = on_delivery
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._server = _Server(self, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="demo-webhook-receiver", daemon=True
        )
        self._started = False

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return self.base_url + WEBHOOK_PATH

    def start(self) -> None:
        self._thread.start()
        self._started = True

    def stop(self) -> None:
        if self._started:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._started = False
        self._server.server_close()

    def receive(self, path: str, headers: dict[str, str], body: bytes) -> Delivery:
        valid = all(name in headers for name in SIGNATURE_HEADERS) and verify_signature(
            self._secret,
            headers["webhook-id"],
            headers["webhook-timestamp"],
            body,
            headers["webhook-signature"],
        )
        with self._lock:
            if self._fail_always:
                status = 503
            elif self._fail_remaining > 0:
                self._fail_remaining -= 1
                status = 503
            elif path != WEBHOOK_PATH:
                status = 404
            else:
                status = 200 if valid else 401
            delivery = Delivery(
                number=len(self._deliveries) + 1,
                path=path,
                headers=headers,
                body=body,
                signature_valid=valid,
                status=status,
            )
            self._deliveries.append(delivery)
        if self._on_delivery is not None:
            self._on_delivery(delivery)
        return delivery

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    @property
    def last(self) -> Delivery | None:
        with self._lock:
            return self._deliveries[-1] if self._deliveries else None
