"""The local run (`make bench`): every figure of issue 6 against moto's server in its own process.

Hashing throughput and memory, cold imports and starts, the archive handler beside a bare put_object,
Idempotency-Key costs and load, and the resumable SHA-256 state beside hashlib."""

from __future__ import annotations

import argparse
import dataclasses
import os

from bench.archive import measure_archive
from bench.cold_start import METHOD as COLD_METHOD
from bench.cold_start import PAIRS, ColdStarts, measure_cold_starts
from bench.idempotency import ROUND_2_LOAD_PER_S, KeyedSeries, measure_keyed, measure_load, unversioned_bucket
from bench.imports import measure_imports
from bench.measure import MIB
from bench.resumable_state import measure_state_vs_hashlib
from bench.run_shared import (
    BUCKET,
    fake_aws_environment,
    links_figures,
    links_object,
    links_rows,
    progress,
    ratio_row,
    reads_label,
    series_row,
    state_rows,
    with_target,
)
from bench.server import moto_server
from bench.stats import Row, Series
from bench.throttle import throttle_proxy
from bench.throughput import (
    ALWAYS_RANGES,
    FASTPATH_KEY,
    STREAM_KEY,
    Throughput,
    count_body_bytes,
    measure_hash_peak_mib,
    measure_throughput,
    upload_objects,
)
from notify_webhook.object_hash import RangedReads

_DEFAULTS_NOTE = f"the function's defaults ({reads_label(RangedReads())}), head + hash as the handler does"


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
            f"beside the defaults: HASH_RANGES=always ({ALWAYS_RANGES.connections} ranged GETs in flight); "
            "moto reads the whole object for every range",
        )
    )
    auto_vs_best = throughput.ratios["hash_auto_vs_best"]
    results["hash_auto_vs_best"] = auto_vs_best.median
    rows.append(
        ratio_row(
            "hash_auto_vs_best",
            auto_vs_best.median,
            auto_vs_best.samples,
            "hash_mib_s (HASH_RANGES=auto) / the better of never (same round) and always (median); "
            "min-max per round",
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
        links = links_figures(args, links_object(args))
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
    state_rows(measure_state_vs_hashlib(args.state_mib, args.rounds), results, rows)
    links_rows(links, results, rows, "moto")

    rows.insert(0, Row("object_mib", "MiB", object_mib))
    results.update(
        {
            "rounds": args.rounds,
            "import_runs": args.import_runs,
            "cold_runs": args.cold_runs,
            "archive_calls": args.archive_calls,
        }
    )
    return results, [with_target(row) for row in rows]


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
