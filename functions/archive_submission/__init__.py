"""Archive form submissions to S3: the library call and the API Gateway handler (in `app`)."""

from .library import write_s3_bucket
from .reporting import report_error, report_warning

__all__ = ["report_error", "report_warning", "write_s3_bucket"]
