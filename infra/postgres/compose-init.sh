#!/bin/sh
# Compose only (docker-compose.yml mounts it into /docker-entrypoint-initdb.d): on the database's
# first start, the portal's read-only role on tracking's transparency log (portal-readonly.sql) and
# the citizen store's own database (followers; production gives its own URL).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v portal_password="${PANTAU_PORTAL_DB_PASSWORD:-pantau_portal-dev-only}" \
    -f /pantau-postgres/portal-readonly.sql
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -c "CREATE DATABASE pantau_citizen"
