"""tools/attach_bucket/event_pattern: decided answers where the pattern language is known, None elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

from tools.attach_bucket.event_pattern import could_match, sample_events, without_object_fields

[CREATED, DELETED, *_] = sample_events("bucket-a", "us-east-1", "123456789012")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["aws.s3"]}, True),
        ({"source": ["aws.ec2"]}, False),
        ({"resources": ["arn:aws:s3:::bucket-a"]}, True),
        ({"detail": {"bucket": {"name": [{"prefix": "buck"}]}}}, True),
        ({"detail": {"bucket": {"name": [{"suffix": "-b"}]}}}, False),
        ({"detail": {"bucket": {"name": [{"anything-but": ["bucket-b"]}]}}}, True),
        ({"detail": {"bucket": {"name": [{"anything-but": "bucket-a"}]}}}, False),
        ({"detail": {"bucket": {"name": [{"equals-ignore-case": "BUCKET-A"}]}}}, True),
        ({"detail": {"bucket": {"name": [{"wildcard": "bucket-*"}]}}}, True),
        ({"detail": {"bucket": {"owner": [{"exists": True}]}}}, False),
        ({"detail": {"object": {"key": [{"prefix": "only/this/"}]}}}, True),
        ({"$or": [{"source": ["aws.ec2"]}, {"detail-type": ["Object Created"]}]}, True),
        ({"detail-type": ["Object Deleted"]}, False),
        ({"source": ["aws.s3"], "account": [{"cidr": "10.0.0.0/8"}]}, None),
        ({"detail": {"bucket": {"name": [{"wildcard": "bucket-?"}]}}}, None),
        ({"source": "aws.s3"}, None),
    ],
)
def test_r4_item1_patterns_are_decided_or_left_undecided(
    pattern: dict[str, Any], expected: bool | None
) -> None:
    assert could_match(pattern, CREATED) is expected


def test_r4_item1_each_s3_detail_type_is_sampled() -> None:
    assert DELETED["detail-type"] == "Object Deleted"
    assert could_match({"detail-type": ["Object Deleted"]}, DELETED) is True


def test_r4_item1_object_conditions_are_left_out_of_the_question_asked_of_eventbridge() -> None:
    assert without_object_fields({"source": ["aws.s3"], "detail": {"object": {"key": ["a"]}}}) == {
        "source": ["aws.s3"]
    }
    assert without_object_fields({"detail": {"object": {"key": ["a"]}}}) is None
