"""tools/attach_bucket/merge.py: every kind of existing notification configuration survives attach/detach."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tools.attach_bucket import merge
from tools.template_bucket import template_cors_rule

QUEUE: dict[str, Any] = {
    "Id": "their-queue",
    "QueueArn": "arn:aws:sqs:us-east-1:123456789012:theirs",
    "Events": ["s3:ObjectCreated:Put", "s3:ObjectCreated:Post"],
    "Filter": {
        "Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"}, {"Name": "Suffix", "Value": ".csv"}]}
    },
}
TOPIC: dict[str, Any] = {
    "Id": "their-topic",
    "TopicArn": "arn:aws:sns:us-east-1:123456789012:theirs",
    "Events": ["s3:ObjectRemoved:*"],
}
LAMBDA: dict[str, Any] = {
    "Id": "their-function",
    "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:theirs",
    "Events": ["s3:ObjectCreated:*"],
    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "images/r%C3%A9sum%C3%A9+"}]}},
}
EXISTING: dict[str, dict[str, Any]] = {
    "empty": {},
    "queue with prefix and suffix": {"QueueConfigurations": [QUEUE]},
    "topic without filter": {"TopicConfigurations": [TOPIC]},
    "lambda with encoded prefix": {"LambdaFunctionConfigurations": [LAMBDA]},
    "all three, two queues": {
        "QueueConfigurations": [QUEUE, {**QUEUE, "Id": "second", "Events": ["s3:ObjectCreated:*"]}],
        "TopicConfigurations": [TOPIC],
        "LambdaFunctionConfigurations": [LAMBDA],
    },
    "eventbridge already on": {"QueueConfigurations": [QUEUE], "EventBridgeConfiguration": {}},
}


@pytest.mark.parametrize("name", EXISTING)
def test_attach_adds_eventbridge_and_keeps_everything_byte_for_byte(name: str) -> None:
    before = copy.deepcopy(EXISTING[name])
    after = merge.with_eventbridge(before)
    assert before == EXISTING[name], "the input is not modified"
    assert after["EventBridgeConfiguration"] == {}
    assert {key: value for key, value in after.items() if key != "EventBridgeConfiguration"} == {
        key: value for key, value in before.items() if key != "EventBridgeConfiguration"
    }
    for key in merge.TARGET_LISTS:
        assert json.dumps(after.get(key), sort_keys=True) == json.dumps(before.get(key), sort_keys=True)
    assert merge.differences(merge.with_eventbridge(after), after) == [], "attach twice = attach once"


@pytest.mark.parametrize("name", EXISTING)
def test_detach_removes_only_eventbridge(name: str) -> None:
    attached = merge.with_eventbridge(EXISTING[name])
    detached = merge.without_eventbridge(attached)
    assert "EventBridgeConfiguration" not in detached
    assert detached == {
        key: value for key, value in EXISTING[name].items() if key != "EventBridgeConfiguration"
    }


def test_a_read_answer_loses_only_its_response_metadata() -> None:
    answer: dict[str, Any] = {"ResponseMetadata": {"HTTPStatusCode": 200}, "QueueConfigurations": [QUEUE]}
    assert merge.notification_of(answer) == {"QueueConfigurations": [QUEUE]}


@pytest.mark.parametrize(
    ("config", "named"),
    [
        (
            {"QueueConfigurations": [QUEUE], "CloudFunctionConfiguration": {"Id": "legacy"}},
            "CloudFunctionConfiguration",
        ),
        ({"DirectoryBucketConfigurations": []}, "DirectoryBucketConfigurations"),
        ({"EventBridgeConfiguration": {"SomeFutureSetting": True}}, "EventBridgeConfiguration"),
        ({"QueueConfigurations": {"Id": "not a list"}}, "QueueConfigurations"),
    ],
)
def test_an_unknown_configuration_is_refused_not_dropped(config: dict[str, Any], named: str) -> None:
    with pytest.raises(merge.UnknownConfiguration, match=named):
        merge.with_eventbridge(config)
    with pytest.raises(merge.UnknownConfiguration, match=named):
        merge.without_eventbridge(config)
    with pytest.raises(merge.UnknownConfiguration, match=named):
        merge.notification_of(config)


def test_meaning_ignores_order_and_filter_name_case_but_not_values() -> None:
    reordered = {
        "QueueConfigurations": [
            {
                **QUEUE,
                "Events": list(reversed(QUEUE["Events"])),
                "Filter": {
                    "Key": {
                        "FilterRules": [
                            {"Name": "suffix", "Value": ".csv"},
                            {"Name": "prefix", "Value": "in/"},
                        ]
                    }
                },
            }
        ]
    }
    assert merge.differences({"QueueConfigurations": [QUEUE]}, reordered) == []
    other_prefix = copy.deepcopy(reordered)
    other_prefix["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"][1]["Value"] = "out/"
    assert merge.differences({"QueueConfigurations": [QUEUE]}, other_prefix) == ["QueueConfigurations"]
    assert merge.differences({}, {"EventBridgeConfiguration": {}}) == ["EventBridgeConfiguration"]
    assert merge.differences({"TopicConfigurations": [TOPIC]}, {}) == ["TopicConfigurations"]


# ---------------------------------------------------------------- CORS

ORIGIN = "https://forms.example.com"
OTHER_RULE = {"ID": "their-get", "AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": []}


def test_the_template_rule_allows_uploads_and_carries_our_id() -> None:
    rule = merge.upload_cors_rule([ORIGIN], template_cors_rule([ORIGIN]))
    assert rule["ID"] == merge.CORS_RULE_ID
    assert merge.cors_allows_uploads([rule], ORIGIN)
    assert not merge.cors_allows_uploads([rule], "https://elsewhere.example.com")


@pytest.mark.parametrize(
    ("rule", "allows"),
    [
        (
            {
                "AllowedOrigins": ["*"],
                "AllowedMethods": ["PUT"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag"],
            },
            True,
        ),
        (
            {
                "AllowedOrigins": [ORIGIN],
                "AllowedMethods": ["PUT"],
                "AllowedHeaders": list(merge.UPLOAD_HEADERS),
                "ExposeHeaders": ["etag"],
            },
            True,
        ),
        (
            {
                "AllowedOrigins": [ORIGIN],
                "AllowedMethods": ["GET"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag"],
            },
            False,
        ),
        (
            {
                "AllowedOrigins": [ORIGIN],
                "AllowedMethods": ["PUT"],
                "AllowedHeaders": ["content-type"],
                "ExposeHeaders": ["ETag"],
            },
            False,
        ),
        ({"AllowedOrigins": [ORIGIN], "AllowedMethods": ["PUT"], "AllowedHeaders": ["*"]}, False),
    ],
)
def test_cors_check(rule: dict[str, Any], allows: bool) -> None:
    assert merge.cors_allows_uploads([OTHER_RULE, rule], ORIGIN) is allows


def test_cors_rule_is_added_once_and_removed_alone() -> None:
    rule = merge.upload_cors_rule([ORIGIN], template_cors_rule([ORIGIN]))
    added = merge.with_cors_rule([OTHER_RULE], rule)
    assert added == [OTHER_RULE, rule]
    assert merge.with_cors_rule(added, rule) == added, "adding again replaces our rule, keeps theirs"
    assert merge.without_cors_rule(added) == [OTHER_RULE]
