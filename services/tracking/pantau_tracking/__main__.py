"""``python -m pantau_tracking``: the tracking process, ``pantau_tracking.worker`` — the name that
compose, Helm, ``infra/run.sh`` and the tests start it by, kept so no deployment file changes."""

from pantau_nameko.runner import patch

patch(psycopg=True)  # first thing, as in every nameko __main__ (the worker repeats it: idempotent)

from pantau_tracking.worker.__main__ import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
