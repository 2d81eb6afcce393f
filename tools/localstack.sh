#!/usr/bin/env bash
# A throwaway LocalStack (CloudFormation, S3, SQS, SNS, Lambda, Secrets Manager, ...) on 127.0.0.1 for
# `make test-deploy`: host mode (no Docker), its own virtual environment on Python 3.13, every file it
# writes under one temporary directory, started and stopped by PID.
#
#   tools/localstack.sh start    create the venv when needed (.venv-localstack, requirements-localstack.txt),
#                                start, wait until /_localstack/health answers, print the env file's path
#                                (AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, test credentials); starting a running
#                                LocalStack of this script only prints that path again
#   tools/localstack.sh status   exit 0 and print the env file's path when it runs, exit 3 when it does not
#   tools/localstack.sh stop     stop it by its PID (never by name) and remove the directory
#   tools/localstack.sh env      print the env file's contents (for `set -a; . file`)
#
# LOCALSTACK_PORT (default 4566) and LOCALSTACK_STATE_DIR (default $TMPDIR/form-archive-localstack-$UID)
# choose the port and the directory. A port that something else already listens on is an error: this
# script never touches a LocalStack (or anything) it did not start.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${LOCALSTACK_VENV:-$ROOT/.venv-localstack}"
REQUIREMENTS="$ROOT/requirements-localstack.txt"
PORT="${LOCALSTACK_PORT:-4566}"
STATE_DIR="${LOCALSTACK_STATE_DIR:-${TMPDIR:-/tmp}/form-archive-localstack-$(id -u)}"
ENV_FILE="$STATE_DIR/localstack.env"
PID_FILE="$STATE_DIR/localstack.pid"
LOG_FILE="$STATE_DIR/localstack.log"
START_TIMEOUT="${LOCALSTACK_START_TIMEOUT:-120}"

say() { echo "localstack: $*" >&2; }
fail() {
    say "error: $*"
    exit 1
}

ensure_venv() {
    # The stamp holds the requirements' checksum: a changed pin rebuilds the venv.
    local wanted py
    wanted="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.installed" 2>/dev/null)" = "$wanted" ]; then
        return 0
    fi
    py="$("$ROOT/tools/find_python.sh" 3.13)" ||
        fail "LocalStack needs Python 3.13 (>= 3.12) for its own venv, and none was found (see above)."
    say "setting up $VENV (pip install -r requirements-localstack.txt with $py, about two minutes, once)"
    rm -rf "$VENV"
    "$py" -m venv "$VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --quiet --disable-pip-version-check -r "$REQUIREMENTS" >&2 ||
        fail "pip install -r requirements-localstack.txt failed"
    echo "$wanted" >"$VENV/.installed"
}

pid_of() { # the recorded PID, when that process is alive and is our LocalStack (guards a recycled PID)
    local pid
    [ -f "$PID_FILE" ] || return 1
    pid="$(cat "$PID_FILE")"
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "tools.localstack_shim" || return 1
    [ "$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^FILESYSTEM_ROOT=//p')" = "$STATE_DIR/fs" ] ||
        return 1
    echo "$pid"
}

health() { # exit 0 when the gateway on $1 answers its health endpoint
    python3 - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/_localstack/health", timeout=3) as answer:
    sys.exit(0 if answer.status == 200 else 1)
EOF
}

port_taken() {
    python3 - "$1" <<'EOF' >/dev/null 2>&1
import socket, sys
with socket.socket() as probe:
    probe.settimeout(1)
    sys.exit(0 if probe.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
}

is_running() { pid_of >/dev/null && [ -f "$ENV_FILE" ] && health "$(sed -n 's/^LOCALSTACK_PORT=//p' "$ENV_FILE")"; }

start() {
    if is_running; then
        say "already running"
        echo "$ENV_FILE"
        return 0
    fi
    [ -d "$STATE_DIR" ] && stop_all
    if port_taken "$PORT"; then
        fail "127.0.0.1:$PORT is already in use by a process this script did not start; stop it, or choose" \
            "another port with LOCALSTACK_PORT=..."
    fi
    ensure_venv
    local started=$SECONDS deadline
    mkdir -p "$STATE_DIR/fs" "$STATE_DIR/tmp"
    chmod 700 "$STATE_DIR"
    # Settings (docs/deploy.md): hypercorn binds exactly GATEWAY_LISTEN (the default server binds 0.0.0.0);
    # OVERRIDE_IN_DOCKER=0 and FILESYSTEM_ROOT keep its files here even though /.dockerenv exists; no DNS
    # server, no persistence, no analytics, no certificate download (no network but loopback).
    # S3_SKIP_SIGNATURE_VALIDATION=0: presigned URLs' signatures and expiry are checked, as AWS does
    # (`make test-localstack`; header-signed requests, what sam deploy sends, are accepted either way).
    (
        cd "$ROOT"
        exec env GATEWAY_LISTEN="127.0.0.1:$PORT" GATEWAY_SERVER=hypercorn OVERRIDE_IN_DOCKER=0 \
            FILESYSTEM_ROOT="$STATE_DIR/fs" TMPDIR="$STATE_DIR/tmp" SKIP_SSL_CERT_DOWNLOAD=1 DISABLE_EVENTS=1 \
            DNS_ADDRESS=0 PERSISTENCE=0 LOCALSTACK_HOST="127.0.0.1:$PORT" S3_SKIP_SIGNATURE_VALIDATION=0 \
            setsid "$VENV/bin/python" -m tools.localstack_shim </dev/null >>"$LOG_FILE" 2>&1
    ) &
    echo $! >"$PID_FILE"
    deadline=$((SECONDS + START_TIMEOUT))
    until health "$PORT"; do
        if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
            say "LocalStack failed to start (exited or not ready after ${START_TIMEOUT} s); last log lines:"
            tail -n 30 "$LOG_FILE" >&2 || true
            stop_all
            exit 1
        fi
        sleep 0.5
    done
    cat >"$ENV_FILE" <<EOF
LOCALSTACK_PORT=$PORT
AWS_ENDPOINT_URL=http://127.0.0.1:$PORT
AWS_DEFAULT_REGION=us-east-1
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
EOF
    say "started in $((SECONDS - started)) s: http://127.0.0.1:$PORT (PID $(cat "$PID_FILE"), files in $STATE_DIR)"
    echo "$ENV_FILE"
}

stop_all() {
    local pid deadline
    if pid="$(pid_of)"; then
        # LocalStack shuts down on SIGTERM; setsid made it the leader of its own process group, so whatever
        # it started and left behind goes with the group (by its PID, never by name).
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 30))
        while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then
            say "LocalStack ($pid) did not stop within 30 s of SIGTERM; sending SIGKILL"
        fi
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    case "$STATE_DIR" in
    "" | /) fail "refusing to remove '$STATE_DIR'" ;;
    esac
    rm -rf "$STATE_DIR"
}

stop() {
    if [ ! -d "$STATE_DIR" ]; then
        say "not running"
        return 0
    fi
    stop_all
    say "stopped"
}

status() {
    if is_running; then
        say "running: http://127.0.0.1:$(sed -n 's/^LOCALSTACK_PORT=//p' "$ENV_FILE"), PID $(pid_of)"
        echo "$ENV_FILE"
        return 0
    fi
    say "not running"
    return 3
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
env) is_running && cat "$ENV_FILE" || {
    say "not running"
    exit 3
} ;;
*)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
