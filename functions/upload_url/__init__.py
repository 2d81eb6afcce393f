"""`POST /uploads`: a presigned S3 PUT (or a multipart upload) per file, with the metadata notify reads."""
