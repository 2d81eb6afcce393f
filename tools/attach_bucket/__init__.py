"""Attach the stack to a bucket it does not own: EventBridge delivery on, every other notification kept.

`merge` holds the pure configuration functions, `bucket` the S3 reads and writes with their faults,
`cli` the options and the report (docs/existing-bucket.md).
"""
