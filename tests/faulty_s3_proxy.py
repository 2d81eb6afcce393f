"""A loopback HTTP proxy in front of the S3 server (moto's or Ceph RGW) that injects S3 faults on request.

botocore talks to it exactly as to S3, so its error parsing and retries run for real: a scripted
fault answers with S3's XML error body, or forwards the request and cuts the response body short.
"""

from __future__ import annotations

import http.client
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# `Host` is forwarded as the client sent it: SigV4 signs it, and a store that checks signatures (Ceph RGW)
# refuses a request whose Host differs from the signed one.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclass
class Fault:
    """Matches requests by method and a path fragment; `times=None` means every matching request."""

    method: str
    path_contains: str = ""
    status: int = 500
    code: str = "InternalError"
    times: int | None = None
    truncate_after: int | None = None  # forward, but send only this many body bytes, then hang up
    after_forwarding: bool = False  # forward (the store applies the request), then answer the error
    hang_up: bool = False  # close the connection without any answer

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and self.path_contains in path and (self.times is None or self.times > 0)


class _ClientLeft(Exception):
    """The client closed its connection before the whole request body arrived (an abandoned request)."""


def _read_exactly(handler: BaseHTTPRequestHandler, size: int) -> bytes:
    data = handler.rfile.read(size)
    if len(data) < size:
        raise _ClientLeft
    return data


def _read_request_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The whole body; `_ClientLeft` when the client hung up before sending it all (as S3 would, the
    proxy then forwards nothing: a store must never see a request the client abandoned)."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        parts: list[bytes] = []
        while True:
            line = handler.rfile.readline()
            if not line:
                raise _ClientLeft
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(_read_exactly(handler, size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return _read_exactly(handler, length) if length else b""


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _ProxyServer
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        try:
            body = _read_request_body(self)
        except _ClientLeft:
            self.close_connection = True
            return
        fault = self.server.proxy.take_fault(self.command, self.path)
        if fault is not None and fault.hang_up:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.truncate_after is None and not fault.after_forwarding:
            self._send_error(fault)
            return
        upstream = http.client.HTTPConnection(
            self.server.proxy.upstream_host, self.server.proxy.upstream_port
        )
        try:
            # http.client adds no Host of its own when the headers carry one.
            headers = {name: value for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP}
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                headers["Content-Length"] = str(len(body))
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            payload = response.read()
        finally:
            upstream.close()
        if fault is not None and fault.after_forwarding:
            self._send_error(fault)
            return
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        # A HEAD answer has no body but announces the object's length, as S3's own does.
        length = response.getheader("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length or str(len(payload)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if fault is not None and fault.truncate_after is not None:
            self.wfile.write(payload[: fault.truncate_after])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)

    def _send_error(self, fault: Fault) -> None:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{fault.code}</Code>'
            f"<Message>injected fault</Message><RequestId>fault</RequestId></Error>"
        ).encode()
        self.send_response(fault.status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `FaultyS3Proxy.seen`."""


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, proxy: FaultyS3Proxy) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.proxy = proxy


class FaultyS3Proxy:
    """Forwards to `upstream` (the S3 server) and injects the faults it was given."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.seen: list[tuple[str, str, int | None]] = []
        self._server = _ProxyServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                    self.seen.append((method, path, fault.status))
                    return fault
            self.seen.append((method, path, None))
            return None
