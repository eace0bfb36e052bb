# shellcheck shell=bash
# The cluster's three Elasticsearch nodes (pantau-c1..3), each run by infra/lib/elasticsearch.sh
# with its own state dir ($CLUSTER_DIR/elasticsearch-<i>: config, data, pid) and ports, sharing one
# unpacked distribution and the stack's downloaded zip; config from
# infra/elasticsearch/cluster.yml.tmpl (seed hosts and initial masters: all three). Heap:
# PANTAU_CLUSTER_ES_HEAP (512m).

cluster_es_dir() { echo "$CLUSTER_DIR/elasticsearch-$1"; }
cluster_es_vars() {
    echo "PANTAU_ES_PORT=$(cluster_es_port "$1") PANTAU_ES_TRANSPORT_PORT=$(cluster_es_transport_port "$1")" \
        "PANTAU_ES_HEAP=${PANTAU_CLUSTER_ES_HEAP:-512m}"
}
cluster_es() { # node fn args...
    local node=$1
    shift
    on_node "$(cluster_es_dir "$node")" "$(cluster_es_vars "$node")" elasticsearch "$@"
}
cluster_es_urls() {
    local i urls=()
    for i in "${CLUSTER_NODES[@]}"; do urls+=("http://127.0.0.1:$(cluster_es_port "$i")"); done
    (IFS=,; echo "${urls[*]}")
}

# --- run inside a node's subshell (elasticsearch.sh sourced) ---------------------------------

node_es_setup() { # node — point elasticsearch.sh at the shared zip/dist and the cluster config
    local node=$1 i seeds=() masters=()
    ES_ZIP=$CLUSTER_ES_ZIP
    ES_DIST=$CLUSTER_DIR/elasticsearch-dist-$ES_VERSION
    DOWNLOADS_DIR=$(dirname "$ES_ZIP")
    for i in "${CLUSTER_NODES[@]}"; do
        seeds+=("\"127.0.0.1:$(cluster_es_transport_port "$i")\"")
        masters+=("\"pantau-c$i\"")
    done
    CLUSTER_ES_SEEDS=$(IFS=,; echo "${seeds[*]}")
    CLUSTER_ES_MASTERS=$(IFS=,; echo "${masters[*]}")
    CLUSTER_NODE=$node
    eval "base_$(declare -f elasticsearch_provision)"
    elasticsearch_provision() {
        base_elasticsearch_provision
        render_template "$PANTAU_INFRA_DIR/elasticsearch/cluster.yml.tmpl" "$ES_CONF/elasticsearch.yml" \
            NODE_NAME="pantau-c$CLUSTER_NODE" DATA_DIR="$ES_DATA" LOGS_DIR="$ES_LOGS" \
            HTTP_PORT="$PANTAU_ES_PORT" TRANSPORT_PORT="$PANTAU_ES_TRANSPORT_PORT" \
            SEED_HOSTS="$CLUSTER_ES_SEEDS" MASTER_NODES="$CLUSTER_ES_MASTERS"
        is_root && chown "$SVC_USER:" "$ES_CONF/elasticsearch.yml"
        return 0
    }
}

node_es_provision() { ensure_state; node_es_setup "$1"; svc_dirs "$LOGS_DIR"; elasticsearch_provision; }
node_es_up() { ensure_state; node_es_setup "$1"; elasticsearch_up; }
node_es_pid() { elasticsearch_pid; }
node_es_down() { elasticsearch_down; }

# --- the three nodes -------------------------------------------------------------------------

# Provision one by one (they share the unpacked distribution), then start every node that is
# down at once: a node alone cannot elect a master, so each waits for the others to be yellow.
cluster_elasticsearch_up() {
    local i pids=() rc=0
    export CLUSTER_ES_ZIP=$PANTAU_STATE_DIR/downloads/elasticsearch-8.19.7.zip
    for i in "${CLUSTER_NODES[@]}"; do
        cluster_es "$i" node_es_provision "$i" >>"$CLUSTER_DIR/logs/elasticsearch-$i.up.log" 2>&1 ||
            { tail -n 30 "$CLUSTER_DIR/logs/elasticsearch-$i.up.log" >&2; return 1; }
    done
    for i in "${CLUSTER_NODES[@]}"; do
        cluster_es "$i" node_es_up "$i" >"$CLUSTER_DIR/logs/elasticsearch-$i.up.log" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[i]}" || { rc=1; cluster_log "elasticsearch node $((i + 1)) failed:"; tail -n 30 "$CLUSTER_DIR/logs/elasticsearch-$((i + 1)).up.log" >&2; }
    done
    return "$rc"
}

cluster_elasticsearch_down() {
    local i
    for i in "${CLUSTER_NODES[@]}"; do
        [ -d "$(cluster_es_dir "$i")" ] && cluster_es "$i" node_es_down
    done
    return 0
}

cluster_elasticsearch_status() {
    local i pid
    for i in "${CLUSTER_NODES[@]}"; do
        pid=$([ -d "$(cluster_es_dir "$i")" ] && cluster_es "$i" node_es_pid)
        printf 'elasticsearch-%s %-8s pantau-c%s http :%s transport :%s\n' "$i" "${pid:-stopped}" \
            "$i" "$(cluster_es_port "$i")" "$(cluster_es_transport_port "$i")"
    done
}
