"""One deadline per delivery attempt: a receiver that drips its answer cannot outlast it.

requests' read timeout applies to each socket read, so an answer sent one byte at a time never trips it.
A session built on `DeadlineAdapter` records the socket an attempt's answer is read from; when the
attempt's `AttemptDeadline` passes, a timer shuts that socket down, which ends the read in progress
(status line, headers or a body being drained) at once. The connection is then closed, never reused.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
from types import TracebackType
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import BaseHTTPResponse

_current: contextvars.ContextVar[AttemptDeadline | None] = contextvars.ContextVar("attempt", default=None)


class AttemptDeadline:
    """`with AttemptDeadline(seconds) as deadline:` around one attempt; `deadline.expired` tells afterwards
    whether it cut the attempt short."""

    def __init__(self, seconds: float) -> None:
        self._seconds = max(0.0, seconds)
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(self._seconds, self._expire)
        self._timer.daemon = True
        self._token: contextvars.Token[AttemptDeadline | None] | None = None
        self.expired = False

    def __enter__(self) -> AttemptDeadline:
        self._token = _current.set(self)
        self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._timer.cancel()
        with self._lock:
            self._sockets.clear()
        if self._token is not None:
            _current.reset(self._token)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                _shut(sock)
            else:
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _watch(connection: HTTPConnection) -> None:
    deadline = _current.get()
    if deadline is not None and connection.sock is not None:
        deadline.watch(connection.sock)


class _WatchedHTTPConnection(HTTPConnection):
    def getresponse(self) -> BaseHTTPResponse:  # type: ignore[override]
        _watch(self)
        return super().getresponse()


class _WatchedHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> BaseHTTPResponse:  # type: ignore[override]
        _watch(self)
        return super().getresponse()


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with pools whose connections report their socket to the running attempt."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
