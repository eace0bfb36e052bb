# Pantau — the two commands: `make run` (whole system with demo data) and `make test` (everything).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PANTAU_STATE_DIR ?= $(CURDIR)/.state

.PHONY: run stop status test gate unit integration e2e bench schemas venv lock stack clean-state chaos \
  cluster cluster-stop test-cluster k8s-check

# Installs are reproducible: every package, the build backend included, comes pinned with its
# hashes from requirements/dev.lock (the Dockerfile uses requirements/run.lock); the project itself
# is then installed without resolving anything, and `pip check` fails if pyproject.toml asks for
# something the lock lacks (run `make lock`). docs/operations.md, "Dependencies".
LOCK := requirements/dev.lock
UV_VERSION := 0.13.9

$(STAMP): pyproject.toml $(LOCK)
	@command -v $(PY) >/dev/null || (apt-get update -qq && apt-get install -y -qq python3 python3-venv)
	@test -x $(BIN)/pip || $(PY) -m venv --clear $(VENV) || \
	  (apt-get update -qq && apt-get install -y -qq python3-venv && $(PY) -m venv --clear $(VENV))
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	@touch $(STAMP)

venv: $(STAMP)

## lock: re-resolve the pinned, hashed dependency sets after changing pyproject.toml (uv, from PyPI)
lock:
	@test -x $(BIN)/pip || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q 'uv==$(UV_VERSION)'
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes $(UPGRADE) \
	  pyproject.toml requirements/build.in -o requirements/run.lock
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes $(UPGRADE) \
	  --extra dev pyproject.toml requirements/build.in -o requirements/dev.lock

stack:
	bash infra/stack.sh up

## run: provision the stack, start every service and the portal, load demo data, print the URL
run: $(STAMP)
	bash infra/run.sh start

## stop: stop everything `make run` started (by PID)
stop:
	bash infra/run.sh stop
	bash infra/stack.sh down

status:
	bash infra/stack.sh status
	bash infra/run.sh status

## gate: ruff, shellcheck, mypy on contracts and domain code, import boundaries, JSON Schemas up to date
gate: $(STAMP)
	$(BIN)/ruff check .
	@# entry scripts with -x: the libraries they source are checked in context (.shellcheckrc)
	$(BIN)/shellcheck -x infra/*.sh infra/postgres/*.sh infra/elasticsearch/*.sh .ci/run
	$(BIN)/mypy libs/contracts/pantau_contracts libs/nameko/pantau_nameko \
	  libs/transparency/pantau_transparency libs/client/pantau_client \
	  services/*/pantau_*/domain services/*/pantau_*/service
	$(BIN)/lint-imports
	$(BIN)/python -m pantau_contracts.schemas --check

## k8s-check: the Helm chart (deploy/helm/pantau) linted, rendered with each CI value set and
## validated offline against the Kubernetes and KEDA schemas (installs helm into .state/bin once)
k8s-check: $(STAMP)
	bash infra/helm.sh >/dev/null
	$(BIN)/python deploy/k8s_check.py

schemas: $(STAMP)
	$(BIN)/python -m pantau_contracts.schemas

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

## test: provision the stack, run the quality gate and the whole suite
test: $(STAMP)
	bash infra/stack.sh up
	bash infra/test-deps.sh
	@# tests use their own vhost and database, so a running `make run` is never disturbed
	eval "$$(bash infra/stack.sh env)" && \
	  export PANTAU_AMQP_URL="$${PANTAU_AMQP_URL%/*}/pantau_test" && \
	  export PANTAU_DATABASE_URL="$$PANTAU_TEST_DATABASE_URL" && \
	  $(MAKE) --no-print-directory gate && \
	  $(MAKE) --no-print-directory k8s-check && \
	  $(BIN)/pytest -q -p no:cacheprovider -m "not chaos and not cluster" && \
	  PANTAU_CHAOS_DURATIONS=10 PANTAU_CHAOS_COMMAND="make test" \
	  $(BIN)/pytest tests/chaos -m chaos -q -p no:cacheprovider

## cluster: a multi-node Pantau on loopback — 3 RabbitMQ nodes, 3 Elasticsearch nodes, the stack's
## PostgreSQL (databases of its own), two instances of every process (infra/README.md, "Cluster")
cluster: $(STAMP)
	bash infra/cluster.sh up

## cluster-stop: stop everything `make cluster` started, by PID (the shared stack keeps running)
cluster-stop:
	bash infra/cluster.sh down

## test-cluster: the failover run on the cluster — SIGKILLs a RabbitMQ node, an Elasticsearch node
## and one instance of each process while a department sends; prints the figures as JSON
test-cluster: $(STAMP)
	bash infra/cluster.sh up
	$(BIN)/pytest tests/cluster -m cluster -q -s -p no:cacheprovider -o timeout=1800

## chaos: the chaos matrix on the real stack — every fault held ~10 s and ~60 s while a department
## sends; it kills/stops the stack's servers (docs/reliability.md). PANTAU_CHAOS_FAULTS=a,b: a subset
chaos: $(STAMP)
	bash infra/stack.sh up
	eval "$$(bash infra/stack.sh env)" && \
	  export PANTAU_AMQP_URL="$${PANTAU_AMQP_URL%/*}/pantau_test" && \
	  export PANTAU_DATABASE_URL="$$PANTAU_TEST_DATABASE_URL" && \
	  PANTAU_CHAOS_DURATIONS="$${PANTAU_CHAOS_DURATIONS:-10,60}" PANTAU_CHAOS_COMMAND="make chaos" \
	  $(BIN)/pytest tests/chaos -m chaos -q -p no:cacheprovider

bench: $(STAMP)
	bash infra/stack.sh up
	eval "$$(bash infra/stack.sh env)" && \
	  export PANTAU_AMQP_URL="$${PANTAU_AMQP_URL%/*}/pantau_test" && \
	  $(BIN)/python -m pantau_platform.topology && $(BIN)/python -m bench.run $(if $(FULL),--full,)
