#!/usr/bin/env sh
# Print the absolute path of a working python<VERSION> (default 3.13), or fail with a clear message.
# Looks on PATH first (pyenv shims included), then in pyenv's versions folder, so it works whether or
# not PYENV_VERSION selects that version (docs/design.md; PYENV_VERSION=3.11.7:3.13.0 on the dev machines).
version="${1:-3.13}"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
candidates="$(command -v "python$version" 2>/dev/null || true)"
for found in $(ls -d "$pyenv_root"/versions/"$version"*/bin/python"$version" 2>/dev/null | sort -r); do
    candidates="$candidates $found"
done
for candidate in $candidates; do
    if "$candidate" -c 'import sys' >/dev/null 2>&1; then
        "$candidate" -c 'import sys; print(sys.executable)'
        exit 0
    fi
done
echo "error: python$version not found on PATH or in $pyenv_root/versions;" \
    "install it (e.g. 'pyenv install $version')" >&2
exit 1
