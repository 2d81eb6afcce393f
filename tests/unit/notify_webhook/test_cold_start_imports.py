"""A cold start without a work queue loads none of the work-queue path: those modules are imported when a
work queue is configured or a continuation arrives, so the direct route's first answer stays quick."""

from __future__ import annotations

import json
import os
import subprocess
import sys

WORK_QUEUE_PATH = (
    "notify_webhook.continuation.message",
    "notify_webhook.continuation.sealing",
    "notify_webhook.continuation.work_queue",
    "notify_webhook.continuation.work_settings",
    "notify_webhook.continued_work",
    "notify_webhook.handoff",
    "notify_webhook.hash_phase",
    "notify_webhook.object_hash.links",
    "notify_webhook.object_hash.sha256_state",
)

_CHILD = """
import json, sys
from notify_webhook.app import lambda_handler
from notify_webhook.settings import load_settings
settings = load_settings({"WEBHOOK_URL": "https://receiver.example/w", "WEBHOOK_SECRET_TOKEN": "testing"})
assert settings.work is None
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(script: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_direct_route_imports_no_work_queue_module() -> None:
    loaded = _modules_after(_CHILD)
    assert "notify_webhook.app" in loaded
    assert loaded.isdisjoint(WORK_QUEUE_PATH), sorted(loaded.intersection(WORK_QUEUE_PATH))


def test_a_work_queue_setting_loads_its_modules() -> None:
    script = _CHILD.replace('"testing"}', '"testing", "HASH_LINK_MAX_BYTES": "1048576"}')
    assert "notify_webhook.continuation.work_settings" in _modules_after(script)
