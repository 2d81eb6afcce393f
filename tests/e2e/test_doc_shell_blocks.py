"""Every shell block that README.md or a docs page presents as runnable (fence info `sh` or `bash`) runs,
as a reader would paste it, and succeeds (docs/development.md, "Shell blocks in these pages").

Each block runs with bash (`set -euo pipefail`) from the project folder, with no AWS credentials and no
`AWS_*` variable, `HOME` in a temporary folder, and, where `unshare` can make one, in a network
namespace with nothing but loopback (so a block cannot reach the internet, and its ports cannot collide
with anything else on the machine). `.venv/` in a block is the virtual environment running the tests.
A block that a dedicated test runs carries a marker naming that test, which must exist; it is left to it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from tests.e2e.test_readme_local_run import free_port, linked_venv
from tools.project import PROJECT_ROOT

PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_MARKER = re.compile(r"<!-- [a-z-]+: (tests/\S+\.py) runs this block -->\s*\Z")
RUNNABLE = {"sh", "bash"}


def shell_blocks() -> list[tuple[str, str, str | None]]:
    """(where, code, dedicated test) of every runnable block."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            if match.group(1).strip().split(" ")[0] not in RUNNABLE:
                continue
            line = text.count("\n", 0, match.start()) + 1
            marker = _MARKER.search(text[: match.start()])
            where = f"{page.relative_to(PROJECT_ROOT)}:{line}"
            found.append((where, match.group(2), marker.group(1) if marker else None))
    return found


BLOCKS = shell_blocks()


@cache
def isolation() -> list[str]:
    """A prefix that runs a command in a loopback-only network namespace, or [] where none can be made."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not unshare or not ip:
        return []
    prefix = [unshare, "--net"] if os.geteuid() == 0 else [unshare, "--net", "--map-root-user"]
    probe = subprocess.run([*prefix, ip, "link", "set", "lo", "up"], capture_output=True, check=False)
    return prefix if probe.returncode == 0 else []


def test_the_pages_have_runnable_blocks_and_their_tests_exist() -> None:
    assert BLOCKS, "no runnable block found: the fence pattern or the pages changed"
    for where, _code, dedicated in BLOCKS:
        if dedicated is not None:
            assert (PROJECT_ROOT / dedicated).is_file(), f"{where} names {dedicated}, which does not exist"


def test_no_block_presented_as_runnable_needs_aws_or_a_dialogue() -> None:
    """A quick look for what cannot work in a clean environment: those blocks must be `console`."""
    for where, code, _dedicated in BLOCKS:
        for needs in ("aws ", "sam deploy", "--guided", "sudo ", "docker "):
            assert needs not in code, f"{where} runs `{needs.strip()}`: fence it as console"


@pytest.mark.moto_only("the blocks start their own moto server")
@pytest.mark.parametrize(
    ("where", "code"), [(where, code) for where, code, dedicated in BLOCKS if dedicated is None] or [("", "")]
)
def test_runnable_block(where: str, code: str, tmp_path: Path) -> None:
    if not where:
        pytest.skip("every runnable block has a dedicated test")
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "MAKE", "PYTEST_")) and name not in {"MFLAGS"}
    }
    venv = linked_venv(tmp_path / "venv")  # the tests' environment, with a set-up stamp make trusts
    environment.update(HOME=str(tmp_path), VENV=str(venv), MAKEFLAGS="--no-print-directory")
    script = code.replace(".venv/bin/", f"{venv}/bin/")
    if not isolation():  # the machine's own network: free ports instead of the page's
        for port in ("5000", "8000"):
            script = script.replace(port, str(free_port()))
    prologue = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n"
    inner = ["bash", "-c", prologue + script]
    command = (
        [*isolation(), "sh", "-c", 'ip link set lo up && exec "$@"', "-", *inner] if isolation() else inner
    )
    completed = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, (
        f"{where} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-3000:]}"
    )
