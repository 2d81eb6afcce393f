"""`make demo`: one submission through the whole pipeline, on moto's server and a local webhook receiver.

    python -m tools.demo [--payload FILE] [--keep-running]

1. Starts moto's server (embedded S3 + SQS) and the webhook receiver (tools.receiver), both on 127.0.0.1
   on free ports; fake credentials `testing` (servers.py).
2. Creates the archive bucket (name from events/env.json) like the template's (versioned, encrypted,
   public access blocked) with an S3 -> SQS notification for `s3:ObjectCreated:*`, so the event the
   notify function gets is produced by the emulator (servers.py).
3. Runs a flow (steps.py, the default): ArchiveSubmissionFunction with events/submission.json (or a proxy
   event around --payload) through `tools.local_invoke.invoke`, the Docker-free runner; reads the S3
   event from the queue (skipping `s3:TestEvent`); runs NotifyWebhookFunction with it through the same
   runner, its WEBHOOK_URL pointed at the receiver, which verifies the signature. Then the upload flow
   (upload.py): UploadUrlFunction answers `POST /uploads` for a generated file, the file is PUT with the
   presigned answer, and its S3 event is announced the same way (`run_both` runs the two).
4. Progress lines go to stderr; stdout gets exactly one JSON line (output.py):
   {"archived": {"bucket", "key", "submission_id"},
    "webhook": {"status", "sha256", "signature_valid", "datapack_identifier", "path", "display"},
    "uploaded": {"bucket", "key", "size", "sha256", "webhook": {"status", "signature_valid", "sha256",
                 "submitter_name"}}}
   plus "error" when something failed.

A new flow is a module with a function `(options, servers, say, result) -> None` (see `session.Flow`),
passed to `demo_session(options, say, flow=...)`.

Exit status: 0 when archived, delivered (2xx) and the signature verified, and when `--keep-running` is
stopped with Ctrl-C or SIGTERM after that; 1 when a step failed; 2 for an unusable option or file, before
anything starts; 130 when interrupted while running. Every server it started is stopped.
"""

from tools.demo.model import DemoFailed, DemoOptions, DemoResult
from tools.demo.servers import DemoServers
from tools.demo.session import Flow, demo_session, run_both
from tools.demo.steps import run_pipeline
from tools.demo.upload import run_upload

__all__ = [
    "DemoFailed",
    "DemoOptions",
    "DemoResult",
    "DemoServers",
    "Flow",
    "demo_session",
    "run_both",
    "run_pipeline",
    "run_upload",
]
