"""Where the project is and what its template calls things: root, template.yaml, functions' logical IDs.

Tools, tests and benchmarks take these from here instead of spelling paths or logical IDs themselves, so a
renamed function or a moved template is changed in one place (the template) and found everywhere. The IDs
are read from the template by what each function is (its handler, and for the two upload functions the
kind of API that invokes them), not written down a second time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"

_FUNCTION_TYPE = "AWS::Serverless::Function"


@dataclass(frozen=True)
class FunctionIds:
    """The logical ID of each function in one template."""

    archive: str  # archive_submission: POST /submissions (REST API)
    upload: str  # upload_url behind the REST API (API key)
    browser_upload: str  # upload_url behind the HTTP API (JWT), for browsers
    notify: str  # notify_webhook: S3 events, SQS work


class TemplateFunctionsUnclear(Exception):
    """The template does not hold exactly one function of a kind this project expects."""


def _event_types(properties: dict[str, Any]) -> set[str]:
    events = properties.get("Events") or {}
    return {str(event.get("Type")) for event in events.values() if isinstance(event, dict)}


def _one(candidates: list[str], what: str, template_path: Path) -> str:
    if len(candidates) != 1:
        raise TemplateFunctionsUnclear(f"{template_path}: expected one {what}, found {candidates or 'none'}")
    return candidates[0]


@functools.cache
def function_ids(template_path: Path = TEMPLATE_PATH) -> FunctionIds:
    """The functions' logical IDs as `template_path` declares them (read once per path and process)."""
    from tools.sam_template import load_template  # noqa: PLC0415 - PyYAML only for callers that need IDs

    resources = load_template(template_path).get("Resources") or {}
    by_handler: dict[str, list[tuple[str, set[str]]]] = {}
    for logical_id, resource in resources.items():
        if isinstance(resource, dict) and resource.get("Type") == _FUNCTION_TYPE:
            properties = resource.get("Properties") or {}
            handler = str(properties.get("Handler", ""))
            by_handler.setdefault(handler, []).append((logical_id, _event_types(properties)))

    def ids(handler: str, event_type: str | None = None) -> list[str]:
        found = by_handler.get(handler, [])
        return [name for name, types in found if event_type is None or event_type in types]

    return FunctionIds(
        archive=_one(ids("archive_submission.app.lambda_handler"), "archive function", template_path),
        upload=_one(ids("upload_url.app.lambda_handler", "Api"), "REST upload function", template_path),
        browser_upload=_one(
            ids("upload_url.app.lambda_handler", "HttpApi"), "HTTP API upload function", template_path
        ),
        notify=_one(ids("notify_webhook.app.lambda_handler"), "notify function", template_path),
    )
