#!/usr/bin/env python3
"""test_pyflakes - the tree's Python (tests, bench, tools) passes pyflakes

The Python half of "build with warnings on": pyflakes3 (Debian package
pyflakes3) finds names used but never defined, which only fail
when the line runs (a test's rare failure path, a benchmark's option),
and imports, variables and redefinitions nothing uses.  Fails listing
every message.  A module that imports a name for others to import from
it marks that line "# noqa", as flake8 would; only the unused-import
message is forgiven there.  Skipped (77) without pyflakes3.
"""

import os
import re
import shutil
import subprocess
import sys

SRC = os.path.realpath(os.environ.get("EHLOD_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DIRS = ("tests", "bench", "tools", "examples")
SKIP_DIRS = {".deps", ".libs", "__pycache__"}
UNUSED = re.compile(r"^(.+?):(\d+):(?:\d+:)? '.+' imported but unused$")


def is_python(path):
    if path.endswith(".py"):
        return True
    try:
        with open(path, "rb") as f:
            first = f.readline(200)
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first


def python_files():
    out = []
    for d in DIRS:
        for root, dirs, names in os.walk(os.path.join(SRC, d)):
            dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
            out += [os.path.join(root, n) for n in names
                    if is_python(os.path.join(root, n))]
    return sorted(out)


def forgiven(message):
    m = UNUSED.match(message)
    if not m:
        return False
    with open(m.group(1), errors="replace") as f:
        lines = f.read().splitlines()
    line = int(m.group(2))
    return 0 < line <= len(lines) and "noqa" in lines[line - 1]


def main():
    pyflakes = shutil.which("pyflakes3")
    if pyflakes is None:
        print("skipped: pyflakes3 is not installed (Debian package pyflakes3)")
        return 77
    files = python_files()
    if not files:
        print("no Python files found under " + SRC)
        return 1
    p = subprocess.run([pyflakes] + files, capture_output=True, text=True,
                       timeout=300)
    messages = [m for m in (p.stdout + p.stderr).splitlines()
                if m.strip() and not forgiven(m)]
    for m in messages:
        print(os.path.relpath(m, SRC) if m.startswith(SRC) else m)
    print("%d Python files, %d messages" % (len(files), len(messages)))
    return 1 if messages else 0


if __name__ == "__main__":
    sys.exit(main())
