#!/usr/bin/env python3
"""Every option of the GLOBALLOC_OPTIONS table (src/options/options.cpp) is
documented in docs/options.md, with its unit.

usage: check_options.py src/options/options.cpp docs/options.md
"""
import re
import sys


def main():
    source = open(sys.argv[1], encoding="utf-8").read()
    doc = open(sys.argv[2], encoding="utf-8").read()
    table = re.search(r"Description\s+table\s*\[[^\]]*\]\s*=\s*\{(.*?)\n\};", source, re.S)
    if not table:
        print(f"{sys.argv[1]}: option table not found")
        return 1
    entries = re.findall(r'\{\s*"([a-z0-9_]+)"\s*,\s*([^,]+?)\s*,\s*"([^"]*)"', table.group(1))
    if not entries:
        print(f"{sys.argv[1]}: no option in the table")
        return 1
    rows = {}
    for line in doc.split("\n"):
        m = re.match(r"\|\s*`([a-z0-9_]+)`\s*\|(.*)", line)
        if m:
            rows[m.group(1)] = m.group(2)
    bad = 0
    for name, default, unit in entries:
        if name not in rows:
            print(f"option {name} (default {default}, {unit}) is not a row of {sys.argv[2]}")
            bad += 1
    for name in rows:
        if name not in [e[0] for e in entries]:
            print(f"{sys.argv[2]} documents `{name}`, which is not in the option table")
            bad += 1
    print(f"{len(entries)} options in the table, {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
