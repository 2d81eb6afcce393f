"""events/env.json (what `make api` and `make invoke` load) leaves the settings the docs say the shell sets
to the shell: `MULTIPART_THRESHOLD_BYTES=6291456 make api` must reach the upload function."""

from __future__ import annotations

import json

import pytest

from tools.local_api.cli import DEFAULT_ENV_FILE
from tools.local_invoke import function_environment, load_env_file, read_function

# docs/uploads.md: tests, the demo and a user under `make api` lower these through the environment.
from tools.project import PROJECT_ROOT, function_ids

SHELL_SETTINGS = ("MULTIPART_THRESHOLD_BYTES", "MULTIPART_PART_BYTES")


def test_make_api_loads_events_env_json() -> None:
    assert DEFAULT_ENV_FILE.resolve() == (PROJECT_ROOT / "events" / "env.json").resolve()


@pytest.mark.parametrize("name", SHELL_SETTINGS)
def test_env_file_does_not_override_a_shell_setting(name: str) -> None:
    env = json.loads(DEFAULT_ENV_FILE.read_text(encoding="utf-8"))
    assert all(name not in variables for variables in env.values()), f"{name} would override the shell"


def test_the_shell_lowers_the_multipart_threshold_under_the_env_file() -> None:
    spec = read_function(function_ids().upload)
    overrides = load_env_file(DEFAULT_ENV_FILE)
    shell = {"MULTIPART_THRESHOLD_BYTES": "6291456", "MULTIPART_PART_BYTES": "5242880"}
    environment = function_environment(spec, overrides, shell)
    assert environment["MULTIPART_THRESHOLD_BYTES"] == "6291456"
    assert environment["MULTIPART_PART_BYTES"] == "5242880"
    # Without the shell: the template's values (64 MiB, 16 MiB), as a deployed stack has them.
    defaults = function_environment(spec, overrides, {})
    assert defaults["MULTIPART_THRESHOLD_BYTES"] == str(64 * 2**20)
    assert defaults["MULTIPART_PART_BYTES"] == str(16 * 2**20)
    # The env file still sets what it is for (a local bucket, the local token key).
    assert environment["UPLOAD_TOKEN_KEY"] == overrides[function_ids().upload]["UPLOAD_TOKEN_KEY"]
