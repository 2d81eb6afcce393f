"""A TCP proxy that makes a loopback store look like S3 seen from a Lambda function or a browser: every
connection is capped at `rate` MiB/s in each direction (answers, and request bodies such as an upload's)
and every answer's first byte comes `first_byte_ms` after its request.

`python -m bench.throttle --upstream http://127.0.0.1:PORT --rate-mib 32 --first-byte-ms 20` listens on
127.0.0.1 and a free port, prints its endpoint URL on one line, and runs until its standard input closes.
It runs in its own process, so its CPU is not counted as the client's. The parent side is
`throttle_proxy()`, a context manager that always stops the child.

The proxy works on bytes, not on HTTP: a request is "client bytes after the answer began", which is
exact for the one-request-at-a-time keep-alive connections botocore and urllib3 use.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.child import endpoint_process

READY_PREFIX = "PROXY_ENDPOINT "
MIB = 1024 * 1024
CHUNK = 128 * 1024  # 4 ms at 32 MiB/s: pacing stays smooth, syscalls stay few
# Request bodies (uploads) in larger reads: six capped uploads cost the proxy 12 % of a core, not 20 %.
UPLOAD_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    rate_bytes_s: float
    first_byte_s: float
    burst_bytes: int = 0  # each answer's first bytes go out unpaced (buffered while it waited)


class _Pacer:
    """Shared by a connection's two directions: a request (client bytes) arms the first-byte delay, and
    the answer is paced from then on at the connection's rate."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._request_at: float | None = None
        self._free_at = 0.0  # when the connection may send its next bytes
        self._upload_free_at = 0.0  # the same for the client's bytes (request bodies)
        self._burst_left = 0

    def request_seen(self) -> None:
        with self._lock:
            if self._request_at is None:
                self._request_at = time.monotonic()

    def before_upload(self, size: int) -> float:
        """Seconds to wait before `size` request bytes may go on: a request body (an upload) is capped at
        the same rate, in its own direction."""
        with self._lock:
            now = time.monotonic()
            send_at = max(self._upload_free_at, now)
            self._upload_free_at = send_at + size / self.limits.rate_bytes_s
        return send_at - now

    def before_send(self, size: int) -> float:
        """Seconds to wait before `size` answer bytes may go out.

        No credit builds up while the store is slow to produce bytes (moto sends its headers, then reads
        the whole object): a capped connection never bursts above its rate, it only ever waits."""
        with self._lock:
            now = time.monotonic()
            if self._request_at is not None:  # the first bytes of a new answer
                self._free_at = self._request_at + self.limits.first_byte_s
                self._request_at = None
                self._burst_left = self.limits.burst_bytes
            send_at = max(self._free_at, now)
            unpaced = min(size, self._burst_left)
            self._burst_left -= unpaced
            self._free_at = send_at + (size - unpaced) / self.limits.rate_bytes_s
        return send_at - now


def _pipe_requests(client: socket.socket, upstream: socket.socket, pacer: _Pacer) -> None:
    with contextlib.suppress(OSError):
        while data := client.recv(UPLOAD_CHUNK):
            pacer.request_seen()
            wait = pacer.before_upload(len(data))
            if wait > 0:
                time.sleep(wait)
            upstream.sendall(data)
    with contextlib.suppress(OSError):
        upstream.shutdown(socket.SHUT_WR)


def _pipe_answers(upstream: socket.socket, client: socket.socket, pacer: _Pacer) -> None:
    with contextlib.suppress(OSError):
        while data := upstream.recv(CHUNK):
            wait = pacer.before_send(len(data))
            if wait > 0:
                time.sleep(wait)
            client.sendall(data)
    with contextlib.suppress(OSError):
        client.shutdown(socket.SHUT_WR)


def _connection(client: socket.socket, upstream_address: tuple[str, int], limits: Limits) -> None:
    with client, socket.create_connection(upstream_address) as upstream:
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pacer = _Pacer(limits)
        requests = threading.Thread(target=_pipe_requests, args=(client, upstream, pacer), daemon=True)
        requests.start()
        _pipe_answers(upstream, client, pacer)
        requests.join()


def serve(upstream: str, limits: Limits) -> None:
    parts = urlsplit(upstream)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    listener = socket.create_server(("127.0.0.1", 0))
    host, port = listener.getsockname()[:2]
    print(f"{READY_PREFIX}http://{host}:{port}", flush=True)

    def accept() -> None:
        while True:
            client, _ = listener.accept()
            threading.Thread(target=_connection, args=(client, address, limits), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        sys.stdin.read()  # until the parent closes the pipe or exits
    listener.close()


@contextlib.contextmanager
def throttle_proxy(
    upstream: str, rate_mib_s: float, first_byte_ms: float, burst_mib: float = 0.0
) -> Iterator[str]:
    """Yield the endpoint URL of a throttling proxy process in front of `upstream`; stop it on any exit."""
    args = ["bench.throttle", "--upstream", upstream]
    args += [
        "--rate-mib",
        str(rate_mib_s),
        "--first-byte-ms",
        str(first_byte_ms),
        "--burst-mib",
        str(burst_mib),
    ]
    with endpoint_process(args, READY_PREFIX, "throttling proxy") as endpoint:
        yield endpoint


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.throttle", description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT of the store")
    parser.add_argument("--rate-mib", type=float, default=32.0, help="MiB/s per connection (default 32)")
    parser.add_argument("--first-byte-ms", type=float, default=20.0, help="delay to each first byte (20)")
    parser.add_argument(
        "--burst-mib", type=float, default=0.0, help="each answer's first MiB sent unpaced (default 0)"
    )
    args = parser.parse_args(argv)
    if args.rate_mib <= 0 or args.first_byte_ms < 0 or args.burst_mib < 0:
        parser.error("--rate-mib must be positive, --first-byte-ms and --burst-mib non-negative")
    serve(args.upstream, Limits(args.rate_mib * MIB, args.first_byte_ms / 1000, round(args.burst_mib * MIB)))


if __name__ == "__main__":
    main()
