#!/usr/bin/env bash
# Compose only (docker-compose.yml, job `elasticsearch-users`): Elasticsearch's roles and users for
# Pantau, idempotent (PUT). The local stack's Elasticsearch stays unsecured on loopback.
#   pantau_portal   read-only: search/get on pantau-* and cluster health (its /readyz)
#   pantau_indexer  writer: templates, indices, aliases and documents of pantau-*
# Operator tools (rebuild, reconcile) use the `elastic` superuser. Passwords from the environment
# (DEVELOPMENT defaults in docker-compose.yml).
set -euo pipefail
ES=${ELASTICSEARCH_URL:-http://elasticsearch:9200}

put() { # path json
    curl -fsS -u "elastic:$ELASTIC_PASSWORD" -X PUT "$ES/$1" -H 'Content-Type: application/json' -d "$2" >/dev/null
    echo "PUT $1"
}

put _security/role/pantau_portal '{
  "cluster": ["monitor"],
  "indices": [{"names": ["pantau-*"], "privileges": ["read", "view_index_metadata"]}]
}'
put _security/role/pantau_indexer '{
  "cluster": ["monitor", "manage_index_templates"],
  "indices": [{"names": ["pantau-*"],
               "privileges": ["create_index", "manage", "write", "read", "view_index_metadata"]}]
}'
put _security/user/pantau_portal "{\"password\": \"$PANTAU_ES_PORTAL_PASSWORD\", \"roles\": [\"pantau_portal\"]}"
put _security/user/pantau_indexer "{\"password\": \"$PANTAU_ES_INDEXER_PASSWORD\", \"roles\": [\"pantau_indexer\"]}"
