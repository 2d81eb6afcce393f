"""The local API's HTTP server: each request checked (Host, path, key, length) before its body is read,
then sent to its route's function, a local page or a gateway error, as API Gateway would answer."""

from __future__ import annotations

import errno
import json
import mimetypes
import secrets
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tools.local_api.announcer import Delivery
from tools.local_api.proxy_event import HttpAnswer, HttpRequest, answer_from_result, gateway_error, rest_event
from tools.local_api.request_checks import Refused, check_host, check_path, declared_length
from tools.local_api.routes import ApiRoute, api_routes
from tools.local_api.static_files import WEB_ROOT, static_file
from tools.local_api.workers import FunctionWorkers
from tools.local_invoke import EnvOverrides
from tools.project import TEMPLATE_PATH

DELIVERIES_PATH = "/_local/deliveries"

Say = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class PortInUse(OSError):
    """The port is taken, most likely by another `make api`; the message says how to choose another."""


@dataclass
class LocalApiConfig:
    template_path: Path = TEMPLATE_PATH
    env_overrides: EnvOverrides | None = None
    parameter_overrides: Mapping[str, str] | None = None
    api_key: str | None = None  # None: a random one
    port: int = 0
    web_root: Path = WEB_ROOT
    say: Say = _stderr
    function_log: Path | None = None  # the functions' own output (None: the local API's stderr)


@dataclass(frozen=True)
class Target:
    """What a request asks for: a route's function, or (route None) a local page."""

    route: ApiRoute | None
    parameters: Mapping[str, str]
    needs_key: bool


class LocalApi:
    """The HTTP server; `start()` serves in a thread (a thread per request), `stop()` ends it."""

    def __init__(self, config: LocalApiConfig) -> None:
        self.config = config
        self.routes = api_routes(config.template_path, config.parameter_overrides)
        self.api_key = config.api_key or secrets.token_urlsafe(24)
        self.deliveries: list[Delivery] = []
        self.workers = FunctionWorkers(config.template_path, config.parameter_overrides, config.function_log)
        try:
            self._server = _Server(("127.0.0.1", config.port), _Handler)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(
                    errno.EADDRINUSE,
                    f"port {config.port} on 127.0.0.1 is in use (another `make api`?): stop that one, "
                    "or choose a free port: make api API_PORT=0",
                ) from None
            raise
        self._server.api = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-api", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() would wait forever for a server never started
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()
        self.workers.stop()

    def run_function(self, logical_id: str, event: dict[str, Any]) -> Any:
        """The function's result, from its own worker process (calls of other functions run meanwhile)."""
        return self.workers.call(logical_id, event, self.config.env_overrides)

    def target(self, method: str, path: str) -> Target | None:
        """The route or local page `method path` asks for; None when API Gateway would have no route."""
        for route in self.routes:
            parameters = route.match(method, path)
            if parameters is not None:
                return Target(route, parameters, route.api_key_required)
        if method in {"GET", "HEAD"}:
            return Target(None, {}, needs_key=path == DELIVERIES_PATH)
        return None

    def key_matches(self, given: str | None) -> bool:
        return secrets.compare_digest((given or "").encode(), self.api_key.encode())

    def call_route(self, route: ApiRoute, request: HttpRequest, parameters: Mapping[str, str]) -> HttpAnswer:
        try:
            result = self.run_function(route.logical_id, rest_event(route, request, parameters))
        except Exception as error:  # API Gateway's answer to a failed invocation
            self.config.say(f"  {route.logical_id} raised {error}")
            return gateway_error(502, "Internal server error")
        return answer_from_result(result)

    def local_page(self, path: str) -> HttpAnswer:
        if path == DELIVERIES_PATH:
            document = [vars(delivery) for delivery in list(self.deliveries)]
            return HttpAnswer(200, [("Content-Type", "application/json")], json.dumps(document).encode())
        found = static_file(self.config.web_root, path)
        if found is None:
            return gateway_error(403, "Missing Authentication Token")
        kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        return HttpAnswer(200, [("Content-Type", kind), ("Cache-Control", "no-store")], found.read_bytes())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: LocalApi


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _answer(self, path: str, query: str) -> HttpAnswer:
        """Everything is checked before the body is read; a refusal leaves the body unread."""
        api = self.server.api
        check_host(self.headers.get("Host"))
        check_path(path)
        target = api.target(self.command, path)
        if target is None:
            return gateway_error(403, "Missing Authentication Token")
        if target.needs_key and not api.key_matches(self.headers.get("x-api-key")):
            return gateway_error(403, "Forbidden")
        length = declared_length(self.headers.get("Content-Length"), self.headers.get("Transfer-Encoding"))
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise Refused(400, "the body ended before its Content-Length")
        self.body_read = True
        if target.route is None:
            return api.local_page(path)
        request = HttpRequest(
            method=self.command,
            path=path,
            query=query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        return api.call_route(target.route, request, target.parameters)

    def _serve(self) -> None:
        started = time.monotonic()
        self.body_read = False
        parts = urlsplit(self.path)
        try:
            answer = self._answer(parts.path, parts.query)
        except Refused as refusal:
            answer = gateway_error(refusal.status, refusal.message)
        except Exception as error:  # never a dropped connection: a 500 that says what went wrong
            self.server.api.config.say(f"  local API fault: {type(error).__name__}: {error}")
            answer = gateway_error(500, "Internal server error")
        if not self.body_read:
            self.close_connection = True  # the unread body must not be taken for the next request
        self.send_response(answer.status)
        for name, value in answer.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)
        elapsed = (time.monotonic() - started) * 1000
        shown = parts.path if parts.path.isascii() and parts.path.isprintable() else repr(parts.path)
        self.server.api.config.say(f"{self.command} {shown} -> {answer.status} ({elapsed:.0f} ms)")

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: `_serve` writes one line per request itself."""
