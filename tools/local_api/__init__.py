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
that URL (by default a receiver started alongside), and `GET /_local/deliveries` (with the key) lists
the outcomes (the upload page shows them).

Every request is checked before its body is read (`request_checks`): loopback `Host` names only, a
decodable path, the API key, a plain `Content-Length` within API Gateway's 10 MiB. Requests are served in
threads; each function runs in its own worker process (`workers`), like one warm Lambda container per
function, so a notify call waiting on a slow webhook never holds up a submission. Progress and one line
per request go to stderr.

Modules: `routes`, `proxy_event`, `request_checks`, `static_files`, `embedded_s3`, `workers`,
`announcer`, `server` (the HTTP server), `stack` (everything `make api` runs), `cli`.
"""

from tools.local_api.announcer import Announcer, Delivery
from tools.local_api.cli import build_parser, main, page_url
from tools.local_api.embedded_s3 import EmbeddedS3, prepare_bucket
from tools.local_api.proxy_event import HttpAnswer, HttpRequest, answer_from_result, gateway_error, rest_event
from tools.local_api.request_checks import MAX_BODY_BYTES, Refused, check_host, check_path, declared_length
from tools.local_api.routes import ApiRoute, api_routes
from tools.local_api.server import LocalApi, LocalApiConfig, PortInUse
from tools.local_api.stack import local_stack
from tools.local_api.static_files import static_file

__all__ = [
    "MAX_BODY_BYTES",
    "Announcer",
    "ApiRoute",
    "Delivery",
    "EmbeddedS3",
    "HttpAnswer",
    "HttpRequest",
    "LocalApi",
    "LocalApiConfig",
    "PortInUse",
    "Refused",
    "answer_from_result",
    "api_routes",
    "build_parser",
    "check_host",
    "check_path",
    "declared_length",
    "gateway_error",
    "local_stack",
    "main",
    "page_url",
    "prepare_bucket",
    "rest_event",
    "static_file",
]
