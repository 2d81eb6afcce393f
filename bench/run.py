"""`make bench`: every figure of issue 6 in one run against moto's server in its own process; with
`--remote`, hashing as a Lambda function sees S3 (a per-connection-throttling proxy in front of a store).

python -m bench.run --object-mib 256            # the full run (minutes)
python -m bench.run --object-mib 4 --rounds 2 --import-runs 3 --archive-calls 20 --output /tmp/r.json
python -m bench.run --remote rgw --object-mib 256 --rate-mib 32 --first-byte-ms 20
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
from pathlib import Path

from bench.cold_start import METHOD as COLD_METHOD
from bench.local_run import run
from bench.remote import (
    DEFAULT_RGW_SCRIPT,
)
from bench.remote_run import run_remote
from bench.run_shared import (
    reads_label,
)
from bench.stats import render
from notify_webhook.settings import hash_settings

"""`make bench`: every figure of issue 6 in one run against moto's server in its own process; with
`--remote`, hashing as a Lambda function sees S3 (a per-connection-throttling proxy in front of a store).

python -m bench.run --object-mib 256            # the full run (minutes)
python -m bench.run --object-mib 4 --rounds 2 --import-runs 3 --archive-calls 20 --output /tmp/r.json
python -m bench.run --remote rgw --object-mib 256 --rate-mib 32 --first-byte-ms 20
"""


DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"


DEFAULT_REMOTE_OUTPUT = Path(__file__).resolve().parent / "results-remote.json"


REQUIRED_KEYS = (
    "object_mib",
    "handbook_hash_mib_s",
    "raw_read_mib_s",
    "hashlib_mib_s",
    "hash_mib_s",
    "hash_speedup_vs_handbook",
    "hash_vs_raw_read",
    "hash_auto_vs_best",
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
    "remote_auto_vs_best",
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


def _method(args: argparse.Namespace) -> list[str]:
    """How the figures were taken, printed above them."""
    reads = reads_label(hash_settings(os.environ))
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
        "server (every other call with a new Idempotency-Key), each process warmed first as a warm container "
        "is (one call and one keyed call: what the function learns of the store is learned), submissions/s "
        "over the wall time",
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
