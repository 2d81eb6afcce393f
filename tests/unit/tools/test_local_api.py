"""tools.local_api's pure parts: routes read from the template, the REST proxy event, the answer."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tools.local_api import (
    ApiRoute,
    HttpRequest,
    answer_from_result,
    api_routes,
    rest_event,
    static_file,
)
from tools.project import PROJECT_ROOT, function_ids

TEMPLATE = PROJECT_ROOT / "template.yaml"


def test_routes_come_from_the_templates_api_events() -> None:
    routes = {(route.method, route.path): route for route in api_routes(TEMPLATE)}
    multipart = {("POST", f"/uploads/{name}") for name in ("parts", "complete", "status", "abort")}
    assert set(routes) == {("POST", "/submissions"), ("POST", "/uploads"), *multipart}
    assert routes["POST", "/uploads"].logical_id == function_ids().upload
    assert routes["POST", "/submissions"].logical_id == function_ids().archive
    assert all(route.api_key_required for route in routes.values())


def test_conditional_functions_follow_the_parameters() -> None:
    """The browser route is an HttpApi event of a conditional function: never a REST route here."""
    with_browser = api_routes(
        TEMPLATE, {"BrowserJwtIssuer": "https://issuer.example", "BrowserJwtAudience": "x"}
    )
    assert {route.logical_id for route in with_browser} == {function_ids().archive, function_ids().upload}


def test_api_key_default_comes_from_the_api(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        """
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: x, Auth: {ApiKeyRequired: true}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: a.b
      CodeUri: .
      Events:
        Keyed: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /a, Method: get}}
        Open:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: "/b/{id}", Method: any, Auth: {ApiKeyRequired: false}}
        Queue: {Type: SQS, Properties: {Queue: arn}}
""",
        encoding="utf-8",
    )
    routes = {route.path: route for route in api_routes(template)}
    assert set(routes) == {"/a", "/b/{id}"}
    assert routes["/a"].api_key_required and routes["/a"].method == "GET"
    assert not routes["/b/{id}"].api_key_required and routes["/b/{id}"].method == "ANY"


@pytest.mark.parametrize(
    ("route_path", "method", "path", "expected"),
    [
        ("/uploads", "POST", "/uploads", {}),
        ("/uploads", "GET", "/uploads", None),
        ("/uploads", "POST", "/uploads/x", None),
        ("/uploads", "POST", "/upload", None),
        ("/items/{id}", "POST", "/items/a%20b", {"id": "a b"}),
        ("/items/{id}", "POST", "/items/a/b", None),
        ("/files/{proxy+}", "POST", "/files/a/b.txt", {"proxy": "a/b.txt"}),
        ("/a.b", "POST", "/aXb", None),
    ],
)
def test_route_matching(route_path: str, method: str, path: str, expected: dict[str, str] | None) -> None:
    assert ApiRoute("POST", route_path, "Fn", True).match(method, path) == expected


def test_rest_event_has_the_shape_api_gateway_sends() -> None:
    route = ApiRoute("POST", "/uploads", function_ids().upload, True)
    request = HttpRequest(
        method="POST",
        path="/uploads",
        query="a=1&a=2&b=",
        headers=[("Content-Type", "application/json"), ("x-api-key", "k"), ("Accept", "a"), ("Accept", "b")],
        body='{"x": "é"}'.encode(),
    )
    event = rest_event(route, request, {})
    assert event["httpMethod"] == "POST"
    assert event["resource"] == event["path"] == "/uploads"
    assert event["headers"]["Accept"] == "b"
    assert event["multiValueHeaders"]["Accept"] == ["a", "b"]
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["body"] == '{"x": "é"}' and event["isBase64Encoded"] is False
    assert event["requestContext"]["identity"]["apiKey"] == "k"
    assert event["requestContext"]["stage"] == "local"
    assert event["pathParameters"] is None
    binary = rest_event(route, HttpRequest("POST", "/uploads", "", [], b"\xff\x00"), {})
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\xff\x00"
    assert rest_event(route, HttpRequest("POST", "/uploads", "", [], b""), {})["body"] is None


def test_answer_from_result() -> None:
    answer = answer_from_result(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": '{"ok": true}',
            "isBase64Encoded": False,
        }
    )
    assert answer.status == 201
    assert ("Set-Cookie", "a=1") in answer.headers and ("Set-Cookie", "b=2") in answer.headers
    assert json.loads(answer.body) == {"ok": True}
    binary = answer_from_result(
        {"statusCode": 200, "body": base64.b64encode(b"\x00").decode(), "isBase64Encoded": True}
    )
    assert binary.body == b"\x00"


@pytest.mark.parametrize(
    "result",
    [
        None,
        "text",
        {},
        {"statusCode": "200"},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "body": "!", "isBase64Encoded": True},
    ],
)
def test_malformed_result_is_a_502(result: object) -> None:
    answer = answer_from_result(result)
    assert answer.status == 502
    assert json.loads(answer.body) == {"message": "Internal server error"}


def test_static_files_stay_inside_the_web_root(tmp_path: Path) -> None:
    web = tmp_path / "web"
    web.mkdir()
    (web / "upload.html").write_text("page")
    (tmp_path / "secret.txt").write_text("no")
    assert static_file(web, "/") == (web / "upload.html").resolve()
    assert static_file(web, "/upload.html") == (web / "upload.html").resolve()
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/missing.html", "//etc/passwd", "/.."):
        assert static_file(web, path) is None, path
