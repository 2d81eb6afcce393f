"""`python -m tools.attach_bucket` (make attach-bucket BUCKET=...)."""

import sys

from tools.attach_bucket.cli import main

sys.exit(main())
