"""API Gateway's side of a proxy integration: the REST proxy event (payload 1.0) made of a request, and
the HTTP answer made of the function's result (502 for a malformed one)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.local_api.routes import ApiRoute
from tools.rest_event import rest_proxy_event

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
    try:
        text: str | None = request.body.decode("utf-8") if request.body else None
        encoded = False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(request.body).decode("ascii"), True
    api_key = next((value for name, value in request.headers if name.lower() == "x-api-key"), None)
    return rest_proxy_event(
        request.method,
        request.path,
        text,
        is_base64=encoded,
        headers=request.headers,
        resource=route.path,
        query=request.query,
        path_parameters=path_parameters,
        stage=STAGE,
        source_ip=request.source_ip,
        api_key=api_key,
    )


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
