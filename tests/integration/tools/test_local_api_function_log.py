"""Under `make api` the functions' own output (Powertools JSON log lines and metrics, Python warnings) goes
to the function log file the local API names at start, never into its human progress lines on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.local_api.cli import function_log_path
from tools.local_api.workers import FunctionWorkers
from tools.local_invoke import load_env_file
from tools.project import PROJECT_ROOT, TEMPLATE_PATH, function_ids

BAD_SUBMISSION = json.loads((PROJECT_ROOT / "events" / "submission_bad.json").read_text(encoding="utf-8"))


def test_function_log_path_choices(tmp_path: Path) -> None:
    assert function_log_path("-") is None, "'-' keeps the functions' output on stderr"
    named = tmp_path / "functions.log"
    assert function_log_path(str(named)) == named.resolve()
    fresh = function_log_path(None)
    assert fresh is not None and fresh.is_file() and fresh.name.startswith("form-archive-functions-")
    fresh.unlink()


@pytest.mark.parametrize("to_file", [True, False])
def test_the_functions_output_goes_to_the_log_file_not_to_stderr(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], to_file: bool
) -> None:
    log = tmp_path / "functions.log"
    workers = FunctionWorkers(TEMPLATE_PATH, None, log if to_file else None)
    try:
        result = workers.call(
            function_ids().archive, BAD_SUBMISSION, load_env_file(PROJECT_ROOT / "events" / "env.json")
        )
    finally:
        workers.stop()
    assert result["statusCode"] == 400, "a bad submission is answered without S3"
    captured = capfd.readouterr()
    # The function's metrics (EMF) line names its metric: in the file, or else on stderr as before.
    written = log.read_text(encoding="utf-8") if to_file else captured.err
    assert "SubmissionsRejected" in written
    if to_file:
        assert "SubmissionsRejected" not in captured.err and "SubmissionsRejected" not in captured.out
    else:
        assert not log.exists() and "SubmissionsRejected" not in captured.out
