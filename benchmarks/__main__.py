"""python -m benchmarks [NAME ...]: one JSON line per case, every module's cases() in turn."""

from __future__ import annotations

import importlib
import json
import sys
import traceback

MODULES = ("core", "local", "google", "microsoft", "replies", "accounts")


def main(names: list[str]) -> int:
    failed = 0
    for name in names or MODULES:
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"benchmarks.{name}":
                raise
            print(json.dumps({"case": name, "skipped": "no benchmark module"}), flush=True)
            continue
        try:
            for case in module.cases():
                print(json.dumps(case), flush=True)
        except Exception:
            failed += 1
            print(json.dumps({"case": name, "error": traceback.format_exc(limit=3)}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
