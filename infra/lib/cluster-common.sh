# shellcheck shell=bash
# Shared by infra/cluster.sh and the infra/lib/cluster-*.sh helpers. Sourced, never executed.
# The cluster lives under $CLUSTER_DIR (<state>/cluster); each server node is a small "stack"
# of its own there (its own PANTAU_STATE_DIR), run by the same functions as infra/stack.sh.

CLUSTER_DIR=${PANTAU_CLUSTER_DIR:-$PANTAU_STATE_DIR/cluster}
CLUSTER_NODES=(1 2 3)
# Ports (loopback), clear of the shared stack (5672/15672/25672, 9200/9300, 5432) and `make run`
# (8000/8001, 8101-8103, 9100-9104): node i of 1..3 and Pantau instance n of 1..2.
cluster_amqp_port() { echo $((5700 + $1)); }   # Erlang distribution: + 20000 (25701..)
cluster_mgmt_port() { echo $((15700 + $1)); }
cluster_prom_port() { echo $((15790 + $1)); }  # rabbitmq_prometheus (PANTAU_AMQP_PROMETHEUS_PORT)
cluster_es_port() { echo $((9200 + $1)); }
cluster_es_transport_port() { echo $((9300 + $1)); }
cluster_app_port() { echo $((8400 + 10 * $1 + $2)); } # instance, offset 0..9 (see cluster-pantau.sh)

cluster_log() { printf '[cluster] %s\n' "$*" >&2; }

# Run a function of infra/lib/<lib>.sh for one node, in a subshell whose PANTAU_STATE_DIR and
# ports are that node's (the libraries read them when sourced). `fn` may be one of the cluster
# helpers' functions (a subshell inherits them) wrapping the library's.
on_node() { # node-dir "VAR=value ..." lib fn args...
    local dir=$1 vars=$2 lib=$3
    shift 3
    (
        # shellcheck disable=SC2086 # the variables are words of the form VAR=value
        export PANTAU_STATE_DIR="$dir" $vars
        unset PANTAU_INFRA_DIR
        # shellcheck source=common.sh
        . "$CLUSTER_INFRA_DIR/lib/common.sh"
        # shellcheck disable=SC1090
        . "$CLUSTER_INFRA_DIR/lib/$lib.sh"
        "$@"
    )
}
