"""API Gateway's side of a proxy integration: the REST proxy event (payload 1.0) made of a request, and
the HTTP answer made of the function's result (502 for a malformed one)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from tools.local_api.routes import ApiRoute

STAGE = "local"


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
