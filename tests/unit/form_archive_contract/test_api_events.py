"""Which API event format an invocation carries: REST (1.0), payload 2.0, or not an API event."""

from __future__ import annotations

from typing import Any

import pytest

from form_archive_contract.api_events import api_event_format, plain_response
from tests.api_events import api_event, http_api_event


def test_formats() -> None:
    assert api_event_format(api_event("{}")) == "rest"
    assert api_event_format(http_api_event("{}")) == "http"
    assert api_event_format(http_api_event("{}", function_url=True)) == "http"
    assert api_event_format(http_api_event(b"\x00binary")) == "http"


def broken(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**event, **changes}


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        "POST /uploads",
        {},
        {"Records": []},
        broken(api_event("{}"), httpMethod=None),
        broken(api_event("{}"), path=3),
        broken(api_event("{}"), body={"a": 1}),
        broken(api_event("{}"), isBase64Encoded="yes"),
        broken(api_event("{}"), headers={"a": 1}),
        broken(api_event("{}"), multiValueHeaders={"a": "b"}),
        broken(api_event("{}"), requestContext="x"),
        broken(http_api_event("{}"), rawPath=None),
        broken(http_api_event("{}"), requestContext={"http": {}}),
        broken(http_api_event("{}"), requestContext=None),
        broken(http_api_event("{}"), cookies="a=b"),
        broken(http_api_event("{}"), headers=["content-type"]),
        broken(http_api_event("{}"), body=b"bytes"),
    ],
)
def test_not_an_api_event(event: Any) -> None:
    assert api_event_format(event) is None


def test_plain_response() -> None:
    assert plain_response(400, {"error": "x"}) == {
        "statusCode": 400,
        "headers": {"Content-Type": "application/json"},
        "body": '{"error": "x"}',
        "isBase64Encoded": False,
    }
