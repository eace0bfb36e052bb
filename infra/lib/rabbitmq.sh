# shellcheck shell=bash
# RabbitMQ 3.x from the Debian package, run as the service user with all state
# under $PANTAU_STATE_DIR/rabbitmq. Sourced by infra/stack.sh.

RMQ_BIN=/usr/lib/rabbitmq/bin
RMQ_DIR=$PANTAU_STATE_DIR/rabbitmq
RMQ_PIDFILE=$PIDS_DIR/rabbitmq.pid
RMQ_EPMD_PIDFILE=$PIDS_DIR/epmd.pid
RMQ_NODE=${PANTAU_RABBITMQ_NODENAME:-pantau@localhost}
RMQ_DIST_PORT=$((PANTAU_AMQP_PORT + 20000))

rabbitmq_url() { echo "amqp://pantau:pantau@127.0.0.1:$PANTAU_AMQP_PORT/pantau"; }
# A service's own URL (infra/rabbitmq/identities.tsv): rabbitmq_service_url intake
rabbitmq_service_url() { echo "amqp://pantau-$1:$(rabbitmq_dev_password "pantau-$1")@127.0.0.1:$PANTAU_AMQP_PORT/pantau"; }
# DEVELOPMENT ONLY (loopback stack): the same rule as pantau_platform.identities.dev_password.
rabbitmq_dev_password() { echo "$1-dev-only"; }
RMQ_MAX_MESSAGE_SIZE=1048576 # bytes; also in rabbitmq.conf.tmpl and docker-compose.yml
rabbitmq_mgmt_url() { echo "http://pantau:pantau@127.0.0.1:$PANTAU_AMQP_MGMT_PORT"; }
rabbitmq_describe() { echo "$(rabbitmq_url) (management http://127.0.0.1:$PANTAU_AMQP_MGMT_PORT)"; }

# Everything the server and the CLI tools must agree on. HOME holds the Erlang
# cookie; RABBITMQ_CONF_ENV_FILE points away from /etc/rabbitmq/rabbitmq-env.conf.
RMQ_ENV=(
    HOME="$RMQ_DIR"
    RABBITMQ_NODENAME="$RMQ_NODE"
    RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf"
    RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf"
    RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config"
    RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins"
    RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia"
    RABBITMQ_LOG_BASE="$LOGS_DIR/rabbitmq"
    RABBITMQ_PID_FILE="$RMQ_PIDFILE"
    RABBITMQ_DIST_PORT="$RMQ_DIST_PORT"
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    ERL_EPMD_ADDRESS=127.0.0.1
)

rmqctl() { # [RMQ_CTL_TIMEOUT=secs] rmqctl args...
    (cd "$RMQ_DIR" && exec timeout "${RMQ_CTL_TIMEOUT:-120}" "${SVC_EXEC[@]}" \
        env "${RMQ_ENV[@]}" "$RMQ_BIN/rabbitmqctl" -q -s "$@")
}

rabbitmq_pid() { live_pid "$RMQ_PIDFILE" "$RMQ_DIR"; }

# The built-in Prometheus endpoint (queue depth, consumers, …): http://127.0.0.1:15692/metrics
# (per-queue series under /metrics/per-object). Loopback only, like every other listener.
RMQ_PROMETHEUS_PORT=${PANTAU_AMQP_PROMETHEUS_PORT:-15692}

rabbitmq_plugins() {
    (cd "$RMQ_DIR" && exec timeout 120 "${SVC_EXEC[@]}" \
        env "${RMQ_ENV[@]}" "$RMQ_BIN/rabbitmq-plugins" -q "$@")
}

# Idempotent, run on every `up` (a node started before the plugin was added gets it without a
# restart): the listener is set to loopback first, then the plugin is enabled online.
rabbitmq_ensure_prometheus() {
    rmqctl eval "application:set_env(rabbitmq_prometheus, tcp_config, [{port, $RMQ_PROMETHEUS_PORT}, {ip, \"127.0.0.1\"}])." >/dev/null
    rabbitmq_plugins enable rabbitmq_prometheus >/dev/null
}

rabbitmq_provision() {
    [ -x "$RMQ_BIN/rabbitmq-server" ] || apt_install rabbitmq-server
    svc_dirs "$RMQ_DIR" "$RMQ_DIR/mnesia" "$LOGS_DIR/rabbitmq"
    render_template "$PANTAU_INFRA_DIR/rabbitmq/rabbitmq.conf.tmpl" "$RMQ_DIR/rabbitmq.conf" \
        AMQP_PORT="$PANTAU_AMQP_PORT" MGMT_PORT="$PANTAU_AMQP_MGMT_PORT" \
        MAX_MESSAGE_SIZE="$RMQ_MAX_MESSAGE_SIZE"
    # rabbitmq_prometheus is enabled once the node runs (rabbitmq_ensure_prometheus): its
    # listener must be set to loopback first, and a boot-time plugin would bind every interface
    echo '[rabbitmq_management].' >"$RMQ_DIR/enabled_plugins"
}

rabbitmq_api_ok() {
    curl -fsS -o /dev/null --max-time 5 -u pantau:pantau "http://127.0.0.1:$PANTAU_AMQP_MGMT_PORT/api/overview"
}

# Idempotently (re)assert what default_* only creates on a fresh database.
rabbitmq_ensure_account() {
    rmqctl list_vhosts | grep -qx pantau || rmqctl add_vhost pantau
    if rmqctl list_users | cut -f1 | grep -qx pantau; then
        rmqctl change_password pantau pantau
    else
        rmqctl add_user pantau pantau
    fi
    rmqctl set_user_tags pantau administrator
    rmqctl set_permissions -p pantau pantau '.*' '.*' '.*'
}

# The service users of infra/rabbitmq/identities.tsv with their permissions on vhost pantau, and
# the message size limit on the running node (rabbitmq.conf sets it at boot; this also reaches a
# node started before it was added). Idempotent; run on every `up`. Passwords: development only.
rabbitmq_ensure_identities() {
    local user configure write read
    rmqctl eval "application:set_env(rabbit, max_message_size, $RMQ_MAX_MESSAGE_SIZE)." >/dev/null
    while IFS=$'\t' read -r -u 3 user configure write read; do # fd 3: rabbitmqctl reads stdin
        case $user in '' | '#'*) continue ;; esac
        if rmqctl list_users | cut -f1 | grep -qx "$user"; then
            rmqctl change_password "$user" "$(rabbitmq_dev_password "$user")"
        else
            rmqctl add_user "$user" "$(rabbitmq_dev_password "$user")"
        fi
        rmqctl set_permissions -p pantau "$user" "$configure" "$write" "$read"
    done 3<"$PANTAU_INFRA_DIR/rabbitmq/identities.tsv"
}

rabbitmq_up() {
    local pid
    pid=$(rabbitmq_pid)
    if [ -n "$pid" ]; then
        wait_until 60 "$pid" rabbitmq rabbitmq_api_ok || start_failed rabbitmq
        rabbitmq_ensure_identities >/dev/null || start_failed rabbitmq "$LOGS_DIR/rabbitmq/rabbitmq.log"
        rabbitmq_ensure_prometheus || start_failed rabbitmq "$LOGS_DIR/rabbitmq/rabbitmq.log"
        return 0
    fi
    require_port_free "$PANTAU_AMQP_PORT" "RabbitMQ AMQP, PANTAU_AMQP_PORT"
    require_port_free "$PANTAU_AMQP_MGMT_PORT" "RabbitMQ management, PANTAU_AMQP_MGMT_PORT"
    require_port_free "$RMQ_DIST_PORT" "RabbitMQ Erlang distribution, PANTAU_AMQP_PORT+20000"
    require_port_free "$RMQ_PROMETHEUS_PORT" "RabbitMQ Prometheus, PANTAU_AMQP_PROMETHEUS_PORT"
    rabbitmq_provision

    local epmd_was_up=
    port_open 4369 && epmd_was_up=1
    log "starting rabbitmq (node $RMQ_NODE)"
    svc_log rabbitmq
    # $! is the rabbitmq-server wrapper (sh; it runs beam.smp as its child and
    # relays signals). Once booting, the node overwrites the pid file with the
    # beam pid, which is what status/down use.
    (cd "$RMQ_DIR" && exec setsid "${SVC_EXEC[@]}" env "${RMQ_ENV[@]}" "$RMQ_BIN/rabbitmq-server") \
        >>"$LOGS_DIR/rabbitmq.log" 2>&1 </dev/null 9>&- &
    pid=$!
    write_pidfile "$RMQ_PIDFILE" "$pid"

    wait_until 120 "$pid" "rabbitmq AMQP port" port_open "$PANTAU_AMQP_PORT" ||
        start_failed rabbitmq "$LOGS_DIR/rabbitmq/rabbitmq.log"
    rmqctl await_startup >/dev/null || start_failed rabbitmq "$LOGS_DIR/rabbitmq/rabbitmq.log"
    rabbitmq_ensure_account >/dev/null || start_failed rabbitmq "$LOGS_DIR/rabbitmq/rabbitmq.log"
    rabbitmq_ensure_identities >/dev/null || start_failed rabbitmq "$LOGS_DIR/rabbitmq/rabbitmq.log"
    wait_until 60 "$pid" "rabbitmq management API" rabbitmq_api_ok ||
        start_failed rabbitmq "$LOGS_DIR/rabbitmq/rabbitmq.log"
    rabbitmq_ensure_prometheus || start_failed rabbitmq "$LOGS_DIR/rabbitmq/rabbitmq.log"

    # epmd is spawned (daemonised) by the first Erlang node. If that was ours,
    # record its pid so `down` can stop it once no node is registered anymore.
    if [ -z "$epmd_was_up" ]; then
        local epmd
        epmd=$(ss -Hltnp 'sport = :4369' 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2)
        [ -n "$epmd" ] && write_pidfile "$RMQ_EPMD_PIDFILE" "$epmd"
    fi
    return 0
}

rabbitmq_down() {
    local pid
    pid=$(rabbitmq_pid)
    if [ -n "$pid" ]; then
        log "stopping rabbitmq (pid $pid)"
        RMQ_CTL_TIMEOUT=$STOP_TIMEOUT rmqctl stop >/dev/null 2>&1 || true
        wait_pid_gone "$pid" 5 || kill_pid "$pid" rabbitmq
    fi
    rm -f "$RMQ_PIDFILE"
    rabbitmq_stop_epmd
}

rabbitmq_stop_epmd() {
    local epmd
    epmd=$(read_pid "$RMQ_EPMD_PIDFILE")
    [ -n "$epmd" ] || return 0
    if pid_is_ours "$epmd" epmd; then
        # Leave it alone while other Erlang nodes still use it.
        if ! ERL_EPMD_ADDRESS=127.0.0.1 /usr/lib/erlang/bin/epmd -names 2>/dev/null | grep -q '^name '; then
            kill_pid "$epmd" epmd
        fi
    fi
    rm -f "$RMQ_EPMD_PIDFILE"
}
