#!/usr/bin/env bash
# A multi-node Pantau on this machine, on loopback: a 3-node RabbitMQ cluster (quorum queues on all
# three), a 3-node Elasticsearch cluster (public indices with 1 replica), the shared stack's
# PostgreSQL (databases of its own), and two instances of every Pantau process.
#
#   infra/cluster.sh up       start whatever is not running (idempotent), wait until all is ready
#   infra/cluster.sh down     stop everything it started, by pid (idempotent)
#   infra/cluster.sh status   pids and ports; exit 3 if anything is stopped
#   infra/cluster.sh env      export lines for tools and tests (node lists, comma-separated)
#   infra/cluster.sh reset    down, then remove $PANTAU_STATE_DIR/cluster and its databases
#
# See infra/README.md ("Cluster") and docs/reliability.md.
set -euo pipefail

CLUSTER_INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PANTAU_INFRA_DIR=$CLUSTER_INFRA_DIR
# shellcheck source=lib/common.sh
. "$CLUSTER_INFRA_DIR/lib/common.sh"
export PANTAU_STATE_DIR
# shellcheck source=lib/cluster-common.sh
. "$CLUSTER_INFRA_DIR/lib/cluster-common.sh"
# shellcheck source=lib/cluster-rabbitmq.sh
. "$CLUSTER_INFRA_DIR/lib/cluster-rabbitmq.sh"
# shellcheck source=lib/cluster-elasticsearch.sh
. "$CLUSTER_INFRA_DIR/lib/cluster-elasticsearch.sh"
# shellcheck source=lib/cluster-postgres.sh
. "$CLUSTER_INFRA_DIR/lib/cluster-postgres.sh"
# shellcheck source=lib/cluster-pantau.sh
. "$CLUSTER_INFRA_DIR/lib/cluster-pantau.sh"

usage() {
    sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

cluster_lock() { # one up/down at a time (the fd is closed for every server started)
    mkdir -p "$CLUSTER_DIR"
    exec 8>"$CLUSTER_DIR/.cluster.lock"
    flock -w 600 8 || die "another infra/cluster.sh still holds $CLUSTER_DIR/.cluster.lock"
}

cmd_up() {
    cluster_lock
    ensure_state
    mkdir -p "$CLUSTER_DIR/logs" "$CLUSTER_DIR/pids"
    chmod 755 "$CLUSTER_DIR"
    local began=$SECONDS
    cluster_postgres_up
    cluster_rabbitmq_up 8>&- || die "RabbitMQ cluster failed to start (logs: $CLUSTER_DIR/logs)"
    cluster_elasticsearch_up 8>&- || die "Elasticsearch cluster failed to start (logs: $CLUSTER_DIR/logs)"
    cluster_pantau_up 8>&- || die "Pantau processes not ready (logs: $CLUSTER_DIR/logs)"
    cluster_log "up in $((SECONDS - began))s: intake http://127.0.0.1:$(cluster_app_port 1 1) and :$(cluster_app_port 2 1)," \
        "portal http://127.0.0.1:$(cluster_app_port 1 0)/ and :$(cluster_app_port 2 0)/," \
        "RabbitMQ management http://127.0.0.1:$(cluster_mgmt_port 1) (pantau/pantau)"
}

cmd_down() {
    [ -d "$CLUSTER_DIR" ] || return 0
    cluster_lock
    cluster_pantau_down
    cluster_elasticsearch_down
    cluster_rabbitmq_down
    # RabbitMQ left epmd to the shared stack (or stopped the one it started, when no node is left)
}

cmd_status() {
    local out
    out=$({ cluster_rabbitmq_status; cluster_elasticsearch_status; cluster_pantau_status; } 2>/dev/null)
    printf '%s\n' "$out"
    ! grep -q stopped <<<"$out" || return 3
}

cmd_env() {
    cluster_common_env | sed 's/^/export /'
}

cmd_reset() {
    cmd_down
    cluster_postgres_drop
    rm -rf "$CLUSTER_DIR"
}

[ $# -eq 1 ] || usage
case $1 in
    up | down | status | env | reset) "cmd_$1" ;;
    *) usage ;;
esac
