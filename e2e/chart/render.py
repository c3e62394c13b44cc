#!/usr/bin/env python3
"""Render the fox-operator Helm chart offline, as `helm template` would, without a helm binary.

Rendering goes through helm-python-sdk (Helm's own Go template engine and values coalescing,
loaded as a native library), so values are checked against values.schema.json and `fail` /
`required` in templates stop the render exactly as in a real install.

    render.py [-f VALUES.yaml]... [--set key=value]... [--name fox-operator]
              [--namespace fox-system] [--include-crds] [--output-dir DIR]

Without --output-dir the manifests go to stdout as one multi-document YAML stream, each document
preceded by a `# Source:` comment. With it, every document is written to
DIR/<kind>-<name>.yaml (lower case), so that a validator's message names the object.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CHART = REPO / "charts" / "fox-operator"


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `override` into `base` the way repeated `helm -f` files combine."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = value
    return merged


def user_values(files: list[str], sets: list[str]) -> dict[str, Any]:
    """Values files in order, then --set strings, later ones winning (as helm does)."""
    values: dict[str, Any] = {}
    for file in files:
        parsed = helm.values_from_yaml(Path(file).read_text(encoding="utf-8"))
        values = merge_values(values, parsed or {})
    for assignment in sets:
        values = merge_values(values, helm.parse_set_string(assignment))
    return values


def rendered_documents(
    chart_dir: Path, values: dict[str, Any], name: str, namespace: str, include_crds: bool
) -> list[tuple[str, str]]:
    """(source path, YAML text) for every non-empty rendered document, in template order."""
    documents: list[tuple[str, str]] = []
    with helm.Chart.load(chart_dir) as chart:
        if include_crds:
            for crd in chart.crds:
                documents.extend((crd["filename"], text) for text in split_documents(crd["data"]))
        manifests = chart.render(values, name=name, namespace=namespace, is_install=True)
    for source in sorted(manifests):
        if not source.endswith((".yaml", ".yml")):
            continue  # NOTES.txt: rendered (so it must not fail) but not a manifest
        documents.extend((source, text) for text in split_documents(manifests[source]))
    return documents


def split_documents(stream: str) -> list[str]:
    """The non-empty YAML documents of a stream (an `if` that rendered nothing is dropped)."""
    documents = []
    for text in yaml_document_texts(stream):
        if yaml.safe_load(text) is not None:
            documents.append(text.strip() + "\n")
    return documents


def yaml_document_texts(stream: str) -> list[str]:
    """Split on `---` document markers at the start of a line."""
    texts, current = [], []
    for line in stream.splitlines():
        if line.rstrip() == "---" or line.startswith("--- "):
            texts.append("\n".join(current))
            current = []
        else:
            current.append(line)
    texts.append("\n".join(current))
    return texts


def document_file_name(text: str, taken: set[str]) -> str:
    """`<kind>-<name>.yaml`, lower case, made unique (a Role and a ClusterRole may share a name)."""
    document = yaml.safe_load(text)
    kind = str(document.get("kind", "unknown")).lower()
    name = str(document.get("metadata", {}).get("name", "unnamed"))
    stem = f"{kind}-{name}"
    file_name, counter = f"{stem}.yaml", 2
    while file_name in taken:
        file_name, counter = f"{stem}-{counter}.yaml", counter + 1
    taken.add(file_name)
    return file_name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--values", action="append", default=[], help="values file")
    parser.add_argument("--set", action="append", default=[], help="key=value override")
    parser.add_argument(
        "--name", default="fox-operator", help="release name (default: fox-operator)"
    )
    parser.add_argument(
        "--namespace", default="fox-system", help="release namespace (default: fox-system)"
    )
    parser.add_argument("--chart", type=Path, default=DEFAULT_CHART, help="chart directory")
    parser.add_argument("--include-crds", action="store_true", help="also emit crds/")
    parser.add_argument("--output-dir", type=Path, help="write one file per document here")
    args = parser.parse_args()

    try:
        values = user_values(args.values, args.set)
        documents = rendered_documents(
            args.chart, values, args.name, args.namespace, args.include_crds
        )
    except helm.HelmError as error:
        print(f"render.py: cannot render {args.chart}: {error}", file=sys.stderr)
        return 1

    if args.output_dir is None:
        for source, text in documents:
            sys.stdout.write(f"---\n# Source: {source}\n{text}")
        return 0
    args.output_dir.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    for _source, text in documents:
        (args.output_dir / document_file_name(text, taken)).write_text(text, encoding="utf-8")
    print(f"render.py: {len(documents)} documents in {os.fspath(args.output_dir)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
