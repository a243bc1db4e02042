#!/usr/bin/env python3
"""Writes a synthetic Swagger 2.0 description N times the size of a vendor
file, for `benches/codegen_times.sh --scale`: the vendor's paths and
definitions as they are, plus N - 1 copies of every path below a segment of
its own (`/web/api/v2.1/scale-2/agents`; after a leading `/private`, which
tells operations apart) whose definitions are renamed (`<name>Scale2`) and
referred to by the new names. operationIds stay unique (the segment is a
resource word), and the curation's references to vendor paths and
definitions still resolve to the originals. Given a curation file, its
`[operation_ids]` names are repeated for the copies (`<name>_scale_2`),
in place, and the copies leave out the parameters its `[drop_parameters]`
drops from the originals (named by operationId, which the copies do not
share).

Usage: scale_swagger.py VENDOR OUT [N [CURATION]]"""

import json
import sys
import tomllib

PREFIX = "/web/api/v2.1"


def copied(path, copy):
    """Where copy number `copy` of `path` (full or below PREFIX) goes."""
    base, rest = (PREFIX, path[len(PREFIX):]) if path.startswith(PREFIX + "/") else ("", path)
    if rest.startswith("/private/"):
        base, rest = base + "/private", rest[len("/private"):]
    return f"{base}/scale-{copy}{rest}"


def without_parameters(item, names):
    """A path item whose operations lack the parameters called `names`."""
    out = {}
    for method, op in item.items():
        if isinstance(op, dict) and isinstance(op.get("parameters"), list):
            op = dict(op)
            op["parameters"] = [p for p in op["parameters"] if p.get("name") not in names]
        out[method] = op
    return out


def renamed(value, suffix):
    """`value` with every `#/definitions/X` reference renamed to X<suffix>."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith("#/definitions/"):
                out[key] = item + suffix
            else:
                out[key] = renamed(item, suffix)
        return out
    if isinstance(value, list):
        return [renamed(item, suffix) for item in value]
    return value


def extend_curation(path, n):
    """Adds the copies' names to the `[operation_ids]` table of `path`."""
    with open(path, "rb") as f:
        names = tomllib.load(f).get("operation_ids", {})
    added = []
    for copy in range(2, n + 1):
        for key, name in names.items():
            method, op_path = key.split(" ", 1)
            added.append(f'"{method} {copied(op_path, copy)}" = "{name}_scale_{copy}"\n')
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    at = lines.index("[operation_ids]\n") + 1
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines[:at] + added + lines[at:])


def main():
    vendor, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with open(vendor, encoding="utf-8") as f:
        doc = json.load(f)
    curation = sys.argv[4] if len(sys.argv) > 4 else None
    dropped = set()
    if curation:
        with open(curation, "rb") as f:
            for names in tomllib.load(f).get("drop_parameters", {}).values():
                dropped.update(names)
    paths = dict(doc["paths"])
    definitions = dict(doc.get("definitions", {}))
    for copy in range(2, n + 1):
        suffix = f"Scale{copy}"
        for path, item in doc["paths"].items():
            paths[copied(path, copy)] = renamed(without_parameters(item, dropped), suffix)
        for name, schema in doc.get("definitions", {}).items():
            definitions[name + suffix] = renamed(schema, suffix)
    doc["paths"] = paths
    doc["definitions"] = definitions
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    if curation:
        extend_curation(curation, n)
    print(f"{out}: {len(paths)} paths, {len(definitions)} definitions")


if __name__ == "__main__":
    main()
