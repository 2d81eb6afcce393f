"""`python -m tools.local_api` (`make api`)."""

import sys

from tools.local_api.cli import main

if __name__ == "__main__":  # the function workers start by spawn and must not run this again
    sys.exit(main())
