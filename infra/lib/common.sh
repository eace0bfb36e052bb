# shellcheck shell=bash
# Shared helpers for infra/stack.sh. Sourced, never executed.

PANTAU_INFRA_DIR=${PANTAU_INFRA_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PANTAU_ROOT=$(cd "$PANTAU_INFRA_DIR/.." && pwd)
PANTAU_STATE_DIR=${PANTAU_STATE_DIR:-$PANTAU_ROOT/.state}

PANTAU_AMQP_PORT=${PANTAU_AMQP_PORT:-5672}
PANTAU_AMQP_MGMT_PORT=${PANTAU_AMQP_MGMT_PORT:-15672}
PANTAU_PG_PORT=${PANTAU_PG_PORT:-5432}
PANTAU_ES_PORT=${PANTAU_ES_PORT:-9200}
PANTAU_ES_TRANSPORT_PORT=${PANTAU_ES_TRANSPORT_PORT:-9300}

PIDS_DIR=$PANTAU_STATE_DIR/pids
LOGS_DIR=$PANTAU_STATE_DIR/logs
DOWNLOADS_DIR=$PANTAU_STATE_DIR/downloads

# Services run unprivileged: as `pantau` when invoked as root, else as the caller.
if [ "$(id -u)" -eq 0 ]; then SVC_USER=pantau; else SVC_USER=$(id -un); fi

STOP_TIMEOUT=${PANTAU_STOP_TIMEOUT:-30}

log()  { printf '[stack] %s\n' "$*" >&2; }
die()  { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# Render a template, replacing @KEY@ with the value of each KEY=value argument.
render_template() { # tmpl out KEY=value...
    local tmpl=$1 out=$2 text kv
    shift 2
    text=$(<"$tmpl")
    for kv in "$@"; do text=${text//"@${kv%%=*}@"/"${kv#*=}"}; done
    printf '%s\n' "$text" >"$out.tmp" && mv -f "$out.tmp" "$out"
}

# --- packages -----------------------------------------------------------------

apt_install() { # pkg...
    is_root || die "need root to install missing package(s): $*"
    export DEBIAN_FRONTEND=noninteractive
    local policy=/usr/sbin/policy-rc.d own_policy=
    # Keep apt from starting the distro's own rabbitmq/postgresql instances,
    # which would take the ports our instances need.
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    fi
    log "apt-get install -y $*"
    local rc=0
    # apt's chatter goes to stderr: callers may be inside $(...).
    if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then apt-get update >&2 || rc=$?; fi
    if [ "$rc" -eq 0 ] && ! apt-get install -y "$@" >&2; then
        { apt-get update && apt-get install -y "$@"; } >&2 || rc=$?
    fi
    [ -n "$own_policy" ] && rm -f "$policy"
    [ "$rc" -eq 0 ] || die "apt-get install $* failed"
}

need_cmd() { # cmd package
    command -v "$1" >/dev/null 2>&1 || apt_install "$2"
}

# --- service user and directories ---------------------------------------------

ensure_svc_user() {
    is_root || return 0
    id -u "$SVC_USER" >/dev/null 2>&1 && return 0
    log "creating system user $SVC_USER"
    useradd --system --create-home --shell /usr/sbin/nologin "$SVC_USER"
}

# Prefix that runs a command as the service user. setpriv execs (no fork, no
# PAM session), so a backgrounded `exec "${SVC_EXEC[@]}" cmd` keeps cmd's pid.
if is_root; then
    SVC_EXEC=(setpriv --reuid="$SVC_USER" --regid="$SVC_USER" --init-groups --)
else
    SVC_EXEC=()
fi
as_svc() { "${SVC_EXEC[@]}" "$@"; }

# Create directories owned by the service user.
svc_dirs() { # dir...
    mkdir -p "$@"
    is_root && chown "$SVC_USER:" "$@"
    return 0
}

# The service user must be able to traverse every parent of the state dir
# (the repo may live under a root-only path). Add o+x where it is missing.
ensure_traversable() { # dir
    is_root || return 0
    local dir=$1
    as_svc test -x "$dir" && return 0
    local d=$dir
    while [ "$d" != / ]; do
        case $(stat -c %A "$d") in
            *x | *t) ;;
            *)
                log "making $d traversable (chmod o+x) so $SVC_USER can reach $dir"
                chmod o+x "$d"
                ;;
        esac
        d=$(dirname "$d")
    done
    as_svc test -x "$dir" || die "$SVC_USER cannot reach $dir; move PANTAU_STATE_DIR somewhere it can"
}

# Prepare $LOGS_DIR/<svc>.log: owned by the service user (server processes
# append to it too) and marked with a header so a failure tail is readable.
svc_log() { # svc
    local f=$LOGS_DIR/$1.log
    [ -e "$f" ] || : >"$f"
    is_root && chown "$SVC_USER:" "$f"
    printf '\n===== %s: infra/stack.sh starting %s =====\n' "$(date -Is)" "$1" >>"$f"
}

ensure_state() {
    need_cmd curl curl       # readiness probes (RabbitMQ management, Elasticsearch)
    need_cmd ss iproute2     # who holds a port, when a server cannot bind
    ensure_svc_user
    mkdir -p "$PANTAU_STATE_DIR" "$DOWNLOADS_DIR"
    chmod 755 "$PANTAU_STATE_DIR"
    svc_dirs "$PIDS_DIR" "$LOGS_DIR"
    ensure_traversable "$PANTAU_STATE_DIR"
}

# Serialise concurrent invocations (two `up`s racing would both start servers).
# Server launches must close fd 9 (`9>&-`): a daemon inheriting it would hold
# the lock for its whole life.
take_lock() {
    mkdir -p "$PANTAU_STATE_DIR"
    exec 9>"$PANTAU_STATE_DIR/.stack.lock"
    flock -n 9 && return 0
    log "waiting for another infra/stack.sh to finish (lock $PANTAU_STATE_DIR/.stack.lock)"
    flock -w 300 9 || die "another infra/stack.sh still holds $PANTAU_STATE_DIR/.stack.lock after 300s"
}

# --- processes and ports ------------------------------------------------------

read_pid() { # pidfile -> prints pid or nothing
    local f=$1 pid
    [ -s "$f" ] || return 0
    read -r pid <"$f" || true
    [[ $pid =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
    return 0
}

# True when pid is alive and its command line or environment mentions `needle`
# (guards against stale pid files whose number now belongs to someone else).
pid_is_ours() { # pid needle
    local pid=$1 needle=$2 f
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    for f in cmdline environ; do
        tr '\0' '\n' <"/proc/$pid/$f" 2>/dev/null | grep -qF -- "$needle" && return 0
    done
    return 1
}

write_pidfile() { # file pid — owned by the service user, which may rewrite it
    echo "$2" >"$1"
    is_root && chown "$SVC_USER:" "$1"
    return 0
}

# Prints the pid from pidfile if it is alive and ours; removes a stale file.
live_pid() { # pidfile needle
    local pid
    pid=$(read_pid "$1")
    if [ -n "$pid" ] && pid_is_ours "$pid" "$2"; then
        printf '%s\n' "$pid"
    elif [ -e "$1" ]; then
        rm -f "$1" 2>/dev/null || true
    fi
}

port_open() { # port
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

require_port_free() { # port what
    if port_open "$1"; then
        local who=
        who=$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n1 | grep -o 'users:.*' || true)
        die "port $1 ($2) is already in use by a process this script did not start${who:+ ($who)}; stop it or set the matching PANTAU_*_PORT"
    fi
}

# Poll until `cmd` succeeds; fail early if `pid` dies. Times out after secs.
wait_until() { # secs pid description cmd...
    local secs=$1 pid=$2 what=$3 deadline
    shift 3
    deadline=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            log "$what: process $pid exited"
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "$what: not ready after ${secs}s"
            return 1
        fi
        sleep 0.5
    done
}

wait_pid_gone() { # pid secs
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# SIGTERM (or the given signal), wait up to STOP_TIMEOUT seconds, then SIGKILL.
kill_pid() { # pid name [signal]
    kill "-${3:-TERM}" "$1" 2>/dev/null || return 0
    wait_pid_gone "$1" "$STOP_TIMEOUT" && return 0
    log "$2 (pid $1) still running ${STOP_TIMEOUT}s after SIG${3:-TERM}; sending SIGKILL"
    kill -KILL "$1" 2>/dev/null || true
    wait_pid_gone "$1" 5 || true
}

start_failed() { # svc [extra log file]
    local f
    for f in "$LOGS_DIR/$1.log" "${@:2}"; do
        [ -s "$f" ] || continue
        printf '\n----- last 40 lines of %s -----\n' "$f" >&2
        tail -n 40 "$f" >&2
    done
    die "$1 failed to start"
}
