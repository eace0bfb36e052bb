# shellcheck shell=bash
# PostgreSQL 15 from the Debian packages, a private cluster under
# $PANTAU_STATE_DIR/postgres run as the service user. Sourced by infra/stack.sh.

PG_BIN=/usr/lib/postgresql/15/bin
PG_DIR=$PANTAU_STATE_DIR/postgres
PG_DATA=$PG_DIR/data
PG_SOCKET_DIR=$PG_DIR/run
PG_PIDFILE=$PIDS_DIR/postgres.pid   # written by postgres itself (external_pid_file)

postgres_url() { echo "postgresql://pantau:pantau@127.0.0.1:$PANTAU_PG_PORT/${1:-pantau}"; }
# The portal's read-only role on tracking's database (transparency_* tables only).
# DEVELOPMENT password: this stack listens on loopback only.
PG_PORTAL_PASSWORD=pantau_portal-dev-only
postgres_portal_url() { echo "postgresql://pantau_portal:$PG_PORTAL_PASSWORD@127.0.0.1:$PANTAU_PG_PORT/pantau"; }
postgres_describe() { echo "$(postgres_url) (tests: $(postgres_url pantau_test))"; }

postgres_pid() { live_pid "$PG_PIDFILE" "$PG_DATA"; }

pg_as_svc() { (cd "$PG_DIR" && exec "${SVC_EXEC[@]}" env HOME="$PG_DIR" "$@"); }

postgres_provision() {
    [ -x "$PG_BIN/initdb" ] || apt_install postgresql
    svc_dirs "$PG_DIR" "$PG_SOCKET_DIR"
    if [ ! -s "$PG_DATA/PG_VERSION" ]; then
        log "initdb $PG_DATA"
        rm -rf "$PG_DATA"
        pg_as_svc "$PG_BIN/initdb" -D "$PG_DATA" -U postgres \
            --auth-local=trust --auth-host=scram-sha-256 \
            --encoding=UTF8 --locale=C.UTF-8 >>"$LOGS_DIR/postgres.log" 2>&1 ||
            start_failed postgres
        echo "include_if_exists = 'pantau.conf'" >>"$PG_DATA/postgresql.conf"
    fi
    render_template "$PANTAU_INFRA_DIR/postgres/postgresql.conf.tmpl" "$PG_DATA/pantau.conf" \
        PORT="$PANTAU_PG_PORT" SOCKET_DIR="$PG_SOCKET_DIR" PID_FILE="$PG_PIDFILE"
    is_root && chown "$SVC_USER:" "$PG_DATA/pantau.conf"
    return 0
}

postgres_bootstrap() {
    pg_as_svc "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PANTAU_PG_PORT" \
        -U postgres -d postgres -f - <"$PANTAU_INFRA_DIR/postgres/bootstrap.sql" >>"$LOGS_DIR/postgres.log" 2>&1 &&
    pg_as_svc "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PANTAU_PG_PORT" \
        -U postgres -d pantau -v portal_password="$PG_PORTAL_PASSWORD" -f - \
        <"$PANTAU_INFRA_DIR/postgres/portal-readonly.sql" >>"$LOGS_DIR/postgres.log" 2>&1
}

postgres_up() {
    local pid
    pid=$(postgres_pid)
    if [ -z "$pid" ]; then
        require_port_free "$PANTAU_PG_PORT" "PostgreSQL, PANTAU_PG_PORT"
        svc_log postgres
        postgres_provision
        log "starting postgres"
        # shellcheck disable=SC2094 # pg_ctl -l appends to the same log we redirect to
        pg_as_svc setsid "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$LOGS_DIR/postgres.log" -w -t 120 -s start \
            </dev/null >>"$LOGS_DIR/postgres.log" 2>&1 9>&- || start_failed postgres
    fi
    # Cheap (one psql), so done on every `up`: re-creates a dropped role or database.
    postgres_bootstrap || start_failed postgres
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PANTAU_PG_PORT" -t 30 || start_failed postgres
}

postgres_down() {
    local pid
    pid=$(postgres_pid)
    if [ -n "$pid" ]; then
        log "stopping postgres (pid $pid)"
        pg_as_svc "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t "$STOP_TIMEOUT" -s stop \
            >>"$LOGS_DIR/postgres.log" 2>&1 || true
        # Fallback by pid; SIGINT is postgres' "fast" shutdown (SIGTERM waits for clients).
        wait_pid_gone "$pid" 2 || kill_pid "$pid" postgres INT
    fi
    rm -f "$PG_PIDFILE"
}
