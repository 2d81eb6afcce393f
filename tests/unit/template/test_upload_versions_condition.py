"""The upload roles may list the versions of one upload's key, never the whole bucket's (issue 30)."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from tests.unit.template.test_template import policy_statements
from tools.project import PROJECT_ROOT
from tools.sam_template import load_template
from upload_url.upload_request import UploadRequest, object_key

UPLOAD_FUNCTIONS = ("UploadUrlFunction", "BrowserUploadUrlFunction")


def versions_statements(logical_id: str) -> list[dict[str, Any]]:
    resources = load_template(PROJECT_ROOT / "template.yaml")["Resources"]
    statements = policy_statements(resources, logical_id)  # the shared upload policy included
    found = [
        statement
        for statement in statements
        if isinstance(statement, dict) and statement.get("Action") == "s3:ListBucketVersions"
    ]
    assert found, json.dumps(statements)[:500]
    return found


def admits(condition: dict[str, Any], prefix: str | None) -> bool:
    """IAM's reading of the two operators the statement uses (Null, StringLike), for one request."""
    for operator, tests in condition.items():
        for name, wanted in tests.items():
            assert name == "s3:prefix"
            if operator == "Null" and (prefix is None) != (wanted == "true"):
                return False
            if operator == "StringLike" and (prefix is None or not fnmatch.fnmatchcase(prefix, wanted)):
                return False
            assert operator in {"Null", "StringLike"}, operator
    return True


@pytest.mark.parametrize("logical_id", UPLOAD_FUNCTIONS)
def test_r4_item11_list_bucket_versions_admits_one_keys_prefix_never_the_whole_bucket(
    logical_id: str,
) -> None:
    key = object_key(
        UploadRequest(
            datapack_identifier="DP-9",
            path="/",
            filename="a.bin",
            content_type="application/octet-stream",
            size=1,
            sha256=None,
            uploader_name="",
            uploader_email="",
        )
    )
    for statement in versions_statements(logical_id):
        condition = statement["Condition"]
        assert admits(condition, key), key
        assert admits(condition, "DP-9/raw/Aufnahme 1.bin")
        for whole_bucket in (None, "", "D", "DP-9"):
            assert not admits(condition, whole_bucket), whole_bucket
