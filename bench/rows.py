"""The rows of the bench's table: each figure with its spread, its note and, where one is set, its target.

`bench.run` measures; this turns the measurements into `results.json`'s keys and the printed rows.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.cold_start import METHOD as COLD_METHOD
from bench.cold_start import PAIRS, ColdStarts
from bench.measure import MIB
from bench.remote import RemoteFigures
from bench.stats import Row, Series
from bench.throughput import Throughput
from notify_webhook.object_hash import RangedReads

# What results.json must hold (the smoke test checks a small run against these).
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
)

# key -> (description, test on the value)
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
)


TARGETS: dict[str, tuple[str, Callable[[float], bool]]] = {
    "hash_speedup_vs_handbook": (">= 4.0", lambda value: value >= 4.0),
    "hash_vs_raw_read": (">= 0.85", lambda value: value >= 0.85),
    "hash_peak_mib": ("<= 32 (256 MiB)", lambda value: value <= 32),
    "fastpath_body_bytes": ("= 0", lambda value: value == 0),
    "import_ratio_archive": ("<= 1.5", lambda value: value <= 1.5),
    "import_ratio_notify": ("<= 1.5", lambda value: value <= 1.5),
    "archive_overhead_ratio": ("<= 1.3", lambda value: value <= 1.3),
    "cold_start_ratio_archive": ("<= 1.3", lambda value: value <= 1.3),
    "cold_start_ratio_notify": ("<= 1.3", lambda value: value <= 1.3),
    "remote_function_vs_raw": (">= 6.0 (32 MiB/s per connection, 256 MiB)", lambda value: value >= 6.0),
    "remote_cpu_vs_floor": ("<= 1.5", lambda value: value <= 1.5),
    "remote_hash_peak_mib": ("<= 96 (256 MiB)", lambda value: value <= 96),
}


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


DEFAULTS_NOTE = f"the function's defaults ({reads_label(RangedReads())}), head + hash as the handler does"


def hashing_rows(throughput: Throughput, results: dict[str, float], rows: list[Row]) -> None:
    for key in ("handbook_hash_mib_s", "raw_read_mib_s", "hashlib_mib_s", "hash_mib_s"):
        series = throughput.series[key]
        results[key] = series.median
        rows.append(series_row(series, DEFAULTS_NOTE if key == "hash_mib_s" else ""))
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


def cold_rows(cold: ColdStarts, results: dict[str, float], rows: list[Row], runs: int) -> None:
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


def remote_rows(figures: RemoteFigures, results: dict[str, float], store: str, reads_label: str) -> list[Row]:
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
    return rows


def with_target(row: Row) -> Row:
    if row.key not in TARGETS:
        return row
    description, test = TARGETS[row.key]
    return Row(row.key, row.unit, row.value, row.low, row.high, description, test(row.value), row.note)
