# One image for every Pantau process; docker-compose.yml picks the module to run.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# Dependencies first, pinned with hashes (requirements/run.lock, `make lock`): a layer that
# changes only when the lock does, and the same code on every build.
COPY requirements ./requirements
RUN pip install --require-hashes -r requirements/run.lock
COPY pyproject.toml ./
COPY libs ./libs
COPY services ./services
COPY tools ./tools
COPY catalogue ./catalogue
COPY config ./config
COPY infra ./infra
RUN pip install --no-deps --no-build-isolation -e . && pip check
USER nobody
ENV PANTAU_STATE_DIR=/tmp/pantau-state
