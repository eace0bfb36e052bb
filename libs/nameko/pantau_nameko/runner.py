"""The one way a Pantau nameko process starts, runs and stops.

Every nameko ``__main__`` is these few lines, and ``patch`` is its FIRST statement::

    from pantau_nameko.runner import patch

    patch(psycopg=True)  # first thing: everything below must see the green stdlib

    from pantau_nameko.runner import run  # noqa: E402
    from pantau_tracking.worker.service import TrackingService, container_config  # noqa: E402
    from pantau_tracking.settings import TrackingSettings  # noqa: E402

    def main() -> int:
        settings = TrackingSettings()
        return run(TrackingService, "tracking", settings, container_config,
                   needs=["transparency_signing_key", "tracking_amqp_url"])

Contract:

* ``patch(psycopg=...)`` silences eventlet's deprecation warning, monkey-patches the standard
  library (sockets, threads, time, select …) and, with ``psycopg=True``, makes psycopg2 yield to
  the eventlet hub (``psycogreen``) — a process that talks to PostgreSQL must not block the hub
  (green psycopg2 has no COPY). Idempotent. It must run before anything imports sockets or
  threads, which is why this module imports only ``warnings`` at its top and everything else
  inside its functions.
* ``run(service, name, settings, config, needs=(), probe=None)`` sets up the redacting log lines
  and traces for ``name``, applies the production guard (``pantau_platform.production.enforce``
  with ``needs`` and ``probe``) — before ``config(settings)`` builds the container config, which
  may itself refuse a missing production setting less clearly — starts ``service`` with that
  config (a JSON serializer unless given), and runs until SIGTERM or SIGINT: the first signal
  stops the container gracefully (a batch in flight is finished and settled first; a held batch
  is left to the broker), a later one is ignored while that stop runs. A container that dies on
  its own ends ``run`` with its exception: the process exits non-zero and is restarted.
  Refuses to run in a process that ``patch`` did not patch.
* ``batch_config`` and ``server_config`` turn settings into the container config keys the
  shared extensions read (``pantau_nameko.batching``, ``health``, ``metrics``): each setting and
  its default live in the service's settings class only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["batch_config", "patch", "run", "server_config"]


def patch(*, psycopg: bool = False) -> None:
    """Monkey-patch for eventlet (and green psycopg2 when ``psycopg``); see the module docstring."""
    # eventlet's deprecation notice is known: nameko 2 needs it
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
    if psycopg:
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()  # PostgreSQL must yield to the hub, not block it


def batch_config(prefix: str, *, size: int, wait_ms: float, prefetch: int,
                 delivery_limit: int | None = None, unknown_retries: int | None = None,
                 queue: str | None = None,
                 extra_queues: Sequence[str] | None = None) -> dict[str, Any]:
    """The ``{prefix}_*`` keys one ``batch_consume(config_prefix=prefix)`` entrypoint reads; a
    None leaves the extension's default (``pantau_nameko.settlement``)."""
    optional = {"DELIVERY_LIMIT": delivery_limit, "UNKNOWN_RETRIES": unknown_retries,
                "QUEUE": queue,
                "EXTRA_QUEUES": None if extra_queues is None else list(extra_queues)}
    config: dict[str, Any] = {
        f"{prefix}_BATCH_SIZE": size, f"{prefix}_BATCH_WAIT_MS": wait_ms,
        f"{prefix}_PREFETCH": prefetch}
    config.update({f"{prefix}_{key}": value for key, value in optional.items()
                   if value is not None})
    return config


def server_config(settings: Any, *, health_port: int, metrics_port: int) -> dict[str, Any]:
    """``HEALTH_*`` and ``METRICS_*`` for ``HealthServer`` / ``MetricsServer`` (0: off)."""
    return {"HEALTH_PORT": health_port, "HEALTH_HOST": settings.health_host,
            "METRICS_PORT": metrics_port, "METRICS_HOST": settings.metrics_host}


def run(service: type, name: str, settings: Any, config: Callable[[Any], Mapping[str, Any]], *,
        needs: Iterable[str] = (), probe: Callable[[], Iterable[str]] | None = None) -> int:
    """Run ``service`` until SIGTERM/SIGINT; 0 after a graceful stop (see the module docstring)."""
    import logging
    import signal

    import eventlet
    from eventlet import patcher
    from nameko.runners import ServiceRunner

    from pantau_platform import tracing
    from pantau_platform.logging import configure
    from pantau_platform.production import enforce

    if not patcher.is_monkey_patched("socket"):
        raise RuntimeError(f"{name}: call pantau_nameko.runner.patch() before anything else")
    configure(settings.log_level, name)
    tracing.setup(name, settings)
    enforce(settings, needs=list(needs), probe=probe)
    runner = ServiceRunner({"serializer": "json", **config(settings)})
    runner.add_service(service)
    stopping: list[int] = []

    def stop(signum: int, frame: object) -> None:
        if not stopping:  # one graceful stop; a second signal does not interrupt it
            stopping.append(signum)
            eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.start()
    logging.getLogger(__name__).info("%s running; SIGTERM or SIGINT stops it", name)
    runner.wait()
    return 0
