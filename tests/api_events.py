"""The events tests hand the API functions: REST proxy (payload 1.0, via `tools.rest_event`) and 2.0."""

from __future__ import annotations

import base64
import json
from typing import Any

from tools.rest_event import rest_proxy_event


def api_event(
    body: str | bytes | None,
    *,
    headers: dict[str, str] | None = None,
    base64_encode: bool = False,
    method: str = "POST",
    path: str = "/submissions",
) -> dict[str, Any]:
    text = body if isinstance(body, str) else None
    if isinstance(body, bytes) or (base64_encode and body is not None):
        raw = body if isinstance(body, bytes) else str(body).encode("utf-8")
        text, base64_encode = base64.b64encode(raw).decode("ascii"), True
    all_headers = {"Content-Type": "application/json"} if headers is None else headers
    return rest_proxy_event(
        method,
        path,
        text,
        is_base64=base64_encode,
        headers=all_headers.items(),
        stage="Prod",
        request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        api_key="testing",
    )


def assert_server_fault(response: dict[str, Any], status_code: int, request_id: str) -> None:
    """A 5xx tells the client only that it failed and which request id to quote."""
    assert response["statusCode"] == status_code
    assert json.loads(response["body"]) == {
        "error": "the submission could not be archived",
        "request_id": request_id,
    }


def http_api_event(
    body: str | bytes | None,
    *,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    path: str = "/submissions",
    function_url: bool = False,
) -> dict[str, Any]:
    """A payload 2.0 event as API Gateway HTTP APIs (or, with `function_url`, Lambda Function URLs) send
    it, shaped after Powertools' published `apiGatewayProxyV2Event.json` and `lambdaFunctionUrlEvent.json`:
    lower-case header names, `rawPath`, `requestContext.http`, the body base64-encoded when binary."""
    is_base64 = isinstance(body, bytes)
    if isinstance(body, bytes):
        body = base64.b64encode(body).decode("ascii")
    all_headers = {"content-type": "application/json"} if headers is None else headers
    context: dict[str, Any] = {
        "accountId": "anonymous" if function_url else "123456789012",
        "apiId": "<urlid>" if function_url else "api-id",
        "domainName": "example.lambda-url.us-east-1.on.aws"
        if function_url
        else "id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "example" if function_url else "id",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "agent",
        },
        "requestId": "id",
        "routeKey": "$default" if function_url else f"{method} {path}",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390,
    }
    return {
        "version": "2.0",
        "routeKey": context["routeKey"],
        "rawPath": path,
        "rawQueryString": "",
        "headers": {name.lower(): value for name, value in all_headers.items()},
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64,
    }
