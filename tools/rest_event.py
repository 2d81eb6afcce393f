"""The REST API proxy event (payload 1.0) API Gateway hands a function: one builder for tools, tests, bench.

`make api` builds it from a real HTTP request, the demo and the benchmarks from a JSON document, the tests
from whatever body a case needs; all of them get the same shape, the one API Gateway sends.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

JSON_HEADERS = (("Content-Type", "application/json"),)


def rest_proxy_event(
    method: str,
    path: str,
    body: str | None,
    *,
    is_base64: bool = False,
    headers: Iterable[tuple[str, str]] = JSON_HEADERS,
    resource: str | None = None,
    query: str = "",
    path_parameters: Mapping[str, str] | None = None,
    stage: str = "local",
    request_id: str | None = None,
    source_ip: str = "127.0.0.1",
    api_key: str | None = None,
) -> dict[str, Any]:
    """The event for `method path` (the route `resource`, `path` when None) with `body` as API Gateway
    passes it (base64 text when `is_base64`); a header given twice keeps every value in
    `multiValueHeaders` and the last in `headers`, as API Gateway does."""
    single: dict[str, str] = {}
    multiple: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multiple.setdefault(name, []).append(value)
    multi_query = parse_qs(query, keep_blank_values=True) if query else {}
    now = time.time()
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multiple or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters or {}) or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "protocol": "HTTP/1.1",
            "requestId": request_id or str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "accountId": "123456789012",
            "apiId": stage,
            "identity": {"sourceIp": source_ip, "apiKey": api_key, "userAgent": single.get("User-Agent")},
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def json_post_event(path: str, document: Any, *, stage: str, request_id: str | None = None) -> dict[str, Any]:
    """The event for `POST path` with `document` as its JSON body."""
    return rest_proxy_event("POST", path, json.dumps(document), stage=stage, request_id=request_id)
