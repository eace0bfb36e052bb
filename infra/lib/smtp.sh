# shellcheck shell=bash
# The local SMTP sink (aiosmtpd from the dev extra): every message the mailer sends lands as a
# file in a maildir, $PANTAU_MAIL_DIR (default $PANTAU_STATE_DIR/mail; new mail in new/).
# Loopback only, no auth, nothing is relayed anywhere. Sourced by infra/stack.sh.

PANTAU_SMTP_PORT=${PANTAU_SMTP_PORT:-1025}
PANTAU_MAIL_DIR=${PANTAU_MAIL_DIR:-$PANTAU_STATE_DIR/mail}
SMTP_PIDFILE=$PIDS_DIR/smtp.pid
SMTP_PY=${PANTAU_SMTP_PYTHON:-$PANTAU_ROOT/.venv/bin/python}

smtp_describe() { echo "smtp://127.0.0.1:$PANTAU_SMTP_PORT → $PANTAU_MAIL_DIR/new/"; }

smtp_pid() { live_pid "$SMTP_PIDFILE" "aiosmtpd"; }

smtp_up() {
    local pid
    pid=$(smtp_pid)
    if [ -n "$pid" ]; then
        wait_until 10 "$pid" "smtp sink" port_open "$PANTAU_SMTP_PORT" || start_failed smtp
        return 0
    fi
    [ -x "$SMTP_PY" ] || die "no Python at $SMTP_PY for the SMTP sink (make venv first)"
    "$SMTP_PY" -c "import aiosmtpd" 2>/dev/null \
        || die "aiosmtpd is missing from $SMTP_PY (pip install -e '.[dev]')"
    require_port_free "$PANTAU_SMTP_PORT" "SMTP sink, PANTAU_SMTP_PORT"
    mkdir -p "$PANTAU_MAIL_DIR"/cur "$PANTAU_MAIL_DIR"/new "$PANTAU_MAIL_DIR"/tmp
    svc_log smtp
    # -n: no setuid; Mailbox: a maildir (cur/ new/ tmp/), one file per message
    setsid nohup "$SMTP_PY" -m aiosmtpd -n -l "127.0.0.1:$PANTAU_SMTP_PORT" \
        -c aiosmtpd.handlers.Mailbox "$PANTAU_MAIL_DIR" \
        >>"$LOGS_DIR/smtp.log" 2>&1 </dev/null 9>&- &
    pid=$!
    write_pidfile "$SMTP_PIDFILE" "$pid"
    wait_until 20 "$pid" "smtp sink" port_open "$PANTAU_SMTP_PORT" || start_failed smtp
}

smtp_down() {
    local pid
    pid=$(smtp_pid)
    if [ -n "$pid" ]; then
        log "stopping smtp sink (pid $pid)"
        kill_pid "$pid" smtp
    fi
    rm -f "$SMTP_PIDFILE"
}
