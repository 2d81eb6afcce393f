"""The receiver's HTTP side: a request read (loopback `Host`, bounded length), answered, its reply written.

What to answer is the receiver's (`tools.receiver.WebhookReceiver.receive`); this module only speaks
HTTP: `GET /deliveries[/last]` lists what was received, anything else is handed to the receiver, and a
scripted delay or dropped connection is carried out here.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from tools.loopback_host import REFUSAL, is_loopback_host
from tools.receiver_guard import declared_length
from tools.receiver_records import Delivery, RecordedRequest, Reply, json_reply

_LISTINGS = ("/deliveries", "/deliveries/last")


class Answering(Protocol):
    """What the HTTP side needs of the receiver."""

    stopping: threading.Event

    def receive(self, request: RecordedRequest) -> Reply: ...

    @property
    def deliveries(self) -> list[Delivery]: ...

    @property
    def last(self) -> Delivery | None: ...


class _Handler(BaseHTTPRequestHandler):
    server: ReceiverServer
    protocol_version = "HTTP/1.1"

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def _answer(self) -> None:
        if not is_loopback_host(self.headers.get("Host")):
            self.close_connection = True
            self._send(json_reply(403, {"error": REFUSAL}))
            return
        length = declared_length(self.headers.get("Content-Length"), self.headers.get("Transfer-Encoding"))
        if isinstance(length, tuple):  # refused before a byte of the body is read
            self.close_connection = True
            self._send(json_reply(length[0], {"error": length[1]}))
            return
        body = self.rfile.read(length) if length else b""
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        receiver = self.server.receiver
        reply = receiver.receive(request)
        if reply.delay_seconds and receiver.stopping.wait(reply.delay_seconds):
            return
        if reply.drop_connection:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(reply)

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        path = self.path.rstrip("/")
        if path not in _LISTINGS or not is_loopback_host(self.headers.get("Host")):
            self._answer()
            return
        receiver = self.server.receiver
        if path == "/deliveries":
            self._send(json_reply(200, [item.summary() for item in receiver.deliveries]))
        elif receiver.last is None:
            self._send(json_reply(404, {"error": "nothing delivered yet"}))
        else:
            self._send(json_reply(200, receiver.last.summary()))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: deliveries are reported through `on_delivery`, not the access log."""


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, receiver: Answering, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.receiver = receiver
