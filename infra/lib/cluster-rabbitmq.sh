# shellcheck shell=bash
# The cluster's three RabbitMQ nodes (pantau-c1..3@localhost), each run by infra/lib/rabbitmq.sh
# with its own state dir ($CLUSTER_DIR/rabbitmq-<i>), ports and one shared Erlang cookie; nodes
# 2 and 3 join node 1 with `rabbitmqctl join_cluster` once. Quorum queues declared afterwards
# get a member on each node (the default initial group size is every cluster node).

CLUSTER_RMQ_FIRST=pantau-c1@localhost

cluster_rmq_dir() { echo "$CLUSTER_DIR/rabbitmq-$1"; }
cluster_rmq_vars() {
    echo "PANTAU_AMQP_PORT=$(cluster_amqp_port "$1") PANTAU_AMQP_MGMT_PORT=$(cluster_mgmt_port "$1")" \
        "PANTAU_RABBITMQ_NODENAME=pantau-c$1@localhost PANTAU_AMQP_PROMETHEUS_PORT=$(cluster_prom_port "$1")"
}
cluster_rmq() { # node fn args... — a rabbitmq.sh (or node_*) function on node i
    local node=$1
    shift
    on_node "$(cluster_rmq_dir "$node")" "$(cluster_rmq_vars "$node")" rabbitmq "$@"
}
# Every node's URL with the given login, comma-separated (what PANTAU_*_AMQP_URL accept).
cluster_amqp_urls() { # user password
    local i urls=()
    for i in "${CLUSTER_NODES[@]}"; do
        urls+=("amqp://$1:$2@127.0.0.1:$(cluster_amqp_port "$i")/pantau")
    done
    (IFS=,; echo "${urls[*]}")
}

# --- run inside a node's subshell (rabbitmq.sh sourced) --------------------------------------

# The same cookie on every node (and for their rabbitmqctl): HOME is the node's state dir.
node_rmq_cookie() {
    local cookie=$RMQ_DIR/.erlang.cookie value=pantau-cluster-dev-only-cookie
    svc_dirs "$RMQ_DIR"
    [ -f "$cookie" ] && [ "$(cat "$cookie")" = "$value" ] && return 0
    rm -f "$cookie"
    printf '%s' "$value" >"$cookie"
    chmod 400 "$cookie"
    is_root && chown "$SVC_USER:" "$cookie"
    return 0
}

node_rmq_up() { # node
    CLUSTER_NODE=$1
    ensure_state
    node_rmq_cookie
    rabbitmq_up
}

node_rmq_joined() { rmqctl cluster_status 2>/dev/null | grep -qF "$CLUSTER_RMQ_FIRST"; }

node_rmq_join() {
    node_rmq_joined && return 0
    log "joining $RMQ_NODE to $CLUSTER_RMQ_FIRST"
    rmqctl stop_app && rmqctl reset && rmqctl join_cluster "$CLUSTER_RMQ_FIRST" && rmqctl start_app &&
        rmqctl await_startup
}

node_rmq_pid() { rabbitmq_pid; }
node_rmq_down() { rabbitmq_down; }

# --- the three nodes -------------------------------------------------------------------------

# Start every node that is down, all at once: after a full stop each clustered node waits at boot
# for its peers, so one at a time would hang. Then join the fresh ones (idempotent).
cluster_rabbitmq_up() {
    local i pids=() rc=0
    for i in "${CLUSTER_NODES[@]}"; do
        cluster_rmq "$i" node_rmq_up "$i" >"$CLUSTER_DIR/logs/rabbitmq-$i.up.log" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[i]}" || { rc=1; cluster_log "rabbitmq node $((i + 1)) failed:"; tail -n 30 "$CLUSTER_DIR/logs/rabbitmq-$((i + 1)).up.log" >&2; }
    done
    [ "$rc" -eq 0 ] || return 1
    for i in "${CLUSTER_NODES[@]:1}"; do
        cluster_rmq "$i" node_rmq_join || return 1
    done
}

cluster_rabbitmq_down() {
    local i
    for i in "${CLUSTER_NODES[@]}"; do
        [ -d "$(cluster_rmq_dir "$i")" ] && cluster_rmq "$i" node_rmq_down
    done
    return 0
}

cluster_rabbitmq_status() {
    local i pid
    for i in "${CLUSTER_NODES[@]}"; do
        pid=$([ -d "$(cluster_rmq_dir "$i")" ] && cluster_rmq "$i" node_rmq_pid)
        printf 'rabbitmq-%s      %-8s %s amqp :%s management :%s\n' "$i" "${pid:-stopped}" \
            "pantau-c$i@localhost" "$(cluster_amqp_port "$i")" "$(cluster_mgmt_port "$i")"
    done
}
