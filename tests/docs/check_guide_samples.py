#!/usr/bin/env python3
"""Every fenced C++ or CMake block of the guide must appear verbatim in a file
under examples/, so that every sample is code the tests build and run.

usage: check_guide_samples.py docs/guide.md examples/
Trailing whitespace is ignored; everything else (indentation, blank lines)
must match. Prints each block that is not found, with its line in the guide.
"""
import pathlib
import re
import sys

CHECKED = {"cpp", "c++", "cxx", "c", "cmake"}
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([A-Za-z0-9_+-]*)\s*$")


def blocks(text):
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, language = m.group(1), m.group(2), m.group(3).lower()
        start = i + 1
        j = start
        while j < len(lines) and not (lines[j].strip().startswith(fence) and lines[j].strip() == fence):
            j += 1
        body = [l[len(indent):] if l.startswith(indent) else l for l in lines[start:j]]
        yield start, language, body
        i = j + 1


def normalise(lines):
    return "\n".join(l.rstrip() for l in lines).strip("\n")


def main():
    guide = pathlib.Path(sys.argv[1])
    examples = pathlib.Path(sys.argv[2])
    sources = {}
    for path in sorted(examples.rglob("*")):
        if path.is_file() and (path.suffix in {".cpp", ".hpp", ".h", ".c", ".cmake"} or path.name == "CMakeLists.txt"):
            sources[path] = normalise(path.read_text(encoding="utf-8").split("\n"))
    checked = missing = 0
    for line, language, body in blocks(guide.read_text(encoding="utf-8")):
        if language not in CHECKED:
            continue
        checked += 1
        sample = normalise(body)
        if not sample:
            print(f"{guide}:{line}: empty {language} block")
            missing += 1
            continue
        # A match must start and end at line boundaries.
        found = [p for p, text in sources.items() if ("\n" + text + "\n").find("\n" + sample + "\n") >= 0]
        if not found:
            missing += 1
            print(f"{guide}:{line}: this {language} block is not quoted from any file under {examples}:")
            print("    " + "\n    ".join(sample.split("\n")[:6]) + ("\n    ..." if len(body) > 6 else ""))
    print(f"{checked} C++/CMake blocks checked, {missing} not found in {examples}")
    if checked == 0:
        print("no C++/CMake block found: is this the guide?")
        return 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
