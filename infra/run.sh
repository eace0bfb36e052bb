#!/usr/bin/env bash
# Runs the whole Pantau system locally (no Docker): the stack, every service, the portal, demo data.
#   infra/run.sh start   — idempotent; prints the portal URL
#   infra/run.sh stop    — stops the services it started, by PID (the stack: infra/stack.sh down)
#   infra/run.sh status
# Tracking uses SQLite in .state/ unless PANTAU_DATABASE_URL is set (DB=postgres uses the stack's).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PANTAU_STATE_DIR="${PANTAU_STATE_DIR:-$ROOT/.state}"
PIDS="$PANTAU_STATE_DIR/pids"
LOGS="$PANTAU_STATE_DIR/logs"
PY="$ROOT/.venv/bin/python"
mkdir -p "$PIDS" "$LOGS"

# name:module — the processes of a local deployment (each scales independently in compose)
SERVICES=(
  "tracking:pantau_tracking"
  "intake-ingress:pantau_intake.ingress"
  "intake-http:pantau_intake.http"
  "intake-outcomes:pantau_intake.outcomes"
  "indexer:pantau_publishing.indexer"
  "portal:pantau_publishing.portal"
  "mailer:pantau_publishing.mailer"
)

# The one supervisor (tools/pantau_tools/supervise.py, shared with infra/cluster.sh): detached
# start with the process's own environment, PID files, logs, stop by PID with a grace period.
supervise() { "$PY" -m pantau_tools.supervise --pids "$PIDS" --logs "$LOGS" "$@"; }

# DEVELOPMENT credentials of the local stack (loopback only): a service's own RabbitMQ user
# (infra/rabbitmq/identities.tsv, made by infra/lib/rabbitmq.sh) and the portal's read-only role.
amqp_as() { local url="$PANTAU_AMQP_URL"; echo "${url/pantau:pantau@/pantau-$1:pantau-$1-dev-only@}"; }

# Each process gets its own RabbitMQ identity and only the databases it uses; the portal gets no
# AMQP URL and neither tracking's nor intake's database URL (docs/architecture.md, "Identities").
process_env() { # name -> env(1) arguments (options before assignments)
  case "$1" in
    intake-*) echo "-u PANTAU_DATABASE_URL PANTAU_INTAKE_AMQP_URL=$(amqp_as intake)" ;;
    tracking) echo "-u PANTAU_INTAKE_DATABASE_URL PANTAU_TRACKING_AMQP_URL=$(amqp_as tracking)" ;;
    indexer) echo "-u PANTAU_DATABASE_URL -u PANTAU_INTAKE_DATABASE_URL PANTAU_INDEXER_AMQP_URL=$(amqp_as indexer)" ;;
    # the mailer: its own RabbitMQ user, the citizen store and the stack's SMTP sink only
    mailer) echo "-u PANTAU_DATABASE_URL -u PANTAU_INTAKE_DATABASE_URL PANTAU_MAILER_AMQP_URL=$(amqp_as mailer)" ;;
    portal)
      local transparency=""
      if [[ -n "${PANTAU_DATABASE_URL:-}" ]]; then
        if [[ "$PANTAU_DATABASE_URL" == "$STACK_DATABASE_URL" ]]; then
          transparency="PANTAU_TRANSPARENCY_DATABASE_URL=${PORTAL_DATABASE_URL}"
        else  # a database of the user's own: they give the portal its read-only URL
          transparency="PANTAU_TRANSPARENCY_DATABASE_URL=${PANTAU_TRANSPARENCY_DATABASE_URL:-$PANTAU_DATABASE_URL}"
        fi
      fi
      echo "-u PANTAU_AMQP_URL -u PANTAU_AMQP_MANAGEMENT_URL -u PANTAU_DATABASE_URL -u PANTAU_INTAKE_DATABASE_URL $transparency" ;;
  esac
}

start_one() { # idempotent: a running process is left alone
  local name="$1" module="$2"
  local -a envs
  read -r -a envs <<<"$(process_env "$name")"
  # SQLite tracking: the portal reads the log from tracking's file in PANTAU_STATE_DIR (development)
  supervise start "$name" "${envs[@]}" -- "$PY" -m "$module" | sed 's/^/  /'
}

case "${1:-start}" in
  start)
    user_db="${PANTAU_DATABASE_URL:-}"
    bash infra/stack.sh up
    eval "$(bash infra/stack.sh env)"
    STACK_DATABASE_URL="$PANTAU_DATABASE_URL"
    PORTAL_DATABASE_URL="${STACK_DATABASE_URL/pantau:pantau@/pantau_portal:pantau_portal-dev-only@}"
    if [[ -n "$user_db" ]]; then export PANTAU_DATABASE_URL="$user_db"
    elif [[ "${DB:-sqlite}" != "postgres" ]]; then unset PANTAU_DATABASE_URL; fi
    echo "Tracking database: ${PANTAU_DATABASE_URL:-SQLite in $PANTAU_STATE_DIR}"
    "$PY" -m pantau_platform.topology
    "$PY" -m pantau_intake.credentials bootstrap-dev
    "$PY" -m pantau_intake.credentials apply-amqp --dev
    echo "Starting Pantau services:"
    for entry in "${SERVICES[@]}"; do start_one "${entry%%:*}" "${entry#*:}"; done
    "$PY" -m pantau_tools.ready --timeout 120 || { tail -n 30 "$LOGS"/*.log; exit 1; }
    "$PY" -m pantau_tools.demo load
    port="${PANTAU_PORTAL_PORT:-8000}"
    echo
    echo "Pantau is running. Portal: http://127.0.0.1:${port}/   (English: http://127.0.0.1:${port}/?lang=en)"
    echo "Intake API: http://127.0.0.1:${PANTAU_INTAKE_PORT:-8001}/docs   RabbitMQ: http://127.0.0.1:15672 (pantau/pantau)"
    echo "Check a case's history yourself: .venv/bin/python tools/verifier/pantau_verify.py --base-url http://127.0.0.1:${port} verify <receipt>"
    echo "Mail to followers (SMTP sink 127.0.0.1:${PANTAU_SMTP_PORT:-1025}): one file per message in ${PANTAU_MAIL_DIR:-$PANTAU_STATE_DIR/mail}/new/"
    echo "Stop everything with: make stop"
    ;;
  stop)
    names=()
    for (( i=${#SERVICES[@]}-1; i>=0; i-- )); do names+=("${SERVICES[$i]%%:*}"); done
    supervise --grace 10 stop "${names[@]}" | sed 's/^/  /'
    ;;
  status)
    supervise status "${SERVICES[@]%%:*}" || true  # a stopped process is reported, not an error
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
