"""How the library call tells its caller what went wrong without raising."""


def report_error(message: str) -> None:
    """Print a failure that stopped the write."""
    print(f"Error: {message}")


def report_warning(message: str) -> None:
    """Print an oddity that did not stop the write."""
    print(f"Warning: {message}")
