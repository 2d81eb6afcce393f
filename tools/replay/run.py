"""`list` and `replay` over a queue: one entry per message, the summary, and the rule that a message is
deleted only after its own invocation succeeded."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from tqdm import tqdm

from tools.replay.errors import EXIT_LEFT, EXIT_OK, EXIT_UNREACHABLE, ReplayError
from tools.replay.invokers import Invocation, Invoker
from tools.replay.queue import SQS_BATCH, FailureQueue, Parked, scan
from tools.replay.record import NotARecord, ParkedRecord, parse_record

# A replayed message stays hidden while its invocation runs: longer than Lambda's 15-minute maximum.
REPLAY_VISIBILITY_SECONDS = 900
# `list` and `--dry-run` only read: long enough to page through the queue once.
LOOK_VISIBILITY_SECONDS = 120


@dataclass
class Summary:
    command: str
    queue_url: str
    function: str | None
    dry_run: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    unreleased: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for item in self.messages if item["outcome"] == outcome)

    @property
    def left(self) -> int:
        return sum(1 for item in self.messages if item["outcome"] != "replayed")

    def document(self) -> dict[str, Any]:
        counts = {
            "seen": len(self.messages),
            "replayed": self.count("replayed"),
            "failed": self.count("failed"),
            "not_records": self.count("not-a-record"),
            "left_on_queue": self.left,
        }
        if self.dry_run:
            counts["would_replay"] = self.count("would-replay")
        document: dict[str, Any] = {
            "command": self.command,
            "dry_run": self.dry_run,
            "queue_url": self.queue_url,
            "function": self.function,
            "counts": counts,
            "messages": self.messages,
        }
        if self.unreleased:
            document["not_made_visible"] = self.unreleased
        if self.error:
            document["error"] = self.error
        return document

    def exit_code(self) -> int:
        if self.error:
            return EXIT_UNREACHABLE
        if self.command == "replay" and not self.dry_run and self.left:
            return EXIT_LEFT
        return EXIT_OK


def _entry(message: Parked, now: float) -> tuple[dict[str, Any], ParkedRecord | None]:
    entry: dict[str, Any] = {"message_id": message.message_id, "age_seconds": message.age_seconds(now)}
    try:
        record = parse_record(message.body)
    except NotARecord as problem:
        entry.update(outcome="not-a-record", reason=str(problem))
        return entry, None
    entry.update(keys=list(record.keys), attempts=record.attempts, reason=record.reason)
    if record.webhook_id is not None:
        entry["webhook_id"] = record.webhook_id
    if record.history:
        entry["history"] = list(record.history)
    return entry, record


def _describe(entry: Mapping[str, Any]) -> str:
    keys = ", ".join(entry.get("keys") or []) or "(no object key)"
    age = entry.get("age_seconds")
    age_text = "?" if age is None else _age(int(age))
    attempts = entry.get("attempts")
    parts = [f"{entry['outcome']:<12}", keys, f"age {age_text}"]
    if attempts is not None:
        parts.append(f"attempts {attempts}")
    if entry.get("previous_reason"):
        parts.append(f"reason: {entry.get('reason')} (parked with: {entry['previous_reason']})")
    elif entry.get("reason") and entry["outcome"] not in {"replayed"}:
        parts.append(f"reason: {entry['reason']}")
    return "  ".join(parts)


def _age(seconds: int) -> str:
    if seconds >= 86400:
        return f"{seconds // 86400}d{seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60}s"
    return f"{seconds}s"


@dataclass(frozen=True)
class RunOptions:
    limit: int | None = None
    dry_run: bool = False
    wait_seconds: int = 1
    progress: bool = True


def run(
    command: str,
    queue: FailureQueue,
    invoker: Invoker | None,
    options: RunOptions,
    *,
    function: str | None = None,
    stderr: TextIO | None = None,
    report: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> Summary:
    """`list` (invoker unused) or `replay`. Never raises `ReplayError`: it ends up in `summary.error`.
    One line per message goes to `report`, by default above the progress bar on `stderr`."""
    stderr = stderr or sys.stderr
    replaying = command == "replay" and not options.dry_run
    summary = Summary(command=command, queue_url=queue.url, function=function, dry_run=options.dry_run)
    held: list[Parked] = []  # received and not deleted: made visible again at the end
    try:
        total = queue.approximate_count()
        if options.limit is not None:
            total = min(total, options.limit)
        visibility = REPLAY_VISIBILITY_SECONDS if replaying else LOOK_VISIBILITY_SECONDS
        batch = 1 if replaying else SQS_BATCH  # one at a time: a message waits hidden only while it runs
        with tqdm(
            total=total, file=stderr, unit="msg", desc=command, disable=not options.progress, leave=True
        ) as bar:
            for message in scan(queue, options.limit, visibility, options.wait_seconds, batch):
                held.append(message)
                entry, record = _entry(message, clock())
                if record is not None:
                    if not replaying:
                        entry["outcome"] = "would-replay" if command == "replay" else "parked"
                    else:
                        _replay_one(queue, invoker, message, record, entry, held)
                summary.messages.append(entry)
                if report is None:
                    bar.write(_describe(entry), file=stderr)
                else:
                    report(_describe(entry))
                bar.update(1)
    except ReplayError as error:
        summary.error = str(error)
    finally:
        summary.unreleased = queue.release(held) if held else []
    return summary


COUNT_FIELDS = ("delivered", "skipped", "ignored", "failed")
# Present only when not zero. `postponed`: the delivery failed again and is back on the function's
# schedule (its work queue); `parked`: the function parked it again itself. Either way it was handled.
OPTIONAL_COUNT_FIELDS = ("postponed", "parked")


def handled_nothing(result: Any, record: ParkedRecord) -> bool:
    """The function answered success with zero of everything for a record that names objects: it did
    not find the event inside (a version that predates OnFailure records answers so). Not a replay."""
    if not record.keys or not isinstance(result, dict):
        return False
    counts = [result.get(name) for name in COUNT_FIELDS] + [
        result.get(name, 0) for name in OPTIONAL_COUNT_FIELDS
    ]
    return all(isinstance(count, int) for count in counts) and not any(counts)


def _replay_one(
    queue: FailureQueue,
    invoker: Invoker | None,
    message: Parked,
    record: ParkedRecord,
    entry: dict[str, Any],
    held: list[Parked],
) -> None:
    assert invoker is not None, "replay needs an invoker"  # noqa: S101 - a programming error
    outcome = invoker(message.body)
    if outcome.ok and handled_nothing(outcome.result, record):
        outcome = Invocation(
            ok=False,
            reason="the function answered success but handled no object: does it take OnFailure records?",
            result=outcome.result,
        )
    if not outcome.ok:
        entry["previous_reason"] = entry.get("reason")
        entry.update(outcome="failed", reason=outcome.reason)
        return
    problem = queue.delete(message)
    if problem is not None:
        entry.update(outcome="replayed-not-deleted", reason=f"replayed, but the delete failed: {problem}")
        return
    held.remove(message)
    entry["outcome"] = "replayed"
