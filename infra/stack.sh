#!/usr/bin/env bash
# Pantau's local service stack: RabbitMQ, PostgreSQL, Elasticsearch and an SMTP sink, bound to
# 127.0.0.1 with all state under $PANTAU_STATE_DIR (default <repo>/.state).
#
#   infra/stack.sh up     [rabbitmq|postgres|elasticsearch|smtp ...]   provision, start, wait
#   infra/stack.sh down   [rabbitmq|postgres|elasticsearch|smtp ...]   stop what this script started
#   infra/stack.sh status [rabbitmq|postgres|elasticsearch|smtp ...]   exit 3 if any is stopped
#   infra/stack.sh env                                            export lines for the app/tests
#
# See infra/README.md.
set -euo pipefail

PANTAU_INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$PANTAU_INFRA_DIR/lib/common.sh"
# shellcheck source=lib/rabbitmq.sh
. "$PANTAU_INFRA_DIR/lib/rabbitmq.sh"
# shellcheck source=lib/postgres.sh
. "$PANTAU_INFRA_DIR/lib/postgres.sh"
# shellcheck source=lib/elasticsearch.sh
. "$PANTAU_INFRA_DIR/lib/elasticsearch.sh"
# shellcheck source=lib/smtp.sh
. "$PANTAU_INFRA_DIR/lib/smtp.sh"

ALL_SERVICES=(rabbitmq postgres elasticsearch smtp)

usage() {
    sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

select_services() { # names... -> SERVICES
    SERVICES=()
    [ $# -gt 0 ] || set -- "${ALL_SERVICES[@]}"
    local s
    for s in "$@"; do
        case $s in
            rabbitmq | postgres | elasticsearch | smtp) SERVICES+=("$s") ;;
            *) die "unknown service '$s' (expected: ${ALL_SERVICES[*]})" ;;
        esac
    done
}

cmd_up() {
    select_services "$@"
    take_lock
    ensure_state
    local s
    for s in "${SERVICES[@]}"; do "${s}_up"; done
    for s in "${SERVICES[@]}"; do printf '%-14s up  %s\n' "$s" "$("${s}_describe")"; done
}

cmd_down() {
    select_services "$@"
    [ -d "$PANTAU_STATE_DIR" ] || return 0
    take_lock
    local i
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do "${SERVICES[i]}_down"; done
}

cmd_status() {
    select_services "$@"
    local s pid rc=0
    for s in "${SERVICES[@]}"; do
        pid=$("${s}_pid")
        if [ -n "$pid" ]; then
            printf '%-14s running  pid %-8s %s\n' "$s" "$pid" "$("${s}_describe")"
        else
            printf '%-14s stopped\n' "$s"
            rc=3
        fi
    done
    return "$rc"
}

cmd_env() {
    [ $# -eq 0 ] || usage
    cat <<ENV
export PANTAU_AMQP_URL=$(rabbitmq_url)
export PANTAU_AMQP_MANAGEMENT_URL=$(rabbitmq_mgmt_url)
export PANTAU_DATABASE_URL=$(postgres_url pantau)
export PANTAU_TEST_DATABASE_URL=$(postgres_url pantau_test)
export PANTAU_ELASTICSEARCH_URL=$(elasticsearch_url)
export PANTAU_SMTP_HOST=127.0.0.1
export PANTAU_SMTP_PORT=$PANTAU_SMTP_PORT
export PANTAU_MAIL_DIR=$PANTAU_MAIL_DIR
ENV
}

[ $# -gt 0 ] || usage
cmd=$1
shift
case $cmd in
    up | down | status | env) "cmd_$cmd" "$@" ;;
    -h | --help | help) usage ;;
    *) usage ;;
esac
