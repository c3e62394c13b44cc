#!/usr/bin/env python3
"""Check values files against values.schema.json, and the chart README against values.yaml.

    check_values.py [--expect-invalid] VALUES.yaml...
    check_values.py --readme

Values files are validated with the `jsonschema` package (draft-07), independently of Helm's own
validator that runs at render time, so a schema that one of them misreads shows up. With
--expect-invalid every file must be rejected. --readme checks that every key of values.yaml
appears, with its default, in the table of the README's "Values" section, so the two cannot
drift apart (operator/tests/reference_docs.rs writes that table, and
docs/reference/helm-values.md, from values.yaml's comments).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import yaml

CHART = Path(__file__).resolve().parents[2] / "charts" / "fox-operator"


def schema_validator() -> jsonschema.Draft7Validator:
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(validator: jsonschema.Draft7Validator, file: Path) -> list[str]:
    values = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(top level)'}: {error.message}"
        for error in sorted(validator.iter_errors(values), key=lambda e: list(e.absolute_path))
    ]


def check_files(files: list[Path], expect_invalid: bool) -> bool:
    validator = schema_validator()
    passed = True
    for file in files:
        errors = schema_errors(validator, file)
        if expect_invalid and not errors:
            print(f"FAIL {file}: the schema accepts values it must reject")
            passed = False
        elif expect_invalid:
            print(f"ok   {file}: rejected as expected ({len(errors)} errors)")
        elif errors:
            print(f"FAIL {file}:")
            for error in errors:
                print(f"       {error}")
            passed = False
        else:
            print(f"ok   {file}: valid")
    return passed


def leaf_keys(values: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Dotted paths of values.yaml's leaves (an empty map or list counts as a leaf)."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from leaf_keys(value, f"{path}.")
        else:
            yield path, value


def check_readme() -> bool:
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Values\n", 1)[-1].split("\n## ", 1)[0]
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in section.splitlines()
        if line.startswith("| `")
    }
    passed = True
    for path, default in leaf_keys(values):
        row = rows.get(path)
        if row is None:
            print(f"FAIL README.md has no row for `{path}`")
            passed = False
            continue
        shown = json.dumps(default)
        if f"`{shown}`" not in row:
            print(f"FAIL README.md row `{path}` does not show the default `{shown}`")
            passed = False
    for path in rows:
        if path not in dict(leaf_keys(values)):
            print(f"FAIL README.md documents `{path}`, which values.yaml does not have")
            passed = False
    if passed:
        print(f"ok   README.md documents all {len(rows)} values with their defaults")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--expect-invalid", action="store_true")
    parser.add_argument("--readme", action="store_true")
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    passed = check_readme() if args.readme else True
    passed = check_files(args.files, args.expect_invalid) and passed
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
