"""Generate the JSON Schemas of every payload into ``libs/contracts/schemas``; ``--check`` fails
when the checked-in files differ from the models (run by the quality gate)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pantau_contracts.registry import EVENT_TYPES, dataschema_for

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def render() -> dict[str, str]:
    files: dict[str, str] = {}
    for (event_type, version), model in sorted(EVENT_TYPES.items()):
        schema = model.model_json_schema(mode="validation")
        schema["$id"] = dataschema_for(event_type, version)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        files[f"{event_type}.v{version}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the files are stale")
    args = parser.parse_args(argv)
    wanted = render()
    if args.check:
        present = {p.name: p.read_text() for p in SCHEMA_DIR.glob("*.json")}
        stale = sorted(n for n in wanted.keys() | present.keys() if wanted.get(n) != present.get(n))
        if stale:
            sys.stderr.write("JSON Schemas are stale: " + ", ".join(stale)
                             + "\nRun: python -m pantau_contracts.schemas\n")
            return 1
        return 0
    SCHEMA_DIR.mkdir(exist_ok=True)
    for old in SCHEMA_DIR.glob("*.json"):
        if old.name not in wanted:
            old.unlink()
    for name, text in wanted.items():
        (SCHEMA_DIR / name).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
