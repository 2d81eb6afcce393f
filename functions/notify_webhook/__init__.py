"""Announce new archive objects: S3 ObjectCreated event → SHA-256 → signed, retried webhook POST."""
