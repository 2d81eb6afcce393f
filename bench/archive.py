"""Warm archive handler calls against bare `put_object` calls of the same body, on the same server."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.stats import Series
from tests.api_events import api_event
from tools.lambda_context import LocalLambdaContext

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "sample_submission.json"


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """The handler's log lines and EMF metrics still get formatted and written, just not shown."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _timed_ms(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def measure_archive(bucket: str, calls: int, block: int, warmup: int = 20) -> tuple[Series, Series]:
    """Median-worthy samples of both: blocks of each kind alternate, and their order flips every pair."""
    os.environ["ARCHIVE_BUCKET"] = bucket
    os.environ["ARCHIVE_PREFIX"] = "submissions"
    os.environ.pop("MAX_SUBMISSION_BYTES", None)
    from archive_submission.app import lambda_handler  # noqa: PLC0415 - reads the environment above
    from form_archive_contract.s3 import get_s3_client  # noqa: PLC0415

    raw = SAMPLE.read_bytes()
    event = api_event(raw.decode("utf-8"))
    client = get_s3_client()  # the handler's own cached client: same pool, same server
    counter = iter(range(10**9))

    def handler_call() -> None:
        response: dict[str, Any] = lambda_handler(event, LocalLambdaContext(function_name="bench-archive"))
        if response["statusCode"] != 201:
            raise RuntimeError(f"archive handler answered {response['statusCode']}: {response['body']}")

    def put_call() -> None:
        client.put_object(Bucket=bucket, Key=f"bare/{next(counter)}.json", Body=raw)

    archive = Series("archive_p50_ms", "ms")
    bare = Series("put_object_p50_ms", "ms")
    kinds = [(handler_call, archive), (put_call, bare)]
    with stdout_to_devnull():
        for _ in range(warmup):
            handler_call()
            put_call()
        blocks = -(-calls // block)
        for index in range(blocks):
            size = min(block, calls - index * block)
            order = kinds if index % 2 == 0 else kinds[::-1]
            for call, series in order:
                for _ in range(size):
                    series.add(_timed_ms(call))
    return archive, bare
