"""The environment of work beyond one invocation: the two queues, the key and the delivery schedule.

`WORK_QUEUE_URL` unset: no continuation (a local setup without SQS); a failed delivery raises as before,
so Lambda's own retries and OnFailure destination keep the event. Set: `FAILURE_QUEUE_URL` and a
checkpoint key are required too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from form_archive_contract.settings import ServerMisconfigured, bounded_number

from ..object_hash import LinkPolicy
from .key import checkpoint_key
from .schedule import DEFAULT_SCHEDULE, InvalidSchedule, RetrySchedule, parse_schedule
from .scheduled_delivery import DEFAULT_INLINE_WAIT_SECONDS

SCHEDULE_VARIABLE = "WEBHOOK_RETRY_SCHEDULE"
INLINE_VARIABLE = "WEBHOOK_INLINE_WAIT_SECONDS"
LINK_BYTES_VARIABLE = "HASH_LINK_MAX_BYTES"
MAX_INLINE_WAIT_SECONDS = 60.0


class WorkSettingsError(ValueError):
    """A variable of this group is wrong; the message names it, never a value."""


@dataclass(frozen=True)
class WorkSettings:
    """`repr` hides the key."""

    work_queue_url: str
    failure_queue_url: str
    key: bytes = field(repr=False)
    schedule: RetrySchedule = DEFAULT_SCHEDULE
    inline_wait_seconds: float = DEFAULT_INLINE_WAIT_SECONDS
    links: LinkPolicy = LinkPolicy()  # noqa: RUF009 - frozen, so one shared default is safe


def _value(environ: Mapping[str, str], name: str) -> str | None:
    return environ.get(name, "").strip() or None


def retry_schedule(environ: Mapping[str, str]) -> RetrySchedule:
    raw = _value(environ, SCHEDULE_VARIABLE)
    if raw is None:
        return DEFAULT_SCHEDULE
    try:
        return parse_schedule(raw)
    except InvalidSchedule as error:
        raise WorkSettingsError(f"{SCHEDULE_VARIABLE} {error}") from None


def inline_wait_seconds(environ: Mapping[str, str]) -> float:
    try:
        return bounded_number(
            environ,
            INLINE_VARIABLE,
            DEFAULT_INLINE_WAIT_SECONDS,
            0.0,
            MAX_INLINE_WAIT_SECONDS,
            parse=float,
            kind="a number of seconds",
        )
    except ServerMisconfigured as error:
        raise WorkSettingsError(str(error)) from None


def link_policy(environ: Mapping[str, str]) -> LinkPolicy:
    """`HASH_LINK_MAX_BYTES`: at most this many bytes hashed per invocation (unset: the time decides)."""
    raw = _value(environ, LINK_BYTES_VARIABLE)
    if raw is None:
        return LinkPolicy()
    try:
        limit = int(raw)
    except ValueError:
        raise WorkSettingsError(f"{LINK_BYTES_VARIABLE} must be a whole number of bytes") from None
    if limit < 1:
        raise WorkSettingsError(f"{LINK_BYTES_VARIABLE} must be at least 1")
    return LinkPolicy(max_link_bytes=limit)


def load_work_settings(environ: Mapping[str, str]) -> WorkSettings | None:
    """None without `WORK_QUEUE_URL`; raises `WorkSettingsError` or `CheckpointKeyMissing`."""
    schedule = retry_schedule(environ)
    inline = inline_wait_seconds(environ)
    links = link_policy(environ)
    work_queue_url = _value(environ, "WORK_QUEUE_URL")
    if work_queue_url is None:
        return None
    failure_queue_url = _value(environ, "FAILURE_QUEUE_URL")
    if failure_queue_url is None:
        raise WorkSettingsError(
            "WORK_QUEUE_URL needs FAILURE_QUEUE_URL (where work that cannot succeed is parked)"
        )
    return WorkSettings(
        work_queue_url=work_queue_url,
        failure_queue_url=failure_queue_url,
        key=checkpoint_key(environ),
        schedule=schedule,
        inline_wait_seconds=inline,
        links=links,
    )
