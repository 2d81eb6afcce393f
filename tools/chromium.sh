#!/usr/bin/env bash
# Make sure Debian's Chromium and ChromeDriver are present for the browser test (tests/e2e/test_upload_page.py).
# Installs the packages `chromium` and `chromium-driver` with apt-get when they are absent (root only);
# never downloads a browser from anywhere else. Prints the browser's version on stdout.
set -euo pipefail
PACKAGES=(chromium chromium-driver)
say() { printf 'chromium.sh: %s\n' "$*" >&2; }

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    /usr/bin/chromium --version 2>/dev/null
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "the browser test needs Debian's Chromium, which is not installed, and this script cannot install it"
    say "(that needs root and apt-get). Run this once, then the command again:"
    say "    sudo apt-get install -y ${PACKAGES[*]}"
    exit 1
fi
say "installing ${PACKAGES[*]} with apt-get (about a minute, once)"
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q "$@" >&2; }
if ! apt_get install -y "${PACKAGES[@]}"; then
    say "apt-get install failed; trying once more after apt-get update"
    apt_get update
    apt_get install -y "${PACKAGES[@]}"
fi
/usr/bin/chromium --version 2>/dev/null
