"""Cold start: a fresh interpreter to its first answer, each function against the least code doing the same
work (a bare `put_object` for the archive function; `get_object` + hashlib over `iter_chunks()` +
`requests.post`, the handbook's body, for the notify function).

The method: every sample is one fresh child process, timed inside it from its first line to the handler's
first answer (import + answer; no interpreter start, no exit), which the child reports on stderr. The
ratio is the median of one kind over the median of its baseline, the kinds alternating run by run (order
rotated). Spawn to answer, as seen from outside, is reported beside it. Children get a Lambda-like
environment (bench.imports) and reach moto's server and a webhook receiver on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

from bench.imports import ROOT, _child_env
from bench.stats import Series
from tests.api_events import api_event
from tests.webhook_receiver import WebhookReceiver, object_created_record, s3_event

METHOD = (
    "fresh interpreter, first line to first answer timed inside the process, median of {runs} runs "
    "alternating with the baseline"
)

# What every child shares: a clock at the top and a stage report at the end (stdout is the function's log).
_PROLOGUE = "import time; _t0 = time.perf_counter(); _w0 = time.time()\n"
_EPILOGUE = """
import json as _json, sys as _sys
_sys.stderr.write(_json.dumps({
    "import_ms": (_t1 - _t0) * 1000, "answer_ms": (_t2 - _t1) * 1000, "started_at": _w0,
    "answered_at": _w0 + (_t2 - _t0),
}))
"""
_CONTEXT = """
class Context:
    function_name = "bench-function"; memory_limit_in_mb = 512; aws_request_id = "bench-request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-function"
    function_version = "$LATEST"; log_group_name = "/aws/lambda/bench"; log_stream_name = "bench"
    def get_remaining_time_in_millis(self): return 30000
"""


def _handler_script(package: str, check: str) -> str:
    """A child that imports `package`'s handler (the import stage), then answers one event; `check` is the
    expression, over `answer`, that the answer must satisfy."""
    return (
        _CONTEXT
        + _PROLOGUE
        + f"""
from {package}.app import lambda_handler
import json, os
_t1 = time.perf_counter()
answer = lambda_handler(json.loads(os.environ["BENCH_EVENT"]), Context())
assert {check}, answer
_t2 = time.perf_counter()
"""
        + _EPILOGUE
    )


SCRIPTS = {
    "archive": _handler_script("archive_submission", 'answer["statusCode"] == 201'),
    "archive_least": _PROLOGUE
    + """
import base64, hashlib, json, os, uuid
import boto3
_t1 = time.perf_counter()
body = json.loads(os.environ["BENCH_EVENT"])["body"].encode()
boto3.client("s3").put_object(
    Bucket=os.environ["ARCHIVE_BUCKET"], Key=f"least/{uuid.uuid4()}.json", Body=body,
    ContentType="application/json", ServerSideEncryption="AES256", IfNoneMatch="*",
    ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode(),
    Metadata={"uploaded-by": "archive-submission"},
)
_t2 = time.perf_counter()
"""
    + _EPILOGUE,
    "notify": _handler_script("notify_webhook", 'answer["delivered"] == 1'),
    "notify_least": _PROLOGUE
    + """
import base64, hashlib, hmac, json, os, urllib.parse
import boto3, requests
_t1 = time.perf_counter()
record = json.loads(os.environ["BENCH_EVENT"])["Records"][0]["s3"]
bucket, key = record["bucket"]["name"], urllib.parse.unquote_plus(record["object"]["key"])
s3 = boto3.client("s3")
head = s3.get_object(Bucket=bucket, Key=key)
sha = hashlib.sha256()
for chunk in head["Body"].iter_chunks():
    sha.update(chunk)
first, _, rest = key.partition("/")
payload = {"datapack_identifier": first, "display": key.rsplit("/", 1)[-1], "path": "/",
           "content_type": head["ContentType"], "length": head["ContentLength"],
           "etag": record["object"]["eTag"], "sha256": sha.hexdigest(),
           "submitter_name": head["Metadata"].get("uploader-name"),
           "submitter_email": head["Metadata"].get("uploader-email"), "_updated": str(head["LastModified"])}
body = json.dumps(payload).encode()
stamp = str(int(time.time()))
mac = hmac.new(os.environ["WEBHOOK_SECRET_TOKEN"].encode(), f"msg_1.{stamp}.".encode() + body, "sha256")
answer = requests.post(os.environ["WEBHOOK_URL"], data=body, timeout=10, headers={
    "content-type": "application/json", "webhook-id": "msg_1", "webhook-timestamp": stamp,
    "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode()})
assert answer.status_code == 200, answer.status_code
_t2 = time.perf_counter()
"""
    + _EPILOGUE,
}
PAIRS = {"archive": "archive_least", "notify": "notify_least"}


@dataclass
class ColdStarts:
    total_ms: dict[str, Series] = field(default_factory=dict)  # first line to first answer, in-process
    spawn_ms: dict[str, Series] = field(default_factory=dict)  # spawn to first answer, seen from outside
    import_ms: dict[str, Series] = field(default_factory=dict)
    answer_ms: dict[str, Series] = field(default_factory=dict)
    start_ms: dict[str, Series] = field(default_factory=dict)
    exit_ms: dict[str, Series] = field(default_factory=dict)
    ratios: dict[str, Series] = field(default_factory=dict)


def _run_child(kind: str, env: dict[str, str]) -> tuple[float, dict[str, float]]:
    started, spawned_at = time.perf_counter(), time.time()
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPTS[kind]],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    ended_at = spawned_at + (time.perf_counter() - started)
    if completed.returncode != 0:
        raise RuntimeError(f"cold start of {kind} failed: {completed.stderr[-2000:]}")
    stages: dict[str, float] = json.loads(completed.stderr.strip().splitlines()[-1])
    stages["start_ms"] = (stages.pop("started_at") - spawned_at) * 1000
    answered_at = stages.pop("answered_at")
    stages["exit_ms"] = (ended_at - answered_at) * 1000  # Lambda keeps the process: not part of the answer
    stages["spawn_ms"] = (answered_at - spawned_at) * 1000
    return stages["import_ms"] + stages["answer_ms"], stages


def measure_cold_starts(bucket: str, runs: int) -> ColdStarts:
    """Needs AWS_ENDPOINT_URL_S3 (moto's server) set, and `bucket` created; starts its own receiver."""
    import boto3  # noqa: PLC0415 - the parent's own client, only to store the notify object

    body = b'{"first_name": "Jane", "message": "cold start"}'
    put = boto3.client("s3").put_object(
        Bucket=bucket,
        Key="pack/cold/object.json",
        Body=body,
        ContentType="application/json",
        Metadata={
            "uploaded-by": "presigned-url",
            "uploader-name": "Jane",
            "uploader-email": "j@example.test",
        },
    )
    notify_event = s3_event(
        object_created_record(
            bucket, "pack/cold/object.json", etag=put["ETag"], version_id=put.get("VersionId"), size=len(body)
        )
    )
    receiver = WebhookReceiver()
    receiver.start()
    try:
        base = _child_env()
        base.update(
            {
                "AWS_ENDPOINT_URL_S3": os.environ["AWS_ENDPOINT_URL_S3"],
                "ARCHIVE_BUCKET": bucket,
                "WEBHOOK_URL": receiver.url,
                "WEBHOOK_ALLOW_HTTP": "true",
                "WEBHOOK_SECRET_TOKEN": "testing-bench-secret",
                "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)]),
            }
        )
        envs = {
            kind: {
                **base,
                "BENCH_EVENT": json.dumps(
                    notify_event if kind.startswith("notify") else api_event(body.decode())
                ),
            }
            for kind in SCRIPTS
        }
        return _measure(envs, runs)
    finally:
        receiver.stop()


def _measure(envs: dict[str, dict[str, str]], runs: int) -> ColdStarts:
    kinds = list(SCRIPTS)
    result = ColdStarts(
        total_ms={kind: Series(f"cold_ms_{kind}", "ms") for kind in kinds},
        spawn_ms={kind: Series(f"cold_spawn_ms_{kind}", "ms") for kind in kinds},
        import_ms={kind: Series(f"cold_import_ms_{kind}", "ms") for kind in kinds},
        answer_ms={kind: Series(f"cold_answer_ms_{kind}", "ms") for kind in kinds},
        start_ms={kind: Series(f"cold_start_ms_{kind}", "ms") for kind in kinds},
        exit_ms={kind: Series(f"cold_exit_ms_{kind}", "ms") for kind in kinds},
        ratios={name: Series(f"cold_start_ratio_{name}", "x") for name in PAIRS},
    )
    for kind in kinds:  # warm the page cache and write .pyc files; not counted
        _run_child(kind, envs[kind])
    for run in range(runs):
        offset = run % len(kinds)
        this_run: dict[str, float] = {}
        for kind in kinds[offset:] + kinds[:offset]:
            total, stages = _run_child(kind, envs[kind])
            this_run[kind] = total
            result.total_ms[kind].add(total)
            result.import_ms[kind].add(stages["import_ms"])
            result.answer_ms[kind].add(stages["answer_ms"])
            result.start_ms[kind].add(stages["start_ms"])
            result.exit_ms[kind].add(stages["exit_ms"])
            result.spawn_ms[kind].add(stages["spawn_ms"])
        for name, least in PAIRS.items():
            result.ratios[name].add(this_run[name] / this_run[least])
    return result
