"""What the user sees: progress lines on stderr, the one JSON line on stdout, the curl commands."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tools.demo.model import FAKE_CREDENTIAL, REGION, DemoResult, Say
from tools.receiver import Delivery

if TYPE_CHECKING:
    from tools.demo.servers import DemoServers


def shown(path: Path) -> str:
    """A path as the user typed it or relative to the working directory when it is below it."""
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


def stderr_say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def describe_delivery(say: Say) -> Callable[[Delivery], None]:
    def report(delivery: Delivery) -> None:
        verdict = "signature valid" if delivery.signature_valid else "SIGNATURE INVALID"
        answer = {200: "200 OK", 401: "401 (bad signature)", 503: "503 (scripted failure)"}.get(
            delivery.status, str(delivery.status)
        )
        say(f"  receiver  delivery {delivery.number}: {verdict}, answered {answer}")

    return report


def curl_commands(result: DemoResult, servers: DemoServers) -> list[str]:
    sigv4 = f"--aws-sigv4 aws:amz:{REGION}:s3 --user {FAKE_CREDENTIAL}:{FAKE_CREDENTIAL}"
    lines = [
        "# list the archive bucket (moto's S3 endpoint):",
        f"curl -s '{servers.endpoint}/{servers.bucket}?list-type=2'",
    ]
    if result.archived:
        lines += [
            "# read the archived object (moto wants a signed request for objects; fake credentials):",
            f"curl -s {sigv4} '{servers.endpoint}/{servers.bucket}/{result.archived['key']}'",
        ]
    lines += [
        "# what the webhook receiver got (the last delivery, and all of them):",
        f"curl -s {servers.receiver.base_url}/deliveries/last",
        f"curl -s {servers.receiver.base_url}/deliveries",
    ]
    return lines


def emit(document: Mapping[str, Any], stdout: TextIO) -> None:
    stdout.write(json.dumps(document) + "\n")
    stdout.flush()
