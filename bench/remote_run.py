"""The remote run (`make bench-remote`): hashing as a Lambda function sees S3, through a throttling proxy.

One object on moto or Ceph RGW behind a per-connection-throttling proxy: raw read, handbook and the
function (with HASH_RANGES auto, always and never), a store whose answers start with a burst, and
hashing in links."""

from __future__ import annotations

import argparse
import dataclasses
import os

from bench.measure import MIB
from bench.remote import (
    RemoteFigures,
    measure_remote,
    moto_store,
    rgw_store,
    upload_remote_object,
    use_store,
)
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
    with_target,
)
from bench.stats import Row
from bench.throttle import throttle_proxy
from notify_webhook.settings import hash_settings


def run_remote(args: argparse.Namespace) -> tuple[dict[str, float], list[Row]]:
    fake_aws_environment()
    size = max(1, round(args.object_mib * MIB))
    # Both objects, and as much again for the multipart upload's parts while it completes.
    writes = 2 * (size + round(args.links_mib * MIB))
    store_context = rgw_store(args.rgw_script, writes) if args.remote == "rgw" else moto_store()
    with store_context as store:
        progress(f"{store.name} at {store.endpoint}; uploading one {size / MIB:g} MiB object (direct)")
        with use_store(store):
            obj = upload_remote_object(BUCKET, size)
            links_obj = links_object(args)
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
            links = links_figures(args, links_obj)
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
    rows = _remote_rows(figures, results, store.name, reads_label(reads))
    if burst is not None:
        rows += _burst_rows(burst, results, args.burst_mib)
    links_rows(links, results, rows, f"{store.name} behind the proxy")
    return results, [with_target(row) for row in rows]


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
    first = figures.mib_s["first"]
    results[first.key + suffix] = first.median
    note = "HASH_RANGES=auto as a fresh container's first object from this store (nothing remembered)"
    rows.append(dataclasses.replace(series_row(first, note), key=first.key + suffix))
    best = max(results["remote_always_mib_s" + suffix], results["remote_never_mib_s" + suffix])
    for name, series, note in (
        ("auto", figures.auto_vs_best, "auto (warm container) / the better of always and never"),
        (
            "first",
            figures.first_vs_best,
            "auto, first object of a container / the better of always and never",
        ),
    ):
        key = f"remote_{name}_vs_best{suffix}"
        results[key] = results[f"remote_{'function' if name == 'auto' else 'first'}_mib_s{suffix}"] / best
        rows.append(ratio_row(key, results[key], series.samples, note))
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
