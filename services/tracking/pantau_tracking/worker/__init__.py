"""The tracking process (``python -m pantau_tracking``): the nameko service — batched consumer of
``tracking.accepted``, timers (overdue scan, purge, transparency sequencer, SLA gauges), RPC — and
its dependency providers. Eventlet process only; entrypoints are thin over ``service/``."""
