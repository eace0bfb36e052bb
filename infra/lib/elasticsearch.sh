# shellcheck shell=bash
# Elasticsearch from the integ-test-zip distribution on Maven Central, run on the
# machine's JDK as the service user. Sourced by infra/stack.sh.

ES_VERSION=8.19.7
ES_ARTIFACT=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip
ES_ZIP=$DOWNLOADS_DIR/elasticsearch-$ES_VERSION.zip
ES_DIR=$PANTAU_STATE_DIR/elasticsearch
ES_DIST=$ES_DIR/dist-$ES_VERSION
ES_CONF=$ES_DIR/config
ES_DATA=$ES_DIR/data
ES_TMP=$ES_DIR/tmp
ES_LOGS=$LOGS_DIR/elasticsearch
ES_PIDFILE=$PIDS_DIR/elasticsearch.pid   # written by elasticsearch itself (-p)
ES_HEAP=${PANTAU_ES_HEAP:-512m}

elasticsearch_url() { echo "http://127.0.0.1:$PANTAU_ES_PORT"; }
elasticsearch_describe() { elasticsearch_url; }

elasticsearch_pid() { live_pid "$ES_PIDFILE" "$ES_CONF"; }

es_health() { # seconds to wait for yellow
    curl -fsS -o /dev/null --max-time $(($1 + 5)) \
        "$(elasticsearch_url)/_cluster/health?wait_for_status=yellow&timeout=${1}s"
}

es_java_home() {
    if [ -n "${PANTAU_ES_JAVA_HOME:-}" ]; then echo "$PANTAU_ES_JAVA_HOME"; return; fi
    command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
    local java
    java=$(readlink -f "$(command -v java)")
    dirname "$(dirname "$java")"
}

elasticsearch_provision() {
    if [ ! -s "$ES_ZIP" ]; then
        need_cmd mvn maven
        log "fetching $ES_ARTIFACT with maven"
        local tmp=$DOWNLOADS_DIR/.mvn-tmp
        rm -rf "$tmp"
        mvn -q -B dependency:copy -Dartifact="$ES_ARTIFACT" -DoutputDirectory="$tmp" \
            >>"$LOGS_DIR/elasticsearch.log" 2>&1 </dev/null || start_failed elasticsearch
        mv -f "$tmp/elasticsearch-$ES_VERSION.zip" "$ES_ZIP"
        rm -rf "$tmp"
    fi
    svc_dirs "$ES_DIR" "$ES_DATA" "$ES_TMP" "$ES_LOGS"
    if [ ! -x "$ES_DIST/bin/elasticsearch" ]; then
        need_cmd unzip unzip
        log "unpacking $(basename "$ES_ZIP")"
        local tmp=$ES_DIR/.unpack-tmp
        rm -rf "$tmp" "$ES_DIST"
        unzip -q "$ES_ZIP" -d "$tmp"
        mv "$tmp/elasticsearch-$ES_VERSION" "$ES_DIST"
        rm -rf "$tmp"
    fi
    if [ ! -f "$ES_CONF/jvm.options" ]; then
        rm -rf "$ES_CONF"
        cp -r "$ES_DIST/config" "$ES_CONF"
    fi
    render_template "$PANTAU_INFRA_DIR/elasticsearch/elasticsearch.yml.tmpl" "$ES_CONF/elasticsearch.yml" \
        DATA_DIR="$ES_DATA" LOGS_DIR="$ES_LOGS" \
        HTTP_PORT="$PANTAU_ES_PORT" TRANSPORT_PORT="$PANTAU_ES_TRANSPORT_PORT"
    # Elasticsearch writes its keystore into the config directory.
    is_root && chown -R "$SVC_USER:" "$ES_CONF"
    return 0
}

elasticsearch_up() {
    local pid
    pid=$(elasticsearch_pid)
    if [ -n "$pid" ]; then
        es_health 60 || start_failed elasticsearch "$ES_LOGS/pantau.log"
        return 0
    fi
    require_port_free "$PANTAU_ES_PORT" "Elasticsearch HTTP, PANTAU_ES_PORT"
    require_port_free "$PANTAU_ES_TRANSPORT_PORT" "Elasticsearch transport, PANTAU_ES_TRANSPORT_PORT"
    svc_log elasticsearch
    elasticsearch_provision
    local java_home
    java_home=$(es_java_home)

    local es_env=(HOME="$ES_DIR" ES_JAVA_HOME="$java_home" ES_PATH_CONF="$ES_CONF"
        ES_TMPDIR="$ES_TMP" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP")

    log "starting elasticsearch $ES_VERSION (java $java_home)"
    # -d: the launcher returns once the node has started (or failed); the node
    # daemonises itself and writes its pid to $ES_PIDFILE. ulimit: Elasticsearch
    # wants >= 65535 open files (only a warning on loopback; not always raisable).
    if ! (
        cd "$ES_DIR" || exit 1
        ulimit -n 65535 2>/dev/null || true
        exec setsid timeout 300 "${SVC_EXEC[@]}" env "${es_env[@]}" \
            "$ES_DIST/bin/elasticsearch" -d -p "$ES_PIDFILE"
    ) >>"$LOGS_DIR/elasticsearch.log" 2>&1 </dev/null 9>&-; then
        pid=$(elasticsearch_pid)
        [ -n "$pid" ] && kill_pid "$pid" elasticsearch
        start_failed elasticsearch
    fi
    es_health 120 || start_failed elasticsearch "$ES_LOGS/pantau.log"
}

elasticsearch_down() {
    local pid
    pid=$(elasticsearch_pid)
    if [ -n "$pid" ]; then
        log "stopping elasticsearch (pid $pid)"
        kill_pid "$pid" elasticsearch
    fi
    rm -f "$ES_PIDFILE"
}
