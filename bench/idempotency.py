"""`POST /submissions` with an `Idempotency-Key` (a fresh key, and a replay of the same request) against a
bare `put_object` of the same body, behind a store whose answers start 20 ms after each request; and a
load check: processes posting at once against moto's server, half of them with keys.

Behind the slow store every round trip shows, so the ratios count the S3 calls a keyed request makes;
the load check shows what the calls cost the store (moto lists a key's versions in time proportional to
the bucket).
"""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from bench.archive import SAMPLE, stdout_to_devnull
from bench.stats import Series
from tests.api_events import api_event
from tools.lambda_context import LocalLambdaContext

ROUND_2_LOAD_PER_S = 142.8  # the same load check at the end of round 2, on this machine and store


@dataclass(frozen=True)
class KeyedSeries:
    bare: Series
    plain: Series
    fresh: Series
    replay: Series


def unversioned_bucket(name: str) -> str:
    """A second bucket at the current endpoint, without versioning: where one conditional write decides."""
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def _archive_environment(bucket: str) -> None:
    os.environ["ARCHIVE_BUCKET"] = bucket
    os.environ["ARCHIVE_PREFIX"] = "submissions"
    os.environ.pop("MAX_SUBMISSION_BYTES", None)


def _handler_call(headers: dict[str, str], body: str) -> Callable[[], None]:
    from archive_submission.app import lambda_handler  # noqa: PLC0415 - reads the environment at call time

    def call() -> None:
        event = api_event(body, headers={"Content-Type": "application/json", **headers})
        response: dict[str, Any] = lambda_handler(event, LocalLambdaContext(function_name="bench-keyed"))
        if response["statusCode"] != 201:
            raise RuntimeError(f"archive handler answered {response['statusCode']}: {response['body']}")

    return call


def measure_keyed(bucket: str, calls: int, block: int, warmup: int = 10) -> KeyedSeries:
    """Blocks of each kind alternate, their order reversed every other round; the fresh kind takes a new
    key per call, the replay kind repeats one request written during the warm-up."""
    _archive_environment(bucket)
    from archive_submission.store_knowledge import forget  # noqa: PLC0415
    from form_archive_contract.s3 import get_s3_client  # noqa: PLC0415

    get_s3_client.cache_clear()  # the endpoint changed: a fresh container's client and knowledge
    forget()
    body = SAMPLE.read_text(encoding="utf-8")
    raw = body.encode("utf-8")
    client = get_s3_client()
    counter = iter(range(10**9))
    run = uuid.uuid4().hex[:8]
    plain = _handler_call({}, body)
    replay = _handler_call({"Idempotency-Key": f"bench-replay-{run}"}, body)

    def fresh() -> None:
        _handler_call({"Idempotency-Key": f"bench-fresh-{run}-{next(counter)}"}, body)()

    def bare() -> None:
        client.put_object(Bucket=bucket, Key=f"bare/{run}-{next(counter)}.json", Body=raw)

    result = KeyedSeries(
        Series("keyed_bare_put_p50_ms", "ms"),
        Series("keyed_plain_p50_ms", "ms"),
        Series("keyed_fresh_p50_ms", "ms"),
        Series("keyed_replay_p50_ms", "ms"),
    )
    kinds = [(bare, result.bare), (plain, result.plain), (fresh, result.fresh), (replay, result.replay)]
    with stdout_to_devnull():
        for _ in range(warmup):
            for call, _series in kinds:
                call()
        for index in range(-(-calls // block)):
            size = min(block, calls - index * block)
            for call, series in kinds if index % 2 == 0 else kinds[::-1]:
                for _ in range(size):
                    started = time.perf_counter()
                    call()
                    series.add((time.perf_counter() - started) * 1000)
    return result


def _load_worker(
    endpoint: str, bucket: str, count: int, keyed: bool, worker: int, start: Any, done: Any
) -> None:
    os.environ["AWS_ENDPOINT_URL_S3"] = endpoint
    _archive_environment(bucket)
    body = SAMPLE.read_text(encoding="utf-8")
    run = uuid.uuid4().hex[:8]
    calls = [
        _handler_call(
            {"Idempotency-Key": f"load-{run}-{worker}-{index}"} if keyed and index % 2 else {}, body
        )
        for index in range(count)
    ]
    warm = [calls[0]]
    if keyed:
        warm.append(_handler_call({"Idempotency-Key": f"load-{run}-{worker}-warm"}, body))
    with stdout_to_devnull():
        for call in warm:  # a warm container: its client made, what it learns of the store learned
            call()
        start.wait()
        for call in calls[1:]:
            call()
    done.put(worker)


def measure_load(
    endpoint: str, bucket: str, processes: int, per_process: int, *, keyed: bool = True
) -> float:
    """Submissions per second, all processes posting at once; with `keyed`, every other call carries a
    new Idempotency-Key. Each process is warmed first as a warm container is: one call, and with `keyed`
    one keyed call too (its client made, the store's answer to a conditional overwrite learned)."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes + 1)
    done = context.Queue()
    workers = [
        context.Process(
            target=_load_worker, args=(endpoint, bucket, per_process + 1, keyed, index, start, done)
        )
        for index in range(processes)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    started = time.perf_counter()
    for _ in workers:
        done.get(timeout=1800)
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise RuntimeError(f"load worker exited with {worker.exitcode}")
    return processes * per_process / elapsed
