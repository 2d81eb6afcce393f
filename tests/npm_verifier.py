"""The npm `standardwebhooks` library as a second, independent verifier of the function's signatures.

tests/node/package.json pins it (with its lockfile); the first use installs it with `npm ci` into
tests/node/node_modules (ignored by git). Node.js and npm come from Debian's packages; without them the
test fails and says so rather than skipping.
"""

from __future__ import annotations

import base64
import fcntl
import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parent / "node"
_INSTALLED = NODE_DIR / "node_modules" / "standardwebhooks" / "package.json"


class NpmVerifierUnavailable(RuntimeError):
    """Node.js, npm or the pinned package cannot be had; the message says how to get them."""


def ensure_installed() -> None:
    """`npm ci` once (under a lock, as several test runs may start together)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise NpmVerifierUnavailable("node and npm are needed: apt-get install nodejs npm")
    with (NODE_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _INSTALLED.exists():
            return
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise NpmVerifierUnavailable(f"npm ci in {NODE_DIR} failed: {result.stderr.strip()[-500:]}")


def npm_verifies(secrets: str | Sequence[str], headers: Mapping[str, str], body: bytes) -> int | None:
    """The index of the first secret the npm library accepts the delivery with, or None."""
    ensure_installed()
    listed = [secrets] if isinstance(secrets, str) else list(secrets)
    request = {
        "secrets": listed,
        "headers": dict(headers),
        "body_base64": base64.b64encode(body).decode("ascii"),
    }
    result = subprocess.run(
        ["node", str(NODE_DIR / "verify.cjs")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    index = int(result.stdout.strip())
    return None if index < 0 else index
