"""Whether an EventBridge pattern could match a bucket's S3 events, decided without guessing.

Detach may only turn EventBridge delivery off when no other rule receives the bucket's events. EventBridge's
`TestEventPattern` answers that on AWS; emulators (moto's server) do not implement it, so these pure
functions evaluate the common part of the pattern language themselves and answer `None` (undecided) for
anything else: the caller refuses rather than guess.

The object's own fields (`detail.object`: key, size, ETag) differ from event to event, so a pattern is
asked whether *some* object event of the bucket could match: constraints under `detail.object` count as
satisfiable.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

# Every detail-type S3 sends to EventBridge (S3 User Guide, "Amazon S3 Event Notifications in EventBridge").
S3_DETAIL_TYPES = (
    "Object Created",
    "Object Deleted",
    "Object Restore Initiated",
    "Object Restore Completed",
    "Object Restore Expired",
    "Object Tags Added",
    "Object Tags Deleted",
    "Object ACL Updated",
    "Object Storage Class Changed",
    "Object Access Tier Changed",
)
OBJECT_PATH = ("detail", "object")
_MISSING = object()


class Undecided(Exception):
    """The pattern uses something this evaluation does not know."""


def sample_events(bucket: str, region: str, account: str) -> list[dict[str, Any]]:
    """One event of each S3 detail-type for `bucket`, shaped as S3 sends them."""
    return [
        {
            "version": "0",
            "id": "17793124-05d4-b198-2fde-7ededc63b103",
            "detail-type": detail_type,
            "source": "aws.s3",
            "account": account,
            "time": "2026-01-01T00:00:00Z",
            "region": region,
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                "object": {"key": "sample.txt", "size": 1, "etag": "d41d8cd98f00b204e9800998ecf8427e"},
                "request-id": "N4N7GDK58NMKJ12R",
                "requester": account,
                "reason": "PutObject",
            },
        }
        for detail_type in S3_DETAIL_TYPES
    ]


def without_object_fields(pattern: dict[str, Any]) -> dict[str, Any] | None:
    """`pattern` without its `detail.object` constraints (for TestEventPattern); None when nothing is left,
    that is when the pattern matches some event of every bucket."""
    detail = pattern.get("detail")
    if not isinstance(detail, dict) or "object" not in detail:
        return pattern
    rest_of_detail = {key: value for key, value in detail.items() if key != "object"}
    stripped = {key: value for key, value in pattern.items() if key != "detail"}
    if rest_of_detail:
        stripped["detail"] = rest_of_detail
    return stripped or None


def could_match(pattern: Any, event: dict[str, Any]) -> bool | None:
    """True or False when decided; None when the pattern holds something this evaluation does not know."""
    try:
        return _object_matches(pattern, event, ())
    except Undecided:
        return None


def _object_matches(pattern: Any, event: Any, path: tuple[str, ...]) -> bool:
    if not isinstance(pattern, dict) or not pattern:
        raise Undecided(f"not a pattern object at {'.'.join(path) or 'top'}")
    if path == OBJECT_PATH:
        return True
    results = []
    for name, wanted in pattern.items():
        if name == "$or":
            if not isinstance(wanted, list) or not wanted:
                raise Undecided("$or")
            results.append(any(_object_matches(branch, event, path) for branch in wanted))
            continue
        value = event.get(name, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(wanted, dict):
            results.append(
                _object_matches(wanted, value, (*path, name)) if isinstance(value, dict) else False
            )
        elif isinstance(wanted, list) and wanted:
            results.append(_field_matches(wanted, value))
        else:
            raise Undecided(f"{name} is neither an object nor a non-empty list")
    return all(results)


def _field_matches(filters: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(_filter_matches(item, one) for item in filters for one in values)


_STRING_TESTS: dict[str, Callable[[str, str], bool]] = {
    "prefix": str.startswith,
    "suffix": str.endswith,
    "equals-ignore-case": lambda value, operand: value.casefold() == operand.casefold(),
    "wildcard": fnmatch.fnmatchcase,  # only `*` reaches it: other shell characters are undecided
}


def _filter_matches(item: Any, value: Any) -> bool:
    if item is None or isinstance(item, (str, bool, int, float)):
        return value is not _MISSING and value == item and type(value) is type(item)
    if not isinstance(item, dict) or len(item) != 1:
        raise Undecided("a filter that is not one operator")
    [(operator, operand)] = item.items()
    if operator == "exists" and isinstance(operand, bool):
        return (value is not _MISSING) is operand
    if operator in _STRING_TESTS and isinstance(operand, str):
        if operator == "wildcard" and set(operand) & set("?[]\\"):
            raise Undecided("wildcard with characters other than *")
        return isinstance(value, str) and _STRING_TESTS[operator](value, operand)
    if operator == "anything-but":
        excluded = operand if isinstance(operand, list) else [operand]
        if not excluded or not all(isinstance(one, (str, int, float)) for one in excluded):
            raise Undecided("anything-but with an operator inside")
        return value is not _MISSING and value not in excluded
    raise Undecided(operator)
