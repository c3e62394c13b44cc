#!/usr/bin/env python3
"""`helm lint --strict` on the fox-operator chart, through helm-python-sdk (no helm binary).

    lint.py [-f VALUES.yaml]...

Fails on any warning or error; informational notes (such as "icon is recommended") are shown.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import helm_python as helm

from render import DEFAULT_CHART, user_values

SEVERITY = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--values", action="append", default=[], help="values file")
    args = parser.parse_args()

    report = helm.lint(
        DEFAULT_CHART,
        user_values(args.values, []),
        strict=True,
        namespace="fox-system",
        kube_version="v1.27.0",
    )
    failed = bool(report["errors"])
    for message in report["messages"]:
        severity = SEVERITY.get(message["severity"], str(message["severity"]))
        print(f"[{severity}] {message['path']}: {message['error']}")
        failed = failed or message["severity"] >= 2
    for error in report["errors"]:
        print(f"[ERROR] {error}")
    label = ", ".join(args.values) or "default values"
    print(f"{'FAIL' if failed else 'ok  '} helm lint --strict ({label})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
