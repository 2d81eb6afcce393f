"""Multipart uploads (files above `MULTIPART_THRESHOLD_BYTES`): their routes and everything only they use.

`routes` (the HTTP routes and `POST /uploads`' multipart answer), `request` (validation, pure), `token`
(the signed `upload_token`), `plan` (how a file is cut into parts), `store` (the S3 calls), `settings`.
"""
