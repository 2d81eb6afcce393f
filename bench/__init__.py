"""Benchmarks: figures printed side by side, never asserted as times.

Run from the repository root: `python -m bench.run`. The functions are packages under `functions/`
(the SAM CodeUri), put on `sys.path` here as Lambda and pytest do.
"""

import sys
from pathlib import Path

_FUNCTIONS = str(Path(__file__).resolve().parents[1] / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)
