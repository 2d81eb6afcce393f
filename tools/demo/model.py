"""What every part of the demo shares: names, options, the result, and how a step fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.project import PROJECT_ROOT, TEMPLATE_PATH, function_ids
from tools.receiver import Delivery

ARCHIVE_FUNCTION = function_ids().archive
NOTIFY_FUNCTION = function_ids().notify
DEFAULT_EVENT = PROJECT_ROOT / "events" / "submission.json"
DEFAULT_ENV_VARS = PROJECT_ROOT / "events" / "env.json"
DEFAULT_BUCKET = "form-archive-local"
DEFAULT_SECRET = "testing"  # noqa: S105 - the demo's fake secret, as in events/env.json
REGION = "us-east-1"
FAKE_CREDENTIAL = "testing"
ALLOW_HTTP = "WEBHOOK_ALLOW_HTTP"  # the notify function accepts an http:// WEBHOOK_URL only with this
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

Say = Callable[[str], None]


class DemoFailed(Exception):
    """A step of the pipeline did not do what it should; the message is the reason shown to the user."""


@dataclass(frozen=True)
class DemoOptions:
    payload: Path | None = None
    keep_running: bool = False
    event: Path = DEFAULT_EVENT
    env_vars: Path = DEFAULT_ENV_VARS
    template: Path = TEMPLATE_PATH
    receiver_fail_first: int = 0
    receiver_fail_always: bool = False
    receiver_secret: str | None = None  # None: the secret the notify function signs with
    max_attempts: int | None = None  # None: WEBHOOK_MAX_ATTEMPTS from the env-vars file / template
    log_level: str = "ERROR"
    park_and_replay: bool = False  # the receiver is down, the event is parked, then replayed
    existing_bucket: bool = (
        False  # someone else's bucket: attach, EventBridge route (tools.demo.existing_bucket)
    )
    outage: bool = False  # the receiver is down for the first attempts; the work queue delivers later


@dataclass
class DemoResult:
    archived: dict[str, str] | None = None
    webhook: dict[str, Any] | None = None
    uploaded: dict[str, Any] | None = None  # the upload flow's outcome (tools.demo.upload)
    multipart: dict[str, Any] | None = None  # the multipart upload's outcome (tools.demo.multipart)
    error: str | None = None
    notify_result: Any = None
    deliveries: list[Delivery] = field(default_factory=list)
    replay: dict[str, Any] | None = None  # --park-and-replay: what was parked and replayed
    existing_bucket: dict[str, Any] | None = None  # --existing-bucket: attach and both notifications
    outage: dict[str, Any] | None = None  # --outage: attempts, the one webhook-id, what was parked

    @property
    def ok(self) -> bool:
        return self.error is None and self.archived is not None and self.webhook is not None

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "archived": self.archived,
            "webhook": self.webhook,
            "uploaded": self.uploaded,
        }
        if self.multipart is not None:
            document["multipart"] = self.multipart
        if self.replay is not None:
            document["replay"] = self.replay
        if self.existing_bucket is not None:
            document["existing_bucket"] = self.existing_bucket
        if self.outage is not None:
            document["outage"] = self.outage
        if self.error is not None:
            document["error"] = self.error
        return document
