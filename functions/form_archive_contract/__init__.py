"""What the function packages agree on, so each fact changes in one place: the contract they share.

Object metadata and uploader names (`metadata`), the archive's key space (`archive_keys`), the S3 client
and its error codes (`s3`), secrets read by reference (`secret_store`), the settings vocabulary
(`settings`), the API request rules and event formats (`api_events`, `request_body`) and the API
plumbing (`api`). Every function package imports these from here and never from another function's
package. The package ships in the same CodeUri as the functions and imports nothing heavy at import time.
"""
