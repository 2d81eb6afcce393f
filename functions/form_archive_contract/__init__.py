"""What the functions agree on: object metadata, uploader names, S3 error codes and the S3 client.

Every function package imports these facts from here and from nowhere else, so a name changes in one
place. The package ships in the same CodeUri as the functions and imports nothing heavy at import time.
"""
