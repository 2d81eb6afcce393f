"""How the library call tells its caller what went wrong without raising."""


def _printable(message: str) -> str:
    """A lone surrogate (JSON's `"\\ud800"` in a config value) cannot be encoded for stdout: escaped."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def report_error(message: str) -> None:
    """Print a failure that stopped the write."""
    print(f"Error: {_printable(message)}")


def report_warning(message: str) -> None:
    """Print an oddity that did not stop the write."""
    print(f"Warning: {_printable(message)}")
