"""Which API event format an invocation carries, checked before a Powertools resolver parses it.

The API functions answer API Gateway REST API (payload 1.0) events and HTTP API / Function URL
(payload 2.0) events. Each format's fields are checked for the types AWS always sends, so a malformed
event is answered with a 400 instead of failing inside the resolver. The request rules the API
packages share (`RequestRejected`, the JSON content type) live here too; all of it is standard
library only, so the request-validation modules stay cheap to import and free of Powertools.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

EventFormat = Literal["rest", "http"]


def _all_strings(values: Iterable[Any]) -> bool:
    return all(isinstance(value, str) for value in values)


def _string_map(value: Any) -> bool:
    return value is None or (isinstance(value, dict) and _all_strings(value.values()))


def _common_fields(event: dict[str, Any]) -> bool:
    return (
        isinstance(event.get("body"), str | None)
        and isinstance(event.get("isBase64Encoded"), bool | None)
        and _string_map(event.get("headers"))
    )


def _is_rest_event(event: dict[str, Any]) -> bool:
    multi_headers = event.get("multiValueHeaders")
    return (
        isinstance(event.get("httpMethod"), str)
        and isinstance(event.get("path"), str)
        and isinstance(event.get("requestContext"), dict | None)
        and _common_fields(event)
        and (
            multi_headers is None
            or (
                isinstance(multi_headers, dict)
                and all(
                    isinstance(values, list) and _all_strings(values) for values in multi_headers.values()
                )
            )
        )
    )


def _is_http_event(event: dict[str, Any]) -> bool:
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    cookies = event.get("cookies")
    return (
        isinstance(event.get("rawPath"), str)
        and isinstance(http, dict)
        and isinstance(http.get("method"), str)
        and _common_fields(event)
        and (cookies is None or (isinstance(cookies, list) and _all_strings(cookies)))
    )


def api_event_format(event: Any) -> EventFormat | None:
    """`"http"` for payload 2.0 (HTTP API, Function URL), `"rest"` for REST API proxy events, else None."""
    if not isinstance(event, dict):
        return None
    if event.get("version") == "2.0":
        return "http" if _is_http_event(event) else None
    return "rest" if _is_rest_event(event) else None


def plain_response(status_code: int, body: dict[str, Any]) -> dict[str, Any]:
    """A JSON answer built without a resolver (both payload formats accept this shape)."""
    return {
        "statusCode": status_code,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


class RequestRejected(Exception):
    """A client error: the status code and a message safe to return (it never echoes the request)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def is_json_content_type(content_type: str | None) -> bool:
    """No header counts as JSON; otherwise `application/json` or any `+json` type, parameters allowed."""
    if content_type is None or not content_type.strip():
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )
