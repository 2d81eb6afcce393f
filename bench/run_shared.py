"""What the local and the remote run share: the fake AWS environment, progress, table rows, and links.

A figure becomes a `Row` of the printed table (a series with its spread, or a ratio with its paired
samples); a row with a goal in `TARGETS` carries it and whether it was met. Both runs also measure
hashing in links and the resumable SHA-256 state the same way."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from bench.idempotency import ROUND_2_LOAD_PER_S
from bench.links import LinkFigures, LinksObject, measure_links, upload_links_object
from bench.measure import MIB
from bench.project_hash import project_client
from bench.resumable_state import StateFigures
from bench.stats import Row, Series
from notify_webhook.object_hash import RangedReads
from notify_webhook.settings import hash_settings

BUCKET = "form-archive-bench"


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
    "hash_auto_vs_best": (">= 0.9 every round", lambda value: value >= 0.9),
    "remote_function_vs_raw": (
        ">= 9.0 every round (32 MiB/s per connection, 256 MiB)",
        lambda value: value >= 9.0,
    ),
    "remote_cpu_vs_floor": ("<= 1.3", lambda value: value <= 1.3),
    "remote_hash_peak_mib": ("<= 96 (256 MiB)", lambda value: value <= 96),
    "remote_auto_vs_best": (">= 0.9 every round", lambda value: value >= 0.9),
    "remote_auto_vs_best_burst": (">= 0.9 every round", lambda value: value >= 0.9),
    "remote_first_vs_best": (">= 0.9 every round", lambda value: value >= 0.9),
    "remote_first_vs_best_burst": (">= 0.9 every round", lambda value: value >= 0.9),
    "state_vs_hashlib": (">= 0.95", lambda value: value >= 0.95),
    "links_vs_one_invocation": (">= 0.9", lambda value: value >= 0.9),
}


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


def reads_label(reads: RangedReads) -> str:
    return (
        f"HASH_CONNECTIONS={reads.connections}, HASH_PART_BYTES={reads.part_bytes // MIB} MiB, "
        f"HASH_RANGES={reads.mode}"
    )


def links_object(args: argparse.Namespace) -> LinksObject:
    size = max(1, round(args.links_mib * MIB))
    progress(f"links: uploading one {size / MIB:g} MiB object")
    return upload_links_object(BUCKET, size)


def links_figures(args: argparse.Namespace, obj: LinksObject) -> LinkFigures:
    progress(f"links: {args.links} links vs one invocation, {args.links_rounds} interleaved pairs")
    return measure_links(project_client(), obj, args.links, args.links_rounds, hash_settings(os.environ))


def state_rows(state: StateFigures, results: dict[str, float], rows: list[Row]) -> None:
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


def links_rows(links: LinkFigures, results: dict[str, float], rows: list[Row], store: str) -> None:
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


def with_target(row: Row) -> Row:
    """The row with its goal; a goal "every round" is judged on the worst round (the row's min)."""
    if row.key not in TARGETS:
        return row
    description, test = TARGETS[row.key]
    judged = row.low if "every round" in description and row.low is not None else row.value
    return Row(row.key, row.unit, row.value, row.low, row.high, description, test(judged), row.note)
