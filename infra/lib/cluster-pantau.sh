# shellcheck shell=bash
# Two instances of every Pantau process on the cluster, as the caller (like infra/run.sh), with
# pids in $CLUSTER_DIR/pids/<process>-<n>.pid and logs in $CLUSTER_DIR/logs/<process>-<n>.log.
# Every instance is given all three RabbitMQ nodes and all three Elasticsearch nodes
# (comma-separated lists: pantau_platform.endpoints) and its own identity as in infra/run.sh.
#
# Ports of instance n (1, 2): 84n0 portal, 84n1 intake-http, 84n2/84n3/84n4 health of tracking/
# indexer/ingress, 84n5..84n9 metrics of portal/intake-http/tracking/indexer/ingress.

CLUSTER_PROCESSES=(tracking intake-ingress intake-http intake-outcomes indexer portal mailer)
CLUSTER_INSTANCES=(1 2)
CLUSTER_PY=$PANTAU_ROOT/.venv/bin/python

cluster_module() {
    case $1 in
        tracking) echo pantau_tracking ;;
        intake-ingress) echo pantau_intake.ingress ;;
        intake-http) echo pantau_intake.http ;;
        intake-outcomes) echo pantau_intake.outcomes ;;
        indexer) echo pantau_publishing.indexer ;;
        portal) echo pantau_publishing.portal ;;
        mailer) echo pantau_publishing.mailer ;;
    esac
}

# What every process and tool of the cluster sees (the operator's URLs; `infra/cluster.sh env`).
cluster_common_env() {
    cat <<ENV
PANTAU_STATE_DIR=$CLUSTER_DIR/app
PANTAU_AMQP_URL=$(cluster_amqp_urls pantau pantau)
PANTAU_AMQP_MANAGEMENT_URL=http://pantau:pantau@127.0.0.1:$(cluster_mgmt_port 1)
PANTAU_ELASTICSEARCH_URL=$(cluster_es_urls)
PANTAU_INDEX_REPLICAS=1
PANTAU_DATABASE_URL=$(cluster_pg_url)
PANTAU_INTAKE_DATABASE_URL=$(cluster_pg_url "${CLUSTER_PG_DB}_intake")
PANTAU_INTAKE_PORT=$(cluster_app_port 1 1)
PANTAU_PORTAL_PORT=$(cluster_app_port 1 0)
ENV
}

# env(1) arguments of one instance: its ports, its identity, and only the URLs it uses.
cluster_process_env() { # process n
    local p=$1 n=$2
    echo "PANTAU_PORTAL_PORT=$(cluster_app_port "$n" 0) PANTAU_INTAKE_PORT=$(cluster_app_port "$n" 1)"
    echo "PANTAU_TRACKING_HEALTH_PORT=$(cluster_app_port "$n" 2) PANTAU_INDEXER_HEALTH_PORT=$(cluster_app_port "$n" 3)"
    echo "PANTAU_INGRESS_HEALTH_PORT=$(cluster_app_port "$n" 4) PANTAU_PORTAL_METRICS_PORT=$(cluster_app_port "$n" 5)"
    echo "PANTAU_INTAKE_METRICS_PORT=$(cluster_app_port "$n" 6) PANTAU_TRACKING_METRICS_PORT=$(cluster_app_port "$n" 7)"
    echo "PANTAU_INDEXER_METRICS_PORT=$(cluster_app_port "$n" 8) PANTAU_INGRESS_METRICS_PORT=$(cluster_app_port "$n" 9)"
    echo "PANTAU_OUTCOMES_HEALTH_PORT=0 PANTAU_OUTCOMES_METRICS_PORT=0"  # no 84nX port left
    echo "PANTAU_MAILER_HEALTH_PORT=0 PANTAU_MAILER_METRICS_PORT=0"  # nor for the mailer
    case $p in
        intake-*) echo "-u PANTAU_DATABASE_URL PANTAU_INTAKE_AMQP_URL=$(cluster_amqp_urls pantau-intake pantau-intake-dev-only)" ;;
        tracking) echo "-u PANTAU_INTAKE_DATABASE_URL PANTAU_TRACKING_AMQP_URL=$(cluster_amqp_urls pantau-tracking pantau-tracking-dev-only)" ;;
        indexer) echo "-u PANTAU_DATABASE_URL -u PANTAU_INTAKE_DATABASE_URL PANTAU_INDEXER_AMQP_URL=$(cluster_amqp_urls pantau-indexer pantau-indexer-dev-only)" ;;
        # the mailer: the citizen store (SQLite in the shared state folder) and the stack's SMTP sink
        mailer) echo "-u PANTAU_DATABASE_URL -u PANTAU_INTAKE_DATABASE_URL PANTAU_MAILER_AMQP_URL=$(cluster_amqp_urls pantau-mailer pantau-mailer-dev-only)" ;;
        portal) echo "-u PANTAU_AMQP_URL -u PANTAU_AMQP_MANAGEMENT_URL -u PANTAU_DATABASE_URL -u PANTAU_INTAKE_DATABASE_URL" \
            "PANTAU_TRANSPARENCY_DATABASE_URL=$(cluster_pg_url "$CLUSTER_PG_DB" pantau_portal pantau_portal-dev-only)" ;;
    esac
}

# The one supervisor (tools/pantau_tools/supervise.py, shared with infra/run.sh): detached start
# with the instance's own environment, PID files, logs, stop by PID (a reused PID is not ours).
cluster_supervise() {
    "$CLUSTER_PY" -m pantau_tools.supervise --pids "$CLUSTER_DIR/pids" --logs "$CLUSTER_DIR/logs" \
        --grace "$STOP_TIMEOUT" "$@"
}

cluster_with_env() { # command... — run with the cluster's common environment
    local -a common
    mapfile -t common < <(cluster_common_env)
    (cd "$PANTAU_ROOT" && exec env "${common[@]}" "$@")
}

cluster_start_one() { # process n — idempotent: a running instance is left alone
    local p=$1 n=$2
    local -a common envs
    mapfile -t common < <(cluster_common_env)
    read -r -a envs <<<"$(cluster_process_env "$p" "$n" | tr '\n' ' ')"
    # env(1) takes its -u options first; a name unset must not come back from the common list
    local -a unset=() assign=() kept=() e
    for e in "${envs[@]}"; do case $e in -u) ;; PANTAU_*=*) assign+=("$e") ;; *) unset+=(-u "$e") ;; esac; done
    for e in "${common[@]}"; do
        [[ " ${unset[*]} " == *" ${e%%=*} "* ]] || kept+=("$e")
    done
    local said
    said=$(cd "$PANTAU_ROOT" && cluster_supervise start "$p-$n" "${unset[@]}" "${kept[@]}" \
        "${assign[@]}" -- "$CLUSTER_PY" -m "$(cluster_module "$p")" 9>&-) || return 1
    cluster_log "$said"
}

cluster_ready_urls() {
    local n
    for n in "${CLUSTER_INSTANCES[@]}"; do
        for offset in 0 1 2 3 4; do echo "http://127.0.0.1:$(cluster_app_port "$n" "$offset")/readyz"; done
    done
}

cluster_all_ready() {
    local url
    for url in $(cluster_ready_urls); do
        curl -fs -o /dev/null --max-time 3 "$url" || return 1
    done
}

cluster_pantau_up() {
    mkdir -p "$CLUSTER_DIR/app" "$CLUSTER_DIR/pids"
    cluster_with_env "$CLUSTER_PY" -m pantau_platform.topology >/dev/null || return 1
    cluster_with_env "$CLUSTER_PY" -m pantau_intake.credentials bootstrap-dev >/dev/null || return 1
    cluster_with_env "$CLUSTER_PY" -m pantau_intake.credentials apply-amqp --dev >/dev/null || return 1
    local p n
    for n in "${CLUSTER_INSTANCES[@]}"; do
        for p in "${CLUSTER_PROCESSES[@]}"; do cluster_start_one "$p" "$n"; done
    done
    local deadline=$((SECONDS + ${PANTAU_CLUSTER_READY_TIMEOUT:-180}))
    until cluster_all_ready; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            for url in $(cluster_ready_urls); do
                curl -fs -o /dev/null --max-time 3 "$url" || cluster_log "not ready: $url"
            done
            return 1
        fi
        sleep 1
    done
}

cluster_pantau_names() { # instance names (process-n); reversed with "reverse"
    local p n i
    for ((i = 0; i < ${#CLUSTER_PROCESSES[@]}; i++)); do
        p=${CLUSTER_PROCESSES[i]}
        [ "${1:-}" = reverse ] && p=${CLUSTER_PROCESSES[${#CLUSTER_PROCESSES[@]} - 1 - i]}
        for n in "${CLUSTER_INSTANCES[@]}"; do echo "$p-$n"; done
    done
}

cluster_pantau_down() {
    local -a names
    mapfile -t names < <(cluster_pantau_names reverse)
    [ -d "$CLUSTER_DIR/pids" ] || return 0
    local line
    while IFS= read -r line; do cluster_log "$line"; done < <(cluster_supervise stop "${names[@]}")
    return 0
}

cluster_pantau_status() {
    local -a names
    mapfile -t names < <(cluster_pantau_names)
    cluster_supervise status "${names[@]}" || true  # cmd_status looks for "stopped" itself
}
