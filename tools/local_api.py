"""A Docker-free `sam local start-api`: the template's API routes on 127.0.0.1, plus the static `web/` pages.

Each request that matches a route of an `Api` event in template.yaml becomes the API Gateway REST proxy
event (payload 1.0) that API Gateway would send; the function runs through the local runner
(`tools.local_invoke.invoke`: the template's environment, then the shell, then events/env.json) and its
answer is sent back. Other `GET` requests are served from `web/`. Like API Gateway:

- a route with `ApiKeyRequired` needs the `x-api-key` header: the key is printed at start (`--api-key`
  chooses it); a missing or wrong key is answered `403 {"message": "Forbidden"}`;
- a method or path without a route is answered `403 {"message": "Missing Authentication Token"}`;
- a function that raises or answers something malformed gives `502 {"message": "Internal server error"}`.

S3: `--embedded-s3` starts moto's server on 127.0.0.1 and creates the bucket as the template does
(versioned, SSE-S3, public access blocked, and the CORS rule of `AllowedOrigins`, here this server's own
origin), so a browser page from this server can PUT to it cross-origin. `--endpoint URL` uses another S3
instead. With `--webhook-url`, every new object is announced: S3 -> SQS (moto) -> the notify function ->
that URL, and `GET /_local/deliveries` lists the outcomes (the upload page shows them).

Progress and one line per request go to stderr; the functions run in this process one at a time (the
environment is swapped for each call), like one warm Lambda container per function.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import mimetypes
import os
import re
import secrets
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote_plus, urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from tools.environment import patched_environ
from tools.local_invoke import (
    DEFAULT_TEMPLATE,
    FUNCTION_TYPES,
    PROJECT_ROOT,
    EnvOverrides,
    LocalInvokeError,
    invoke,
    load_env_file,
)
from tools.sam_template import Resolver, TemplateError, load_template
from tools.template_bucket import create_template_bucket, template_cors_rule

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

WEB_ROOT = PROJECT_ROOT / "web"
DEFAULT_ENV_FILE = PROJECT_ROOT / "events" / "env.json"
STAGE = "local"
NOTIFY_FUNCTION = "NotifyWebhookFunction"
UPLOAD_FUNCTION = "UploadUrlFunction"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
_PATH_PARAMETER = re.compile(r"\{([A-Za-z0-9_]+)(\+?)\}")

Say = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- routes


@dataclass(frozen=True)
class ApiRoute:
    method: str  # upper case, or ANY
    path: str  # as in the template, e.g. /uploads or /items/{id}
    logical_id: str
    api_key_required: bool

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route takes the request, else None."""
        if self.method not in {"ANY", method}:
            return None
        names: list[str] = []
        pattern = ""
        position = 0
        for parameter in _PATH_PARAMETER.finditer(self.path):
            pattern += re.escape(self.path[position : parameter.start()])
            pattern += "(.+)" if parameter.group(2) else "([^/]+)"
            names.append(parameter.group(1))
            position = parameter.end()
        pattern += re.escape(self.path[position:])
        found = re.fullmatch(pattern, path)
        if found is None:
            return None
        return {name: unquote_plus(value) for name, value in zip(names, found.groups(), strict=True)}


def api_routes(
    template_path: Path = DEFAULT_TEMPLATE, parameter_overrides: Mapping[str, str] | None = None
) -> list[ApiRoute]:
    """Every `Api` (REST) event of every function the template creates with these parameters."""
    template = load_template(template_path)
    resolver = Resolver(template, parameter_overrides)
    resources: Mapping[str, Any] = template["Resources"]
    routes: list[ApiRoute] = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") not in FUNCTION_TYPES:
            continue
        condition = resource.get("Condition")
        if isinstance(condition, str) and not resolver.condition(condition):
            continue
        events = (resource.get("Properties") or {}).get("Events") or {}
        for event in events.values():
            if not isinstance(event, dict) or event.get("Type") != "Api":
                continue
            properties = event.get("Properties") or {}
            routes.append(
                ApiRoute(
                    method=str(properties.get("Method", "ANY")).upper(),
                    path=str(properties["Path"]),
                    logical_id=logical_id,
                    api_key_required=_api_key_required(resources, properties),
                )
            )
    return routes


def _api_key_required(resources: Mapping[str, Any], properties: Mapping[str, Any]) -> bool:
    """The event's own `Auth.ApiKeyRequired`, else its API's default."""
    auth = properties.get("Auth") or {}
    if "ApiKeyRequired" in auth:
        return bool(auth["ApiKeyRequired"])
    api_ref = properties.get("RestApiId")
    api_id = api_ref.get("Ref") if isinstance(api_ref, dict) else None
    api = resources.get(api_id) if isinstance(api_id, str) else None
    api_auth = ((api or {}).get("Properties") or {}).get("Auth") or {}
    return bool(api_auth.get("ApiKeyRequired", False))


# ---------------------------------------------------------------- events and answers


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"


def rest_event(route: ApiRoute, request: HttpRequest, path_parameters: Mapping[str, str]) -> dict[str, Any]:
    """The REST API proxy event API Gateway sends for `request` on `route`."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    multi_query = parse_qs(request.query, keep_blank_values=True) if request.query else {}
    try:
        text: str | None = request.body.decode("utf-8") if request.body else None
        encoded = False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(request.body).decode("ascii"), True
    api_key = next((value for name, value in request.headers if name.lower() == "x-api-key"), None)
    now = time.time()
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": request.method,
            "path": f"/{STAGE}{request.path}",
            "stage": STAGE,
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {
                "sourceIp": request.source_ip,
                "apiKey": api_key,
                "userAgent": headers.get("User-Agent"),
            },
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def gateway_error(status: int, message: str) -> HttpAnswer:
    body = json.dumps({"message": message}).encode()
    return HttpAnswer(status, [("Content-Type", "application/json")], body)


def answer_from_result(result: Any) -> HttpAnswer:
    """The HTTP answer API Gateway makes of a proxy integration's result; 502 for a malformed one."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return gateway_error(502, "Internal server error")
    body = result.get("body") or ""
    if not isinstance(body, str):
        return gateway_error(502, "Internal server error")
    try:
        raw = base64.b64decode(body, validate=True) if result.get("isBase64Encoded") else body.encode("utf-8")
    except ValueError:
        return gateway_error(502, "Internal server error")
    headers: dict[str, list[str]] = {}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name)] = [str(value) for value in values]
    for name, value in (result.get("headers") or {}).items():
        headers[str(name)] = [str(value)]
    return HttpAnswer(
        result["statusCode"], [(name, value) for name, values in headers.items() for value in values], raw
    )


def static_file(web_root: Path, path: str) -> Path | None:
    """The file under `web_root` that `path` names, never anything outside it."""
    relative = unquote_plus(path).lstrip("/") or "upload.html"
    candidate = (web_root / relative).resolve()
    root = web_root.resolve()
    if candidate != root and root not in candidate.parents:
        return None
    return candidate if candidate.is_file() else None


# ---------------------------------------------------------------- S3


class EmbeddedS3:
    """moto's server on 127.0.0.1 answering CORS only as the bucket's CORS rule says.

    moto's server normally adds permissive CORS headers to every answer (`MOTO_DISABLE_GLOBAL_CORS`
    turns that off); without them the bucket's own CORS configuration decides, as on S3.
    """

    def __init__(self) -> None:
        os.environ.setdefault("MOTO_DISABLE_GLOBAL_CORS", "true")
        from moto.moto_server import werkzeug_app  # noqa: PLC0415 - moto is a dev dependency, imported late
        from moto.server import ThreadedMotoServer  # noqa: PLC0415

        # The setting is read when moto is first imported; a process that imported it earlier (the
        # test session) gets the same switch here.
        werkzeug_app.DISABLE_GLOBAL_CORS = True  # type: ignore[attr-defined]
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server: ThreadedMotoServer = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        self._server.stop()


def _client(service: str, endpoint: str) -> Any:
    import boto3  # noqa: PLC0415 - only when a server starts

    return boto3.session.Session().client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def prepare_bucket(endpoint: str, bucket: str, origins: list[str]) -> None:
    """The bucket as the template makes it: versioned, SSE-S3, public access blocked, CORS for `origins`."""
    s3 = _client("s3", endpoint)
    create_template_bucket(s3, bucket)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [template_cors_rule(origins)]})


# ---------------------------------------------------------------- the server


@dataclass
class Delivery:
    key: str
    ok: bool
    detail: str
    at: float = field(default_factory=time.time)


@dataclass
class LocalApiConfig:
    template_path: Path = DEFAULT_TEMPLATE
    env_overrides: EnvOverrides | None = None
    parameter_overrides: Mapping[str, str] | None = None
    api_key: str | None = None  # None: a random one
    port: int = 0
    web_root: Path = WEB_ROOT
    say: Say = _stderr


class LocalApi:
    """The HTTP server; `start()` binds 127.0.0.1 and serves in a thread, `stop()` ends it."""

    def __init__(self, config: LocalApiConfig) -> None:
        self.config = config
        self.routes = api_routes(config.template_path, config.parameter_overrides)
        self.api_key = config.api_key or secrets.token_urlsafe(24)
        self.deliveries: list[Delivery] = []
        # Functions run one at a time: each call swaps os.environ for the function's variables.
        self.invoke_lock = threading.Lock()
        self._server = _Server(("127.0.0.1", config.port), _Handler)
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
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def run_function(self, logical_id: str, event: dict[str, Any]) -> Any:
        with self.invoke_lock:
            return invoke(
                logical_id,
                event,
                self.config.env_overrides,
                template_path=self.config.template_path,
                parameter_overrides=self.config.parameter_overrides,
            )

    def handle(self, request: HttpRequest) -> HttpAnswer:
        for route in self.routes:
            parameters = route.match(request.method, request.path)
            if parameters is not None:
                return self._call_route(route, request, parameters)
        if request.method in {"GET", "HEAD"}:
            return self._local_page(request.path)
        return gateway_error(403, "Missing Authentication Token")

    def _call_route(self, route: ApiRoute, request: HttpRequest, parameters: Mapping[str, str]) -> HttpAnswer:
        if route.api_key_required:
            given = next((value for name, value in request.headers if name.lower() == "x-api-key"), "")
            if not secrets.compare_digest(given.encode(), self.api_key.encode()):
                return gateway_error(403, "Forbidden")
        if len(request.body) > MAX_BODY_BYTES:
            return gateway_error(413, "Request Too Long")
        try:
            result = self.run_function(route.logical_id, rest_event(route, request, parameters))
        except Exception as error:  # API Gateway's answer to a failed invocation
            self.config.say(f"  {route.logical_id} raised {type(error).__name__}: {error}")
            return gateway_error(502, "Internal server error")
        return answer_from_result(result)

    def _local_page(self, path: str) -> HttpAnswer:
        if path == "/_local/deliveries":
            document = [vars(delivery) for delivery in self.deliveries]
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

    def _serve(self) -> None:
        started = time.monotonic()
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = HttpRequest(
            method=self.command,
            path=parts.path,
            query=parts.query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        answer = self.server.api.handle(request)
        self.send_response(answer.status)
        for name, value in answer.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)
        elapsed = (time.monotonic() - started) * 1000
        self.server.api.config.say(f"{self.command} {parts.path} -> {answer.status} ({elapsed:.0f} ms)")

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


# ---------------------------------------------------------------- S3 events -> notify function


class Announcer:
    """S3 -> SQS (moto) -> the notify function, as the template's trigger does, in a background thread."""

    def __init__(self, api: LocalApi, endpoint: str, bucket: str) -> None:
        self.api = api
        self.endpoint = endpoint
        self.bucket = bucket
        self.queue_url = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        s3, sqs = _client("s3", self.endpoint), _client("sqs", self.endpoint)
        self.queue_url = sqs.create_queue(QueueName=f"{self.bucket}-object-created")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        s3.put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        self._thread = threading.Thread(
            target=self._poll, args=(sqs,), name="local-api-announcer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _poll(self, sqs: Any) -> None:
        while not self._stop.is_set():
            try:
                answer = sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                )
            except Exception as error:  # the embedded S3 stopped under us
                if not self._stop.is_set():
                    self.api.config.say(f"  announcer: cannot read the queue ({type(error).__name__})")
                    self._stop.wait(1)
                continue
            for message in answer.get("Messages", []):
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                self.announce(message.get("Body") or "")

    def announce(self, body: str) -> None:
        try:
            event = json.loads(body)
        except ValueError:
            return
        if not isinstance(event, dict) or event.get("Event") == "s3:TestEvent":
            return
        keys = [unquote_plus(str(record["s3"]["object"]["key"])) for record in event.get("Records") or []]
        try:
            result = self.api.run_function(NOTIFY_FUNCTION, event)
        except Exception as error:
            for key in keys:
                self.api.deliveries.append(Delivery(key, ok=False, detail=f"{type(error).__name__}: {error}"))
                self.api.config.say(f"  announced {key}: FAILED ({type(error).__name__})")
            return
        for key in keys:
            self.api.deliveries.append(Delivery(key, ok=True, detail=json.dumps(result)))
            self.api.config.say(f"  announced {key}: delivered ({json.dumps(result)})")


# ---------------------------------------------------------------- command line


def _function_variable(env: EnvOverrides | None, logical_id: str, name: str) -> str | None:
    section = (env or {}).get(logical_id) or {}
    value = section.get(name)
    return str(value) if value else None


def _with_overrides(env: EnvOverrides | None, logical_id: str, values: Mapping[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {name: dict(section) for name, section in (env or {}).items()}
    result.setdefault(logical_id, {}).update(values)
    return result


@contextlib.contextmanager
def local_stack(
    config: LocalApiConfig,
    *,
    embedded_s3: bool,
    endpoint: str | None,
    webhook_url: str | None,
    allowed_origins: list[str] | None = None,
) -> Iterator[LocalApi]:
    """The local API with its S3 (embedded or given) and, with `webhook_url`, the announcements."""
    say = config.say
    stack = contextlib.ExitStack()
    with stack:
        variables: dict[str, str] = {}
        if embedded_s3:
            s3 = EmbeddedS3()
            endpoint = s3.start()
            stack.callback(s3.stop)
            # Fake credentials unless the shell has some (moto accepts any).
            for name, value in (
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_DEFAULT_REGION", "us-east-1"),
            ):
                if not os.environ.get(name):
                    variables[name] = value
            say(f"embedded S3 (moto) on {endpoint}")
        if endpoint:
            # The functions reach S3 through boto3's standard variable, as in the tests.
            variables["AWS_ENDPOINT_URL_S3"] = endpoint
        stack.enter_context(patched_environ(set=variables))
        if webhook_url:
            config.env_overrides = _with_overrides(
                config.env_overrides,
                NOTIFY_FUNCTION,
                {"WEBHOOK_URL": webhook_url, "WEBHOOK_ALLOW_HTTP": "true"},
            )
        api = LocalApi(config)
        bucket = (
            _function_variable(config.env_overrides, UPLOAD_FUNCTION, "ARCHIVE_BUCKET")
            or "form-archive-local"
        )
        if embedded_s3 and endpoint:
            prepare_bucket(endpoint, bucket, allowed_origins or [api.url])
            say(
                f"bucket s3://{bucket}: versioned, SSE-S3, CORS for {', '.join(allowed_origins or [api.url])}"
            )
            if webhook_url:
                announcer = Announcer(api, endpoint, bucket)
                announcer.start()
                stack.callback(announcer.stop)
                say(f"new objects are announced to {webhook_url} (S3 -> SQS -> {NOTIFY_FUNCTION})")
        api.start()
        stack.callback(api.stop)
        for route in api.routes:
            key_note = " (x-api-key)" if route.api_key_required else ""
            say(f"route {route.method} {api.url}{route.path} -> {route.logical_id}{key_note}")
        yield api


def page_url(api: LocalApi) -> str:
    return f"{api.url}/upload.html?api={quote(api.url, safe='')}&key={quote(api.api_key, safe='')}"


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.local_api",
        description="Serve template.yaml's API routes and web/ on 127.0.0.1 without Docker.",
    )
    parser.add_argument("--port", type=int, default=3000, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--api-key", help="the x-api-key value to accept (default: a random one, printed)")
    parser.add_argument("-n", "--env-vars", default=str(DEFAULT_ENV_FILE), help="env-vars JSON (SAM format)")
    parser.add_argument("-t", "--template", default=str(DEFAULT_TEMPLATE), help="SAM template")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--embedded-s3", action="store_true", help="start moto's S3 on 127.0.0.1 (no AWS)")
    where.add_argument("--endpoint", help="S3 endpoint URL for the functions (else boto3's own resolution)")
    parser.add_argument("--webhook-url", help="announce new objects to this URL (needs --embedded-s3)")
    parser.add_argument(
        "--allowed-origin", action="append", help="CORS origin of the embedded bucket (repeatable)"
    )
    args = parser.parse_args(argv)
    if args.webhook_url and not args.embedded_s3:
        parser.error("--webhook-url needs --embedded-s3")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        env = load_env_file(Path(args.env_vars)) if args.env_vars else None
        config = LocalApiConfig(
            template_path=Path(args.template).resolve(),
            env_overrides=env,
            api_key=args.api_key,
            port=args.port,
        )
        signal.signal(signal.SIGTERM, _stop_on_signal)
        with local_stack(
            config,
            embedded_s3=args.embedded_s3,
            endpoint=args.endpoint,
            webhook_url=args.webhook_url,
            allowed_origins=args.allowed_origin,
        ) as api:
            _stderr(f"API key (x-api-key): {api.api_key}")
            _stderr(f"upload page: {page_url(api)}")
            # One line on stdout for scripts: where everything is.
            print(
                json.dumps(
                    {
                        "url": api.url,
                        "api_key": api.api_key,
                        "page": page_url(api),
                        "s3_endpoint": os.environ.get("AWS_ENDPOINT_URL_S3"),
                    }
                ),
                flush=True,
            )
            _stderr("serving; Ctrl-C stops")
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    except (LocalInvokeError, TemplateError, OSError, BotoCoreError, ClientError) as error:
        _stderr(f"local_api: {error}")
        return 2
    _stderr("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
