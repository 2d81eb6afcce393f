"""`make bench`: every figure of issue 6 in one run against moto's server in its own process; with
`--remote`, hashing as a Lambda function sees S3 (a per-connection-throttling proxy in front of a store).

python -m bench.run --object-mib 256            # the full run (minutes)
python -m bench.run --object-mib 4 --rounds 2 --import-runs 3 --archive-calls 20 --output /tmp/r.json
python -m bench.run --remote rgw --object-mib 256 --rate-mib 32 --first-byte-ms 20
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

from bench.archive import measure_archive
from bench.cold_start import METHOD as COLD_METHOD
from bench.cold_start import PAIRS, ColdStarts, measure_cold_starts
from bench.idempotency import ROUND_2_LOAD_PER_S, KeyedSeries, measure_keyed, measure_load, unversioned_bucket
from bench.imports import measure_imports
from bench.links import LinkFigures, LinksObject, measure_links, upload_links_object
from bench.measure import MIB
from bench.project_hash import project_client
from bench.remote import (
    DEFAULT_RGW_SCRIPT,
    RemoteFigures,
    measure_remote,
    moto_store,
    rgw_store,
    upload_remote_object,
    use_store,
)
from bench.resumable_state import StateFigures, measure_state_vs_hashlib
from bench.server import moto_server
from bench.stats import Row, Series, render
from bench.throttle import throttle_proxy
from bench.throughput import (
    FASTPATH_KEY,
    STREAM_KEY,
    Throughput,
    count_body_bytes,
    measure_hash_peak_mib,
    measure_throughput,
    upload_objects,
)
from notify_webhook.object_hash import RangedReads
from notify_webhook.settings import hash_settings

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"
DEFAULT_REMOTE_OUTPUT = Path(__file__).resolve().parent / "results-remote.json"
BUCKET = "form-archive-bench"

REQUIRED_KEYS = (
    "object_mib",
    "handbook_hash_mib_s",
    "raw_read_mib_s",
    "hashlib_mib_s",
    "hash_mib_s",
    "hash_speedup_vs_handbook",
    "hash_vs_raw_read",
    "hash_peak_mib",
    "fastpath_body_bytes",
    "import_ms_boto3",
    "import_ms_archive",
    "import_ms_notify",
    "import_ratio_archive",
    "import_ratio_notify",
    "archive_p50_ms",
    "put_object_p50_ms",
    "archive_overhead_ratio",
    "cold_ms_archive",
    "cold_ms_archive_least",
    "cold_start_ratio_archive",
    "cold_ms_notify",
    "cold_ms_notify_least",
    "cold_start_ratio_notify",
    "keyed_fresh_ratio",
    "keyed_replay_ratio",
    "keyed_load_per_s",
    "state_vs_hashlib",
    "links_vs_one_invocation",
)

# key -> (description, test on the value)
TARGETS: dict[str, tuple[str, Callable[[float], bool]]] = {
    "hash_speedup_vs_handbook": (">= 4.0", lambda value: value >= 4.0),
    "hash_vs_raw_read": (">= 0.85", lambda value: value >= 0.85),
    "hash_peak_mib": ("<= 32 (256 MiB)", lambda value: value <= 32),
    "fastpath_body_bytes": ("= 0", lambda value: value == 0),
    "import_ratio_archive": ("<= 1.5", lambda value: value <= 1.5),
    "import_ratio_notify": ("<= 1.5", lambda value: value <= 1.5),
    "archive_overhead_ratio": ("<= 1.3", lambda value: value <= 1.3),
    "keyed_fresh_ratio": ("<= 1.5", lambda value: value <= 1.5),
    "keyed_replay_ratio": ("<= 2.5", lambda value: value <= 2.5),
    "keyed_load_per_s": (f">= {ROUND_2_LOAD_PER_S} (round 2)", lambda value: value >= ROUND_2_LOAD_PER_S),
    "cold_start_ratio_archive": ("<= 1.3", lambda value: value <= 1.3),
    "cold_start_ratio_notify": ("<= 1.3", lambda value: value <= 1.3),
    "remote_function_vs_raw": (">= 6.0 (32 MiB/s per connection, 256 MiB)", lambda value: value >= 6.0),
    "remote_cpu_vs_floor": ("<= 1.5", lambda value: value <= 1.5),
    "remote_hash_peak_mib": ("<= 96 (256 MiB)", lambda value: value <= 96),
    "remote_auto_vs_best": (">= 0.9", lambda value: value >= 0.9),
    "remote_auto_vs_best_burst": (">= 0.9", lambda value: value >= 0.9),
    "state_vs_hashlib": (">= 0.95", lambda value: value >= 0.95),
    "links_vs_one_invocation": (">= 0.9", lambda value: value >= 0.9),
}

REQUIRED_REMOTE_KEYS = (
    "object_mib",
    "remote_raw_mib_s",
    "remote_handbook_mib_s",
    "remote_function_mib_s",
    "remote_raw_cpu_s_per_gib",
    "remote_handbook_cpu_s_per_gib",
    "remote_function_cpu_s_per_gib",
    "remote_hashlib_cpu_s_per_gib",
    "remote_floor_cpu_s_per_gib",
    "remote_cpu_vs_floor",
    "remote_function_vs_raw",
    "remote_function_vs_handbook",
    "remote_hash_peak_mib",
    "links_vs_one_invocation",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--object-mib", type=float, default=256, help="benchmark object size (default 256)")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved throughput rounds (default 9)")
    parser.add_argument(
        "--import-runs", type=int, default=21, help="fresh interpreters per module (default 21)"
    )
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=15,
        help="fresh interpreters to a first answer, per kind (default 15)",
    )
    parser.add_argument("--archive-calls", type=int, default=600, help="calls of each kind (default 600)")
    parser.add_argument("--block", type=int, default=20, help="calls per interleaved block (default 20)")
    parser.add_argument(
        "--keyed-calls",
        type=int,
        default=200,
        help="Idempotency-Key calls of each kind behind the slow store (default 200)",
    )
    parser.add_argument(
        "--load",
        type=int,
        nargs=2,
        default=(4, 500),
        metavar=("PROCESSES", "EACH"),
        help="load check (4 500)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help=f"results file (flat JSON; default {DEFAULT_OUTPUT.name}, remote: {DEFAULT_REMOTE_OUTPUT.name})",
    )
    links = parser.add_argument_group("hashing in links (issue 29)")
    links.add_argument(
        "--links-mib", type=float, default=1024, help="object hashed in links vs at once (default 1024)"
    )
    links.add_argument("--links", type=int, default=4, help="links it is hashed in (default 4)")
    links.add_argument("--links-rounds", type=int, default=3, help="interleaved pairs (default 3)")
    links.add_argument(
        "--state-mib", type=int, default=1024, help="bytes in memory for the state vs hashlib (default 1024)"
    )
    remote = parser.add_argument_group("remote mode (hashing through a per-connection-throttling proxy)")
    remote.add_argument(
        "--remote",
        choices=("rgw", "moto"),
        help="run the remote mode against this store instead of the loopback figures (rgw: tools/rgw.sh; "
        "moto reads the whole object for every ranged GET)",
    )
    remote.add_argument("--rate-mib", type=float, default=32.0, help="MiB/s per connection (default 32)")
    remote.add_argument("--first-byte-ms", type=float, default=20.0, help="first-byte delay (default 20)")
    remote.add_argument(
        "--burst-mib",
        type=float,
        default=2.0,
        help="a second store: each answer's first MiB unpaced, as if buffered while waiting (2; 0: none)",
    )
    remote.add_argument("--rgw-script", type=Path, default=DEFAULT_RGW_SCRIPT, help="the RGW script")
    args = parser.parse_args(argv)
    if (
        args.object_mib <= 0
        or min(args.rounds, args.import_runs, args.cold_runs, args.archive_calls, args.block) < 1
        or min(args.keyed_calls, *args.load) < 1
        or args.links_mib <= 0
        or min(args.links, args.links_rounds, args.state_mib) < 1
    ):
        parser.error("sizes and counts must be positive")
    if args.rate_mib <= 0 or args.first_byte_ms < 0:
        parser.error("--rate-mib must be positive and --first-byte-ms non-negative")
    if args.output is None:
        args.output = DEFAULT_REMOTE_OUTPUT if args.remote else DEFAULT_OUTPUT
    return args


def fake_aws_environment() -> None:
    """Fake credentials and no profile: nothing here can reach real AWS."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "POWERTOOLS_METRICS_NAMESPACE": "FormArchiveBench",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_SERVICE_NAME": "bench",
        }
    )


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def series_row(series: Series, note: str = "") -> Row:
    return Row(series.key, series.unit, series.median, series.low, series.high, note=note)


def ratio_row(key: str, value: float, paired: list[float] | None, note: str = "") -> Row:
    low, high = (min(paired), max(paired)) if paired else (None, None)
    return Row(key, "x", value, low, high, note=note)


def _reads_label(reads: RangedReads) -> str:
    return (
        f"HASH_CONNECTIONS={reads.connections}, HASH_PART_BYTES={reads.part_bytes // MIB} MiB, "
        f"HASH_RANGES={reads.mode}"
    )


_DEFAULTS_NOTE = f"the function's defaults ({_reads_label(RangedReads())}), head + hash as the handler does"


def _hashing_rows(throughput: Throughput, results: dict[str, float], rows: list[Row]) -> None:
    for key in ("handbook_hash_mib_s", "raw_read_mib_s", "hashlib_mib_s", "hash_mib_s"):
        series = throughput.series[key]
        results[key] = series.median
        rows.append(series_row(series, _DEFAULTS_NOTE if key == "hash_mib_s" else ""))
    for key, (numerator, denominator) in {
        "hash_speedup_vs_handbook": ("hash_mib_s", "handbook_hash_mib_s"),
        "hash_vs_raw_read": ("hash_mib_s", "raw_read_mib_s"),
    }.items():
        results[key] = results[numerator] / results[denominator]
        rows.append(
            ratio_row(key, results[key], throughput.ratios[key].samples, "median/median; min-max per round")
        )
    # Without a spare core, reading and hashing take turns: the best any path can do is the serial bound.
    single = throughput.series["single_stream_hash_mib_s"]
    results["single_stream_hash_mib_s"] = single.median
    rows.append(series_row(single, "beside the defaults: HASH_RANGES=never (one stream, no probe)"))
    ranged = throughput.series["ranged_hash_mib_s"]
    results["ranged_hash_mib_s"] = ranged.median
    rows.append(
        series_row(
            ranged,
            "beside the defaults: HASH_RANGES=always (8 ranged GETs in flight); moto reads the whole object "
            "for every range",
        )
    )
    bound = 1 / (1 / results["raw_read_mib_s"] + 1 / results["hashlib_mib_s"])
    results["hash_serial_bound_mib_s"] = bound
    results["hash_vs_serial_bound"] = results["hash_mib_s"] / bound
    rows.append(Row("hash_serial_bound_mib_s", "MiB/s", bound, note="1 / (1/raw_read + 1/hashlib)"))
    rows.append(ratio_row("hash_vs_serial_bound", results["hash_vs_serial_bound"], None))
    # One SHA-256 cannot be split over cores: no path hashes faster than hashlib on one core.
    results["hashlib_vs_raw_read"] = results["hashlib_mib_s"] / results["raw_read_mib_s"]
    rows.append(
        ratio_row("hashlib_vs_raw_read", results["hashlib_vs_raw_read"], None, "ceiling of hash_vs_raw_read")
    )
    for key in ("raw_read_cpu_cores", "hash_cpu_cores"):
        series = throughput.cores[key.replace("_cpu_cores", "_mib_s")]
        results[key] = series.median
        rows.append(series_row(series, "CPU time of this process / wall time (moto server not included)"))


def run(args: argparse.Namespace) -> tuple[dict[str, float], list[Row]]:
    fake_aws_environment()
    size = max(1, round(args.object_mib * MIB))
    object_mib = size / MIB
    rows: list[Row] = []
    results: dict[str, float] = {"object_mib": object_mib}

    progress(f"cold imports: {args.import_runs} fresh interpreters per module, interleaved")
    imports = measure_imports(args.import_runs)

    with moto_server() as endpoint:
        os.environ["AWS_ENDPOINT_URL_S3"] = endpoint
        progress(f"moto server at {endpoint}; uploading two {object_mib:g} MiB objects")
        objects = upload_objects(BUCKET, size)
        progress(f"throughput: {args.rounds} interleaved rounds")
        throughput = measure_throughput(objects, args.rounds)
        progress("peak memory (tracemalloc) of the project's hashing path")
        peak_mib = measure_hash_peak_mib(objects)
        fast = count_body_bytes(objects, FASTPATH_KEY)
        streamed = count_body_bytes(objects, STREAM_KEY)
        del objects
        links = _measure_links(args, _upload_links_object(args))
        progress(
            f"cold starts to the first answer: {args.cold_runs} fresh interpreters per kind, interleaved"
        )
        cold = measure_cold_starts(BUCKET, args.cold_runs)
        progress(f"archive handler vs put_object: {args.archive_calls} calls each, blocks of {args.block}")
        archive, bare = measure_archive(BUCKET, args.archive_calls, args.block)
        idempotency = _measure_idempotency(endpoint, args)

    _hashing_rows(throughput, results, rows)
    results["hash_peak_mib"] = peak_mib
    rows.append(Row("hash_peak_mib", "MiB", peak_mib, note="tracemalloc peak growth, client already warm"))
    results["fastpath_body_bytes"] = fast.body_bytes
    results["fastpath_get_object_calls"] = fast.get_object_calls
    results["stream_body_bytes"] = streamed.body_bytes
    rows.append(
        Row(
            "fastpath_body_bytes",
            "bytes",
            fast.body_bytes,
            note=(
                f"counted under GetObject bodies: {fast.get_object_calls} GetObject call(s); the streamed "
                f"object read {streamed.body_bytes:,} of {size:,} bytes"
            ),
        )
    )

    _import_rows(imports, results, rows)
    _cold_rows(cold, results, rows, args.cold_runs)

    results["archive_p50_ms"] = archive.median
    results["put_object_p50_ms"] = bare.median
    results["archive_overhead_ratio"] = archive.median / bare.median
    rows.append(series_row(archive, f"{len(archive.samples)} warm lambda_handler calls"))
    rows.append(series_row(bare, f"{len(bare.samples)} bare put_object calls, same body and client"))
    rows.append(ratio_row("archive_overhead_ratio", results["archive_overhead_ratio"], None))
    keyed, keyed_unversioned, load_per_s, unkeyed_per_s = idempotency
    _keyed_rows(keyed, "", args, results, rows)
    _keyed_rows(keyed_unversioned, "_unversioned", args, results, rows)
    _load_rows(load_per_s, unkeyed_per_s, args, results, rows)

    progress(f"the resumable SHA-256 state vs hashlib: {args.state_mib} MiB in memory, {args.rounds} rounds")
    _state_rows(measure_state_vs_hashlib(args.state_mib, args.rounds), results, rows)
    _links_rows(links, results, rows, "moto")

    rows.insert(0, Row("object_mib", "MiB", object_mib))
    results.update(
        {
            "rounds": args.rounds,
            "import_runs": args.import_runs,
            "cold_runs": args.cold_runs,
            "archive_calls": args.archive_calls,
        }
    )
    return results, [_with_target(row) for row in rows]


def _import_rows(imports: dict[str, Series], results: dict[str, float], rows: list[Row]) -> None:
    for name in ("python", "boto3", "archive", "notify"):
        results[f"import_ms_{name}"] = imports[name].median
        note = "interpreter start alone (python -c 'import sys')" if name == "python" else ""
        rows.append(series_row(imports[name], note))
    for name in ("archive", "notify"):
        key = f"import_ratio_{name}"
        results[key] = results[f"import_ms_{name}"] / results["import_ms_boto3"]
        paired = [a / b for a, b in zip(imports[name].samples, imports["boto3"].samples, strict=True)]
        rows.append(ratio_row(key, results[key], paired, "Lambda-like env; min-max paired per run"))


def _measure_idempotency(
    endpoint: str, args: argparse.Namespace
) -> tuple[KeyedSeries, KeyedSeries, float, float]:
    """Keyed calls behind the slow store (versioned and unversioned bucket), then the load check."""
    progress(
        f"Idempotency-Key: {args.keyed_calls} calls of each kind behind {args.first_byte_ms:g} ms to the "
        "first byte"
    )
    unversioned = unversioned_bucket(BUCKET + "-unversioned")
    with throttle_proxy(endpoint, args.rate_mib, args.first_byte_ms) as slow_store:
        os.environ["AWS_ENDPOINT_URL_S3"] = slow_store
        keyed = measure_keyed(BUCKET, args.keyed_calls, args.block)
        keyed_unversioned = measure_keyed(unversioned, args.keyed_calls, args.block)
    os.environ["AWS_ENDPOINT_URL_S3"] = endpoint
    processes, each = args.load
    progress(f"load: {processes} processes x {each} submissions, none / half with an Idempotency-Key")
    unkeyed_per_s = measure_load(endpoint, BUCKET, processes, each, keyed=False)
    load_per_s = measure_load(endpoint, BUCKET, processes, each)
    return keyed, keyed_unversioned, load_per_s, unkeyed_per_s


def _keyed_rows(
    keyed: KeyedSeries, suffix: str, args: argparse.Namespace, results: dict[str, float], rows: list[Row]
) -> None:
    bucket = "an unversioned bucket" if suffix else "a versioned bucket (the stack's)"
    slow = f"behind {args.first_byte_ms:g} ms to the first byte, {bucket}"
    for series, note in (
        (keyed.bare, f"bare put_object {slow}"),
        (keyed.plain, "POST /submissions, no key"),
        (keyed.fresh, "with a new Idempotency-Key each call"),
        (keyed.replay, "the same keyed request again (201, Idempotent-Replayed)"),
    ):
        results[series.key + suffix] = series.median
        rows.append(dataclasses.replace(series_row(series, note), key=series.key + suffix))
    for kind, series in (("plain", keyed.plain), ("fresh", keyed.fresh), ("replay", keyed.replay)):
        key = f"keyed_{kind}_ratio{suffix}"
        results[key] = series.median / keyed.bare.median
        rows.append(ratio_row(key, results[key], None, f"p50 over the bare put_object's p50, {bucket}"))


def _load_rows(
    load_per_s: float,
    unkeyed_per_s: float,
    args: argparse.Namespace,
    results: dict[str, float],
    rows: list[Row],
) -> None:
    processes, each = args.load
    results["keyed_load_per_s"] = load_per_s
    results["unkeyed_load_per_s"] = unkeyed_per_s
    results["keyed_load_vs_unkeyed"] = load_per_s / unkeyed_per_s
    note = f"{processes} processes x {each}, moto server, versioned bucket"
    rows.append(Row("unkeyed_load_per_s", "1/s", unkeyed_per_s, note=f"{note}, no key"))
    rows.append(
        Row(
            "keyed_load_per_s", "1/s", load_per_s, note=f"{note}, half keyed; round 2: {ROUND_2_LOAD_PER_S}/s"
        )
    )
    rows.append(ratio_row("keyed_load_vs_unkeyed", results["keyed_load_vs_unkeyed"], None, "same run"))


def _cold_rows(cold: ColdStarts, results: dict[str, float], rows: list[Row], runs: int) -> None:
    notes = {
        "archive": "import archive_submission.app + lambda_handler(POST /submissions) -> 201",
        "archive_least": "import boto3 + client + one put_object of the same body",
        "notify": "import notify_webhook.app + lambda_handler(ObjectCreated) -> signed POST delivered",
        "notify_least": "the handbook's body: boto3 get_object + hashlib over iter_chunks() + requests.post",
    }
    for kind, note in notes.items():
        series = cold.total_ms[kind]
        results[series.key] = series.median
        stages = (
            f"import {cold.import_ms[kind].median:.0f} + answer {cold.answer_ms[kind].median:.0f} ms "
            f"(medians); from outside: spawn to answer {cold.spawn_ms[kind].median:.0f}, exit afterwards "
            f"{cold.exit_ms[kind].median:.0f}"
        )
        rows.append(series_row(series, f"{note}; {stages}"))
        for stage in ("import_ms", "answer_ms", "spawn_ms"):
            stage_series = getattr(cold, stage)[kind]
            results[stage_series.key] = stage_series.median
    for name, least in PAIRS.items():
        key = f"cold_start_ratio_{name}"
        results[key] = results[f"cold_ms_{name}"] / results[f"cold_ms_{least}"]
        rows.append(
            ratio_row(
                key,
                results[key],
                cold.ratios[name].samples,
                f"method: {COLD_METHOD.format(runs=runs)}; median/median, min-max paired",
            )
        )


def run_remote(args: argparse.Namespace) -> tuple[dict[str, float], list[Row]]:
    fake_aws_environment()
    size = max(1, round(args.object_mib * MIB))
    store_context = rgw_store(args.rgw_script) if args.remote == "rgw" else moto_store()
    with store_context as store:
        progress(f"{store.name} at {store.endpoint}; uploading one {size / MIB:g} MiB object (direct)")
        with use_store(store):
            obj = upload_remote_object(BUCKET, size)
            links_obj = _upload_links_object(args)
        with (
            throttle_proxy(store.endpoint, args.rate_mib, args.first_byte_ms) as proxy,
            use_store(store, proxy),
        ):
            progress(
                f"through a proxy at {proxy}: {args.rate_mib:g} MiB/s per connection, "
                f"{args.first_byte_ms:g} ms to the first byte; {args.rounds} interleaved rounds"
            )
            figures = measure_remote(obj, args.rounds)
            reads = hash_settings(os.environ)
            links = _measure_links(args, links_obj)
        burst = None
        if args.burst_mib > 0:
            with (
                throttle_proxy(store.endpoint, args.rate_mib, args.first_byte_ms, args.burst_mib) as proxy,
                use_store(store, proxy),
            ):
                progress(f"the same behind a proxy whose answers start with {args.burst_mib:g} MiB unpaced")
                burst = measure_remote(obj, args.rounds)
    results: dict[str, float] = {
        "object_mib": size / MIB,
        "rounds": args.rounds,
        "remote_rate_mib_s_per_connection": args.rate_mib,
        "remote_first_byte_ms": args.first_byte_ms,
        "remote_store_is_rgw": 1 if store.name == "rgw" else 0,
        "hash_connections": reads.connections,
        "hash_part_mib": reads.part_bytes / MIB,
        "hash_ranges_auto": 1 if reads.mode == "auto" else 0,
    }
    rows = _remote_rows(figures, results, store.name, _reads_label(reads))
    if burst is not None:
        rows += _burst_rows(burst, results, args.burst_mib)
    _links_rows(links, results, rows, f"{store.name} behind the proxy")
    return results, [_with_target(row) for row in rows]


def _upload_links_object(args: argparse.Namespace) -> LinksObject:
    size = max(1, round(args.links_mib * MIB))
    progress(f"links: uploading one {size / MIB:g} MiB object")
    return upload_links_object(BUCKET, size)


def _measure_links(args: argparse.Namespace, obj: LinksObject) -> LinkFigures:
    progress(f"links: {args.links} links vs one invocation, {args.links_rounds} interleaved pairs")
    return measure_links(project_client(), obj, args.links, args.links_rounds, hash_settings(os.environ))


def _state_rows(state: StateFigures, results: dict[str, float], rows: list[Row]) -> None:
    for series in (state.hashlib_mib_s, state.resumable_mib_s):
        results[series.key] = series.median
        rows.append(series_row(series, "1 MiB updates, interleaved in 16 MiB slices"))
    results["state_vs_hashlib"] = state.ratio.median
    rows.append(
        ratio_row(
            "state_vs_hashlib",
            state.ratio.median,
            state.ratio.samples,
            "hashlib's seconds / the state's (OpenSSL SHA256_CTX via ctypes), same bytes; median, min-max",
        )
    )


def _links_rows(links: LinkFigures, results: dict[str, float], rows: list[Row], store: str) -> None:
    for series in (links.one_mib_s, links.links_mib_s):
        results[series.key] = series.median
    rows.append(series_row(links.one_mib_s, f"{store}: hash_until with no byte limit (one invocation)"))
    rows.append(
        series_row(
            links.links_mib_s,
            f"{store}: {links.links} links (HASH_LINK_MAX_BYTES), each from the previous checkpoint",
        )
    )
    results["links_vs_one_invocation"] = links.ratio.median
    rows.append(
        ratio_row(
            "links_vs_one_invocation",
            links.ratio.median,
            links.ratio.samples,
            "per pair, order alternating; median, min-max"
            + (
                "; moto reads the whole object for every GET, so each link pays one whole read"
                if store == "moto"
                else ""
            ),
        )
    )


def _remote_rows(
    figures: RemoteFigures, results: dict[str, float], store: str, reads_label: str
) -> list[Row]:
    rows = [Row("object_mib", "MiB", results["object_mib"])]
    notes = {
        "raw": "one GET, 1 MiB reads, no hashing",
        "handbook": "one GET, iter_chunks() (1 KiB) into hashlib",
        "function": (
            f"head + hash with the function's settings ({reads_label}): one stream, then ranges if a probe "
            "shows they add throughput"
            + ("; moto reads the whole object for every range" if store == "moto" else "")
        ),
    }
    for name, note in notes.items():
        series = figures.mib_s[name]
        results[series.key] = series.median
        rows.append(series_row(series, note))
    for name in ("raw", "handbook", "function", "hashlib"):
        series = figures.cpu_s_per_gib[name]
        results[series.key] = series.median
        rows.append(series_row(series, "CPU time of this process only" if name == "raw" else ""))
    floor = results["remote_raw_cpu_s_per_gib"] + results["remote_hashlib_cpu_s_per_gib"]
    results["remote_floor_cpu_s_per_gib"] = floor
    rows.append(Row("remote_floor_cpu_s_per_gib", "CPU-s/GiB", floor, note="raw read + hashlib"))
    results["remote_cpu_vs_floor"] = results["remote_function_cpu_s_per_gib"] / floor
    rows.append(ratio_row("remote_cpu_vs_floor", results["remote_cpu_vs_floor"], None))
    results["remote_function_vs_raw"] = results["remote_function_mib_s"] / results["remote_raw_mib_s"]
    rows.append(
        ratio_row(
            "remote_function_vs_raw",
            results["remote_function_vs_raw"],
            figures.speedup_vs_raw.samples,
            "median/median; min-max per round",
        )
    )
    results["remote_function_vs_handbook"] = (
        results["remote_function_mib_s"] / results["remote_handbook_mib_s"]
    )
    rows.append(ratio_row("remote_function_vs_handbook", results["remote_function_vs_handbook"], None))
    results["remote_hash_peak_mib"] = figures.peak_mib
    rows.append(
        Row("remote_hash_peak_mib", "MiB", figures.peak_mib, note="tracemalloc peak growth, function path")
    )
    rows += _auto_rows(figures, results, "")
    return rows


def _auto_rows(figures: RemoteFigures, results: dict[str, float], suffix: str) -> list[Row]:
    """HASH_RANGES=always and never beside the default (auto), on one store; `suffix` names the store."""
    rows = []
    for name in ("always", "never"):
        series = figures.mib_s[name]
        results[series.key + suffix] = series.median
        rows.append(
            dataclasses.replace(
                series_row(series, f"the function with HASH_RANGES={name}"), key=series.key + suffix
            )
        )
    key = "remote_auto_vs_best" + suffix
    results[key] = results["remote_function_mib_s" + suffix] / max(
        results["remote_always_mib_s" + suffix], results["remote_never_mib_s" + suffix]
    )
    rows.append(
        ratio_row(key, results[key], figures.auto_vs_best.samples, "auto / the better of always and never")
    )
    return rows


def _burst_rows(figures: RemoteFigures, results: dict[str, float], burst_mib: float) -> list[Row]:
    """The same readers behind a proxy whose answers start with an unpaced burst."""
    rows = []
    for name in ("raw", "function"):
        series = figures.mib_s[name]
        results[series.key + "_burst"] = series.median
        note = f"each answer's first {burst_mib:g} MiB unpaced" if name == "raw" else "HASH_RANGES=auto"
        rows.append(dataclasses.replace(series_row(series, note), key=series.key + "_burst"))
    key = "remote_function_vs_raw_burst"
    results[key] = results["remote_function_mib_s_burst"] / results["remote_raw_mib_s_burst"]
    rows.append(
        ratio_row(key, results[key], figures.speedup_vs_raw.samples, "median/median; min-max per round")
    )
    return rows + _auto_rows(figures, results, "_burst")


def _with_target(row: Row) -> Row:
    if row.key not in TARGETS:
        return row
    description, test = TARGETS[row.key]
    return Row(row.key, row.unit, row.value, row.low, row.high, description, test(row.value), row.note)


def _method(args: argparse.Namespace) -> list[str]:
    """How the figures were taken, printed above them."""
    reads = _reads_label(hash_settings(os.environ))
    if args.remote:
        return [
            f"one {args.object_mib:g} MiB object through a proxy capping each connection at "
            f"{args.rate_mib:g} MiB/s with {args.first_byte_ms:g} ms to the first byte; raw read, handbook "
            f"and function in {args.rounds} interleaved rounds (order rotated), ratios median/median",
            f"the function as deployed: {reads}",
        ]
    return [
        f"hashing: one {args.object_mib:g} MiB object, each reader once per round, {args.rounds} rounds, "
        "order rotated; ratios median/median in this run",
        f"hash_mib_s is the function as deployed: {reads}; other settings beside it are labelled",
        f"cold start: {COLD_METHOD.format(runs=args.cold_runs)}",
        f"Idempotency-Key: warm handler calls behind a proxy giving each answer's first byte "
        f"{args.first_byte_ms:g} ms after its request, blocks of {args.block} per kind alternating "
        "(order reversed every other block), versioned bucket; ratios are p50 over a bare put_object's p50",
        f"load: {args.load[0]} processes x {args.load[1]} lambda_handler calls at once against moto's "
        "server (every other call with a new Idempotency-Key), submissions/s over the wall time",
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        results, rows = run_remote(args) if args.remote else run(args)
    except KeyboardInterrupt:
        print("interrupted; the servers were stopped", file=sys.stderr)
        return 130
    required = REQUIRED_REMOTE_KEYS if args.remote else REQUIRED_KEYS
    missing = [key for key in required if key not in results]
    bad = [key for key, value in results.items() if not math.isfinite(value)]
    where = (
        f"remote mode: {args.remote} behind a throttling proxy, each in its own process on 127.0.0.1"
        if args.remote
        else "moto server in its own process on 127.0.0.1"
    )
    print()
    print(
        f"form-archive bench: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {where}"
    )
    for line in _method(args):
        print(f"method: {line}")
    print(render(rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"\nwrote {args.output}")
    if missing or bad:
        print(f"missing keys: {missing}; non-finite values: {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
