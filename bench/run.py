"""`make bench`: every figure of issue 6 in one run against moto's server in its own process.

python -m bench.run --object-mib 256            # the full run (minutes)
python -m bench.run --object-mib 4 --rounds 2 --import-runs 3 --archive-calls 20 --output /tmp/r.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

from bench.archive import measure_archive
from bench.imports import measure_imports
from bench.server import moto_server
from bench.stats import Row, Series, render
from bench.throughput import (
    FASTPATH_KEY,
    MIB,
    STREAM_KEY,
    Throughput,
    count_body_bytes,
    measure_hash_peak_mib,
    measure_throughput,
    upload_objects,
)

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"
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
)

# key -> (description, test on the value)
TARGETS: dict[str, tuple[str, Callable[[float], bool]]] = {
    "hash_speedup_vs_handbook": (">= 3.0", lambda value: value >= 3.0),
    "hash_vs_raw_read": (">= 0.85", lambda value: value >= 0.85),
    "hash_peak_mib": ("<= 32 (256 MiB)", lambda value: value <= 32),
    "fastpath_body_bytes": ("= 0", lambda value: value == 0),
    "import_ratio_archive": ("<= 1.5", lambda value: value <= 1.5),
    "import_ratio_notify": ("<= 1.5", lambda value: value <= 1.5),
    "archive_overhead_ratio": ("<= 1.3", lambda value: value <= 1.3),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--object-mib", type=float, default=256, help="benchmark object size (default 256)")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved throughput rounds (default 9)")
    parser.add_argument(
        "--import-runs", type=int, default=21, help="fresh interpreters per module (default 21)"
    )
    parser.add_argument("--archive-calls", type=int, default=600, help="calls of each kind (default 600)")
    parser.add_argument("--block", type=int, default=20, help="calls per interleaved block (default 20)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results file (flat JSON)")
    args = parser.parse_args(argv)
    if args.object_mib <= 0 or min(args.rounds, args.import_runs, args.archive_calls, args.block) < 1:
        parser.error("sizes and counts must be positive")
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


def _hashing_rows(throughput: Throughput, results: dict[str, float], rows: list[Row]) -> None:
    for key in ("handbook_hash_mib_s", "raw_read_mib_s", "hashlib_mib_s", "hash_mib_s"):
        series = throughput.series[key]
        results[key] = series.median
        rows.append(series_row(series))
    for key, (numerator, denominator) in {
        "hash_speedup_vs_handbook": ("hash_mib_s", "handbook_hash_mib_s"),
        "hash_vs_raw_read": ("hash_mib_s", "raw_read_mib_s"),
    }.items():
        results[key] = results[numerator] / results[denominator]
        rows.append(
            ratio_row(key, results[key], throughput.ratios[key].samples, "median/median; min-max per round")
        )
    # Without a spare core, reading and hashing take turns: the best any path can do is the serial bound.
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
        progress(f"archive handler vs put_object: {args.archive_calls} calls each, blocks of {args.block}")
        archive, bare = measure_archive(BUCKET, args.archive_calls, args.block)

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

    for name in ("python", "boto3", "archive", "notify"):
        results[f"import_ms_{name}"] = imports[name].median
        note = "interpreter start alone (python -c 'import sys')" if name == "python" else ""
        rows.append(series_row(imports[name], note))
    for name in ("archive", "notify"):
        key = f"import_ratio_{name}"
        results[key] = results[f"import_ms_{name}"] / results["import_ms_boto3"]
        paired = [a / b for a, b in zip(imports[name].samples, imports["boto3"].samples, strict=True)]
        rows.append(ratio_row(key, results[key], paired, "Lambda-like env; min-max paired per run"))

    results["archive_p50_ms"] = archive.median
    results["put_object_p50_ms"] = bare.median
    results["archive_overhead_ratio"] = archive.median / bare.median
    rows.append(series_row(archive, f"{len(archive.samples)} warm lambda_handler calls"))
    rows.append(series_row(bare, f"{len(bare.samples)} bare put_object calls, same body and client"))
    rows.append(ratio_row("archive_overhead_ratio", results["archive_overhead_ratio"], None))

    rows.insert(0, Row("object_mib", "MiB", object_mib))
    results.update(
        {"rounds": args.rounds, "import_runs": args.import_runs, "archive_calls": args.archive_calls}
    )
    return results, [_with_target(row) for row in rows]


def _with_target(row: Row) -> Row:
    if row.key not in TARGETS:
        return row
    description, test = TARGETS[row.key]
    return Row(row.key, row.unit, row.value, row.low, row.high, description, test(row.value), row.note)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        results, rows = run(args)
    except KeyboardInterrupt:
        print("interrupted; the moto server was stopped", file=sys.stderr)
        return 130
    missing = [key for key in REQUIRED_KEYS if key not in results]
    bad = [key for key, value in results.items() if not math.isfinite(value)]
    print()
    print(
        f"form-archive bench: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, moto server in its own process on 127.0.0.1"
    )
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
