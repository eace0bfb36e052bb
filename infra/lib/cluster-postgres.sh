# shellcheck shell=bash
# The cluster's PostgreSQL: the shared stack's server (infra/stack.sh up postgres; not a second
# server) with databases of the cluster's own — pantau_cluster (tracking, and the portal's
# read-only role as in the stack) and pantau_cluster_intake (intake's credentials and ledgers).
# The cluster never stops that server: other users of the stack share it.

CLUSTER_PG_DB=${PANTAU_CLUSTER_DATABASE:-pantau_cluster}

cluster_pg_url() { # [database] [role password]
    local db=${1:-$CLUSTER_PG_DB} role=${2:-pantau} password=${3:-pantau}
    echo "postgresql://$role:$password@127.0.0.1:${PANTAU_PG_PORT:-5432}/$db"
}

node_pg_databases() { # inside a subshell with postgres.sh sourced on the stack's state
    local db psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PANTAU_PG_PORT" -U postgres)
    for db in "$CLUSTER_PG_DB" "${CLUSTER_PG_DB}_intake"; do
        pg_as_svc "${psql[@]}" -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'" |
            grep -q 1 || pg_as_svc "${psql[@]}" -d postgres -c "CREATE DATABASE \"$db\" OWNER pantau"
    done
    pg_as_svc "${psql[@]}" -d "$CLUSTER_PG_DB" -v portal_password="$PG_PORTAL_PASSWORD" -f - \
        <"$PANTAU_INFRA_DIR/postgres/portal-readonly.sql" >/dev/null
}

cluster_postgres_up() {
    bash "$CLUSTER_INFRA_DIR/stack.sh" up postgres >/dev/null
    on_node "$PANTAU_STATE_DIR" "" postgres node_pg_databases
}

node_pg_drop() {
    local db
    for db in "$CLUSTER_PG_DB" "${CLUSTER_PG_DB}_intake"; do
        pg_as_svc "$PG_BIN/psql" -X -q -h "$PG_SOCKET_DIR" -p "$PANTAU_PG_PORT" -U postgres \
            -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
    done
}

cluster_postgres_drop() { on_node "$PANTAU_STATE_DIR" "" postgres node_pg_drop; } # `reset` only
