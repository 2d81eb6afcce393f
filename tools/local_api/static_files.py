"""The static pages under `web/`: a path names a file inside the web root, never anything outside it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote_plus

from tools.project import PROJECT_ROOT

WEB_ROOT = PROJECT_ROOT / "web"


def static_file(web_root: Path, path: str) -> Path | None:
    """The file under `web_root` that `path` names, never anything outside it."""
    relative = unquote_plus(path).lstrip("/") or "upload.html"
    candidate = (web_root / relative).resolve()
    root = web_root.resolve()
    if candidate != root and root not in candidate.parents:
        return None
    return candidate if candidate.is_file() else None
