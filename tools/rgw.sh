#!/usr/bin/env bash
# A throwaway Ceph RADOS Gateway (S3) on 127.0.0.1 for `make test-rgw`: one monitor, one memory-backed
# OSD (memstore), radosgw's beast frontend, cephx off, no ceph-mgr, everything in one temporary directory.
#
#   tools/rgw.sh start    install the packages when absent (root + apt), start, create a test user, and
#                         print the path of an env file (RGW_ENDPOINT, RGW_ACCESS_KEY, RGW_SECRET_KEY,
#                         RGW_REGION); starting a running gateway only prints that path again
#   tools/rgw.sh status   exit 0 and print the env file's path when it runs, exit 3 when it does not
#   tools/rgw.sh stop     stop the daemons by their PIDs (never by name) and remove the directory
#   tools/rgw.sh env      print the env file's contents (for `eval`/`set -a; . file`)
#
# RGW_STATE_DIR chooses the directory (default: $TMPDIR/form-archive-rgw-$UID); RGW_MEMSTORE_BYTES the OSD's
# memory (default 1 GiB; deleted objects' data stay until RGW's garbage collection, hours later). The test user's keys are
# generated at each start and live only in that directory.
set -euo pipefail

PACKAGES=(radosgw ceph-mon ceph-osd ceph-common)
COMMANDS=(radosgw radosgw-admin ceph-mon ceph-osd ceph monmaptool)
STATE_DIR="${RGW_STATE_DIR:-${TMPDIR:-/tmp}/form-archive-rgw-$(id -u)}"
ENV_FILE="$STATE_DIR/rgw.env"
CONF="$STATE_DIR/ceph.conf"
DAEMONS=(radosgw osd mon) # stop order
START_TIMEOUT="${RGW_START_TIMEOUT:-120}"

say() { echo "rgw: $*" >&2; }
fail() {
    say "error: $*"
    exit 1
}

missing_commands() {
    local name
    for name in "${COMMANDS[@]}"; do
        command -v "$name" >/dev/null 2>&1 || echo "$name"
    done
}

install_packages() {
    local missing
    missing="$(missing_commands)"
    [ -z "$missing" ] && return 0
    say "missing: ${missing//$'\n'/ }"
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        fail "Ceph is not installed and this script cannot install it (needs root and apt-get)." \
            "Install it with: sudo apt-get install -y ${PACKAGES[*]}"
    fi
    say "installing ${PACKAGES[*]} with apt-get (about 1-2 minutes)"
    local started=$SECONDS
    # The packages start no daemon of their own (no cluster is configured); the daemons this script starts
    # are its own, with their own configuration.
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${PACKAGES[@]}" >&2 ||
        {
            say "apt-get install failed; trying once more after apt-get update"
            apt-get -o DPkg::Lock::Timeout=600 update -q >&2
            DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "${PACKAGES[@]}" >&2
        }
    say "installed in $((SECONDS - started)) s"
    missing="$(missing_commands)"
    [ -z "$missing" ] || fail "still missing after the install: $missing"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

random_text() { # $1 length: letters and digits from the system's random source
    python3 -c 'import secrets, string, sys; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(int(sys.argv[1]))))' "$1"
}

pid_of() { # prints the PID recorded for daemon $1 when that process is alive and is that daemon
    local file="$STATE_DIR/run/$1.pid" pid binary
    [ -f "$file" ] || return 1
    pid="$(cat "$file")"
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    case "$1" in mon) binary=ceph-mon ;; osd) binary=ceph-osd ;; *) binary="$1" ;; esac
    # Guard against a recycled PID: the process must be the daemon, started with our configuration.
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$binary.*$CONF" || return 1
    echo "$pid"
}

endpoint_answers() {
    [ -f "$ENV_FILE" ] || return 1
    local endpoint
    endpoint="$(sed -n 's/^RGW_ENDPOINT=//p' "$ENV_FILE")"
    python3 - "$endpoint" <<'EOF' >/dev/null 2>&1
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=3)
except urllib.error.HTTPError:
    pass
EOF
}

is_running() {
    local daemon
    for daemon in "${DAEMONS[@]}"; do
        pid_of "$daemon" >/dev/null || return 1
    done
    endpoint_answers
}

launch() { # $1 daemon name, rest: command; foreground daemon in its own session, PID recorded
    local name="$1"
    shift
    setsid "$@" -f -c "$CONF" </dev/null >>"$STATE_DIR/log/$name.out" 2>&1 &
    echo $! >"$STATE_DIR/run/$name.pid"
}

wait_for() { # $1 what, rest: a command that succeeds once it is ready
    local what="$1" deadline=$((SECONDS + START_TIMEOUT))
    shift
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "$what not ready after ${START_TIMEOUT} s; last log lines:"
            tail -n 20 "$STATE_DIR"/log/*.out "$STATE_DIR"/log/*.log >&2 2>/dev/null || true
            stop_all
            exit 1
        fi
        sleep 0.5
    done
}

ceph_cmd() { timeout 30 ceph -c "$CONF" --connect-timeout 10 "$@"; }

osd_up() { ceph_cmd osd dump --format json | python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin)["osds"][0]["up"] == 1 else 1)'; }

write_conf() { # $1 monitor port, $2 gateway port, $3 fsid
    cat >"$CONF" <<EOF
[global]
fsid = $3
mon host = [v1:127.0.0.1:$1]
mon initial members = a
public addr = 127.0.0.1
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
osd objectstore = memstore
memstore device bytes = ${RGW_MEMSTORE_BYTES:-1073741824}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
# The script adds the OSD to the CRUSH map itself: no create-or-move or device-class calls at OSD start.
osd crush update on start = false
osd class update on start = false
mon data avail warn = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
run dir = $STATE_DIR/run
admin socket = $STATE_DIR/run/\$name.asok
log file = $STATE_DIR/log/\$name.log
mon data = $STATE_DIR/mon-\$id
osd data = $STATE_DIR/osd-\$id
keyring = $STATE_DIR/keyring

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$2
rgw crypt require ssl = false
rgw data = $STATE_DIR/rgw
rgw enable usage log = false
EOF
}

start() {
    if is_running; then
        say "already running"
        echo "$ENV_FILE"
        return 0
    fi
    [ -d "$STATE_DIR" ] && stop_all
    install_packages
    local started=$SECONDS mon_port rgw_port fsid osd_uuid osd_id access_key secret_key
    mkdir -p "$STATE_DIR"/{run,log,rgw,mon-a,osd-0}
    chmod 700 "$STATE_DIR"
    : >"$STATE_DIR/keyring"
    mon_port="$(free_port)"
    rgw_port="$(free_port)"
    fsid="$(python3 -c 'import uuid; print(uuid.uuid4())')"
    osd_uuid="$(python3 -c 'import uuid; print(uuid.uuid4())')"
    write_conf "$mon_port" "$rgw_port" "$fsid"

    # A monitor port other than 6789 needs --addv with an explicit v1 address (--add records v2 and
    # clients then hang).
    monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$STATE_DIR/monmap" >/dev/null
    ceph-mon -c "$CONF" --mkfs -i a --monmap "$STATE_DIR/monmap" >>"$STATE_DIR/log/mon.out" 2>&1
    launch mon ceph-mon -i a
    wait_for "monitor" ceph_cmd mon stat

    osd_id="$(ceph_cmd osd new "$osd_uuid")"
    ceph-osd -c "$CONF" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >>"$STATE_DIR/log/osd.out" 2>&1
    ceph_cmd osd crush add "osd.$osd_id" 1.0 host=localhost root=default >/dev/null 2>&1
    launch osd ceph-osd -i "$osd_id"
    wait_for "OSD" osd_up

    launch radosgw radosgw -n client.rgw
    access_key="TESTINGRGW$(random_text 10 | tr a-z A-Z)"
    secret_key="testing-rgw-$(random_text 28)"
    cat >"$ENV_FILE" <<EOF
RGW_ENDPOINT=http://127.0.0.1:$rgw_port
RGW_ACCESS_KEY=$access_key
RGW_SECRET_KEY=$secret_key
RGW_REGION=us-east-1
EOF
    chmod 600 "$ENV_FILE"
    wait_for "radosgw" endpoint_answers
    radosgw-admin -c "$CONF" -n client.rgw user create --uid=form-archive-test \
        --display-name="form-archive tests" --access-key="$access_key" --secret-key="$secret_key" \
        >>"$STATE_DIR/log/user.out" 2>&1
    say "started in $((SECONDS - started)) s: http://127.0.0.1:$rgw_port (monitor 127.0.0.1:$mon_port)"
    echo "$ENV_FILE"
}

stop_all() {
    local daemon pid deadline
    for daemon in "${DAEMONS[@]}"; do
        pid="$(pid_of "$daemon")" || continue
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 15))
        while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then
            say "$daemon ($pid) ignored SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
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
        say "running: $(sed -n 's/^RGW_ENDPOINT=//p' "$ENV_FILE"), PIDs $(for d in "${DAEMONS[@]}"; do
            printf '%s=%s ' "$d" "$(pid_of "$d")"
        done)"
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
