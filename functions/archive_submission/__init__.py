"""Archive form submissions to S3: the library call `write_s3_bucket` and the API handler (in `app`).

The library names are loaded on first use, so the API handler's cold start does not import them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .library import write_s3_bucket
    from .reporting import report_error, report_warning

__all__ = ["report_error", "report_warning", "write_s3_bucket"]


def __getattr__(name: str) -> Any:
    if name == "write_s3_bucket":
        from .library import write_s3_bucket  # noqa: PLC0415 - lazy on purpose (cold start)

        return write_s3_bucket
    if name in {"report_error", "report_warning"}:
        from . import reporting  # noqa: PLC0415

        return getattr(reporting, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
