"""`sam deploy --guided` through a pseudo terminal, answering like a first-time user.

The driver answers the webhook URL prompt with a URL and presses Enter at every other prompt (SAM CLI's
click prompts end in `: `), and records each prompt, so a test can count them and docs/deploy.md can show
the same dialogue. A prompt asked again and again (SAM CLI re-asks a NoEcho parameter until it is
non-empty) stops the run after `MAX_SAME_PROMPT` repeats instead of hanging.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pexpect

# A click prompt: a tab-indented line ending in ": " with no newline after it (SAM CLI makes the name bold).
PROMPT = re.compile(rb"\t([^\r\n\t]+?): $")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
WEBHOOK_PROMPT = "Parameter WebhookUrl"
DONE = re.compile(rb"Successfully created/updated stack - (\S+)")
MAX_SAME_PROMPT = 5
MAX_PROMPTS = 80


@dataclass
class GuidedRun:
    prompts: list[str] = field(default_factory=list)
    stack_name: str | None = None
    transcript: str = ""
    stopped: str = ""


def _matched(match: object) -> str:
    """The first group of what `expect` matched (a bytes regex match)."""
    assert isinstance(match, re.Match), match
    group = match.group(1)
    return group.decode(errors="replace") if isinstance(group, bytes) else str(group)


def drive(sam: Path, cwd: Path, env: dict[str, str], webhook_url: str, timeout: float = 900) -> GuidedRun:
    run = GuidedRun()
    child = pexpect.spawn(
        str(sam), ["deploy", "--guided"], cwd=str(cwd), env=env, timeout=timeout, dimensions=(50, 200)
    )
    transcript = io.BytesIO()
    child.logfile_read = transcript
    try:
        while True:
            index = child.expect([PROMPT, DONE, pexpect.EOF])
            if index == 2:
                run.stopped = "sam exited"
                break
            matched = _matched(child.match)
            if index == 1:
                run.stack_name = matched
                child.expect(pexpect.EOF)
                run.stopped = "stack created"
                break
            prompt = ANSI.sub("", matched).strip()
            run.prompts.append(prompt)
            if run.prompts[-MAX_SAME_PROMPT:] == [prompt] * MAX_SAME_PROMPT:
                run.stopped = f"'{prompt}' asked {MAX_SAME_PROMPT} times in a row"
                break
            if len(run.prompts) > MAX_PROMPTS:
                run.stopped = f"more than {MAX_PROMPTS} prompts"
                break
            child.sendline(webhook_url if prompt.startswith(WEBHOOK_PROMPT) else "")
    finally:
        run.transcript = ANSI.sub("", transcript.getvalue().decode(errors="replace"))
        child.close(force=True)
    return run
