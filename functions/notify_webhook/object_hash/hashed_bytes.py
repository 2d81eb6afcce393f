"""The `BytesHashed` metric: bytes this invocation read through SHA-256, the dashboard's hash throughput.

Counted where bytes were hashed, not where a digest was reused: one invocation's whole-body hash counts
the object's size, a link counts only the bytes it added after its checkpoint. Powertools keeps one
metric set per process, so the handler's `log_metrics` flushes it in the notify functions' namespace.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

METRIC_NAME = "BytesHashed"

metrics = Metrics()


def count_bytes_hashed(count: int) -> None:
    """Add `count` bytes to this invocation's `BytesHashed` (a link that hashed nothing adds no point)."""
    if count > 0:
        metrics.add_metric(name=METRIC_NAME, unit=MetricUnit.Bytes, value=count)
