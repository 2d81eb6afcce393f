"""`python -m tools.demo`."""

import sys

from tools.demo.cli import main

sys.exit(main())
