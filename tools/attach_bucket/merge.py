"""Pure functions over a bucket's notification and CORS configurations, as boto3 reads and writes them.

`PutBucketNotificationConfiguration` replaces the whole configuration, so attaching is "read, add one
key, write everything back": every Lambda, SQS and SNS configuration (ids, events, filters) is carried
over untouched. A configuration holding anything this module does not know is refused, never rewritten.
"""

from __future__ import annotations

import copy
import json
from typing import Any

EVENTBRIDGE = "EventBridgeConfiguration"
TARGET_LISTS = ("LambdaFunctionConfigurations", "QueueConfigurations", "TopicConfigurations")
KNOWN_KEYS = frozenset((*TARGET_LISTS, EVENTBRIDGE))
# Read-only noise boto3 adds to every answer; never part of what is written back.
RESPONSE_ONLY_KEYS = frozenset(("ResponseMetadata",))
# The CORS rule attach adds (--apply-cors) carries this id, so detach removes that rule and no other.
CORS_RULE_ID = "form-archive-uploads"
# The headers a presigned upload asks the browser to send (functions/upload_url/upload_plan.py).
UPLOAD_HEADERS = ("content-type", "x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm", "x-amz-meta-*")


class UnknownConfiguration(ValueError):
    """The bucket's configuration holds something this tool cannot carry over faithfully."""


def notification_of(response: dict[str, Any]) -> dict[str, Any]:
    """The configuration inside a GetBucketNotificationConfiguration answer, ready to be written back."""
    config = {key: copy.deepcopy(value) for key, value in response.items() if key not in RESPONSE_ONLY_KEYS}
    check_understood(config)
    return config


def check_understood(config: dict[str, Any]) -> None:
    """Raise `UnknownConfiguration` naming what cannot be written back unchanged."""
    unknown = sorted(set(config) - KNOWN_KEYS)
    if unknown:
        raise UnknownConfiguration(
            f"the notification configuration has {', '.join(unknown)}, which this tool does not know; "
            "it refuses to write rather than drop it"
        )
    for name in TARGET_LISTS:
        if name in config and not isinstance(config[name], list):
            raise UnknownConfiguration(f"{name} is not a list")
    if EVENTBRIDGE in config and config[EVENTBRIDGE] != {}:
        raise UnknownConfiguration(f"{EVENTBRIDGE} carries settings this tool does not know")


def eventbridge_enabled(config: dict[str, Any]) -> bool:
    return EVENTBRIDGE in config


def with_eventbridge(config: dict[str, Any]) -> dict[str, Any]:
    """`config` plus EventBridge delivery; everything else exactly as it was."""
    check_understood(config)
    attached = copy.deepcopy(config)
    attached[EVENTBRIDGE] = {}
    return attached


def without_eventbridge(config: dict[str, Any]) -> dict[str, Any]:
    """`config` without EventBridge delivery; everything else exactly as it was."""
    check_understood(config)
    return {key: copy.deepcopy(value) for key, value in config.items() if key != EVENTBRIDGE}


def canonical(config: dict[str, Any]) -> dict[str, Any]:
    """What a configuration means, independent of the order S3 lists things in and of how a filter
    rule's name is spelled (`Prefix` or `prefix`): two configurations that mean the same compare equal."""

    def target(entry: dict[str, Any]) -> str:
        entry = copy.deepcopy(entry)
        entry["Events"] = sorted(entry.get("Events", []))
        rules = entry.get("Filter", {}).get("Key", {}).get("FilterRules")
        if rules is not None:
            entry["Filter"]["Key"]["FilterRules"] = sorted(
                ({"Name": rule["Name"].lower(), "Value": rule["Value"]} for rule in rules),
                key=lambda rule: (rule["Name"], rule["Value"]),
            )
        return json.dumps(entry, sort_keys=True)

    meaning: dict[str, Any] = {
        name: sorted(target(entry) for entry in config.get(name, [])) for name in TARGET_LISTS
    }
    meaning[EVENTBRIDGE] = eventbridge_enabled(config)
    return meaning


def differences(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """The parts of `found` whose meaning differs from `expected` (empty: the same configuration)."""
    want, got = canonical(expected), canonical(found)
    return [name for name in (*TARGET_LISTS, EVENTBRIDGE) if want[name] != got[name]]


# ---------------------------------------------------------------- CORS


def upload_cors_rule(origins: list[str], template_rule: dict[str, Any]) -> dict[str, Any]:
    """The template's upload rule for `origins`, with the id detach looks for."""
    return {"ID": CORS_RULE_ID, **template_rule, "AllowedOrigins": list(origins)}


def cors_allows_uploads(rules: list[dict[str, Any]], origin: str) -> bool:
    """Whether one rule lets `origin` PUT with the headers a browser upload sends and read its ETag."""
    for rule in rules:
        origins = rule.get("AllowedOrigins", [])
        headers = [header.lower() for header in rule.get("AllowedHeaders", [])]
        exposed = [header.lower() for header in rule.get("ExposeHeaders", [])]
        if (
            (origin in origins or "*" in origins)
            and "PUT" in rule.get("AllowedMethods", [])
            and ("*" in headers or all(header in headers for header in UPLOAD_HEADERS))
            and "etag" in exposed
        ):
            return True
    return False


def with_cors_rule(rules: list[dict[str, Any]], rule: dict[str, Any]) -> list[dict[str, Any]]:
    """`rules` with `rule` in place of an earlier rule of ours (same id); the others kept in order."""
    return [copy.deepcopy(item) for item in rules if item.get("ID") != rule["ID"]] + [copy.deepcopy(rule)]


def without_cors_rule(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rules` without the rule attach added."""
    return [copy.deepcopy(item) for item in rules if item.get("ID") != CORS_RULE_ID]
