"""``python -m pantau_contracts.catalogue check [DIR]`` (also ``pantau-catalogue check``):
validate a catalogue directory (default ``<repo>/catalogue`` or ``$PANTAU_CATALOGUE_DIR``),
print every problem as ``file: field.path: message`` and exit 1 if there is any (2 on bad
usage); on success print one summary line and exit 0.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pantau_contracts.catalogue.checks import CatalogueError
from pantau_contracts.catalogue.loader import catalogue_directory, load_catalogue

USAGE = "usage: python -m pantau_contracts.catalogue check [DIR]"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "check" or len(args) > 2:
        print(USAGE, file=sys.stderr)
        return 2
    directory = Path(args[1]) if len(args) == 2 else catalogue_directory()
    started = time.perf_counter()
    try:
        catalogue = load_catalogue(directory)
    except CatalogueError as exc:
        for file, path, message in exc.problems:
            print(f"{file}: {path or '(file)'}: {message}")
        print(f"{len(exc.problems)} problem(s) in {directory}", file=sys.stderr)
        return 1
    services = sum(len(d.services) for j in catalogue.jurisdictions.values()
                   for d in j.departments.values())
    print(f"ok: {len(catalogue.jurisdictions)} jurisdictions, {services} services in {directory} "
          f"({(time.perf_counter() - started) * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
