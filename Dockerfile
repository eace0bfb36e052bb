# One image for every Pantau process; docker-compose.yml picks the module to run.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml ./
COPY libs ./libs
COPY services ./services
COPY tools ./tools
COPY catalogue ./catalogue
COPY config ./config
COPY infra ./infra
RUN pip install -e .
USER nobody
ENV PANTAU_STATE_DIR=/tmp/pantau-state
