"""`POST /uploads`: a presigned S3 PUT for one browser upload, with the metadata the notify function reads."""
